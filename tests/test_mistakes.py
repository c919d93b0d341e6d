"""The classic mistakes made on purpose (issue 17): off by default, each with its effect shown and explained."""

from pathlib import Path

import pytest

import lessons
from labapp import cli
from labapp.lesson import Metric, ViewValue
from labapp.runner import DIVERGED, FINISHED, run_lesson


class Keep:
    def __init__(self):
        self.records = []

    def start(self, info):
        self.info = info

    def record(self, record, elapsed):
        self.records.append(record)

    def finish(self, summary):
        pass

    def metrics(self, split="train"):
        return [r for r in self.records if isinstance(r, Metric) and r.split == split and r.step is None]

    def views(self):
        return {r.view: r.value for r in self.records if isinstance(r, ViewValue)}


def train(lesson_id, data_dir=None, **texts):
    lesson = lessons.get(lesson_id)
    keep = Keep()
    summary = run_lesson(lesson, lesson.resolve({k: str(v) for k, v in texts.items()}), [keep], data_dir=data_dir)
    return summary, keep


# -- zero_grad off: lessons 3 and 4 -------------------------------------------------------------------

@pytest.mark.parametrize("lesson_id", ["backprop", "linear-regression"])
def test_zero_grad_is_on_by_default_and_the_default_run_reports_no_gradient_norm(lesson_id):
    lesson = lessons.get(lesson_id)
    assert lesson.defaults()["zero_grad"] is True
    summary, keep = train(lesson_id, epochs=20)
    assert "grad_norm" not in summary.final["train"] and "mistake" not in keep.views()


def test_linear_regression_without_zero_grad_accumulates_and_oscillates():
    summary, keep = train("linear-regression", zero_grad="off")
    assert summary.status == FINISHED
    norms = [m.values["grad_norm"] for m in keep.metrics()]
    losses = [m.values["loss"] for m in keep.metrics()]
    assert norms[2] > norms[1] > norms[0]  # the sum of the gradients grows at first
    assert max(norms[-100:]) > 1.5 * norms[0] and min(norms[-100:]) < norms[0] / 2  # then swings, never settles
    assert max(losses[-100:]) > 40 and min(losses[-100:]) < 2  # the loss jumps up and down to the end
    course, _ = train("linear-regression")
    assert course.final["train"]["loss"] < 1e-6 < summary.final["train"]["loss"]
    views = keep.views()
    assert views["mistake"] == "zero_grad off" and views["grad norm"]["y"] == norms


def test_the_gradient_norm_is_the_sum_of_every_gradient_so_far():
    """torch as the oracle: with zero_grad off, .grad after epoch t is the sum of the t full-batch gradients."""
    import copy

    import torch

    from lessons import linear_regression as lr4

    torch.manual_seed(0)
    model = lr4.make_model()
    shadow = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.tensor(lr4.x_list), torch.tensor(lr4.y_list)
    criterion = torch.nn.MSELoss(reduction="sum")
    total = [torch.zeros_like(p) for p in shadow.parameters()]
    for _ in range(5):
        lr4.train_epoch(model, optimizer, criterion, x, y, zero_grad=False)
        grads = torch.autograd.grad(criterion(shadow(x), y), list(shadow.parameters()))
        total = [t + g for t, g in zip(total, grads)]
        with torch.no_grad():
            for p, t in zip(shadow.parameters(), total):
                p -= 0.01 * t
        assert lr4.grad_norm(model) == pytest.approx(float(torch.cat([t.flatten() for t in total]).norm()), rel=1e-5)


def test_backprop_without_zero_grad_swings_and_the_quadratic_diverges():
    summary, keep = train("backprop", zero_grad="off")
    norms = [m.values["grad_norm"] for m in keep.metrics()]
    assert summary.status == FINISHED and norms[-1] > 5 * norms[9]  # the swings grow
    assert abs(summary.final["train"]["w"] - 2) > 0.05  # the course's run ends at 2.0000
    quadratic, _ = train("backprop", variant="quadratic", zero_grad="off")
    assert quadratic.status == DIVERGED


@pytest.mark.parametrize("lang, words", [("en", "zero_grad is off: backward() does not replace .grad"),
                                         ("zh", "zero_grad 关掉了")])
def test_labapp_run_shows_the_gradient_norm_and_the_explanation(lang, words, capsys, tmp_path):
    assert cli.main(["run", "linear-regression", "--zero-grad", "off", "--epochs", "50", "--no-record",
                     "--lang", lang]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "grad_norm" in out.split("final train:")[1].splitlines()[0]
    assert words in out
    assert ("每步所用梯度的范数" if lang == "zh" else "Norm of the gradient each step used") in out


def test_zero_grad_is_listed_in_run_help(capsys):
    with pytest.raises(SystemExit):
        cli.run_parser(lessons.get("linear-regression")).parse_args(["--help"])
    assert "--zero-grad" in capsys.readouterr().out


# -- lesson 9: an extra softmax before CrossEntropyLoss, and float labels --------------------------------

def _mnist_dir():
    import os

    from tests.conftest import SHARED_DATA

    folder = os.environ.get("LABAPP_DATA_DIR") or (str(SHARED_DATA) if SHARED_DATA.is_dir() else None)
    if folder is None or not (Path(folder) / "MNIST" / "raw").is_dir():
        pytest.skip("the course's MNIST is not here (set LABAPP_DATA_DIR)")
    return folder


def test_the_extra_softmax_trains_worse_than_the_course_network_from_the_same_seed():
    folder = _mnist_dir()
    summary, keep = train("softmax-mnist", folder, softmax="on", epochs=2)
    assert summary.status == FINISHED, summary.message
    course, _ = train("softmax-mnist", folder, epochs=2)
    # The comparison inside the run is the course's run itself: the same numbers to the digit.
    assert summary.final["course test"] == course.final["test"]
    assert summary.final["course train"]["loss"] == course.final["train"]["loss"]
    mistake, right = summary.final["test"]["accuracy"], course.final["test"]["accuracy"]
    assert right - mistake > 0.1  # seen on the course's 8000/2000 split: 0.113 against 0.3675
    views = keep.views()
    assert views["mistake"] == "extra softmax"
    assert views["compared"] == {"with the mistake": [m.values["accuracy"] for m in keep.metrics("test")],
                                 "the course's network": [m.values["accuracy"] for m in keep.metrics("course test")]}


def test_float_labels_fail_with_torchs_error_and_the_explanation(capsys, tmp_path):
    folder = _mnist_dir()
    summary, keep = train("softmax-mnist", folder, labels="float")
    assert summary.status == "failed" and "expected target dtype to be Long" in summary.message
    assert keep.views()["mistake"] == "float labels"
    assert cli.main(["run", "softmax-mnist", "--labels", "float", "--out", str(tmp_path), "--data-dir", folder,
                     "--lang", "en"]) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    assert "The labels are float. CrossEntropyLoss takes either class indices" in out


def test_the_mistakes_are_off_by_default():
    defaults = lessons.get("softmax-mnist").defaults()
    assert (defaults["softmax"], defaults["labels"]) == (False, "long")


# -- lesson 12: ResNet without its skip connections --------------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tests.mnist_fixtures import write_mnist
    from tests.test_lessons_mnist import tiny_digits

    root = tmp_path_factory.mktemp("tiny-mnist")
    write_mnist(root, {"train": tiny_digits(320, 1), "t10k": tiny_digits(80, 2)})
    return str(root)


def test_resnet_without_skips_runs_beside_the_course_resnet_from_the_same_seed(tiny):
    summary, keep = train("cnn-advanced", tiny, variant="resnet", skip="off", epochs=2, lr=0.05)
    assert summary.status == FINISHED, summary.message
    course, _ = train("cnn-advanced", tiny, variant="resnet", epochs=2, lr=0.05)
    assert summary.final["course test"] == course.final["test"]
    assert summary.final["course train"]["loss"] == course.final["train"]["loss"]
    assert summary.final["train"]["loss"] != course.final["train"]["loss"]
    views = keep.views()
    assert views["mistake"] == "no skip" and len(views["compared"]["with the mistake"]) == 2
    label = lessons.get("cnn-advanced").label
    assert "relu(x + F(x))" in label("no skip", "en") and "跳连" in label("no skip", "zh")


def test_the_residual_block_without_skip_is_two_plain_convolutions():
    import torch
    import torch.nn.functional as F

    from lessons._blocks import residual_block

    torch.manual_seed(0)
    block = residual_block(4, skip=False)
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(block(x), F.relu(block.conv2(F.relu(block.conv1(x)))))
    block.skip = True
    assert torch.equal(block(x), F.relu(x + block.conv2(F.relu(block.conv1(x)))))


def test_skip_off_is_refused_for_inception_naming_both_fields():
    with pytest.raises(Exception) as caught:
        lessons.get("cnn-advanced").resolve({"skip": "off"})
    assert str(caught.value).startswith("skip, variant: only the resnet variant has skip connections")
    assert lessons.get("cnn-advanced").defaults()["skip"] is True

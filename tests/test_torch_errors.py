"""Errors explained: the real torch errors a learner commonly meets, each matched to its row of the table.

torch is the oracle: every case makes the installed torch raise its own error, and the test checks
which row of labapp.torch_errors.KNOWN explains it. The CUDA-only errors are raised on a GPU where
there is one (the device-side assert in a subprocess, since it leaves the CUDA context unusable).
"""

import dataclasses
import io
import re
import subprocess
import sys
import unicodedata

import pytest
import torch
import torch.nn.utils.rnn as rnn_utils
from torch import nn

import lessons
from labapp import cli
from labapp.controller import ended_message
from labapp.lesson import IntParam, Lesson, Text
from labapp.progress import RunProgress
from labapp.runner import FAILED, run_lesson
from labapp.torch_errors import KNOWN, explain, explanation
from labapp.traces import RunTrace

X = torch.randn(4, 3)


class _Pickled:
    """An object that torch.load(weights_only=True) refuses."""


def _saved_object() -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save({"thing": _Pickled()}, buffer)
    buffer.seek(0)
    return buffer


def _backward_twice():
    w = torch.ones(2, requires_grad=True)
    loss = (w * 2).exp().sum()
    loss.backward()
    loss.backward()


CASES = {  # what a learner writes -> the row that explains torch's error
    "CrossEntropyLoss with Float targets": (lambda: nn.CrossEntropyLoss()(X, torch.tensor([0., 1., 2., 1.])),
                                            "class targets not long"),
    "CrossEntropyLoss with int32 targets": (lambda: nn.CrossEntropyLoss()(X, torch.tensor([0, 1, 2, 1]).int()),
                                            "class targets not long"),
    "NLLLoss with Float targets": (lambda: nn.NLLLoss()(X, torch.tensor([0., 1., 2., 1.])), "class targets not long"),
    "CrossEntropyLoss with one-hot Long targets": (lambda: nn.CrossEntropyLoss()(X, torch.zeros(4, 3).long()),
                                                   "class probabilities not float"),
    "BCELoss with Long targets": (lambda: nn.BCELoss()(torch.rand(4), torch.ones(4).long()), "binary targets not float"),
    "Linear on float64 (numpy's default)": (lambda: nn.Linear(3, 2)(X.double()), "inputs not float32"),
    "Linear on integers": (lambda: nn.Linear(3, 2)(torch.ones(4, 3).long()), "inputs not float32"),
    "Conv2d on float64": (lambda: nn.Conv2d(1, 2, 3)(torch.rand(1, 1, 8, 8).double()), "inputs not float32"),
    "Embedding of floats": (lambda: nn.Embedding(10, 3)(torch.tensor([1., 2.])), "indices not integer"),
    "BCELoss without a sigmoid": (lambda: nn.BCELoss()(torch.tensor([-1., 2.]), torch.ones(2)),
                                  "probabilities out of range"),
    "Linear with the wrong flatten size": (lambda: nn.Linear(500, 10)(torch.randn(64, 320)), "linear in_features"),
    "BCELoss (N, 1) against (N,)": (lambda: nn.BCELoss()(torch.rand(4, 1), torch.ones(4)), "target size"),
    "BCEWithLogitsLoss (N, 1) against (N,)": (lambda: nn.BCEWithLogitsLoss()(torch.randn(4, 1), torch.ones(4)),
                                              "target size"),
    "CrossEntropyLoss batch sizes differ": (lambda: nn.CrossEntropyLoss()(X, torch.tensor([0, 1])),
                                            "batch sizes differ"),
    "CrossEntropyLoss label beyond the classes": (lambda: nn.CrossEntropyLoss()(X, torch.tensor([0, 1, 3, 1])),
                                                  "class index out of range"),
    "Embedding index beyond the table": (lambda: nn.Embedding(10, 3)(torch.tensor([11])), "class index out of range"),
    "Conv2d on flattened images": (lambda: nn.Conv2d(1, 10, 5)(torch.randn(64, 784)), "conv input dims"),
    "Conv2d in_channels wrong": (lambda: nn.Conv2d(1, 10, 5)(torch.randn(64, 3, 28, 28)), "conv channels"),
    "Conv2d kernel larger than the map": (lambda: nn.Conv2d(1, 10, 5)(torch.randn(64, 1, 4, 4)),
                                          "input smaller than kernel"),
    "MaxPool2d on a 1x1 map": (lambda: nn.MaxPool2d(2)(torch.randn(64, 1, 1, 1)), "input smaller than kernel"),
    "view after a transpose": (lambda: torch.randn(3, 4).t().view(12), "view not contiguous"),
    "view to a fixed size that does not fit": (lambda: torch.randn(64, 20, 5, 5).view(-1, 320, 7), "view size"),
    "RNN input_size wrong": (lambda: nn.RNN(4, 2)(torch.randn(3, 1, 5)), "rnn input size"),
    "RNN hidden state shape wrong": (lambda: nn.RNN(4, 2)(torch.randn(3, 1, 4), torch.zeros(1, 2, 2)),
                                     "rnn input size"),
    "shapes that do not broadcast": (lambda: torch.randn(3, 3) + torch.randn(3, 4), "broadcast"),
    "model and data on different devices (meta and cpu)": (lambda: nn.Linear(2, 2).to("meta")(torch.randn(2, 2)),
                                                           "devices differ"),
    "pack_padded_sequence lengths not on the cpu": (
        lambda: rnn_utils.pack_padded_sequence(torch.randn(5, 2, 3), torch.tensor([5, 3], device="meta")),
        "lengths on gpu"),
    "pack_padded_sequence lengths unsorted": (
        lambda: rnn_utils.pack_padded_sequence(torch.randn(5, 2, 3), torch.tensor([3, 5])), "lengths not sorted"),
    "out of memory": (lambda: torch.empty(2 ** 42), "out of memory"),
    "backward of a tensor outside the graph": (lambda: torch.tensor(1.0).backward(), "no grad_fn"),
    "backward twice": (_backward_twice, "backward twice"),
    "backward of a vector": (lambda: (torch.ones(2, requires_grad=True) * 2).backward(), "backward not scalar"),
    "a parameter updated in place": (lambda: torch.ones(2, requires_grad=True).add_(1), "leaf in-place"),
    "numpy() of a parameter": (lambda: torch.ones(2, requires_grad=True).numpy(), "numpy needs detach"),
    ".item() of a vector": (lambda: torch.ones(2).item(), "item of many"),
    "the course's loss.data[0]": (lambda: torch.tensor(1.0).data[0], "data[0] of a scalar"),
    "torch.load of a whole object": (lambda: torch.load(_saved_object()), "weights only load"),
}
if not torch.cuda.is_available():
    CASES["cuda asked for on a machine without it"] = (lambda: torch.zeros(1).cuda(), "no gpu")

CUDA_CASES = {
    "model on the GPU, data on the CPU": (lambda: nn.Linear(2, 2).cuda()(torch.randn(2, 2)), "devices differ"),
    "data on the GPU, model on the CPU": (lambda: nn.Linear(2, 2)(torch.randn(2, 2).cuda()), "devices differ"),
    "conv model on the GPU, data on the CPU": (lambda: nn.Conv2d(1, 2, 3).cuda()(torch.randn(1, 1, 8, 8)),
                                               "devices differ"),
    "numpy() of a GPU tensor": (lambda: torch.ones(2).cuda().numpy(), "numpy from gpu"),
    "pack_padded_sequence lengths on the GPU": (
        lambda: rnn_utils.pack_padded_sequence(torch.randn(5, 2, 3).cuda(), torch.tensor([5, 3]).cuda()),
        "lengths on gpu"),
}
DEVICE_ASSERT = """
import torch
logits = torch.randn(4, 10, device="cuda")
torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 12], device="cuda"))
torch.cuda.synchronize()
"""


def torch_says(make) -> str:
    """The message of the error that `make` gets from torch, as a failed run reports it."""
    with pytest.raises(Exception) as error:  # noqa: PT011 - whatever torch raises is the point
        make()
    return f"failed: {type(error.value).__name__}: {error.value}"


@pytest.mark.parametrize("case", list(CASES))
def test_a_real_torch_error_is_matched_to_its_explanation(case):
    make, key = CASES[case]
    message = torch_says(make)
    known = explain(message)
    assert known is not None, f"{case}: no explanation for {message!r}"
    assert known.key == key, f"{case}: {message!r} matched {known.key!r}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("case", list(CUDA_CASES))
def test_a_real_cuda_error_is_matched_to_its_explanation(case):
    make, key = CUDA_CASES[case]
    message = torch_says(make)
    assert explain(message) is not None and explain(message).key == key, message


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_a_device_side_assert_is_explained():
    done = subprocess.run([sys.executable, "-c", DEVICE_ASSERT], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert explain(last) is not None and explain(last).key == "device-side assert", done.stderr[-2000:]


def test_every_row_is_met_by_a_real_error_and_speaks_both_languages():
    met = {key for _, key in CASES.values()} | {key for _, key in CUDA_CASES.values()} | {"device-side assert"}
    if torch.cuda.is_available():
        met.add("no gpu")  # raised only where there is no GPU
    assert met == {known.key for known in KNOWN}
    for known in KNOWN:
        re.compile(known.pattern)
        for text in (known.meaning, known.fix):
            assert text.en and text.zh and text.zh != text.en
            assert any(unicodedata.east_asian_width(ch) == "W" for ch in text.zh), known.key


def test_an_unknown_error_has_no_explanation():
    assert explain("failed: ValueError: the lesson's own rule") is None
    assert explanation("failed: KeyError: 'x'", "en") is None


# -- where a learner sees it -----------------------------------------------------------------------

def _float_labels(hp, run):
    """A lesson that makes the classic mistake: class labels as Float for CrossEntropyLoss."""
    model = nn.Linear(3, 4)
    y = torch.tensor([0, 1, 2, 3]).float()
    loss = nn.CrossEntropyLoss()(model(torch.randn(4, 3)), y)
    yield loss


FLOAT_LABELS = Lesson(id="float-labels", number=98, title=Text("浮点标签", "Float labels"),
                      explanation=Text("测试用。", "For tests."),
                      params=(IntParam(name="epochs", default=1, min=1, help=Text("轮数", "epochs")),), charts=(),
                      train=_float_labels)


@pytest.fixture
def float_labels(monkeypatch):
    real = lessons.get
    monkeypatch.setattr(lessons, "get", lambda lesson_id: FLOAT_LABELS if lesson_id == "float-labels" else real(lesson_id))
    return FLOAT_LABELS


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_labapp_run_says_what_it_means_beside_torchs_words(float_labels, capsys, runs_dir, lang):
    assert cli.main(["run", "float-labels", "--no-record", "--quiet", "--lang", lang]) == 1
    err = capsys.readouterr().err
    assert "labapp: the run failed: RuntimeError: expected target dtype to be Long or Byte, but got Float" in err
    known = next(k for k in KNOWN if k.key == "class targets not long")
    assert explanation(err, lang) in err
    assert known.meaning(lang) in err and known.fix(lang) in err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_status_line_says_what_it_means_in_the_users_language(float_labels, lang):
    summary = run_lesson(float_labels, float_labels.defaults())
    assert summary.status == FAILED
    trace = RunTrace(lesson=float_labels, values={}, number=1, label="", progress=RunProgress())
    trace.status, trace.message = "failed", summary.message
    shown = ended_message(trace, lang)
    known = explain(summary.message)
    assert shown.startswith({"en": "failed: What it means: ", "zh": "失败：这是什么意思："}[lang])
    assert known.meaning(lang) in shown and known.fix(lang) in shown
    assert "expected target dtype to be Long or Byte, but got Float" in shown  # torch's own words beside it


def test_a_failure_torch_does_not_explain_is_said_as_before(counter):
    summary = run_lesson(counter, counter.resolve({"fail_at": "2"}))
    trace = RunTrace(lesson=counter, values={}, number=1, label="", progress=RunProgress())
    trace.status, trace.message = "failed", summary.message
    assert ended_message(trace, "en") == "failed: " + summary.message.removeprefix("failed: ")
    assert dataclasses.is_dataclass(trace)


def test_labapp_sweep_says_it_once_for_its_failed_runs(float_labels, capsys, runs_dir):
    assert cli.main(["sweep", "float-labels", "--epochs", "1,2", "--quiet", "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "labapp: 2 of 2 runs failed" in err
    assert err.count(explanation("expected target dtype to be Long or Byte, but got Float", "en")) == 1

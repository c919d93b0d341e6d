"""Lessons 9-12 on a tiny MNIST written by the tests in the real idx format and read by torchvision's own class.

The tiny set: 320 training and 80 test images of ten made-up "digits" (a bright bar whose place
and direction depend on the label, plus noise), enough to train on in a blink and to tell whether
a model learns. The course's numbers on the real MNIST are checked by hand and by benchmarks/mnist.py.
"""

import dataclasses
import gzip
import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import lessons
from labapp import cli, confusion, data
from labapp.data import DataCorrupt, DataMissing, DataStore
from labapp.lesson import Metric, Values, ViewValue, in_lang
from labapp.runner import FINISHED, run_lesson
from lessons import _blocks, _mnist, _mnist_data, cnn_advanced, cnn_basics, sequential, softmax_mnist
from lessons._data import MNIST
from tests.conftest import SHARED_DATA, labapp
from tests.mnist_fixtures import write_mnist

TRAIN, TEST = 320, 80


def tiny_digits(count: int, seed: int) -> tuple[bytes, bytes]:
    """`count` 28x28 images and labels: label k is a bar at row or column 4 + 2k, with noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    images = rng.integers(0, 60, (count, 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        at = 4 + 2 * (label % 5)
        if label < 5:
            image[at:at + 2, 4:24] = 250
        else:
            image[4:24, at:at + 2] = 250
    return images.tobytes(), labels.tobytes()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A data folder that holds MNIST/raw/ with the tiny set."""
    root = tmp_path_factory.mktemp("tiny-mnist")
    write_mnist(root, {"train": tiny_digits(TRAIN, 1), "t10k": tiny_digits(TEST, 2)})
    return root


@pytest.fixture
def offline(tmp_path, monkeypatch) -> Path:
    """An empty cache of the test's own, no folder named, and no network: torchvision's download fails."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setattr(data, "cache_dir", lambda: cache)
    monkeypatch.delenv(data.ENV_VAR, raising=False)

    def no_network(packed, folder, deadline, say):
        raise data._DownloadFailed("[Errno -2] Name or service not known")

    monkeypatch.setattr(data, "_download_mirrors", no_network)
    return cache


class Keep:
    def __init__(self):
        self.records = []

    def start(self, info):
        self.info = info

    def record(self, record, elapsed):
        self.records.append(record)

    def finish(self, summary):
        pass

    def metrics(self, split="train", steps=False):
        return [r for r in self.records if isinstance(r, Metric) and r.split == split and (r.step is not None) == steps]

    def view(self, name):
        return [r.value for r in self.records if isinstance(r, ViewValue) and r.view == name][-1]


def train(lesson_id, folder=None, seed=0, **texts):
    lesson = lessons.get(lesson_id)
    keep = Keep()
    summary = run_lesson(lesson, lesson.resolve({k: str(v) for k, v in texts.items()}), [keep], seed=seed,
                         data_dir=str(folder) if folder else None)
    assert summary.status == FINISHED, summary.message + (summary.traceback or "")
    return summary, keep


# -- the data -----------------------------------------------------------------------------------------

def test_the_tiny_set_reads_through_torchvision_and_the_data_layer(tiny):
    from torchvision import datasets

    train_set, test_set = datasets.MNIST(tiny, train=True), datasets.MNIST(tiny, train=False)
    assert (len(train_set), len(test_set)) == (TRAIN, TEST)
    images, labels = tiny_digits(TRAIN, 1)
    assert train_set.data.numpy().tobytes() == images and bytes(train_set.targets.tolist()) == labels
    found = DataStore(tiny).status(MNIST)
    assert (found.state, found.path) == (data.PRESENT, tiny)


@pytest.mark.parametrize("damage, why", [
    (lambda raw: (raw / "train-images-idx3-ubyte").write_bytes((raw / "train-images-idx3-ubyte").read_bytes()[:-100]),
     "train-images-idx3-ubyte has 250,796 bytes where its 320 images take 250,896"),
    (lambda raw: (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\0\0\x0c\x01" + (80).to_bytes(4, "big") + bytes(320)),
     "t10k-labels-idx1-ubyte holds numbers of type 0x0c, not bytes"),
    (lambda raw: (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01" + (79).to_bytes(4, "big") + bytes(79)),
     "t10k-images-idx3-ubyte holds 80 images but t10k-labels-idx1-ubyte 79 labels"),
], ids=["truncated", "int32-labels", "counts-differ"])
def test_a_damaged_folder_is_corrupt_with_the_reason(tiny, tmp_path, offline, damage, why):
    mine = tmp_path / "mine"
    shutil.copytree(tiny, mine)
    damage(mine / "MNIST" / "raw")
    with pytest.raises(DataCorrupt) as error:
        DataStore(mine).locate(MNIST)
    message = str(error.value)
    assert message.startswith(f"MNIST/raw/ in {mine} (--data-dir) is corrupt: {why}")
    assert "leaves files in your folder alone" in message


def test_offline_without_mnist_says_what_where_and_how(tmp_path, offline):
    mine = tmp_path / "mine"
    (mine / "MNIST" / "raw").mkdir(parents=True)
    (mine / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataMissing) as error:
        DataStore(mine).locate(MNIST)
    message = str(error.value)
    for needle in (f"MNIST is not in {mine}/MNIST/raw (--data-dir) or {offline}/MNIST/raw (cache)",
                   "Name or service not known",
                   "train-images-idx3-ubyte.gz still gzipped: `labapp data import",  "labapp data import PATH",
                   "t10k-labels-idx1-ubyte", "https://ossci-datasets.s3.amazonaws.com/mnist/", "LABAPP_DATA_DIR",
                   "--data-dir"):
        assert needle in message
    assert "\n" not in message
    assert list(offline.iterdir()) == []  # no empty folders left in the cache


def test_a_download_goes_into_the_cache_verified_and_unpacked(tiny, offline, monkeypatch):
    files = {name + ".gz": gzip.compress((tiny / "MNIST" / "raw" / name).read_bytes(), mtime=0) for name in MNIST.files}
    published = dataclasses.replace(MNIST, packed=tuple(
        dataclasses.replace(p, md5=hashlib.md5(files[p.filename]).hexdigest(), size=len(files[p.filename]))
        for p in MNIST.packed))

    def downloaded(packed, folder, deadline, say):  # what a mirror gives: the gzipped file, checked
        (folder / packed.filename).write_bytes(files[packed.filename])
        return folder / packed.filename

    monkeypatch.setattr(data, "_download_mirrors", downloaded)
    said = []
    assert DataStore().locate(published, said.append) == offline
    assert said[0].startswith("downloading MNIST") and said[-1].startswith("downloaded MNIST")
    assert DataStore().status(MNIST).state == data.PRESENT
    assert sorted(p.name for p in (offline / "MNIST").iterdir()) == ["raw"]  # no staging folder left


def test_labapp_run_offline_exits_2_with_the_message(tmp_path, offline, capsys, runs_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    for lesson in ("softmax-mnist", "cnn-advanced"):
        assert cli.main(["run", lesson, "--data-dir", str(empty)]) == 2
        err = capsys.readouterr().err.splitlines()
        assert err[-1].startswith(f"labapp: MNIST is not in {empty}/MNIST/raw (--data-dir)")
    assert not runs_dir.exists()  # refused before any run began


async def test_the_workbench_tells_of_missing_mnist(offline):
    from labapp.app import LabApp
    from tests.test_app import open_lesson, press_run, until

    app = LabApp(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 9)
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("softmax-mnist"))
        trace = app.bench.traces["softmax-mnist"][-1]
        assert trace.status == "failed" and trace.message.startswith("MNIST is not in")
        await until(pilot, lambda: "MNIST is not in" in app.message)


# -- the input pipeline ---------------------------------------------------------------------------------

def test_prepared_batches_are_the_dataloaders_to_the_bit(tiny):
    from torch.utils.data import DataLoader
    from torchvision import datasets

    hp = Values(batch_size=64, loader="tensors")
    train_data, test_data, _, _ = _mnist_data.load(tiny, hp, torch.device("cpu"))
    course_train = datasets.MNIST(tiny, train=True, transform=_mnist_data.course_transform())
    course_test = datasets.MNIST(tiny, train=False, transform=_mnist_data.course_transform())
    served = {}
    for name, epoch in (("prepared", lambda: (train_data.batches(True), test_data.batches(False))),
                        ("course", lambda: (DataLoader(course_train, batch_size=64, shuffle=True),
                                            DataLoader(course_test, batch_size=64, shuffle=False)))):
        torch.manual_seed(3)
        batches = []
        for _ in range(3):  # a test pass between epochs draws from the generator too
            train_batches, test_batches = epoch()
            batches += list(train_batches)
            list(test_batches)
        served[name] = batches
    assert len(served["prepared"]) == len(served["course"]) == 3 * 5
    for (x, y), (cx, cy) in zip(served["prepared"], served["course"]):
        assert torch.equal(y, cy) and torch.equal(x, cx)  # the same images, normalised to the same bits


def test_both_loaders_train_to_the_same_numbers(tiny):
    runs = [train("softmax-mnist", tiny, epochs=2, loader=loader, lr=0.1)[1] for loader in ("tensors", "dataloader")]
    values = [[(m.split, m.epoch, {k: v for k, v in m.values.items() if k != "seconds"})
               for m in keep.records if isinstance(m, Metric)] for keep in runs]
    assert values[0] == values[1]


def test_stop_is_seen_within_one_training_step(tiny):
    class Context:
        device, seed, data_dir = torch.device("cpu"), 0, None
        checks = 0

        @property
        def should_stop(self):
            Context.checks += 1
            return Context.checks >= 3

        def data_path(self, name):
            return tiny

        def log(self, message):
            pass

        def batch(self, done, total):
            pass

        def restore(self, **objects):  # a new run: nothing to restore
            return {}

        def checkpoint(self, epoch, **state):
            pass

    hp = lessons.get("softmax-mnist").defaults()
    records = list(softmax_mnist.train(hp, Context()))
    assert Context.checks == 3  # asked after each of three batches, and gone at the third yes
    assert not [r for r in records if isinstance(r, Metric)]  # stopped mid-epoch: no epoch reported


# -- the lessons ------------------------------------------------------------------------------------------

def test_softmax_mnist_headless_reports_loss_accuracy_and_digits(tiny, runs_dir):
    done = labapp("run", "softmax-mnist", "--epochs", "2", "--lr", "0.1", env={data.ENV_VAR: str(tiny)})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "epoch 2/2  test  accuracy" in out and "seconds" in out
    assert "normalised once into one tensor (320, 1, 28, 28)" in out
    assert "first test images" in out and "pred " in out and "true " in out
    assert "\x1b[" not in out  # no escape codes in a pipe
    assert "What it gets wrong: the confusion matrix on the test split" in out


def confusion_report(out: str) -> tuple[list[list[int]], list[str], float, list[str]]:
    """From a headless report: the counts matrix, the accuracy column, the printed test accuracy, the captions."""
    lines = [line.strip() for line in out.splitlines()]
    at = lines.index("Counts (rows: the true class, columns: the predicted)")
    assert lines[at + 1].split() == [str(d) for d in range(10)]
    counts = [[0 if cell == "·" else int(cell) for cell in line.split()[1:]] for line in lines[at + 2:at + 12]]
    at = next(i for i, line in enumerate(lines) if line.startswith("% of each true class"))
    header = next(i for i in range(at, len(lines)) if lines[i].startswith("0 "))
    per_class = [line.split()[-1] for line in lines[header + 1:header + 11]]
    accuracy = float(re.search(r"final test: accuracy (\S+)", out).group(1))
    captions = re.findall(r"(\d) → (\d) (\S+%)", out)
    return counts, per_class, accuracy, captions


def test_the_headless_report_shows_what_the_classifier_gets_wrong(tiny, runs_dir):
    done = labapp("run", "softmax-mnist", "--epochs", "1", "--lang", "en", env={data.ENV_VAR: str(tiny)})
    assert done.returncode == 0, done.stderr
    counts, per_class, accuracy, captions = confusion_report(done.stdout)
    assert sum(map(sum, counts)) == TEST
    assert sum(counts[k][k] for k in range(10)) / TEST == accuracy
    assert per_class == [confusion.percent(counts[k][k] / sum(counts[k])) if sum(counts[k]) else "—"
                         for k in range(10)]
    wrong = TEST - sum(counts[k][k] for k in range(10))
    assert len(captions) == min(8, wrong) and all(t != p for t, p, _ in captions)


@pytest.mark.skipif(not (SHARED_DATA / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file(),
                    reason="the course's MNIST files are not here")
def test_one_epoch_on_the_course_mnist_prints_its_confusion_matrix(runs_dir):
    done = labapp("run", "softmax-mnist", "--epochs", "1", "--lang", "en", "--no-record",
                  env={data.ENV_VAR: str(SHARED_DATA)}, timeout=600)
    assert done.returncode == 0, done.stderr
    counts, per_class, accuracy, captions = confusion_report(done.stdout)
    test_images = int(re.search(r"test images +(\d+)", done.stdout).group(1))
    assert sum(map(sum, counts)) == test_images
    assert sum(counts[k][k] for k in range(10)) / test_images == accuracy
    assert len(per_class) == 10 and all(share.endswith("%") for share in per_class)
    assert len(captions) >= 6


@pytest.mark.parametrize("lesson_id, texts", [
    ("softmax-mnist", {}),
    ("cnn-basics", {}),
    ("sequential", {"model": "mlp"}),
    ("sequential", {"model": "resnet"}),
    ("cnn-advanced", {"variant": "inception"}),
    ("cnn-advanced", {"variant": "resnet"}),
], ids=["softmax-mnist", "cnn-basics", "sequential-mlp", "sequential-resnet", "cnn-advanced-inception",
        "cnn-advanced-resnet"])
def test_each_lesson_trains_on_tiny_mnist(tiny, lesson_id, texts):
    summary, keep = train(lesson_id, tiny, epochs=3, lr=0.05, **texts)
    losses = [m.values["loss"] for m in keep.metrics()]
    accuracies = [m.values["accuracy"] for m in keep.metrics("test")]
    assert len(losses) == len(accuracies) == 3 and all(m.values["seconds"] > 0 for m in keep.metrics())
    assert losses[-1] < losses[0] and 0 <= accuracies[-1] <= 1
    assert keep.view("data")["training images"] == TRAIN and "pred" in keep.view("digits")["en"] and "前几张测试图片" in keep.view("digits")["zh"]
    assert keep.info.threads >= 1  # the runner's policy chooses
    mistakes = [r.value for r in keep.records if isinstance(r, ViewValue) and r.view == "mistakes"]
    assert len(mistakes) == 3  # after each epoch
    for value, accuracy in zip(mistakes, accuracies):  # the test split, counted whole; its diagonal is the accuracy
        assert confusion.total(value["counts"]) == TEST and confusion.right(value["counts"]) / TEST == accuracy


def test_the_course_loss_is_the_mean_of_every_300_batches(tiny):
    _, keep = train("softmax-mnist", tiny, epochs=1, batch_size=1)  # 320 batches: one report, at batch 300
    [report] = keep.metrics(steps=True)
    assert report.step == 300 and report.epoch == 1 and report.values["loss"] > 0


def test_an_epoch_shorter_than_300_batches_still_gets_its_point_and_every_batch_is_reported(tiny):
    class Context:
        device, seed, data_dir, should_stop = torch.device("cpu"), 0, None, False
        batches = []

        def data_path(self, name):
            return tiny

        def log(self, message):
            pass

        def batch(self, done, total):
            self.batches.append((done, total))

        def restore(self, **objects):  # a new run: nothing to restore
            return {}

        def checkpoint(self, epoch, **state):
            pass

    hp = Values(lessons.get("softmax-mnist").defaults(), epochs=2)  # 320 images in batches of 64: 5 a epoch
    records = [r for r in softmax_mnist.train(hp, Context()) if isinstance(r, Metric)]
    points = [r for r in records if r.step is not None]
    epochs = [r for r in records if r.step is None and r.split == "train"]
    assert [(p.epoch, p.step) for p in points] == [(1, 5), (2, 10)]  # one a epoch, at its last batch
    for point, epoch in zip(points, epochs):  # the mean of the epoch's batches, as the epoch's own loss
        assert point.values["loss"] == pytest.approx(epoch.values["loss"])
    assert Context.batches == [(done, 5) for done in range(1, 6)] * 2


def test_the_sequential_models_are_the_course_models(tiny):
    # Same layers made in the same order: the same starting weights, the same training.
    pairs = [(("softmax-mnist", {}), ("sequential", {"model": "mlp"})),
             (("cnn-basics", {}), ("sequential", {"model": "cnn"}))]
    for (a, ta), (b, tb) in pairs:
        first = train(a, tiny, epochs=1, **ta)[0].final
        second = train(b, tiny, epochs=1, **tb)[0].final
        assert first["test"] == second["test"]
        assert first["train"]["loss"] == pytest.approx(second["train"]["loss"], rel=1e-6)


# -- model summaries ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["mlp", "cnn", "inception", "resnet"])
def test_summaries_add_up_and_show_the_flattened_size(model):
    net = sequential.make_model(model)
    table = _blocks.summarize(net)
    assert table["columns"] == ["layer", "output shape", "params"]
    *layers, total = table["rows"]
    assert total[0] == "total" and total[2] == sum(p.numel() for p in net.parameters())
    assert sum(row[2] for row in layers) == total[2]
    flat = {"mlp": 784, "cnn": 320, "inception": 1408, "resnet": 512}[model]
    assert [row[1] for row in layers if row[0].endswith("Flatten")] == [f"(N, {flat})"]
    assert layers[-1][1] == "(N, 10)"


@pytest.mark.parametrize("variant, into", [("inception", 1408), ("resnet", 512)])
def test_cnn_advanced_is_the_course_network(variant, into):
    net = cnn_advanced.make_model(variant)
    table = _blocks.summarize(net)
    assert table["rows"][-1][2] == sum(p.numel() for p in net.parameters())
    shapes = cnn_advanced.shapes(net)
    assert shapes["into the last linear layer"] == f"(N, {into})"
    assert net.fc.in_features == into and net.fc.out_features == 10
    if variant == "inception":
        assert shapes["Inception(10), concatenated"] == "(N, 88, 12, 12)"
        paths = [shapes[f"Inception(10), {p} path"] for p in ("1x1", "5x5", "3x3", "pool")]
        assert paths == ["(N, 16, 12, 12)", "(N, 24, 12, 12)", "(N, 24, 12, 12)", "(N, 24, 12, 12)"]
        assert [row[1] for row in table["rows"] if "InceptionA" in row[0]] == ["(N, 88, 12, 12)", "(N, 88, 4, 4)"]
    else:
        assert [row[1] for row in table["rows"] if "ResidualBlock" in row[0]] == ["(N, 16, 12, 12)", "(N, 32, 4, 4)"]


def test_sequential_with_no_epochs_shows_the_summary_without_mnist(offline):
    _, keep = train("sequential", epochs=0, model="inception")  # no data folder, no cache, no network
    assert keep.view("summary")["rows"][-1] == ["total", "", 97_298]


# -- the cnn-basics explorer ---------------------------------------------------------------------------------

def explore(**texts):
    _, keep = train("cnn-basics", epochs=0, **texts)
    rows = lambda text: [[float(v) for v in line.split()] for line in text.splitlines()[1:]]  # noqa: E731
    return rows(keep.view("conv")["en"]), rows(keep.view("pool")["en"]), in_lang(keep.view("rule"), "en")


def test_the_explorer_reproduces_the_course_examples(offline):
    conv, pool, rule = explore(padding=1)
    assert conv[0] == [91, 168, 224, 215, 127] and len(conv) == 5
    assert rule["convolution"] == "⌊(5 + 2·1 − 3) / 1⌋ + 1 = 5"
    conv, _, _ = explore(stride=2)
    assert conv == [[211, 262], [251, 169]]
    assert pool == [[4, 8], [9, 8]]
    _, pool, rule = explore(input="[[3,4,6,5],[2,4,6,8],[1,6,7,8],[9,7,4,6]]")
    assert pool == [[4, 8], [9, 8]] and rule["pooling"] == "⌊4 / 2⌋ = 2"


@pytest.mark.parametrize("size, kernel, padding, stride", [(5, 3, 0, 1), (7, 3, 1, 2), (6, 2, 2, 3), (28, 5, 0, 1)])
def test_the_output_size_rule_is_torchs(size, kernel, padding, stride):
    out = torch.nn.functional.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                                     padding=padding, stride=stride)
    assert out.shape[-1] == cnn_basics.side(size, kernel, padding, stride)


def test_the_explorer_refuses_a_kernel_that_does_not_fit():
    from labapp.lesson import ParamError

    with pytest.raises(ParamError, match="kernel, padding: a 3x3 kernel does not fit a 2x2 input padded by 0"):
        lessons.get("cnn-basics").resolve({"input": "[[1, 2], [3, 4]]"})


# -- cuda -------------------------------------------------------------------------------------------------

@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")
def test_on_cuda_the_data_live_on_the_gpu_and_results_match_the_cpu(tiny):
    hp = Values(batch_size=64, loader="tensors")
    train_data, _, _, _ = _mnist_data.load(tiny, hp, torch.device("cuda"))
    assert train_data.x.is_cuda and train_data.y.is_cuda
    for loader in ("tensors", "dataloader"):
        lesson = lessons.get("softmax-mnist")
        summary = run_lesson(lesson, lesson.resolve({"epochs": "2", "loader": loader}), device="cuda",
                             data_dir=str(tiny))
        assert summary.status == FINISHED and summary.final["test"]["accuracy"] >= 0

"""Lessons 7 and 8 on the diabetes data: the course's numbers, mini-batches, worker processes, stopping.

With the course file at hand (LABAPP_DATA_DIR or ../shared/data) the oracles are the course's
numbers; without it, a generated file with the same shape and the same label share (496 of 759
rows are 1) stands in, registered under the file's checksum for the test's duration.
"""

import dataclasses
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import lessons
from labapp import data
from labapp.lesson import Metric, ViewValue
from labapp.runner import FINISHED, STOPPED, Run, run_lesson
from lessons._data import DIABETES
from tests.conftest import ROOT, SHARED_DATA
from tests.data_fixtures import checksum_of, stand_in, stand_in_code

ROWS, ONES = 759, 496
SHARE = ONES / ROWS  # 65.3 %: the accuracy of always answering 1
ENTROPY = -(SHARE * math.log(SHARE) + (1 - SHARE) * math.log(1 - SHARE))  # 0.645: the best constant guess's BCE


def make_diabetes(path: Path, seed: int = 0) -> None:
    """A diabetes-like file: 759 rows of 8 features in [-1, 1], and 496 labels 1 that depend on them."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(ROWS, 8))
    score = x @ np.array([0.2, 1.5, 0.1, 0.0, 0.2, 0.8, 0.4, 0.5]) + rng.normal(0, 0.8, ROWS)
    y = np.zeros(ROWS)
    y[np.argsort(score)[-ONES:]] = 1.0
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", fmt="%.6f")  # .gz: numpy compresses


@dataclasses.dataclass
class Diabetes:
    folder: Path
    real: bool
    changes: dict  # what makes the declared file match this one: {} for the course's file


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory) -> Diabetes:
    """The folder with diabetes.csv.gz: the course's, else a generated stand-in."""
    for folder in (os.environ.get(data.ENV_VAR), SHARED_DATA):
        if folder and (Path(folder) / "diabetes.csv.gz").is_file():
            return Diabetes(Path(folder), True, {})
    folder = tmp_path_factory.mktemp("diabetes")
    make_diabetes(folder / "diabetes.csv.gz")
    return Diabetes(folder, False, checksum_of(folder / "diabetes.csv.gz"))


@pytest.fixture
def registered(diabetes, monkeypatch) -> Diabetes:
    """The diabetes file as the lessons declare it: unchanged for the course's file, the stand-in's checksum otherwise."""
    stand_in(monkeypatch, DIABETES, **diabetes.changes)
    return diabetes


class Collect:
    """A sink that keeps the records; `after(n)` is set once n records have come."""

    def __init__(self, after: int = 0) -> None:
        self.records: list = []
        self.after = after
        self.reached = threading.Event()

    def start(self, info) -> None:
        pass

    def record(self, record, elapsed) -> None:
        self.records.append(record)
        if len(self.records) >= self.after:
            self.reached.set()

    def finish(self, summary) -> None:
        pass

    def epochs(self) -> list[Metric]:
        return [r for r in self.records if isinstance(r, Metric) and r.step is None and r.split != "after training"]  # the epochs, not the trained model

    def after_training(self) -> dict:
        """The trained model's values: the lesson's headline, the same as its Result view."""
        return next(r.values for r in self.records if isinstance(r, Metric) and r.split == "after training")

    def steps(self) -> list[Metric]:
        return [r for r in self.records if isinstance(r, Metric) and r.step is not None]

    def view(self, name: str):
        return [r.value for r in self.records if isinstance(r, ViewValue) and r.view == name][-1]


def train(registered: Diabetes, lesson_id: str, **texts: str) -> tuple:
    lesson = lessons.get(lesson_id)
    sink = Collect()
    summary = run_lesson(lesson, lesson.resolve(texts), [sink], data_dir=str(registered.folder))
    assert summary.status == FINISHED, summary.message + (summary.traceback or "")
    return summary, sink


# -- lesson 7 ---------------------------------------------------------------------------------------

def test_multi_dim_input_course_settings_reach_the_majority_plateau(registered):
    summary, sink = train(registered, "multi-dim-input")  # sigmoid, SGD lr 0.1, 100 full-batch epochs
    epochs = sink.epochs()
    assert [m.epoch for m in epochs] == list(range(1, 101))
    last = epochs[-1].values
    assert last["loss"] == pytest.approx(ENTROPY, abs=0.005)  # the course: ≈ 0.6455 at its epoch 99
    assert last["accuracy"] == pytest.approx(SHARE)            # 65.3 %
    result = sink.view("result")
    assert result["predicted 1"]["en"] == f"{ROWS} of {ROWS} rows"
    assert f"{sink.after_training()['accuracy']:.1%}" == result["accuracy"] and sink.after_training()["loss"] == result["loss"]  # the plateau is the majority class
    assert result["always guessing the majority class"] == "65.3%"
    mistakes = sink.view("mistakes")  # the confusion matrix shows the plateau: every row answered 1
    assert mistakes["labels"] == ["0", "1"] and mistakes["counts"] == [[0, ROWS - ONES], [0, ONES]]
    assert len(mistakes["mistakes"]) == 8 and all(m["true"] == 0 and 1 <= m["example"] <= ROWS
                                                   for m in mistakes["mistakes"])
    if registered.real:
        assert epochs[0].values["loss"] > 0.69 and abs(last["loss"] - 0.6455) < 0.002


def test_multi_dim_input_relu_gets_past_the_plateau(registered):
    summary, sink = train(registered, "multi-dim-input", activation="relu", epochs="1000")
    assert summary.final["train"]["accuracy"] > 0.75
    counts = sink.view("mistakes")["counts"]  # of the trained model: its accuracy, and both answers given
    assert sum(map(sum, counts)) == ROWS
    assert f"{(counts[0][0] + counts[1][1]) / ROWS:.1%}" == sink.view("result")["accuracy"]
    assert counts[0][0] > 0 and counts[1][1] > 0
    assert sink.epochs()[-1].values["loss"] < 0.5


def test_multi_dim_input_ten_times_the_lr_gets_where_10000_epochs_go(registered):
    if not registered.real:
        pytest.skip("the course's number needs the course's file")
    summary, _ = train(registered, "multi-dim-input", lr="1.0", epochs="1000")  # ≈ lr 0.1 for 10,000 epochs
    assert summary.final["train"]["loss"] == pytest.approx(0.463, abs=0.003)
    assert 0.76 <= summary.final["train"]["accuracy"] <= 0.775


# -- lesson 8 ---------------------------------------------------------------------------------------

def test_dataset_dataloader_course_settings(registered):
    summary, sink = train(registered, "dataset-dataloader", num_workers="0")  # batch 32, lr 0.01, 100 epochs
    assert sink.view("batches")["batches per epoch"] == 24 and sink.view("batches")["rows in the last batch"] == 23
    epochs, steps = sink.epochs(), sink.steps()
    assert len(epochs) == 100 and all(m.values["batches"] == 24 for m in epochs)
    assert [m.step for m in steps] == list(range(1, 2401))  # iterations count on across epochs
    assert epochs[-1].values["loss"] == pytest.approx(ENTROPY, abs=0.005)
    assert epochs[-1].values["accuracy"] == pytest.approx(SHARE)
    counts = sink.view("mistakes")["counts"]  # rows answered 1, as the result counts them
    assert f"{counts[0][1] + counts[1][1]} of {ROWS} rows" == sink.view("result")["predicted 1"]["en"]
    # The epoch loss is the mean over its batches, weighted by their rows (the last has 23).
    last = [m.values["loss"] for m in steps if m.epoch == 100]
    assert epochs[-1].values["loss"] == pytest.approx((sum(last[:-1]) * 32 + last[-1] * 23) / ROWS)
    # The headline (the status line's) is the trained model's accuracy: the one the Result view shows.
    assert lessons.get("dataset-dataloader").headline_metric() == ("after training", "accuracy")
    assert f"{sink.after_training()['accuracy']:.1%}" == sink.view("result")["accuracy"]


def test_dataset_dataloader_batches_follow_the_batch_size(registered):
    summary, sink = train(registered, "dataset-dataloader", num_workers="0", batch_size="100", epochs="2",
                          shuffle="off")
    assert sink.view("batches")["batches per epoch"] == 8 and sink.view("batches")["rows in the last batch"] == 59
    assert len(sink.steps()) == 16
    again = train(registered, "dataset-dataloader", num_workers="0", batch_size="100", epochs="2", shuffle="off")[1]
    assert [m.values for m in again.records if isinstance(m, Metric)] == [m.values for m in sink.records
                                                                           if isinstance(m, Metric)]


def test_workers_serve_the_same_first_epoch_as_the_training_process(registered):
    alone = train(registered, "dataset-dataloader", num_workers="0", epochs="3")[1]
    helped = train(registered, "dataset-dataloader", num_workers="2", epochs="3")[1]
    # Epoch 1 is the same batch for batch. Later epochs are shuffled differently: persistent workers
    # take one random seed per run, not one per epoch, so the shuffles draw other numbers.
    first = lambda sink: [m.values["loss"] for m in sink.steps() if m.epoch == 1]  # noqa: E731
    assert first(helped) == pytest.approx(first(alone))
    assert len(helped.steps()) == len(alone.steps()) == 72
    assert multiprocessing.active_children() == []


def test_workers_on_a_thread_stop_promptly_and_end(registered):
    lesson = lessons.get("dataset-dataloader")
    sink = Collect(after=60)
    run = Run(lesson, lesson.resolve({"num_workers": "2", "epochs": "100000"}), data_dir=str(registered.folder),
              sinks=[sink])
    run.start()  # the workbench trains on a thread of its own
    assert sink.reached.wait(60)
    assert len(multiprocessing.active_children()) == 2
    run.request_stop()
    assert run.join(5), "the run did not stop within 5 s"
    assert run.summary.status == STOPPED
    assert multiprocessing.active_children() == []  # the worker processes ended with the run


def _command(registered: Diabetes, *args: str) -> list[str]:
    """`labapp ARGS`; with the stand-in file, through a wrapper that registers its checksum first."""
    if registered.real:
        return [sys.executable, "-m", "labapp", *args]
    code = ("import sys\n" + stand_in_code("DIABETES", registered.changes)
            + "from labapp.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    return [sys.executable, "-c", code, *args]


def test_ctrl_c_stops_dataset_dataloader_with_workers_and_keeps_its_records(registered, runs_dir):
    env = {**os.environ, "LABAPP_RUNS_DIR": str(runs_dir), data.ENV_VAR: str(registered.folder)}
    process = subprocess.Popen(_command(registered, "run", "dataset-dataloader", "--num-workers", "2",
                                        "--epochs", "100000"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
                               start_new_session=True)  # its own process group, as a terminal's job
    try:
        assert process.stdout.readline().startswith("dataset-dataloader: 100000 epochs")
        for _ in range(2):
            assert "batches 24" in process.stdout.readline()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the signal goes to the whole group
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "stopped at epoch" in out
    [run] = list((runs_dir / "dataset-dataloader").iterdir())
    assert json.loads((run / "summary.json").read_text())["status"] == "stopped"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert sum(1 for row in rows if row["kind"] == "metric" and row["step"] is None) >= 2
    with pytest.raises(ProcessLookupError):  # no worker process outlived the run
        os.killpg(process.pid, 0)


SPAWNED = """\
import multiprocessing, sys
import lessons
from labapp.runner import Run

def main():
    lesson = lessons.get("dataset-dataloader")
    run = Run(lesson, lesson.resolve({"num_workers": "1", "epochs": "2"}), data_dir=sys.argv[1])
    run.start()
    run.join()
    print(run.summary.status, run.summary.message)

if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")  # as on Windows and macOS: the dataset travels pickled
    main()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="spawn is the default there")
def test_workers_that_are_spawned_can_unpickle_the_dataset(registered, tmp_path):
    script = tmp_path / "spawned.py"
    if registered.real:
        script.write_text(SPAWNED)
    else:
        script.write_text(SPAWNED.replace("import lessons\n", "import lessons\n"
                                          + stand_in_code("DIABETES", registered.changes)))
    result = subprocess.run([sys.executable, str(script), str(registered.folder)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "finished finished 2 epochs", result.stderr

"""Snapshots of every lesson's finished state at 80x24, and at 160x48 for the lessons with three or more charts.

Each run is short (a few epochs) and seeded; what changes from run to run is frozen: the clock of
the status line, the message naming the run's folder, and the runs panel's start times and paths.
The lessons that read course data read small generated stand-ins (the tests' own tiny MNIST,
diabetes and names files), so the snapshots need no download and come out the same everywhere.
After a deliberate change of the layout: pytest tests/test_snapshots.py --snapshot-update, then look
at the SVGs in tests/__snapshots__ before committing them.
"""

import re
from dataclasses import replace
from pathlib import Path

import pytest

import lessons
from labapp import data, threads
from labapp.app import LabApp
from labapp.widgets import status
from lessons import _data
from tests.data_fixtures import checksum_of, stand_in
from tests.mnist_fixtures import write_mnist
from tests.test_app import press_run, set_field, until
from tests.test_lessons_data import make_diabetes
from tests.test_lessons_mnist import TEST, TRAIN, tiny_digits
from tests.test_lessons_rnn import write_names

SHORT = {  # the form's values for a short run of each lesson
    "dataset-dataloader": {"epochs": "3"},
    "softmax-mnist": {"epochs": "2"}, "cnn-basics": {"epochs": "2"}, "sequential": {"epochs": "2"},
    "cnn-advanced": {"epochs": "2"},
    "rnn-classifier": {"epochs": "2", "hidden_size": "16", "n_layers": "1", "batch_size": "32"},
    "linear-regression": {"epochs": "100"}, "logistic-regression": {"epochs": "100"},
}


def finished_run(lesson_id: str):
    """A run_before for snap_compare: a short run of `lesson_id`, then what varies frozen."""
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.bench.torch_ready, timeout=60)
        for name, text in SHORT.get(lesson_id, {}).items():
            await set_field(pilot, name, text)
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get(lesson_id), timeout=240)
        assert app.bench.latest().status == "finished", app.bench.latest().message
        latest = app.bench.latest()
        latest.views = {name: frozen_times(value) for name, value in latest.views.items()}
        app.bench.history[lesson_id] = [replace(run, path=Path("/runs", lesson_id, "20260101-090000-c0ffee"),
                                                started="2026-01-01T09:00:00") for run in app.bench.past_runs()]
        app.message = ""  # it names the run's folder, which has the time in it
        app.tick(charts=True)
        await pilot.pause(0.5)
    return run_before


def frozen_times(value):
    """A view's value with its durations ('0.06 s', a data set's loading time) frozen."""
    if isinstance(value, dict):
        return {key: frozen_times(item) for key, item in value.items()}
    if isinstance(value, str) and re.fullmatch(r"[0-9.]+ s", value):
        return "0.00 s"
    return value


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory) -> Path:
    """One data folder with a tiny MNIST and generated diabetes and names files."""
    folder = tmp_path_factory.mktemp("data")
    write_mnist(folder, {"train": tiny_digits(TRAIN, 1), "t10k": tiny_digits(TEST, 2)})
    make_diabetes(folder / "diabetes.csv.gz")
    write_names(folder / "names_train.csv.gz", 600, seed=1)
    write_names(folder / "names_test.csv.gz", 200, seed=2)
    return folder


@pytest.fixture(autouse=True)
def frozen(monkeypatch, stand_ins):
    """Elapsed times never reach a snapshot; the lessons read the stand-ins, registered under their checksums;
    every machine trains on one thread, as this 2-core one does (sums over more threads differ in the last bits,
    and a chart drawn from them by a pixel)."""
    monkeypatch.setattr(status, "clock", lambda seconds: "0:00")
    monkeypatch.setattr(threads, "read_machine", lambda: threads.Machine(cpus=frozenset({0, 1})))
    monkeypatch.setenv(data.ENV_VAR, str(stand_ins))
    for dataset in (_data.DIABETES, _data.NAMES_TRAIN, _data.NAMES_TEST):
        stand_in(monkeypatch, dataset, **checksum_of(stand_ins / dataset.filename))


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_finished_at_80x24(snap_compare, lesson):
    assert snap_compare(LabApp(lesson_id=lesson.id, lang="en"), terminal_size=(80, 24), run_before=finished_run(lesson.id))


@pytest.mark.parametrize("lesson", [lesson for lesson in lessons.LESSONS if len(lesson.charts) >= 3],
                         ids=lambda lesson: lesson.id)
def test_finished_at_160x48(snap_compare, lesson):
    assert snap_compare(LabApp(lesson_id=lesson.id, lang="en"), terminal_size=(160, 48), run_before=finished_run(lesson.id))

"""Snapshots of every lesson's finished state at 80x24, and at 160x48 for the lessons with three or more charts.

Each run is short (a few epochs) and seeded; what changes from run to run is frozen: the clock of
the status line, the message naming the run's folder, and the runs panel's start times and paths.
MNIST lessons read $LABAPP_DATA_DIR (skipped without it), as do the diabetes and names lessons.
After a deliberate change of the layout: pytest tests/test_snapshots.py --snapshot-update, then look
at the SVGs in tests/__snapshots__ before committing them.
"""

import os
from dataclasses import replace
from pathlib import Path

import pytest

import lessons
from labapp import data
from labapp.app import LabApp
from labapp.widgets import status
from tests.conftest import SHARED_DATA
from tests.test_app import press_run, set_field, until

SHORT = {  # the form's values for a short run of each lesson
    "dataset-dataloader": {"epochs": "3"},
    "softmax-mnist": {"epochs": "1"}, "cnn-basics": {"epochs": "1"}, "sequential": {"epochs": "1"},
    "cnn-advanced": {"epochs": "1"},
    "rnn-classifier": {"epochs": "1", "hidden_size": "16", "n_layers": "1", "batch_size": "256"},
    "linear-regression": {"epochs": "100"}, "logistic-regression": {"epochs": "100"},
}
DATA = os.environ.get(data.ENV_VAR) or (str(SHARED_DATA) if SHARED_DATA.is_dir() else "")


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
        app.bench.history[lesson_id] = [replace(run, path=Path("/runs", lesson_id, "20260101-090000-c0ffee"),
                                                started="2026-01-01T09:00:00") for run in app.bench.past_runs()]
        app.message = ""  # it names the run's folder, which has the time in it
        app.tick(charts=True)
        await pilot.pause(0.5)
    return run_before


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """Elapsed times never reach a snapshot; neither does the data folder's path."""
    monkeypatch.setattr(status, "clock", lambda seconds: "0:00")
    if DATA:
        monkeypatch.setenv(data.ENV_VAR, DATA)


def needs_data(lesson) -> bool:
    return bool(lesson.datasets(lesson.defaults()))


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_finished_at_80x24(snap_compare, lesson):
    if needs_data(lesson) and not DATA:
        pytest.skip("course data not found: set LABAPP_DATA_DIR")
    assert snap_compare(LabApp(lesson_id=lesson.id, lang="en"), terminal_size=(80, 24), run_before=finished_run(lesson.id))


@pytest.mark.parametrize("lesson", [lesson for lesson in lessons.LESSONS if len(lesson.charts) >= 3],
                         ids=lambda lesson: lesson.id)
def test_finished_at_160x48(snap_compare, lesson):
    if needs_data(lesson) and not DATA:
        pytest.skip("course data not found: set LABAPP_DATA_DIR")
    assert snap_compare(LabApp(lesson_id=lesson.id, lang="en"), terminal_size=(160, 48), run_before=finished_run(lesson.id))

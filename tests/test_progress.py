"""RunStatus, RunProgress (in-epoch progress, elapsed and ETA from a clock), the last-values rule, divergence as data."""

from __future__ import annotations

import json

import pytest

import lessons
from labapp.lesson import Metric
from labapp.progress import RunProgress, RunStatus, headline_values, last_values, status_of
from labapp.records import RunRecorder, list_runs, read_metrics
from labapp.runner import DIVERGED, Run, run_lesson


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_status_is_a_string_that_old_comparisons_still_match():
    assert RunStatus.DIVERGED == "diverged" and "finished" == RunStatus.FINISHED
    assert f"{RunStatus.STOPPED}" == "stopped" and json.dumps({"s": RunStatus.FAILED}) == '{"s": "failed"}'
    assert status_of("interrupted") is RunStatus.INTERRUPTED and status_of("?") is None
    assert RunStatus.RUNNING.ended is False and RunStatus.DIVERGED.ended is True


def test_elapsed_rate_and_eta_move_inside_an_epoch():
    clock = FakeClock()
    progress = RunProgress(total=3, clock=clock, headline=("test", "accuracy"))
    assert progress.elapsed() == 0 and progress.eta() is None  # not started
    progress.start()
    clock.now += 10
    progress.set_batch(25, 100)  # a quarter of epoch 1 in 10 s: 40 s an epoch
    assert progress.elapsed() == 10 and progress.done() == 0.25
    assert progress.rate() == pytest.approx(0.025) and progress.eta() == pytest.approx(110)
    clock.now += 10  # no record, no batch: the time still moves, the ETA shrinks
    assert progress.elapsed() == 20 and progress.eta() == pytest.approx(220)  # 0.25 epochs in 20 s: slower
    progress.set_batch(100, 100)
    progress.add(Metric(epoch=1, values={"loss": 0.5}))
    progress.add(Metric(epoch=1, values={"accuracy": 0.9}, split="test"))
    assert progress.epoch == 1 and progress.batch is None and progress.done() == 1
    assert progress.fraction() == pytest.approx(1 / 3) and progress.eta() == pytest.approx(40)
    assert progress.headline_value() == ("accuracy", 0.9)
    clock.now += 5
    progress.finish("stopped")
    clock.now += 100  # after the end, time stands still
    assert progress.status is RunStatus.STOPPED and progress.elapsed() == 25 and progress.eta() is None


def test_per_step_records_count_as_reached_not_as_epochs_done():
    progress = RunProgress(total=2, clock=FakeClock())
    progress.add(Metric(epoch=1, step=300, values={"loss": 2.0}))
    assert progress.reached == 1 and progress.epoch == 0


def test_last_values_epoch_level_wins_over_per_step():
    metrics = [Metric(epoch=1, step=1, values={"loss": 3.0}),
               Metric(epoch=1, step=2, values={"loss": 2.0}),  # no epoch ended yet: the latest step counts
               Metric(epoch=1, values={"loss": 2.5, "seconds": 1.0}),
               Metric(epoch=2, step=3, values={"loss": 0.1}),  # after an epoch ended: only epochs count
               Metric(epoch=1, values={"accuracy": 0.8}, split="test")]
    assert last_values(metrics[:2]) == {"train": {"loss": 2.0}}
    assert last_values(metrics) == {"train": {"loss": 2.5, "seconds": 1.0}, "test": {"accuracy": 0.8}}


def test_headline_values_put_the_headline_first():
    final = {"train": {"loss": 0.3, "seconds": 2.0}, "test": {"loss": 0.4, "accuracy": 0.91}}
    assert headline_values(final, ("test", "accuracy")) == [("accuracy", 0.91), ("loss", 0.4)]
    assert headline_values(final, ("train", "seconds"), limit=1) == [("seconds", 2.0)]
    assert headline_values({"train": {"cost": 1.0}}, None) == [("cost", 1.0)]
    assert headline_values({}, ("test", "accuracy")) == []


def test_divergence_epoch_is_data_in_the_summary(tmp_path):
    lesson = lessons.get("gradient-descent")
    recorder = RunRecorder(tmp_path)
    run = Run(lesson, lesson.resolve({"lr": "10"}), device="cpu", sinks=[recorder])
    summary = run.run()
    assert summary.status == DIVERGED == "diverged"
    # the cost grows about 8,500 times an epoch: 79 epochs recorded, epoch 80 overflows a float
    assert summary.epochs_done == 79 and summary.diverged_at == 80
    assert run.progress.diverged_at == 80 and run.progress.status is RunStatus.DIVERGED
    assert json.loads((recorder.path / "summary.json").read_text())["diverged_at"] == 80
    past = list_runs(tmp_path)[0]
    assert past.status == "diverged" and past.epochs_done == 79
    # the same progress, read back from disk: 79 epochs of 100, the last cost not finite
    again = RunProgress.from_rows(read_metrics(recorder.path), total=100, status=past.status, diverged_at=80)
    assert again.epoch == 79 and again.fraction() == 0.79 and again.latest["train"]["cost"] > 1e300


def test_runner_and_disk_agree_on_final_values(tmp_path):
    lesson = lessons.get("backprop")
    summary = run_lesson(lesson, lesson.resolve({"epochs": "3"}), [RunRecorder(tmp_path)], device="cpu")
    past = list_runs(tmp_path)[0]
    assert summary.final == past.final and summary.final["train"]["loss"] > 0


def test_progress_traces_and_plotting_import_neither_textual_nor_torch():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, labapp.progress, labapp.plotting, labapp.traces, labapp.report\n"
            "bad = [m for m in ('torch', 'textual') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)

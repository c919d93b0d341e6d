"""issue 16.2: checkpoints at the end of each epoch, and `labapp run LESSON --resume RUN_FOLDER [--epochs N]`.

torch is the oracle: a run stopped after epoch 2 and resumed to epoch 4 must report exactly the numbers of
a run that trained 4 epochs straight with the same seed (on the cpu, to the last bit). The MNIST lessons
train on the tiny MNIST of tests/test_lessons_mnist.py, rnn-classifier on the generated names of
tests/test_lessons_rnn.py; cnn-basics on the real MNIST is checked by hand (README, the report).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import lessons
from labapp import cli, data
from labapp.checkpoints import BEST, LAST, read_checkpoint
from labapp.lesson import ParamError
from labapp.records import SUPERSEDED, RunRecorder, cut_metrics, kept_rows, read_metrics, read_run
from labapp.runner import FINISHED, Run
from tests.test_lessons_mnist import tiny  # noqa: F401 - the fixture
from tests.test_lessons_rnn import SMALL, _command, names, names_folder  # noqa: F401 - fixtures

DEADLINE = 240  # seconds a subprocess gets on a loaded machine


def epoch_values(folder: Path) -> list[tuple[int, str, dict]]:
    """Every epoch-level metric of a run, without its wall-clock seconds: what must match to the bit."""
    rows = [row for row in read_metrics(folder) if row.get("kind") == "metric" and row.get("step") is None]
    return [(row["epoch"], row["split"], {k: v for k, v in row.items()
                                          if k not in ("kind", "epoch", "step", "split", "t", "seconds")})
            for row in rows]


def only_run(runs_dir: Path, lesson: str, but: tuple[Path, ...] = ()) -> Path:
    [folder] = [path for path in (runs_dir / lesson).iterdir() if path.is_dir() and path not in but]
    return folder


def run_cli(*args: str) -> int:
    return cli.main(list(args))


# -- the numbers: straight 4 == 2 + resume 2 -------------------------------------------------------------

@pytest.mark.parametrize("lesson_id", ["cnn-basics", "softmax-mnist"])
def test_two_epochs_then_resume_to_four_equal_four_straight(tiny, runs_dir, monkeypatch, capsys, lesson_id):  # noqa: F811
    monkeypatch.setenv(data.ENV_VAR, str(tiny))
    flags = ("--epochs", "2", "--lr", "0.1", "--threads", "1", "--quiet")
    assert run_cli("run", lesson_id, *flags) == 0
    first = only_run(runs_dir, lesson_id)
    assert read_checkpoint(first / LAST)["epoch"] == 2 and (first / BEST).is_file()
    assert run_cli("run", lesson_id, "--resume", str(first), "--epochs", "4", "--threads", "1", "--quiet") == 0
    assert run_cli("run", lesson_id, "--epochs", "4", "--lr", "0.1", "--threads", "1", "--quiet") == 0
    straight = only_run(runs_dir, lesson_id, but=(first,))
    resumed = epoch_values(first)
    assert [(epoch, split) for epoch, split, _ in resumed] == [(e, s) for e in (1, 2, 3, 4) for s in ("train", "test")]
    assert resumed == epoch_values(straight)  # every loss and accuracy, to the last bit
    summary = json.loads((first / "summary.json").read_text())
    assert summary["status"] == FINISHED and summary["epochs_done"] == 4 and summary["message"] == "finished 4 epochs"
    config = json.loads((first / "config.json").read_text())
    assert config["params"]["epochs"] == 4 and config["total"] == 4 and config["params"]["lr"] == 0.1
    assert [entry["from_epoch"] for entry in config["resumed"]] == [2]
    times = [row["t"] for row in read_metrics(first)]
    assert times == sorted(times)  # the resumed records' times go on from the first part's
    assert "resumed from the checkpoint of epoch 2, to epoch 4" in (first / "run.log").read_text()
    assert read_checkpoint(first / LAST)["epoch"] == 4


def test_rnn_classifier_resumes_its_own_shuffling_generator(names, runs_dir):  # noqa: F811
    lesson = lessons.get("rnn-classifier")
    values = lesson.resolve({**SMALL, "epochs": "2"})
    recorder = RunRecorder(runs_dir)
    assert Run(lesson, values, device="cpu", threads=1, data_dir=str(names), sinks=[recorder]).run().status == FINISHED
    from labapp.checkpoints import plan_resume

    plan = plan_resume(recorder.path, lesson, "4")
    again = Run(lesson, None, device="cpu", threads=1, data_dir=str(names), sinks=[RunRecorder(runs_dir)], resume=plan)
    assert again.run().status == FINISHED
    straight = RunRecorder(runs_dir)
    Run(lesson, lesson.resolve({**SMALL, "epochs": "4"}), device="cpu", threads=1, data_dir=str(names),
        sinks=[straight]).run()
    assert epoch_values(recorder.path) == epoch_values(straight.path)
    steps = [row["step"] for row in read_metrics(recorder.path) if row.get("step") is not None]
    assert steps == list(range(1, len(steps) + 1))  # the batch count goes on where it stopped


@pytest.mark.parametrize("lesson_id, texts", [("logistic-regression", {"epochs": "6"}),
                                               ("linear-regression", {"epochs": "6", "compare": "SGD,Adam,LBFGS"}),
                                               ("rnn-basics", {"epochs": "6", "variant": "embedding"})])
def test_lessons_with_checkpoints_off_by_default_resume_when_asked(runs_dir, lesson_id, texts):
    from labapp.checkpoints import plan_resume

    lesson = lessons.get(lesson_id)
    assert lesson.checkpoints is False
    off = RunRecorder(runs_dir)
    Run(lesson, lesson.resolve({**texts, "epochs": "1"}), device="cpu", sinks=[off]).run()
    assert not (off.path / LAST).exists()  # off unless asked
    first = RunRecorder(runs_dir)
    Run(lesson, lesson.resolve({**texts, "epochs": "3"}), device="cpu", sinks=[first], checkpoints=True).run()
    resumed = Run(lesson, None, device="cpu", sinks=[RunRecorder(runs_dir)], resume=plan_resume(first.path, lesson, "6"))
    assert resumed.run().status == FINISHED
    straight = RunRecorder(runs_dir)
    Run(lesson, lesson.resolve(texts), device="cpu", sinks=[straight]).run()
    assert epoch_values(first.path) == epoch_values(straight.path)
    views = [row for row in read_metrics(first.path) if row["kind"] == "view"]
    last = {row["view"]: row["value"] for row in views}
    assert last == {row["view"]: row["value"] for row in read_metrics(straight.path) if row["kind"] == "view"}


# -- a run killed mid-epoch 3 resumes from the end of epoch 2 ------------------------------------------

def _wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the run ended (exit {process.returncode}) before {what}: {process.stderr.read()}")
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE} s"
        time.sleep(0.01)


def _in_epoch_3(folder: Path) -> bool:
    return any(row.get("epoch") == 3 for row in read_metrics(folder))


def test_a_run_killed_mid_epoch_3_resumes_from_the_end_of_epoch_2(names_folder, runs_dir):  # noqa: F811
    # batch_size 4: 151 batches an epoch, each reported, so the kill lands well inside epoch 3
    flags = ["--hidden-size", "16", "--batch-size", "4", "--lr", "0.01", "--threads", "1",
             "--data-dir", str(names_folder), "--quiet"]
    env = {**os.environ, "LABAPP_RUNS_DIR": str(runs_dir)}
    process = subprocess.Popen(_command(names_folder, "run", "rnn-classifier", "--epochs", "3", *flags), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        _wait_for(lambda: (runs_dir / "rnn-classifier").is_dir()
                  and any(path.is_dir() for path in (runs_dir / "rnn-classifier").iterdir()), "run folder", process)
        folder = only_run(runs_dir, "rnn-classifier")
        _wait_for(lambda: _in_epoch_3(folder), "record of epoch 3", process)
        process.send_signal(signal.SIGSTOP)  # frozen at once, then killed: the kill lands where we looked
        process.send_signal(signal.SIGKILL)
        process.wait(DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    epoch_3 = [row for row in read_metrics(folder) if row.get("epoch") == 3]
    assert epoch_3 and all(row.get("step") is not None for row in epoch_3), "killed mid-epoch 3: no epoch-3 end"
    assert read_checkpoint(folder / LAST)["epoch"] == 2
    past = read_run(folder)
    assert past.status == "interrupted" and past.message == "no summary: the process ended during epoch 3"

    resumed = subprocess.run(_command(names_folder, "run", "rnn-classifier", "--resume", str(folder), *flags),
                             env=env, capture_output=True, text=True, timeout=DEADLINE, cwd=Path(__file__).parent.parent)
    assert resumed.returncode == 0, resumed.stderr
    log = (folder / "run.log").read_text()
    assert f"resumed from the checkpoint of epoch 2, to epoch 3; {len(epoch_3)} record(s) after it set aside" in log
    superseded = [json.loads(line) for line in (folder / SUPERSEDED).read_text().splitlines()]
    assert [row["epoch"] for row in superseded] == [3] * len(epoch_3)  # the cut-short epoch, kept aside
    assert read_run(folder).status == FINISHED

    straight = subprocess.run(_command(names_folder, "run", "rnn-classifier", "--epochs", "3", *flags),
                              env=env, capture_output=True, text=True, timeout=DEADLINE, cwd=Path(__file__).parent.parent)
    assert straight.returncode == 0, straight.stderr
    other = only_run(runs_dir, "rnn-classifier", but=(folder,))
    assert epoch_values(folder) == epoch_values(other)


# -- the records stay truthful ----------------------------------------------------------------------------

def _row(epoch: int, step: int | None = None, split: str = "train") -> str:
    return json.dumps({"kind": "metric", "epoch": epoch, "step": step, "split": split, "t": 0.1 * epoch, "loss": 1.0})


def test_the_cut_keeps_epochs_up_to_the_checkpoint_and_sets_the_rest_aside(tmp_path):
    lines = [_row(1, 1), _row(1), json.dumps({"kind": "view", "view": "digits", "t": 0.1, "value": "x"}),
             _row(2), _row(3, 7), _row(3, 8)]
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n" + '{"kind": "metric", "ep')  # torn by a kill
    assert [row.get("epoch") for row in kept_rows(tmp_path, 2)] == [1, 1, None, 2]
    assert cut_metrics(tmp_path, 2) == 3
    assert (tmp_path / "metrics.jsonl").read_text() == "\n".join(lines[:4]) + "\n"
    assert (tmp_path / SUPERSEDED).read_text() == "\n".join(lines[4:]) + '\n{"kind": "metric", "ep\n'
    (tmp_path / "metrics.jsonl").write_text(_row(1) + "\n" + '{"torn')
    assert cut_metrics(tmp_path, 5) == 1  # only the torn line: the next record must start on a line of its own
    assert (tmp_path / "metrics.jsonl").read_text() == _row(1) + "\n"


def test_a_resumed_run_lists_as_running_at_once_and_its_old_summary_is_gone(tiny, runs_dir, monkeypatch):  # noqa: F811
    """Killed after reopening, it must list as interrupted (its pid is dead), never as the old 'stopped'."""
    monkeypatch.setenv(data.ENV_VAR, str(tiny))
    assert run_cli("run", "softmax-mnist", "--epochs", "1", "--lr", "0.1", "--quiet") == 0
    folder = only_run(runs_dir, "softmax-mnist")
    from labapp.checkpoints import plan_resume

    lesson = lessons.get("softmax-mnist")
    run = Run(lesson, None, device="cpu", sinks=[RunRecorder(runs_dir)], resume=plan_resume(folder, lesson, "3"))
    run.sinks[0].start(run.prepare())  # the recorder reopens the folder; no training yet
    assert not (folder / "summary.json").exists()
    past = read_run(folder)
    assert past.status == "running" and past.epochs_done == 1  # this live process trains it now
    config = json.loads((folder / "config.json").read_text())
    config["pid"] = 2**22 + 12345  # as if that process had been killed: no such process
    config.pop("pid_started", None)
    (folder / "config.json").write_text(json.dumps(config))
    assert read_run(folder).status == "interrupted"


# -- bad input: one line naming the flag, the folder and what is allowed ---------------------------------

def _refused(capsys, *args: str) -> str:
    assert run_cli("run", *args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_resume_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    err = _refused(capsys, "cnn-basics", "--resume", str(tmp_path / "nowhere"))
    assert err.startswith("--resume: ") and "nowhere" in err and "is not a folder: give the folder of a run" in err
    err = _refused(capsys, "cnn-basics", "--resume", str(tmp_path))
    assert str(tmp_path) in err and "is not a run folder (it has no config.json)" in err


def test_resume_of_another_lessons_run(tmp_path, capsys):
    folder = tmp_path / "runs" / "rnn-classifier" / "20260101-120000-abcdef"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"lesson": "rnn-classifier", "pid": 0}))
    err = _refused(capsys, "cnn-basics", "--resume", str(folder))
    assert ("is a run of 'rnn-classifier', not of cnn-basics: resume it with `labapp run rnn-classifier --resume ...`"
            in err) and str(folder) in err


def test_resume_of_a_run_without_checkpoint(tiny, runs_dir, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv(data.ENV_VAR, str(tiny))
    assert run_cli("run", "softmax-mnist", "--epochs", "1", "--checkpoints", "off", "--quiet") == 0
    folder = only_run(runs_dir, "softmax-mnist")
    assert not (folder / LAST).exists()
    capsys.readouterr()
    err = _refused(capsys, "softmax-mnist", "--resume", str(folder), "--epochs", "3")
    assert f"has no checkpoint ({LAST}): only a run that saved one can be resumed" in err and str(folder) in err
    err = _refused(capsys, "gradient-descent", "--resume", str(folder))
    assert err.startswith("--resume: gradient-descent keeps no checkpoints, so its runs cannot be resumed")


def test_resume_of_a_finished_run_needs_more_epochs(tiny, runs_dir, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv(data.ENV_VAR, str(tiny))
    assert run_cli("run", "softmax-mnist", "--epochs", "2", "--quiet") == 0
    folder = only_run(runs_dir, "softmax-mnist")
    capsys.readouterr()
    for more in ([], ["--epochs", "2"], ["--epochs", "1"]):
        err = _refused(capsys, "softmax-mnist", "--resume", str(folder), *more)
        assert err.startswith(f"--resume: '{folder}' has done 2 epochs (its checkpoint)")
        assert err.rstrip().endswith("give --epochs larger than 2 to train on")
    err = _refused(capsys, "softmax-mnist", "--resume", str(folder), "--epochs", "0")
    assert err.startswith("epochs: '0' is out of range")
    err = _refused(capsys, "softmax-mnist", "--resume", str(folder), "--epochs", "4", "--lr", "0.5", "--seed", "3")
    assert err.startswith("--resume: continues a run with its own values and seed: only --epochs")
    assert err.rstrip().endswith("not --lr 0.5 (the run's is 0.01), --seed 3 (the run's is 0)")
    err = _refused(capsys, "softmax-mnist", "--resume", str(folder), "--epochs", "4", "--out", str(runs_dir))
    assert err.startswith("--resume: continues a run in its own folder, with its checkpoints") and "not --out" in err
    assert json.loads((folder / "summary.json").read_text())["status"] == FINISHED  # refused: the run untouched


def test_checkpoints_flag_is_a_switch(capsys):
    err = _refused(capsys, "cnn-basics", "--checkpoints", "maybe")
    assert err.startswith("--checkpoints: 'maybe' is not a switch value")
    err = _refused(capsys, "gradient-descent", "--checkpoints", "on")
    assert "--checkpoints: gradient-descent trains no model to checkpoint" in err


# -- the workbench: resume a stopped run, export the open run --------------------------------------------

class StopAfter:
    """A sink that asks its run to stop once the test accuracy of epoch `epoch` is in."""

    def __init__(self, epoch: int) -> None:
        self.epoch, self.run = epoch, None

    def start(self, info) -> None:
        pass

    def record(self, record, elapsed) -> None:
        if getattr(record, "split", None) == "test" and record.epoch == self.epoch:
            self.run.request_stop()

    def finish(self, summary) -> None:
        pass


def _stopped_run(lesson_id: str, runs_dir: Path, epochs: int, stop_after: int) -> Path:
    lesson = lessons.get(lesson_id)
    stopper, recorder = StopAfter(stop_after), RunRecorder(runs_dir)
    run = Run(lesson, lesson.resolve({"epochs": str(epochs), "lr": "0.1"}), device="cpu", threads=1,
              sinks=[recorder, stopper])
    stopper.run = run
    summary = run.run()
    assert summary.status == "stopped" and summary.message == f"stopped at epoch {stop_after}", summary.message
    return recorder.path


def test_the_workbench_resumes_a_stopped_run_to_the_numbers_of_a_straight_run(tiny, runs_dir, monkeypatch):  # noqa: F811
    from labapp.controller import Workbench

    monkeypatch.setenv(data.ENV_VAR, str(tiny))
    folder = _stopped_run("softmax-mnist", runs_dir, epochs=4, stop_after=2)
    bench = Workbench(lessons.LESSONS, "en", runs_root=lambda: runs_dir, torch_ready=True)
    bench.open("softmax-mnist")
    [past] = bench.past_runs()
    trace = bench.resume(past)
    assert trace.run_dir == str(folder) and [m.epoch for m in trace.points if m.split == "test"] == [1, 2]
    assert bench.run.join(DEADLINE) and bench.poll().trace is trace
    assert trace.status == FINISHED and trace.epoch == 4
    assert [m.epoch for m in trace.points if m.split == "test"] == [1, 2, 3, 4]  # one curve, drawn on from epoch 2
    lesson = lessons.get("softmax-mnist")
    straight = RunRecorder(runs_dir)
    Run(lesson, lesson.resolve({"epochs": "4", "lr": "0.1"}), device="cpu", threads=1, sinks=[straight]).run()
    assert epoch_values(folder) == epoch_values(straight.path)
    assert read_run(folder).status == FINISHED

    bench.history.clear()
    finished = next(run for run in bench.past_runs() if run.path == folder)
    with pytest.raises(ParamError, match="this run is finished: only a stopped or interrupted run can be resumed"):
        bench.resume(finished)


def test_the_workbench_says_why_it_cannot_resume(tiny, runs_dir, monkeypatch):  # noqa: F811
    from labapp.controller import Workbench

    bench = Workbench(lessons.LESSONS, "zh", runs_root=lambda: runs_dir, torch_ready=False)
    bench.open("softmax-mnist")
    with pytest.raises(ParamError, match="这一课还没有可以继续的运行"):
        bench.resume(None)
    monkeypatch.setenv(data.ENV_VAR, str(tiny))
    folder = _stopped_run("softmax-mnist", runs_dir, epochs=3, stop_after=1)
    [past] = bench.past_runs()
    with pytest.raises(ParamError, match="torch 还在加载"):
        bench.resume(past)
    (folder / LAST).unlink()
    with pytest.raises(ParamError, match="这次运行没有留下检查点，不能继续"):
        bench.resume(past)


def test_the_export_key_writes_csv_and_svg_into_the_run_folder_and_says_where(tiny, runs_dir, monkeypatch):  # noqa: F811
    import csv

    from labapp.actions import BY_NAME
    from labapp.controller import Workbench

    assert BY_NAME["export"].keys == "e" and BY_NAME["export"].action == "screen.export_run"
    monkeypatch.setenv(data.ENV_VAR, str(tiny))
    folder = _stopped_run("softmax-mnist", runs_dir, epochs=3, stop_after=1)
    bench = Workbench(lessons.LESSONS, "zh", runs_root=lambda: runs_dir)
    bench.open("softmax-mnist")
    assert bench.export(None) == "还没有运行可以导出：先运行这一课（r）"
    [past] = bench.past_runs()
    assert bench.export(past) == f"已导出 metrics.csv 和 charts.svg，在 {folder}"
    bench.lang = "en"
    assert bench.export(past) == f"exported metrics.csv and charts.svg to {folder}"
    with open(folder / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len([row for row in read_metrics(folder) if row["kind"] == "metric"])
    assert (folder / "charts.svg").read_text().startswith("<svg")


async def test_the_keys_e_and_c_in_the_runs_panel(runs_dir):
    """e exports the highlighted run into its folder and says where; c says why a finished run does not resume."""
    from labapp.app import LabApp
    from tests.test_app_workbench import CATALOGUE, finished
    from tests.test_app import set_field

    app = LabApp(lesson_id="counter", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await set_field(pilot, "epochs", "3")
        await finished(pilot, CATALOGUE[0])
        [folder] = (runs_dir / "counter").iterdir()
        await pilot.press("6")  # counter: one chart, results, runs
        await pilot.pause(0.3)
        await pilot.press("e")
        assert app.message == f"exported metrics.csv and charts.svg to {folder}"
        assert (folder / "metrics.csv").read_text().splitlines()[0] == "epoch,step,split,t,loss"
        assert (folder / "charts.svg").read_text().startswith("<svg")
        await pilot.press("c")  # the workbench's words, not the CLI's flags
        assert app.message.startswith("counter keeps no checkpoints, so its runs cannot be resumed; lessons that can: ")
        await pilot.press("z")
        await pilot.pause(0.3)
        await pilot.press("e")
        assert app.message == f"已导出 metrics.csv 和 charts.svg，在 {folder}"

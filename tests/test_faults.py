"""Faults during training and broken files: each run ends with the right status, says why, and keeps its records.

A lesson that raises mid-epoch, one that runs out of memory on a (simulated) GPU, every lesson with a
learning rate at its largest, sinks that fail, an unwritable runs folder, torn and garbage run
files, a truncated dataset. After each, the runner, the CLI and the workbench take the next run.
"""

from __future__ import annotations

import json
import threading
import os
import platform
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lessons
from labapp import cli, runner
from labapp.lesson import ChoiceParam, FloatParam, IntParam, Lesson, Metric, Text
from labapp.records import RunRecorder, list_runs, read_run
from labapp.runner import DIVERGED, FAILED, FINISHED, STOPPED, Run, run_lesson
from tests.conftest import COUNTER, SHARED_DATA, labapp

FAULTS = ("none", "raise", "oom", "memory")


def _faulty(hp, run):
    """Epochs of `batches` steps; at `at_epoch`, half-way through them, the chosen fault happens."""
    loss = 1.0
    for epoch in range(1, hp.epochs + 1):
        for step in range(1, hp.batches + 1):
            if epoch == hp.at_epoch and step == hp.batches // 2 + 1:
                if hp.fault == "raise":
                    raise ValueError(f"bad batch at epoch {epoch}, step {step}")
                if hp.fault == "oom":
                    import torch

                    raise torch.OutOfMemoryError(
                        "CUDA out of memory. Tried to allocate 20.00 GiB. GPU 0 has a total capacity of 79.19 GiB "
                        "of which 1.25 GiB is free. Including non-PyTorch memory, this process has 77.9 GiB in use.")
                if hp.fault == "memory":
                    raise MemoryError()
            loss *= 0.9
            yield Metric(epoch=epoch, step=step, values={"loss": loss})
            if run.should_stop:
                return
            if hp.sleep:
                time.sleep(hp.sleep)
        yield Metric(epoch=epoch, values={"loss": loss})


FAULTY = Lesson(
    id="faulty",
    number=97,
    title=Text("故障", "Faulty"),
    explanation=Text("测试用。", "For tests."),
    params=(
        ChoiceParam(name="fault", default="none", choices=FAULTS, help=Text("故障", "the fault")),
        IntParam(name="at_epoch", default=2, min=1, help=Text("在此轮", "at this epoch")),
        IntParam(name="epochs", default=3, min=1, max=100_000, help=Text("轮数", "epochs")),
        IntParam(name="batches", default=4, min=1, help=Text("每轮批数", "batches per epoch")),
        IntParam(name="batch_size", default=64, min=1, help=Text("批大小", "batch size")),
        FloatParam(name="sleep", default=0.0, min=0, max=1, help=Text("每步暂停", "pause per step")),
    ),
    train=_faulty,
)


def strict_rows(path: Path) -> list[dict]:
    """Every line of metrics.jsonl as strict JSON (no NaN or Infinity)."""
    def refuse(constant):
        raise ValueError(f"non-strict JSON constant {constant}")

    return [json.loads(line, parse_constant=refuse) for line in (path / "metrics.jsonl").read_text().splitlines()]


def summary_of(path: Path) -> dict:
    return json.loads((path / "summary.json").read_text())


@pytest.fixture
def fake_gpu(monkeypatch):
    """Runs asked for 'cuda' get cuda:0, a device that this machine may lack (the lesson never touches it)."""
    import torch

    real = runner.resolve_device
    monkeypatch.setattr(runner, "resolve_device", lambda name: torch.device("cuda", 0) if name == "cuda" else real(name))
    monkeypatch.setattr(runner, "_device_name", lambda device: "Simulated GPU" if str(device).startswith("cuda")
                        else "CPU")


# -- faults in the lesson -------------------------------------------------------------------------

def test_a_lesson_that_raises_mid_epoch_fails_keeps_its_records_and_the_next_run_works(runs_dir):
    recorder = RunRecorder(runs_dir)
    summary = run_lesson(FAULTY, FAULTY.resolve({"fault": "raise"}), [recorder])
    assert summary.status == FAILED and summary.epochs_done == 2  # the steps of epoch 2 before the fault
    assert summary.message == "failed: ValueError: bad batch at epoch 2, step 3"
    rows = strict_rows(recorder.path)
    assert [(r["epoch"], r["step"]) for r in rows][-3:] == [(1, None), (2, 1), (2, 2)]
    assert summary_of(recorder.path)["status"] == "failed"
    assert "ValueError: bad batch" in (recorder.path / "run.log").read_text()
    assert run_lesson(FAULTY, FAULTY.defaults(), [RunRecorder(runs_dir)]).status == FINISHED


def test_out_of_memory_on_a_gpu_says_so_and_what_to_try(runs_dir, fake_gpu):
    recorder = RunRecorder(runs_dir)
    run = Run(FAULTY, FAULTY.resolve({"fault": "oom"}), device="cuda", sinks=[recorder])
    summary = run.run()
    assert summary.status == FAILED
    assert summary.message.startswith("failed: ran out of memory on cuda:0 (CUDA out of memory. Tried to allocate")
    assert summary.message.endswith("try a smaller batch_size or the cpu (--device cpu)")
    assert "\n" not in summary.message and len(summary.message) < 200
    assert "OutOfMemoryError" in summary.traceback
    assert summary_of(recorder.path)["status"] == "failed" and strict_rows(recorder.path)
    assert json.loads((recorder.path / "config.json").read_text())["device"] == "cuda:0"
    again = Run(FAULTY, FAULTY.defaults(), device="cuda", sinks=[RunRecorder(runs_dir)]).run()
    assert again.status == FINISHED


def test_running_out_of_memory_on_the_cpu_says_so(runs_dir):
    summary = run_lesson(FAULTY, FAULTY.resolve({"fault": "memory"}), [RunRecorder(runs_dir)])
    assert summary.status == FAILED
    assert summary.message == "failed: ran out of memory on cpu (MemoryError): try a smaller batch_size"


@pytest.mark.parametrize("where", ["record", "finish"])
def test_a_sink_that_fails_never_takes_the_run_down(where, runs_dir):
    class Broken:
        def start(self, info):
            pass

        def record(self, record, elapsed):
            if where == "record":
                raise OSError(28, "No space left on device")

        def finish(self, summary):
            raise OSError(28, "No space left on device")

    heard = []

    class Listener(Broken):
        def record(self, record, elapsed):
            pass

        def finish(self, summary):
            heard.append(summary.status)

    recorder = RunRecorder(runs_dir)
    run = Run(FAULTY, FAULTY.defaults(), sinks=[recorder, Broken(), Listener()])
    run.start()
    assert run.join(10), "the run's thread ends"
    assert heard == [run.summary.status] == [FAILED if where == "record" else FINISHED]
    assert summary_of(recorder.path)["status"] == run.summary.status
    assert run.summary.message.endswith("(Broken could not finish: OSError: [Errno 28] No space left on device)")


def lr_lessons() -> list[Lesson]:
    return [lesson for lesson in lessons.LESSONS if any(p.name == "lr" for p in lesson.params)]


CLASSIC_DIVERGERS = ("gradient-descent", "backprop", "linear-regression")


@pytest.mark.parametrize("lesson", lr_lessons(), ids=lambda lesson: lesson.id)
def test_the_largest_learning_rate_ends_as_diverged_or_finished_never_failed(lesson, runs_dir, monkeypatch):
    """At its largest lr a lesson diverges (non-finite values) or saturates; each is said, and recorded."""
    if not os.environ.get("LABAPP_DATA_DIR") and SHARED_DATA.is_dir():
        monkeypatch.setenv("LABAPP_DATA_DIR", str(SHARED_DATA))
    lr = lesson.param("lr")
    texts = {"lr": lr.format(lr.max)}
    if any(p.name == "num_workers" for p in lesson.params):
        texts["num_workers"] = "0"  # worker processes are tested in test_lessons_data
    recorder = RunRecorder(runs_dir)
    run = Run(lesson, lesson.resolve(texts), device="cpu", sinks=[recorder])
    try:
        run.prepare()
    except Exception as error:  # noqa: BLE001 - a dataset this machine lacks
        pytest.skip(f"{lesson.id} cannot start here: {error}")
    run.start()
    if not run.join(1.5):  # long enough for the fast lessons to diverge or finish; slow ones are stopped
        run.request_stop()
        assert run.join(30), "a stop takes effect within a step"
    summary = run.summary
    assert summary.status in (DIVERGED, FINISHED, STOPPED), summary.message
    rows = strict_rows(recorder.path)
    non_finite = any(value is None for row in rows if row["kind"] == "metric"
                     for key, value in row.items() if key not in ("step",))
    if non_finite or lesson.id in CLASSIC_DIVERGERS:
        assert summary.status == DIVERGED and "try a smaller learning rate" in summary.message
    assert summary_of(recorder.path)["status"] == summary.status
    if summary.status == DIVERGED:  # the next run, with the course's lr, is unaffected
        texts["lr"] = lr.format(lr.default) if lr.default is not None else lr.empty
        texts["epochs"] = "2"
        assert run_lesson(lesson, lesson.resolve(texts), device="cpu").status == FINISHED


# -- faults in the workbench ----------------------------------------------------------------------

async def test_the_workbench_reports_a_crash_and_out_of_memory_then_runs_again(runs_dir, fake_gpu):
    from labapp.app import LabApp
    from tests.test_app import open_lesson, press_run, said_text, until

    app = LabApp(lang="en", catalogue=(*lessons.LESSONS, FAULTY))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.bench.torch_ready, timeout=30)
        await open_lesson(pilot, FAULTY.number)
        app.workbench.view.query_one("#device").set_options([("cpu", "cpu"), ("cuda", "cuda")])
        app.workbench.view.query_one("#device").value = "cuda"
        for count, (fault, said) in enumerate((("raise", ["failed: ValueError: bad batch at epoch 2"]),
                                               # what it means first, then torch's own words
                                               ("oom", ["failed: What it means: the device has not enough memory",
                                                        "torch said: ran out of memory on cuda:0"]),
                                               ("none", ["finished 3 epochs"])), 1):
            app.workbench.view.query_one("#param-fault").value = fault
            await pilot.pause()
            await press_run(pilot)
            await until(pilot, lambda: app.bench.active is None and len(app.bench.traces.get("faulty", [])) == count)
            await pilot.pause(0.3)
            assert all(words in said_text(app) for words in said), said_text(app)
        assert [t.status for t in app.bench.traces["faulty"]] == ["failed", "failed", "finished"]
        assert sorted(summary_of(path)["status"] for path in (runs_dir / "faulty").iterdir()) == \
            ["failed", "failed", "finished"]
        assert not [t for t in threading.enumerate() if t.name.startswith("labapp-faulty")]  # no training thread left


async def test_the_workbench_trains_without_records_when_the_runs_folder_cannot_be_written(tmp_path, monkeypatch):
    from labapp.app import LabApp
    from tests.test_app import CATALOGUE, open_lesson, press_run, said_text, until

    blocked = tmp_path / "runs"
    blocked.write_text("a file where the runs folder should be")
    monkeypatch.setenv("LABAPP_RUNS_DIR", str(blocked))
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, COUNTER.number)
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("counter"))
        await pilot.pause(0.3)
        trace = app.bench.traces["counter"][-1]
        assert trace.status == "finished" and trace.epoch == 5
        said = said_text(app)
        assert "finished 5 epochs" in said and f"cannot keep run records in {blocked}" in said
        assert "training goes on without run records" in said
        monkeypatch.setenv("LABAPP_RUNS_DIR", str(tmp_path / "elsewhere"))  # fixed: the next run is recorded
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and len(app.bench.traces["counter"]) == 2)
        assert app.bench.traces["counter"][-1].run_dir.startswith(str(tmp_path / "elsewhere"))


# -- an unwritable runs folder, headless ----------------------------------------------------------

def blocked_runs(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-folder"
    path.write_text("a file where the runs folder should be")
    return path


def test_labapp_run_with_an_unwritable_runs_folder_exits_2_naming_it_and_the_ways_out(tmp_path, runs_dir):
    blocked = blocked_runs(tmp_path)
    result = labapp("run", "gradient-descent", "--epochs", "3", env={"LABAPP_RUNS_DIR": str(blocked)})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"cannot keep run records in {blocked}" in result.stderr
    assert "use --out DIR" in result.stderr and "--no-record" in result.stderr
    result = labapp("run", "gradient-descent", "--epochs", "3", "--no-record", env={"LABAPP_RUNS_DIR": str(blocked)})
    assert result.returncode == 0 and "finished 3 epochs" in result.stdout
    result = labapp("run", "gradient-descent", "--epochs", "3", "--out", str(runs_dir),
                    env={"LABAPP_RUNS_DIR": str(blocked)})
    assert result.returncode == 0 and len(list((runs_dir / "gradient-descent").iterdir())) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_runs_folder_is_named(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = labapp("run", "gradient-descent", "--epochs", "3", env={"LABAPP_RUNS_DIR": str(folder)})
    finally:
        folder.chmod(0o700)
    assert result.returncode == 2 and f"cannot keep run records in {folder}: Permission denied" in result.stderr


def test_a_failing_lesson_exits_1_and_points_at_its_log(monkeypatch, capsys, runs_dir):
    monkeypatch.setattr(cli, "find_lesson", lambda lesson_id: FAULTY)
    assert cli.main(["run", "faulty", "--fault", "raise"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    [run_dir] = (runs_dir / "faulty").iterdir()
    assert err == f"labapp: the run failed: ValueError: bad batch at epoch 2, step 3; the traceback is in {run_dir / 'run.log'}\n"
    assert summary_of(run_dir)["status"] == "failed"


# -- broken run files -----------------------------------------------------------------------------

def make_run(root: Path, name: str, **files: str | bytes) -> Path:
    """A run folder under root/counter with the given files (file name with '_' for '.')."""
    path = root / "counter" / name
    path.mkdir(parents=True)
    for file, content in files.items():
        file = file.replace("_", ".")
        (path / file).write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def config(name: str, **changes) -> str:
    return json.dumps({"lesson": "counter", "started": f"2026-01-01T10:{name[:2]}:00", "unit": "epoch",
                       "pid": 2**22 + 1, "host": platform.node(), **changes})


METRICS = '{"kind": "metric", "epoch": 1, "step": null, "split": "train", "t": 0.1, "loss": 0.5}\n' \
          '{"kind": "metric", "epoch": 2, "step": null, "split": "train", "t": 0.2, "loss": 0.25}\n'
SUMMARY = json.dumps({"status": "finished", "message": "finished 2 epochs", "epochs_done": 2,
                      "final": {"train": {"loss": 0.25}}})


def test_labapp_runs_lists_broken_runs_for_what_they_are(runs_dir, capsys):
    expected = {  # run folder -> (files, status listed, epochs listed)
        "01-whole": (dict(config_json=config("01"), metrics_jsonl=METRICS, summary_json=SUMMARY), "finished", 2),
        "02-torn-metrics": (dict(config_json=config("02"), metrics_jsonl=METRICS + '{"kind": "met'), "interrupted", 2),
        "03-config-only": (dict(config_json=config("03")), "interrupted", 0),
        "04-garbage-config": (dict(config_json="{garbage", metrics_jsonl=METRICS), "unreadable", 2),
        "05-binary-config": (dict(config_json=b"\xff\xfe\x00", summary_json=SUMMARY), "finished", 2),
        "06-odd-json": (dict(config_json=config("06", pid=-1), summary_json="[1, 2]", metrics_jsonl="5\nnull\n[]\n"),
                        "unreadable", 0),  # a summary that is not an object is not a missing one
        "07-huge-pid": (dict(config_json=config("07", pid=2**70), metrics_jsonl=METRICS), "interrupted", 2),
        "08-wrong-types": (dict(config_json=config("08", started=5, unit=[]), summary_json=json.dumps(
            {"status": 3, "final": [1], "epochs_done": "many"}), metrics_jsonl=METRICS), "?", 0),
    }
    for name, (files, _, _) in expected.items():
        make_run(runs_dir, f"20260101-1000{name[:2]}-{name}", **files)
    (runs_dir / "counter" / "20260101-100900-empty").mkdir()  # an empty folder is not a run
    (runs_dir / "counter" / "stray.txt").write_text("not a run")
    (runs_dir / "notes.txt").write_text("not a lesson")
    assert cli.main(["runs"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == len(expected)
    for name, (_, status, epochs) in expected.items():
        [line] = [line for line in lines if line.endswith(name)]
        assert f" {status} " in line and f" {epochs} " in line, line
        if status != "?" and epochs:
            assert "loss 0.25" in line


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                      max_size=4), max_leaves=12)
content = st.one_of(st.binary(max_size=60), json_values.map(json.dumps).map(str.encode), st.dictionaries(
    st.sampled_from(["lesson", "started", "status", "final", "epochs_done", "message", "unit", "pid", "host"]),
    json_values).map(json.dumps).map(str.encode))


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(config=st.none() | content, summary=st.none() | content,
       metrics=st.none() | st.lists(content, max_size=4).map(b"\n".join))
def test_labapp_runs_never_crashes_on_garbage_run_files(tmp_path_factory, config, summary, metrics):
    root = tmp_path_factory.mktemp("garbage")
    files = {k: v for k, v in (("config_json", config), ("summary_json", summary), ("metrics_jsonl", metrics))
             if v is not None}
    path = make_run(root, "20260101-100000-abcdef", **files)
    run = read_run(path)
    assert run is not None, "a folder named as RunRecorder names them is listed, whatever it holds"
    assert list_runs(root) == [run]
    assert cli.main(["runs", "--out", str(root)]) == 0


# -- broken datasets ------------------------------------------------------------------------------

@pytest.fixture
def truncated_diabetes(tmp_path) -> Path:
    source = SHARED_DATA / "diabetes.csv.gz"
    if not source.is_file():
        pytest.skip("the course's diabetes.csv.gz is not here")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "diabetes.csv.gz").write_bytes(source.read_bytes()[:5000])
    return folder


def test_a_truncated_dataset_is_reported_as_corrupt_before_training(truncated_diabetes, runs_dir):
    result = labapp("run", "multi-dim-input", "--data-dir", str(truncated_diabetes))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"diabetes.csv.gz in {truncated_diabetes}" in result.stderr and "is corrupt" in result.stderr
    assert "gzip stream is cut short" in result.stderr
    assert not runs_dir.exists()


async def test_the_workbench_refuses_a_truncated_dataset_and_stays_usable(truncated_diabetes, monkeypatch):
    from labapp.app import LabApp
    from tests.test_app import open_lesson, press_run, said_text, until

    monkeypatch.setenv("LABAPP_DATA_DIR", str(truncated_diabetes))
    app = LabApp(lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_lesson(pilot, 7)
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("multi-dim-input"))
        await pilot.pause(0.3)
        assert "is corrupt" in said_text(app) and app.bench.traces["multi-dim-input"][-1].status == "failed"
        shutil.copy(SHARED_DATA / "diabetes.csv.gz", truncated_diabetes / "diabetes.csv.gz")  # repaired
        app.workbench.view.query_one("#param-epochs").value = "3"
        await pilot.pause()
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and len(app.bench.traces["multi-dim-input"]) == 2)
        assert app.bench.traces["multi-dim-input"][-1].status == "finished"

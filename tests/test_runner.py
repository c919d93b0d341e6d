"""The runner with a lesson that needs no torch: records, stop, divergence, failure, run records."""

import dataclasses
import json
import threading
import time

import pytest

from labapp.lesson import Metric, ViewValue
from labapp.records import RunRecorder, list_runs, read_metrics
from labapp.runner import DIVERGED, FAILED, FINISHED, STOPPED, DeviceError, Run, resolve_device, run_lesson


class Collect:
    """A sink that keeps what it is given."""

    def __init__(self):
        self.info, self.records, self.summary = None, [], None

    def start(self, info):
        self.info = info

    def record(self, record, elapsed):
        self.records.append(record)

    def finish(self, summary):
        self.summary = summary


def test_a_run_delivers_every_record_to_every_sink(counter):
    sinks = [Collect(), Collect()]
    summary = run_lesson(counter, counter.defaults(), sinks)
    assert summary.status == FINISHED and summary.epochs_done == 5
    for sink in sinks:
        assert [r.values["loss"] for r in sink.records if isinstance(r, Metric)] == [0.5, 0.25, 0.125, 0.0625, 0.03125]
        assert sink.records[-1] == ViewValue("result", {"last loss": 0.03125})
        assert sink.summary is summary and sink.info.total == 5
    assert summary.final == {"train": {"loss": 0.03125}}
    assert summary.results == {"result": {"last loss": 0.03125}}


def test_a_non_finite_loss_ends_the_run_as_diverged(counter):
    summary = run_lesson(counter, counter.resolve({"blow_up_at": "3"}))
    assert summary.status == DIVERGED
    assert summary.epochs_done == 3
    assert summary.message == "diverged at epoch 3: loss became inf; try a smaller learning rate"


def test_an_exception_ends_the_run_as_failed_with_its_traceback(counter):
    summary = run_lesson(counter, counter.resolve({"fail_at": "2"}))
    assert summary.status == FAILED
    assert summary.message == "failed: RuntimeError: boom at epoch 2"
    assert "Traceback" in summary.traceback and "boom at epoch 2" in summary.traceback
    assert summary.epochs_done == 1


def test_stop_takes_effect_within_one_step(counter):
    sink = Collect()
    run = Run(counter, counter.resolve({"epochs": "10000", "sleep": "0.01"}), sinks=[sink])
    thread = run.start()
    while len(sink.records) < 3:
        time.sleep(0.005)
    asked = time.perf_counter()
    run.request_stop()
    assert run.join(timeout=2)
    assert time.perf_counter() - asked < 0.1  # one step is 10 ms
    assert not thread.is_alive()
    assert run.summary.status == STOPPED
    assert run.summary.message.startswith("stopped at epoch")
    assert run.summary.epochs_done < 100


def test_the_lesson_runs_on_the_calling_thread_or_its_own(counter):
    seen = []

    class Where(Collect):
        def record(self, record, elapsed):
            seen.append(threading.current_thread().name)

    run_lesson(counter, counter.defaults(), [Where()])
    run = Run(counter, counter.defaults(), sinks=[Where()])
    run.start()
    run.join(5)
    assert seen[0] == threading.current_thread().name
    assert seen[-1] == "labapp-counter"


def test_run_records_on_disk(counter, runs_dir):
    recorder = RunRecorder(runs_dir)
    summary = run_lesson(counter, counter.resolve({"epochs": "3"}), [recorder], seed=7)
    path = recorder.path
    assert path.parent == runs_dir / "counter"
    config = json.loads((path / "config.json").read_text())
    assert config["params"]["epochs"] == 3 and config["seed"] == 7 and config["device"] == "cpu"
    rows = read_metrics(path)
    assert [r["loss"] for r in rows if r["kind"] == "metric"] == [0.5, 0.25, 0.125]
    assert rows[-1] == {"kind": "view", "view": "result", "t": rows[-1]["t"], "value": {"last loss": 0.125}}
    stored = json.loads((path / "summary.json").read_text())
    assert stored["status"] == "finished" and stored["epochs_done"] == 3
    assert stored["duration_s"] == pytest.approx(summary.duration_s)
    assert "finished 3 epochs" in (path / "run.log").read_text()
    [past] = list_runs(runs_dir)
    assert (past.lesson, past.status, past.final) == ("counter", "finished", {"train": {"loss": 0.125}})


def test_a_run_without_a_seed_takes_the_lessons_and_records_it(counter, runs_dir):
    recorder = RunRecorder(runs_dir)
    run_lesson(dataclasses.replace(counter, seed=5), counter.defaults(), [recorder])
    assert json.loads((recorder.path / "config.json").read_text())["seed"] == 5


def test_diverged_and_failed_runs_keep_their_records(counter, runs_dir):
    for texts, status in (({"blow_up_at": "2"}, "diverged"), ({"fail_at": "3"}, "failed")):
        recorder = RunRecorder(runs_dir)
        run_lesson(counter, counter.resolve(texts), [recorder])
        lines = (recorder.path / "metrics.jsonl").read_text().splitlines()
        assert all(json.loads(line) for line in lines)  # strict JSON: inf is written as null
        assert json.loads((recorder.path / "summary.json").read_text())["status"] == status
    failed = json.loads((recorder.path / "summary.json").read_text())
    assert "boom at epoch 3" in failed["traceback"]
    assert "Traceback" in (recorder.path / "run.log").read_text()


def test_a_run_without_summary_is_listed_as_interrupted(counter, runs_dir):
    recorder = RunRecorder(runs_dir)
    run_lesson(counter, counter.defaults(), [recorder])
    (recorder.path / "summary.json").unlink()
    config = json.loads((recorder.path / "config.json").read_text())
    config["pid"] = 2**22 + 1  # no such process
    (recorder.path / "config.json").write_text(json.dumps(config))
    with open(recorder.path / "metrics.jsonl", "a") as f:
        f.write('{"kind": "metric", "epo')  # torn by a kill
    [past] = list_runs(runs_dir)
    assert past.status == "interrupted" and past.epochs_done == 5
    assert past.final == {"train": {"loss": 0.03125}}


def test_overflow_in_plain_python_is_divergence():
    import lessons

    lesson = lessons.get("gradient-descent")
    summary = run_lesson(lesson, lesson.resolve({"lr": "10"}))
    assert summary.status == DIVERGED and "diverged at epoch" in summary.message


@pytest.mark.parametrize("name", ["cuda", "cuda:1", "mps", "tpu", "gpu0"])
def test_devices_that_are_not_here_are_errors(name):
    import torch

    if name.startswith("cuda") and torch.cuda.device_count() > int(name.partition(":")[2] or 0):
        pytest.skip("this machine has that GPU")
    if name == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(DeviceError, match=f"^device: '{name}' is"):
        resolve_device(name)


def test_auto_and_cpu_resolve():
    import torch

    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_a_torch_lesson_records_the_device_and_threads(runs_dir):
    import lessons

    lesson = lessons.get("backprop")
    recorder = RunRecorder(runs_dir)
    run_lesson(lesson, lesson.resolve({"epochs": "2"}), [recorder], device="cpu")
    config = json.loads((recorder.path / "config.json").read_text())
    from labapp.threads import choose_threads, read_machine

    policy = choose_threads(read_machine(), interactive=False, lesson_limit=lesson.threads)
    assert config["device"] == "cpu" and config["torch"]
    assert (config["threads"], config["threads_why"]) == (policy.threads, policy.why)


def test_the_workbench_leaves_a_cpu_for_its_ui_and_threads_asked_for_are_capped(runs_dir):
    import lessons
    from labapp.threads import read_machine

    usable = read_machine().usable
    lesson = lessons.get("backprop")
    workbench = Run(lesson, lesson.resolve({"epochs": "1"}), device="cpu", interactive=True)
    assert workbench.prepare().threads == min(max(1, usable - 1), lesson.threads or usable)
    heard: list[str] = []
    greedy = Run(lesson, lesson.resolve({"epochs": "1"}), device="cpu", threads=usable + 1)
    assert greedy.prepare(say=heard.append).threads == usable
    assert heard == [f"threads: {usable + 1} asked for, but this process has {read_machine().describe()}: "
                     f"using {usable}"]

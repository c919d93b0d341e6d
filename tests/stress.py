"""The reliability tests at volume, on demand: `python -m tests.stress` (a few minutes) or `--full` (more).

Fuzzes every param and form of every ready lesson, `labapp run` and the workbench's form with
hostile text; injects faults into runs (a lesson that raises or runs out of memory at a random
step, failing sinks, the largest learning rate of each lesson); interrupts `labapp run` with
SIGINT, SIGTERM and SIGKILL at random moments, and with two Ctrl-C 0-100 ms apart; closes or fills
its stdout; fills its disk (a tmpfs, where this process may mount one); gives it bytes that are not
UTF-8; starts and stops runs in the workbench; feeds garbage and every damaged form of run folder
to `labapp runs`, next to 2,000 whole runs and a 208 MB metrics file; trickles a download; and
measures the peak memory of a headless run with ten times the records. Then it checks every run folder it made: a run is lost when its folder
is missing, `labapp runs` does not list it with the status it should have, or a complete line of
its metrics.jsonl does not parse. It prints the counts and exits 1 if anything failed or was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ.setdefault("LABAPP_LANG", "en")

from labapp import cli  # noqa: E402
from labapp.records import RunRecorder, list_runs  # noqa: E402
from labapp.runner import DIVERGED, FAILED, FINISHED, STOPPED, Run  # noqa: E402
from tests import test_faults, test_fuzz, test_interrupts  # noqa: E402
from tests.conftest import SHARED_DATA  # noqa: E402


class Tally:
    """Counts of inputs tried and faults injected, the runs expected on disk, and what went wrong."""

    def __init__(self) -> None:
        self.inputs: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.expected: dict[Path, set[str]] = {}  # run folder -> statuses `labapp runs` may list it with
        self.problems: list[str] = []

    def check(self, what: str, step: Callable[[], None]) -> None:
        """Run one part; an exception is a problem, said with its traceback, and the rest goes on."""
        started = time.perf_counter()
        try:
            step()
        except Exception:  # noqa: BLE001 - reported at the end
            self.problems.append(f"{what}:\n{traceback.format_exc()}")
        print(f"  {what}: {time.perf_counter() - started:.1f} s", flush=True)


# -- inputs ---------------------------------------------------------------------------------------

def fuzz_params(tally: Tally, examples: int) -> None:
    """Hypothesis over every param of every ready lesson, and every hostile string."""
    for lesson, param in test_fuzz.PARAMS:
        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(text=test_fuzz.hostile_text())
        def one(text: str) -> None:
            tally.inputs["param values"] += 1
            test_fuzz.check_param(param, text)

        one()
        for text in test_fuzz.HOSTILE:
            tally.inputs["param values"] += 1
            test_fuzz.check_param(param, text)


def fuzz_forms(tally: Tally, examples: int) -> None:
    """Hypothesis over whole forms of every ready lesson, with its cross-field rules; and edge pairs."""
    for lesson in test_fuzz.READY:
        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(texts=test_fuzz.forms(lesson))
        def one(texts: dict[str, str]) -> None:
            tally.inputs["forms"] += 1
            test_fuzz.check_form(lesson, texts)

        one()
        test_fuzz.test_edge_values_of_every_pair_of_number_params(lesson)
        tally.inputs["forms"] += 1


def fuzz_cli(tally: Tally, processes: int) -> None:
    """Every refused hostile value of every param through `labapp run` in-process; a sample as real processes."""
    import contextlib
    import io

    for lesson in test_fuzz.READY:
        for param in lesson.params:
            for text in test_fuzz.CLI_SAMPLE + test_fuzz.HOSTILE:
                if not test_fuzz.refused(param, text):
                    continue
                err = io.StringIO()
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    code = cli.main(["run", lesson.id, f"{param.flag}={text}"])
                message = err.getvalue()
                assert code == 2 and message.count("\n") == 1 and message.startswith(param.name + ": "), \
                    (lesson.id, param.name, text[:40], message[:200])
                tally.inputs["labapp run (in-process)"] += 1
    import subprocess

    rng = random.Random(1)
    cases = [(lesson, param, text) for lesson in test_fuzz.READY for param in lesson.params
             for text in test_fuzz.CLI_SAMPLE if test_fuzz.refused(param, text)]
    for lesson, param, text in rng.sample(cases, min(processes, len(cases))):
        result = subprocess.run([sys.executable, "-m", "labapp", "run", lesson.id, f"{param.flag}={text}"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, \
            (lesson.id, param.name, text[:40], result.stderr[:300])
        tally.inputs["labapp run (processes)"] += 1


def fuzz_the_form(tally: Tally, full: bool) -> None:
    """Hostile text into the workbench's fields: every lesson and every sample string in full mode."""
    chosen = test_fuzz.READY if full else test_fuzz.READY[:2]
    chosen = sorted(chosen, key=lambda lesson: lesson.id == "linear-model")  # last, as it runs: it is quick
    per_field = len(test_fuzz.FORM_SAMPLE) if full else 3
    tally.inputs["form fields"] += asyncio.run(test_fuzz.type_into_forms(chosen, per_field))


def fuzz_run_files(tally: Tally, examples: int, root: Path) -> None:
    """Garbage config.json, summary.json and metrics.jsonl: `labapp runs` lists or skips, never crashes."""
    import contextlib
    import io

    from labapp.records import read_run

    counter = iter(range(10**9))

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(config=st.none() | test_faults.content, summary=st.none() | test_faults.content,
           metrics=st.none() | st.lists(test_faults.content, max_size=4).map(b"\n".join))
    def one(config, summary, metrics) -> None:
        files = {k: v for k, v in (("config_json", config), ("summary_json", summary), ("metrics_jsonl", metrics))
                 if v is not None}
        folder = root / f"garbage-{next(counter)}"
        path = test_faults.make_run(folder, "20260101-100000-abcdef", **files)
        assert read_run(path) is not None
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(["runs", "--out", str(folder)]) == 0
        tally.faults["garbage run folders"] += 1

    one()


# -- faults ---------------------------------------------------------------------------------------

def expect(tally: Tally, recorder: RunRecorder, *statuses: str) -> None:
    assert recorder.path is not None, "the run made no folder"
    tally.expected[recorder.path] = set(statuses)


def lesson_faults(tally: Tally, count: int, root: Path) -> None:
    """The faulty lesson, raising or running out of memory at a random step; sinks that fail."""
    import torch

    from labapp import runner

    rng = random.Random(2)
    real = (runner.resolve_device, runner._device_name)
    runner.resolve_device = lambda name: torch.device("cuda", 0) if name == "cuda" else real[0](name)
    runner._device_name = lambda device: "Simulated GPU" if str(device).startswith("cuda") else "CPU"
    try:
        for _ in range(count):
            fault = rng.choice(("raise", "oom", "memory"))
            texts = {"fault": fault, "epochs": str(rng.randint(1, 4)), "steps": str(rng.randint(1, 6))}
            texts["at_epoch"] = str(rng.randint(1, int(texts["epochs"]) + 1))  # sometimes never: it finishes
            recorder = RunRecorder(root)
            summary = Run(test_faults.FAULTY, test_faults.FAULTY.resolve(texts), device=rng.choice(("cuda", "cpu")),
                          sinks=[recorder]).run()
            reaches = int(texts["at_epoch"]) <= int(texts["epochs"])
            assert summary.status == (FAILED if reaches else FINISHED), (texts, summary.message)
            if reaches and fault != "raise":
                assert "ran out of memory on" in summary.message and "try a smaller batch_size" in summary.message
            expect(tally, recorder, summary.status)
            tally.faults[f"lesson: {fault}"] += 1
        for where in ("record", "finish"):
            for _ in range(max(1, count // 10)):
                test_faults.test_a_sink_that_fails_never_takes_the_run_down(where, root)
                tally.faults[f"sink fails at {where}"] += 1
        for path in (root / "faulty").iterdir():  # the sink tests' runs, recorded as they ended
            tally.expected.setdefault(path, {FINISHED, FAILED})
    finally:
        runner.resolve_device, runner._device_name = real


def divergence(tally: Tally, root: Path, seconds: float) -> None:
    """Every lesson with a learning rate, at its largest: diverged, finished or (stopped when slow), never failed."""
    if not os.environ.get("LABAPP_DATA_DIR") and SHARED_DATA.is_dir():
        os.environ["LABAPP_DATA_DIR"] = str(SHARED_DATA)
    for lesson in test_faults.lr_lessons():
        lr = lesson.param("lr")
        texts = {"lr": lr.format(lr.max)}
        if any(p.name == "num_workers" for p in lesson.params):
            texts["num_workers"] = "0"
        recorder = RunRecorder(root)
        run = Run(lesson, lesson.resolve(texts), device="cpu", sinks=[recorder])
        try:
            run.prepare()
        except Exception as error:  # noqa: BLE001 - a dataset this machine lacks
            print(f"    {lesson.id}: skipped ({str(error)[:80]})")
            continue
        run.start()
        if not run.join(seconds):
            run.request_stop()
            assert run.join(60), f"{lesson.id} did not stop"
        assert run.summary.status in (DIVERGED, FINISHED, STOPPED), (lesson.id, run.summary.message)
        expect(tally, recorder, run.summary.status)
        tally.faults[f"largest lr: {run.summary.status}"] += 1


def signals(tally: Tally, count: int, root: Path) -> None:
    """SIGINT, SIGTERM and SIGKILL to `labapp run` after a random number of epochs."""
    rng = random.Random(3)
    for number in range(count):
        signum = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)[number % 3]
        folder = root / f"signals-{number}"
        process = test_interrupts.start_long_run(folder)
        test_interrupts.last_epoch_seen(process, rng.randint(0, 200))
        time.sleep(rng.random() * 0.05)
        process.send_signal(signum)
        process.communicate(timeout=60)
        expected = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}[signum]
        assert process.returncode == expected, (signum, process.returncode)
        [path] = (folder / "gradient-descent").iterdir()
        tally.expected[path] = {"interrupted"} if signum == signal.SIGKILL else {STOPPED}
        tally.faults[signal.Signals(signum).name] += 1


def double_ctrl_c(tally: Tally, count: int, root: Path) -> None:
    """Two SIGINTs 0-100 ms apart, at a random epoch: exit 130, no traceback, summary stopped."""
    from tests import test_reliability

    rng = random.Random(4)
    for number in range(count):
        folder = root / f"double-{number}"
        process = test_reliability.long_run(folder, text=True)
        test_interrupts.last_epoch_seen(process, rng.randint(0, 100))
        process.send_signal(signal.SIGINT)
        time.sleep(rng.random() * 0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130 and "Traceback" not in err, (process.returncode, err[-500:])
        [path] = (folder / "gradient-descent").iterdir()
        assert json.loads((path / "summary.json").read_text())["status"] == STOPPED
        tally.expected[path] = {STOPPED}
        tally.faults["two Ctrl-C"] += 1


def failing_outputs(tally: Tally, root: Path) -> None:
    """A closed pipe, /dev/full and a closed stdout under `labapp run`, `list`, `runs`, `show`, `data`."""
    import subprocess

    from tests import test_reliability

    folder = root / "pipe"
    process = test_reliability.long_run(folder)
    process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(60) == 141 and err == "", err
    [path] = (folder / "gradient-descent").iterdir()
    tally.expected[path] = {STOPPED}
    tally.faults["closed pipe"] += 1
    for number, command in enumerate(test_reliability.COMMANDS):
        for redirect in ("> /dev/full", ">&-"):
            runs = root / f"outputs-{number}-{len(redirect)}"
            result = subprocess.run(["bash", "-c", f"exec {sys.executable} -m labapp {' '.join(command)} {redirect}"],
                                    capture_output=True, text=True, timeout=120,
                                    env={**os.environ, "LABAPP_RUNS_DIR": str(runs)}, cwd=test_interrupts.ROOT)
            assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
            assert result.returncode == (2 if not command else 1), (command, redirect, result.returncode)
            if command and command[0] == "run":
                [path] = (runs / "gradient-descent").iterdir()
                tally.expected[path] = {FINISHED}
            tally.faults[f"stdout {redirect.strip('> ')}"] += 1


def full_disk(tally: Tally, root: Path) -> None:
    """A 1 MiB tmpfs, full before a run (exit 2, no folder) and filling during one (failed, and listed so)."""
    import subprocess

    from tests import test_reliability

    mount = root / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        print("    cannot mount a tmpfs here: skipped")
        return
    try:
        for leave, code in ((16 * 1024, 2), (400 * 1024, 1)):
            (mount / "ballast").unlink(missing_ok=True)
            test_reliability.fill(mount, leave)
            runs = mount / f"runs-{code}"
            result = subprocess.run([sys.executable, "-m", "labapp", "run", "gradient-descent", "--epochs", "100000",
                                     "--mode", "stochastic", "--lr", "0.001", "--out", str(runs)],
                                    capture_output=True, text=True, timeout=300, cwd=test_interrupts.ROOT)
            assert result.returncode == code and "the disk is full" in result.stderr, result.stderr
            assert "Traceback" not in result.stderr
            made = list(runs.glob("*/*"))
            assert len(made) == (0 if code == 2 else 1), made
            if made:
                [past] = list_runs(runs)
                assert past.status == FAILED, past
            tally.faults[f"full disk ({'before' if code == 2 else 'during'} the run)"] += 1
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def bytes_in_arguments(tally: Tally, examples: int) -> None:
    """Hypothesis over bytes that are not UTF-8 in every option of `labapp run` (in-process)."""
    from tests import test_reliability

    original = cli.find_lesson
    cli.find_lesson = lambda lesson_id: test_reliability.ECHO
    try:
        with tempfile.TemporaryDirectory() as tmp:
            @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(text=test_reliability.arguments,
                   flag=st.sampled_from(["--text", "--epochs", "--seed", "--device", "--lang", "--threads", "--out"]))
            def one(text: str, flag: str) -> None:
                out = Path(tmp) / f"b{tally.inputs['bytes in arguments']}"
                # --out: a folder of its own under tmp, never in the checkout or at / (argv never holds NUL)
                value = f"{tmp}/o-{text.replace('/', '_').replace(chr(0), '_')}" if flag == "--out" else text
                argv = ["run", "echo", f"{flag}={value}"] + ([] if flag == "--out" else ["--out", str(out)])
                code, printed, err = test_reliability.run_in_process(argv)
                assert code in (0, 2) and "Traceback" not in err and (code == 0 or err.count("\n") == 1), err
                tally.inputs["bytes in arguments"] += 1

            one()
    finally:
        cli.find_lesson = original


def damaged_listing(tally: Tally, root: Path, whole: int, big_mb: int) -> None:
    """`labapp runs` over every damaged form of run folder, `whole` whole runs and a big metrics file."""
    import subprocess

    from tests import test_reliability

    folder = root / "listing"
    rng = random.Random(5)
    for number in range(whole):
        path = folder / "gradient-descent" / f"20260101-{number // 3600 % 24:02d}{number // 60 % 60:02d}" \
                                             f"{number % 60:02d}-{number:06x}"
        path.mkdir(parents=True)
        (path / "config.json").write_text(json.dumps({"lesson": "gradient-descent", "unit": "epoch", "pid": 1,
                                                      "started": f"2026-01-01T10:00:00+0{rng.randint(0, 9)}:00"}))
        (path / "metrics.jsonl").write_text('{"kind": "metric", "epoch": 1, "step": null, "split": "train", '
                                            '"cost": 0.5}\n' * 100)
        (path / "summary.json").write_text(json.dumps({"status": "finished", "epochs_done": 100,
                                                       "final": {"train": {"cost": 0.5}}}))
    damaged = 0
    for name in test_reliability.FILES:
        for kind in test_reliability.KINDS[1:]:
            path = folder / "counter" / f"20260102-000000-{damaged:06x}"
            path.mkdir(parents=True)
            test_reliability.make(path, name, kind)
            damaged += 1
            tally.faults["damaged run folders"] += 1
    big = folder / "counter" / "20260103-000000-b1b1b1"
    big.mkdir()
    (big / "config.json").write_text(json.dumps({"lesson": "counter", "started": "2026-01-03T00:00:00", "pid": 1}))
    line = b'{"kind": "metric", "epoch": %d, "step": 3, "split": "train", "t": 12.5, "loss": 0.123456789}\n'
    with open(big / "metrics.jsonl", "wb") as f:
        epoch = 0
        while f.tell() < big_mb << 20:
            f.write(b"".join(line % (epoch + j) for j in range(10_000)))
            epoch += 10_000
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_AFTER_MAIN, "runs", "--out", str(folder)],
                            capture_output=True, text=True, timeout=120, cwd=test_interrupts.ROOT)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    listed_count = len(result.stdout.splitlines()) - 1
    assert listed_count == whole + damaged + 1, (listed_count, whole + damaged + 1)
    print(f"    labapp runs: {listed_count:,} folders ({whole:,} whole, {damaged} damaged, one of {big_mb} MB) "
          f"in {seconds:.2f} s (target < 2 s on a quiet machine), peak RSS {int(result.stderr.split()[-1]) // 1024} MiB")
    assert seconds < 20, "labapp runs took far longer than its target"
    tally.inputs["folders listed"] += listed_count


def slow_download(tally: Tally) -> None:
    """A server on 127.0.0.1 that trickles: the download gives up at its deadline and leaves no file."""
    import threading

    from labapp import data
    from tests import test_reliability

    server = test_reliability.Trickle(b"x" * 200, 0.05)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    saved = data.DEADLINE_S
    data.DEADLINE_S = 1.0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            try:
                data.DataStore(None, cache=Path(tmp)).download(test_reliability.trickled(server))
                raise AssertionError("a trickling download finished")
            except data.DataMissing as error:
                assert "gave up after" in str(error), error
            assert time.perf_counter() - started < 5 and not list(Path(tmp).iterdir())
        tally.faults["trickling download"] += 1
    finally:
        data.DEADLINE_S = saved
        server.shutdown()
        server.server_close()


# `labapp ARGS` in a fresh interpreter that prints its peak RSS (KiB) on stderr as its last word. VmHWM, not
# getrusage: a child forked from a process that had loaded torch would inherit its maximum.
PEAK_AFTER_MAIN = ("import sys\nfrom labapp import cli\ncode = cli.main()\n"
                   "peak = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
                   "print(peak, file=sys.stderr)\nsys.exit(code)")


def memory_growth(tally: Tally, epochs: int) -> None:
    """Peak RSS of `labapp run gradient-descent` (stochastic: 4 records an epoch) with N and 10 N epochs: < 10 % more."""
    import subprocess

    peaks = []
    for count in (epochs, 10 * epochs):
        result = subprocess.run([sys.executable, "-c", PEAK_AFTER_MAIN, "run", "gradient-descent", "--epochs",
                                 str(count), "--mode", "stochastic", "--lr", "0.001", "--no-record"],
                                capture_output=True, text=True, timeout=600, cwd=test_interrupts.ROOT)
        assert result.returncode == 0, result.stderr
        peaks.append(int(result.stderr.split()[-1]))
    print(f"    peak RSS, {epochs:,} epochs: {peaks[0] / 1024:.1f} MiB; {10 * epochs:,} epochs: {peaks[1] / 1024:.1f} MiB")
    assert peaks[1] < peaks[0] * 1.10, peaks
    tally.inputs["memory runs"] += 2


def workbench_cycles(tally: Tally, cycles: int, root: Path) -> None:
    """Start and stop runs in the workbench; at most one training thread, every run recorded as stopped."""
    from labapp.app import LabApp
    from tests.test_app import CATALOGUE, open_lesson, set_field, until

    os.environ["LABAPP_RUNS_DIR"] = str(root / "workbench")

    async def go() -> None:
        app = LabApp(lang="en", catalogue=CATALOGUE)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.bench.torch_ready, timeout=60)
            await open_lesson(pilot, test_faults.COUNTER.number)
            await set_field(pilot, "epochs", "10000")
            await set_field(pilot, "sleep", "0.005")
            await pilot.press("escape")
            app.set_focus(None)
            most = [0]
            await test_interrupts.start_stop_cycles(pilot, cycles, most)
            assert most[0] <= 1, f"{most[0]} training threads at once"
            await pilot.press("q")

    asyncio.run(go())
    assert not test_interrupts.training_threads()
    for path in (root / "workbench" / "counter").iterdir():
        tally.expected[path] = {STOPPED}
    tally.faults["workbench start/stop cycles"] += cycles


# -- the reckoning --------------------------------------------------------------------------------

def lost_runs(tally: Tally) -> list[str]:
    """The runs that `labapp runs` does not list as expected, or whose complete metrics lines do not parse."""
    listed: dict[Path, str] = {}
    for root in {path.parent.parent for path in tally.expected}:
        listed |= {run.path: run.status for run in list_runs(root)}
    lost = []
    for path, statuses in sorted(tally.expected.items()):
        if path not in listed:
            lost.append(f"{path}: not listed")
            continue
        if listed[path] not in statuses:
            lost.append(f"{path}: listed as {listed[path]}, expected {' or '.join(sorted(statuses))}")
        lines = (path / "metrics.jsonl").read_text(encoding="utf-8").split("\n")
        for line in lines[:-1]:
            try:
                json.loads(line)
            except ValueError:
                lost.append(f"{path}: a complete metrics line does not parse: {line[:60]!r}")
                break
    return lost


def main(argv: list[str] | None = None) -> int:
    """Run the stress suite; exit 0 when nothing failed and no run was lost."""
    parser = argparse.ArgumentParser(prog="python -m tests.stress", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="many more examples, faults and interruptions")
    args = parser.parse_args(argv)
    scale = 10 if args.full else 1
    tally = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="labapp-stress-") as tmp:
        root = Path(tmp)
        os.environ["LABAPP_RUNS_DIR"] = str(root / "cli")
        print(f"labapp stress ({'full' if args.full else 'quick'}), working in {root}", flush=True)
        tally.check("param values", lambda: fuzz_params(tally, 100 * scale))
        tally.check("forms", lambda: fuzz_forms(tally, 200 * scale))
        tally.check("labapp run", lambda: fuzz_cli(tally, 10 * scale))
        tally.check("the workbench's form", lambda: fuzz_the_form(tally, args.full))
        tally.check("garbage run files", lambda: fuzz_run_files(tally, 50 * scale, root / "garbage"))
        tally.check("faults in lessons and sinks", lambda: lesson_faults(tally, 30 * scale, root / "faults"))
        tally.check("the largest learning rates", lambda: divergence(tally, root / "lr", 3.0 * (2 if args.full else 1)))
        tally.check("signals", lambda: signals(tally, 6 * scale, root / "cli"))
        tally.check("two Ctrl-C", lambda: double_ctrl_c(tally, 10 * (4 if args.full else 1), root / "double"))
        tally.check("outputs that fail", lambda: failing_outputs(tally, root / "outputs"))
        tally.check("a full disk", lambda: full_disk(tally, root))
        tally.check("bytes in arguments", lambda: bytes_in_arguments(tally, 100 * scale))
        tally.check("damaged run folders", lambda: damaged_listing(tally, root, 2000, 208 if args.full else 50))
        tally.check("a trickling download", lambda: slow_download(tally))
        tally.check("memory", lambda: memory_growth(tally, 20_000 if args.full else 5_000))
        tally.check("workbench start/stop", lambda: workbench_cycles(tally, 20 * (3 if args.full else 1), root))
        lost = lost_runs(tally)
    inputs, faults = sum(tally.inputs.values()), sum(tally.faults.values())
    print(f"\ninputs tried: {inputs:,}  (" + ", ".join(f"{k} {v:,}" for k, v in tally.inputs.items()) + ")")
    print(f"faults injected: {faults:,}  (" + ", ".join(f"{k} {v:,}" for k, v in tally.faults.items()) + ")")
    print(f"runs checked: {len(tally.expected):,}, runs lost: {len(lost)}")
    for line in lost:
        print("  lost: " + line)
    for problem in tally.problems:
        print("\nFAILED " + problem)
    print(f"\n{'FAILED' if tally.problems or lost else 'passed'} in {time.perf_counter() - started:.0f} s")
    return 1 if tally.problems or lost else 0


if __name__ == "__main__":
    sys.exit(main())

"""The measurements: each function runs one comparison and returns rows for the table.

Everything runs as a user runs it (subprocesses of `labapp` and of the course's programs, the TUI
driven through Textual's Pilot or a real terminal in tmux), on the same data, seed and epochs.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
PYTHON = sys.executable
LABAPP = [PYTHON, "-m", "labapp"]


@dataclass
class Row:
    """One line of the table: labapp's number against the reference's (smaller is better)."""

    what: str
    labapp: float
    reference: float | None
    unit: str
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """labapp / reference."""
        return self.labapp / self.reference if self.reference else None


@functools.cache
def data_dir() -> str:
    """The folder that holds the course files: $LABAPP_DATA_DIR, ../shared/data, or labapp's cache."""
    from labapp.data import DataStore
    from lessons._data import DIABETES

    shared = ROOT.parent / "shared" / "data"
    folder = os.environ.get("LABAPP_DATA_DIR") or (str(shared) if shared.is_dir() else None)
    return str(DataStore(folder).locate(DIABETES).parent)


def _last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in:\n{text[-2000:]}")


def run_reference(script: str, epochs: int, threads: int = 0) -> dict:
    """Run a course program; its own report: seconds of training, epochs, final loss/accuracy."""
    command = [PYTHON, str(REFERENCE / script), "--epochs", str(epochs), "--data", data_dir()]
    if threads:
        command += ["--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REFERENCE, check=True)
    return _last_json(done.stdout)


def run_labapp(lesson: str, *flags: str, env: dict[str, str] | None = None) -> dict:
    """`labapp run LESSON FLAGS --quiet` with its records in a temporary folder; its summary and config."""
    import lessons

    data = ["--data-dir", data_dir()] if lessons.get(lesson).data else []
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([*LABAPP, "run", lesson, "--quiet", "--out", out, *data, *flags],
                       capture_output=True, text=True, check=True, cwd=ROOT,
                       env={**os.environ, **env} if env else None)
        [folder] = Path(out).glob(f"{lesson}/*/")
        summary = json.loads((folder / "summary.json").read_text())
        return {**summary, "config": json.loads((folder / "config.json").read_text())}


def _final(values: dict) -> str:
    shown = []
    for name in ("loss", "cost", "accuracy"):
        if values.get(name) is not None:
            value = values[name]
            shown.append(f"{name} {value:.1%}" if name == "accuracy" else f"{name} {value:.4g}")
    return " ".join(shown)


# lesson id, reference script, epochs (quick), labapp flags
LESSONS = [
    ("gradient-descent", "gradient_descent.py", 20000, ()),
    ("backprop", "backprop.py", 2000, ()),
    ("linear-regression", "linear_regression.py", 1000, ()),
    ("logistic-regression", "logistic_regression.py", 1000, ()),
    ("multi-dim-input", "multi_dim_input.py", 100, ()),
    ("dataset-dataloader", "dataset_dataloader.py", 100, ()),
]


def lessons(quick: bool) -> list[Row]:
    """Each lesson that trains: the course's program against `labapp run`, time per epoch."""
    rows = []
    for lesson, script, epochs, flags in LESSONS:
        epochs = epochs if quick or lesson == "dataset-dataloader" else epochs * 5
        reference = run_reference(script, epochs)
        summary = run_labapp(lesson, "--epochs", str(epochs), *flags)
        final = {**summary["final"].get("train", {}), **summary["final"].get("test", {})}
        rows.append(Row(f"{lesson} ({epochs} epochs)", summary["duration_s"] / epochs,
                        reference["seconds"] / epochs, "s/epoch",
                        f"labapp {_final(final)} | course {_final(reference)}"))
    return rows


def busy_core(quick: bool) -> list[Row]:
    """Training while the other core is busy: labapp's thread choice against torch's default."""
    spinner = subprocess.Popen([PYTHON, "-c", "while True: pass"])
    try:
        epochs = 300 if quick else 1000
        ours = run_labapp("multi-dim-input", "--epochs", str(epochs))
        # torch's default: a thread per core, spinning while it waits (labapp lets idle threads sleep)
        default = run_labapp("multi-dim-input", "--epochs", str(epochs), "--threads", str(os.cpu_count() or 2),
                             env={"OMP_WAIT_POLICY": "ACTIVE"})
        reference = run_reference("multi_dim_input.py", epochs)
    finally:
        spinner.kill()
        spinner.wait()
    return [
        Row(f"multi-dim-input, other core busy: labapp vs torch's default threads ({epochs} epochs)",
            ours["duration_s"] / epochs, default["duration_s"] / epochs, "s/epoch",
            f"labapp: {ours['config']['threads']} thread(s), idle ones sleeping; torch's default: "
            f"{os.cpu_count()}, spinning"),
        Row(f"multi-dim-input, other core busy: labapp vs the course program ({epochs} epochs)",
            ours["duration_s"] / epochs, reference["seconds"] / epochs, "s/epoch"),
    ]


def _median_wall(command: list[str], times: int = 5) -> float:
    walls = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def first_screen(times: int = 3) -> float | None:
    """Seconds from starting `labapp` in a real terminal (tmux, 80x24) to its first screen."""
    if shutil.which("tmux") is None:
        return None
    walls = []
    for n in range(times):
        session = f"labapp-bench-{os.getpid()}-{n}"
        start = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                        f"{' '.join(LABAPP)}; sleep 2"], check=True, cwd=ROOT)
        try:
            while b"Linear model" not in _capture(session):
                if time.perf_counter() - start > 20:
                    raise RuntimeError("the first screen never came")
                time.sleep(0.01)
            walls.append(time.perf_counter() - start)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return statistics.median(walls)


def _capture(session: str) -> bytes:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True).stdout


def whole_process(lesson: str, script: str, epochs: int, times: int = 5) -> Row:
    """`labapp run LESSON` against the course's program, each as a whole process (start-up, imports, training,
    report), `times` each, alternating, after one of each to warm up; the medians.

    Both run with Python's compiled bytecode written and used (as an installed package has it), even where
    PYTHONDONTWRITEBYTECODE is set: without it every labapp module is compiled again on every start.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    walls: dict[str, list[float]] = {"labapp": [], "course": []}
    with tempfile.TemporaryDirectory() as out:
        commands = {"labapp": [*LABAPP, "run", lesson, "--epochs", str(epochs), "--out", out],
                    "course": [PYTHON, str(REFERENCE / script), "--epochs", str(epochs), "--data", data_dir()]}
        for n in range(times + 1):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, capture_output=True, check=True, cwd=ROOT, env=env)
                if n:  # the first of each only warms up
                    walls[name].append(time.perf_counter() - start)
    return Row(f"whole process: labapp run {lesson} --epochs {epochs} vs the course's program (median of {times})",
               statistics.median(walls["labapp"]), statistics.median(walls["course"]), "s", "target: at most 1.05x")


def startup(quick: bool) -> list[Row]:
    """Time to the first TUI screen, to `labapp list` and to `labapp --help` (targets 1.5 s, 1 s, 1 s);
    whole-process `labapp run backprop` against the course's backprop program (target 1.05x)."""
    rows = [Row("labapp --help", _median_wall([*LABAPP, "--help"]), 1.0, "s", "target: under 1 s"),
            Row("labapp list", _median_wall([*LABAPP, "list"]), 1.0, "s", "target: under 1 s"),
            whole_process("backprop", "backprop.py", 100)]
    screen = first_screen()
    if screen is not None:
        rows.append(Row("first TUI screen (tmux, 80x24)", screen, 1.5, "s", "target: under 1.5 s"))
    else:
        print("  startup: tmux is not installed, so the first screen is not measured "
              "(apt-get install tmux)", file=sys.stderr)
    return rows


def peak_rss(command: list[str]) -> float:
    """Peak resident memory of `command`, in MiB (measured in a fresh parent of its own)."""
    probe = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], capture_output=True, check=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([PYTHON, "-c", probe, *command], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def memory(quick: bool) -> list[Row]:
    """Peak RSS of headless runs (the MNIST lessons against the course's program) and of the TUI."""
    from benchmarks import mnist as bench

    rows = []
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as scratch:
        mnist_data = bench.mnist_folder(None, scratch)
        for lesson in ("softmax-mnist",) if quick else ("softmax-mnist", "cnn-basics", "cnn-advanced"):
            ours = peak_rss([*LABAPP, "run", lesson, "--epochs", "1", "--quiet", "--out", out,
                             "--data-dir", mnist_data])
            course = peak_rss([PYTHON, str(bench.REFERENCE), "--epochs", "1", "--data", mnist_data]) \
                if lesson == "softmax-mnist" else None
            rows.append(Row(f"peak RSS: labapp run {lesson}, one epoch (vs the course program)", ours, course, "MiB",
                            "labapp keeps each split as one normalised tensor" if course else ""))
        rows.append(Row("peak RSS: labapp run multi-dim-input",
                        peak_rss([*LABAPP, "run", "multi-dim-input", "--quiet", "--out", out, "--data-dir", data_dir()]),
                        None, "MiB"))
        rows.append(Row("peak RSS: the TUI training backprop (Pilot)",
                        peak_rss([PYTHON, "-m", "benchmarks.tui", "memory"]), None, "MiB"))
    return rows


def tui(quick: bool) -> list[Row]:
    """TUI overhead and key latency, measured by benchmarks/tui.py in a process of its own."""
    done = subprocess.run([PYTHON, "-m", "benchmarks.tui", "overhead", "quick" if quick else "full"],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    result = _last_json(done.stdout)
    rows = [Row(f"TUI vs headless: {result['lesson']} ({result['epochs']} epochs, chart live)",
                result["tui_s"], result["headless_s"], "s", "target: at most 1.10x")]
    latency, how = tmux_key_latency(quick), "tmux"
    if latency is None:  # no tmux here (`apt-get install tmux` for the real-terminal measurement)
        done = subprocess.run([PYTHON, "-m", "benchmarks.tui", "keys", "quick" if quick else "full"],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        latency, how = _last_json(done.stdout), "Pilot, no tmux here"
    rows.append(Row(f"key press answered while training ({how}, p95)", latency["p95"], 0.1, "s",
                    f"median {latency['median'] * 1000:.0f} ms over {latency['presses']} presses; target 100 ms"))
    return rows


def tmux_key_latency(quick: bool) -> dict | None:
    """p95 of the time from a key press to the screen showing its effect, while the TUI trains."""
    if shutil.which("tmux") is None:
        return None
    session = f"labapp-keys-{os.getpid()}"
    with tempfile.TemporaryDirectory() as out:
        env = f"LABAPP_RUNS_DIR={out} LABAPP_LANG=en"
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
                        f"env {env} {' '.join(LABAPP)} --lesson backprop"], check=True, cwd=ROOT)
        try:
            _wait_for(session, b"idle")  # torch has loaded
            for keys in (["Enter"], ["Tab"], ["Tab"], ["Tab"]):  # open the lesson; to variant, lr, epochs
                subprocess.run(["tmux", "send-keys", "-t", session, *keys])
                time.sleep(0.5)
            subprocess.run(["tmux", "send-keys", "-t", session, "-l", "100000"])
            time.sleep(0.2)
            subprocess.run(["tmux", "send-keys", "-t", session, "Enter"])  # run; focus leaves the field
            _wait_for(session, b"running")
            latencies = []
            for _ in range(10 if quick else 30):
                if b"running" not in _capture(session):
                    break
                before = b"(log10)" in _capture(session)
                start = time.perf_counter()
                subprocess.run(["tmux", "send-keys", "-t", session, "g"])
                while (b"(log10)" in _capture(session)) == before:
                    if time.perf_counter() - start > 5:
                        raise RuntimeError("a key press was never answered")
                latencies.append(time.perf_counter() - start)
                time.sleep(0.1)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    latencies.sort()
    return {"p95": latencies[max(0, int(round(0.95 * len(latencies))) - 1)],
            "median": statistics.median(latencies), "presses": len(latencies)}


def _wait_for(session: str, text: bytes, timeout: float = 30) -> None:
    start = time.perf_counter()
    while text not in _capture(session):
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"{text!r} never showed; the screen:\n{_capture(session).decode()}")
        time.sleep(0.05)


def floor(quick: bool) -> list[Row]:
    """Each training lesson's epoch under `labapp run` against the compute floor (benchmarks/floor.py)."""
    from benchmarks import floor as bench

    rows = []
    for result in bench.measure(epochs=3 if quick else 5, rounds=1 if quick else 3):
        course = f"; the course's program {result['course_s']:.3g} s" if result["course_s"] is not None else ""
        target = f"target at most {bench.TARGET}" if result["matters"] else "epoch under 0.1 s: no target"
        rows.append(Row(f"{result['case']} vs the compute floor ({result['threads']} thread(s))", result["labapp_s"],
                        result["floor_s"], "s/epoch", f"{target}{course}"))
    return rows


def mnist(quick: bool) -> list[Row]:
    """softmax-mnist against the course's MNIST program, first epoch of each (benchmarks/mnist.py)."""
    from benchmarks import mnist as bench

    result = bench.measure(quick=quick)
    runs = result["runs"]
    rows = [Row(f"softmax-mnist vs the course program, first epoch ({result['data']})",
                runs["labapp"]["epoch_s"][0], runs["course"]["epoch_s"][0], "s/epoch",
                f"test accuracy labapp {runs['labapp']['accuracy'][0]:.2%} | "
                f"course {runs['course']['accuracy'][0]:.2%}; target ratio at most {bench.TARGET}")]
    if "course, 1 thread" in runs:
        rows.append(Row("softmax-mnist vs the course program on one thread (the data pipeline alone)",
                        runs["labapp"]["epoch_s"][0], runs["course, 1 thread"]["epoch_s"][0], "s/epoch"))
    return rows

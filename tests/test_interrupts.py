"""Interruptions and terminals: signals and kill -9 during `labapp run`, quitting, rapid start/stop, resizing.

A stopped run is recorded as stopped; a killed one keeps every record flushed before the kill and
lists as interrupted; the workbench never holds more than one training thread, and twenty quick
start/stop cycles leave no memory behind; the layout survives any size; dumb terminals get no
escape codes.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import tracemalloc
import warnings
from pathlib import Path

import pytest

from labapp.app import LabApp
from tests.conftest import COUNTER, ROOT, labapp
from tests.test_app import CATALOGUE, long_run, open_lesson, press_run, set_field, status_text, until

ESC = "\x1b"


def start_long_run(runs_dir: Path, *flags: str) -> subprocess.Popen:
    """`labapp run gradient-descent` for 100,000 stochastic epochs (three records each), piped."""
    env = {**os.environ, "LABAPP_RUNS_DIR": str(runs_dir)}
    return subprocess.Popen([sys.executable, "-m", "labapp", "run", "gradient-descent", "--epochs", "100000",
                             "--lr", "0.001", "--mode", "stochastic", *flags], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def last_epoch_seen(process: subprocess.Popen, lines: int) -> int:
    """Read `lines` progress lines; the epoch of the last one ('epoch 12/100000  cost ...')."""
    assert process.stdout.readline().startswith("gradient-descent: 100000 epochs")
    epoch = 0
    for _ in range(lines):
        epoch = int(process.stdout.readline().split()[1].split("/")[0])
    return epoch


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_run_records_it_as_stopped_and_exits_with_its_code(signum, code, runs_dir):
    process = start_long_run(runs_dir)
    seen = last_epoch_seen(process, 3)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert "Traceback" not in err
    [run] = (runs_dir / "gradient-descent").iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "stopped" and summary["epochs_done"] >= seen
    assert "stopped at epoch" in out


def test_kill_9_mid_epoch_keeps_every_flushed_record_and_lists_as_interrupted(runs_dir):
    process = start_long_run(runs_dir)
    seen = last_epoch_seen(process, 20)
    process.kill()
    process.wait(10)
    [run] = (runs_dir / "gradient-descent").iterdir()
    assert not (run / "summary.json").exists()
    lines = (run / "metrics.jsonl").read_text().split("\n")
    whole, torn = lines[:-1], lines[-1]  # a kill may tear the last line (written, not yet flushed)
    rows = [json.loads(line) for line in whole]  # every complete line is valid JSON
    epochs = [row["epoch"] for row in rows if row["kind"] == "metric" and row["step"] is None]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= seen, "nothing printed is lost"
    assert torn == "" or not torn.endswith("}")
    result = labapp("runs", env={"LABAPP_RUNS_DIR": str(runs_dir)})
    assert result.returncode == 0 and "Traceback" not in result.stderr
    [line] = [line for line in result.stdout.splitlines() if "gradient-descent" in line]
    assert " interrupted " in line and f" {max(epochs)} " in line and str(run) in line


# -- the workbench --------------------------------------------------------------------------------

def training_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "labapp-counter"]  # Run.start names its thread


def rss_kib() -> int:
    """Resident memory of this process, from /proc (KiB)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


async def start_stop_cycles(pilot, cycles: int, most: list[int]) -> None:
    """Run and stop the counter lesson `cycles` times, as fast as the keys allow; `most` keeps the peak thread count."""
    app = pilot.app
    for cycle in range(cycles):
        runs = len(app.bench.traces.get("counter", []))
        await pilot.press("r")
        if cycle % 2:  # every other cycle, wait until it trains: stop mid-epoch, not before the start
            await until(pilot, lambda: app.bench.active is not None and app.bench.active.epoch >= 1, timeout=10)
        most[0] = max(most[0], len(training_threads()))
        await pilot.press("s")
        await until(pilot, lambda: app.bench.active is None and len(app.bench.traces["counter"]) == runs + 1, timeout=10)
        most[0] = max(most[0], len(training_threads()))


def settle() -> int:
    """Empty Textual's and rich's bounded render caches (LRU, up to a few MiB) and collect; live objects.

    What stays after this is what the app holds on to, so before and after can be compared.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for thing in gc.get_objects():
            if isinstance(thing, functools._lru_cache_wrapper) and \
                    getattr(thing, "__module__", "").partition(".")[0] in ("textual", "rich"):
                thing.cache_clear()
    gc.collect()
    return len(gc.get_objects())


async def test_twenty_rapid_start_stop_cycles_leave_one_thread_at_most_and_no_memory(runs_dir):
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.bench.torch_ready, timeout=30)
        await open_lesson(pilot, COUNTER.number)
        await set_field(pilot, "epochs", "10000")
        await set_field(pilot, "sleep", "0.005")
        await pilot.press("escape")
        app.set_focus(None)
        most = [0]
        await start_stop_cycles(pilot, 3, most)  # warm-up: imports, first renders
        tracemalloc.start()
        await start_stop_cycles(pilot, 2, most)  # traced from here on: what they allocate is what later runs replace
        app.action_reset()  # the traces of earlier runs are kept on purpose (overlays); measure without them
        await pilot.pause(0.3)
        objects_before = settle()
        before, rss_before = tracemalloc.get_traced_memory()[0], rss_kib()
        await start_stop_cycles(pilot, 20, most)
        app.action_reset()
        await pilot.pause(0.3)
        objects_after = settle()
        after, rss_after = tracemalloc.get_traced_memory()[0], rss_kib()
        tracemalloc.stop()
        statuses = [json.loads((path / "summary.json").read_text())["status"] for path in (runs_dir / "counter").iterdir()]
        print(f"\n20 start/stop cycles: at most {most[0]} training thread(s); traced memory {before / 1024:.0f} -> "
              f"{after / 1024:.0f} KiB; live objects {objects_before} -> {objects_after}; RSS {rss_before} -> {rss_after} KiB")
        assert most[0] <= 1 and not training_threads()
        assert statuses.count("stopped") == 25, statuses
        assert after - before < 256 * 1024, "more than 256 KiB stayed behind after 20 cycles"
        assert objects_after - objects_before < 2000
        assert rss_after - rss_before < 32 * 1024, "RSS grew by more than 32 MiB over 20 cycles"


async def test_resizing_during_a_run_and_a_tiny_terminal(runs_dir):
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(120, 40)) as pilot:
        trace = await long_run(pilot)
        for size in ((60, 20), (200, 60), (40, 12), (20, 6), (80, 24), (141, 30), (60, 20)):
            seen = trace.epoch
            await pilot.resize_terminal(*size)
            await until(pilot, lambda: trace.epoch > seen + 5, timeout=10)  # it trains on through the resize
            assert app.size == size and trace.running, size
        assert status_text(app).startswith("● running · epoch "), "state and progress fit at 60 columns"
        await pilot.press("s")
        await until(pilot, lambda: trace.status == "stopped", timeout=5)
        [run_dir] = (runs_dir / "counter").iterdir()
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "stopped"


async def test_a_60x20_terminal_has_a_usable_workbench():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(60, 20)) as pilot:
        await open_lesson(pilot, 2)
        assert not app.sidebar, "the lesson list folds away to make room"
        screen = app.screen.region
        for selector in ("#title", "#param-lr", "#status"):
            widget = app.screen.query_one(selector) if selector == "#status" else app.workbench.view.query_one(selector)
            assert widget.region.width > 0 and screen.contains_region(widget.region), selector
        await set_field(pilot, "lr", "0.05")
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("gradient-descent"))
        await pilot.pause(0.6)
        assert "finished" in status_text(app) and "epoch 100/100" in status_text(app)
        chart = app.workbench.view.charts[0].text()
        assert "#1 lr=0.05" in chart and "chart unavailable" not in chart


# -- headless output on terminals -----------------------------------------------------------------

def run_on_a_terminal(env: dict[str, str]) -> str:
    """`labapp run gradient-descent --epochs 5 --no-record` with its stdout on a pseudo-terminal; what it printed."""
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "labapp", "run", "gradient-descent", "--epochs", "5", "--no-record"],
                               stdout=child, stderr=child, stdin=subprocess.DEVNULL, cwd=ROOT,
                               env={**os.environ, "COLUMNS": "100", "LINES": "30", **env})
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(60) == 0
    return b"".join(chunks).decode()


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"TERM": "xterm-256color", "NO_COLOR": "1"}], ids=["dumb", "no-color"])
def test_a_dumb_or_colourless_terminal_gets_no_escape_codes(env):
    out = run_on_a_terminal(env)
    assert ESC not in out
    assert "epoch 5/5  cost " in out and "finished 5 epochs" in out


def test_a_real_terminal_gets_the_progress_bar_in_colour():
    out = run_on_a_terminal({"TERM": "xterm-256color", "NO_COLOR": ""})
    assert ESC in out and "finished 5 epochs" in out

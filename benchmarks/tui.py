"""The TUI under measurement, in a process of its own: `python -m benchmarks.tui overhead|keys|speed|memory [quick|full]`.

overhead: the same lesson trained from the workbench (driven through Textual's Pilot at 120x40,
the Train tab and its chart live) and with `labapp run`, alternately, three times each; prints
the medians of the runs' own durations (summary.json) as a JSON line.
memory: trains the lesson once from the workbench (the parent reads this process's peak RSS).
speed: the workbench's own timings against their targets (issue 11, point 9), each the median of 5:
first screen, opening a lesson, the language toggle, quitting idle and mid-run, key presses while
training (p95). Run it on a quiet machine: `python -m benchmarks.tui speed`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time

from textual import events

from benchmarks.suite import run_labapp

LESSON = "backprop"  # per-sample updates in Python: the lesson where the UI competes most with training
EPOCHS = {"quick": 20000, "full": 50000}  # a few seconds a run: what a learner waits for


async def train_in_tui(epochs: int) -> float:
    """Seconds the run took, by its own clock, when started from the workbench."""
    from textual.widgets import Input

    from labapp.app import LabApp

    app = LabApp(lesson_id=LESSON, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.bench.torch_ready:
            await pilot.pause(0.05)
        await pilot.pause()
        app.workbench.view.query_one("#param-epochs", Input).value = str(epochs)
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("r")
        while not app.bench.traces.get(LESSON) or app.bench.active is not None:
            await asyncio.sleep(0.1)  # not pilot.pause(): that walks the whole DOM, work a user never adds
        trace = app.bench.traces[LESSON][-1]
        assert trace.status == "finished", trace.message
        return trace.elapsed


async def key_latency(presses: int) -> dict:
    """Press `g` (log scale) while the workbench trains; seconds until the chart has redrawn for it."""
    from textual.widgets import Input

    from labapp.app import LabApp

    app = LabApp(lesson_id=LESSON, lang="en")
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.bench.torch_ready:
            await pilot.pause(0.05)
        await pilot.pause()
        app.workbench.view.query_one("#param-epochs", Input).value = "100000"
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("r")
        while app.bench.active is None or app.bench.active.epoch < 100:
            await asyncio.sleep(0.05)
        chart = app.workbench.view.charts[0]
        for _ in range(presses):
            wanted = not app.log_scale
            start = time.perf_counter()
            app.post_message(events.Key("g", "g"))  # as the terminal driver delivers a key
            while not (chart.log_scale == wanted and chart._cached is not None):
                await asyncio.sleep(0.002)
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.1)
        app.action_stop()
    latencies.sort()
    return {"p95": latencies[max(0, round(0.95 * len(latencies)) - 1)],
            "median": statistics.median(latencies), "presses": len(latencies)}


TARGETS = {"first_screen_s": 0.5, "open_lesson_s": 0.1, "language_toggle_s": 0.3, "quit_idle_s": 0.3,
           "quit_running_s": 1.0, "key_p95_s": 0.05}
FIRST_SCREEN = """
import asyncio, sys, time
from labapp.app import LabApp
async def main():
    app = LabApp(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.workbench.view and app.workbench.view.form.query("Input, Select")):
            await asyncio.sleep(0.005)
        print(time.time() - float(sys.argv[1]))
        await pilot.pause(0.2)  # let the mounting finish before the app closes
asyncio.run(main())
"""


def first_screen() -> float:
    """Seconds from starting Python to the first lesson's form on screen (a fresh process, imports included)."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", FIRST_SCREEN, repr(time.time())], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return float(done.stdout.split()[-1])


async def until(condition, step: float = 0.002) -> None:
    """Wait on the event loop until `condition()` holds."""
    while not condition():
        await asyncio.sleep(step)


async def in_app_timings() -> dict[str, float]:
    """Opening a lesson (first time: built), the language toggle, quitting when idle."""
    from labapp.app import LabApp

    app = LabApp(lang="en")
    opened, toggled = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        sidebar = app.query_one("#sidebar")
        for index in (2, 4, 6, 8, 10):
            app.sidebar = True
            await pilot.pause()
            sidebar.highlighted = index
            start = time.perf_counter()
            await pilot.press("enter")
            lesson = app.bench.catalogue[index]
            await until(lambda: app.workbench.view.lesson is lesson and app.workbench.view.form.query("Input, Select")
                        and app.workbench.view.query_one("#title").region.width > 0)
            opened.append(time.perf_counter() - start)
        for _ in range(5):
            start = time.perf_counter()
            await pilot.press("z")
            view = app.workbench.view
            await until(lambda: view.lang == app.language and view.form.query("Input, Select")
                        and view.query_one("#title").region.width > 0)
            toggled.append(time.perf_counter() - start)
        asked = time.perf_counter()
        await pilot.press("q")
    quit_idle = time.perf_counter() - asked
    return {"open_lesson_s": statistics.median(opened), "language_toggle_s": statistics.median(toggled),
            "quit_idle_s": quit_idle}


async def quit_running() -> float:
    """Seconds from q, while backprop trains, until the app has exited with the run recorded as stopped."""
    from textual.widgets import Input

    from labapp.app import LabApp

    app = LabApp(lesson_id=LESSON, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.workbench.view and app.workbench.view.query("#param-epochs"))
        app.workbench.view.query_one("#param-epochs", Input).value = "100000"  # the most backprop allows
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("r")
        await until(lambda: app.bench.active is not None and app.bench.active.epoch > 50, 0.01)
        trace = app.bench.active
        asked = time.perf_counter()
        await pilot.press("q")
    took = time.perf_counter() - asked
    summary = json.loads((__import__("pathlib").Path(trace.run_dir) / "summary.json").read_text())
    assert summary["status"] == "stopped", summary
    return took


def speed() -> None:
    """Each figure the median of 5 (key presses: p95 of 30), printed with its target, then as JSON."""
    import os

    with tempfile.TemporaryDirectory() as out:
        os.environ["LABAPP_RUNS_DIR"] = out
        figures = {"first_screen_s": statistics.median(first_screen() for _ in range(5))}
        inside = [asyncio.run(in_app_timings()) for _ in range(5)]
        for name in ("open_lesson_s", "language_toggle_s", "quit_idle_s"):
            figures[name] = statistics.median(run[name] for run in inside)
        figures["quit_running_s"] = statistics.median(asyncio.run(quit_running()) for _ in range(5))
        figures["key_p95_s"] = asyncio.run(key_latency(30))["p95"]
    for name, value in figures.items():
        verdict = "ok" if value <= TARGETS[name] else "OVER"
        print(f"{name:<20} {value * 1000:8.0f} ms   target {TARGETS[name] * 1000:5.0f} ms   {verdict}")
    print(json.dumps(figures))


def overhead(mode: str) -> None:
    epochs = EPOCHS[mode]
    tui, headless = [], []
    for _ in range(3):
        tui.append(asyncio.run(train_in_tui(epochs)))
        headless.append(run_labapp(LESSON, "--epochs", str(epochs))["duration_s"])
    print(json.dumps({"lesson": LESSON, "epochs": epochs, "tui_s": statistics.median(tui),
                      "headless_s": statistics.median(headless), "tui_all": tui, "headless_all": headless}))


if __name__ == "__main__":
    what, mode = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "quick")
    if what == "overhead":
        overhead(mode)
    elif what == "speed":
        speed()
    elif what == "keys":
        print(json.dumps(asyncio.run(key_latency(10 if mode == "quick" else 30))))
    else:
        with tempfile.TemporaryDirectory() as out:
            import os

            os.environ["LABAPP_RUNS_DIR"] = out
            asyncio.run(train_in_tui(EPOCHS["quick"]))

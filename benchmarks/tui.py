"""The TUI under measurement, in a process of its own: `python -m benchmarks.tui overhead|memory [quick|full]`.

overhead: the same lesson trained from the workbench (driven through Textual's Pilot at 120x40,
the Train tab and its chart live) and with `labapp run`, alternately, three times each; prints
the medians of the runs' own durations (summary.json) as a JSON line.
memory: trains the lesson once from the workbench (the parent reads this process's peak RSS).
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
        while app.torch_state != "ready":
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()
        app.query_one("#param-epochs", Input).value = str(epochs)
        await pilot.pause()
        app._focus_tabs()
        await pilot.press("r")
        while not app.traces.get(LESSON) or app.active is not None:
            await asyncio.sleep(0.1)  # not pilot.pause(): that walks the whole DOM, work a user never adds
        trace = app.traces[LESSON][-1]
        assert trace.status == "finished", trace.message
        return trace.elapsed


async def key_latency(presses: int) -> dict:
    """Press `g` (log scale) while the workbench trains; seconds until the chart has redrawn for it."""
    from textual.widgets import Input

    from labapp.app import LabApp

    app = LabApp(lesson_id=LESSON, lang="en")
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        while app.torch_state != "ready":
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause()
        app.query_one("#param-epochs", Input).value = "100000"
        await pilot.pause()
        app._focus_tabs()
        await pilot.press("r")
        while app.active is None or app.active.epoch < 100:
            await asyncio.sleep(0.05)
        chart = app.view.charts[0]
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
    elif what == "keys":
        print(json.dumps(asyncio.run(key_latency(10 if mode == "quick" else 30))))
    else:
        with tempfile.TemporaryDirectory() as out:
            import os

            os.environ["LABAPP_RUNS_DIR"] = out
            asyncio.run(train_in_tui(EPOCHS["quick"]))

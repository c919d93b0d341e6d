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
    else:
        with tempfile.TemporaryDirectory() as out:
            import os

            os.environ["LABAPP_RUNS_DIR"] = out
            asyncio.run(train_in_tui(EPOCHS["quick"]))

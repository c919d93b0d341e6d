"""The TUI under measurement, in a process of its own: `python -m benchmarks.tui overhead|keys|speed|memory [quick|full]`.

overhead: the same lesson trained from the workbench (driven through Textual's Pilot at 120x40,
the Train tab and its chart live) and with `labapp run`, alternately, three times each; prints
the medians of the runs' own durations (summary.json) as a JSON line.
memory: trains the lesson once from the workbench (the parent reads this process's peak RSS).
speed: the workbench's own timings against their targets (issue 11, point 9), each the median of 5:
first screen, opening a lesson (at once after the first screen; and after a pause on it in the list),
the language toggle, quitting idle and mid-run, key presses while training (p95); and CPU seconds
beside them, which a loaded machine inflates far less than wall time; and two floors under the first
screen measured in the same run: Python, Textual and one Static; plain Textual laying out a tree of
the first screen's kinds of widgets. Run it on a quiet machine: `python -m benchmarks.tui speed`.
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


TARGETS = {"first_screen_s": 0.5, "open_lesson_s": 0.1, "open_lesson_settled_s": 0.1, "language_toggle_s": 0.3,
           "quit_idle_s": 0.3, "quit_running_s": 1.0, "key_p95_s": 0.05}
FIRST_SCREEN = """
import asyncio, gc, sys, time
gc.disable()  # as labapp.cli.open_workbench does before importing the app
from labapp.app import LabApp
def shown(app):  # as benchmarks.tui.shown (not imported: its imports are no part of the first screen)
    view = app.workbench.view
    return bool(view is not None and view.display and view.form.query("Input, Select")
                and view.query_one("#title").region.width > 0)
async def main():
    app = LabApp(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        while not shown(app):
            await asyncio.sleep(0.005)
        print(time.time() - float(sys.argv[1]), time.process_time())
        await pilot.pause(0.2)  # let the mounting finish before the app closes
asyncio.run(main())
"""


FLOOR_SCREEN = """
import asyncio, sys, time
from textual.app import App
from textual.widgets import Static
class Floor(App):
    def compose(self):
        yield Static("labapp", id="title")
async def main():
    app = Floor()
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.query_one("#title").region.width:
            await asyncio.sleep(0.005)
        print(time.time() - float(sys.argv[1]), time.process_time())
asyncio.run(main())
"""  # the floor under the first screen: Python, Textual and one Static, on this machine, in this run


FLOOR_TREE = """
import asyncio, sys, time
from textual.app import App
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static, TabbedContent, TabPane
class Floor(App):
    def compose(self):
        with Horizontal():
            yield OptionList(*[f"{n}. lesson {n}" for n in range(1, 15)])
            with Vertical():
                yield Static("1. lesson", id="title")
                with TabbedContent(initial="train"):
                    with TabPane("Learn 1", id="learn"):
                        yield VerticalScroll()
                    with TabPane("Train 2", id="train"):
                        with Horizontal():
                            with VerticalScroll():
                                for n in range(5):
                                    yield Label(f"param{n} help")
                                    yield Input(str(n), compact=True)
                                    yield Static("")
                                yield Label("device")
                                yield Select([("auto", "auto"), ("cpu", "cpu")], value="auto", allow_blank=False, compact=True)
                                with Horizontal():
                                    for name in ("Run r", "Stop s", "Reset x", "Defaults d"):
                                        yield Button(name, compact=True)
                            with Vertical():
                                yield Static("panels")
                                with Horizontal():
                                    yield Static("chart 1")
                                    yield Static("chart 2")
                                with Horizontal():
                                    with VerticalScroll():
                                        yield Static("shapes")
                                        yield Static("no results")
                                    with Vertical():
                                        yield DataTable()
                    with TabPane("Code 3", id="code"):
                        yield VerticalScroll(Static(""))
        yield Static("status")
        yield Static("keys")
async def main():
    app = Floor()
    async with app.run_test(size=(80, 24)) as pilot:
        while not (app.query("Input") and app.query_one("#title").region.width):
            await asyncio.sleep(0.005)
        print(time.time() - float(sys.argv[1]), time.process_time())
asyncio.run(main())
"""  # a second floor: plain Textual laying out a tree of the first screen's kinds of widgets, about as many
# (the lesson list, tabs, a form of five fields, a device picker, four buttons, panels, a table), no labapp code


def shown(app, lesson=None) -> bool:
    """Whether the view of `lesson` (any, if None) is on screen: its form's fields exist and it is laid out."""
    view = app.workbench.view
    return bool(view is not None and (lesson is None or view.lesson is lesson) and view.display
                and view.form.query("Input, Select") and view.query_one("#title").region.width > 0)


def first_screen(program: str = FIRST_SCREEN) -> tuple[float, float]:
    """Seconds from starting Python to the first lesson's form on screen (a fresh process, imports included),
    and the CPU seconds the process used until then."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", program, repr(time.time())], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    wall, cpu = done.stdout.split()[-2:]
    return float(wall), float(cpu)


async def until(condition, step: float = 0.002) -> None:
    """Wait on the event loop until `condition()` holds."""
    while not condition():
        await asyncio.sleep(step)


def press(app, key: str) -> None:
    """A key as the terminal driver delivers it (Pilot.press also waits on every widget: work a user never adds)."""
    app.post_message(events.Key(key, key if len(key) == 1 else None))


async def open_lessons(app, indexes, read: bool = False) -> tuple[list[float], list[float]]:
    """Open each lesson of `indexes` from the lesson list: seconds from Enter until it is on screen, and the
    UI thread's CPU seconds meanwhile. `read`: Enter only once the highlighted lesson's view has been built
    in the background, as while a user reads the list; else at once."""
    sidebar = app.query_one("#sidebar")
    wall, cpu = [], []
    for index in indexes:
        app.sidebar = True
        await asyncio.sleep(0.1)
        sidebar.highlighted = index
        lesson = app.bench.catalogue[index]
        if read:
            await until(lambda: (view := app.workbench.built.get((lesson.id, app.language))) is not None and view.ready)
        start, used = time.perf_counter(), time.thread_time()
        press(app, "enter")
        await until(lambda: shown(app, lesson))
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - used)
    return wall, cpu


async def in_app_timings() -> dict[str, float]:
    """Opening a lesson the first time, at once after the first screen (torch loading), and once torch has
    loaded with a pause on the highlighted lesson (its view built meanwhile); the language toggle; quitting idle."""
    from labapp.app import LabApp

    app = LabApp(lang="en")
    toggled = []
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: shown(app))
        opened, opened_cpu = await open_lessons(app, (2, 4, 6, 8, 10))
        await until(lambda: app.bench.torch_ready, 0.05)
        settled, settled_cpu = await open_lessons(app, (3, 5, 7, 9, 11), read=True)
        for _ in range(5):
            wanted = "en" if app.language == "zh" else "zh"
            start = time.perf_counter()
            press(app, "z")
            await until(lambda: app.language == wanted and app.workbench.view.lang == wanted and shown(app))
            toggled.append(time.perf_counter() - start)
        asked = time.perf_counter()
        await pilot.press("q")
    quit_idle = time.perf_counter() - asked
    return {"open_lesson_s": statistics.median(opened), "open_lesson_settled_s": statistics.median(settled),
            "language_toggle_s": statistics.median(toggled), "quit_idle_s": quit_idle,
            "open_lesson_cpu_s": statistics.median(opened_cpu), "open_lesson_settled_cpu_s": statistics.median(settled_cpu)}


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
    """Each figure the median of 5 (key presses: p95 of 30), printed with its target, then as JSON; CPU seconds
    (the first screen's process, the UI thread while opening a lesson) beside them, as a load-proof measure."""
    import os

    import compileall
    from pathlib import Path

    # A user's Python caches its bytecode on the first start; a machine that sets PYTHONDONTWRITEBYTECODE
    # (this project's does) would otherwise compile every labapp module again at each start (about 0.2 s).
    root = Path(__file__).resolve().parent.parent
    for package in ("labapp", "lessons"):
        compileall.compile_dir(root / package, quiet=1)
    with tempfile.TemporaryDirectory() as out:
        os.environ["LABAPP_RUNS_DIR"] = out
        floors = [first_screen(FLOOR_SCREEN) for _ in range(5)]
        tree_floors = [first_screen(FLOOR_TREE) for _ in range(5)]
        screens = [first_screen() for _ in range(5)]
        figures = {"first_screen_s": statistics.median(wall for wall, _ in screens)}
        cpu = {"first_screen_cpu_s": statistics.median(used for _, used in screens),
               "floor_screen_cpu_s": statistics.median(used for _, used in floors)}
        floor = statistics.median(wall for wall, _ in floors)
        tree_floor = statistics.median(wall for wall, _ in tree_floors)
        cpu["floor_tree_cpu_s"] = statistics.median(used for _, used in tree_floors)
        inside = [asyncio.run(in_app_timings()) for _ in range(5)]
        for name in ("open_lesson_s", "open_lesson_settled_s", "language_toggle_s", "quit_idle_s"):
            figures[name] = statistics.median(run[name] for run in inside)
        for name in ("open_lesson_cpu_s", "open_lesson_settled_cpu_s"):
            cpu[name] = statistics.median(run[name] for run in inside)
        figures["quit_running_s"] = statistics.median(asyncio.run(quit_running()) for _ in range(5))
        figures["key_p95_s"] = asyncio.run(key_latency(30))["p95"]
    for name, value in figures.items():
        verdict = "ok" if value <= TARGETS[name] else "OVER"
        print(f"{name:<22} {value * 1000:8.0f} ms   target {TARGETS[name] * 1000:5.0f} ms   {verdict}")
    print(f"{'floor_screen_s':<22} {floor * 1000:8.0f} ms   (Python, Textual and one Static: the first screen is "
          f"{figures['first_screen_s'] / floor:.2f} x this)")
    print(f"{'floor_tree_s':<22} {tree_floor * 1000:8.0f} ms   (plain Textual laying out a tree of the first screen's kinds "
          f"of widgets: the first screen is {figures['first_screen_s'] / tree_floor:.2f} x this)")
    for name, value in cpu.items():
        print(f"{name:<26} {value * 1000:4.0f} ms cpu")
    print(json.dumps({**figures, "floor_screen_s": floor, "floor_tree_s": tree_floor, **cpu}))


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

"""The workbench driven through Textual's Pilot: select, edit, run, stop, switch, quit."""

import json
import subprocess
import sys
import time

import pytest
from textual.widgets import Input

from labapp.app import LabApp
from labapp.widgets.chart import LessonChart
from labapp.widgets.param_form import ParamForm
from labapp.widgets.status import StatusLine
import lessons
from tests.conftest import COUNTER, ROOT


async def until(pilot, condition, timeout=20.0):
    """Let the app run until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; the status line says: {status_text(pilot.app)}"
        await pilot.pause(0.02)


def status_text(app) -> str:
    return str(app.workbench.status_line.render())


def said_text(app) -> str:
    """Everything the workbench has said: its status line and its whole message log (`m`)."""
    return "\n".join([status_text(app), *(message.text for message in app.bench.log)])


async def open_lesson(pilot, number: int) -> None:
    app = pilot.app
    app.set_focus(None)
    if not app.sidebar:
        await pilot.press("b")
    app.query_one("#sidebar").focus()
    app.query_one("#sidebar").highlighted = app.bench.catalogue.index(
        next(lesson for lesson in app.bench.catalogue if lesson.number == number))
    await pilot.press("enter")
    await until(pilot, lambda: app.bench.lesson.number == number and app.workbench.view is not None and app.workbench.view.lesson.number == number)


async def set_field(pilot, name: str, text: str) -> None:
    await until(pilot, lambda: pilot.app.workbench.view is not None and pilot.app.workbench.view.query(f"#param-{name}"))
    field = pilot.app.workbench.view.query_one(f"#param-{name}", Input)
    field.value = text
    await pilot.pause()


async def press_run(pilot) -> None:
    pilot.app.set_focus(None)
    await pilot.pause()
    await pilot.press("r")


def test_the_app_module_does_not_import_torch():
    code = "import sys, labapp.app\nassert 'torch' not in sys.modules and 'torchvision' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


async def test_select_a_lesson_and_run_it_to_completion(runs_dir):
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lesson(pilot, 2)
        assert "2. Gradient descent" in str(app.workbench.view.query_one("#title").render())
        await set_field(pilot, "lr", "0.05")
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("gradient-descent"))
        trace = app.bench.traces["gradient-descent"][-1]
        assert trace.status == "finished" and trace.epoch == 100
        assert trace.values["lr"] == 0.05 and trace.label == "lr=0.05"
        assert trace.views["result"]["predict(4) after"] == pytest.approx(8.0, abs=1e-3)
        await pilot.pause(0.3)
        assert "finished" in status_text(app) and "epoch 100/100" in status_text(app)
        chart = app.workbench.view.charts[0]
        assert "#1 lr=0.05" in chart.text()
        [run_dir] = (runs_dir / "gradient-descent").iterdir()
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"

        # a second run with another lr overlays the first
        await set_field(pilot, "lr", "0.01")
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and len(app.bench.traces["gradient-descent"]) == 2)
        await pilot.pause(0.3)
        drawn = chart.text()
        assert "#1 lr=0.05" in drawn and "#2 course defaults" in drawn


async def test_invalid_input_blocks_run_until_fixed():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lesson(pilot, 2)
        for bad, message in (("abc", "lr: 'abc' is not a number"), ("-1", "lr: '-1' is out of range: must be > 0")):
            await set_field(pilot, "lr", bad)
            assert message in str(app.workbench.view.query_one("#error-lr").render())
            assert app.workbench.view.query_one("#param-lr").has_class("invalid")
            assert app.workbench.view.query_one("#run").disabled
            await press_run(pilot)
            await pilot.pause(0.2)
            assert not app.bench.traces.get("gradient-descent"), "Run does nothing while a field is invalid"
            assert message in status_text(app)
        await set_field(pilot, "lr", "0.02")
        assert not app.workbench.view.query_one("#run").disabled and not app.workbench.view.query_one("#param-lr").has_class("invalid")
        await press_run(pilot)
        await until(pilot, lambda: app.bench.traces.get("gradient-descent") and app.bench.active is None)


async def test_cross_field_rules_show_in_the_form():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lesson(pilot, 1)
        await set_field(pilot, "w_min", "5")
        assert "w_min (5) must be less than w_max (4)" in str(app.workbench.view.query_one("#rule-error").render())
        assert not app.workbench.view.form.state.valid and app.workbench.view.query_one("#run").disabled
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.pause()
        assert app.workbench.view.form.state.valid and app.workbench.view.query_one("#param-w_min", Input).value == "0.0"


CATALOGUE = (*lessons.LESSONS, COUNTER)


async def long_run(pilot):
    """Start the test lesson 'counter' for 10,000 epochs of 5 ms each; return once it has done a few."""
    app = pilot.app
    await open_lesson(pilot, COUNTER.number)
    await set_field(pilot, "epochs", "10000")
    await set_field(pilot, "sleep", "0.005")
    await press_run(pilot)
    await until(pilot, lambda: app.bench.active is not None and app.bench.active.epoch > 5)
    return app.bench.active


async def test_stop_takes_effect_quickly_and_keeps_records(runs_dir):
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        trace = await long_run(pilot)
        run = app.bench.run
        asked = time.monotonic()
        await pilot.press("s")
        await until(pilot, lambda: trace.status == "stopped", timeout=2)
        await pilot.pause(0.3)
        assert time.monotonic() - asked < 2, "stop is a flag checked between steps: prompt"
        assert "stopped" in status_text(app)
        # the status says stopped as the runner ends; its thread then writes (and syncs) the summary
        await until(pilot, lambda: run.join(0), timeout=5)
        [run_dir] = (runs_dir / "counter").iterdir()
        assert json.loads((run_dir / "summary.json").read_text())["status"] == "stopped"
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
        assert len(lines) >= 5 and all(json.loads(line) for line in lines)


async def test_quit_while_running_stops_the_thread(runs_dir):
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await long_run(pilot)
        run = app.bench.run
        asked = time.monotonic()
        await pilot.press("q")
        await pilot.pause(0.1)
    assert time.monotonic() - asked < 2
    assert run.join(0)
    [run_dir] = (runs_dir / "counter").iterdir()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "stopped"


async def test_switching_lessons_keeps_the_run_going():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        trace = await long_run(pilot)
        await open_lesson(pilot, 1)
        seen = trace.epoch
        await pilot.pause(0.5)
        assert trace.running and trace.epoch > seen, "the run goes on in the background"
        assert "running" in status_text(app) and "counter" in status_text(app)
        await press_run(pilot)
        await pilot.pause(0.1)
        assert "counter is training: stop it first" in status_text(app)
        await open_lesson(pilot, COUNTER.number)
        assert app.workbench.view.query_one("#param-epochs", Input).value == "10000", "form edits are kept"
        await pilot.pause(0.3)
        assert "#1" in app.workbench.view.charts[0].text()
        await pilot.press("s")
        await until(pilot, lambda: not trace.running, timeout=2)


async def test_a_diverging_run_is_shown_and_the_app_stays_up():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lesson(pilot, 2)
        await set_field(pilot, "lr", "10")
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("gradient-descent"))
        await pilot.pause(0.3)
        assert "diverged" in status_text(app)
        chart = app.workbench.view.charts[0]
        assert "diverged at epoch" in chart.text()
        await pilot.press("g")  # log scale on a diverged run
        await pilot.pause(0.3)
        assert "(log10)" in chart.text()
        await set_field(pilot, "lr", "0.01")
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and len(app.bench.traces["gradient-descent"]) == 2)
        assert app.bench.traces["gradient-descent"][-1].status == "finished"


async def test_language_toggle_and_tabs():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_lesson(pilot, 3)
        await pilot.press("z")
        await pilot.pause()
        assert "反向传播" in str(app.workbench.view.query_one("#title").render())
        await pilot.press("3")
        await pilot.pause()
        assert app.workbench.view.query_one("#tabs").active == "code"
        code = app.workbench.view.code  # the take-away program, with the form's values
        assert ".backward()" in code and "import labapp" not in code and "from labapp" not in code


async def test_the_language_key_keeps_the_tab_and_a_field_quotes_brackets_as_typed():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lesson(pilot, 3)
        await pilot.press("3")
        await until(pilot, lambda: app.workbench.view.query_one("#tabs").active == "code")
        await pilot.press("z")  # the Chinese view opens on the tab the English one showed
        await until(pilot, lambda: app.workbench.view.lang == "zh" and app.workbench.view.ready)
        assert app.workbench.view.query_one("#tabs").active == "code"
        await pilot.press("z")  # back to the English view, built already
        await until(pilot, lambda: app.workbench.view.lang == "en")
        assert app.workbench.view.query_one("#tabs").active == "code"
        await pilot.press("2")
        await pilot.pause()
        await set_field(pilot, "lr", "[/b][b")  # markup-like text is shown as typed, never parsed
        await pilot.pause(0.3)
        error = str(app.workbench.view.form.query_one("#error-lr").render())
        assert "[/b][b" in error and "lr" in error


async def test_a_change_heard_while_the_app_closes_is_no_crash():
    """A form's last change can come in after the screens are gone (quitting at once after typing): what would
    offer the keys again has no screen then, and must do nothing rather than raise."""
    app = LabApp(lesson_id="gradient-descent", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        app.workbench.view.query_one("#param-lr", Input).value = "0.5"  # its Changed is on its way
        app.exit()
    assert not app.screen_stack
    app.refresh_bindings()  # as the late Changed does

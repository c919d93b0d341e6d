"""Keys as a person types them, through Pilot: quick bursts, Escape, keys outside the action table, the message log."""

import string

from textual import events
from textual.widgets import Button, Input, Select, Switch

from labapp.actions import key_table
from labapp.app import LabApp
from tests.conftest import COUNTER
from tests.test_app import status_text, until
from tests.test_app_step import TIMEOUT, shown_update

LETTERS = {"?": "question_mark", "/": "slash", ",": "comma", ".": "full_stop", "-": "minus", "!": "exclamation_mark",
           " ": "space"}


def bound_keys() -> set[str]:
    return {key for keys, *_ in key_table() for key in keys.split(",")}


async def test_a_run_made_in_step_mode_is_logged_once_when_it_ends():
    app = LabApp(lesson_id="gradient-descent", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_focus(None)
        for number in (1, 2, 3):
            await pilot.press("t")
            await until(pilot, lambda: shown_update(app) == number, timeout=TIMEOUT)
        await pilot.press("r")
        await until(pilot, lambda: app.bench.active is None and "finished" in status_text(app), timeout=TIMEOUT)
        await pilot.press("m")  # the message log
        await pilot.pause(0.3)
        finished = [message.text for message in app.bench.log if "finished" in message.text]
        assert finished == [f"finished 100 epochs · {app.bench.latest().run_dir}"]
        logged = [str(line.render()) for line in app.screen.query(".log-line")]  # a path wraps after a slash
        assert any(str(app.bench.latest().run_dir) in "".join(line.split()) for line in logged), logged
        await pilot.press("escape")  # back where the user was: the Train tab, no field focused
        await pilot.pause(0.3)
        assert app.workbench.view.query_one("#tabs").active == "train" and app.focused is None
        for opened in ("m", "ctrl+p"):  # Escape, first of the keys, still closes the log and the palette
            await pilot.press(opened)
            await until(pilot, lambda: len(app.screen_stack) == 2)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.workbench)
        await pilot.press("m")
        await until(pilot, lambda: len(app.screen_stack) == 2)
        await pilot.press("alt+z")  # Escape and z read together: the log closes, and z acts
        await until(pilot, lambda: app.screen is app.workbench and app.language == "zh")


async def test_b_after_enter_in_the_lesson_list_acts_at_once_even_in_a_burst():
    app = LabApp(lang="en", catalogue=(COUNTER, *__import__("lessons").LESSONS[:3]))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        await pilot.press("down")
        # Enter and b typed together (or read together under load): the list's choice comes first
        app.post_message(events.Key("enter", "\r"))
        app.post_message(events.Key("b", "b"))
        await until(pilot, lambda: app.workbench.view.lesson.id == "linear-model")
        await pilot.pause(0.3)
        assert app.sidebar and app.workbench.lessons.display, "one b brings the list back"
        await pilot.press("b")
        await pilot.pause(0.2)
        assert not app.sidebar and not app.workbench.lessons.display


async def test_no_key_outside_the_action_table_starts_a_run_from_anywhere():
    app = LabApp(lesson_id="counter", lang="en", catalogue=(COUNTER,))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        view = app.workbench.view
        assert not any(button.can_focus for button in view.query(Button)), "buttons take clicks, not the keys"
        keys = [LETTERS.get(c, c) for c in string.ascii_letters + "?/,.-! " if c not in bound_keys()]
        keys += ["tab", "shift+tab", "f1", "f2", "f3", "f4", "f8", "ctrl+r", "up", "down", "home", "end"]
        for where in (None, "#param-epochs", "#param-sleep", "#device"):
            for key in keys:
                view.query_one("#param-epochs", Input).value = "5"
                view.query_one("#param-sleep", Input).value = "0.0"
                app.set_focus(view.query_one(where) if where else None)
                await pilot.pause()
                await pilot.press(key)
                await pilot.pause()
                assert not app.bench.traces.get("counter"), f"{key} started a run (focus: {where})"
                while len(app.screen_stack) > 1:  # a palette or a menu opened: close it
                    app.pop_screen()
                view.query_one("#device", Select).expanded = False
        await pilot.click("#run")  # a click on a button still acts
        await until(pilot, lambda: app.bench.traces.get("counter") and app.bench.active is None)


async def test_escape_leaves_any_field_and_escape_with_the_next_key_is_both_keys():
    app = LabApp(lesson_id="linear-regression", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        view = app.workbench.view
        for field in (view.query_one("#param-lr", Input), view.query_one("#param-optimizer", Select),
                      view.query_one("#param-zero_grad", Switch), view.query_one("#device", Select)):
            field.focus()
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert app.focused is None, f"Escape left {field.id}"
        view.query_one("#param-optimizer", Select).focus()
        await pilot.press("enter")  # its menu open
        await pilot.pause(0.2)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.focused is None and not view.query_one("#param-optimizer", Select).expanded, "menu and field left"
        # Escape then r, read in one go (under load): the field is left first, and r runs
        view.query_one("#param-lr", Input).focus()
        await pilot.pause()
        app.post_message(events.Key("escape", "\x1b"))
        app.post_message(events.Key("r", "r"))
        await until(pilot, lambda: app.bench.traces.get("linear-regression"), timeout=TIMEOUT)
        assert view.query_one("#param-lr", Input).value == "0.01" and app.bench.latest().values["lr"] == 0.01
        app.bench.stop()
        await until(pilot, lambda: app.bench.active is None, timeout=TIMEOUT)
        # a terminal sends Escape then z, arriving together, as alt+z: the field is left and z acts
        view.query_one("#param-lr", Input).focus()
        await pilot.pause()
        await pilot.press("alt+z")
        await until(pilot, lambda: app.language == "zh")
        assert view.query_one("#param-lr", Input).value == "0.01", "nothing typed into the field"
        assert app.focused is None or not isinstance(app.focused, Input)


async def test_a_fields_own_keys_act_in_order_with_the_letters_typed_in_a_burst():
    app = LabApp(lesson_id="gradient-descent", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        field = app.workbench.view.query_one("#param-lr", Input)
        for keys, expected in ((["ctrl+a", "ctrl+k", "0", "full_stop", "5"], "0.5"),
                               (["backspace", "backspace", "backspace", "2"], "2"), (["left", "1"], "12")):
            field.focus()
            field.selection = type(field.selection)(len(field.value), len(field.value))  # the cursor at the end
            await pilot.pause()
            for key in keys:  # all read in one go, as under load: nothing waits between them
                app.post_message(events.Key(key, "." if key == "full_stop" else key if len(key) == 1 else None))
            await until(pilot, lambda: field.value == expected)
        assert app.bench.form().texts["lr"] == "12"
        for key in ["tab", "ctrl+a", "ctrl+k", "2", "0"]:  # Tab, then the next field's new text, in one go
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await until(pilot, lambda: app.bench.form().texts["epochs"] == "20")
        assert app.bench.form().texts["lr"] == "12"

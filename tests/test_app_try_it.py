"""The "try it" box: a lesson with a TryIt gets an input on its Train tab that asks the model of its latest run."""

import threading

from textual.widgets import Input

from labapp import data
from labapp.app import LabApp
from labapp.lesson import IntParam, Lesson, Metric, Text, TryIt
from labapp.widgets.try_box import TryBox
from tests.conftest import COUNTER
from tests.test_app import open_lesson, press_run, set_field, until
from tests.test_lessons_rnn import names, names_folder  # noqa: F401 - fixtures

ASKED_ON: list[threading.Thread] = []


def _echo_train(hp, run):
    for epoch in range(1, hp.epochs + 1):
        run.keep({"epoch": epoch})
        yield Metric(epoch=epoch, values={"loss": 1 / epoch})


def _echo_predict(state, text):
    ASKED_ON.append(threading.current_thread())
    return {"columns": ["text", "backwards", "epoch"], "rows": [[text or "(empty)", text[::-1], state["epoch"]]]}


ECHO = Lesson(id="echo", number=97, title=Text("回声", "Echo"), explanation=Text("测试用。", "For tests."),
              params=(IntParam(name="epochs", default=3, min=1, help=Text("轮数", "epochs")),),
              charts=COUNTER.charts, train=_echo_train, uses_torch=False,
              try_it=TryIt(prompt=Text("输入", "type something"), title=Text("回声", "Echo"), predict=_echo_predict))


def answer(app) -> str:
    return str(app.workbench.view.query_one("#try-answer").render())


async def ask(pilot, text: str) -> None:
    box = pilot.app.workbench.view.query_one("#try-input", Input)
    box.value = text
    box.focus()
    await pilot.press("enter")


async def test_the_box_answers_from_the_last_run_off_the_ui_thread():
    app = LabApp(lang="en", catalogue=(COUNTER, ECHO))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lesson(pilot, COUNTER.number)
        assert not app.workbench.view.query(TryBox), "only a lesson with a TryIt has the box"
        await open_lesson(pilot, ECHO.number)
        app.workbench.view.query_one("#try-input", Input).focus()
        await pilot.press("r")  # a letter typed in the box is text, not the Run key
        assert app.workbench.view.query_one("#try-input", Input).value == "r" and not app.bench.traces
        await pilot.press("enter")  # nor does Enter in the box run the lesson
        await until(pilot, lambda: "no trained model yet" in answer(app))
        assert not app.bench.traces

        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("echo"))
        await ask(pilot, "hello")
        await until(pilot, lambda: "olleh" in answer(app))
        assert "Echo" in answer(app) and "3" in answer(app)  # the model of the last epoch
        assert ASKED_ON and threading.main_thread() not in ASKED_ON
        await ask(pilot, "")
        await until(pilot, lambda: "(empty)" in answer(app))


async def test_the_classifier_box_shows_the_top_3_countries(names, monkeypatch):  # noqa: F811 - a fixture
    monkeypatch.setenv(data.ENV_VAR, str(names))
    app = LabApp(lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_lesson(pilot, 14)
        for name, text in (("hidden_size", "16"), ("batch_size", "32"), ("lr", "0.01"), ("epochs", "2")):
            await set_field(pilot, name, text)
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("rnn-classifier"), timeout=120)
        assert app.bench.traces["rnn-classifier"][-1].status == "finished"
        await ask(pilot, "Müller")
        await until(pilot, lambda: "Müller → Muller" in answer(app), timeout=30)
        assert answer(app).count("%") == 3
        await ask(pilot, "")
        await until(pilot, lambda: "no name given" in answer(app), timeout=30)

"""Step mode in the workbench through Pilot: the step key, the step panel, Run from there, stop while waiting."""

import lessons
from labapp.app import LabApp
from labapp.runner import run_lesson
from tests.test_app import status_text, until

TIMEOUT = 120  # seconds for a condition on a loaded machine (torch may still be loading)


def step_panel_text(app) -> str:
    return str(app.workbench.view.step.text.render())


def shown_update(app) -> int:
    """The number of the update the workbench shows as made and waiting (0 if none)."""
    trace = app.bench.active
    if trace is None or trace.step is None or app.bench.state() != "stepping":
        return 0
    return trace.step.number


async def test_three_steps_then_run_ends_where_a_straight_run_does():
    app = LabApp(lesson_id="gradient-descent", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_focus(None)
        expected = {1: ("= 1.0 − 0.01 × (-9.3333)", "= 1.0933", "epoch 1: cost 4.6667  w 1.0933"),
                    2: ("= 1.0933 − 0.01 × (-8.4622)", "= 1.178", "epoch 2: cost 3.8362  w 1.178"),
                    3: ("= 1.178 − 0.01 × (-7.6724)", "= 1.2547", "epoch 3: cost 3.1535  w 1.2547")}
        for number, needles in expected.items():
            await pilot.press("t")
            await until(pilot, lambda: shown_update(app) == number and f"update {number} ·" in step_panel_text(app),
                        timeout=TIMEOUT)
            text = step_panel_text(app)
            for needle in needles:
                assert needle in text, (needle, text)
            assert app.workbench.view.panels[app.workbench.view.current] is app.workbench.view.step
            assert "stepping" in status_text(app) and f"epoch {number}/100" in status_text(app)
            assert app.bench.active.epoch == number  # the chart has exactly the points of the updates shown
        await pilot.press("r")
        await until(pilot, lambda: app.bench.active is None, timeout=TIMEOUT)
        trace = app.bench.latest()
        straight = run_lesson(lessons.get("gradient-descent"), lessons.get("gradient-descent").defaults())
        assert trace.status == "finished" and trace.epoch == 100
        assert trace.latest["train"]["w"] == straight.final["train"]["w"]
        assert app.workbench.view.current == 0, "Run brings the chart back"


async def test_stop_while_waiting_records_a_stopped_run_and_lesson_3_draws_its_graph():
    app = LabApp(lesson_id="backprop", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_focus(None)
        await pilot.press("t")
        await until(pilot, lambda: shown_update(app) == 1 and "计算图" in step_panel_text(app), timeout=TIMEOUT)
        text = step_panel_text(app)
        for needle in ("第 1 次更新", "x = 1", "l = r² = 1", "∂l/∂w = -2  (.grad)", "∂l/∂w = ∂l/∂ŷ·x = -2·1 = -2"):
            assert needle in text, (needle, text)
        assert max(map(len, text.splitlines())) <= 48, "the graph's lines fit the panel at 80x24"
        await pilot.press("s")
        await until(pilot, lambda: app.bench.active is None, timeout=TIMEOUT)
        trace = app.bench.latest()
        assert trace.status == "stopped" and "in step mode, after update 1" in trace.message


async def test_a_lesson_without_step_mode_says_so():
    app = LabApp(lesson_id="sequential", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_focus(None)
        await pilot.press("t")
        await pilot.pause(0.2)
        assert app.bench.active is None
        assert "sequential has no step mode" in status_text(app) or any(
            "sequential has no step mode; lessons with step mode: gradient-descent" in m.text for m in app.bench.log)
        assert app.workbench.view.step is None and not app.workbench.view.query("#step-button")


async def test_a_torch_lesson_steps_with_the_numbers_of_a_headless_step():
    from labapp.runner import Run

    lesson = lessons.get("logistic-regression")
    headless = []

    class Keep:
        def start(self, info): pass
        def record(self, record, elapsed): headless.append(record)
        def finish(self, summary): pass

    Run(lesson, lesson.defaults(), sinks=[Keep()], steps=1, device="cpu").run()
    step = next(r for r in headless if getattr(r, "number", 0) == 1)
    app = LabApp(lesson_id="logistic-regression", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_focus(None)
        app.bench.form().device = "cpu"
        await pilot.press("t")
        await until(pilot, lambda: shown_update(app) == 1 and "update 1 ·" in step_panel_text(app), timeout=TIMEOUT)
        assert app.bench.active.step == step  # the same update, number for number
        assert "∂loss/∂w = " in step_panel_text(app) and "b ← b − lr·grad" in step_panel_text(app)
        await pilot.press("s")
        await until(pilot, lambda: app.bench.active is None, timeout=TIMEOUT)


async def test_lesson_4_says_why_a_comparison_has_no_step_mode():
    app = LabApp(lesson_id="linear-regression", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_focus(None)
        app.bench.form().set("compare", "SGD,Adam")
        await pilot.press("t")
        await pilot.pause(0.2)
        assert app.bench.active is None
        # in the workbench a comparison is a sweep (one run per optimizer): step mode follows one run
        assert any("step mode steps through one run: give one value, not a list" in m.text for m in app.bench.log)

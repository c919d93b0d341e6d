"""Sweeps in the workbench through Pilot: a list typed in a field, Run, one run after another, overlay, best, table."""

from rich.cells import cell_len
from textual.widgets import DataTable, Input

import lessons
from labapp.app import LabApp
from labapp.controller import changed_params
from tests.conftest import COUNTER
from tests.test_app import press_run, said_text, status_text, until


async def type_into(pilot, name: str, text: str) -> None:
    """Clear field `name` and type `text` into it key by key, as a person would."""
    field = pilot.app.workbench.view.query_one(f"#param-{name}", Input)
    field.focus()
    field.value = ""
    await pilot.pause()
    for char in text:
        await pilot.press({" ": "space", ",": "comma", ".": "full_stop"}.get(char, char))
    await pilot.pause()


async def test_lesson_2_sweeps_three_learning_rates_at_80x24(runs_dir):
    app = LabApp(lesson_id="gradient-descent", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.query("#param-lr"))
        view = app.workbench.view
        await type_into(pilot, "lr", "0.001, x")
        assert "lr: 'x' is not a number" in status_text(app) and not app.bench.form().valid
        await type_into(pilot, "lr", "0.001, 0.01, 0.1")
        assert app.bench.form().is_sweep and app.bench.form().errors == {}
        await press_run(pilot)
        await until(pilot, lambda: app.bench.sweep_of() is not None and not app.bench.sweep_of().running, timeout=120)
        await pilot.pause(0.5)
        said = said_text(app)
        for n, lr in enumerate(("0.001", "0.01", "0.1"), 1):
            assert f"sweep {n}/3 lr={lr}: finished 100 epochs" in said, "every run of the sweep, the last too, is in the log"
        assert "sweep done: 3 runs; best lr=0.1 (★ in Runs)" in status_text(app)
        runs = app.bench.past_runs()
        assert len(runs) == 3 and all(run.status == "finished" for run in runs)
        await pilot.press("4")
        await pilot.pause(0.5)
        plan = view.charts[0].plan
        assert [line.label for line in plan.lines] == ["lr=0.001", "lr=0.01", "lr=0.1"]
        assert len({line.color for line in plan.lines}) == 3
        legend = view.charts[0].text().splitlines()[-1]
        assert "lr=0.001" in legend and "lr=0.1" in legend
        await pilot.press("7")  # the runs panel: the best is starred
        await pilot.pause(0.5)
        table = view.runs.query_one(DataTable)
        starred = [run for i, run in enumerate(view.runs.runs) if str(table.get_row_at(i)[0]) == "★"]
        assert [changed_params(view.runs.lesson, run.path, "en") for run in starred] == ["lr=0.1"]
        assert "★" in str(view.runs.query_one("#runs-help").render())
        await pilot.press("6")  # the results: the ranked table
        await pilot.pause(0.5)
        text = str(view.sweep_table.render())
        print(text)
        assert "sorted by final train cost, lower is better" in " ".join(text.split())
        ranked = [line.split()[:2] for line in text.splitlines() if line[2:3].isdigit()]  # a rank starts a row
        assert ranked == [["1", "0.1"], ["2", "0.01"], ["3", "0.001"]]
        room = view.sweep_table.content_region.width  # laid out for the panel: nothing cut at its edge
        assert max(map(cell_len, text.splitlines())) <= room < 60
        joined = "".join(line.strip() for line in text.splitlines())  # each folder named whole, wrapped at its dashes
        assert all(run.path.name in joined for run in runs)
        await pilot.press("z")  # the same table in Chinese
        await until(pilot, lambda: app.workbench.view is not view and "按最终的" in str(app.workbench.view.sweep_table.render()))


async def test_the_status_line_names_the_point_running_and_stop_keeps_what_finished():
    app = LabApp(lesson_id="counter", lang="en", catalogue=(COUNTER,))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.query("#param-epochs"))
        await type_into(pilot, "epochs", "2, 9000, 10000")
        await type_into(pilot, "sleep", "0.005")
        await press_run(pilot)
        await until(pilot, lambda: "sweep 2/3" in status_text(app) and app.bench.active.epoch > 1)
        assert "epochs=9000" in status_text(app)
        await pilot.press("r")  # Run is refused while the sweep goes on: never two at once
        await pilot.pause()
        assert len(app.bench.sweep_of().traces) == 2
        await pilot.press("s")
        await until(pilot, lambda: app.bench.active is None and app.bench.sweep is None)
        await pilot.pause(0.6)
        assert "sweep stopped after 2 of 3 runs (1 finished)" in status_text(app)
        assert "sweep stopped after 2 of 3 runs (1 finished); Results lists them; best epochs=2" in said_text(app)
        assert [run.status for run in app.bench.past_runs()] == ["stopped", "finished"]
        view = app.workbench.view
        assert view.query_one("#sweep-box").display
        lines = str(view.sweep_table.render()).splitlines()
        rows = [line.split()[:4] for line in lines if line[2:3].isdigit()]  # a rank starts a row; the rest wrap
        assert rows == [["1", "2", "0.25", "finished"], ["2", "9000", "—", "stopped"]]


def test_the_code_tab_of_a_sweep_is_its_first_runs_program_and_says_so():
    from labapp.controller import Form
    from labapp.widgets.lesson_view import program_text

    form = Form(lessons.get("gradient-descent"))
    form.set("lr", "0.001, 0.01")
    code = program_text(form.lesson, form, "en")
    assert code.startswith("# The form is a sweep (2 runs): below is the program of its first run (lr=0.001).\n")
    assert "lr = 0.001" in code

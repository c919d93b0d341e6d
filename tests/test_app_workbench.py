"""The workbench shell through Pilot: panels within one key, resize, history, form, language, files."""

from pathlib import Path

from textual.widgets import DataTable, Switch

from labapp.app import LabApp
from labapp.lesson import BoolParam, Chart, IntParam, Lesson, Metric, Text, View, ViewValue
from tests.conftest import COUNTER
from tests.test_app import open_lesson, press_run, set_field, status_text, until


def _triple(hp, run):
    """Three charts' worth of numbers and two views; a few batches per epoch."""
    for epoch in range(1, hp.epochs + 1):
        for step in range(1, 5):
            run.batch(step, 4)
            yield Metric(epoch=epoch, step=(epoch - 1) * 4 + step, values={"loss": 1 / step})
        yield Metric(epoch=epoch, values={"loss": 1 / epoch, "accuracy": 1 - 1 / (epoch + 1)})
        yield Metric(epoch=epoch, values={"accuracy": 0.5}, split="test")
    yield ViewValue("result", {"last": hp.epochs, "flag": hp.flag})
    yield ViewValue("table", {"columns": ["layer", "params"], "rows": [["Linear(784, 10)", 7850]]})


TRIPLE = Lesson(
    id="triple", number=96, title=Text("三图", "Three charts"), explanation=Text("测试用。", "For tests."),
    params=(IntParam(name="epochs", default=3, min=1, help=Text("轮数", "epochs")),
            BoolParam(name="flag", default=True, help=Text("一个开关，帮助文字很长很长很长很长很长很长很长很长",
                                                             "a switch whose help is long enough to be cut in the form"))),
    charts=(Chart(Text("损失", "Loss"), y=("loss",)), Chart(Text("准确率", "Accuracy"), y=("accuracy",), splits=("test",)),
            Chart(Text("每批损失", "Loss per batch"), y=("loss",), x="step")),
    views=(View("result", "values", Text("结果", "Result")), View("table", "table", Text("表", "Table"))),
    train=_triple, uses_torch=False, headline=("test", "accuracy"),
    labels={"last": Text("最后", "last"), "flag": Text("开关", "flag"), "test": Text("测试", "test"),
            "accuracy": Text("准确率", "accuracy")})
CATALOGUE = (COUNTER, TRIPLE)


def shown(widget) -> bool:
    """Whether `widget` is on screen with some room."""
    return widget.display and widget.region.width > 0 and widget.region.height > 0 and all(
        node.display for node in widget.ancestors if hasattr(node, "display"))


async def finished(pilot, lesson=TRIPLE):
    app = pilot.app
    await press_run(pilot)
    await until(pilot, lambda: app.bench.active is None and app.bench.traces.get(lesson.id))
    await pilot.pause(0.3)


async def test_every_chart_and_view_is_one_key_away_at_80x24():
    app = LabApp(lesson_id="triple", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        view = app.workbench.view
        for key, panel in zip("45678", view.panels):
            await pilot.press(key)
            await pilot.pause()
            assert shown(panel), key
            assert [shown(other) for other in view.panels].count(True) == 1, "one panel at a time at 80x24"
        await pilot.press("6")
        await pilot.pause(0.3)
        assert view.current == 2 and "6 Loss per batch" in str(view.query_one("#panel-bar").render()), "the current name whole"
        await pilot.press("7")
        await pilot.pause(0.3)
        results = str(view.views.query_one("#view-table").render())
        assert "Linear(784, 10)" in results and "7850" in results
        await pilot.press("f")  # the panel full screen, and back
        await pilot.pause()
        assert app.screen.maximized is view.results
        status, keys = app.screen.query_one("#status"), app.screen.query_one("#keybar")
        assert status.region.height == 2 and keys.region.height == 1, "the status line and keys stay in full screen"
        assert view.results.region.bottom <= status.region.y and "finished" in str(status.render())
        await pilot.press("f")
        await pilot.pause()
        assert app.screen.maximized is None


async def test_all_panels_show_together_when_roomy():
    app = LabApp(lesson_id="triple", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(160, 48)) as pilot:
        await finished(pilot)
        assert all(shown(panel) for panel in app.workbench.view.panels)


def layout(app) -> list:
    """What a person sees of the layout: which widgets show, and their regions."""
    view = app.workbench.view
    widgets = [app.query_one("#sidebar"), view.form, *view.panels, view.query_one("#panel-bar")]
    return [(type(w).__name__, w.id, shown(w), tuple(w.region) if shown(w) else None) for w in widgets]


async def test_any_sequence_of_sizes_ends_in_the_layout_of_a_fresh_start():
    fresh = LabApp(lesson_id="counter", lang="en", catalogue=CATALOGUE)
    async with fresh.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.3)
        expected = layout(fresh)
    app = LabApp(lesson_id="counter", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(160, 48)) as pilot:
        await set_field(pilot, "epochs", "10000")
        await set_field(pilot, "sleep", "0.005")
        await press_run(pilot)
        for size in ((80, 24), (160, 48), (70, 22), (160, 48)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
        assert app.bench.active is not None, "mid-run"
        assert layout(app) == expected
        await pilot.press("s")


async def test_runs_on_disk_are_listed_after_a_restart_and_can_be_overlaid(runs_dir):
    first = LabApp(lesson_id="counter", lang="en", catalogue=CATALOGUE)
    async with first.run_test(size=(80, 24)) as pilot:
        await set_field(pilot, "epochs", "3")
        await finished(pilot, COUNTER)
    [folder] = (runs_dir / "counter").iterdir()
    app = LabApp(lesson_id="counter", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")  # counter: one chart, results, runs
        await pilot.pause(0.3)
        table = app.workbench.view.query_one(DataTable)
        assert table.row_count == 1 and app.focused is table
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row[1:] == ["1", row[2], "finished", "0.125", "epochs=3"]
        shown = str(app.workbench.view.query_one("#runs-path").render()).splitlines()
        assert str(folder) in "".join(shown), "the whole path"
        assert all(line.endswith("/") for line in shown[:-1]), "broken after a slash, never inside a name"
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert [t.run_dir for t in app.bench.chart_traces(True)] == [str(folder)]
        assert str(table.get_row_at(0)[0]) == "✓"
        await pilot.press("y")
        assert app.clipboard == str(folder) and str(folder) in app.message


async def test_the_form_has_a_seed_switch_words_whole_help_and_its_first_field_one_tab_away():
    app = LabApp(lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lesson(pilot, TRIPLE.number)
        await pilot.pause()
        assert app.focused is None and "r Run" in str(app.workbench.keybar.render())
        await pilot.press("tab")
        assert app.focused is app.workbench.view.query_one("#param-epochs")
        assert "Esc leave field" in str(app.workbench.keybar.render())
        await pilot.press("escape")
        assert app.focused is None
        assert str(app.workbench.view.query_one("#onoff-flag").render()) == "on"
        app.workbench.view.query_one("#param-flag", Switch).toggle()
        await pilot.pause()
        assert str(app.workbench.view.query_one("#onoff-flag").render()) == "off" and app.bench.form().texts["flag"] == "off"
        label = app.workbench.view.query_one("#label-flag")
        app.workbench.view.query_one("#param-flag").focus()
        await pilot.pause()
        assert label.has_class("-focused") and label.region.height >= 2, "the whole help, wrapped"
        await set_field(pilot, "seed", "x")
        assert "seed: 'x' is not a whole number" in status_text(app)
        await set_field(pilot, "seed", "3")
        await finished(pilot)
        assert app.bench.latest().values["flag"] is False


async def test_status_line_fits_80_columns_with_the_headline_and_batches():
    app = LabApp(lesson_id="triple", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        line = status_text(app).splitlines()[0]
        assert line.startswith("● finished · epoch 3/3 · ") and "test accuracy 50.0%" in line
        assert len(line) <= 78


async def test_zh_mode_speaks_chinese_everywhere_it_can():
    app = LabApp(lesson_id="triple", lang="zh", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot)
        status = status_text(app)
        assert status.startswith("● 完成 · 第 3/3 轮") and "测试准确率 50.0%" in status and "完成 3 轮" in status
        bar = str(app.workbench.keybar.render())
        assert "r 运行" in bar and "^p 命令" in bar and "Run" not in bar
        await pilot.press("z")
        await pilot.pause(0.3)
        assert str(app.workbench.keybar.render()).startswith("r Run") and "3. " not in status_text(app)
        assert app.workbench.view.lang == "en" and "Result" in str(app.workbench.view.views.query_one("#view-result").render())


async def test_screenshot_and_program_are_saved_next_to_the_run(runs_dir):
    app = LabApp(lesson_id="counter", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, COUNTER)
        folder = Path(app.bench.latest().run_dir)
        await pilot.press("p")
        [svg] = folder.glob("*.svg")
        assert f"screenshot saved: {svg}" in app.message and svg.read_text().startswith("<svg")
        await pilot.press("3")
        await pilot.pause(0.3)
        assert app.workbench.view.code.startswith("# No standalone course program") and "def _count" in app.workbench.view.code
        await pilot.press("w")
        assert (folder / "counter.py").read_text() == app.workbench.view.code
        assert "program saved" in app.message


async def test_a_long_message_can_be_read_whole():
    app = LabApp(lesson_id="counter", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await set_field(pilot, "epochs", "x" * 120)
        assert "(m: read all)" in status_text(app)
        app.set_focus(None)
        await pilot.press("r")
        await pilot.press("m")
        await pilot.pause(0.3)
        lines = " ".join(" ".join(str(line.render()).split()) for line in app.screen.query(".log-line"))
        assert "(120 characters) is not a whole number" in lines, "the whole message, uncut"
        await pilot.press("escape")
        assert app.screen is app.workbench


async def test_only_the_views_shown_last_stay_built_and_a_view_built_again_shows_its_run():
    from labapp.widgets.workbench import KEPT_VIEWS

    many = tuple(Lesson(id=f"counter-{n}", number=80 + n, title=Text(f"计数 {n}", f"Counter {n}"),
                        explanation=COUNTER.explanation, params=COUNTER.params, charts=COUNTER.charts,
                        train=COUNTER.train, uses_torch=False) for n in range(KEPT_VIEWS + 3))
    app = LabApp(lesson_id="counter-0", lang="en", catalogue=many)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, many[0])
        for lesson in many[1:]:
            await open_lesson(pilot, lesson.number)
        await until(pilot, lambda: all(view.ready for view in app.workbench.built.values()))
        assert len(app.workbench.built) <= KEPT_VIEWS
        assert ("counter-0", "en") not in app.workbench.built  # asked for least recently: taken down
        assert app.workbench.view is app.workbench.built[(many[-1].id, "en")]
        await open_lesson(pilot, many[0].number)
        await until(pilot, lambda: app.workbench.view.ready and app.workbench.view.charts[0].traces)
        assert app.workbench.view.charts[0].traces[-1].status == "finished"  # built again, it shows its run


async def test_the_panel_bar_fits_its_width_after_the_language_or_the_tab_changes():
    """A view built out of sight (the other language) or shown from behind the Learn tab draws its panel bar for
    the width it gets on screen, as a view that opened on it does: never squeezed to a stand-in width."""
    def bar(app) -> str:
        return str(app.workbench.view.query_one("#panel-bar").render())

    fresh = LabApp(lesson_id="triple", lang="zh", catalogue=CATALOGUE)
    async with fresh.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: fresh.workbench.view is not None and fresh.workbench.view.ready)
        await pilot.pause(0.3)
        expected = bar(fresh)
    assert "…" not in expected
    app = LabApp(lesson_id="triple", lang="en", catalogue=CATALOGUE)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        await pilot.press("1")  # the Learn tab: the Train tab's panels are out of sight
        await pilot.press("z")
        await until(pilot, lambda: app.workbench.view.lang == "zh" and app.workbench.view.ready)
        await pilot.press("4")
        await pilot.pause(0.3)
        assert bar(app) == expected

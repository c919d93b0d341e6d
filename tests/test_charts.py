"""Charts and result views: the plans as plain functions (no Textual), then the widgets through Pilot."""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len

import lessons
from labapp import report
from labapp.lesson import Chart, Text, View
from labapp.plotting import Line, compact, fit, legend_line, nice_ticks, plan_chart, plan_text, title_line
from labapp.progress import RunStatus
from labapp.records import RunRecorder
from labapp.runner import Run
from labapp.traces import RunTrace, TraceSink, plan_traces

GD = lessons.get("gradient-descent")


def run_trace(lesson, texts, number=1, recorder=None):
    """A RunTrace filled by a real run of `lesson` with `texts`, as the workbench fills it."""
    values = lesson.resolve(texts)
    trace = RunTrace(lesson=lesson, values=values, number=number, label="x")
    sinks = [TraceSink(trace, lambda event, t: None)] + ([recorder] if recorder else [])
    Run(lesson, values, device="cpu", sinks=sinks).run()
    return trace


@pytest.fixture(scope="module")
def diverged():
    return run_trace(GD, {"lr": "10"})


# -- plain functions ------------------------------------------------------------------------------

def test_tick_labels_stay_short_for_any_value():
    assert [compact(v, 0.05) for v in (0.0, 0.25, 1.0, -0.1)] == ["0", "0.25", "1", "-0.1"]
    assert [compact(v) for v in (12000.0, 1.2e5, 1e300, -3e-4, 4.6667)] == ["12000", "1.2e5", "1e300", "-3e-4", "4.667"]
    for value in (2891730842047.9, 1.8405e307, -1.9859e153, 1e-12, 123456.789, 0.000123):
        assert len(compact(value)) <= 7, value


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(1, 100, 4, integer=True) == [25, 50, 75, 100]
    assert nice_ticks(0.243, 0.297, 3) == pytest.approx([0.26, 0.28])
    assert nice_ticks(5, 5, 3) == [5]


def test_titles_shorten_with_an_ellipsis_by_terminal_cells():
    assert fit("Loss per batch", 8) == "Loss pe…" and fit("Loss", 8) == "Loss"
    short = fit("每 300 个批次的平均损失（课程打印的）", 12)
    assert short.endswith("…") and cell_len(short) <= 12
    plan = plan_chart("Loss, mean of every 300 batches (the course's print)", "step",
                      [Line("a", [1, 2], [2.0, 1.0])], 30, 8, "en")
    line = title_line(plan, 30).plain
    assert line.strip().startswith("Loss, mean") and line.endswith("…") and cell_len(line) <= 30


def test_one_point_gets_an_axis_from_zero_a_big_dot_and_its_value():
    plan = plan_chart("Accuracy", "epoch", [Line("#1", [1], [0.2737])], 60, 10, "en", integer_x=True)
    low, high = plan.ylim
    assert low == 0 < 0.2737 < high < 0.35  # the value against 0, not a dot on a 0.25-0.30 window
    assert plan.xlim == (0, 2) and plan.xticks == ([1], ["1"])  # no epochs 0 and 2 that never were
    assert all(low <= y <= high for y in plan.yticks[0]) and len(plan.yticks[0]) >= 2
    assert [(line.marker, line.label) for line in plan.lines] == [("●", "#1 0.2737")]
    text = plan_text(plan, 60, 10, "en", color=False)
    assert "● #1 0.2737" in text and text.count("●") == 2
    # a signed value: the axis takes 0 and the value; a curve of several points is drawn as before
    assert plan_chart("w", "epoch", [Line("w", [3], [-2.0])], 60, 10, "en").ylim[1] == 0
    assert plan_chart("w", "epoch", [Line("w", [1, 2], [1.0, 2.0])], 60, 10, "en").lines[0].marker is None


def test_a_long_title_wraps_in_a_view_and_the_report():
    plan = plan_chart("P(pass | hours), the 0.5 line and the crossing", "hours",
                      [Line("", [1, 2, 3], [0.1, 0.5, 0.9])], 30, 8, "en")
    lines = plan_text(plan, 30, 8, "en", color=False).splitlines()
    assert lines[0].strip() == "P(pass | hours), the 0.5 line" and lines[1].strip() == "and the crossing"


def test_a_flat_zero_series_gets_an_axis_too():
    plan = plan_chart("b", "epoch", [Line("b", [1, 2, 3], [0.0, 0.0, 0.0])], 60, 10, "en")
    assert plan.ylim == (-1.0, 1.0) and not plan.empty


def test_legend_names_the_top_few_then_how_many_more():
    lines = [Line(f"optimizer {n}", [1, 2], [1.0, 0.5]) for n in range(22)]
    plan = plan_chart("Loss", "epoch", lines, 60, 10, "en")
    legend = legend_line(plan, 60, "en").plain
    shown = legend.count("━ ")
    assert shown >= 2 and legend.endswith(f"+{22 - shown} more") and cell_len(legend) <= 60
    assert legend_line(plan, 60, "zh").plain.endswith(f"另有 {22 - shown} 条")
    one = plan_chart("Loss", "epoch", [Line("a very long name " * 5, [1], [1.0])], 60, 10, "en")
    assert cell_len(legend_line(one, 20, "en").plain) <= 20


def test_a_diverged_run_plots_every_finite_point_and_marks_the_divergence(diverged):
    assert diverged.status == RunStatus.DIVERGED and diverged.diverged_at == 80
    plan = plan_traces(GD.charts[0], [diverged], "en", 100, 12)
    [line] = plan.lines
    assert line.xs == list(range(1, 80))  # all 79 recorded epochs, none left out for being huge
    assert plan.scale == "signed log10" and plan.mark_x == 80 and plan.mark_label == "diverged at epoch 80"
    assert plan.xlim[1] > 80 and "1e300" in plan.yticks[1] and max(map(len, plan.yticks[1])) <= 7
    assert "diverged at epoch 80" in legend_line(plan, 60, "en").plain
    zh = plan_traces(GD.charts[0], [diverged], "zh", 100, 12)
    assert zh.mark_label == "在第 80 轮发散" and zh.title.startswith("代价")
    logged = plan_traces(GD.charts[0], [diverged], "en", 100, 12, log_scale=True)
    assert logged.scale == "log10" and logged.title == "Cost (log10)"


def test_the_headless_report_marks_the_divergence_too(diverged):
    summary = run_lesson_summary(GD, {"lr": "10"})
    out = io.StringIO()
    report.final_report(GD, summary.summary, summary.records, "en", color=False, out=out)
    text = out.getvalue()
    assert "Cost (log10: values too large)" in text and "┃ diverged at epoch 80" in text
    assert "1e300┤" in text


def run_lesson_summary(lesson, texts):
    keep = report.Keep()
    run = Run(lesson, lesson.resolve(texts), device="cpu", sinks=[keep])
    run.run()
    keep.summary = run.summary
    return keep


def test_a_chart_without_points_says_why(diverged):
    chart = Chart(Text("每批", "Loss per batch"), y=("loss",), x="step")
    assert plan_traces(chart, [], "en", 60, 10).empty == "no run yet: run the lesson to draw its curves"
    waiting = RunTrace(lesson=GD, values=GD.defaults(), number=1, label="x")
    assert plan_traces(chart, [waiting], "en", 60, 10).empty == "no points yet: the run is starting"
    waiting.progress.start()
    waiting.progress.set_batch(12, 125)
    assert plan_traces(chart, [waiting], "en", 60, 10).empty == (
        "no points yet: this curve gets a point every so many batches (epoch 1: batch 12/125)")
    assert plan_traces(GD.charts[0], [waiting], "zh", 60, 10).empty.startswith("还没有数据点：第一个点在第 1 轮")
    assert plan_traces(chart, [diverged], "en", 60, 10).empty.startswith("no points: the run reported none")


def test_overlays_name_each_earlier_run_once():
    first, second = run_trace(GD, {"epochs": "5"}, 1), run_trace(GD, {"epochs": "5", "lr": "0.05"}, 2)
    first.label, second.label = "course defaults", "lr=0.05"
    plan = plan_traces(GD.charts[0], [first, second], "en", 60, 10)
    assert [(ln.label, ln.faint) for ln in plan.lines] == [("#1 course defaults", True), ("#2 lr=0.05", False)]
    assert plan_traces(GD.charts[0], [first, second], "zh", 60, 10).lines[0].label == "#1 课程默认值"
    assert len(plan_traces(GD.charts[0], [first, second], "en", 60, 10, overlays=False).lines) == 1


def test_a_trace_read_from_its_run_folder_draws_like_the_live_one(tmp_path):
    lesson = lessons.get("backprop")
    recorder = RunRecorder(tmp_path)
    live = run_trace(lesson, {"epochs": "5", "variant": "wx+b"}, recorder=recorder)
    again = RunTrace.from_run_dir(lesson, recorder.path, number=3)
    assert again.values == live.values and again.label == "variant=wx+b epochs=5" and again.run_dir == str(recorder.path)
    assert again.status == "finished" and again.epoch == 5 == again.total and not again.running
    assert again.latest == live.latest and again.views.keys() == live.views.keys()
    for chart in lesson.charts:
        assert again.series(chart) == live.series(chart)
    assert again.progress.elapsed() >= 0 and again.name("en") == "#3 variant=wx+b epochs=5"


def test_tables_keep_one_line_per_row_and_align_by_cells():
    data = {"columns": ["layer", "params"], "rows": [["0: Conv2d(1, 10, 5x5)", 260], ["全连接", 3210], ["total", 8490]]}
    lines = report.table_text(data, label=lambda word: {"params": "参数"}.get(word, word)).splitlines()
    assert len(lines) == 4 and "参数" in lines[0]
    assert len({cell_len(line) for line in lines}) == 1  # numbers to the right: every line as wide
    assert lines[2].startswith("  全连接 ") and lines[3].startswith("  total ")
    view = View("result", "values", Text("结果", "Result"))
    text = report.view_text(view, {"best w": 2.0, "note": "a\nb"}, "zh", 80, False,
                            label=lambda word: {"best w": "最佳 w"}.get(word, word))
    assert text.splitlines() == ["结果", "  最佳 w  2.0", "  note    a b"]


# -- the widgets ----------------------------------------------------------------------------------

async def test_the_chart_widget_draws_empty_diverged_and_one_point_states(diverged):
    from textual.app import App

    from labapp.widgets.chart import LessonChart

    class Host(App):
        def compose(self):
            yield LessonChart(GD.charts[0], "en")

    one = run_trace(GD, {"epochs": "1"})
    app = Host()
    async with app.run_test(size=(50, 14)) as pilot:
        chart = app.query_one(LessonChart)
        await pilot.pause()
        assert "no run yet" in chart.text()
        chart.show([diverged])
        await pilot.pause()
        text = chart.text()
        assert "Cost (log10: values too large)" in text and "┃ diverged at epoch 80" in text
        assert "1e300┤" in text and "chart unavailable" not in text
        chart.show([one])
        await pilot.pause()
        text = chart.text()
        cost = one.latest["train"]["cost"]
        assert chart.plan.ylim[0] == 0 < cost < chart.plan.ylim[1] and chart.plan.xticks == ([1], ["1"])
        dots = [ch for ch in text if "\u2801" <= ch <= "\u28ff"]
        assert f"● #1 x {cost:.4g}" in text and text.count("●") == 2 and not dots, text  # one big dot, its value said
        chart.set_lang("zh")
        await pilot.pause()
        assert chart.text().lstrip().startswith("代价")


async def test_a_table_too_wide_for_a_narrow_panel_shows_records_and_never_cuts_a_number():
    from textual.app import App
    from textual.widgets import Static

    from labapp.widgets.views import ViewsPanel

    lesson = lessons.get("sequential")
    rows = [[f"{n}: Conv2d(1, 10, 5x5) with a long description", f"(N, 10, {n}, {n})", 260 * n + 5020] for n in range(8)]

    class Host(App):
        def compose(self):
            yield ViewsPanel(lesson, "en")

    app = Host()
    async with app.run_test(size=(40, 30)) as pilot:
        panel = app.query_one(ViewsPanel)
        panel.show({"summary": {"columns": ["layer", "output shape", "params"], "rows": rows}})
        await pilot.pause()
        view = app.query_one("#view-summary", Static)
        lines = view.render().plain.splitlines()
        assert max(map(len, lines)) <= panel.size.width and panel.virtual_size.width <= panel.size.width
        for n, row in enumerate(rows):  # too wide for a table: each row a record, its count whole under its name
            assert any(line.startswith(f"  {n}: Conv2d") for line in lines), n
            assert f"    params: {row[2]}" in lines and f"    output shape: {row[1]}" in lines, n


def test_log_scale_ticks_are_round_values():
    narrow = plan_chart("Loss", "epoch", [Line("a", [1, 2, 3], [2.0, 3.0, 4.5])], 60, 12, "en", log=True)
    assert narrow.title == "Loss (log10)" and narrow.yticks[1][0] == "2" and "4" in narrow.yticks[1]
    wide = plan_chart("Loss", "epoch", [Line("a", [1, 2, 3], [2.0, 300.0, 4.5e5])], 60, 12, "en", log=True)
    assert wide.yticks == ([1, 2, 3, 4, 5], ["10", "100", "1000", "10000", "1e5"])
    assert plan_chart("w", "epoch", [Line("a", [1], [-1.0])], 60, 12, "en", log=True).empty == (
        "no points: a log scale draws only values above 0")


def test_a_text_view_wraps_its_long_lines_but_never_a_picture():
    from labapp.lesson import Text, View
    from labapp.report import view_text

    formula = "ℓᵢ = −w[yᵢ]·log( exp(xᵢ,yᵢ) / Σ_c exp(xᵢ,c) )      （w：类别权重，没有则为 1）"
    picture = "⠀⠀⠀⠀⣿⠀⠀⠀⠀⠀  " * 6
    lines = view_text(View("f", "text", Text("公式", "Formula")), f"{formula}\n{picture}", "zh", 45, False).splitlines()
    assert all(cell_len(line) <= 45 for line in lines[:-1]) and "（w：类别权重，没有则为 1）" in "".join(lines)
    assert lines[-1] == "  " + picture.rstrip() or lines[-1].strip() == picture.strip()


def test_a_long_chart_title_drops_its_parenthesis_before_it_is_cut():
    title = "Loss, mean of every 300 batches (the course's print)"
    plan = plan_chart(title, "step", [Line("a", [1, 2], [2.0, 1.0])], 45, 8, "en")
    assert title_line(plan, 47).plain.strip() == "Loss, mean of every 300 batches"
    logged = plan_chart(title, "step", [Line("a", [1, 2], [2.0, 1.0])], 45, 8, "en", log=True)
    assert title_line(logged, 47).plain.strip() == "Loss, mean of every 300 batches (log10)"  # the scale stays said
    assert title_line(plan, 100).plain.strip() == title


@pytest.mark.parametrize("width", [20, 30, 40, 60])
def test_a_values_view_never_runs_past_its_width(width):
    """Long names leave too little room beside them: each value then goes under its name, whole."""
    from rich.cells import cell_len

    from labapp.lesson import View
    from labapp.report import view_text

    value = {"always guessing the majority class": "65.3%", "label 1": "496 of 759 (65.3%)", "rows": 759}
    text = view_text(View("result", "values", Text("结果", "Result")), value, "en", width, color=False)
    assert all(cell_len(line) <= width for line in text.splitlines()), text
    assert "759" in text and "496 of 759" in text.replace("\n", " ") and "65.3%" in text


@pytest.mark.parametrize("theme", ["clear", "dark", "rgb"])
def test_plotext_plot_read_from_its_matrix_as_rich_reads_its_text(theme):
    """plot_segments gives, cell by cell, the characters and colours that Rich's own ANSI decoder reads from
    plotext's text (figure.build()), for each kind of plotext theme: the terminal's colours, 256 colours, and the
    24-bit colours of the workbench's themes."""
    from plotext._dict import themes
    from rich.console import Console
    from rich.text import Text as RichText
    from textual_plotext.plot import Plot, _rgbify_theme, _sequence

    from labapp.plotting import plot_segments

    themes["labapp-test-rgb"] = _rgbify_theme((30, 30, 46), (30, 30, 46), (205, 214, 244), "default", _sequence)
    figure = Plot()
    figure.theme("labapp-test-rgb" if theme == "rgb" else theme)
    xs = list(range(200))
    figure.plot(xs, [(x % 17) / 17 for x in xs], color="orange", marker="braille")
    figure.plot(xs, [(x % 5) / 5 for x in xs], color="gray", marker="dot")
    figure.vline(50, color="red")
    figure.title("bold title")
    figure.plotsize(90, 20)
    ours = plot_segments(figure)
    theirs = RichText.from_ansi(figure.build().rstrip("\n")).split("\n", allow_blank=True)
    console = Console(width=200, color_system="truecolor")

    def cells(segments):
        return [(char, segment.style or None) for segment in segments for char in segment.text]

    assert len(ours) == len(theirs) == 20
    for our_line, their_line in zip(ours, theirs):
        assert cells(our_line) == cells(their_line.render(console))


@pytest.mark.parametrize("low, high", [(0.2, 1.3), (0.715, 0.735), (0.0, 2.4), (10.0, 60.0), (0.01, 0.035),
                                       (-1.3, 1.2), (100.0, 1350.0), (0.0004, 0.0031)])
def test_tick_labels_are_the_ticks_written_whole(low, high):
    """Each label reads back as its tick (0.25, never 0.2 beside 0.5), so neighbouring labels always differ."""
    for count in range(2, 9):
        ticks = nice_ticks(low, high, count)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else None
        labels = [compact(tick, step) for tick in ticks]
        assert len(set(labels)) == len(labels), labels
        assert all(abs(float(label) - tick) <= abs(tick) * 1e-6 + 1e-12 for label, tick in zip(labels, ticks)), labels

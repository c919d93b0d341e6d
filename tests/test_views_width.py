"""Issue 11's walk: what the workbench lays out is laid out for the panel's real width, at any width.

Shape traces, sweep tables, tables and the runs panel never put a character past the panel's edge; the
confusion matrix keeps a space between its counts whatever their width; an empty chart says which
setting fills it; the zh explanations keep a number on the line of its unit; the panel bar's names are
never cut at 80x24.
"""

import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual._wrap import compute_wrap_offsets
from textual.widgets import DataTable

import lessons
from labapp import confusion
from labapp.actions import PANEL_KEYS
from labapp.app import LabApp
from labapp.cli import shapes_text
from labapp.controller import changed_params
from labapp.lesson import Values
from labapp.panel_bar import bar_rows, short_name
from labapp.progress import RunStatus
from labapp.report import heatmap_text, table_text
from labapp.strings import glue_numbers, labelled, say
from labapp.sweep import FINISHED, Point, PointResult, rank, table_text as sweep_table
from labapp.traces import RunTrace, plan_traces
from tests.conftest import COUNTER
from tests.test_app import press_run, set_field, until

WIDTHS = range(20, 161)
BY_ID = {lesson.id: lesson for lesson in lessons.LESSONS}


def defaults(lesson) -> Values:
    return Values({p.name: p.default for p in lesson.params})


def widest(text: str) -> int:
    return max(map(cell_len, text.splitlines()))


def squeezed(text: str) -> str:
    """`text` without any whitespace: what survives a wrap, whatever the width."""
    return "".join(text.split())


# -- text laid out for the width ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lesson", [lesson for lesson in lessons.LESSONS if lesson.shapes is not None], ids=str)
def test_a_shape_trace_fits_every_width_and_its_notes_read_whole(lesson, lang):
    trace = lesson.shapes(defaults(lesson))
    notes = [squeezed(labelled(lesson.label(name, lang), lesson.label(value, lang))) for name, value in trace.notes.items()]
    for width in WIDTHS:
        text = shapes_text(lesson, defaults(lesson), lang, width)
        assert widest(text) <= width, (width, [line for line in text.splitlines() if cell_len(line) > width])
        assert all(note in squeezed(text) for note in notes), width


def test_the_notes_cut_on_screen_now_wrap_at_80x24s_panel():
    """The lines the walk saw cut at 80x24: rnn-basics' layout note and cnn-advanced's inception block."""
    basics = shapes_text(BY_ID["rnn-basics"], defaults(BY_ID["rnn-basics"]), "en", 47).splitlines()
    assert "  layout: (seq_len, batch, input_size): the" in basics
    assert "    RNNCell takes one step, inputs[t] of shape" in basics
    advanced = shapes_text(BY_ID["cnn-advanced"], defaults(BY_ID["cnn-advanced"]), "en", 47).splitlines()
    assert advanced[-4:-2] == ["  inception block: four paths, 1x1: 16, 5x5:", "    24, 3x3: 24, pool: 24 channels → 88"]
    assert "  inception  (N, 88, 12, 12)  19,104" in advanced  # the table fits as it is


def test_a_table_fits_every_width_with_its_numbers_whole():
    data = {"columns": ["layer", "output shape", "parameters", "what it does"],
            "rows": [["Linear(in_features=784, out_features=512)", "(N, 512)", 401920, "a weighted sum of every pixel"],
                     ["ReLU()", "(N, 512)", 0, "keeps what is above zero"],
                     ["Conv2d(1, 10, kernel_size=(5, 5))", "(N, 10, 24, 24)", 260, "slides a 5x5 window"]]}
    for width in WIDTHS:
        text = table_text(data, width=width)
        assert widest(text) <= width, width
        words = set(text.split())
        assert {"401920", "0", "260"} <= words, width  # a number is never cut
        assert {"weighted", "sum", "every", "pixel", "window"} <= words, width  # free text wraps between its words


def test_a_heat_maps_key_and_rows_fit_every_width():
    xs = [round(0.1 * i, 1) for i in range(41)]  # linear-model's grid for wx+b: w and b from 0 to 4, step 0.1
    z = [[sum((w * x + b - 2 * x) ** 2 for x in (1, 2, 3)) for w in xs] for b in xs]
    data = {"x": xs, "y": xs, "z": z, "x_label": "w", "y_label": "b", "mark": [2.0, 0.0]}
    for width in range(22, 161):
        text = heatmap_text("Loss surface SSE(w, b)", data, width)
        assert widest(text) <= width, width
        assert "X=minimumatw=2,b=0)" in squeezed(text)  # the key, wrapped, read whole


def _folder(n: int) -> Path:
    return Path(f"/tmp/labapp-runs/gradient-descent/20261130-1351{n:02d}-6087a{n}")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("seeds", [1, 3])
def test_a_sweep_table_fits_every_width_and_names_every_folder(seeds, lang):
    lesson = BY_ID["gradient-descent"]
    results = [PointResult(point=Point(values=Values(lr=lr), varied=(("lr", lr),), seed=seed), status=FINISHED,
                           message="", final=final + seed / 10, path=_folder(n * seeds + seed))
               for n, (lr, final) in enumerate([(0.001, 0.72889), (0.01, 1.7524e-08), (0.1, 0.0)])
               for seed in range(seeds)]
    rows = rank(lesson, results)
    for width in WIDTHS:
        text = sweep_table(lesson, rows, seeds, lang, width)
        assert widest(text) <= width, (width, text)
        lines = text.splitlines()
        header = next((line for line in lines if line.startswith("  # ")), None)  # a table, not records
        at = [m.end() for m in re.finditer(r"  (?=\S)", header)][-1] if header else 0  # where the last column starts
        joined = "".join(line[at:].strip() for line in lines)  # a folder's pieces, in turn
        assert all(result.path.name in joined for result in results), (width, text)
        if width >= 47:  # a table still, from the panel's width at 80x24: one rank a row, its values beside it
            assert [line.split()[1] for line in text.splitlines() if line[2:3].isdigit()] == ["0.1", "0.01", "0.001"]
    assert str(_folder(0)) in sweep_table(lesson, rows, seeds, lang)  # `labapp sweep` prints the whole path


# -- the confusion matrix ------------------------------------------------------------------------------------

def _counts(digits: int) -> list[list[int]]:
    """Ten classes whose diagonal holds `digits`-digit counts and whose other cells hold 3-digit ones."""
    return [[10 ** (digits - 1) + 7 * t if t == p else 100 + 11 * t + p for p in range(10)] for t in range(10)]


@pytest.mark.parametrize("digits", [3, 4])
def test_the_counts_keep_a_space_between_them_at_every_width(digits):
    matrix = _counts(digits)
    labels = [str(n) for n in range(10)]
    value = {"labels": labels, "counts": matrix}
    for palette in (confusion.PLAIN, confusion.ANSI):
        for width in WIDTHS:
            lines = [line.plain for line in confusion.counts_lines(value, labels, width, palette)]
            seen: dict[str, list[str]] = {}
            for line in lines:
                if line[:1].strip():  # a row of counts starts with its class; the header with spaces
                    label, *cells = line.split()  # two counts touching would read as one: a mismatch below
                    seen.setdefault(label, []).extend(cells)
            assert seen == {label: [str(count) for count in row] for label, row in zip(labels, matrix)}, width
            assert widest("\n".join(lines)) <= width, width  # too wide for one block: blocks, one under the other


def test_the_shares_keep_a_space_between_them_when_the_matrix_splits():
    matrix = _counts(4)
    labels = ["Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish", "Italian"]
    value = {"labels": labels, "counts": matrix}
    for width in (24, 30, 40, 47, 60):
        lines, grid = confusion.shares_lines(value, labels, width, confusion.ANSI, "en")
        assert widest("\n".join(line.plain for line in lines)) <= width, width
        rows = [line.plain.split() for line in lines if line.plain[:1].strip()]
        cells = {}
        for code, *rest in rows:
            cells.setdefault(code, []).extend(rest)
        assert all(len([c for c in row if not c.endswith("%")]) == 10 for row in cells.values()), (width, cells)


# -- an empty chart says why, and what fills it ----------------------------------------------------------------

def _finished(lesson, **changed) -> RunTrace:
    trace = RunTrace(lesson, Values({**defaults(lesson), **changed}), 1, "")
    trace.progress.finish(RunStatus.FINISHED)
    return trace


@pytest.mark.parametrize("lesson_id", ["backprop", "linear-regression"])
def test_the_gradient_norm_chart_names_the_switch_that_fills_it(lesson_id):
    lesson = BY_ID[lesson_id]
    chart = lesson.charts[2]
    en = plan_traces(chart, [_finished(lesson)], "en", 60, 20).empty
    zh = plan_traces(chart, [_finished(lesson)], "zh", 60, 20).empty
    assert en == "no points: this chart fills only when zero_grad is off (set it in the form)"
    assert zh == "没有数据点：这张图只在 zero_grad 为 关 时才有数据点（在左边的表单里设置）"
    assert "zero_grad is off" in plan_traces(chart, [], "en", 60, 20).empty  # before any run, too
    made_the_mistake = plan_traces(chart, [_finished(lesson, zero_grad=False)], "en", 60, 20).empty
    assert "zero_grad" not in made_the_mistake  # the run has the setting: the chart's own reason, if any


def test_each_linear_model_chart_names_the_variant_that_fills_it():
    lesson = BY_ID["linear-model"]
    mse, sse = lesson.charts
    assert "variant is wx+b" in plan_traces(sse, [_finished(lesson)], "en", 60, 20).empty
    assert "variant 为 wx+b" in plan_traces(sse, [_finished(lesson)], "zh", 60, 20).empty
    assert "variant is wx" in plan_traces(mse, [_finished(lesson, variant="wx+b")], "en", 60, 20).empty
    assert "variant" not in (plan_traces(mse, [_finished(lesson)], "en", 60, 20).empty or "")


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_the_empty_charts_note_wraps_inside_its_box(size):
    app = LabApp(lesson_id="backprop", lang="en")
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        await pilot.press("6")
        await pilot.pause(0.3)
        chart = app.workbench.view.charts[2]
        await until(pilot, lambda: chart.plan is not None and chart.size.width > 0)
        lines = chart.text().splitlines()
        assert max(map(cell_len, lines)) <= chart.size.width and len(lines) <= chart.size.height
        box = lines[1:]  # under the title: the note in a frame as wide as the chart, where the plot would be
        assert box[0].startswith("┌") and box[-1].startswith("└") and all(cell_len(line) == chart.size.width for line in box)
        assert all(line.startswith("│ ") and line.endswith(" │") for line in box[1:-1])
        assert "zero_grad is off" in " ".join(" ".join(line.strip("│") for line in box).split())


async def test_the_notes_of_empty_charts_side_by_side_stay_in_their_own_boxes():
    """160x48, before a run: softmax-mnist's three charts sit side by side, each saying why it is empty; a note never
    runs up to its neighbour's (the walk read two notes as one line)."""
    app = LabApp(lesson_id="softmax-mnist", lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        charts = app.workbench.view.charts
        await until(pilot, lambda: all(chart.plan is not None and chart.plan.empty for chart in charts))
        assert len({chart.region.y for chart in charts}) == 1, "side by side"
        for chart in charts:
            lines = chart.text().splitlines()
            assert all(cell_len(line) == chart.size.width for line in lines[1:]), "each line fills its own box"
            assert all(line[:2] == "│ " and line[-2:] == " │" for line in lines[2:-1]), lines
            words = " ".join(" ".join(line.strip("│") for line in lines[2:-1]).split())
            assert words == " ".join(chart.plan.empty.split()), (words, chart.plan.empty)


def test_a_chart_note_keeps_each_number_with_its_chinese_unit():
    note = "还没有数据点：第一个点在第 1 轮结束时（第 1 轮：3/125 批）"
    for width in range(6, 60):
        lines = [line.plain for line in confusion.prose(note, width)]
        assert "".join(lines).replace(" ", "") == note.replace(" ", ""), width
        assert not any(a.rstrip()[-1:].isdigit() and _cjk(b[:1]) for a, b in zip(lines, lines[1:])), (width, lines)


# -- the zh explanations ------------------------------------------------------------------------------------

def _cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _number_then_unit_split(markdown: str, width: int) -> list[str]:
    """Line breaks at a space (as Textual wraps each paragraph) that leave a number at a line's end and its Chinese
    word next. (A run of Chinese with no space in it is folded at the width wherever that falls: not checked here.)"""
    found = []
    for paragraph in markdown.split("\n"):
        breaks = compute_wrap_offsets(paragraph, width, 4)
        for at in (at for at in breaks if paragraph[at - 1:at].isspace()):
            before, after = paragraph[:at].rstrip(), paragraph[at:].lstrip()
            last = before.split()[-1] if before.split() else ""  # the word that ends the line
            if re.search(r"(^|[^\w`])(`[\d.,%²]*\d`|[\d.,%²]*[\d²])$", last) and after[:1] and _cjk(after[0]):
                found.append(f"{before[-12:]}|{after[:6]}")
    return found


def test_no_zh_explanation_leaves_a_number_at_a_lines_end_without_its_unit():
    before = 0
    for lesson in lessons.LESSONS:
        text = lesson.explanation("zh")
        for width in range(24, 101, 3):
            assert not _number_then_unit_split(glue_numbers(text), width), (lesson.id, width)
            before += len(_number_then_unit_split(text, width))
    assert before > 0, "the source text does break there: the check above has something to find"
    assert glue_numbers("训练 100 轮，`x = 100 轮` 共 10 个类别") == "训练 100轮，`x = 100 轮` 共 10个类别"
    assert glue_numbers("1. 把参数建成张量\n2. 用 0.5 倍") == "1. 把参数建成张量\n2. 用 0.5倍"  # a list stays a list
    assert glue_numbers("比较 `--num-workers 0` 和 `2` 的耗时，x² 项，`beta2` 是") == \
        "比较 `--num-workers 0` 和 `2`的耗时，x²项，`beta2` 是"  # a number in code too; a name stays apart
    assert glue_numbers("```\nx = 100 轮\n```\n共 3 个") == "```\nx = 100 轮\n```\n共 3个"


# -- the panel bar ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_lessons_panel_bar_names_each_panel_uncut_at_80x24(lang):
    room = 48  # the panel bar's columns at 80x24 beside the form
    for lesson in lessons.LESSONS:
        others = [say("results", lang)] + ([say("mistakes", lang)] if any(v.kind == confusion.KIND for v in lesson.views)
                                           else []) + [say("runs", lang)] + ([say("step panel", lang)] if lesson.step_mode else [])
        names = [chart.title(lang) for chart in lesson.charts] + others
        shorts = [chart.short_title(lang) if chart.short else short_name(chart.title(lang)) for chart in lesson.charts] + others
        rows = bar_rows(PANEL_KEYS, names, 0, room, shorts)
        entries = [text for row in rows for _, text in row]
        assert len(rows) <= 2 and not any("…" in text for text in entries), (lesson.id, entries)


# -- the runs panel ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(80, 24), (160, 48), (60, 20)])
async def test_the_runs_panels_rows_are_one_line_with_the_changed_params_whole_or_under_the_table(runs_dir, size):
    app = LabApp(lesson_id="counter", lang="en", catalogue=(COUNTER,))
    async with app.run_test(size=size) as pilot:
        for name, text in (("epochs", "3"), ("fail_at", "9"), ("blow_up_at", "8"), ("sleep", "0.001")):
            await set_field(pilot, name, text)
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("counter"))
        await pilot.press("6")  # counter: one chart, results, runs
        await pilot.pause(0.5)
        table = app.workbench.view.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 1)
        [run] = app.bench.past_runs()
        changed = changed_params(COUNTER, run.path, "en")
        assert changed == "epochs=3 fail_at=9 blow_up_at=8 sleep=0.001"
        used = sum(column.get_render_width(table) for column in table.ordered_columns)
        assert used <= table.size.width, (used, table.size)  # nothing past the panel's edge, at any of the sizes
        assert all(row.height == 1 for row in table.rows.values())  # a run is one line: no row wraps
        below = " ".join(str(app.workbench.view.query_one("#runs-path").render()).split())
        if len(table.ordered_columns) == 6:  # room for the changes whole beside the other columns
            assert str(table.get_row_at(0)[5]) == changed and "changed:" not in below
        else:  # too narrow for them whole: under the table, with the run's folder
            assert f"changed: {changed}" in below
        if len(table.ordered_columns) < 5:  # narrower still: the start time too
            assert f"started: {run.started[:16].replace('T', ' ')}" in below


# -- the try-it box -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_try_it_prompt_reads_whole_above_its_box(lang):
    lesson = BY_ID["rnn-classifier"]
    app = LabApp(lesson_id=lesson.id, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        await pilot.press("7")  # three charts, then the results
        await pilot.pause(0.3)
        prompt = app.workbench.view.query_one("#try-prompt")
        await until(pilot, lambda: prompt.size.width > 0)
        lines = prompt.render_lines(prompt.region.reset_offset)
        text = "".join(segment.text for line in lines for segment in line)
        assert squeezed(text) == squeezed(lesson.try_it.prompt(lang))
        assert len(lines) > 1 or cell_len(lesson.try_it.prompt(lang)) <= prompt.size.width


async def test_the_results_scroll_as_one_under_a_tall_shapes_table(runs_dir):
    """rnn-basics at 80x24: the shapes table fills the panel, and the views below it are part of the same scroll
    (a nested scroller got the row or two left under it)."""
    app = LabApp(lesson_id="rnn-basics", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await set_field(pilot, "epochs", "2")
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("rnn-basics"), timeout=120)
        await pilot.press("6")  # two charts, then the results
        await pilot.pause(0.5)
        view = app.workbench.view
        await until(pilot, lambda: view.views.query(".filled"))
        assert view.views.size.height == view.views.virtual_size.height > 10  # whole, not a window of its own
        assert view.results.virtual_size.height > view.results.size.height  # the results panel scrolls it


CNN_ADVANCED_SUMMARY = {  # lesson 12's model summary as a run reports it (the course's GoogLeNet-style net)
    "columns": ["layer", "output shape", "params"],
    "rows": [["conv1: Conv2d(1, 10, 5x5)", "(N, 10, 24, 24)", 260], ["mp: MaxPool2d(2)", "(N, 10, 12, 12)", 0],
             ["incep1: InceptionA", "(N, 88, 12, 12)", 19104], ["conv2: Conv2d(88, 20, 5x5)", "(N, 20, 8, 8)", 44020],
             ["mp: MaxPool2d(2)", "(N, 20, 4, 4)", 0], ["incep2: InceptionA", "(N, 88, 4, 4)", 19824],
             ["fc: Linear(1408, 10)", "(N, 10)", 14090], ["total", "", 97298]]}


async def test_at_160x48_the_results_hold_a_model_summary_one_layer_a_line():
    app = LabApp(lesson_id="cnn-advanced", lang="en")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None and app.workbench.view.ready)
        await pilot.pause(0.3)
        views = app.workbench.view.views
        width = min(views.size.width - 2, views.scrollable_content_region.width - 1)  # as ViewsPanel.show lays out
        lines = table_text(CNN_ADVANCED_SUMMARY, width=width).splitlines()
        assert len(lines) == 1 + len(CNN_ADVANCED_SUMMARY["rows"]), (width, lines)  # the header, then a line a layer
        assert "  conv2: Conv2d(88, 20, 5x5)  (N, 20, 8, 8)     44020" in lines


def test_a_table_row_is_never_wrapped():
    """A table wider than its room closes up (one space before it and between its columns), then becomes records:
    never a row continued on a second line (the walk at 80x24 saw lesson 11's layer names wrap in their column)."""
    sequential = {"columns": ["layer", "output shape", "params"],
                  "rows": [["0: Conv2d(1, 10, 5x5)", "(N, 10, 24, 24)", 260], ["3: Conv2d(10, 20, 5x5)", "(N, 20, 8, 8)", 5020],
                           ["7: Linear(320, 10)", "(N, 10)", 3210], ["total", "", 8490]]}
    for data in (sequential, CNN_ADVANCED_SUMMARY):
        for width in range(30, 161):
            lines = table_text(data, width=width).splitlines()
            assert max(map(cell_len, lines)) <= width, width
            if len(lines) == 1 + len(data["rows"]):  # a table: the header, then one line a row
                assert lines[1].split()[0] == data["rows"][0][0].split()[0], width
                continue
            headings = [line.strip() for line in lines if not line.startswith("    ")]  # records: each under its row's name
            assert headings == [row[0] for row in data["rows"]], width
    assert table_text(sequential, width=46).splitlines()[2] == " 3: Conv2d(10, 20, 5x5) (N, 20, 8, 8)     5020"

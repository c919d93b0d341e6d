"""Issue 11's second walk: what the workbench shows fits its width, at every width, and reads whole.

Each class of defect the walk found, checked at widths 20 to 160: a curve view's long title, the Code
tab's long lines, run folder paths (runs panel, status line, message log), a chart of means of every
300 batches when an epoch is shorter. No line is wider than its room; no number is split across lines.
"""

import math
import re

import pytest
from rich.cells import cell_len
from rich.console import Console

import lessons
from labapp.controller import Form
from labapp.lesson import Metric, Values
from labapp.plotting import plan_text
from labapp.progress import RunStatus
from labapp.report import view_text, wrap_cell, wrap_path
from labapp.traces import RunTrace, plan_traces
from labapp.widgets.code import CONTINUED, WrappedCode, code_lines
from labapp.widgets.lesson_view import program_text
from labapp.widgets.message_log import log_entry
from labapp.widgets.status import fitted_message

WIDTHS = range(20, 161)
BY_ID = {lesson.id: lesson for lesson in lessons.LESSONS}
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")
FOLDER = "/tmp/pytest-of-root/labapp-runs/logistic-regression/20261130-165215-752af7"


def widest(lines) -> int:
    return max(map(cell_len, lines), default=0)


def squeezed(text: str) -> str:
    return "".join(text.split())


# -- a curve view's title (logistic-regression's Results) ---------------------------------------------------------

def _probability_view():
    lesson = BY_ID["logistic-regression"]
    view = next(v for v in lesson.views if v.kind == "curve")
    xs = [i / 10 for i in range(0, 101)]
    value = {"x": xs, "y": [1 / (1 + math.exp(-(1.1091 * x - 2.6833))) for x in xs], "hline": 0.5, "vline": 2.4195,
             "x_label": "hours", "y_label": "P(pass)"}
    return view, value


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_curve_views_long_title_wraps_between_its_words_centred_over_the_plot(lang):
    view, value = _probability_view()
    title = view.title(lang)
    for width in WIDTHS:
        lines = view_text(view, value, lang, width, color=False).splitlines()
        rows = wrap_cell(title, width)
        assert [line.strip() for line in lines[:len(rows)]] == rows, (width, lines[:4])  # the title, wrapped once
        assert all(abs((width - cell_len(row)) // 2 - (cell_len(line) - cell_len(line.lstrip()))) <= 0
                   for row, line in zip(rows, lines)), width  # each of its lines centred
        if width >= 40:  # the Results panel draws a plot at 40 columns at least (CURVE_WIDTH)
            assert widest(lines) <= width, width


def test_the_walks_title_reads_in_two_lines_at_80x24s_results_panel():
    view, value = _probability_view()
    lines = view_text(view, value, "en", 40, color=False).splitlines()
    assert [line.strip() for line in lines[:2]] == ["P(pass | hours), the 0.5 line and the", "crossing"]


def test_a_charts_empty_note_in_the_report_wraps_instead_of_being_cut():
    lesson = BY_ID["backprop"]
    plan = plan_traces(lesson.charts[2], [], "en", 30, 10)
    for width in (20, 30, 47):
        lines = plan_text(plan, width, 10, "en", color=False).splitlines()
        assert widest(lines) <= width and "…" not in "".join(lines)
        assert "zero_grad is off" in " ".join(" ".join(lines).split())


# -- the Code tab ------------------------------------------------------------------------------------------------

def _programs() -> list[tuple[str, str]]:
    return [(lesson.id, program_text(lesson, Form(lesson), "en")) for lesson in lessons.LESSONS]


def _source_lines(code: str) -> list[str]:
    return code.rstrip("\n").split("\n")


def _read_back(lines: list[str]) -> list[list[str]]:
    """The source lines again, from the lines shown, each as its parts: its numbered line and the ↪ lines under it."""
    lines = [line.rstrip() for line in lines]
    gutter = len(re.match(r"\s*\S+ ", lines[0]).group())
    back: list[list[str]] = []
    for line in lines:
        mark, text = line[:gutter].strip(), line[gutter:]
        if mark == CONTINUED:
            back[-1].append(text.strip())
        else:
            assert mark == str(len(back) + 1), (mark, line)  # every source line keeps its number
            back.append([text])
    return back


@pytest.mark.parametrize("lesson_id,code", _programs(), ids=[lesson.id for lesson in lessons.LESSONS])
def test_every_line_of_every_program_reads_whole_at_every_width(lesson_id, code):
    highlighted = WrappedCode(code).highlighted
    source = _source_lines(code)
    for width in WIDTHS:
        lines = [line.plain for line in code_lines(highlighted, width)]
        assert widest(lines) <= width, (width, [line for line in lines if cell_len(line) > width][:2])
        back = _read_back(lines)
        assert len(back) == len(source), width
        for parts, line in zip(back, source):
            assert squeezed("".join(parts)) == squeezed(line), (width, line)  # nothing lost, nothing added
            if width >= 30:  # no number split at a break (nor a name, which would leave a number: input|2)
                assert [n for part in parts for n in NUMBER.findall(part)] == NUMBER.findall(line), (width, parts)


def test_a_long_line_wraps_under_its_indentation_and_its_comment_goes_under_the_code():
    code = "def forward(self, x):\n        x = x.view(-1, 784)                # (N, 784): the image as one row of pixels\n"
    lines = [line.plain for line in code_lines(WrappedCode(code).highlighted, 50)]
    assert lines == ["1 def forward(self, x):",
                     "2         x = x.view(-1, 784)",
                     "↪             # (N, 784): the image as one row of",
                     "↪             pixels"]


def test_the_code_tab_draws_the_program_for_the_widgets_width():
    code = "x = 1  # " + "a long comment " * 12 + "\n"
    console = Console(width=60, record=True, color_system=None)
    console.print(WrappedCode(code))
    lines = console.export_text().splitlines()
    assert widest(lines) <= 60 and len(lines) > 2 and lines[1].startswith(CONTINUED)


# -- run folder paths ---------------------------------------------------------------------------------------------

def test_a_folder_path_breaks_only_after_a_slash_at_every_width():
    names = FOLDER.split("/")
    for width in WIDTHS:
        lines = wrap_path(FOLDER, width)
        assert "".join(lines) == FOLDER, width
        if width >= max(map(len, names)) + 1:  # every name fits on a line: none is split
            assert widest(lines) <= width and all(line.endswith("/") for line in lines[:-1]), (width, lines)


def test_the_status_lines_message_keeps_the_run_folders_name_whole():
    message = f"finished 1000 epochs · {FOLDER}"
    for columns in WIDTHS:
        shown = fitted_message(message, columns, "en")
        assert cell_len(shown) <= columns, columns
        if columns >= len(message):
            assert shown == message
        elif columns >= 63:  # room for the words, the run's own name and "(m: read all)"
            assert shown.endswith("/20261130-165215-752af7 (m: read all)") and "…/" in shown, (columns, shown)
            assert FOLDER.endswith(shown.split("…")[1].removesuffix(" (m: read all)")), shown  # its last names, whole
    assert fitted_message(message, 78, "en") == "finished 1000 epochs · …/20261130-165215-752af7 (m: read all)"
    zh = fitted_message(f"已导出 metrics.csv 和 charts.svg，在 {FOLDER}", 78, "zh")
    assert "…/20261130-165215-752af7" in zh and cell_len(zh) <= 78


def test_the_message_log_wraps_a_message_with_its_path_broken_after_a_slash():
    message = f"exported metrics.csv and charts.svg to {FOLDER}"
    for width in WIDTHS:
        lines = log_entry("17:02:11", message, width).plain.splitlines()
        assert " ".join(squeezed(line) for line in lines).replace(" ", "") == squeezed("17:02:11" + message), width
        assert all(line.startswith(" " * 9) for line in lines[1:]), width  # under the words, not under the time
        if width >= 9 + len("20261130-165215-752af7"):
            assert widest(lines) <= width, (width, lines)
            assert "20261130-165215-752af7" in lines[-1], (width, lines)  # the run's name, whole


# -- a chart of means of every 300 batches when an epoch is shorter ------------------------------------------------

def _mnist_trace(lesson, steps: list[int]) -> RunTrace:
    trace = RunTrace(lesson, Values(lesson.defaults(), epochs=len(steps)), 1, "")
    for epoch, step in enumerate(steps, 1):
        trace.add(Metric(epoch=epoch, step=step, values={"loss": 2.3 / epoch}))
        trace.add(Metric(epoch=epoch, values={"loss": 2.3 / epoch}))
    trace.progress.finish(RunStatus.FINISHED)
    return trace


@pytest.mark.parametrize("lesson_id", ["softmax-mnist", "cnn-basics", "sequential", "cnn-advanced"])
def test_the_loss_every_300_batches_says_what_its_points_are_when_an_epoch_is_shorter(lesson_id):
    lesson = BY_ID[lesson_id]
    chart = next(c for c in lesson.charts if c.every)
    assert chart.every == 300 and chart.x == "step"
    short = plan_traces(chart, [_mnist_trace(lesson, [125])], "en", 40, 12)  # 8000 images in batches of 64
    assert short.caption == "an epoch has 125 batches, fewer than 300: each point is one epoch's mean"
    assert "125" in plan_traces(chart, [_mnist_trace(lesson, [125])], "zh", 40, 12).caption
    assert plan_traces(chart, [_mnist_trace(lesson, [125, 250, 375])], "en", 40, 12).caption == short.caption
    assert plan_traces(chart, [_mnist_trace(lesson, [300, 600, 900])], "en", 40, 12).caption == ""  # the course's
    assert all(not c.every for c in lesson.charts if c is not chart)


def test_before_its_first_point_the_chart_says_when_it_comes():
    lesson = BY_ID["softmax-mnist"]
    trace = RunTrace(lesson, lesson.defaults(), 1, "")
    trace.progress.start()
    trace.progress.set_batch(3, 125)
    chart = lesson.charts[2]
    assert plan_traces(chart, [trace], "en", 40, 12).empty == (
        "no points yet: the first comes after 300 batches (at the end of the epoch, if it has fewer)"
        " (epoch 1: batch 3/125)")


def test_the_caption_shows_under_the_title_in_the_report_at_every_width():
    from labapp.report import chart_text

    lesson = BY_ID["softmax-mnist"]
    chart = lesson.charts[2]
    metrics = [Metric(epoch=e, step=125 * e, values={"loss": 2.3 / e}) for e in (1, 2, 3)]
    for width in range(40, 161, 7):
        lines = chart_text(lesson, chart, metrics, "en", width, color=False).splitlines()
        assert widest(lines) <= width
        assert "an epoch has 125 batches, fewer than 300" in " ".join(" ".join(lines).split())


# -- the Mistakes panel's most confused pairs ---------------------------------------------------------------------

PAIRS = [(["0", "1"], [[0, 263], [0, 496]]),  # multi-dim-input's model that answers 1 for every row
         (["Russian", "English", "German"], [[2900, 202, 30], [199, 1000, 20], [168, 50, 24]])]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("labels,counts", PAIRS, ids=["digits", "names"])
def test_a_confused_pairs_words_keep_each_clause_and_never_leave_the_class_alone(labels, counts, lang):
    from labapp import confusion

    value = {"labels": labels, "counts": counts}
    for width in WIDTHS:
        lines = [line.plain for line in confusion.pairs_lines(value, labels, width, confusion.PLAIN, lang)]
        assert widest(lines) <= width, (width, lines)
        under = [line.strip() for line in lines if line.startswith("  ")]  # the words under a pair, when beside is too narrow
        assert not any(line in labels or NUMBER.fullmatch(line) for line in under), (width, lines)  # a lone class or count
        for line in under:
            if lang == "en" and cell_len("100.0% of true Russian") <= width - 2:
                assert re.fullmatch(r"\d+ times,( [\d.]+% of true \S+)?|[\d.]+% of true \S+", line), (width, lines)


def test_the_walks_pair_reads_in_two_clauses_in_a_narrow_mistakes_panel():
    from labapp import confusion

    labels, counts = PAIRS[0]
    lines = [line.plain for line in confusion.pairs_lines({"labels": labels, "counts": counts}, labels, 28,
                                                           confusion.PLAIN, "en")]
    assert lines == ["0 → 1", "  263 times,", "  100.0% of true 0"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_runs_panels_key_hints_keep_each_key_with_what_it_does(lang):
    from labapp.strings import say
    from labapp.widgets.runs import hints_text

    hints = say("runs help", lang).split(" · ")
    for width in WIDTHS:
        lines = hints_text(" · ".join(hints), width).splitlines()
        assert widest(lines) <= width, width
        for hint in hints:
            if cell_len(hint) <= width:  # on one line, whole
                assert any(hint in line for line in lines), (width, hint, lines)


@pytest.mark.parametrize("size", [(42, 22), (49, 17), (30, 12)])
async def test_the_chart_shows_its_whole_caption_over_the_plot(size):
    from textual.app import App

    from labapp.widgets.chart import LessonChart

    lesson = BY_ID["softmax-mnist"]
    chart = lesson.charts[2]

    class Host(App):
        def compose(self):
            yield LessonChart(chart, "en")

    app = Host()
    async with app.run_test(size=size) as pilot:
        widget = app.query_one(LessonChart)
        widget.show([_mnist_trace(lesson, [125])])
        await pilot.pause()
        lines = widget.text().splitlines()
        assert widest(lines) <= size[0] and len(lines) <= size[1]
        said = " ".join(" ".join(lines[1:4]).split())
        assert "an epoch has 125 batches, fewer than 300: each point is one epoch's mean" in said, lines[:4]
        assert "●" in "".join(lines[3:]), "the point is drawn under it"

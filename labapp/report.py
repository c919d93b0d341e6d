"""Headless output of a run: progress while it trains, then results, views and a loss curve as text.

On a terminal, a rich progress bar with ETA and the latest metrics; otherwise one plain line per
epoch and no escape codes, so `labapp run ... | cat` and batch logs stay clean.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
from collections.abc import Callable
from typing import Any, TextIO

from rich.cells import cell_len

from labapp import confusion
from labapp.lesson import Chart, Lesson, Metric, Record, ShapeTrace, Step, View, ViewValue, in_lang
from labapp.output import safe
from labapp.plotting import COLORS, DIVERGED_AT, Line, every_caption, plan_chart, plan_text
from labapp.runner import RunInfo, Summary
from labapp.strings import join_words, labelled, say, unit_word

SHADES = " .:-=+*#%@"  # low loss -> high loss
PLOT_HEIGHT = 15  # rows of a plot in the headless report


def number(value: Any) -> str:
    """A metric value for a line of text: 5 significant digits, ints and text as they are."""
    if isinstance(value, float):
        text = f"{value:.5g}"
        return text if any(c in text for c in ".enia") else text + ".0"
    return safe(value)  # text from a lesson's data or the user's own input: never raw control characters


def metric_text(metric: Metric) -> str:
    """'loss 0.64 accuracy 0.65' for a metric's values."""
    return "  ".join(f"{safe(name)} {number(value)}" for name, value in metric.values.items())


class PlainProgress:
    """A sink that prints one line per epoch-level metric (for pipes, files and dumb terminals)."""

    def __init__(self, out: TextIO = sys.stdout, shapes: str | None = None) -> None:
        self.out = out
        self.total = 0
        self.unit = "epoch"
        self.shapes = shapes  # the model's shape trace, printed under the first line

    def start(self, info: RunInfo) -> None:
        """Print what runs where."""
        self.total, self.unit = info.total, info.lesson.unit
        print(f"{info.lesson.id}: {self.total} {self.unit}s on {info.device} ({info.device_name}), "
              f"seed {info.seed}", file=self.out, flush=True)
        if self.shapes:
            print(self.shapes, file=self.out, flush=True)

    def record(self, record: Record, elapsed: float) -> None:
        """One line per epoch-level metric."""
        if isinstance(record, Metric) and record.step is None:
            split = "" if record.split == "train" else f"{record.split}  "
            width = len(str(self.total))
            print(f"{self.unit} {record.epoch:>{width}}/{self.total}  {split}{metric_text(record)}",
                  file=self.out, flush=True)

    def finish(self, summary: Summary) -> None:
        """Nothing: the report follows."""


class BarProgress:
    """A sink that shows a rich progress bar with ETA and the latest metrics (for terminals).

    The bar follows the run's RunProgress on every refresh, so it moves with the batches inside an epoch.
    """

    def __init__(self, shapes: str | None = None) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.task: Any = None
        self.run_progress: Any = None  # the run's RunProgress, once it starts
        self.shapes = shapes  # the model's shape trace, printed under the first line

        class LiveProgress(Progress):
            def get_renderables(inner):  # noqa: N805 - rich calls this on each refresh
                if self.run_progress is not None and self.task is not None:
                    inner.update(self.task, completed=self.run_progress.done())
                yield from super().get_renderables()

        self.progress = LiveProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                     TextColumn("{task.fields[latest]}"), transient=False)

    def start(self, info: RunInfo) -> None:
        """Show the bar."""
        self.progress.console.print(f"{info.lesson.id} on {info.device} ({info.device_name}), seed {info.seed}")
        if self.shapes:
            self.progress.console.print(self.shapes, markup=False, highlight=False)
        self.run_progress = info.progress
        self.progress.start()
        self.task = self.progress.add_task(info.lesson.id, total=info.total, latest="")

    def record(self, record: Record, elapsed: float) -> None:
        """Advance to the record's epoch and show its values."""
        if isinstance(record, Metric) and record.step is None:
            self.progress.update(self.task, completed=record.epoch, latest=metric_text(record))

    def finish(self, summary: Summary) -> None:
        """Hide the bar's refresh thread."""
        self.progress.stop()


def _numbers(value: Any) -> str:
    """A number, or a list of numbers, as step mode prints it: `-9.3333`, `[1.0, 2.0, 3.0]`."""
    if isinstance(value, list):
        return "[" + ", ".join(map(_numbers, value)) + "]"
    return number(float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else safe(value)


def _signed(value: float) -> str:
    """A number inside a formula: negative ones in brackets, `(-9.3333)`."""
    return f"({number(float(value))})" if value < 0 else number(float(value))


SHORT_LINE = 34  # characters of a step's line that still fit the Step panel at 80x24 beside its names


def _packed(words: list[str]) -> list[str]:
    """`words` joined by two spaces into lines of at most SHORT_LINE characters (a longer word keeps a line)."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 2 + len(word) <= SHORT_LINE:
            lines[-1] += "  " + word
        else:
            lines.append(word if not lines else "  " + word)
    return lines


def step_text(lesson: Lesson, step: Step, points: list[Metric], lang: str) -> str:
    """One update of step mode as lines of text: batch, forward values, loss, gradients, the update, the chart points."""
    label = lambda word: safe(lesson.label(word, lang))  # noqa: E731
    # one fact a line, short enough for the workbench's panel at 80x24 (a short batch, one sample, on one line)
    def lines(name: str, texts: list[str]) -> list[tuple[str, str]]:
        joined = "   ".join(texts)
        return [(name if n == 0 else "", text) for n, text in enumerate([joined] if len(joined) <= SHORT_LINE else texts)]

    rows = lines(say("step batch", lang), [f"{label(k)} {_numbers(v)}" for k, v in step.batch.items()])
    rows += lines(say("step forward", lang), [f"{label(k)} = {_numbers(v)}" for k, v in step.forward.items()])
    rows += [(label(step.loss_name), number(float(step.loss)))]
    rows += lines(say("step grads", lang), [f"∂{step.loss_name}/∂{k} = {_numbers(v)}" for k, v in step.grads.items()])
    for n, (name, grad) in enumerate(step.grads.items()):
        old, new = step.before.get(name), step.after.get(name)
        first = say("step update", lang) if n == 0 else ""
        if step.lr is not None and isinstance(old, (int, float)) and isinstance(grad, (int, float)):
            rows += [(first, f"{name} ← {name} − lr·grad"),
                     ("", f"  = {number(float(old))} − {number(step.lr)} × {_signed(grad)}"), ("", f"  = {number(float(new))}")]
        else:
            rows += [(first, f"{name}: {_numbers(old)} → {_numbers(new)}" + (f"  ({safe(step.rule)})" if step.rule else ""))]
    added = []
    for m in points:  # `epoch 1: cost 4.6667  w 1.0933`, wrapped
        values = [f"{label(k)} {number(v)}" for k, v in m.values.items()] or [""]
        added += _packed([labelled(f"{label(lesson.unit)} {m.epoch}", values[0]).rstrip(), *values[1:]])
    added = added or [say("step no point", lang, unit=label(lesson.unit))]
    rows += [(say("step chart", lang) if n == 0 else "", text) for n, text in enumerate(added)]
    size = max(cell_len(name) for name, _ in rows)
    head = say("step head", lang, number=step.number, unit=label(lesson.unit), epoch=step.epoch)
    lines = [head] + [f"  {name}{' ' * (size - cell_len(name))}  {text}" for name, text in rows]
    if step.graph:
        lines += ["", say("step graph", lang)] + ["  " + safe(line) for line in step.graph.splitlines()]
    return "\n".join(lines)


class StepPrinter:
    """A sink for headless step mode: each update shown, in the form `step_text` gives, with the chart points it added."""

    def __init__(self, lesson: Lesson, lang: str, out: TextIO = sys.stdout) -> None:
        self.lesson, self.lang, self.out = lesson, lang, out
        self.step: Step | None = None
        self.points: list[Metric] = []

    def start(self, info: RunInfo) -> None:
        """Say what runs where, and that it goes one update at a time."""
        print(f"{info.lesson.id} on {info.device} ({info.device_name}), seed {info.seed}, "
              f"{say('step mode', self.lang)}", file=self.out, flush=True)

    def record(self, record: Record, elapsed: float) -> None:
        """A step is printed once the next one comes (or the run ends), with the points that came in between."""
        if isinstance(record, Step):
            self._print()
            self.step, self.points = record, []
        elif isinstance(record, Metric) and self.step is not None:
            self.points.append(record)

    def finish(self, summary: Summary) -> None:
        """The last step shown."""
        self._print()

    def _print(self) -> None:
        if self.step is not None:
            print("\n" + step_text(self.lesson, self.step, self.points, self.lang), file=self.out, flush=True)
        self.step = None


def plottable(value: Any) -> bool:
    """Whether `value` is a finite number: a point a chart can draw (huge ones on a log scale)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


Series = dict[str, tuple[list[float], list[float]]]


def chart_series(chart: Chart, metrics: list[Metric], series: Series | None = None) -> Series:
    """label -> (x, y) for each series of `chart`, finite points only (plotext fails on inf/nan).

    Given `series`, extends it with `metrics` (so a live chart only handles new points).
    """
    series = {} if series is None else series
    per_step = chart.x == "step"
    for metric in metrics:  # a hot loop in the workbench: kept plain
        if (chart.splits and metric.split not in chart.splits) or (metric.step is None) == per_step:
            continue
        x = metric.epoch if chart.x == "epoch" else metric.step if per_step else metric.values.get(chart.x)
        if x is None or not plottable(x):
            continue
        for name in chart.y:
            y = metric.values.get(name)
            if y is None or not plottable(y):
                continue
            if len(chart.y) == 1 and not chart.splits:
                label = metric.split
            else:
                label = name if len(chart.splits) == 1 else f"{metric.split} {name}"
            xs, ys = series.setdefault(label, ([], []))
            xs.append(x)
            ys.append(y)
    return series


def series_label(chart: Chart, key: str, lesson: Lesson, lang: str) -> str:
    """How a series of `chart_series` is named on screen: its split and/or metric through `lesson.label`."""
    if len(chart.y) == 1 and not chart.splits:
        return lesson.label(key, lang)  # one series per split
    if len(chart.splits) == 1:
        return lesson.label(key, lang)  # one series per metric
    split, _, name = key.rpartition(" ")
    return join_words(lesson.label(split, lang), lesson.label(name, lang))


def plot(title: str, x_label: str, series: dict[str, tuple[list[float], list[float]]], width: int,
         color: bool, hline: float | None = None, vline: float | None = None, lang: str = "en",
         mark_x: float | None = None, mark_label: str = "", integer_x: bool = False,
         markers: tuple[str, ...] = (), every: int = 0) -> str:
    """A line chart as text: title, plot and (for several series or a mark) a legend line.

    `markers` (one character per series, in turn) tell the series apart where there is no colour; `every`, a
    chart's (Chart.every), says under the title what the points are when the run's epochs were shorter.
    """
    lines = [Line(label if len(series) > 1 else "", xs, ys, COLORS[n % len(COLORS)],
                  marker=markers[n % len(markers)] if markers else None)
             for n, (label, (xs, ys)) in enumerate(series.items())]
    plan = plan_chart(title, x_label, lines, width, PLOT_HEIGHT, lang, mark_x=mark_x, mark_label=mark_label,
                      hline=hline, vline=vline, integer_x=integer_x)
    plan.caption = every_caption(every, lines, lang)
    return plan_text(plan, width, PLOT_HEIGHT, lang, color)


def chart_text(lesson: Lesson, chart: Chart, metrics: list[Metric], lang: str, width: int, color: bool,
               diverged_at: int | None = None) -> str | None:
    """One of the lesson's charts for the report, the divergence marked; None if it has under two points."""
    series = chart_series(chart, metrics)
    if not any(len(xs) > 1 for xs, _ in series.values()):
        return None
    named = {series_label(chart, key, lesson, lang): points for key, points in series.items()}
    mark = diverged_at if diverged_at is not None and chart.x == "epoch" else None
    label = DIVERGED_AT(lang).format(n=diverged_at, unit=unit_word(lesson.unit, lang)) if diverged_at is not None else ""
    x_label = lesson.label(lesson.unit if chart.x == "epoch" else chart.x, lang)
    return plot(chart.title(lang), x_label, named, width, color, lang=lang,
                mark_x=mark, mark_label=label, integer_x=chart.x in ("epoch", "step"), every=chart.every)


def heatmap_text(title: str, data: dict[str, Any], width: int, lang: str = "en",
                 label: Callable[[str], str] = str) -> str:
    """A heat map as characters: blank is the lowest value, '@' the highest, 'X' the marked point; its key and
    axis names in `lang` (the names through `label`)."""
    xs, ys, z = data["x"], data["y"], data["z"]
    col_step = max(1, math.ceil(len(xs) / max(10, width - 12)))
    row_step = max(1, math.ceil(len(ys) / 21))
    cols, rows = range(0, len(xs), col_step), range(0, len(ys), row_step)
    finite = [v for row in z for v in row if v is not None and math.isfinite(v)]
    low, high = min(finite), max(finite)

    def shade(value: float | None) -> str:
        if value is None or not math.isfinite(value):
            return "?"
        level = math.log1p(value - low) / math.log1p(high - low) if high > low else 0.0
        return SHADES[min(len(SHADES) - 1, int(level * len(SHADES)))]

    mark = data.get("mark")
    mark_cell = None
    if mark is not None:
        mark_cell = (min(rows, key=lambda j: abs(ys[j] - mark[1])), min(cols, key=lambda i: abs(xs[i] - mark[0])))
    x_name, y_name = label(data.get("x_label", "x")), label(data.get("y_label", "y"))
    key = f"{y_name}  " + (say("heatmap key mark", lang, x=x_name, x_value=mark[0], y=y_name, y_value=mark[1])
                           if mark else say("heatmap key", lang))
    lines = [title, *("  " + part for part in wrap_cell(key, max(MIN_COLUMN, width - 2)))]  # the key wraps to the width
    for j in reversed(rows):
        cells = "".join("X" if (j, i) == mark_cell else shade(z[j][i]) for i in cols)
        lines.append(f"{ys[j]:>8.3g} |{cells}")
    lines.append(" " * 9 + "+" + "-" * len(cols))
    left, right = f"{xs[0]:g}", f"{xs[cols[-1]]:g}"
    gap = max(1, len(cols) - len(left) - len(right) - cell_len(x_name))
    lines.append(" " * 10 + left + " " * (gap // 2) + x_name + " " * (gap - gap // 2) + right)
    return "\n".join(lines)


def _is_number(cell: Any) -> bool:
    return isinstance(cell, (int, float)) and not isinstance(cell, bool)


def _cell(cell: Any) -> str:
    """A table cell as one line of text: numbers to 5 significant digits, lists joined, line breaks escaped."""
    if isinstance(cell, str):  # its line breaks become spaces before `safe` would show them as \n
        return safe(" ".join(cell.splitlines()))
    return number(cell) if not isinstance(cell, list) else ", ".join(map(_cell, cell))


def _padded(text: str, width: int, right: bool) -> str:
    """`text` padded to `width` terminal cells (a Chinese character takes two), on the left if `right`."""
    room = " " * max(0, width - cell_len(text))
    return room + text if right else text + room


MIN_COLUMN = 8  # cells a wrapped column keeps at least
LONG_WORD = 16  # a text column keeps its longest word whole up to this many cells (a longer one is cut)
# where a cell may break: after a space, comma, slash or dot (or Chinese punctuation); after a dash that follows a
# digit or a word (never inside a number such as 1.75e-08); where Chinese meets a Latin word or an opening bracket
# (so that `optimizer.zero_grad()` inside a Chinese sentence is never cut)
_WORD_END = re.compile(r"(?<=[ ,，）/·：；、。])|(?<=\d-)(?=\w)|(?<=[^\W\d_]{2}-)(?=\w)"
                       r"|(?<=[\u3400-\u9fff])(?=[A-Za-z（])")
CLOSING = confusion.CLOSING  # punctuation that never starts a line


_PATH_BREAK = re.compile(r"(?<=[ /])")  # in a text with a folder's path: after a slash or a space, never in a name


def wrap_cell(text: str, size: int, breaks: re.Pattern[str] = _WORD_END) -> list[str]:
    """`text` in lines of at most `size` terminal cells, broken at spaces where it can be (a Chinese character takes
    two); `breaks` says where a line may end."""
    if cell_len(text) <= size:
        return [text]
    lines, line = [], ""
    for word in breaks.split(text):  # words, each with the space (comma, slash, dash) after it
        while word:
            if cell_len(line + word.rstrip()) <= size:
                line, word = line + word, ""
            elif line:
                lines.append(line.rstrip())
                line = ""
            else:  # one word longer than the column: cut it, after an opening bracket if there is one
                cut = 0
                while cut < len(word) and cell_len(word[:cut + 1]) <= size:
                    cut += 1
                bracket = word.rfind("(", 0, cut) + 1
                cut = bracket if bracket > size // 2 else max(1, cut)
                while 1 < cut < len(word) and word[cut] in CLOSING:  # a closing mark stays with what it closes
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
    return lines + ([line.rstrip()] if line.strip() else [])


def wrap_path(text: str, size: int) -> list[str]:
    """`text`, a folder's path or words that hold one, in lines of at most `size` cells: broken after a '/' or a
    space, so that no folder's name is split (unless one name alone is wider than `size`)."""
    return [line for part in text.splitlines() for line in wrap_cell(part, size, _PATH_BREAK)]


def table_text(data: dict[str, Any], label: Callable[[str], str] = str, width: int | None = None,
               wrap: bool = False) -> str:
    """Columns aligned (numbers to the right, text to the left); headers and word cells through `label`.

    Given `width`, no row is ever wrapped: a table wider than `width` closes up (one space before it and
    between its columns), and where that is still too wide, each row becomes a record, a cell under its
    column's name (`_records_text`). With `wrap`, the widest text columns (and long headers) wrap inside their columns
    instead, down to MIN_COLUMN cells each, a number never cut and a row's numbers on its first line (the
    sweep table, whose folders break at their dashes).
    """
    raw = [[label(c) if isinstance(c, str) else c for c in row] for row in data["rows"]]
    header = [safe(label(str(c))) for c in data["columns"]]
    rows = [[_cell(c) for c in row] + [""] * (len(header) - len(row)) for row in raw]
    numeric = [all(_is_number(row[i]) or row[i] in ("", None) for row in raw if i < len(row)) for i in range(len(header))]
    widths = _fitted_widths(header, rows, numeric, width if wrap else None)
    space = 2 if width is None or wrap or _table_width(widths, 2) <= width else 1  # before and between columns
    if width is not None and _table_width(widths, space) > width:
        return _records_text(header, rows, width)
    lines = []
    for cells in [header, *rows]:
        wrapped = [wrap_cell(c, w) for c, w in zip(cells, widths)]
        for n in range(max(map(len, wrapped))):
            parts = [_padded(w[n] if n < len(w) else "", size, right) for w, size, right in zip(wrapped, widths, numeric)]
            lines.append((" " * space + (" " * space).join(parts)).rstrip())
    return "\n".join(lines)


def _table_width(widths: list[int], space: int) -> int:
    """The cells a table's lines take with `space` cells before it and between its columns."""
    return space * len(widths) + sum(widths)


def _records_text(header: list[str], rows: list[list[str]], width: int) -> str:
    """A table too wide for `width` even with its text columns wrapped: each row as a record, its first cell as a
    heading and each other cell under its column's name (the way a values view puts a value under its name)."""
    room = max(MIN_COLUMN, width - 4)
    lines: list[str] = []
    for row in rows:
        lines += [f"  {part}" for part in wrap_cell(row[0], max(MIN_COLUMN, width - 2))]
        for name, cell in zip(header[1:], row[1:]):
            if cell:
                lines += [f"    {part}" for part in wrap_cell(labelled(name, cell), room)]
    return "\n".join(lines)


def _fitted_widths(header: list[str], rows: list[list[str]], numeric: list[bool], width: int | None) -> list[int]:
    """Each column's width: its widest cell, less where the table must fit `width` (text columns and headers give way)."""
    widest = [max(cell_len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    if width is None:
        return widest
    floor = [max([cell_len(r[i]) for r in rows] or [0]) if numeric[i] else 0 for i in range(len(header))]
    floor = [max(f, min(MIN_COLUMN, w), max((cell_len(word) for word in header[i].split()), default=0) if numeric[i] else 0,
                 0 if numeric[i] else min(LONG_WORD, max(cell_len(word) for r in rows for word in _WORD_END.split(r[i]))))
             for i, (f, w) in enumerate(zip(floor, widest))] if rows else floor
    widths = list(widest)
    excess = _table_width(widths, 2) - width
    while excess > 0:  # the widest column that can give way gives a column (the first of equals): wide ones even out
        shrinkable = [i for i in range(len(widths)) if widths[i] > floor[i]]
        if not shrinkable:
            break
        i = max(shrinkable, key=lambda j: (widths[j], -j))
        widths[i] -= 1
        excess -= 1
    return widths


def trace_text(trace: ShapeTrace, label: Callable[[str], str] = str, width: int | None = None) -> str:
    """A model's shape trace for `width` columns: its table as `table_text` fits it (counts grouped, `19,104`), then
    each note as `name: text`, wrapped between words with its later lines indented under the first."""
    rows = [[f"{c:,}" if _is_number(c) and isinstance(c, int) else c for c in row] for row in trace.rows]
    lines = [table_text({"columns": list(trace.columns), "rows": rows}, label, width)]
    for name, value in trace.notes.items():
        note = labelled(safe(label(name)), safe(label(value)))
        parts = [note] if width is None else wrap_cell(note, max(MIN_COLUMN, width - 4))
        lines += ["  " + parts[0], *("    " + part for part in parts[1:])]
    return "\n".join(lines)


def view_text(view: View, value: Any, lang: str, width: int, color: bool,
              label: Callable[[str], str] = str) -> str:
    """One of a lesson's views as text; `label` names its keys, columns and word cells (Lesson.label in `lang`).

    Values given in both languages (`both(zh, en)`) show in `lang`.
    """
    title = "\n".join(wrap_cell(view.title(lang), max(MIN_COLUMN, width)))  # a long title wraps, never cut
    value = in_lang(value, lang)
    if view.kind == "values":
        names = {name: safe(label(str(name))) for name in value}
        size = max(map(cell_len, names.values()), default=0)
        room = width - size - 4
        cells = {name: _cell(label(v) if isinstance(v, str) else v) for name, v in value.items()}
        lines = [title]
        for name, cell in cells.items():
            if cell_len(cell) > room:  # a value that does not fit whole beside the names goes under its name
                lines += [f"  {part}" for part in wrap_cell(names[name], max(MIN_COLUMN, width - 2))]
                lines += [f"    {part}" for part in wrap_cell(cell, max(MIN_COLUMN, width - 4))]
                continue
            for n, part in enumerate(wrap_cell(cell, room)):
                lines.append(f"  {_padded(names[name] if n == 0 else '', size, False)}  {part}".rstrip())
        return "\n".join(lines)
    if view.kind == "table":
        return f"{title}\n{table_text(value, label, width)}"
    if view.kind == "heatmap":
        return heatmap_text(title, value, width, lang, label)
    if view.kind == confusion.KIND:
        palette = confusion.ANSI if color else confusion.PLAIN
        lines = confusion.render(value, lang, width - 2, palette, label)
        return confusion.ansi(confusion.prose(title, width, palette.title), color) + "\n" + confusion.ansi(
            lines, color, indent="  ")
    if view.kind == "curve":  # the plot centres its title on as many lines as it needs: given whole, not wrapped
        series = {label(value.get("y_label", "y")): (value["x"], value["y"])}
        return plot(view.title(lang), label(value.get("x_label", "x")), series, width, color, value.get("hline"),
                    value.get("vline"), lang=lang)
    text = label(str(value))  # a lesson may yield a word its labels explain, in either language
    return f"{title}\n" + "\n".join(_text_lines(text, width))


def _text_lines(text: str, width: int) -> list[str]:
    """A text view's lines, indented; a line of words wider than `width` wraps (a picture drawn in braille never does)."""
    lines = []
    for line in map(safe, text.splitlines()):
        if cell_len(line) + 2 <= width or any("\u2800" <= ch <= "\u28ff" for ch in line):
            lines.append("  " + line)
            continue
        parts = wrap_cell(line, max(MIN_COLUMN, width - 4))
        lines += ["  " + parts[0], *("    " + part for part in parts[1:])]
    return lines


def final_report(lesson: Lesson, summary: Summary, records: list[Record], lang: str, color: bool,
                 out: TextIO = sys.stdout) -> None:
    """Print how the run ended, its final metrics, the lesson's views and its charts."""
    width = min(100, shutil.get_terminal_size((80, 24)).columns)
    print(f"\n{safe(summary.message)} ({summary.duration_s:.2f} s)", file=out)
    for split, values in summary.final.items():
        print(f"final {safe(split)}: " + "  ".join(f"{safe(k)} {number(v)}" for k, v in values.items()), file=out)
    views = {v.name: v for v in lesson.views}
    latest = {r.view: r.value for r in records if isinstance(r, ViewValue)}
    for name, value in latest.items():
        if name in views:
            print("\n" + view_text(views[name], value, lang, width, color, lambda word: lesson.label(word, lang)),
                  file=out)
    metrics = [r for r in records if isinstance(r, Metric)]
    for chart in lesson.charts:  # the first chart with a curve: the loss, as a rule
        text = chart_text(lesson, chart, metrics, lang, width, color, summary.diverged_at)
        if text is not None:
            print("\n" + text, file=out)
            break
    out.flush()


KEPT_PER_SERIES = 1000  # metrics kept per (split, per-step or per-epoch): about ten times a chart's width


class Keep:
    """A sink that keeps what the final report shows, in memory that does not grow with the run.

    The latest value of each view, and for each kind of metric (its split, per step or per epoch) at
    most KEPT_PER_SERIES records spread evenly over the run, with the latest one always among them.
    """

    def __init__(self, limit: int = KEPT_PER_SERIES) -> None:
        self.limit = limit
        self._views: dict[str, ViewValue] = {}
        self._series: dict[tuple[str, bool], _Thinned] = {}
        self._count = 0

    def start(self, info: RunInfo) -> None:
        """Nothing to do."""

    def record(self, record: Record, elapsed: float) -> None:
        """Keep it, or let an older one of its kind go."""
        if isinstance(record, ViewValue):
            self._views[record.view] = record
            return
        if not isinstance(record, Metric):  # a Step: the step printer shows it as it comes
            return
        self._count += 1
        key = (record.split, record.step is None)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Thinned(self.limit)
        series.add(self._count, record)

    def finish(self, summary: Summary) -> None:
        """Nothing to do."""

    @property
    def records(self) -> list[Record]:
        """The kept metrics in the order they came, then the latest value of each view."""
        kept = sorted((pair for series in self._series.values() for pair in series.pairs()), key=lambda pair: pair[0])
        return [record for _, record in kept] + list(self._views.values())


class _Thinned:
    """At most `limit` items spread evenly over all that were added (every `stride`-th), and the latest."""

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self.items: list[tuple[int, Metric]] = []
        self.stride = 1
        self.added = 0
        self.latest: tuple[int, Metric] | None = None

    def add(self, order: int, item: Metric) -> None:
        if self.added % self.stride == 0:
            self.items.append((order, item))
            if len(self.items) > self.limit:
                del self.items[1::2]
                self.stride *= 2
        self.added += 1
        self.latest = (order, item)

    def pairs(self) -> list[tuple[int, Metric]]:
        if self.latest is not None and (not self.items or self.items[-1][0] != self.latest[0]):
            return [*self.items, self.latest]
        return list(self.items)

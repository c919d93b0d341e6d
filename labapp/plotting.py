"""How a chart is drawn, decided once for the workbench and the headless report: no Textual, no torch.

`plan_chart` turns series into a ChartPlan: the title fitted to the width, the y values on the
scale that shows them (linear, log10 by request, or a signed log10 when values are too large for
a linear axis, as a diverged run's are), axis limits and ticks with compact labels (so labels never
squeeze the plot), the legend's entries, a mark (the divergence), or why there is nothing to draw.
`draw` hands a plan to a plotext figure; `legend_line` and `title_line` are the lines around it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from rich.cells import cell_len
from rich.color import Color
from rich.style import Style
from rich.segment import Segment
from rich.text import Text as RichText

from labapp.lesson import Text

# -- UI words of the charts. To move into W's catalogue, labapp/strings.py, at the merge. -------
NO_RUN = Text("还没有运行：运行这一课后这里画出曲线", "no run yet: run the lesson to draw its curves")
NO_POINTS_YET = Text("还没有数据点：{why}", "no points yet: {why}")
NO_POINTS = Text("没有数据点：{why}", "no points: {why}")
WHY_STARTING = Text("运行正在开始", "the run is starting")
WHY_FIRST_EPOCH = Text("第一个点在第 1 {unit}结束时", "the first comes at the end of {unit} 1")
WHY_EVERY_FEW = Text("这条曲线每隔若干批次才加一个点", "this curve gets a point every so many batches")
WHY_EVERY = Text("第一个点在第 {every} 批之后（一轮不到 {every} 批时，在这一轮结束时）",
                 "the first comes after {every} batches (at the end of the epoch, if it has fewer)")
SHORT_EPOCHS = Text("一轮只有 {batches} 批，不到 {every} 批：每个点是一轮的平均",
                    "an epoch has {batches} batches, fewer than {every}: each point is one epoch's mean")
WHY_FEWER = Text("这次运行没有报告这条曲线的数据（例如一轮的批次数少于它的间隔）",
                 "the run reported none for this curve (an epoch shorter than its interval, for example)")
WHY_NONE = Text("这次运行没有报告这条曲线的数据", "the run reported none for this curve")
WHY_LOG = Text("对数坐标只能画大于 0 的值", "a log scale draws only values above 0")
BATCH_OF = Text("（第 {epoch} {unit}：{done}/{total} 批）", " ({unit} {epoch}: batch {done}/{total})")
MORE = Text("另有 {n} 条", "+{n} more")
DIVERGED_AT = Text("在第 {n} {unit}发散", "diverged at {unit} {n}")
LOG10 = Text("（log10）", " (log10)")
SIGNED_LOG10 = Text("（log10，数值太大）", " (log10: values too large)")
COURSE_DEFAULTS = Text("课程默认值", "course defaults")

COLORS = ("cyan", "orange", "green", "magenta", "yellow", "blue", "red", "white",
          "cyan+", "green+", "magenta+", "blue+")  # plotext's names; a run's series in this order
FAINT_COLORS = ("gray", "white", "gray+")  # earlier runs
HUGE = 1e12  # beyond this a linear axis is useless (and plotext's scaling overflows near 1e15)
ELLIPSIS = "…"


@dataclass
class Line:
    """One series as drawn: its legend label, points (y already on the plan's scale) and colour."""

    label: str
    xs: list[float]
    ys: list[float]
    color: str = "cyan"
    faint: bool = False  # an earlier run, drawn in dots
    marker: str | None = None  # a character drawn for each point instead of braille (a plot without colour)


@dataclass
class ChartPlan:
    """Everything needed to draw one chart; `empty` says why there is nothing to draw."""

    title: str
    x_label: str
    lines: list[Line] = field(default_factory=list)
    scale: str = "linear"  # 'linear', 'log10' or 'signed log10'
    xlim: tuple[float, float] = (0.0, 1.0)
    ylim: tuple[float, float] = (0.0, 1.0)
    xticks: tuple[list[float], list[str]] = ([], [])
    yticks: tuple[list[float], list[str]] = ([], [])
    mark_x: float | None = None  # a vertical line: where the run diverged
    mark_label: str = ""
    hline: float | None = None  # on the plan's scale
    vline: float | None = None
    empty: str | None = None
    note: str = ""  # the scale's note at the end of the title, kept when the title is shortened
    caption: str = ""  # said under the title: what the points are, where the title alone would mislead


def every_caption(every: int, lines: Sequence[Line], lang: str) -> str:
    """What the points of a chart of means of every `every` batches are, when its run's epochs are shorter: the
    first point then comes at the end of epoch 1, before batch `every` (its step is the epoch's length); else ''."""
    firsts = [ln.xs[0] for ln in lines if ln.xs and not ln.faint]
    if not every or not firsts or min(firsts) >= every:
        return ""
    return SHORT_EPOCHS(lang).format(batches=int(min(firsts)), every=every)


def fit(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells with an ellipsis (a Chinese character takes two cells)."""
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for ch in text:
        used += cell_len(ch)
        if used > width - 1:
            break
        out.append(ch)
    return "".join(out).rstrip() + ELLIPSIS


def compact(value: float, step: float | None = None) -> str:
    """A tick label in at most about 7 characters: 0, 0.25, 4.67, 12000, 1.2e5, -3e-4, 1e300."""
    if value == 0:
        return "0"
    size = abs(value)
    if 1e-3 <= size < 1e5:
        decimals = 3 if step is None or step <= 0 else _decimals(step)
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    mantissa, _, exponent = f"{value:.1e}".partition("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _decimals(step: float) -> int:
    """The decimals that write `step` exactly (0.25: 2, 0.5: 1, 20: 0), at most 6: ticks that far apart stay apart."""
    return next((places for places in range(7) if abs(round(step, places) - step) <= step * 1e-6), 6)


def nice_ticks(low: float, high: float, count: int, integer: bool = False) -> list[float]:
    """About `count` round tick positions from `low` to `high` (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value = first + len(ticks) * step
    return ticks or [low]


def signed_log10(value: float) -> float:
    """sign(v) · log10(1 + |v|): readable for values from 0 to 1e308, of either sign."""
    return math.copysign(math.log10(1.0 + abs(value)), value)


def _padded(low: float, high: float) -> tuple[float, float]:
    """A range around one value (or a flat series) that shows it in the middle; else a little margin."""
    if high > low:
        margin = (high - low) * 0.05
        return low - margin, high + margin
    pad = abs(low) * 0.1 or 1.0
    return low - pad, high + pad


def downsample(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """At most about `limit` points: the lowest and the highest of each run of neighbours, in order.

    Keeping both extremes keeps a noisy or oscillating curve's envelope (every other point of a
    diverging w that flips sign each epoch would all have one sign); the first and last points stay.
    """
    if len(xs) <= limit or limit < 4:
        return xs, ys
    size = math.ceil(len(xs) / (limit // 2))
    keep: list[int] = []
    for start in range(0, len(xs), size):
        bucket = ys[start:start + size]  # slices, min, max and index run in C: a redraw stays cheap
        low, high = start + bucket.index(min(bucket)), start + bucket.index(max(bucket))
        keep += sorted({low, high})
    keep = sorted({0, *keep, len(xs) - 1})
    return [xs[i] for i in keep], [ys[i] for i in keep]


def plan_chart(title: str, x_label: str, lines: Sequence[Line], width: int, height: int, lang: str,
               log: bool = False, mark_x: float | None = None, mark_label: str = "", empty: str = "",
               hline: float | None = None, vline: float | None = None, integer_x: bool = False) -> ChartPlan:
    """The plan of a chart `width` x `height` cells (plot area, title and legend lines excluded).

    `lines` hold finite values; `empty` says why there are none, when no line has a point.
    """
    lines = [replace(ln, xs=xs, ys=ys) for ln in lines for xs, ys in [downsample(ln.xs, ln.ys, max(2, width))]]
    if not any(ln.ys for ln in lines):
        return ChartPlan(title=title, x_label=x_label, empty=empty or NO_POINTS(lang).format(why=WHY_NONE(lang)))
    scale = "linear"
    if log:
        scale = "log10"
        lines = [replace(ln, xs=xs, ys=ys) for ln in lines for xs, ys in [_log10(ln.xs, ln.ys)]]
        hline = math.log10(hline) if hline is not None and hline > 0 else None
        empty = NO_POINTS(lang).format(why=WHY_LOG(lang))
    elif any(abs(y) > HUGE for ln in lines for y in ln.ys):
        scale = "signed log10"
        lines = [replace(ln, ys=[signed_log10(y) for y in ln.ys]) for ln in lines]
        hline = signed_log10(hline) if hline is not None else None
    note = {"linear": "", "log10": LOG10(lang), "signed log10": SIGNED_LOG10(lang)}[scale]
    plan = ChartPlan(title=title + note, x_label=x_label, scale=scale, hline=hline, vline=vline,
                     mark_x=mark_x, mark_label=mark_label, note=note)
    drawn = [ln for ln in lines if ln.ys]
    if not drawn:
        plan.empty = empty
        return plan
    if all(len(ln.xs) == 1 for ln in drawn):
        return _one_point_each(plan, drawn, width, height)
    plan.lines = drawn
    xs = [x for ln in drawn for x in ln.xs] + ([mark_x] if mark_x is not None else []) + \
        ([vline] if vline is not None else [])
    ys = [y for ln in drawn for y in ln.ys] + ([hline] if hline is not None else [])
    low, high = min(xs), max(xs)
    plan.xlim = (low - 1, high + 1) if low == high else (low, high + ((high - low) / width if mark_x == high else 0))
    plan.ylim = _padded(min(ys), max(ys))
    x_positions = nice_ticks(*plan.xlim, count=max(3, width // 9), integer=integer_x)
    x_step = x_positions[1] - x_positions[0] if len(x_positions) > 1 else None
    plan.xticks = (x_positions, [compact(x, x_step) for x in x_positions])
    plan.yticks = _y_ticks(plan.ylim, max(2, min(6, height // 2)), scale)
    return plan


def _one_point_each(plan: ChartPlan, lines: list[Line], width: int, height: int) -> ChartPlan:
    """A chart of single points (one epoch, one evaluation): each a large dot with its value in the legend,
    the x axis ticked at the points only and the y axis from 0, so that one value is not read as a curve."""
    xs = sorted({ln.xs[0] for ln in lines})
    ys = [ln.ys[0] for ln in lines] + ([plan.hline] if plan.hline is not None else [])
    low, high = min(0.0, *ys), max(0.0, *ys)
    span = (high - low) or 1.0
    plan.lines = [replace(ln, marker="●", label=f"{ln.label} {ln.ys[0]:.4g}".strip()) for ln in lines]
    plan.xlim = (xs[0] - 1, xs[-1] + 1)
    plan.xticks = (xs, [compact(x) for x in xs])
    plan.ylim = (low - span * 0.05 if low < 0 else low, high + span * 0.15 if high > 0 else high)
    plan.yticks = _y_ticks(plan.ylim, max(2, min(6, height // 2)), plan.scale)
    return plan


def _log10(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """The points with y > 0, y replaced by log10(y) (plotext's own log axis breaks on redraw)."""
    kept = [(x, math.log10(y)) for x, y in zip(xs, ys) if y > 0]
    return [x for x, _ in kept], [y for _, y in kept]


def _y_ticks(ylim: tuple[float, float], count: int, scale: str) -> tuple[list[float], list[str]]:
    """Tick positions and labels of the y axis: round values, or whole powers of ten on a log scale."""
    if scale == "linear":
        positions = nice_ticks(*ylim, count=count)
        step = positions[1] - positions[0] if len(positions) > 1 else None
        return positions, [compact(y, step) for y in positions]
    if scale == "log10" and ylim[1] - ylim[0] < 2:  # within two decades: round values, placed at their log
        values = [v for v in nice_ticks(10.0 ** ylim[0], 10.0 ** ylim[1], count) if v > 0]
        step = values[1] - values[0] if len(values) > 1 else None
        return [math.log10(v) for v in values], [compact(v, step) for v in values]
    positions = nice_ticks(*ylim, count=count, integer=True)
    if scale == "log10":
        return positions, [compact(10.0 ** p) for p in positions]
    # signed log10: position p stands for sign(p) · (10^|p| - 1), labelled as the power of ten
    return positions, ["0" if p == 0 else ("-" if p < 0 else "") + compact(10.0 ** abs(p)) for p in positions]


def draw(plt: Any, plan: ChartPlan) -> None:
    """Put `plan` on a cleared plotext figure (a textual-plotext Plot or the plotext module); the caller sizes it.

    The title and legend are not drawn here: they are lines of their own (`title_line`, `legend_line`),
    so that they never vanish, never cover the curves, and count Chinese characters as two cells.
    """
    for line in plan.lines:
        plt.plot(line.xs, line.ys, color=line.color, marker=line.marker or ("dot" if line.faint else "braille"))
    if plan.mark_x is not None:
        plt.vline(plan.mark_x, color="red")
    if plan.hline is not None:
        plt.hline(plan.hline)
    if plan.vline is not None:
        plt.vline(plan.vline)
    plt.xlim(*plan.xlim)
    plt.ylim(*plan.ylim)
    plt.xticks(*plan.xticks)
    plt.yticks(*plan.yticks)
    plt.xlabel(plan.x_label)


RICH_COLORS = {"orange": "dark_orange", "gray": "grey50", "gray+": "grey70", "white": "white"}


def rich_color(color: str) -> str:
    """The rich style of a plotext colour name ('cyan+' is bright cyan)."""
    if color in RICH_COLORS:
        return RICH_COLORS[color]
    return f"bright_{color[:-1]}" if color.endswith("+") else color


def title_line(plan: ChartPlan, width: int) -> RichText:
    """The title, centred; when longer than `width`, without its closing parenthesis, then cut with an ellipsis
    (its scale note kept)."""
    from labapp.panel_bar import short_name

    text = plan.title
    if cell_len(text) > width:
        base = text[:len(text) - len(plan.note)] if plan.note else text
        note = plan.note if cell_len(plan.note) < width // 2 else ""
        text = fit(short_name(base), width - cell_len(note)) + note
    left = max(0, (width - cell_len(text)) // 2)
    return RichText(" " * left + text, style="bold")


def title_lines(plan: ChartPlan, width: int) -> list[str]:
    """The title, centred, on as many lines as it needs (a view or the report has the rows to say it whole)."""
    from labapp.report import wrap_cell

    return [" " * max(0, (width - cell_len(line)) // 2) + line for part in plan.title.splitlines()
            for line in wrap_cell(part, width)]


def legend_line(plan: ChartPlan, width: int, lang: str) -> RichText:
    """One line under the plot: the divergence mark, then each line's colour and label while they fit, then '+N more'."""
    entries: list[tuple[str, str]] = []
    if plan.mark_x is not None and plan.mark_label:
        entries.append(("┃ " + plan.mark_label, "bold red"))
    named = sorted((ln for ln in plan.lines if ln.label), key=lambda ln: ln.faint)  # the current run first
    entries += [((f"{ln.marker} " if ln.marker else "┄ " if ln.faint else "━ ") + ln.label, rich_color(ln.color))
                for ln in named]
    line = RichText(no_wrap=True, overflow="ellipsis")
    for index, (text, style) in enumerate(entries):
        gap = "  " if index else ""
        rest = len(entries) - index - 1
        tail = "  " + MORE(lang).format(n=rest) if rest else ""
        if cell_len(line.plain) + cell_len(gap + text) + cell_len(tail) <= width:
            line.append(gap + text, style=style)
            continue
        if index == 0:  # the first entry is always there, shortened if need be
            line.append(fit(text, width - cell_len(tail)), style=style)
            line.append(tail, style="dim")
        else:
            line.append(gap + MORE(lang).format(n=rest + 1), style="dim")
        break
    return line


def plan_text(plan: ChartPlan, width: int, height: int, lang: str, color: bool) -> str:
    """The chart as text lines (title, plot, legend) for the headless report."""
    import plotext

    from labapp.report import wrap_cell

    lines = title_lines(plan, width) + (wrap_cell(plan.caption, width) if plan.caption else [])
    if plan.empty:  # why, wrapped between words
        return "\n".join(lines + [line for part in plan.empty.splitlines() for line in wrap_cell(part, width)])
    plotext.clf()
    plotext.theme("clear")  # the terminal's own background, not plotext's white canvas
    draw(plotext, plan)
    plotext.plotsize(width, height)
    built = plotext.build().rstrip("\n")
    lines.append(built if color else plotext.uncolorize(built))
    legend = legend_line(plan, width, lang)
    if legend.plain.strip():
        lines.append(_ansi(legend) if color else legend.plain)
    return "\n".join(lines)


def _ansi(text: RichText) -> str:
    """`text` with its styles as ANSI escape codes."""
    from rich.console import Console

    console = Console(force_terminal=True, color_system="standard", width=10_000)
    with console.capture() as capture:
        console.print(text, end="")
    return capture.get()


# -- plotext's plot as Rich segments ---------------------------------------------------------------------
# plotext keeps its plot as a matrix of characters, each with a foreground, a style and a background,
# and `build()` writes it out as text with SGR colour codes. Writing that text, then reading it back
# into styled segments (Rich's decoder, then Textual's), took most of a chart's redraw; the matrix is
# read here directly, a run of same-coloured cells at a time. Each colour triple is turned into a
# style once, through plotext's own codes for it, so the colours are plotext's to the bit.

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_BASIC = {**{30 + n: n for n in range(8)}, **{90 + n: 8 + n for n in range(8)}}  # SGR code -> 16-colour index


def _colour(params: list[int], at: int) -> tuple[Color | None, int]:
    """The colour of `38;5;n` or `38;2;r;g;b` (or 48;...) starting at params[at]; and where the next code starts."""
    kind = params[at + 1] if at + 1 < len(params) else None
    if kind == 5 and at + 2 < len(params):
        return Color.from_ansi(params[at + 2] % 256), at + 3
    if kind == 2 and at + 4 < len(params):
        return Color.from_rgb(*(min(255, value) for value in params[at + 2:at + 5])), at + 5
    return None, len(params)  # malformed: the rest of the sequence is ignored, as terminals do


def _after(state: tuple, codes: str) -> tuple:
    """(foreground, background, bold) after the SGR parameters `codes`."""
    fg, bg, bold = state
    params = [int(code) if code else 0 for code in codes.split(";")]
    at = 0
    while at < len(params):
        code = params[at]
        at += 1
        if code == 0:
            fg, bg, bold = None, None, False
        elif code == 1:
            bold = True
        elif code == 22:
            bold = False
        elif code in (38, 48):
            colour, at = _colour(params, at - 1)
            fg, bg = (colour, bg) if code == 38 else (fg, colour)
        elif code == 39:
            fg = None
        elif code == 49:
            bg = None
        elif code in _BASIC:
            fg = Color.from_ansi(_BASIC[code])
        elif code - 10 in _BASIC:
            bg = Color.from_ansi(_BASIC[code - 10])
    return fg, bg, bold


def _hashable(colour: Any) -> Any:
    return tuple(colour) if isinstance(colour, list) else colour  # an RGB colour is a list in plotext


@lru_cache(maxsize=512)
def _cell_style(fullground: Any, style: Any, background: Any) -> Style | None:
    """The Rich style of a plotext cell's colours: plotext's own SGR codes for them, read; None for the
    terminal's own colours."""
    from plotext._utility import colors_to_ansi

    state: tuple = (None, None, False)
    for code in _SGR.finditer(colors_to_ansi(fullground, style, background)):
        state = _after(state, code.group(1))
    fg, bg, bold = state
    return Style(color=fg, bgcolor=bg, bold=bold or None) if state != (None, None, False) else None


def plot_segments(figure: Any) -> list[list[Segment]]:
    """A plotext figure's plot, built, as one list of Rich segments a line: the characters and colours of
    `figure.build()`'s text, read from its matrix."""
    figure._set_sizes()  # as figure.build() does, less writing the text
    figure._build_matrix()
    matrix = figure.monitor.matrix
    lines = []
    for row in reversed(matrix.Rows):  # the matrix's row 0 is the bottom line
        markers = matrix.marker[row]
        colours = list(zip(matrix.fullground[row], matrix.style[row], matrix.background[row]))
        line, start = [], 0
        for end in range(1, len(markers) + 1):
            if end == len(markers) or colours[end] != colours[start]:
                line.append(Segment("".join(markers[start:end]), _cell_style(*map(_hashable, colours[start]))))
                start = end
        lines.append(line)
    return lines

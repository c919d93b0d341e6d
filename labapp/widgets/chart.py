"""A live chart of one of a lesson's Charts: the current run, and earlier runs as faint overlays.

What to draw is decided by `labapp.traces.plan_traces` (plain Python, tested without Textual);
this widget only sizes it: a title line, the plot, and a legend line under it, drawn as lines of
segments (Textual's line API: no text to lay out again at each redraw). plotext (through
textual-plotext's Plot) is imported when a chart first has points to draw: an empty chart, as on
the first screen, never needs it.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text as RichText
from textual.strip import Strip
from textual.widget import Widget

from labapp.confusion import prose
from labapp.lesson import Chart
from labapp.plotting import ChartPlan, draw, fit, legend_line, plot_segments, title_line
from labapp.strings import labelled
from labapp.traces import MAX_OVERLAYS, RunTrace, plan_sweep, plan_traces

__all__ = ["LessonChart", "MAX_OVERLAYS"]

MIN_PLOT_HEIGHT = 4  # below this the plot is left out and the chart shows its title and legend only


def load_plotext() -> None:
    """Import plotext and textual-plotext now (a background thread may, so that the first drawing need not)."""
    import textual_plotext.plot  # noqa: F401


def empty_box(note: str, width: int, height: int) -> list[RichText]:
    """Why a chart is empty, in `height` lines of `width`: wrapped between words inside a frame where the plot would
    be, so that the notes of charts side by side never run into one another (without room for a frame, indented)."""
    inner = width - 4  # the frame and a space inside it, each side
    if inner < 8 or height < 3:
        lines = [RichText(" ") + line for part in note.splitlines() for line in prose(part, max(8, width - 2), "dim italic")]
        return lines[:max(1, height)]
    lines = [line for part in note.splitlines() for line in prose(part, inner, "dim italic")]
    rows = height - 2
    if len(lines) > rows:  # too many for the box: the last one kept says there is more
        lines = lines[:rows]
        lines[-1] = RichText(fit(lines[-1].plain, inner - 1) + " …", style="dim italic")
    top = (rows - len(lines)) // 2
    blank = RichText("")
    body = [blank] * top + lines + [blank] * (rows - top - len(lines))
    edge = "dim"
    framed = [RichText("┌" + "─" * (width - 2) + "┐", style=edge)]
    for line in body:
        framed.append(RichText.assemble(("│ ", edge), line, " " * (inner - line.cell_len), (" │", edge)))
    return framed + [RichText("└" + "─" * (width - 2) + "┘", style=edge)]


class LessonChart(Widget):
    """One chart of a lesson; `show(traces, ...)` stores what to draw, drawing happens in `render_line` once per change."""

    DEFAULT_CSS = """
    LessonChart {
        width: 1fr;
        height: 1fr;
    }
    """

    def __init__(self, chart: Chart, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.chart = chart
        self.lang = lang
        self.traces: list[RunTrace] = []
        self.log_scale = False
        self.overlays = True
        self.sweep: tuple[str, ...] = ()  # in a sweep, each trace's point ('lr=0.01'): drawn alike, named by point
        self.plan: ChartPlan | None = None  # the last plan drawn (tests read it)
        self._key: tuple | None = None
        self._cached: list[list[Segment]] | None = None  # the drawing's lines
        self._style = Style()
        self._plot: Any = None  # textual-plotext's Plot, made when first needed

    def on_mount(self) -> None:
        """Draw again in the colours of a new theme."""
        self.app.theme_changed_signal.subscribe(self, lambda theme: self.on_resize())

    @property
    def plt(self) -> Any:
        """The plotext figure this chart draws with (textual-plotext's Plot: no global state)."""
        if self._plot is None:
            from textual_plotext.plot import Plot

            self._plot = Plot()
        return self._plot

    def _plotext_theme(self) -> str:
        """plotext's theme for the app's theme: its background and foreground, as PlotextPlot registers it."""
        from plotext._dict import themes
        from textual.color import Color
        from textual_plotext.plot import _rgbify_theme, _sequence

        name = f"textual-auto-{self.app.theme}"
        if name not in themes:
            colors = self.app.theme_variables
            surface = Color.parse(colors.get("surface")).rgb
            themes[name] = _rgbify_theme(surface, surface, Color.parse(colors.get("foreground")).rgb, "default", _sequence)
        return name

    def show(self, traces: list[RunTrace], log_scale: bool = False, overlays: bool = True,
             sweep: tuple[str, ...] = ()) -> None:
        """Draw `traces` (the last one is the current run; or a sweep's runs, `sweep` naming their points); repaints on change."""
        key = (tuple((id(t), t.version, t.status) for t in traces), log_scale, overlays, sweep, self.lang,
               traces[-1].progress.batch if traces and self.plan is not None and self.plan.empty else None)
        if key == self._key:
            return
        self.traces, self.log_scale, self.overlays, self.sweep = list(traces), log_scale, overlays, sweep
        self._key = key
        self._cached = None
        self.refresh()

    def set_lang(self, lang: str) -> None:
        """Titles, legend and notes in `lang` from the next drawing."""
        if lang != self.lang:
            self.lang = lang
            self._key = None
            self._cached = None
            self.refresh()

    def on_resize(self) -> None:
        """A new size needs a new drawing."""
        self._cached = None
        self.refresh()

    def lines(self) -> list[list[Segment]]:
        """Title, plot and legend, as segments a line, built once per change of data or size (plotext builds are slow)."""
        if self._cached is None:
            self._style = self.rich_style  # the widget's colours, under the drawing's own
            try:
                self._cached = self._draw()
            except Exception as error:  # noqa: BLE001 - a chart must never take the app down
                self._cached = self._segments(RichText(fit(labelled(self.chart.title(self.lang), error), self.size.width),
                                                       style="dim"))
        return self._cached

    def render_line(self, y: int) -> Strip:
        """Line `y` of the drawing, in the widget's colours where the drawing sets none."""
        lines = self.lines()
        segments = lines[y] if y < len(lines) else []
        return Strip(segments).adjust_cell_length(self.size.width).apply_style(self._style)

    def text(self) -> str:
        """The drawing as plain text (what tests read)."""
        return "\n".join("".join(segment.text for segment in line) for line in self.lines())

    def _segments(self, text: RichText) -> list[list[Segment]]:
        """`text`'s lines as segments, unwrapped."""
        return [list(line.render(self.app.console)) for line in text.split("\n", allow_blank=True)]

    def _draw(self) -> list[list[Segment]]:
        width, height = max(1, self.size.width), max(1, self.size.height)
        plot_height = height - 2  # the title line above, the legend line below
        size = (max(10, width - 8), max(2, plot_height))
        plan = (plan_sweep(self.chart, self.traces, self.sweep, self.lang, *size, self.log_scale) if self.sweep else
                plan_traces(self.chart, self.traces, self.lang, *size, self.log_scale, self.overlays))
        self.plan = plan
        text = title_line(plan, width)
        if plan.empty:
            return self._segments(RichText("\n").join([text, *empty_box(plan.empty, width, height - 1)]))
        caption = [RichText(" ") + line for line in prose(plan.caption, max(10, width - 1), "dim italic")]
        if plan.caption and plot_height - len(caption) >= MIN_PLOT_HEIGHT:  # what the points are, under the title
            text = RichText("\n").join([text, *caption])
            plot_height -= len(caption)
        plot: list[list[Segment]] = []
        if plot_height >= MIN_PLOT_HEIGHT:
            plt = self.plt
            plt.clear_data()
            plt.clear_figure()
            draw(plt, plan)
            plt.plotsize(width, plot_height)
            plt._set_size(width, plot_height)  # as PlotextPlot.render does (textual-plotext issue #5)
            plt.theme(self._plotext_theme())
            plot = plot_segments(plt)
        return [*self._segments(text), *plot, *self._segments(legend_line(plan, width, self.lang))]

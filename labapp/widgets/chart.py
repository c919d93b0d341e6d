"""A live chart of one of a lesson's Charts: the current run, and earlier runs as faint overlays.

What to draw is decided by `labapp.traces.plan_traces` (plain Python, tested without Textual);
this widget only sizes it: a title line, the plot, and a legend line under it. plotext (through
textual-plotext's Plot) is imported when a chart first has points to draw: an empty chart, as on
the first screen, never needs it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text as RichText
from textual.widget import Widget

from labapp.confusion import prose
from labapp.lesson import Chart
from labapp.plotting import ChartPlan, ansi_text, draw, fit, legend_line, title_line
from labapp.strings import labelled
from labapp.traces import MAX_OVERLAYS, RunTrace, plan_sweep, plan_traces

__all__ = ["LessonChart", "MAX_OVERLAYS"]

MIN_PLOT_HEIGHT = 4  # below this the plot is left out and the chart shows its title and legend only


def load_plotext() -> None:
    """Import plotext and textual-plotext now (a background thread may, so that the first drawing need not)."""
    import textual_plotext.plot  # noqa: F401


class LessonChart(Widget):
    """One chart of a lesson; `show(traces, ...)` stores what to draw, drawing happens in `render` once per change."""

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
        self._cached: RichText | None = None
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

    def render(self) -> RichText:
        """Title, plot and legend, built once per change of data or size (plotext builds are slow)."""
        if self._cached is None:
            try:
                self._cached = self._draw()
            except Exception as error:  # noqa: BLE001 - a chart must never take the app down
                self._cached = RichText(fit(labelled(self.chart.title(self.lang), error), self.size.width), style="dim")
        return self._cached

    def _draw(self) -> RichText:
        width, height = max(1, self.size.width), max(1, self.size.height)
        plot_height = height - 2  # the title line above, the legend line below
        size = (max(10, width - 8), max(2, plot_height))
        plan = (plan_sweep(self.chart, self.traces, self.sweep, self.lang, *size, self.log_scale) if self.sweep else
                plan_traces(self.chart, self.traces, self.lang, *size, self.log_scale, self.overlays))
        self.plan = plan
        text = title_line(plan, width)
        if plan.empty:  # wrapped between words inside the chart's box (a space from its left neighbour's border)
            lines = [RichText(" ") + line for part in plan.empty.splitlines()
                     for line in prose(part, max(10, width - 1), "dim italic")]
            return RichText("\n").join([text, RichText(""), *lines[:max(1, height - 2)]])
        if plot_height >= MIN_PLOT_HEIGHT:
            plt = self.plt
            plt.clear_data()
            plt.clear_figure()
            draw(plt, plan)
            plt.plotsize(width, plot_height)
            plt._set_size(width, plot_height)  # as PlotextPlot.render does (textual-plotext issue #5)
            plt.theme(self._plotext_theme())
            text.append("\n")
            text.append(ansi_text(plt.build().rstrip("\n")))
        text.append("\n")
        text.append(legend_line(plan, width, self.lang))
        return text

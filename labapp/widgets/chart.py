"""A live chart of one of a lesson's Charts: the current run, and earlier runs as faint overlays."""

from __future__ import annotations

import math

from rich.text import Text as RichText
from textual_plotext import PlotextPlot

from labapp.lesson import Chart
from labapp.traces import RunTrace, downsample

CURRENT_COLORS = ("cyan", "orange", "green", "magenta", "yellow", "blue", "red", "white",
                  "cyan+", "green+", "magenta+", "blue+")
OVERLAY_COLORS = ("gray", "white", "gray+")
MAX_OVERLAYS = 4


class LessonChart(PlotextPlot):
    """One chart of a lesson; `show(traces)` stores what to draw, drawing happens in `render` at most once per change."""

    def __init__(self, chart: Chart, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.chart = chart
        self.lang = lang
        self.traces: list[RunTrace] = []
        self.log_scale = False
        self.overlays = True
        self._key: tuple | None = None
        self._cached: RichText | None = None

    def show(self, traces: list[RunTrace], log_scale: bool, overlays: bool) -> None:
        """Draw `traces` (the last one is the current run); repaints only if anything changed."""
        key = (tuple((id(t), t.version) for t in traces), log_scale, overlays)
        if key == self._key:
            return
        self.traces, self.log_scale, self.overlays = traces, log_scale, overlays
        self._key = key
        self._cached = None
        self.refresh()

    def on_resize(self) -> None:
        """A new size needs a new drawing."""
        self._cached = None

    def render(self) -> RichText:
        """The plot, built once per change of data or size (plotext builds are slow)."""
        if self._cached is None:
            try:
                self._draw()
                self._cached = super().render()
            except Exception as error:  # noqa: BLE001 - a chart must never take the app down
                self._cached = RichText(f"(chart unavailable: {error})", style="dim")
        return self._cached

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        width = max(10, self.size.width - 10)
        title = self.chart.title(self.lang)
        drawn = self.traces[-1:] if not self.overlays else self.traces[-(MAX_OVERLAYS + 1):]
        lows: list[float] = []
        highs: list[float] = []
        for index, trace in enumerate(drawn):
            current = trace is self.traces[-1]
            colors = CURRENT_COLORS if current else OVERLAY_COLORS
            for n, (label, (xs, ys)) in enumerate(trace.series(self.chart).items()):
                xs, ys = downsample(xs, ys, width)
                if self.log_scale:
                    xs, ys = _log10(xs, ys)
                if not ys:
                    continue
                lows.append(min(ys))
                highs.append(max(ys))
                if current and len(self.chart.y) == 1 and len(self.chart.splits) == 1:
                    name = f"#{trace.number} {trace.label}"[:32]  # one series: name the run
                elif current:
                    name = label
                else:
                    name = None if n else f"#{trace.number} {trace.label}"[:32]  # one entry per earlier run
                plt.plot(xs, ys, label=name, color=colors[n % len(colors)],
                         marker="braille" if current else "dot")
            if current and trace.status == "diverged":  # the runner's verdict: "diverged at epoch N: ..."
                title += "  — " + trace.message.partition(":")[0]
        if self.log_scale and lows:
            _log_ticks(plt, min(lows), max(highs))
            title += "  (log10)"
        plt.title(title)
        plt.xlabel(self.chart.x)


def _log10(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """The points with y > 0, y replaced by log10(y) (plotext's own log axis breaks on redraw)."""
    kept = [(x, math.log10(y)) for x, y in zip(xs, ys) if y > 0]
    return [x for x, _ in kept], [y for _, y in kept]


def _log_ticks(plt, low: float, high: float) -> None:
    """Ticks at whole powers of ten, labelled 1e-3, 0.01, 0.1, 1, 10 ..."""
    first, last = math.floor(low), math.ceil(high)
    step = max(1, (last - first) // 6 + 1)
    ticks = list(range(first, last + 1, step))
    plt.yticks(ticks, [f"{10.0 ** t:g}" for t in ticks])

"""What the workbench remembers of its runs: each run's series and views, per lesson.

Plain Python, no Textual and no torch: the training thread appends records to a RunTrace through
a TraceSink, and the UI reads the traces on its own timer. Only the start and the end of a run
are pushed to the UI (through the `notify` callback); records are pulled, so a fast lesson can
never flood the UI's message queue.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labapp.lesson import Chart, Lesson, Metric, ParamError, Record, Step, Values, ViewValue
from labapp.plotting import (BATCH_OF, COLORS, COURSE_DEFAULTS, DIVERGED_AT, FAINT_COLORS, NO_POINTS,
                             NO_POINTS_YET, NO_RUN, WHY_EVERY, WHY_EVERY_FEW, WHY_FEWER, WHY_FIRST_EPOCH, WHY_NONE,
                             WHY_STARTING, ChartPlan, Line, downsample, every_caption, plan_chart)
from labapp.progress import RunProgress, RunStatus, metric_of_row, status_of
from labapp.records import read_metrics, read_run
from labapp.report import Series, chart_series, series_label
from labapp.runner import RunInfo, Summary
from labapp.strings import say, unit_word

__all__ = ["RunTrace", "TraceSink", "describe", "downsample", "plan_traces", "plan_sweep", "MAX_OVERLAYS"]

MAX_OVERLAYS = 4  # earlier runs drawn under the current one


def describe(lesson: Lesson, values: Values) -> str:
    """A short label for a run: the params that differ from the course's, e.g. 'lr=0.05 mode=stochastic'."""
    changed = [f"{p.name}={p.format(values[p.name])}" for p in lesson.params if values[p.name] != p.default]
    return " ".join(changed) or "course defaults"


@dataclass
class RunTrace:
    """One run as the workbench shows it: its progress, status and every series point so far.

    `progress` is the runner's own RunProgress once the run starts (TraceSink.start), so the epoch,
    the batches inside it, the elapsed time and the ETA are live; a trace read from disk
    (`from_run_dir`) has one rebuilt from its records.
    """

    lesson: Lesson
    values: Values
    number: int
    label: str
    message: str = ""
    device: str = ""
    points: list[Metric] = field(default_factory=list, repr=False)
    views: dict[str, Any] = field(default_factory=dict)
    run_dir: str = ""
    no_records: str = ""  # why the run keeps no records on disk, when it keeps none
    version: int = 0  # bumped on every change, so widgets redraw only when something changed
    step: Step | None = None  # the latest update shown in step mode
    step_at: int = 0  # how many points there were before it: the ones after it are the points it added
    progress: RunProgress = field(default=None, repr=False)  # type: ignore[assignment] - set in __post_init__
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _series: dict[Chart, tuple[int, Series]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.progress is None:
            self.progress = RunProgress.for_lesson(self.lesson, self.values)

    @classmethod
    def from_run_dir(cls, lesson: Lesson, path: Path | str, number: int) -> RunTrace:
        """A finished (or interrupted) run of `lesson` read back from its folder, for overlays and history."""
        path = Path(path)
        config = _read_json(path / "config.json")
        summary = _read_json(path / "summary.json")
        values = _values(lesson, config.get("params"))
        rows = read_metrics(path)
        past = read_run(path)
        status = status_of(past.status if past else None) or RunStatus.INTERRUPTED
        total = config.get("total") if isinstance(config.get("total"), int) else lesson.total(values)
        diverged_at = summary.get("diverged_at") if isinstance(summary.get("diverged_at"), int) else None
        progress = RunProgress.from_rows(rows, total=total, unit=lesson.unit, headline=lesson.headline_metric(),
                                         status=status, diverged_at=diverged_at)
        trace = cls(lesson=lesson, values=values, number=number, label=describe(lesson, values),
                    message=past.message if past else "", device=str(config.get("device") or ""),
                    run_dir=str(path), progress=progress)
        for row in rows:
            metric = metric_of_row(row)
            if metric is not None:
                trace.points.append(metric)
            elif row.get("kind") == "view" and isinstance(row.get("view"), str):
                trace.views[row["view"]] = row.get("value")
        return trace

    def add(self, record: Record, elapsed: float = 0.0) -> None:
        """Take one record from the training thread (the runner updates `progress` itself)."""
        with self._lock:
            if isinstance(record, ViewValue):
                self.views[record.view] = record.value
            elif isinstance(record, Step):
                self.step, self.step_at = record, len(self.points)
            else:
                self.points.append(record)
            self.version += 1

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """Take metrics.jsonl rows (records.read_metrics): a run's records so far, before it goes on."""
        for row in rows:
            metric = metric_of_row(row)
            if metric is not None:
                self.add(metric)
            elif row.get("kind") == "view" and isinstance(row.get("view"), str):
                self.add(ViewValue(row["view"], row.get("value")))

    def series(self, chart: Chart) -> Series:
        """label -> (x, y) of `chart`'s series in this run: epoch-level points that plotext can draw.

        Kept between calls and extended with the points that arrived since, so a redraw costs
        the new points, not the whole run. Call it from one thread (the UI's).
        """
        done, series = self._series.get(chart, (0, {}))
        with self._lock:
            new = self.points[done:]
        chart_series(chart, new, series)
        self._series[chart] = (done + len(new), series)
        return series

    def step_points(self, limit: int = 8) -> list[Metric]:
        """The chart points that came after the latest step shown (the ones it added), at most `limit`."""
        with self._lock:
            return self.points[self.step_at:self.step_at + limit] if self.step is not None else []

    def name(self, lang: str) -> str:
        """'#2 lr=0.05', or '#1 course defaults' in `lang`."""
        label = self.label
        if label == "course defaults":
            label = self.lesson.label(label, lang) if label in self.lesson.labels else COURSE_DEFAULTS(lang)
        return f"#{self.number} {label}"

    # -- the run's progress, read through `progress` ------------------------------------------

    @property
    def status(self) -> RunStatus:
        """starting, running, then how the run ended."""
        return self.progress.status

    @status.setter
    def status(self, value: RunStatus | str) -> None:
        self.progress.status = RunStatus(value)
        self.version += 1

    @property
    def running(self) -> bool:
        """Whether the run has not ended yet."""
        return self.progress.running

    @property
    def epoch(self) -> int:
        """Epochs (or the lesson's unit) done."""
        return self.progress.epoch

    @property
    def total(self) -> int:
        """Epochs (or the lesson's unit) the run will take."""
        return self.progress.total

    @property
    def elapsed(self) -> float:
        """Seconds of training so far (it moves between records)."""
        return self.progress.elapsed()

    @property
    def latest(self) -> dict[str, dict[str, Any]]:
        """split -> the last values of that split."""
        return self.progress.latest

    @property
    def diverged_at(self) -> int | None:
        """The epoch whose values became inf or nan, if the run diverged."""
        return self.progress.diverged_at

    def rate(self) -> float:
        """Epochs (or the lesson's unit) per second so far, the current epoch's batches included."""
        return self.progress.rate()

    def eta(self) -> float | None:
        """Seconds left at the current rate, if known."""
        return self.progress.eta()


class TraceSink:
    """The runner's sink for the workbench: fills a RunTrace and tells the UI when the run starts and ends."""

    def __init__(self, trace: RunTrace, notify: Callable[[str, RunTrace], None], run_dir: Callable[[], Any] = lambda: None) -> None:
        self.trace = trace
        self.notify = notify
        self.run_dir = run_dir

    def start(self, info: RunInfo) -> None:
        """The run has its device and seed: from now on the trace reads the runner's live progress."""
        self.trace.run_dir = str(self.run_dir() or "")
        self.trace.device = info.device
        self.trace.progress = info.progress
        self.trace.version += 1
        self.notify("started", self.trace)

    def record(self, record: Record, elapsed: float) -> None:
        """Keep the record; the UI picks it up on its next tick."""
        self.trace.add(record, elapsed)

    def finish(self, summary: Summary) -> None:
        """Keep how it ended and tell the UI."""
        if self.trace.progress.running:  # the runner finishes its progress first; a stand-in has not
            self.trace.progress.finish(summary.status, summary.diverged_at)
        self.trace.message = summary.message
        self.trace.version += 1
        self.notify("ended", self.trace)


def plan_traces(chart: Chart, traces: Sequence[RunTrace], lang: str, width: int, height: int,
                log_scale: bool = False, overlays: bool = True) -> ChartPlan:
    """How `chart` draws `traces` (the last is the current run, the others faint overlays) in `width` x `height`.

    The current run's series take the colours in order and are named in the legend (a chart with
    one series names the run instead); each earlier run is one legend entry. A diverged run is
    marked at its divergence epoch; a chart without points says why.
    """
    lesson = traces[-1].lesson if traces else None
    title = chart.title(lang)
    x_label = lesson.label(lesson.unit if chart.x == "epoch" else chart.x, lang) if lesson else chart.x
    current = traces[-1] if traces else None
    drawn = list(traces[-(MAX_OVERLAYS + 1):]) if overlays else list(traces[-1:])
    lines: list[Line] = []
    for trace in drawn:
        series = trace.series(chart)
        if trace is current:
            one = len(series) == 1
            lines += [Line(trace.name(lang) if one else series_label(chart, key, trace.lesson, lang), xs, ys,
                           COLORS[n % len(COLORS)]) for n, (key, (xs, ys)) in enumerate(series.items())]
        else:
            color = FAINT_COLORS[(current.number - trace.number - 1) % len(FAINT_COLORS)] if current else "gray"
            lines += [Line("" if n else trace.name(lang), xs, ys, color, faint=True)
                      for n, (xs, ys) in enumerate(series.values())]
    mark_x, mark_label = None, ""
    if current is not None and current.diverged_at is not None:
        mark_label = DIVERGED_AT(lang).format(n=current.diverged_at, unit=unit_word(current.lesson.unit, lang))
        mark_x = current.diverged_at if chart.x == "epoch" else None
    plan = plan_chart(title, x_label, lines, width, height, lang, log=log_scale, mark_x=mark_x,
                      mark_label=mark_label, empty=why_empty(chart, current, lang),
                      integer_x=chart.x in ("epoch", "step"))
    plan.caption = every_caption(chart.every, lines, lang)
    return plan


def plan_sweep(chart: Chart, traces: Sequence[RunTrace], points: Sequence[str], lang: str, width: int, height: int,
               log_scale: bool = False) -> ChartPlan:
    """How `chart` draws a sweep's runs (the last may be running): each point in a colour of its own, named once.

    `points[i]` names the point of `traces[i]` ('lr=0.01'); the runs of one point over several seeds
    share its colour and its one legend entry, so the legend says which curves are which point and the
    seeds show as a band. A chart with several series per run adds the series' name.
    """
    current = traces[-1] if traces else None
    order = list(dict.fromkeys(points))  # the points in the sweep's order
    named: set[str] = set()
    lines: list[Line] = []
    for trace, point in zip(traces, points):
        series = trace.series(chart)
        one = len(series) == 1
        for k, (key, (xs, ys)) in enumerate(series.items()):
            label = point if one else f"{point} {series_label(chart, key, trace.lesson, lang)}"
            color = COLORS[(order.index(point) * len(series) + k) % len(COLORS)]
            lines.append(Line("" if label in named else label, xs, ys, color))
            named.add(label)
    mark_x, mark_label = None, ""
    if current is not None and current.diverged_at is not None:
        mark_label = DIVERGED_AT(lang).format(n=current.diverged_at, unit=current.lesson.unit)
        mark_x = current.diverged_at if chart.x == "epoch" else None
    x_label = current.lesson.label(chart.x, lang) if current else chart.x
    plan = plan_chart(chart.title(lang), x_label, lines, width, height, lang, log=log_scale, mark_x=mark_x,
                      mark_label=mark_label, empty=why_empty(chart, current, lang), integer_x=chart.x in ("epoch", "step"))
    plan.caption = every_caption(chart.every, lines, lang)
    return plan


def unmet_needs(chart: Chart, values: Values | None, lang: str) -> str:
    """Which settings fill `chart` (its `needs`), said when `values` (a run's; None: no run) lack them; else ''."""
    if not chart.needs or (values is not None and all(values.get(name) == value for name, value in chart.needs)):
        return ""
    settings = [say("chart setting", lang, name=name,
                    value=say("on" if value else "off", lang) if isinstance(value, bool) else value)
                for name, value in chart.needs]
    return say("chart needs", lang, settings=say("chart settings and", lang).join(settings))


def why_empty(chart: Chart, trace: RunTrace | None, lang: str) -> str:
    """Why `chart` has no points for the run `trace` (or for no run at all); what setting fills it, if one does."""
    needs = unmet_needs(chart, trace.values if trace is not None else None, lang)
    if trace is None:
        return NO_RUN(lang) + (f"\n{needs}" if needs else "")
    if needs:
        return NO_POINTS(lang).format(why=needs)
    progress = trace.progress
    if progress.status == RunStatus.STARTING:
        return NO_POINTS_YET(lang).format(why=WHY_STARTING(lang))
    if progress.running:
        why = WHY_EVERY(lang).format(every=chart.every) if chart.every else WHY_EVERY_FEW(lang) if chart.x == "step" else WHY_FIRST_EPOCH(lang).format(unit=unit_word(progress.unit, lang))
        if progress.batch is not None:
            done, total = progress.batch
            why += BATCH_OF(lang).format(unit=unit_word(progress.unit, lang), epoch=progress.epoch + 1, done=done, total=total)
        return NO_POINTS_YET(lang).format(why=why)
    return NO_POINTS(lang).format(why=WHY_FEWER(lang) if chart.x == "step" else WHY_NONE(lang))


def _read_json(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or {} if it is missing or damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _values(lesson: Lesson, params: Any) -> Values:
    """The values a run used, from its config's params (JSON), read back through each param; defaults otherwise."""
    values = lesson.defaults()
    if not isinstance(params, dict):
        return values
    for param in lesson.params:
        if param.name in params:
            try:
                values[param.name] = param.parse(param.format(params[param.name]))
            except (ParamError, TypeError, ValueError, AttributeError):
                pass
    return values

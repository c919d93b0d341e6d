"""What the workbench remembers of its runs: each run's series and views, per lesson.

Plain Python, no Textual and no torch: the training thread appends records to a RunTrace through
a TraceSink, and the UI reads the traces on its own timer. Only the start and the end of a run
are pushed to the UI (through the `notify` callback); records are pulled, so a fast lesson can
never flood the UI's message queue.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from labapp.lesson import Chart, Lesson, Metric, Record, Values, ViewValue
from labapp.report import Series, chart_series
from labapp.runner import RunInfo, Summary


def describe(lesson: Lesson, values: Values) -> str:
    """A short label for a run: the params that differ from the course's, e.g. 'lr=0.05 mode=stochastic'."""
    changed = [f"{p.name}={p.format(values[p.name])}" for p in lesson.params if values[p.name] != p.default]
    return " ".join(changed) or "course defaults"


@dataclass
class RunTrace:
    """One run as the workbench shows it: status, progress and every series point so far."""

    lesson: Lesson
    values: Values
    number: int
    label: str
    status: str = "starting"
    message: str = ""
    device: str = ""
    epoch: int = 0
    total: int = 0
    elapsed: float = 0.0
    latest: dict[str, dict[str, float]] = field(default_factory=dict)  # split -> last epoch values
    points: list[Metric] = field(default_factory=list, repr=False)
    views: dict[str, Any] = field(default_factory=dict)
    run_dir: str = ""
    no_records: str = ""  # why the run keeps no records on disk, when it keeps none
    version: int = 0  # bumped on every change, so widgets redraw only when something changed
    started_at: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _series: dict[Chart, tuple[int, Series]] = field(default_factory=dict, repr=False)

    def add(self, record: Record, elapsed: float) -> None:
        """Take one record from the training thread."""
        with self._lock:
            self.elapsed = elapsed
            if isinstance(record, ViewValue):
                self.views[record.view] = record.value
            else:
                self.points.append(record)
                self.epoch = max(self.epoch, record.epoch)
                if record.step is None:
                    self.latest.setdefault(record.split, {}).update(record.values)
            self.version += 1

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

    @property
    def running(self) -> bool:
        """Whether the run has not ended yet."""
        return self.status in ("starting", "running")

    def rate(self) -> float:
        """Epochs (or the lesson's unit) per second so far."""
        return self.epoch / self.elapsed if self.elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the current rate, if known."""
        rate = self.rate()
        return (self.total - self.epoch) / rate if rate > 0 and self.running else None


class TraceSink:
    """The runner's sink for the workbench: fills a RunTrace and tells the UI when the run starts and ends."""

    def __init__(self, trace: RunTrace, notify: Callable[[str, RunTrace], None], run_dir: Callable[[], Any] = lambda: None) -> None:
        self.trace = trace
        self.notify = notify
        self.run_dir = run_dir

    def start(self, info: RunInfo) -> None:
        """The run has its device and seed: it is running."""
        self.trace.run_dir = str(self.run_dir() or "")
        self.trace.device = info.device
        self.trace.total = info.total
        self.trace.status = "running"
        self.trace.version += 1
        self.notify("started", self.trace)

    def record(self, record: Record, elapsed: float) -> None:
        """Keep the record; the UI picks it up on its next tick."""
        self.trace.add(record, elapsed)

    def finish(self, summary: Summary) -> None:
        """Keep how it ended and tell the UI."""
        self.trace.status = summary.status
        self.trace.message = summary.message
        self.trace.elapsed = summary.duration_s
        self.trace.version += 1
        self.notify("ended", self.trace)


def downsample(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """At most about `limit` evenly spaced points, always keeping the last one."""
    if len(xs) <= limit or limit < 2:
        return xs, ys
    step = math.ceil(len(xs) / limit)
    keep = list(range(0, len(xs), step))
    if keep[-1] != len(xs) - 1:
        keep.append(len(xs) - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]

"""Where a run stands: its status, its progress inside and across epochs, and its last values.

Plain Python, no torch and no Textual. The runner keeps one RunProgress per run and updates it on
the training thread; the workbench reads it on its own timer, `labapp runs` builds one from a run
folder. Reading while the training thread writes is safe: every field is replaced whole.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from labapp.lesson import Metric

try:
    from enum import StrEnum
except ImportError:  # Python 3.10
    class StrEnum(str, Enum):  # type: ignore[no-redef]
        """An Enum whose members are strings (as in Python 3.11)."""

        def __str__(self) -> str:
            return str(self.value)


HIGHER_IS_BETTER = ("accuracy", "acc", "correct", "right")  # words in a metric name that say "more is better"


def higher_is_better(metric: str) -> bool:
    """Whether a larger `metric` is the better run or epoch: accuracies yes, losses and costs no."""
    name = metric.casefold()
    return any(word in name for word in HIGHER_IS_BETTER)


class RunStatus(StrEnum):
    """How a run stands or ended; each member equals its word ('finished' == RunStatus.FINISHED)."""

    STARTING = "starting"  # asked for, not training yet (torch loading, data being located)
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"  # by the user, a signal, or Ctrl-C
    DIVERGED = "diverged"  # a value became inf or nan
    FAILED = "failed"  # the lesson raised, or the run could not start
    INTERRUPTED = "interrupted"  # on disk: the process ended without a summary
    UNREADABLE = "unreadable"  # on disk: config.json is missing or damaged

    @property
    def ended(self) -> bool:
        """Whether a run with this status is over."""
        return self not in (RunStatus.STARTING, RunStatus.RUNNING)


def status_of(word: Any) -> RunStatus | None:
    """The RunStatus that `word` names, or None (for example '?' from a damaged summary)."""
    try:
        return RunStatus(word)
    except ValueError:
        return None


class LastValues:
    """The last values of each split: an epoch-level record's values win over per-step ones.

    A split whose only records so far are per step (a first epoch still going) shows its latest
    step's values; once an epoch has ended, only epoch-level records change it. `by_split` is
    replaced, never changed in place, so another thread may read it without a lock.
    """

    def __init__(self) -> None:
        self.by_split: dict[str, dict[str, Any]] = {}
        self._epoch_level: set[str] = set()

    def add(self, split: str, values: Mapping[str, Any], per_step: bool) -> None:
        """Take the values of one record of `split`."""
        if not per_step:
            self._epoch_level.add(split)
        elif split in self._epoch_level:
            return
        self.by_split = {**self.by_split, split: {**self.by_split.get(split, {}), **values}}


def last_values(metrics: Iterable[Metric]) -> dict[str, dict[str, Any]]:
    """split -> {name: value}: the last values of each split (see LastValues for the rule)."""
    last = LastValues()
    for metric in metrics:
        last.add(metric.split, metric.values, metric.step is not None)
    return last.by_split


def metric_of_row(row: Mapping[str, Any]) -> Metric | None:
    """The Metric of a metrics.jsonl row (None for a view row or a row without a whole epoch)."""
    epoch = row.get("epoch")
    if row.get("kind") != "metric" or not isinstance(epoch, int) or isinstance(epoch, bool):
        return None
    step = row.get("step")
    values = {k: v for k, v in row.items() if k not in ("kind", "epoch", "step", "split", "t")}
    split = row.get("split")
    return Metric(epoch=epoch, values=values, split=split if isinstance(split, str) and split else "train",
                  step=step if isinstance(step, int) and not isinstance(step, bool) else None)


@dataclass
class RunProgress:
    """A run's progress: epochs done of `total`, batches done inside the current epoch, time, rate, ETA.

    `elapsed()` reads the clock, so the time (and the ETA, from the batches done) moves between
    records: a slow epoch never looks hung. `clock` is injectable for tests.
    """

    total: int = 0
    unit: str = "epoch"
    headline: tuple[str, str] | None = None  # (split, metric) shown first: Lesson.headline_metric()
    status: RunStatus = RunStatus.STARTING
    epoch: int = 0  # the last epoch that ended (its epoch-level record came)
    reached: int = 0  # the highest epoch with any record, per-step ones included (Summary.epochs_done)
    batch: tuple[int, int] | None = None  # (done, total) batches inside the epoch after `epoch`
    started: float | None = None  # clock() when training began
    ended: float | None = None  # clock() when it ended
    diverged_at: int | None = None
    clock: Callable[[], float] = field(default=time.perf_counter, repr=False)
    last: LastValues = field(default_factory=LastValues, repr=False)

    @classmethod
    def for_lesson(cls, lesson: Any, values: Mapping[str, Any], clock: Callable[[], float] | None = None) -> RunProgress:
        """A progress for a run of `lesson` with `values`, not started yet."""
        return cls(total=lesson.total(values), unit=lesson.unit, headline=lesson.headline_metric(),
                   clock=clock or time.perf_counter)

    # -- written by the runner (the training thread) ---------------------------------------------

    def start(self) -> None:
        """Training begins now."""
        self.started = self.clock()
        self.ended = None
        self.status = RunStatus.RUNNING

    def add(self, metric: Metric) -> None:
        """Take a metric record: its epoch and values."""
        self.reached = max(self.reached, metric.epoch)
        if metric.step is None and metric.epoch >= self.epoch:
            self.epoch = metric.epoch
            self.batch = None  # the epoch ended; the next one's first batch() says how long it is
        self.last.add(metric.split, metric.values, metric.step is not None)

    def set_batch(self, done: int, total: int) -> None:
        """`done` of `total` batches of the current epoch are done (RunContext.batch)."""
        self.batch = (done, total)

    def finish(self, status: RunStatus | str, diverged_at: int | None = None) -> None:
        """The run has ended with `status`."""
        self.ended = self.clock()
        self.status = RunStatus(status)
        self.diverged_at = diverged_at

    # -- read by the UI and the CLI ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the run has not ended."""
        return not self.status.ended

    @property
    def latest(self) -> dict[str, dict[str, Any]]:
        """split -> the last values of that split."""
        return self.last.by_split

    def elapsed(self) -> float:
        """Seconds of training so far (up to the end, once ended)."""
        if self.started is None:
            return 0.0
        return max(0.0, (self.ended if self.ended is not None else self.clock()) - self.started)

    def done(self) -> float:
        """Epochs done, with the current epoch's batches as a fraction: 2.5 halfway through epoch 3."""
        done = float(self.epoch)
        if self.batch is not None and self.batch[1] > 0 and self.epoch < self.total:
            done += min(1.0, max(0.0, self.batch[0] / self.batch[1]))
        return done

    def fraction(self) -> float:
        """Share of the run done, 0 to 1."""
        return min(1.0, self.done() / self.total) if self.total > 0 else 0.0

    def rate(self) -> float:
        """Epochs (or the lesson's unit) per second so far, batches included; 0 before any."""
        elapsed = self.elapsed()
        return self.done() / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the rate so far; None when unknown or ended."""
        rate = self.rate()
        if not self.running or rate <= 0 or self.total <= 0:
            return None
        return max(0.0, (self.total - self.done()) / rate)

    def headline_value(self) -> tuple[str, float] | None:
        """(name, value) of the headline metric, if the run has reported it."""
        if self.headline is None:
            return None
        split, name = self.headline
        value = self.last.by_split.get(split, {}).get(name)
        return None if value is None else (name, value)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]], total: int = 0, unit: str = "epoch",
                  headline: tuple[str, str] | None = None, status: RunStatus | str = RunStatus.FINISHED,
                  diverged_at: int | None = None) -> RunProgress:
        """The progress of a past run from its metrics.jsonl rows (records.read_metrics)."""
        progress = cls(total=total, unit=unit, headline=headline, status=status_of(status) or RunStatus.FINISHED,
                       diverged_at=diverged_at, clock=lambda: 0.0)
        seconds = 0.0
        for row in rows:
            metric = metric_of_row(row)
            if metric is not None:
                progress.add(metric)
            t = row.get("t")
            if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t):
                seconds = max(seconds, float(t))
        progress.started, progress.ended = 0.0, seconds
        return progress


def headline_values(final: Mapping[str, Mapping[str, Any]], headline: tuple[str, str] | None,
                    limit: int = 3) -> list[tuple[str, Any]]:
    """Up to `limit` (name, value) of a run's last values: the headline metric first, then the rest of its split.

    Without a headline (or before it is reported): the test split's values, else the train split's.
    """
    split = headline[0] if headline is not None and headline[0] in final else \
        "test" if "test" in final else "train" if "train" in final else next(iter(final), None)
    values = dict(final.get(split, {})) if split is not None else {}
    first = headline[1] if headline is not None and headline[0] == split else None
    ordered = ([(first, values.pop(first))] if first in values else []) + list(values.items())
    return ordered[:limit]

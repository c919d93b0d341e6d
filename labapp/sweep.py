"""Sweeps: a lesson run over a grid of param values (and seeds), one recorded run after another.

Plain Python, no Textual, no torch at import: `labapp sweep` drives it, and the workbench can too.

    grid = parse_grid(lesson, {"lr": "0.001,0.01,0.1"}, seeds="0,1")   # ParamError if any value is bad
    sweep = Sweep(grid, runs_root=Path("runs"))                        # runs_root None: no records
    results = sweep.run()                                              # on any thread; request_stop()
    rows = rank(grid.lesson, results)                                  # best first, failures last

A form checks a field with `parse_axis(param, text)` (ParamError: the field's message) and the whole
form with `parse_grid`; `grid.is_sweep` says whether Run means a sweep. `Sweep(..., sinks=factory)`
adds the caller's own sinks to each run (`factory(point, index, count)`); `on_result` hears each run end.

A list is written with commas (`0.001,0.01,0.1`) for number, choice and switch params; every item
goes through that param's own parse. MultiChoice, Tensor and Text params take one value in a sweep
(their own syntax has commas in it), except a MultiChoice with `sweep_as`: lesson 4's `compare`
lists optimizers, and each is a run of its own (`--compare all` is `--optimizer SGD,...,LBFGS`). The lesson's cross-field rules apply to every combination.
Ranking uses the lesson's headline metric (Lesson.headline_metric): higher is better when its name
speaks of something got right (accuracy, correct, right), lower for everything else (loss, cost, mse).
Over several seeds a point shows the mean and the sample standard deviation of its final values.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labapp.lesson import (BoolParam, ChoiceParam, FloatParam, IntParam, Lesson, Metric, Param, ParamError,
                           Record, Values, shown)
from labapp.progress import RunStatus, higher_is_better

MAX_RUNS = 200  # runs in one sweep (points x seeds)
SEED_MAX = 2**32 - 1
LIST_KINDS = (FloatParam, IntParam, ChoiceParam, BoolParam)  # params whose text may be a comma-separated list
FINISHED, STOPPED, DIVERGED, FAILED = RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.DIVERGED, RunStatus.FAILED
_STATUS_ORDER = {FINISHED: 0, STOPPED: 1, DIVERGED: 2, FAILED: 3}


def takes_list(param: Param) -> bool:
    """Whether `param` may be given several values, comma-separated, in a sweep."""
    return isinstance(param, LIST_KINDS)


def is_list(param: Param, text: str) -> bool:
    """Whether `text`, typed for `param`, asks for a sweep (several comma-separated values)."""
    return takes_list(param) and "," in text


def parse_axis(param: Param, text: str) -> tuple[Any, ...]:
    """The distinct values that `text` lists for `param`, each through `param.parse`; ParamError if one is bad."""
    if not is_list(param, text):
        return (param.parse(text),)
    items = text.split(",")
    values: list[Any] = []
    for index, item in enumerate(items, 1):
        where = f" (item {index} of {shown(text)})" if len(items) > 1 else ""
        if not item.strip():
            raise ParamError(f"{param.name}: item {index} of {shown(text)} is empty: "
                             f"give values separated by commas, each {param.allowed()}")
        try:
            value = param.parse(item)
        except ParamError as error:
            message = str(error)
            if param.allowed() not in message:
                message += f": must be {param.allowed()}"
            raise ParamError(message + where) from None
        if value not in values:  # '0.1,1e-1' is one point
            values.append(value)
    return tuple(values)


def parse_seeds(text: str) -> tuple[int, ...]:
    """The distinct seeds that `text` lists ('0,1,2'); ParamError if one is not a whole number 0..2**32-1."""
    seeds: list[int] = []
    items = text.split(",")
    for index, item in enumerate(items, 1):
        where = f" (item {index} of {shown(text)})" if len(items) > 1 else ""
        try:
            seed = int(item.strip())
        except ValueError:
            raise ParamError(f"seeds: {shown(item.strip())} is not a whole number: must be between 0 and "
                             f"{SEED_MAX}{where}") from None
        if not 0 <= seed <= SEED_MAX:
            raise ParamError(f"seeds: {shown(item.strip())} is out of range: must be between 0 and {SEED_MAX}{where}")
        if seed not in seeds:
            seeds.append(seed)
    return tuple(seeds)


@dataclass(frozen=True)
class Point:
    """One run of a sweep: the lesson's values, the params that vary and their values here, the seed."""

    values: Values
    varied: tuple[tuple[str, Any], ...]
    seed: int

    def label(self, lesson: Lesson) -> str:
        """'lr=0.1 mode=batch': the varied params as a legend or a log line shows them."""
        return " ".join(f"{name}={lesson.param(name).format(value)}" for name, value in self.varied) or "defaults"


@dataclass(frozen=True)
class Grid:
    """A sweep's plan: every combination of the axes, each over every seed, checked against the lesson's rules."""

    lesson: Lesson
    axes: dict[str, tuple[Any, ...]]  # every param given, in the lesson's order; several values: varied
    seeds: tuple[int, ...]
    points: tuple[Point, ...]  # combinations in order, each seed in turn
    single: tuple[str, ...] = ()  # params that take one value, given with a comma (a note to show)

    @property
    def is_sweep(self) -> bool:
        """Whether there is more than one run (a list in some field, or several seeds)."""
        return len(self.points) > 1

    @property
    def varied(self) -> tuple[str, ...]:
        """The params with more than one value."""
        return tuple(name for name, values in self.axes.items() if len(values) > 1)

    def describe(self, lang: str = "en") -> str:
        """One line in `lang`: what varies, over which seeds, how many runs."""
        from labapp.strings import say

        parts = [f"{name} " + ", ".join(self.lesson.param(name).format(v) for v in self.axes[name])
                 for name in self.varied] or [say("sweep nothing varies", lang)]
        seeds = say("sweep seeds" if len(self.seeds) > 1 else "sweep one seed", lang, seeds=", ".join(map(str, self.seeds)))
        count = len(self.points)
        text = say("sweep of", lang, lesson=self.lesson.id, parts="; ".join(parts), seeds=seeds, count=count,
                   runs="run" if count == 1 else "runs")
        for name in self.single:
            text += say("sweep takes one", lang, name=name, value=self.lesson.param(name).format(self.axes[name][0]))
        return text


def parse_grid(lesson: Lesson, texts: Mapping[str, str], seeds: str | None = None, max_runs: int = MAX_RUNS) -> Grid:
    """The grid that `texts` (param name -> text as typed, lists with commas) asks for; ParamError if not.

    Every item is parsed by its param, every combination checked by the lesson's rules, and the number
    of runs capped at `max_runs`, all before anything trains.
    """
    axes: dict[str, tuple[Any, ...]] = {}
    for name, text in texts.items():
        try:
            param = lesson.param(name)
        except KeyError:
            raise ParamError(f"{name}: not a param of {lesson.id}") from None
        axes[name] = parse_axis(param, text)
    axes = {p.name: axes[p.name] for p in lesson.params if p.name in axes}  # the lesson's order
    axes = _swept_as(lesson, axes)
    seed_list = parse_seeds(str(lesson.seed) if seeds is None else seeds)  # the lesson's own seed by default
    count = math.prod(len(values) for values in axes.values()) * len(seed_list)
    if count > max_runs:
        sizes = " x ".join([*(str(len(v)) for v in axes.values() if len(v) > 1), f"{len(seed_list)} seeds"])
        raise ParamError(f"sweep: {sizes} is {count:,} runs: at most {max_runs} in one sweep; give fewer values or seeds")
    varied = [name for name, values in axes.items() if len(values) > 1]
    points = []
    for combination in itertools.product(*axes.values()):
        values = lesson.defaults()
        values.update(zip(axes, combination))
        try:
            lesson.check(values)
        except ParamError as error:
            here = ", ".join(f"{n}={lesson.param(n).format(values[n])}" for n in varied)
            raise ParamError(f"{error}" + (f" (in the combination {here})" if here else "")) from None
        for seed in seed_list:
            points.append(Point(values=Values(values), varied=tuple((n, values[n]) for n in varied), seed=seed))
    single = tuple(name for name, text in texts.items()
                   if "," in text and not takes_list(lesson.param(name)) and not getattr(lesson.param(name), "sweep_as", ""))
    return Grid(lesson=lesson, axes=axes, seeds=seed_list, points=tuple(points), single=single)


def _swept_as(lesson: Lesson, axes: dict[str, tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    """A list that stands for runs of another param (`compare` -> `optimizer`) becomes that param's axis."""
    for param in lesson.params:
        target = getattr(param, "sweep_as", "")
        if not target or not axes.get(param.name, ((),))[0]:
            continue
        if len(axes.get(target, ())) > 1:
            raise ParamError(f"{param.name}, {target}: both list several {target}s: give the list in one of them")
        axes[target], axes[param.name] = tuple(axes[param.name][0]), ((),)
    return {p.name: axes[p.name] for p in lesson.params if p.name in axes}


@dataclass
class PointResult:
    """How one run of a sweep ended: status, final headline value, its curve and its run folder."""

    point: Point
    status: str
    message: str
    final: float | None  # the last epoch-level headline value (None if never reported or not finite)
    curve: list[tuple[int, float]] = field(default_factory=list)  # (epoch, headline value)
    path: Path | None = None
    duration_s: float = 0.0


class _Headline:
    """A sink that keeps only the headline metric's epoch-level values (the sweep's curves)."""

    def __init__(self, split: str, name: str) -> None:
        self.split, self.name = split, name
        self.curve: list[tuple[int, float]] = []

    def start(self, info: Any) -> None:
        """Nothing to do."""

    def record(self, record: Record, elapsed: float) -> None:
        """Keep the headline value of an epoch-level metric of the headline split."""
        if isinstance(record, Metric) and record.step is None and record.split == self.split:
            value = record.values.get(self.name)
            if isinstance(value, (int, float)):
                self.curve.append((record.epoch, float(value)))

    def finish(self, summary: Any) -> None:
        """Nothing to do."""


SinkFactory = Callable[[Point, int, int], Sequence[Any]]  # (point, index from 1, count) -> extra sinks


class Sweep:
    """Runs a grid's points one after another (never in parallel), each a normal recorded run."""

    def __init__(self, grid: Grid, *, device: str = "auto", threads: int | None = None,
                 data_dir: str | None = None, runs_root: Path | None = None,
                 sinks: SinkFactory = lambda point, index, count: ()) -> None:
        self.grid = grid
        self.device = device
        self.threads = threads
        self.data_dir = data_dir
        self.runs_root = runs_root  # None: keep no run records
        self.sinks = sinks
        self.results: list[PointResult] = []
        self.current: Any = None  # the Run in progress
        self._stop = threading.Event()

    @property
    def stop_requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Stop the current run (recorded as stopped) and start no other."""
        self._stop.set()
        run = self.current
        if run is not None:
            run.request_stop()

    def make_run(self, point: Point, index: int) -> tuple[Any, _Headline, Any]:
        """The runner's Run for `point` (not yet prepared), its headline sink and its recorder (or None)."""
        from labapp.records import RunRecorder
        from labapp.runner import Run

        split, name = self.grid.lesson.headline_metric() or ("train", "loss")
        headline = _Headline(split, name)
        recorder = RunRecorder(self.runs_root) if self.runs_root is not None else None
        sinks = [headline, *([recorder] if recorder else []), *self.sinks(point, index, len(self.grid.points))]
        run = Run(self.grid.lesson, point.values, device=self.device, seed=point.seed, threads=self.threads,
                  data_dir=self.data_dir, sinks=sinks)
        return run, headline, recorder

    def run(self, on_result: Callable[[PointResult, int, int], None] | None = None,
            first: Any = None) -> list[PointResult]:
        """Run every point in turn until done or stopped; returns (and keeps) the results of those that ran.

        `first`, from `make_run(points[0], 1)` and already prepared, lets a caller check the device and
        data before the sweep starts. `on_result(result, index, count)` hears of each run as it ends.
        """
        count = len(self.grid.points)
        for index, point in enumerate(self.grid.points, 1):
            if self._stop.is_set():
                break
            run, headline, recorder = first if index == 1 and first is not None else self.make_run(point, index)
            self.current = run
            if self._stop.is_set():  # asked between make_run and here
                run.request_stop()
            summary = run.run()
            self.current = None
            split, name = self.grid.lesson.headline_metric() or ("train", "loss")
            final = summary.final.get(split, {}).get(name)
            final = float(final) if isinstance(final, (int, float)) and math.isfinite(final) else None
            result = PointResult(point=point, status=str(summary.status), message=summary.message, final=final,
                                 curve=headline.curve, path=recorder.path if recorder else None,
                                 duration_s=summary.duration_s)
            self.results.append(result)
            if on_result is not None:
                on_result(result, index, count)
        return self.results


@dataclass
class Row:
    """One point of a sweep over its seeds: the line of the results table."""

    varied: tuple[tuple[str, Any], ...]
    results: list[PointResult]

    @property
    def finals(self) -> list[float]:
        """The final headline values of the seeds that finished."""
        return [r.final for r in self.results if r.status == FINISHED and r.final is not None]

    @property
    def status(self) -> str:
        """'finished' when every seed finished, else the worst status ('failed' over 'diverged' over 'stopped')."""
        return max((r.status for r in self.results), key=lambda s: _STATUS_ORDER.get(s, len(_STATUS_ORDER)))

    @property
    def mean(self) -> float | None:
        """The mean final value over the seeds that finished (None if none did)."""
        finals = self.finals
        return statistics.fmean(finals) if finals else None

    @property
    def spread(self) -> float | None:
        """The sample standard deviation (n-1) of the final values over seeds; None for fewer than 2."""
        finals = self.finals
        return statistics.stdev(finals) if len(finals) > 1 else None

    def curve(self) -> tuple[list[float], list[float]]:
        """(epochs, mean headline value over the seeds at each epoch): the point's curve in the overlay."""
        by_epoch: dict[int, list[float]] = {}
        for result in self.results:
            for epoch, value in result.curve:
                by_epoch.setdefault(epoch, []).append(value)
        epochs = sorted(by_epoch)
        return [float(e) for e in epochs], [statistics.fmean(by_epoch[e]) for e in epochs]


def rank(lesson: Lesson, results: Iterable[PointResult]) -> list[Row]:
    """The results grouped by point (over seeds), best headline first; points not wholly finished last."""
    rows: dict[tuple[tuple[str, Any], ...], Row] = {}
    for result in results:
        rows.setdefault(result.point.varied, Row(result.point.varied, [])).results.append(result)
    _, name = lesson.headline_metric() or ("train", "loss")
    sign = -1.0 if higher_is_better(name) else 1.0

    def key(row: Row) -> tuple[int, int, float]:
        mean = row.mean
        return (_STATUS_ORDER.get(row.status, len(_STATUS_ORDER)), mean is None, sign * mean if mean is not None else 0.0)

    return sorted(rows.values(), key=key)  # stable: ties keep the grid's order


# -- text for `labapp sweep` -------------------------------------------------------------------------

TOP_CURVES = 6  # series in the overlay; the rest are counted as "+N more"
MARKERS = ("*", "+", "o", "x", "#", "%")  # without colour, one character per series tells them apart


def width(text: str) -> int:
    """Terminal columns of `text` (a Chinese character takes two)."""
    from labapp.strings import width as columns

    return columns(text)


def value_text(row: Row) -> str:
    """'0.0123' or '0.0123 ± 0.0004' (mean ± sample std over seeds), or '—' when no seed finished."""
    from labapp.report import number

    if row.mean is None:
        return "—"
    if row.spread is None:
        return number(row.mean)
    return f"{number(row.mean)} ± {row.spread:.2g}"


def table_text(lesson: Lesson, rows: Sequence[Row], seeds: int, lang: str = "en", columns: int | None = None) -> str:
    """The results table, in `lang`: rank, the varied params, final headline (mean ± std over seeds), status, run folders.

    Given `columns`, laid out for that many terminal columns (the workbench, whose runs panel shows each whole path):
    each folder by its name, and the title, the headers, the status and the folders wrap inside their columns
    (a folder's name at its dashes); the numbers stay whole."""
    from labapp.strings import join_words, say

    split, name = lesson.headline_metric() or ("train", "loss")
    metric = join_words(lesson.label(split, lang), lesson.label(name, lang))  # '训练集损失', 'train loss'
    over = say("sweep over seeds", lang, seeds=seeds) if seeds > 1 else ""
    names = [n for n, _ in rows[0].varied] if rows else []
    header = ["#", *names, say("sweep final", lang, metric=metric), say("status", lang),
              say("sweep folders" if seeds > 1 else "sweep folder", lang)]
    body: list[list[str]] = []
    for place, row in enumerate(rows, 1):
        status = say(row.status, lang) if row.status in _STATUS_ORDER else row.status
        if row.status != FINISHED and len(row.results) > 1:
            status += say("sweep k of n", lang, k=sum(r.status != FINISHED for r in row.results), n=len(row.results))
        folders = [(f"{r.path if columns is None else Path(r.path).name}" if r.path else say("sweep not recorded", lang))
                   + (say("sweep seed", lang, seed=r.point.seed) if seeds > 1 else "") for r in row.results]
        cells = [str(place), *(lesson.param(n).format(v) for n, v in row.varied), value_text(row), status]
        body.append([*cells, folders[0]])
        body += [[""] * len(cells) + [folder] for folder in folders[1:]]
    widths = [max(width(line[i]) for line in [header, *body]) for i in range(len(header) - 1)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths)) + "  " + cells[-1]

    better = say("sweep higher" if higher_is_better(name) else "sweep lower", lang)
    title = say("sweep sorted", lang, metric=metric, better=better, over=over)
    if columns is not None:
        from labapp.report import table_text as fitted_table, wrap_cell

        return "\n".join([*wrap_cell(title, columns), fitted_table({"columns": header, "rows": body}, width=columns, wrap=True)])
    return "\n".join([title, line(header), *(line(cells).rstrip() for cells in body)])


def curves_text(lesson: Lesson, rows: Sequence[Row], width: int, color: bool, lang: str = "en",
                top: int = TOP_CURVES) -> str | None:
    """The headline metric against the epoch, one series per finished point (the best `top`), as text; None if none."""
    from labapp.report import plot, plottable

    split, name = lesson.headline_metric() or ("train", "loss")
    series: dict[str, tuple[list[float], list[float]]] = {}
    shown_rows = [row for row in rows if row.status == FINISHED and len(row.curve()[0]) > 1]
    left_out = sum(row.status != FINISHED for row in rows)  # a diverged curve would flatten every other one
    for row in shown_rows[:top]:
        xs, ys = row.curve()
        keep = [(x, y) for x, y in zip(xs, ys) if plottable(y)]
        label = " ".join(f"{n}={lesson.param(n).format(v)}" for n, v in row.varied) or "defaults"
        series[label] = ([x for x, _ in keep], [y for _, y in keep])
    if not series:
        return None
    more = len(shown_rows) - len(series)
    notes = [f"best {len(series)}; +{more} more"] if more else []
    notes += [f"{left_out} not finished, not drawn"] if left_out else []
    title = f"{lesson.label(split, lang)} {lesson.label(name, lang)}" + (f" ({'; '.join(notes)})" if notes else "")
    return plot(title, lesson.unit, series, width, color, markers=() if color else MARKERS)

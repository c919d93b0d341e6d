"""The workbench's state and logic, in plain Python: what the app shows, without Textual.

A `Workbench` holds the open lesson, each lesson's form texts and their validation, the runs of
this session (traces), the runs on disk (history) and which of them are overlaid, the active
run (started and stopped through the runner's own `start`/`request_stop`) and the message log.
The app (labapp.app) only draws it and forwards keys to it. No torch on import either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labapp.cli import SEED_MAX, shapes_text
from labapp.lesson import IntParam, Lesson, Param, ParamError, Values
from labapp.progress import RunProgress
from labapp.records import PastRun, RecordsError, RunRecorder, default_root, kept_rows, list_runs
from labapp.runner import Run
from labapp.strings import WORDS, runner_words, say, unit_word
from labapp.sweep import FINISHED, Grid, Point, PointResult, Row, parse_axis, parse_grid, rank, table_text
from labapp.torch_errors import explanation
from labapp.traces import RunTrace, TraceSink, describe

QUIT_WAIT = 0.8  # seconds a stopping run gets to write its summary before the app exits


@dataclass(frozen=True, kw_only=True)
class SeedParam(IntParam):
    """The seed field: the rule and the words of `labapp run --seed`."""

    def allowed(self) -> str:
        return f"between 0 and {SEED_MAX}"


def seed_param(lesson: Lesson) -> SeedParam:
    """The form's seed field: the lesson's own seed by default."""
    return SeedParam(name="seed", default=getattr(lesson, "seed", 0), min=0, max=SEED_MAX, help=WORDS["seed help"])


class Form:
    """The texts of one lesson's fields (its params and the seed) and what is wrong with them."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.fields: tuple[Param, ...] = (*lesson.params, seed_param(lesson))
        self.texts = {p.name: p.format(p.default) for p in self.fields}
        self.errors: dict[str, str] = {}  # field name -> its message
        self.rule_error = ""  # the first cross-field rule the values break (or the sweep's size)
        self.grid: Grid | None = None  # what Run runs: one point, or a sweep when a field lists values
        self.device = "auto"
        self.check()

    def field(self, name: str) -> Param:
        """The param behind field `name`."""
        return next(p for p in self.fields if p.name == name)

    def set(self, name: str, text: str) -> None:
        """A field's new text: checked at once, with the cross-field rules."""
        self.texts[name] = text
        self.check()

    def check(self) -> None:
        """Validate every field (a list, `0.001, 0.01`, where a param takes one), then the rules for every combination."""
        self.errors.clear()
        for param in self.fields:
            try:
                parse_axis(param, self.texts[param.name])
            except ParamError as error:
                self.errors[param.name] = str(error)
        self.rule_error, self.grid = "", None
        if not self.errors:
            try:
                self.grid = parse_grid(self.lesson, {p.name: self.texts[p.name] for p in self.lesson.params},
                                       seeds=self.texts["seed"])
            except ParamError as error:
                self.rule_error = str(error)

    @property
    def is_sweep(self) -> bool:
        """Whether Run means a sweep (a field lists several values, or the seed several seeds)."""
        return self.grid is not None and self.grid.is_sweep

    @property
    def valid(self) -> bool:
        """Whether every field and every rule accepts the values."""
        return not self.errors and not self.rule_error

    def values(self) -> Values:
        """The lesson's validated values (the seed apart) for one run; ParamError if not valid or a sweep."""
        return self.lesson.resolve({p.name: self.texts[p.name] for p in self.lesson.params})

    def seed(self) -> int:
        """The seed one run will use; ParamError for a list of seeds."""
        return self.fields[-1].parse(self.texts["seed"])

    def shapes(self, lang: str, width: int | None = None) -> str | None:
        """The model's shapes for the form's values, worked out without torch (laid out for `width` columns, if
        given); None if the lesson has no model."""
        if self.lesson.shapes is None:
            return None
        if not self.valid:
            return say("shapes unavailable", lang)
        return shapes_text(self.lesson, self.values(), lang, width)

    def first_error(self) -> str:
        """The first message the form shows, or ''."""
        return next(iter(self.errors.values()), self.rule_error)

    def reset(self) -> None:
        """The course's values in every field."""
        self.texts = {p.name: p.format(p.default) for p in self.fields}
        self.check()


def ended_message(trace: RunTrace, lang: str) -> str:
    """How a run ended, in `lang` (the runner's own words stay in the message log)."""
    unit, done = unit_word(trace.lesson.unit, lang), trace.epoch
    if trace.status == "diverged" and trace.progress.diverged_at is not None:
        done = trace.progress.diverged_at  # the epoch whose values were no longer finite, as the chart marks it
    if trace.status == "failed":
        message = trace.message.removeprefix("failed: ")
        explained = explanation(message, lang)
        if explained:  # a torch error learners commonly meet: what it means and the usual fix, then torch's words
            return say("ended failed explained", lang, explained=explained, message=message)
        return say("ended failed", lang, message=message)
    if trace.status in ("finished", "stopped", "diverged"):
        return say(f"ended {trace.status}", lang, unit=unit, units=unit if done == 1 or lang == "zh" else unit + "s",
                   done=done)
    return trace.message


@dataclass
class SweepRun:
    """A sweep in the workbench: its grid, a trace per point started, and how each ended (ranked as `labapp sweep` ranks)."""

    grid: Grid
    traces: list[RunTrace] = field(default_factory=list)  # in the grid's order; the last may be running
    results: list[PointResult] = field(default_factory=list)  # one per point that ended
    stopped: bool = False  # asked to stop: no further point starts

    @property
    def count(self) -> int:
        """How many runs the sweep has."""
        return len(self.grid.points)

    @property
    def running(self) -> bool:
        """Whether a point is still running or still to start."""
        return len(self.results) < len(self.traces) or (not self.stopped and len(self.traces) < self.count)

    def next_point(self) -> Point | None:
        """The point to start next, if the sweep goes on."""
        return None if self.stopped or len(self.traces) >= self.count else self.grid.points[len(self.traces)]

    def label(self, point: Point) -> str:
        """The point as its legend and the runs list name it: 'lr=0.01', with its seed when seeds vary."""
        label = point.label(self.grid.lesson)
        return f"{label} seed={point.seed}" if len(self.grid.seeds) > 1 else label

    def points(self) -> tuple[str, ...]:
        """The point of each run started so far, as the chart's legend names it ('lr=0.01'; seeds share it)."""
        return tuple(point.label(self.grid.lesson) for point in self.grid.points[:len(self.traces)])

    def ended(self, trace: RunTrace, summary: Any) -> PointResult:
        """Keep how the point of `trace` ended: its status, its final headline value and its curve."""
        import math

        split, name = self.grid.lesson.headline_metric() or ("train", "loss")
        final = summary.final.get(split, {}).get(name) if summary is not None else None
        final = float(final) if isinstance(final, (int, float)) and math.isfinite(final) else None
        curve = [(m.epoch, float(m.values[name])) for m in trace.points
                 if m.step is None and m.split == split and isinstance(m.values.get(name), (int, float))]
        result = PointResult(point=self.grid.points[self.traces.index(trace)], status=str(trace.status),
                             message=trace.message, final=final, curve=curve,
                             path=Path(trace.run_dir) if trace.run_dir else None,
                             duration_s=summary.duration_s if summary is not None else 0.0)
        self.results.append(result)
        return result

    def rows(self) -> list[Row]:
        """The points that ended, best first by the lesson's headline metric (mean over seeds)."""
        return rank(self.grid.lesson, self.results)

    def best(self) -> Row | None:
        """The best point, once one has finished."""
        rows = self.rows()
        return rows[0] if rows and rows[0].status == FINISHED and rows[0].mean is not None else None

    def best_folders(self) -> set[str]:
        """The run folders of the best point (one per seed)."""
        best = self.best()
        return {str(r.path) for r in best.results if r.path} if best else set()

    def table(self, lang: str, width: int | None = None) -> str:
        """The ranked table of the runs that ended, as `labapp sweep` prints it, in `lang` (for `width` columns)."""
        return table_text(self.grid.lesson, self.rows(), len(self.grid.seeds), lang, width)


@dataclass(frozen=True)
class Ended:
    """A run that has ended, and what the status line says of it (the message log has it once, whole)."""

    trace: RunTrace
    said: str


@dataclass
class Message:
    """A line of the message log."""

    at: float
    text: str


@dataclass
class Workbench:
    """The workbench's state: lessons, forms, runs and history; started runs notify through `notify`."""

    catalogue: tuple[Lesson, ...]
    lang: str = "en"
    notify: Callable[[str, RunTrace], None] = lambda event, trace: None
    runs_root: Callable[[], Path] = default_root
    lesson: Lesson = None  # type: ignore[assignment] - set in __post_init__
    forms: dict[str, Form] = field(default_factory=dict)
    traces: dict[str, list[RunTrace]] = field(default_factory=dict)  # lesson id -> this session's runs
    history: dict[str, list[PastRun]] = field(default_factory=dict)  # lesson id -> runs on disk
    overlaid: dict[str, dict[str, RunTrace]] = field(default_factory=dict)  # lesson id -> folder -> trace
    models: dict[str, Any] = field(default_factory=dict)  # lesson id -> the model its latest run kept
    log: list[Message] = field(default_factory=list)
    run: Run | None = None
    active: RunTrace | None = None
    sweep: SweepRun | None = None  # the sweep going on, if any
    sweeps: dict[str, SweepRun] = field(default_factory=dict)  # lesson id -> its latest sweep (kept when done)
    torch_ready: bool = False

    def __post_init__(self) -> None:
        if self.lesson is None:
            self.lesson = self.catalogue[0]

    # -- lessons and forms ------------------------------------------------------------------------

    def find(self, lesson_id: str) -> Lesson:
        """The lesson called `lesson_id`."""
        return next(lesson for lesson in self.catalogue if lesson.id == lesson_id)

    def open(self, lesson_id: str) -> Lesson:
        """Make `lesson_id` the open lesson."""
        self.lesson = self.find(lesson_id)
        return self.lesson

    def form(self, lesson: Lesson | None = None) -> Form:
        """The form of `lesson` (the open one by default), kept across switches."""
        lesson = lesson or self.lesson
        if lesson.id not in self.forms:
            self.forms[lesson.id] = Form(lesson)
        return self.forms[lesson.id]

    def say(self, text: str) -> str:
        """Add `text` to the message log; returns it."""
        if text and (not self.log or self.log[-1].text != text):
            self.log.append(Message(time.time(), text))
        return text

    # -- runs -------------------------------------------------------------------------------------

    def start(self, stepping: bool = False) -> RunTrace:
        """Start the open lesson with its form's values, or the first run of its sweep (`stepping`: in step
        mode, held after its first update; not for a sweep); ParamError (the user's message) if it cannot."""
        lesson, form = self.lesson, self.form()
        if self.active is not None:
            raise ParamError(say("busy", self.lang, lesson=self.active.lesson.id))
        if form.grid is None:
            raise ParamError(form.first_error())
        if not form.is_sweep:
            point = form.grid.points[0]
            if stepping:
                self._check_steps(lesson, point.values)
            return self._start_new(lesson, point.values, point.seed, self.describe(lesson, point.values), stepping)
        if stepping:
            raise ParamError(say("sweep no step", self.lang))
        self.sweep = self.sweeps[lesson.id] = SweepRun(form.grid)
        self.say(form.grid.describe(self.lang))
        return self._next_point()

    def _next_point(self) -> RunTrace:
        """Start the sweep's next point, a normal recorded run."""
        sweep = self.sweep
        point = sweep.next_point()  # type: ignore[union-attr] - called only while a sweep goes on
        trace = self._start_new(sweep.grid.lesson, point.values, point.seed, sweep.label(point))  # type: ignore[union-attr]
        sweep.traces.append(trace)  # type: ignore[union-attr]
        return trace

    def _start_new(self, lesson: Lesson, values: Values, seed: int, label: str, stepping: bool = False) -> RunTrace:
        """Start a new recorded run of `lesson` (numbered as the runs on disk are, so numbers never clash)."""
        number = len(self.past_runs(lesson)) + 1
        trace = RunTrace(lesson=lesson, values=values, number=number, label=label)
        recorder: RunRecorder | None = RunRecorder(self.runs_root())
        try:
            recorder.check(lesson.id)
        except RecordsError as error:
            recorder, trace.no_records = None, self.say(say("records off", self.lang, error=error))
        return self._launch(trace, recorder, seed=seed, stepping=stepping)

    def resume(self, past: PastRun | None = None) -> RunTrace:
        """Continue `past` (else the open lesson's latest run on disk), a stopped or interrupted run, from its last
        checkpoint to its own epoch count, in its own folder (as `labapp run --resume`); ParamError (the user's
        message, in the workbench's words) if it cannot."""
        from labapp.checkpoints import FLAG, LAST, ResumeError, check_folder

        if self.active is not None:
            raise ParamError(say("busy", self.lang, lesson=self.active.lesson.id))
        lesson = self.find(past.lesson) if past is not None else self.lesson
        resumable = ", ".join(other.id for other in self.catalogue if other.checkpoints)
        if lesson.checkpoints is None:
            raise ParamError(say("resume no checkpoints", self.lang, lesson=lesson.id, lessons=resumable))
        if past is None:
            runs = list_runs(self.runs_root(), lesson.id)  # the disk now: a run stopped elsewhere counts too
            if not runs:
                raise ParamError(say("resume none", self.lang))
            past = runs[-1]  # the newest
        if past.status not in ("stopped", "interrupted"):
            raise ParamError(say("resume not resumable", self.lang, status=say(past.status, self.lang)
                                 if past.status in WORDS else past.status, path=past.path))
        if not (past.path / LAST).is_file():
            raise ParamError(say("resume no checkpoint", self.lang, path=past.path, lessons=resumable))
        try:
            check_folder(past.path, lesson)  # quick, no torch: a folder of this lesson with a checkpoint
            if not self.torch_ready:
                raise ParamError(say("resume wait", self.lang))
            from labapp.checkpoints import plan_resume

            plan = plan_resume(past.path, lesson, None)
        except ResumeError as error:  # a folder changed on disk meanwhile, a checkpoint that does not read
            raise ParamError(say("resume refused", self.lang, reason=str(error).removeprefix(f"{FLAG}: "))) from None
        trace = RunTrace(lesson=lesson, values=plan.values, number=self.number(past),
                         label=self.describe(lesson, plan.values), run_dir=str(past.path))
        trace.add_rows(kept_rows(past.path, plan.epoch))  # its curves so far, without an epoch cut short
        self.overlaid.get(lesson.id, {}).pop(str(past.path), None)  # drawn as the current run now, not faint
        return self._launch(trace, RunRecorder(past.path.parent.parent), resume=plan)

    def _launch(self, trace: RunTrace, recorder: RunRecorder | None, seed: int | None = None,
                resume: Any = None, stepping: bool = False) -> RunTrace:
        """Start the run of `trace` on its thread, its records kept by `recorder` (None: none); `stepping`: held
        after its first update."""
        sinks: list[Any] = [TraceSink(trace, self._heard, run_dir=lambda: recorder and recorder.path)]
        if recorder is not None:
            sinks.insert(0, recorder)  # first, so its folder exists when the trace hears of the start
        # The one place the workbench makes a Run: interactive, so the thread policy leaves a cpu for the UI.
        self.run = Run(trace.lesson, trace.values, device=self.form(trace.lesson).device, seed=seed, sinks=sinks,
                       interactive=True, resume=resume)
        trace.progress = self.run.progress  # the runner's live progress, read by the status line from the start
        self.run.gate.on_hold = lambda: self.notify("held", trace)
        if stepping:
            self.run.gate.step()
        self.traces.setdefault(trace.lesson.id, []).append(trace)
        self.active = trace
        self.run.start()
        return trace

    def _check_steps(self, lesson: Lesson, values: Values) -> None:
        """ParamError, in the UI's language, if a run of `lesson` with `values` cannot be stepped through."""
        problem = lesson.step_problem(values)
        if problem:
            stepped = ", ".join(other.id for other in self.catalogue if other.step_mode is not None)
            raise ParamError(say("no step mode", self.lang, problem=problem, lessons=stepped))

    def step(self) -> RunTrace:
        """One parameter update of the open lesson, shown: the first starts a run in step mode, the next
        ones let the run make one more (a run at full speed stops after its next). ParamError if it cannot."""
        if self.active is None:
            return self.start(stepping=True)
        if self.sweep is not None:
            raise ParamError(say("sweep no step", self.lang))
        if self.active.lesson is not self.lesson or self.run is None:
            raise ParamError(say("busy", self.lang, lesson=self.active.lesson.id))
        self._check_steps(self.lesson, self.active.values)
        self.run.gate.step()
        return self.active

    def stepping(self) -> bool:
        """Whether the open lesson's run goes one update at a time."""
        return self.run is not None and self.active is not None and self.active.lesson is self.lesson \
            and self.run.gate.stepping

    def run_on(self) -> bool:
        """Let the open lesson's run in step mode go on at full speed; whether there was one."""
        if not self.stepping():
            return False
        self.run.gate.run_free()  # type: ignore[union-attr] - stepping() saw the run
        return True

    def allows(self, action: str) -> bool:
        """Whether `action` (of labapp.actions) can be asked now; a key that cannot is not heard. Run and Step need a
        valid form (Run while a run goes, and Step in a lesson without step mode, are heard to say why not); Step also
        steps a run going; Resume needs no run going; Stop needs one."""
        if action == "run":
            return self.form().valid
        if action == "step":
            return self.active is not None or self.form().valid
        if action == "resume":
            return self.active is None
        return self.active is not None if action == "stop" else True

    def offers(self, action: str) -> bool:
        """Whether the key bar and the buttons offer `action` now: what is allowed, less Run while a run goes (unless
        it steps: then Run lets it go on) and Step in a lesson without step mode."""
        if action == "step" and self.lesson.step_mode is None:
            return False
        if action == "run" and self.active is not None and not self.stepping():
            return False
        return self.allows(action)
    def export(self, past: PastRun | None) -> str:
        """Write `past`'s (else the open lesson's latest run's) metrics.csv and charts.svg into its folder; the message."""
        from labapp.export import ExportError, export_run

        folder = self.folder_of(past)
        if not folder:
            return self.tell("export none")
        try:
            csv_path, svg_path = export_run(Path(folder), self.lang)
        except ExportError as error:
            return self.tell("export failed", error=error)
        return self.tell("exported", csv=csv_path.name, svg=svg_path.name, path=folder)

    def _heard(self, event: str, trace: RunTrace) -> None:
        """From the training thread: the run started or ended."""
        self.notify(event, trace)

    def stop(self) -> bool:
        """Ask the active run to stop after its current step (and a sweep to start no other); whether one was running."""
        if self.run is None:
            return False
        if self.sweep is not None:
            self.sweep.stopped = True
        self.run.request_stop()
        return True

    def poll(self) -> Ended | None:
        """The active run, if it has ended since the last poll (kept as ended; its model kept), with what to say.

        Each end goes to the message log once; a sweep's last end is followed by how the sweep ended, which
        the status line then shows. In a sweep, the next point starts here, once the one before has ended:
        never two at once.
        """
        run, trace = self.run, self.active
        if run is None or trace is None or not run.join(0):
            return None
        if not trace.message:  # it ended before any sink heard of it: its device or data was refused
            summary = run.summary
            trace.status, trace.message = "failed", summary.message if summary else "failed"
        if run.kept is not None:
            self.models[trace.lesson.id] = run.kept
        self.run = self.active = None
        self.history.pop(trace.lesson.id, None)  # read again: it has a new run
        said, whole = self.end_said(trace)
        self.say(whole)
        sweep = self.sweep
        if sweep is not None and trace in sweep.traces:
            sweep.ended(trace, run.summary)
            if sweep.next_point() is not None:
                self._next_point()
            else:
                self.sweep = None
                said = self.say(self.sweep_said(sweep))
        return Ended(trace, said)

    def end_said(self, trace: RunTrace) -> tuple[str, str]:
        """What is said when `trace` ends, for the status line and whole for the message log: how it ended in the
        UI's language, and where it is kept; the log adds the runner's own words where they say more (which
        value diverged, the update a stepped run stopped after). A sweep's run is named by its place in it."""
        ended = ended_message(trace, self.lang)
        words = trace.message.removeprefix("failed: ")
        more = bool(words) and words not in ended_message(trace, "en")
        folder = f" · {trace.run_dir}" if trace.run_dir else ""
        sweep = self.sweeps.get(trace.lesson.id)
        place = ""
        if sweep is not None and trace in sweep.traces:
            place = f"{say('sweep', self.lang)} {sweep.traces.index(trace) + 1}/{sweep.count} {trace.label}: "
        return place + ended + folder, place + ended + (f" — {runner_words(trace.message, self.lang)}" if more else "") + folder

    def sweep_said(self, sweep: SweepRun) -> str:
        """How a sweep ended, in the UI's language: how many runs ran, and the best point."""
        best = sweep.best()
        finished = sum(result.status == FINISHED for result in sweep.results)
        said = say("sweep stopped" if sweep.stopped else "sweep done", self.lang, done=len(sweep.results),
                   count=sweep.count, finished=finished)
        if best is not None:
            said += say("sweep best", self.lang, label=best.results[0].point.label(sweep.grid.lesson))
        return said

    def sweep_of(self, lesson: Lesson | None = None) -> SweepRun | None:
        """The sweep that `lesson`'s latest run belongs to (going on or done), if it does."""
        lesson = lesson or self.lesson
        sweep, latest = self.sweeps.get(lesson.id), self.latest(lesson)
        return sweep if sweep is not None and latest is not None and latest in sweep.traces else None

    def sweep_step(self) -> tuple[int, int] | None:
        """(the point running, of how many) while a sweep goes on."""
        sweep = self.sweep
        return (len(sweep.traces), sweep.count) if sweep is not None and sweep.running else None

    def best_folders(self, lesson: Lesson | None = None) -> set[str]:
        """The run folders of the best point of `lesson`'s latest sweep (the runs list marks them)."""
        sweep = self.sweeps.get((lesson or self.lesson).id)
        return sweep.best_folders() if sweep is not None else set()

    def shutdown(self, wait: float = QUIT_WAIT) -> None:
        """Stop the active run and give it `wait` seconds to record how it ended."""
        if self.sweep is not None:
            self.sweep.stopped = True
        if self.run is not None:
            self.run.request_stop()
            self.run.join(wait)

    def model(self, lesson: Lesson) -> Any:
        """The model for `lesson`'s try-it box: of its run going now (latest epoch), else of its last run."""
        if self.run is not None and self.active is not None and self.active.lesson is lesson and self.run.kept is not None:
            return self.run.kept
        return self.models.get(lesson.id)

    def folder(self) -> Path:
        """Where the workbench saves files: the open lesson's latest run folder, else the working folder."""
        trace = self.latest()
        return Path(trace.run_dir) if trace and trace.run_dir else Path.cwd()

    def save(self, name: str, text: str, said: str) -> str:
        """Write `text` to `name` in `folder()`; returns the message `said` with the path, or why it failed."""
        path = self.folder() / name
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            return self.tell("save failed", error=error)
        return self.tell(said, path=path)

    def folder_of(self, past: PastRun | None) -> str:
        """The folder of `past`, else of the open lesson's latest run ('' if none)."""
        latest = self.latest()
        return str(past.path) if past else (latest.run_dir if latest else "")

    def tell(self, key: str, **values: object) -> str:
        """The catalogue's `key` in the UI's language, logged; returns it."""
        return self.say(say(key, self.lang, **values))

    def progress(self, trace: RunTrace) -> RunProgress:
        """How far `trace` has got."""
        return trace.progress

    def latest(self, lesson: Lesson | None = None) -> RunTrace | None:
        """The active run if it is of `lesson`, else that lesson's latest run of this session."""
        lesson = lesson or self.lesson
        runs = self.traces.get(lesson.id)
        return runs[-1] if runs else None

    def state(self) -> str:
        """What the workbench is doing, as a status word (a key of labapp.strings)."""
        trace = self.shown_trace()
        if trace is None:
            return "idle" if self.torch_ready else "loading torch"
        waiting = trace.status == "starting" and trace.lesson.uses_torch and not self.torch_ready
        if waiting:
            return "waiting for torch"
        held = trace is self.active and self.run is not None and self.run.gate.held
        return "stepping" if held else trace.status

    def shown_trace(self) -> RunTrace | None:
        """The run the status line is about: the active one, else the open lesson's latest."""
        return self.active or self.latest()

    def reset(self) -> bool:
        """Forget the open lesson's runs of this session and overlays; False while it trains."""
        if self.active is not None and self.active.lesson is self.lesson:
            return False
        self.traces.pop(self.lesson.id, None)
        self.overlaid.pop(self.lesson.id, None)
        self.sweeps.pop(self.lesson.id, None)
        return True

    def chart_traces(self, earlier: bool) -> list[RunTrace]:
        """What the charts draw, last = the current run: overlaid runs from disk, then this session's; a sweep's runs alone."""
        sweep = self.sweep_of()
        if sweep is not None:
            return list(sweep.traces)
        session = self.traces.get(self.lesson.id, [])
        folders = {trace.run_dir for trace in session}
        past = [trace for path, trace in self.overlaid.get(self.lesson.id, {}).items() if path not in folders]
        if not earlier:
            session = session[-1:]
        return past + session

    def describe(self, lesson: Lesson, values: Values) -> str:
        """A run's changed params, or 'course defaults' in the UI's language."""
        label = describe(lesson, values)
        return say("course defaults", self.lang) if label == "course defaults" else label

    def load_torch(self, done: Callable[[list[tuple[str, str]], str], None]) -> None:
        """Import torch on a thread of its own; then `done(devices, error)` from that thread."""
        def load() -> None:
            try:
                from labapp.runner import available_devices

                done(available_devices(), "")
            except Exception as error:  # noqa: BLE001 - said to the user; the workbench stays up
                done([("cpu", "CPU")], str(error))

        threading.Thread(target=load, name="labapp-load-torch", daemon=True).start()

    # -- history ----------------------------------------------------------------------------------

    def past_runs(self, lesson: Lesson | None = None) -> list[PastRun]:
        """The runs of `lesson` on disk, newest first (read once, again after each run)."""
        lesson = lesson or self.lesson
        if lesson.id not in self.history:
            self.history[lesson.id] = list(reversed(list_runs(self.runs_root(), lesson.id)))
        return self.history[lesson.id]

    def toggle_overlay(self, past: PastRun) -> bool:
        """Overlay `past` on the charts, or take it off again; whether it is now overlaid."""
        shown = self.overlaid.setdefault(self.lesson.id, {})
        key = str(past.path)
        if key in shown:
            del shown[key]
            return False
        shown[key] = self.past_trace(past)
        return True

    def number(self, past: PastRun) -> int:
        """The run's number among its lesson's runs on disk, the oldest being #1."""
        runs = self.past_runs(self.find(past.lesson))
        return len(runs) - runs.index(past) if past in runs else 0

    def past_trace(self, past: PastRun) -> RunTrace:
        """A trace of a run on disk, read from its records."""
        lesson = self.find(past.lesson)
        return RunTrace.from_run_dir(lesson, past.path, self.number(past))


def past_values(lesson: Lesson, path: Path) -> Values:
    """The values a run on disk used (its config.json), the lesson's defaults where unreadable."""
    import json

    values = lesson.defaults()
    try:
        params = json.loads((path / "config.json").read_text(encoding="utf-8")).get("params", {})
    except (OSError, ValueError, AttributeError):
        return values
    for param in lesson.params:
        if param.name in params:
            try:
                values[param.name] = param.parse(param.format(params[param.name]))
            except (ParamError, TypeError, ValueError):
                pass
    return values


def changed_params(lesson: Lesson, path: Path, lang: str) -> str:
    """The params a run on disk changed from the course's, or 'course defaults'."""
    label = describe(lesson, past_values(lesson, path))
    return say("course defaults", lang) if label == "course defaults" else label

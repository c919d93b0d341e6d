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
from labapp.records import PastRun, RecordsError, RunRecorder, default_root, list_runs
from labapp.runner import Run
from labapp.strings import WORDS, say
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
        self.rule_error = ""  # the first cross-field rule the values break
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
        """Validate every field, then the lesson's cross-field rules."""
        self.errors.clear()
        for param in self.fields:
            try:
                param.parse(self.texts[param.name])
            except ParamError as error:
                self.errors[param.name] = str(error)
        self.rule_error = ""
        if not self.errors:
            try:
                self.values()
            except ParamError as error:
                self.rule_error = str(error)

    @property
    def valid(self) -> bool:
        """Whether every field and every rule accepts the values."""
        return not self.errors and not self.rule_error

    def values(self) -> Values:
        """The lesson's validated values (the seed apart); ParamError if not valid."""
        return self.lesson.resolve({p.name: self.texts[p.name] for p in self.lesson.params})

    def seed(self) -> int:
        """The seed the run will use."""
        return self.fields[-1].parse(self.texts["seed"])

    def shapes(self, lang: str) -> str | None:
        """The model's shapes for the form's values, worked out without torch; None if the lesson has no model."""
        if self.lesson.shapes is None:
            return None
        if not self.valid:
            return say("shapes unavailable", lang)
        return shapes_text(self.lesson, self.values(), lang)

    def first_error(self) -> str:
        """The first message the form shows, or ''."""
        return next(iter(self.errors.values()), self.rule_error)

    def reset(self) -> None:
        """The course's values in every field."""
        self.texts = {p.name: p.format(p.default) for p in self.fields}
        self.check()


def ended_message(trace: RunTrace, lang: str) -> str:
    """How a run ended, in `lang` (the runner's own words stay in the message log)."""
    unit, done = trace.lesson.unit, trace.epoch
    if trace.status == "diverged" and trace.progress.diverged_at is not None:
        done = trace.progress.diverged_at  # the epoch whose values were no longer finite, as the chart marks it
    if trace.status == "failed":
        return say("ended failed", lang, message=trace.message.removeprefix("failed: "))
    if trace.status in ("finished", "stopped", "diverged"):
        return say(f"ended {trace.status}", lang, unit=unit, units=unit if done == 1 else unit + "s", done=done)
    return trace.message


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

    def start(self) -> RunTrace:
        """Start the open lesson with its form's values; ParamError (the user's message) if it cannot."""
        lesson, form = self.lesson, self.form()
        if self.active is not None:
            raise ParamError(say("busy", self.lang, lesson=self.active.lesson.id))
        values, seed = form.values(), form.seed()
        runs = self.traces.setdefault(lesson.id, [])
        number = len(self.past_runs(lesson)) + 1  # numbered as the runs on disk are, so numbers never clash
        trace = RunTrace(lesson=lesson, values=values, number=number, label=self.describe(lesson, values))
        runs.append(trace)
        recorder: RunRecorder | None = RunRecorder(self.runs_root())
        try:
            recorder.check(lesson.id)
        except RecordsError as error:
            recorder, trace.no_records = None, self.say(say("records off", self.lang, error=error))
        sinks: list[Any] = [TraceSink(trace, self._heard, run_dir=lambda: recorder and recorder.path)]
        if recorder is not None:
            sinks.insert(0, recorder)  # first, so its folder exists when the trace hears of the start
        # The one place the workbench makes a Run: interactive, so the thread policy leaves a cpu for the UI.
        self.run = Run(lesson, values, device=form.device, seed=seed, sinks=sinks, interactive=True)
        trace.progress = self.run.progress  # the runner's live progress, read by the status line from the start
        self.active = trace
        self.run.start()
        return trace

    def _heard(self, event: str, trace: RunTrace) -> None:
        """From the training thread: the run started or ended."""
        self.notify(event, trace)

    def stop(self) -> bool:
        """Ask the active run to stop after its current step; whether one was running."""
        if self.run is None:
            return False
        self.run.request_stop()
        return True

    def poll(self) -> RunTrace | None:
        """The active run, if it has ended since the last poll (kept as ended; its model kept)."""
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
        self.say(trace.message)
        return trace

    def shutdown(self, wait: float = QUIT_WAIT) -> None:
        """Stop the active run and give it `wait` seconds to record how it ended."""
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
        return "waiting for torch" if waiting else trace.status

    def shown_trace(self) -> RunTrace | None:
        """The run the status line is about: the active one, else the open lesson's latest."""
        return self.active or self.latest()

    def reset(self) -> bool:
        """Forget the open lesson's runs of this session and overlays; False while it trains."""
        if self.active is not None and self.active.lesson is self.lesson:
            return False
        self.traces.pop(self.lesson.id, None)
        self.overlaid.pop(self.lesson.id, None)
        return True

    def chart_traces(self, earlier: bool) -> list[RunTrace]:
        """What the charts draw, last = the current run: overlaid runs from disk, then this session's."""
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

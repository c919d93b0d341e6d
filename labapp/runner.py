"""Runs a lesson: picks the device, seeds, sets torch's threads, and hands records to sinks.

No Textual here. The CLI drives a Run on its own thread; the TUI drives one on a worker thread.
Either way the lesson's records go to every sink (the run records on disk, a progress printer,
the app's message pump) and the run ends with one Summary.
"""

from __future__ import annotations

import errno
import gc
import math
import random
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from labapp.checkpoints import CheckpointError
from labapp.data import DataError, DataStore
from labapp.lesson import Lesson, Metric, Record, Step, StepLater, Values, ViewValue, shown
from labapp.progress import RunProgress, RunStatus
from labapp.strings import say

FINISHED, STOPPED, DIVERGED, FAILED = RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.DIVERGED, RunStatus.FAILED


class DeviceError(ValueError):
    """A device that is unknown or not available here; str() is the user's message."""


def resolve_device(name: str) -> Any:
    """The torch.device for `name`: auto (cuda, else mps, else cpu), cpu, cuda, cuda:N or mps.

    An explicit device that this machine lacks is an error, never a silent fallback.
    """
    import torch

    wanted = name.strip().lower()
    if wanted == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(wanted)
    except RuntimeError:
        raise DeviceError(f"device: {shown(name)} is not a device: must be auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cpu":
        if device.index not in (None, 0):  # torch takes 'cpu:5' and runs on the one cpu device anyway
            raise DeviceError(f"device: {shown(name)} is not available: the cpu is one device, cpu (or cpu:0)")
        return torch.device("cpu")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device: {shown(name)} is not available: this machine has no CUDA GPU "
                              f"that torch {torch.__version__} can use; try --device cpu")
        count = torch.cuda.device_count()
        index = device.index if device.index is not None else torch.cuda.current_device()
        if index >= count:
            raise DeviceError(f"device: {shown(name)} is not available: this machine has {count} CUDA "
                              f"device(s), cuda:0 to cuda:{count - 1}")
        return torch.device("cuda", index)
    if device.type == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError(f"device: {shown(name)} is not available: this machine has no Apple MPS device; "
                              "try --device cpu")
        return device
    raise DeviceError(f"device: {shown(name)} is not supported: must be auto, cpu, cuda, cuda:N or mps")


def load_torch(optimizer: bool = True) -> Any:
    """Import torch and, when an optimizer will be built, what the first one imports (torch._dynamo, ~1.5 s here).

    Paid here, while loading, rather than inside a lesson's first epoch; a lesson that builds no
    optimizer (Lesson.builds_optimizer False) never pays it, as the course's program would not.
    """
    from labapp.threads import wait_quietly

    wait_quietly()  # before torch loads its OpenMP runtime
    import torch

    if optimizer:
        import torch._dynamo  # noqa: F401 - the first optimizer would import it mid-training

    return torch


def available_devices() -> list[tuple[str, str]]:
    """(device, description) for every device torch can use here, cpu first."""
    torch = load_torch()

    devices = [("cpu", "CPU")]
    if torch.cuda.is_available():
        devices += [(f"cuda:{i}", torch.cuda.get_device_name(i)) for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append(("mps", "Apple MPS"))
    return devices


@dataclass
class RunInfo:
    """What a run is: handed to every sink when it starts."""

    lesson: Lesson
    values: Values
    seed: int
    device: str
    device_name: str
    threads: int | None
    torch_version: str | None
    threads_why: str | None = None  # the thread policy's one-line reason (labapp.threads)
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    started: datetime = field(default_factory=lambda: datetime.now().astimezone())
    progress: RunProgress = field(default_factory=RunProgress, repr=False)  # live: read it, never write it
    resume: Any = None  # the checked `--resume` (labapp.checkpoints.ResumePlan): records continue in its folder
    checkpoints: bool = False  # whether the run saves a checkpoint at the end of each epoch

    @property
    def total(self) -> int:
        """How many epochs (or the lesson's unit) the run will take."""
        return self.lesson.total(self.values)


@dataclass
class Summary:
    """How a run ended."""

    status: RunStatus
    message: str
    epochs_done: int
    final: dict[str, dict[str, float]]
    results: dict[str, Any]
    duration_s: float
    traceback: str | None = None
    diverged_at: int | None = None  # the epoch (or the lesson's unit) whose values became inf or nan


class Sink(Protocol):
    """Receives a run's records as they come; the runner calls these on the run's thread."""

    def start(self, info: RunInfo) -> None:
        """The run begins."""

    def record(self, record: Record, elapsed: float) -> None:
        """A record, `elapsed` seconds after the start."""

    def finish(self, summary: Summary) -> None:
        """The run has ended."""


class _Context:
    """The RunContext that a lesson's train function sees."""

    def __init__(self, device: Any, seed: int, data_dir: str | None, data_paths: Mapping[str, Path],
                 stop: StopFlag, logger: Any, out_dir: Path | None = None,
                 keeper: Callable[[Any], None] = lambda state: None, progress: RunProgress | None = None,
                 checkpointer: Any = None) -> None:
        self.device = device
        self.seed = seed
        self.data_dir = data_dir
        self.out_dir = out_dir
        self._data_paths = data_paths
        self._stop = stop
        self._log = logger
        self._keeper = keeper
        self.batches: tuple[int, int] | None = None  # (done, total) inside the current epoch
        self._progress = progress if progress is not None else RunProgress()
        self._checkpointer = checkpointer  # a labapp.checkpoints.Checkpointer, or None: no checkpoints

    @property
    def should_stop(self) -> bool:
        """True once a stop was requested."""
        return self._stop.is_set()

    def log(self, message: str) -> None:
        """A line for the run's log."""
        self._log(message)

    def data_path(self, name: str) -> Path:
        """The verified local copy of dataset `name`, located before training."""
        try:
            return self._data_paths[name]
        except KeyError:
            raise KeyError(f"dataset {shown(name)} is not in the lesson's `data`, so it was not located") from None

    def keep(self, state: Any) -> None:
        """Keep a snapshot of the trained model for the lesson's TryIt."""
        self._keeper(state)

    def batch(self, done: int, total: int) -> None:
        """Progress inside the current epoch: `done` of `total` batches."""
        self.batches = (done, total)
        self._progress.batch = self.batches

    @property
    def resumed(self) -> int:
        """The epoch whose checkpoint this run continues from; 0 for a new run."""
        resumed = self._checkpointer.resumed if self._checkpointer is not None else None
        return resumed["epoch"] if resumed else 0

    def restore(self, **objects: Any) -> dict[str, Any]:
        """Load the resumed checkpoint into `objects`, restore the generators; {'epoch', ...} or {} for a new run."""
        return self._checkpointer.restore(objects) if self._checkpointer is not None else {}

    def checkpoint(self, epoch: int, **state: Any) -> None:
        """Save the end of `epoch` (last, and best by the headline metric), if checkpoints are on."""
        if self._checkpointer is not None:
            self._checkpointer.save(epoch, self._progress.headline_value(), state)


class StopFlag:
    """Whether a stop was asked for: set from any thread, and from a signal handler.

    Not a threading.Event: its set() takes a lock, and a second signal arriving during the first
    handler's set() would wait for that lock for ever. Setting an attribute takes none.
    """

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        """Ask for the stop."""
        self._set = True

    def is_set(self) -> bool:
        """Whether the stop was asked for."""
        return self._set


class StepGate:
    """Step mode: lets a run's parameter updates (its Step records) through one at a time, or all of them.

    Stepping, the training thread waits at each Step until `step` allows one more, `run_free` lets the
    rest through at full speed, or a stop is asked for; a Step is shown (handed to the sinks) only while
    stepping. With `stop_at_limit` (headless `--steps N`) the run stops where it would wait.
    """

    POLL = 0.1  # seconds between looks at the stop flag while waiting (a signal handler cannot notify)

    def __init__(self, steps: int = 0, stop_at_limit: bool = False) -> None:
        self._changed = threading.Condition()
        self.stepping = steps > 0
        self.allowed = steps  # updates still to let through before waiting
        self.stop_at_limit = stop_at_limit
        self.held = False  # waiting now, after the updates shown so far
        self.shown = 0  # the number of the last update shown
        self.limit_reached = False
        self.on_hold: Callable[[], None] = lambda: None  # called (on the training thread) when it starts waiting

    def step(self, count: int = 1) -> None:
        """Let `count` more updates through, then wait again (a run at full speed starts stepping)."""
        with self._changed:
            self.stepping = True
            self.allowed += count
            self._changed.notify_all()

    def run_free(self) -> None:
        """Let every remaining update through at full speed."""
        with self._changed:
            self.stepping = False
            self._changed.notify_all()

    def admit(self, stop: StopFlag) -> bool | None:
        """At a Step: True to show it, False to let it pass unshown (full speed), None to end the run here."""
        told = False
        with self._changed:
            while self.stepping and self.allowed == 0:
                if self.stop_at_limit:
                    self.limit_reached = True
                    return None
                if stop.is_set():
                    return None
                self.held = True
                if not told:
                    told = True
                    self._changed.release()  # the callback may read the gate
                    try:
                        self.on_hold()
                    finally:
                        self._changed.acquire()
                    continue
                self._changed.wait(self.POLL)
            self.held = False
            if not self.stepping:
                return False
            self.allowed -= 1
            return True


def _first_non_finite(metric: Metric) -> tuple[str, float] | None:
    for name, value in metric.values.items():
        if isinstance(value, float) and not math.isfinite(value):
            return name, value
    return None


class Run:
    """One run of one lesson with validated values; `prepare`, then `run` here or `start` a thread."""

    def __init__(self, lesson: Lesson, values: Values, *, device: str = "auto", seed: int | None = None,
                 threads: int | None = None, data_dir: str | None = None, sinks: Sequence[Sink] = (),
                 interactive: bool = False, steps: int | None = None, checkpoints: bool | None = None,
                 resume: Any = None) -> None:
        self.lesson = lesson
        self.resume = resume  # a checked labapp.checkpoints.ResumePlan: its values, seed and folder are the run's
        self.values = resume.values if resume is not None else values
        self.device_request = device
        self.seed = lesson.seed if seed is None else seed  # recorded in RunInfo, so config.json has the one used
        if resume is not None:
            self.seed = resume.seed
        # None: the lesson's own choice; a lesson without checkpoints (None) never keeps any
        self.checkpoints = bool(lesson.checkpoints if checkpoints is None else checkpoints and lesson.checkpoints is not None)
        if resume is not None:
            self.checkpoints = True
        self.threads_request = threads
        self.data_dir = data_dir
        self.sinks = list(sinks)
        self.interactive = interactive  # the workbench: its UI keeps one CPU (labapp.threads)
        self.threads_why: str | None = None
        self.info: RunInfo | None = None
        self.summary: Summary | None = None
        self._stop = StopFlag()
        self._stop_reason: str | None = None
        self._interruptible = False  # True while the lesson trains: `interrupt` may raise there, nowhere else
        self._trainer: int | None = None  # the id of the thread that trains
        self._thread: threading.Thread | None = None
        self._notes_later: list[str] = []
        self.data_paths: dict[str, Path] = {}
        self.kept: Any = None  # the latest model snapshot the lesson kept (run.keep), for its TryIt
        self.progress = RunProgress.for_lesson(lesson, self.values)  # live progress, read from other threads
        # Step mode: `steps` updates shown, then the run stops (headless --steps); the workbench steps it itself.
        self.gate = StepGate(steps or 0, stop_at_limit=steps is not None)
        self.elapsed_before = 0.0  # seconds the resumed run had trained before (its records' times go on from there)
        if resume is not None:
            self._resume_progress(resume)

    # -- before training -------------------------------------------------------------------

    def prepare(self, say: Callable[[str], None] | None = None) -> RunInfo:
        """Locate the lesson's data, import torch if the lesson needs it, resolve the device, seed.

        DataError if a dataset is missing or corrupt (checked first, before torch loads), DeviceError if
        the device is not here. `say` hears of downloads as they begin.
        """
        if self.info is not None:
            return self.info
        self._locate_data(say)
        random.seed(self.seed)
        if self.lesson.uses_torch or "numpy" in sys.modules:
            # torch imports numpy anyway; a plain-Python lesson is spared its import (about 0.1 s)
            try:
                import numpy

                numpy.random.seed(self.seed)
            except ImportError:  # numpy is a dependency; a lesson without it still runs
                pass
        torch_version = None
        threads = None
        if self.lesson.uses_torch or self.device_request not in ("auto", "cpu"):
            torch = load_torch(optimizer=self.lesson.builds_optimizer)

            device = resolve_device(self.device_request)
            if device.type == "cuda":
                # the course's convolutions see a few fixed shapes: cuDNN times its algorithms once, keeps the fastest
                torch.backends.cudnn.benchmark = True
            torch_version = torch.__version__
            torch.manual_seed(self.seed)
            threads = self._set_threads(torch, say)
        else:
            device = "cpu"
        if not self.lesson.uses_torch and str(device) != "cpu":
            self._notes_later.append(f"{self.lesson.id} computes with plain Python numbers, "
                                     f"so it runs on the cpu, not {device}")
            device = "cpu"
        self.device = device
        self.info = RunInfo(lesson=self.lesson, values=self.values, seed=self.seed, device=str(device),
                            device_name=_device_name(device), threads=threads, torch_version=torch_version,
                            threads_why=self.threads_why, progress=self.progress, resume=self.resume,
                            checkpoints=self.checkpoints)
        if self.resume is not None:
            self.info.run_id = str(self.resume.config.get("run_id") or self.info.run_id)
        return self.info

    def _resume_progress(self, resume: Any) -> None:
        """Start the progress where the resumed run's kept records end: its epochs, last values and time."""
        from labapp.progress import metric_of_row
        from labapp.records import kept_rows

        for row in kept_rows(resume.folder, resume.epoch):
            metric = metric_of_row(row)
            if metric is not None:
                self.progress.add(metric)
            t = row.get("t")
            if isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t):
                self.elapsed_before = max(self.elapsed_before, float(t))

    def _locate_data(self, say: Callable[[str], None] | None) -> None:
        """Find (or download) and verify every dataset of the lesson; DataError if one cannot be had."""
        wanted = self.lesson.datasets(self.values)
        if not wanted:
            return
        store = DataStore(self.data_dir)

        def note(message: str) -> None:
            self._notes_later.append(message)
            if say is not None:
                say(message)

        self.data_paths = {data.name: store.locate(data, note) for data in wanted}
        self._notes_later += [f"data: {name} is {path}" for name, path in self.data_paths.items()]

    def _set_threads(self, torch: Any, say: Callable[[str], None] | None = None) -> int:
        """Set torch's intra-op threads by the policy of labapp.threads; one inter-op thread."""
        from labapp.threads import choose_threads, read_machine

        choice = choose_threads(read_machine(), interactive=self.interactive, requested=self.threads_request,
                                lesson_limit=self.lesson.threads)
        self.threads_why = choice.why
        if choice.note is not None:
            self._notes_later.append(choice.note)
            if say is not None:
                say(choice.note)
        torch.set_num_threads(choice.threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # only possible before the first parallel work of the process
            pass
        return choice.threads

    # -- training --------------------------------------------------------------------------

    def request_stop(self, reason: str | None = None) -> None:
        """Ask the run to stop after the current training step; `reason` is said in its message."""
        if reason is not None and self._stop_reason is None:
            self._stop_reason = reason
        self._stop.set()

    def interrupt(self) -> None:
        """Stop now (a second Ctrl-C): raise KeyboardInterrupt if the calling thread is inside the lesson's training.

        Called from a signal handler. Anywhere else (setting up, writing the summary, the report) it only
        asks for a stop, so the summary write is never torn; it raises once per run at most.
        """
        self._stop.set()
        if self._interruptible and self._trainer == threading.get_ident():
            self._interruptible = False
            raise KeyboardInterrupt

    def start(self) -> threading.Thread:
        """Run on a new daemon thread; returns it."""
        self._thread = threading.Thread(target=self.run, name=f"labapp-{self.lesson.id}", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a started run; True once it has ended."""
        if self._thread is None:
            return self.summary is not None
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def run(self) -> Summary:
        """Train on the calling thread until the lesson ends, diverges, fails or is stopped."""
        clock = time.perf_counter()
        status, message, trace, diverged_at = FINISHED, "", None, None
        progress, results = self.progress, {}
        try:
            info = self.prepare()
            for sink in self.sinks:
                sink.start(info)
            for note in self._notes_later:
                self._note(note)
            context = _Context(self.device, self.seed, self.data_dir, self.data_paths, self._stop, self._note,
                               out_dir=self._out_dir(), keeper=self._keep, progress=progress,
                               checkpointer=self._checkpointer())
            # torch, and the workbench around a run, hold hundreds of thousands of long-lived objects that
            # every full garbage collection during training would walk again; frozen, the collector
            # leaves them alone during the run (objects freed by reference counting are still freed).
            gc.freeze()
            clock = time.perf_counter() - self.elapsed_before  # the training's time: not torch's import, not setup
            progress.start()
            if progress.started is not None:
                progress.started -= self.elapsed_before  # a resumed run's rate and ETA count its earlier epochs
            records = self.lesson.train(self.values, context)
            self._trainer = threading.get_ident()
            updates = 0
            try:
                self._interruptible = True
                for record in records:
                    if isinstance(record, (Step, StepLater)):
                        updates += 1
                        shown = self.gate.admit(self._stop)
                        if shown is None:  # stopped while waiting, or the last of `steps` was shown
                            break
                        if not shown:
                            continue
                        record = replace(record.make() if isinstance(record, StepLater) else record, number=updates)
                        self.gate.shown = updates
                    if self._stop.is_set() and isinstance(record, Metric):
                        # A lesson that saw the stop returns, yielding only its results (views) on the
                        # way out; one still training is stopped here, at its next metric.
                        break
                    elapsed = time.perf_counter() - clock
                    for sink in self.sinks:
                        sink.record(record, elapsed)
                    if isinstance(record, ViewValue):
                        results[record.view] = record.value
                    elif isinstance(record, Metric):
                        progress.add(record)
                    bad = _first_non_finite(record) if isinstance(record, Metric) else None
                    if bad is not None:
                        status, diverged_at = DIVERGED, record.epoch
                        message = say("runner diverged value", "en", unit=self.lesson.unit, n=record.epoch,
                                      name=bad[0], value=bad[1])
                        break
            finally:
                self._interruptible = False
                close = getattr(records, "close", None)
                if close is not None:
                    close()
                gc.unfreeze()  # collected as usual again, between runs
            if status == FINISHED and self.gate.limit_reached:
                shown = self.gate.shown
                status, message = STOPPED, (f"stopped at {self.lesson.unit} {progress.reached} in step mode: "
                                            f"{shown} update{'' if shown == 1 else 's'} shown, as --steps asked")
            elif status == FINISHED and self._stop.is_set():
                status, message = STOPPED, f"stopped at {self.lesson.unit} {progress.reached}"
                if self.gate.stepping and self.gate.shown:
                    message = say("runner stopped stepping", "en", unit=self.lesson.unit, n=progress.reached,
                                  update=self.gate.shown)
                if self._stop_reason:
                    message += f": {self._stop_reason}"
        except (OverflowError, FloatingPointError) as error:
            status, diverged_at = DIVERGED, progress.reached + 1
            message = say("runner diverged overflow", "en", unit=self.lesson.unit, n=diverged_at,
                          error=type(error).__name__)
        except KeyboardInterrupt:
            self._interruptible = False
            status, message = STOPPED, f"interrupted at {self.lesson.unit} {progress.reached}"
        except DataError as error:  # a missing or corrupt dataset (when `prepare` was not called first)
            status, message = FAILED, str(error)
        except CheckpointError as error:  # a resumed checkpoint that does not fit the lesson's objects
            status, message = FAILED, f"failed: {error}"
        except Exception as error:  # noqa: BLE001 - the run's outcome, reported with its traceback
            status, trace = FAILED, traceback.format_exc()
            message = self._out_of_memory(error) if _is_out_of_memory(error) else \
                _disk_full(error) or f"failed: {type(error).__name__}: {error}"
        if status == FINISHED:
            count = progress.reached
            message = f"finished {count} {self.lesson.unit}{'' if count == 1 else 's'}"
        progress.finish(status, diverged_at)
        self.summary = Summary(status=status, message=message, epochs_done=progress.reached,
                               final=progress.latest, results=results,
                               duration_s=time.perf_counter() - clock, traceback=trace, diverged_at=diverged_at)
        if self.info is not None:
            for sink in self.sinks:
                try:
                    sink.finish(self.summary)
                except Exception as error:  # noqa: BLE001 - every other sink still hears how the run ended
                    # said in the message, which the sinks after this one and the caller still read
                    self.summary.message += f" ({type(sink).__name__} could not finish: {type(error).__name__}: {error})"
        return self.summary

    def _out_of_memory(self, error: Exception) -> str:
        """What to say when the device ran out of memory, and what to try."""
        device = self.info.device if self.info is not None else self.device_request
        tries = [f"a smaller {p.name}" for p in self.lesson.params if p.name == "batch_size"] or ["smaller settings"]
        if not device.startswith("cpu"):
            tries.append("the cpu (--device cpu)")
        torch = sys.modules.get("torch")
        try:
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()  # give the cached blocks back, so the next run starts clean
        except Exception:  # noqa: BLE001 - only a courtesy to the next run
            pass
        said = " ".join(str(error).split()) or type(error).__name__
        said = said if len(said) <= 80 else said[:80] + "…"
        return f"failed: ran out of memory on {device} ({said}): try {' or '.join(tries)}"

    def _checkpointer(self) -> Any:
        """The run's Checkpointer when it saves checkpoints or resumes one; None otherwise."""
        if not self.checkpoints:
            return None
        from labapp.checkpoints import Checkpointer

        folder = self._out_dir()
        if folder is None:
            self._note("checkpoints: none, as the run keeps no folder (--no-record)")
        return Checkpointer(folder, self.lesson, self.values, self.seed, log=self._note,
                            resumed=self.resume.checkpoint if self.resume is not None else None)

    def _keep(self, state: Any) -> None:
        self.kept = state  # one reference swap: a reader on another thread sees the old or the new state

    def _out_dir(self) -> Path | None:
        """The folder where a sink keeps the run's records (a RunRecorder's `path`), if one does."""
        for sink in self.sinks:
            path = getattr(sink, "path", None)
            if isinstance(path, Path):
                return path
        return None

    def _note(self, message: str) -> None:
        for sink in self.sinks:
            log = getattr(sink, "log", None)
            if log is not None:
                try:
                    log(message)
                except Exception:  # noqa: BLE001 - a log line is never worth a run
                    pass


OUT_OF_MEMORY_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory")  # cuda, mps; torch's cpu


def _is_out_of_memory(error: BaseException) -> bool:
    """Whether `error` says a device ran out of memory: torch's OutOfMemoryError, MPS's, the cpu allocator's
    ("DefaultCPUAllocator: can't allocate memory"), ENOMEM, or Python's own MemoryError."""
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    if isinstance(error, OSError) and error.errno == errno.ENOMEM:
        return True
    said = str(error).lower()
    return isinstance(error, RuntimeError) and any(words in said for words in OUT_OF_MEMORY_WORDS)


def _disk_full(error: BaseException) -> str | None:
    """The message for a run whose records filled the disk, or None if `error` is something else."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"failed: the disk is full ({error.strerror}): the run records could not be written"
    return None


def _device_name(device: Any) -> str:
    if str(device).startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(device)
    return {"cpu": "CPU", "mps": "Apple MPS"}.get(str(device), str(device))


def run_lesson(lesson: Lesson, values: Values, sinks: Iterable[Sink] = (), **options: Any) -> Summary:
    """Prepare and run `lesson` on the calling thread (a shortcut for tests and scripts)."""
    run = Run(lesson, values, sinks=list(sinks), **options)
    return run.run()

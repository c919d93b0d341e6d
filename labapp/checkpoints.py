"""Checkpoints and resume: a run's state saved at the end of each epoch, and a stopped run continued from it.

    <run folder>/checkpoint-last.pt   the end of the last epoch saved (what `--resume` continues from)
    <run folder>/checkpoint-best.pt   the end of the epoch with the best headline metric so far

Each file holds the lesson's objects by name (modules and optimizers by their state_dict, torch
Generators by their state, plain numbers as they are), the epoch, the headline value, the run's
values and seed, and every random number generator the run draws from (torch's cpu and cuda ones,
Python's `random`, numpy's): restored, they give the resumed run the same data order and the same
numbers as a run that never stopped. Files are written through a temporary file, synced and renamed,
so a kill leaves the previous checkpoint whole.

Torch is imported only inside the functions that save or load: checking a `--resume` folder
(`check_folder`) imports nothing heavy.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labapp.lesson import Lesson, ParamError, Values, shown
from labapp.progress import higher_is_better

LAST, BEST = "checkpoint-last.pt", "checkpoint-best.pt"
FORMAT = 1  # the layout of a checkpoint file; a different one is refused with a message
SUPERSEDED = "metrics.superseded.jsonl"  # records after the checkpoint that a resumed run set aside


class ResumeError(ValueError):
    """A `--resume` that cannot be done; str() names the flag, the folder and what is allowed."""


class CheckpointError(RuntimeError):
    """A checkpoint that does not fit the lesson's objects; str() is the user's message."""


# -- random number generators ---------------------------------------------------------------------

def rng_states() -> dict[str, Any]:
    """Every generator a run draws from, as data that torch.load(weights_only=True) reads back."""
    import torch

    states: dict[str, Any] = {"torch": torch.get_rng_state(), "python": _python_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    if "numpy" in sys.modules:
        kind, keys, pos, has_gauss, gauss = sys.modules["numpy"].random.get_state()
        states["numpy"] = [kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)]
    return states


def _python_state() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def restore_rng(states: Mapping[str, Any]) -> None:
    """Put every generator back as `rng_states` found it."""
    import torch

    torch.set_rng_state(states["torch"])
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    if "numpy" in states:
        import numpy

        kind, keys, pos, has_gauss, gauss = states["numpy"]
        numpy.random.set_state((kind, numpy.array(keys, dtype=numpy.uint32), pos, has_gauss, gauss))


# -- one object's state -----------------------------------------------------------------------------

def _kind(obj: Any) -> str:
    """How `obj` is saved: 'state_dict' (modules, optimizers), 'generator' (torch.Generator) or 'value'."""
    if hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict"):
        return "state_dict"
    if hasattr(obj, "get_state") and hasattr(obj, "set_state"):
        return "generator"
    return "value"


def _state_of(obj: Any, kind: str) -> Any:
    if kind == "state_dict":
        return obj.state_dict()
    if kind == "generator":
        return obj.get_state()
    return obj


def _load_into(obj: Any, kind: str, state: Any) -> None:
    if kind == "state_dict":
        obj.load_state_dict(state)
    elif kind == "generator":
        obj.set_state(state)


def save_atomic(data: Any, path: Path) -> None:
    """torch.save `data` to `path` through a synced temporary file and a rename: never a half-written file."""
    import torch

    from labapp.records import replacing  # here: records imports the runner, which imports this module

    with replacing(path) as f:
        torch.save(data, f)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint in `path` (tensors on the cpu); CheckpointError if it is not one labapp wrote."""
    import torch

    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same plain message
        said = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CheckpointError(f"{path} is not a labapp checkpoint ({said[:80]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("epoch"), int):
        raise CheckpointError(f"{path} is not a labapp checkpoint of format {FORMAT}")
    return data


# -- the run's checkpointer ------------------------------------------------------------------------

@dataclass
class Checkpointer:
    """Saves a run's checkpoints into `folder` (None: keeps none) and, when resuming, restores the saved one."""

    folder: Path | None
    lesson: Lesson
    values: Values
    seed: int
    resumed: dict[str, Any] | None = None  # the checkpoint this run continues from
    best: dict[str, Any] | None = None  # {'epoch', 'value'} of the best headline so far
    saved: int = 0  # the epoch of the last checkpoint written
    log: Any = field(default=lambda message: None, repr=False)

    def __post_init__(self) -> None:
        if self.resumed is not None:
            self.best = self.resumed.get("best")
            self.saved = self.resumed["epoch"]

    def save(self, epoch: int, headline: tuple[str, float] | None, state: Mapping[str, Any]) -> None:
        """Write checkpoint-last.pt for the end of `epoch`, and checkpoint-best.pt if its headline is the best yet."""
        if self.folder is None:
            return
        kinds = {name: _kind(obj) for name, obj in state.items()}
        value = headline[1] if headline is not None and isinstance(headline[1], (int, float)) else None
        data = {"format": FORMAT, "lesson": self.lesson.id, "epoch": epoch, "seed": self.seed,
                "params": _plain(self.values), "kinds": kinds,
                "state": {name: _state_of(obj, kinds[name]) for name, obj in state.items()},
                "metric": None if value is None else {"name": headline[0], "value": float(value)},
                "rng": rng_states()}
        better = value is not None and math.isfinite(value) and (
            self.best is None or (value > self.best["value"] if higher_is_better(headline[0])
                                  else value < self.best["value"]))
        if better:
            self.best = {"epoch": epoch, "value": float(value)}
        data["best"] = self.best
        last = self.folder / LAST
        save_atomic(data, last)
        self.saved = epoch
        if better:
            _link_or_copy(last, self.folder / BEST)

    def restore(self, objects: Mapping[str, Any]) -> dict[str, Any]:
        """Load the resumed checkpoint into `objects` and restore the generators; {'epoch', **plain values}.

        {} when this run resumes nothing. CheckpointError when an object is not in the checkpoint.
        """
        if self.resumed is None:
            return {}
        saved, kinds = self.resumed["state"], self.resumed["kinds"]
        for name, obj in objects.items():
            if name not in saved:
                raise CheckpointError(f"the checkpoint has no {name!r} (it has {', '.join(saved) or 'nothing'}): "
                                      f"it was saved by another version of {self.lesson.id}")
            try:
                _load_into(obj, kinds[name], saved[name])
            except (RuntimeError, ValueError, KeyError, TypeError) as error:
                said = (str(error).strip().splitlines() or [type(error).__name__])[0]
                raise CheckpointError(f"the checkpoint's {name!r} does not fit this run's ({said[:120]})") from None
        restore_rng(self.resumed["rng"])
        extras = {name: value for name, value in saved.items() if kinds.get(name) == "value"}
        return {**extras, "epoch": self.resumed["epoch"]}


def _link_or_copy(source: Path, target: Path) -> None:
    """Make `target` the same file as `source` now (a hard link, else a copy), replacing it atomically."""
    import shutil

    tmp = target.with_name(f".{target.name}.tmp")
    try:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        try:
            os.link(source, tmp)  # `source` is later replaced by a rename: this name keeps today's file
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """The run's values as JSON data (tuples as lists), which torch.load(weights_only=True) reads back."""
    return json.loads(json.dumps(dict(values), default=str))


# -- checking a --resume folder ---------------------------------------------------------------------

@dataclass
class ResumePlan:
    """A checked `--resume`: the run folder, its values with the new epoch count, its seed and checkpoint."""

    folder: Path
    values: Values
    seed: int
    checkpoint: dict[str, Any]
    config: dict[str, Any]

    @property
    def epoch(self) -> int:
        """The epoch the checkpoint ended; training continues with the next."""
        return self.checkpoint["epoch"]


FLAG = "--resume"


def _where(folder: Path) -> str:
    """The folder, quoted and escaped as repr does, but whole: a message must name it exactly."""
    return repr(str(folder))


def check_folder(folder: Path, lesson: Lesson) -> dict[str, Any]:
    """The config.json of the run in `folder`, if it is a run of `lesson` that can be resumed; ResumeError if not.

    Cheap (no torch): a folder, a run, of this lesson, not running now, with a checkpoint.
    """
    from labapp.records import RUNNING, read_json_object, read_run, Unreadable, CONFIG_MAX

    where = _where(folder)
    if lesson.checkpoints is None:
        raise ResumeError(f"{FLAG}: {lesson.id} keeps no checkpoints, so its runs cannot be resumed: "
                          "only lessons that train a model can (cnn-basics, rnn-classifier, ...)")
    if not folder.is_dir():
        raise ResumeError(f"{FLAG}: {where} is not a folder: give the folder of a run (`labapp runs` lists them)")
    past = read_run(folder)
    try:
        config = read_json_object(folder / "config.json", CONFIG_MAX)
    except Unreadable as error:
        raise ResumeError(f"{FLAG}: {where} is not a run that can be resumed: {error}") from None
    if past is None or config is None:
        raise ResumeError(f"{FLAG}: {where} is not a run folder (it has no config.json): "
                          "give the folder of a run (`labapp runs` lists them)")
    other = config.get("lesson")
    if other != lesson.id:
        raise ResumeError(f"{FLAG}: {where} is a run of {shown(str(other))}, not of {lesson.id}: "
                          f"resume it with `labapp run {other} --resume ...`, or give a run of {lesson.id}")
    if past.status == RUNNING:
        raise ResumeError(f"{FLAG}: {where} is still running (process {config.get('pid')}): "
                          "stop it first, then resume it")
    if not (folder / LAST).is_file():
        raise ResumeError(f"{FLAG}: {where} has no checkpoint ({LAST}): only a run that saved one can be resumed "
                          f"(one that finished an epoch with checkpoints on: `labapp run {lesson.id} --checkpoints on`)")
    return config


def plan_resume(folder: Path, lesson: Lesson, epochs: str | None) -> ResumePlan:
    """Check a `--resume FOLDER [--epochs N]` fully (this loads the checkpoint, so torch); ResumeError if it cannot be done."""
    config = check_folder(folder, lesson)
    where = _where(folder)
    try:
        checkpoint = read_checkpoint(folder / LAST)
    except CheckpointError as error:
        raise ResumeError(f"{FLAG}: {where}: {error}") from None
    if checkpoint.get("lesson") != lesson.id:
        raise ResumeError(f"{FLAG}: {where} holds a checkpoint of {shown(str(checkpoint.get('lesson')))}, "
                          f"not of {lesson.id}")
    values = _values_of(lesson, checkpoint.get("params"), where)
    done = checkpoint["epoch"]
    if epochs is not None:
        try:
            values["epochs"] = lesson.param("epochs").parse(epochs)
        except ParamError as error:
            raise ResumeError(str(error)) from None
    if values["epochs"] <= done:
        said = "the run's own count" if epochs is None else "--epochs"
        raise ResumeError(f"{FLAG}: {where} has done {done} epoch{'s' if done != 1 else ''} (its checkpoint); "
                          f"{said} is {values['epochs']}: give --epochs larger than {done} to train on")
    try:
        lesson.check(values)
    except ParamError as error:
        raise ResumeError(f"{FLAG}: {where}: {error}") from None
    seed = checkpoint.get("seed")
    return ResumePlan(folder=folder, values=values, seed=seed if isinstance(seed, int) else lesson.seed,
                      checkpoint=checkpoint, config=config)


def _values_of(lesson: Lesson, params: Any, where: str) -> Values:
    """The run's values from its checkpoint's params, each read back through its param; ResumeError if one does not read."""
    if not isinstance(params, dict):
        raise ResumeError(f"{FLAG}: {where}: its checkpoint does not say the run's values")
    values = lesson.defaults()
    for param in lesson.params:
        if param.name not in params:
            continue
        try:
            values[param.name] = param.parse(param.format(params[param.name]))
        except (ParamError, TypeError, ValueError, AttributeError) as error:
            raise ResumeError(f"{FLAG}: {where}: its {param.name} no longer reads ({error})") from None
    return values

"""Messages that the training and loading threads post to the workbench, named as facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from labapp.traces import RunTrace


@dataclass
class RunStarted(Message):
    """A run has its device and is training."""

    trace: RunTrace


@dataclass
class RunEnded(Message):
    """A run finished, stopped, diverged or failed."""

    trace: RunTrace


@dataclass
class StepShown(Message):
    """A run in step mode made its update, and waits for the next key."""

    trace: RunTrace


@dataclass
class TorchLoaded(Message):
    """torch is imported; `devices` lists (device, description) found on this machine."""

    devices: list[tuple[str, str]]
    error: str = ""


@dataclass
class Predicted(Message):
    """A lesson's TryIt answered `text` with `value` (or failed: `error`)."""

    text: str
    value: Any = None
    error: str = ""

"""Run records on disk: one directory per run, written so that a crash leaves valid files.

    <root>/<lesson>/<YYYYmmdd-HHMMSS>-<id>/
        config.json     resolved params, seed, device used, versions (written at the start)
        metrics.jsonl   one JSON object per record, appended and flushed as it comes
        run.log         what happened, in words
        summary.json    how the run ended (written atomically at the end; absent if killed)
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from labapp.lesson import Metric, Record
from labapp.runner import RunInfo, Summary

INTERRUPTED, RUNNING, UNREADABLE = "interrupted", "running", "unreadable"


class RecordsError(Exception):
    """Run records cannot be written where asked; str() is the user's message, naming the folder."""


def default_root() -> Path:
    """Where runs go unless told: $LABAPP_RUNS_DIR, else ./runs."""
    return Path(os.environ.get("LABAPP_RUNS_DIR") or "runs")


def plain(value: Any) -> Any:
    """`value` as strict JSON data: non-finite floats become None, numpy/torch scalars and arrays lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return plain(value.tolist())
    return str(value)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` to `path` through a temporary file and a rename: never a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(plain(data), f, ensure_ascii=False, indent=2, allow_nan=False)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def record_to_json(record: Record, elapsed: float) -> dict[str, Any]:
    """One metrics.jsonl line for `record`."""
    if isinstance(record, Metric):
        line = {"kind": "metric", "epoch": record.epoch, "step": record.step, "split": record.split,
                "t": round(elapsed, 4)}
        line.update(record.values)
        return line
    return {"kind": "view", "view": record.view, "t": round(elapsed, 4), "value": record.value}


class RunRecorder:
    """A sink that keeps a run's records in its own directory under `root`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.path: Path | None = None
        self._metrics: TextIO | None = None
        self._log: TextIO | None = None

    def check(self, lesson_id: str | None = None) -> None:
        """Make sure run folders (of `lesson_id`) can be written under `root`, made if need be; RecordsError if not."""
        folder = self.root / lesson_id if lesson_id else self.root
        try:
            for path in (self.root, folder):
                if path.exists() and not path.is_dir():
                    raise RecordsError(f"cannot keep run records in {self.root}: {path} is a file, not a folder")
            folder.mkdir(parents=True, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=folder, prefix=".labapp-probe-")
            os.close(handle)
            os.unlink(probe)
        except OSError as error:
            raise RecordsError(f"cannot keep run records in {self.root}: {error.strerror or error}") from None

    def start(self, info: RunInfo) -> None:
        """Create the run directory and write config.json."""
        stamp = info.started.strftime("%Y%m%d-%H%M%S")
        self.path = self.root / info.lesson.id / f"{stamp}-{info.run_id}"
        self.path.mkdir(parents=True, exist_ok=False)
        write_json_atomic(self.path / "config.json", {
            "lesson": info.lesson.id,
            "run_id": info.run_id,
            "started": info.started.isoformat(timespec="seconds"),
            "params": dict(info.values),
            "seed": info.seed,
            "device": info.device,
            "device_name": info.device_name,
            "threads": info.threads,
            "threads_why": info.threads_why,
            "total": info.total,
            "unit": info.lesson.unit,
            "torch": info.torch_version,
            "python": platform.python_version(),
            "argv": sys.argv,
            "host": platform.node(),
            "pid": os.getpid(),
        })
        self._metrics = open(self.path / "metrics.jsonl", "a", encoding="utf-8")
        self._log = open(self.path / "run.log", "a", encoding="utf-8")
        self.log(f"run {info.run_id} of {info.lesson.id} on {info.device} ({info.device_name}), "
                 f"seed {info.seed}, threads {info.threads}")
        self.log("params: " + ", ".join(f"{k}={v}" for k, v in info.values.items()))

    def record(self, record: Record, elapsed: float) -> None:
        """Append `record` to metrics.jsonl and flush, so a killed run keeps it."""
        assert self._metrics is not None
        self._metrics.write(json.dumps(plain(record_to_json(record, elapsed)), ensure_ascii=False,
                                       allow_nan=False) + "\n")
        self._metrics.flush()

    def log(self, message: str) -> None:
        """A timestamped line in run.log."""
        if self._log is not None:
            self._log.write(f"{datetime.now().strftime('%H:%M:%S')} {message}\n")
            self._log.flush()

    def finish(self, summary: Summary) -> None:
        """Write summary.json and close the files (nothing to do if the run folder could not be made)."""
        if self._metrics is None:
            return
        assert self.path is not None
        self.log(f"{summary.status}: {summary.message}")
        if summary.traceback:
            self.log(summary.traceback.rstrip())
        write_json_atomic(self.path / "summary.json", {
            **asdict(summary),
            "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
        })
        for f in (self._metrics, self._log):
            if f is not None:
                f.close()


@dataclass
class PastRun:
    """A run read back from disk, whole or not."""

    path: Path
    lesson: str
    started: str
    status: str
    final: dict[str, dict[str, float]]
    epochs_done: int
    message: str


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of metrics.jsonl that parse as JSON objects; a torn last line (a killed run) is skipped."""
    rows = []
    try:
        with open(path / "metrics.jsonl", encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict):
                    rows.append(row)
    except OSError:
        pass
    return rows


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _finals(value: Any) -> dict[str, dict[str, Any]]:
    """split -> {name: value}, keeping only what has that shape."""
    if not isinstance(value, dict):
        return {}
    return {str(split): values for split, values in value.items() if isinstance(values, dict)}


def _started_from_name(path: Path) -> str:
    """'2024-05-01T12:30:00' from a run folder named '20240501-123000-<id>', else ''."""
    try:
        return datetime.strptime(path.name[:15], "%Y%m%d-%H%M%S").isoformat()
    except ValueError:
        return ""


def read_run(path: Path) -> PastRun | None:
    """The run in `path`, or None if it is not a run directory. A run without summary is interrupted;
    one whose config.json does not read is listed as unreadable (with its summary's status, if any)."""
    config = _read_json(path / "config.json")
    if config is None and not any((path / name).exists() for name in ("config.json", "metrics.jsonl", "summary.json")):
        return None
    summary = _read_json(path / "summary.json")
    lesson = _text((config or {}).get("lesson")) or path.parent.name
    started = _text((config or {}).get("started")) or _started_from_name(path)
    if summary is not None:
        message = _text(summary.get("message"))
        if config is None:
            message = "config.json is missing or unreadable; " + message
        return PastRun(path=path, lesson=lesson, started=started, status=_text(summary.get("status")) or "?",
                       final=_finals(summary.get("final")), epochs_done=_whole(summary.get("epochs_done")),
                       message=message)
    final: dict[str, dict[str, Any]] = {}
    epochs = 0
    for row in read_metrics(path):
        if row.get("kind") == "metric":
            epochs = max(epochs, _whole(row.get("epoch")))
            values = {k: v for k, v in row.items() if k not in ("kind", "epoch", "step", "split", "t")}
            final.setdefault(_text(row.get("split")) or "train", {}).update(values)
    if config is None:
        return PastRun(path=path, lesson=lesson, started=started, status=UNREADABLE, final=final, epochs_done=epochs,
                       message="config.json is missing or unreadable, and there is no summary")
    unit = _text(config.get("unit")) or "epoch"
    if _still_running(config):
        status, message = RUNNING, f"running: {unit} {epochs} done"
    else:
        status, message = INTERRUPTED, f"no summary: the process ended during {unit} {epochs + 1}"
    return PastRun(path=path, lesson=lesson, started=started, status=status, final=final, epochs_done=epochs,
                   message=message)


def _still_running(config: dict[str, Any]) -> bool:
    """Whether the process that wrote `config` is alive on this host."""
    pid = config.get("pid")
    if config.get("host") != platform.node() or _whole(pid) <= 0:  # 0 and -1 would ask about many processes
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # alive, owned by someone else
        return True
    return True


def list_runs(root: Path, lesson: str | None = None) -> list[PastRun]:
    """Every run under `root` (of one lesson if given), oldest first; folders that cannot be read are skipped."""
    runs = []
    for lesson_dir in _folders(root):
        if lesson and lesson_dir.name != lesson:
            continue
        for run_dir in _folders(lesson_dir):
            run = read_run(run_dir)
            if run is not None:
                runs.append(run)
    return sorted(runs, key=lambda run: (run.started, run.path.name))


def _folders(path: Path) -> list[Path]:
    """The folders in `path`, sorted; none if it is not a readable folder."""
    try:
        return sorted(child for child in path.iterdir() if child.is_dir())
    except OSError:
        return []

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
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from labapp.lesson import Metric, Record
from labapp.runner import RunInfo, Summary

INTERRUPTED, RUNNING = "interrupted", "running"


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
        """Write summary.json and close the files."""
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
    """The records of metrics.jsonl that parse; a torn last line (a killed run) is skipped."""
    rows = []
    try:
        with open(path / "metrics.jsonl", encoding="utf-8") as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
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


def read_run(path: Path) -> PastRun | None:
    """The run in `path`, or None if it is not a run directory. A run without summary is interrupted."""
    config = _read_json(path / "config.json")
    if config is None:
        return None
    summary = _read_json(path / "summary.json")
    if summary is not None:
        return PastRun(path=path, lesson=config.get("lesson", path.parent.name),
                       started=config.get("started", ""), status=summary.get("status", "?"),
                       final=summary.get("final") or {}, epochs_done=summary.get("epochs_done", 0),
                       message=summary.get("message", ""))
    final: dict[str, dict[str, float]] = {}
    epochs = 0
    for row in read_metrics(path):
        if row.get("kind") == "metric":
            epochs = max(epochs, row.get("epoch", 0))
            values = {k: v for k, v in row.items() if k not in ("kind", "epoch", "step", "split", "t")}
            final.setdefault(row.get("split", "train"), {}).update(values)
    unit = config.get("unit", "epoch")
    if _still_running(config):
        status, message = RUNNING, f"running: {unit} {epochs} done"
    else:
        status, message = INTERRUPTED, f"no summary: the process ended during {unit} {epochs + 1}"
    return PastRun(path=path, lesson=config.get("lesson", path.parent.name), started=config.get("started", ""),
                   status=status, final=final, epochs_done=epochs, message=message)


def _still_running(config: dict[str, Any]) -> bool:
    """Whether the process that wrote `config` is alive on this host."""
    pid = config.get("pid")
    if config.get("host") != platform.node() or not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, owned by someone else
        return True
    return True


def list_runs(root: Path, lesson: str | None = None) -> list[PastRun]:
    """Every run under `root` (of one lesson if given), oldest first."""
    if not root.is_dir():
        return []
    runs = []
    for lesson_dir in sorted(root.iterdir()):
        if not lesson_dir.is_dir() or (lesson and lesson_dir.name != lesson):
            continue
        for run_dir in lesson_dir.iterdir():
            run = read_run(run_dir) if run_dir.is_dir() else None
            if run is not None:
                runs.append(run)
    return sorted(runs, key=lambda run: (run.started, run.path.name))

"""Run records on disk: one directory per run, written so that a crash leaves valid files.

    <root>/<lesson>/<YYYYmmdd-HHMMSS>-<id>/
        config.json     resolved params, seed, device used, versions (written at the start)
        metrics.jsonl   one JSON object per record, appended and flushed as it comes
        run.log         what happened, in words
        summary.json    how the run ended (written atomically at the end; absent if killed)
        checkpoint-last.pt, checkpoint-best.pt   the model at the end of an epoch (labapp.checkpoints)

A resumed run (`labapp run LESSON --resume FOLDER`) continues in the same folder: config.json says
so (`resumed`), the old summary.json goes, and metrics.jsonl keeps the records up to the checkpoint's
epoch; any after it (an epoch cut short) move to metrics.superseded.jsonl, never lost.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import platform
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, TextIO

from labapp.lesson import Metric, Record, Step
from labapp.progress import RunStatus, last_values, metric_of_row
from labapp.runner import RunInfo, Summary

INTERRUPTED, RUNNING, UNREADABLE = RunStatus.INTERRUPTED, RunStatus.RUNNING, RunStatus.UNREADABLE
ERRORS = "backslashreplace"  # a str holding bytes that were not UTF-8 (a Latin-1 file name) is written as
                             # JSON's \udcxx escape, which reads back as the same str: recorded, never refused
PROBE_BYTES = 64 * 1024  # written (and synced) before a run: an empty file fits on a full disk, this does not
RESERVE_BYTES = 256 * 1024  # held for summary.json from the start, given back just before it is written
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


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


@contextlib.contextmanager
def replacing(path: Path, mode: str = "wb", **open_args: Any) -> Iterator[IO[Any]]:
    """A file to write `path` through: `<path>.tmp`, synced and renamed onto `path` when the block ends,
    removed if it fails. `path` is never half-written; a kill before the rename leaves the old file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, mode, **open_args) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # a half-written .tmp is worth nothing; the folder still lists without it
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` to `path` through a temporary file and a rename: never a half-written file."""
    with replacing(path, "w", encoding="utf-8", errors=ERRORS) as f:
        json.dump(plain(data), f, ensure_ascii=False, indent=2, allow_nan=False)
        f.write("\n")


def record_to_json(record: Record, elapsed: float) -> dict[str, Any]:
    """One metrics.jsonl line for `record`."""
    if isinstance(record, Metric):
        line = {"kind": "metric", "epoch": record.epoch, "step": record.step, "split": record.split,
                "t": round(elapsed, 4)}
        line.update(record.values)
        return line
    if isinstance(record, Step):  # an update shown in step mode: kept whole, for the record of a stepped run
        return {"kind": "step", "t": round(elapsed, 4), **asdict(record)}
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
            try:
                block = memoryview(bytes(PROBE_BYTES))  # room for what a run writes first: config, log, reserve
                while block:
                    block = block[os.write(handle, block):]  # a short write, then ENOSPC, on a disk nearly full
                os.fsync(handle)
            finally:
                os.close(handle)
                os.unlink(probe)
        except OSError as error:
            if error.errno in DISK_FULL:
                raise RecordsError(f"cannot keep run records in {self.root}: the disk is full "
                                   f"({error.strerror})") from None
            raise RecordsError(f"cannot keep run records in {self.root}: {error.strerror or error}") from None

    def start(self, info: RunInfo) -> None:
        """Create the run directory and write config.json (a resumed run: reopen its directory)."""
        if info.resume is not None:
            self._reopen(info)
            return
        stamp = info.started.strftime("%Y%m%d-%H%M%S")
        self.path = self.root / info.lesson.id / f"{stamp}-{info.run_id}"
        self.path.mkdir(parents=True, exist_ok=False)
        self._reserve()
        write_json_atomic(self.path / "config.json", {
            "lesson": info.lesson.id,
            "run_id": info.run_id,
            "started": info.started.isoformat(timespec="seconds"),
            **self._now(info),
        })
        self._open(info)

    @staticmethod
    def _now(info: RunInfo) -> dict[str, Any]:
        """What config.json says of the process training now: params, device, versions, pid."""
        return {
            "params": dict(info.values),
            "seed": info.seed,
            "device": info.device,
            "device_name": info.device_name,
            "threads": info.threads,
            "threads_why": info.threads_why,
            "total": info.total,
            "unit": info.lesson.unit,
            "checkpoints": info.checkpoints,
            "torch": info.torch_version,
            "python": platform.python_version(),
            "argv": sys.argv,
            "host": platform.node(),
            "pid": os.getpid(),
            **process_identity(os.getpid()),
        }

    def _open(self, info: RunInfo) -> None:
        assert self.path is not None
        self._metrics = open(self.path / "metrics.jsonl", "a", encoding="utf-8", errors=ERRORS)
        self._log = open(self.path / "run.log", "a", encoding="utf-8", errors=ERRORS)
        self.log(f"run {info.run_id} of {info.lesson.id} on {info.device} ({info.device_name}), "
                 f"seed {info.seed}, threads {info.threads}")
        self.log("params: " + ", ".join(f"{k}={v}" for k, v in info.values.items()))

    def _reopen(self, info: RunInfo) -> None:
        """Continue a stopped run's records: config.json says this process trains it now, its old summary goes,
        and metrics.jsonl keeps what came up to the checkpoint (the rest is set aside, not lost).

        In that order, so that a kill at any moment leaves a folder that lists truthfully: still stopped
        (nothing trained yet), or running, then interrupted.
        """
        resume = info.resume
        self.path = Path(resume.folder)
        config = dict(resume.config)
        resumes = config.get("resumed") if isinstance(config.get("resumed"), list) else []
        resumes.append({"at": datetime.now().astimezone().isoformat(timespec="seconds"), "from_epoch": resume.epoch,
                        "total": info.total, "argv": sys.argv})
        write_json_atomic(self.path / "config.json", {**config, **self._now(info), "resumed": resumes})
        for name in ("summary.json", "summary.json.tmp"):
            try:
                os.unlink(self.path / name)
            except FileNotFoundError:
                pass
        aside = cut_metrics(self.path, resume.epoch)
        self._reserve()
        self._open(info)
        self.log(f"resumed from the checkpoint of {info.lesson.unit} {resume.epoch}, to {info.lesson.unit} {info.total}"
                 + (f"; {aside} record(s) after it set aside in {SUPERSEDED}" if aside else ""))

    def record(self, record: Record, elapsed: float) -> None:
        """Append `record` to metrics.jsonl and flush, so a killed run keeps it (OSError on a full disk)."""
        assert self._metrics is not None
        self._metrics.write(json.dumps(plain(record_to_json(record, elapsed)), ensure_ascii=False,
                                       allow_nan=False) + "\n")
        self._metrics.flush()

    def log(self, message: str) -> None:
        """A timestamped line in run.log (none once the log cannot be written: a full disk never fails a run)."""
        if self._log is not None:
            try:
                self._log.write(f"{datetime.now().strftime('%H:%M:%S')} {message}\n")
                self._log.flush()
            except (OSError, ValueError):
                self._close(self._log)
                self._log = None

    def finish(self, summary: Summary) -> None:
        """Write summary.json and close the files (nothing to do if the run folder could not be made).

        The space reserved at the start is given back first, so the summary fits on a disk that filled up
        during the run; if even that fails for lack of space, a summary without the lesson's results is tried.
        """
        if self.path is None or not self.path.is_dir():
            return
        said = summary.message if summary.message.startswith(summary.status) else f"{summary.status}: {summary.message}"
        self.log(said)
        if summary.traceback:
            self.log(summary.traceback.rstrip())
        for f in (self._metrics, self._log):
            self._close(f)
        self._metrics = self._log = None
        self._release()
        data = {**asdict(summary), "finished": datetime.now().astimezone().isoformat(timespec="seconds")}
        try:
            write_json_atomic(self.path / "summary.json", data)
        except OSError as error:
            if error.errno not in DISK_FULL:
                raise
            data.update(results={}, traceback=None, message=summary.message + " (the disk is full: its results "
                                                                              "and traceback were not kept)")
            write_json_atomic(self.path / "summary.json", data)

    def _reserve(self) -> None:
        """Hold RESERVE_BYTES of the disk for summary.json (where the file system can; else nothing)."""
        assert self.path is not None
        try:
            fd = os.open(self.path / ".summary-reserve", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)
        except (OSError, AttributeError):  # no such call here, or no room: the summary takes its chances
            pass
        finally:
            os.close(fd)

    def _release(self) -> None:
        assert self.path is not None
        try:
            os.unlink(self.path / ".summary-reserve")
        except OSError:
            pass

    @staticmethod
    def _close(f: TextIO | None) -> None:
        if f is not None:
            try:
                f.close()
            except (OSError, ValueError):  # what a full disk kept in the buffer is lost; the file is closed
                pass


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
    try:
        with open(path / "metrics.jsonl", encoding="utf-8", errors="replace") as f:
            return json_objects(f)
    except OSError:
        return []


def json_objects(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The lines that parse as JSON objects; any other line (torn, garbled) is skipped."""
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


CONFIG_MAX = 1 << 20  # bytes read of config.json at most; a bigger one is unreadable
SUMMARY_MAX = 16 << 20  # of summary.json (it holds the lesson's results)
METRICS_TAIL = 256 << 10  # of the end of metrics.jsonl, where an interrupted run's last values are
RUN_NAME = re.compile(r"\d{8}-\d{6}-[0-9a-f]+")  # <YYYYmmdd-HHMMSS>-<id>: a folder RunRecorder made


class Unreadable(Exception):
    """A run file that is there but cannot be read as one; str() says why."""


def read_regular(path: Path, limit: int, tail: bool = False) -> bytes | None:
    """The bytes of the regular file `path` (None if there is none); Unreadable if it is something else or too big.

    A FIFO, a device or a socket is never opened for reading, so nothing here can hang or read without
    end. With `tail`, a bigger file gives its last `limit` bytes instead.
    """
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise Unreadable(f"{path.name}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"{path.name} is not a regular file")
    if info.st_size > limit and not tail:
        raise Unreadable(f"{path.name} has {info.st_size:,} bytes, more than a run writes")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise Unreadable(f"{path.name}: {error.strerror or error}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped between the two looks
            raise Unreadable(f"{path.name} is not a regular file")
        if opened.st_size > limit:
            os.lseek(fd, opened.st_size - limit, os.SEEK_SET)
        chunks, left = [], limit
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise Unreadable(f"{path.name}: {error.strerror or error}") from None
    finally:
        os.close(fd)


def read_json_object(path: Path, limit: int) -> dict[str, Any] | None:
    """The JSON object in `path`, None if the file is not there; Unreadable if it is not one (or too deep, too big)."""
    data = read_regular(path, limit)
    if data is None:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as error:  # ValueError: not JSON, not UTF-8, an int of 5,000 digits
        raise Unreadable(f"{path.name} is not JSON ({type(error).__name__})") from None
    if not isinstance(value, dict):
        raise Unreadable(f"{path.name} holds {type(value).__name__}, not a JSON object")
    return value


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
    """The run in `path`, or None if it is not a run folder. A run without summary is interrupted (or running);
    one whose files do not read is listed as unreadable, with what could be read. Never raises."""
    try:
        return _read_run(path)
    except Exception as error:  # noqa: BLE001 - one folder never keeps the others from being listed
        return PastRun(path=path, lesson=path.parent.name, started=_started_from_name(path), status=UNREADABLE,
                       final={}, epochs_done=0, message=f"cannot be read: {type(error).__name__}: {error}"[:200])


RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "run.log", "config.json.tmp", "summary.json.tmp")


def _read_run(path: Path) -> PastRun | None:
    problems: list[str] = []  # why a file that is there does not read

    def json_file(name: str, limit: int) -> dict[str, Any] | None:
        try:
            found = read_json_object(path / name, limit)
            if found is None:  # killed between writing the .tmp and renaming it: a complete .tmp is the file
                found = read_json_object(path / (name + ".tmp"), limit)
            return found
        except Unreadable as error:
            problems.append(str(error))
            return None

    config = json_file("config.json", CONFIG_MAX)
    if config is None and not problems and not RUN_NAME.fullmatch(path.name) and \
            not any(os.path.lexists(path / name) for name in RUN_FILES):
        return None
    said = len(problems)
    summary = json_file("summary.json", SUMMARY_MAX)
    summary_unreadable = len(problems) > said  # there, but not a summary: never taken for a missing one
    lesson = _text((config or {}).get("lesson")) or path.parent.name
    started = _text((config or {}).get("started")) or _started_from_name(path)
    if summary is not None:
        message = _text(summary.get("message"))
        if config is None:
            message = "config.json is missing or unreadable; " + message
        return PastRun(path=path, lesson=lesson, started=started, status=_text(summary.get("status")) or "?",
                       final=_finals(summary.get("final")), epochs_done=_whole(summary.get("epochs_done")),
                       message=message)
    try:
        epochs, final = tail_values(path / "metrics.jsonl")
    except Unreadable as error:
        epochs, final = 0, {}
        problems.append(str(error))
    if config is None or summary_unreadable:
        why = "; ".join(problems) or "config.json is missing, and there is no summary"
        return PastRun(path=path, lesson=lesson, started=started, status=UNREADABLE, final=final, epochs_done=epochs,
                       message=why)
    unit = _text(config.get("unit")) or "epoch"
    if _still_running(config):
        status, message = RUNNING, f"running: {unit} {epochs} done"
    else:
        status, message = INTERRUPTED, f"no summary: the process ended during {unit} {epochs + 1}"
    if problems:
        message += " (" + "; ".join(problems) + ")"
    return PastRun(path=path, lesson=lesson, started=started, status=status, final=final, epochs_done=epochs,
                   message=message)


def tail_values(path: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """The last epoch that ended and the last values per split in metrics.jsonl, from its end alone (bounded memory).

    A torn line (a killed run) and lines that are not JSON objects are skipped; Unreadable if the file is not a
    regular file. The values follow the one rule of `progress.last_values`.
    """
    data = read_regular(path, METRICS_TAIL, tail=True)
    if not data:
        return 0, {}
    lines = data.decode("utf-8", errors="replace").split("\n")
    if len(data) == METRICS_TAIL:
        lines = lines[1:]  # the first may be the end of a longer line
    metrics = []
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            continue
        metric = metric_of_row(row) if isinstance(row, dict) else None
        if metric is not None:
            metrics.append(metric)
    # the last epoch that ended: per-step records of an epoch cut short (a killed run's) do not count
    ended = (max(0, metric.epoch) for metric in metrics if metric.step is None)
    return max(ended, default=0), last_values(metrics)


SUPERSEDED = "metrics.superseded.jsonl"


def _split_metrics(path: Path, epoch: int) -> tuple[list[bytes], list[bytes]]:
    """metrics.jsonl's lines up to the end of `epoch`, and those after it: from the first metric of a later epoch
    on, and a torn last line (a killed run's), which a line appended after it would otherwise join."""
    try:
        with open(path / "metrics.jsonl", "rb") as f:
            lines = f.readlines()
    except FileNotFoundError:
        return [], []
    for index, line in enumerate(lines):
        if not line.endswith(b"\n"):
            return lines[:index], lines[index:]
        try:
            row = json.loads(line)
        except ValueError:
            continue
        metric = metric_of_row(row) if isinstance(row, dict) else None
        if metric is not None and metric.epoch > epoch:
            return lines[:index], lines[index:]
    return lines, []


def kept_rows(path: Path, epoch: int) -> list[dict[str, Any]]:
    """The metrics.jsonl records that a run resumed from the checkpoint of `epoch` keeps (read only)."""
    kept, _ = _split_metrics(path, epoch)
    return json_objects(kept)


def cut_metrics(path: Path, epoch: int) -> int:
    """Keep in metrics.jsonl only the records up to the end of `epoch`; the others are appended to
    metrics.superseded.jsonl first (so a kill loses nothing). Returns how many lines were set aside."""
    kept, aside = _split_metrics(path, epoch)
    if not aside:
        return 0
    with open(path / SUPERSEDED, "ab") as f:
        f.writelines(line if line.endswith(b"\n") else line + b"\n" for line in aside)
        f.flush()
        os.fsync(f.fileno())
    with replacing(path / "metrics.jsonl") as f:
        f.writelines(kept)
    return len(aside)


def process_identity(pid: int) -> dict[str, Any]:
    """What tells process `pid` from a later one with the same pid: its start (clock ticks after boot) and the boot.

    Empty where /proc does not say (not Linux).
    """
    started = _process_start(pid)
    if started is None:
        return {}
    identity: dict[str, Any] = {"pid_started": started}
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            identity["boot_id"] = f.read().strip()
    except OSError:
        pass
    return identity


def _process_start(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot; None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read(4096)
        return int(text.rpartition(b")")[2].split()[19])  # after the command name, which may hold anything
    except (OSError, ValueError, IndexError):
        return None


def _still_running(config: dict[str, Any]) -> bool:
    """Whether the process that wrote `config` is alive on this host: the same pid, started at the same time."""
    pid = config.get("pid")
    if config.get("host") != platform.node() or _whole(pid) <= 0:  # 0 and -1 would ask about many processes
        return False
    recorded = config.get("pid_started")
    if isinstance(recorded, int) and os.path.exists("/proc/self/stat"):
        boot = config.get("boot_id")
        if isinstance(boot, str) and boot != process_identity(os.getpid()).get("boot_id", boot):
            return False  # recorded before a reboot
        return _process_start(pid) == recorded  # another process with a reused pid started later
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # alive, owned by someone else
        return True
    return True


def list_runs(root: Path, lesson: str | None = None) -> list[PastRun]:
    """Every run under `root` (of one lesson if given), oldest first by its start in UTC; damaged ones as unreadable."""
    runs = []
    for lesson_dir in _folders(root):
        if lesson and lesson_dir.name != lesson:
            continue
        for run_dir in _folders(lesson_dir):
            run = read_run(run_dir)
            if run is not None:
                runs.append(run)
    return sorted(runs, key=lambda run: (_utc(run.started), _written(run.path / "config.json"), run.path.name))


def _written(path: Path) -> int:
    """When `path` was written (ns), 0 if unknown: orders runs started within the same second (a sweep's)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _utc(started: str) -> float:
    """A start time as seconds since the epoch (a time without its zone is taken as local); 0 if it does not read."""
    try:
        moment = datetime.fromisoformat(started)
        return (moment if moment.tzinfo else moment.astimezone()).astimezone(timezone.utc).timestamp()
    except (ValueError, OverflowError, OSError):
        return 0.0


def _folders(path: Path) -> list[Path]:
    """The folders in `path`, sorted; none if it is not a readable folder."""
    try:
        with os.scandir(path) as entries:
            return [Path(name) for name in sorted(entry.path for entry in entries if entry.is_dir())]
    except OSError:
        return []

"""Reliability, round two (issue 13): each class of failure tried as a class, not as one example.

Signals twice in quick succession; outputs that fail (a closed pipe, a closed descriptor, /dev/full);
a full disk (a small tmpfs where this process may mount one, and a fake one always); bytes that are
not UTF-8 in arguments; run folders damaged in every way a file can be (kinds, sizes, JSON shapes);
reused pids; folders killed as they were made; trickling downloads from a server on 127.0.0.1;
control characters from files and arguments; data files of the wrong size or kind; memory that must
not grow with the records; out of memory on the cpu; and the smaller ones. `python -m tests.stress`
runs the same checks at volume.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import http.server
import io
import json
import os
import platform
import pty
import select
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labapp import cli, data, records, report
from lessons._data import MNIST
from labapp.lesson import IntParam, Lesson, Metric, Text, TextParam, View, ViewValue
from labapp.output import GuardedStream, safe
from labapp.records import RunRecorder, list_runs, read_run
from labapp.runner import FAILED, FINISHED, STOPPED, Run, run_lesson
from tests.conftest import ROOT, labapp

PY = sys.executable
CONTROL = "".join(map(chr, [*range(0, 9), *range(11, 32), 127, *range(0x80, 0xA0)]))


def long_run(runs_dir: Path, *flags: str, **popen) -> subprocess.Popen:
    """`labapp run gradient-descent` for 100,000 stochastic epochs, as a child process."""
    env = {**os.environ, "LABAPP_RUNS_DIR": str(runs_dir), **popen.pop("env", {})}
    options = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    options.update(popen)
    return subprocess.Popen([PY, "-X", "faulthandler", "-m", "labapp", "run", "gradient-descent", "--epochs", "100000", "--lr", "0.001",
                             "--mode", "stochastic", *flags], env=env, cwd=ROOT, **options)


def the_run(runs_dir: Path) -> Path:
    [path] = [p for p in runs_dir.glob("*/*") if p.is_dir()]
    return path


def summary_of(path: Path) -> dict:
    return json.loads((path / "summary.json").read_text())


def listed(runs_dir: Path) -> dict[str, str]:
    """folder name -> status, as `labapp runs` prints them."""
    result = labapp("runs", "--out", str(runs_dir))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return {line.split()[-1].rsplit("/", 1)[-1]: line.split()[2] for line in result.stdout.splitlines()[1:]}


# -- 1. two Ctrl-C in quick succession ------------------------------------------------------------------

@pytest.mark.parametrize("gap", [0.0, 0.003, 0.02, 0.08])
def test_two_ctrl_c_at_any_gap_exit_130_with_no_traceback_and_a_stopped_summary(gap, runs_dir):
    process = long_run(runs_dir, text=True)
    process.stdout.readline()
    process.stdout.readline()
    process.send_signal(signal.SIGINT)
    time.sleep(gap)
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        out, err = process.communicate(timeout=20)
        raise AssertionError(err)
    assert process.returncode == 130 and "Traceback" not in err, err
    run = the_run(runs_dir)
    assert summary_of(run)["status"] == STOPPED and not (run / "summary.json.tmp").exists()
    assert listed(runs_dir)[run.name] == STOPPED


class _Once:
    def __init__(self, run: Run, where: str) -> None:
        self.run, self.where, self.raised = run, where, []

    def start(self, info):
        pass

    def record(self, record, elapsed):
        if self.where == "record" and record.epoch == 2:
            self._interrupt()

    def finish(self, summary):
        if self.where == "finish":
            self._interrupt()

    def _interrupt(self):
        try:
            self.run.interrupt()
        except KeyboardInterrupt:
            self.raised.append(self.where)
            raise


@pytest.mark.parametrize("where, raises", [("record", True), ("finish", False)])
def test_an_interrupt_raises_only_inside_training_never_during_the_summary(where, raises, counter, runs_dir):
    recorder = RunRecorder(runs_dir)
    run = Run(counter, counter.resolve({"epochs": "5"}), sinks=[recorder])
    once = _Once(run, where)
    run.sinks.append(once)
    summary = run.run()
    assert bool(once.raised) == raises
    assert summary.status == (STOPPED if raises else FINISHED)
    assert summary_of(recorder.path)["status"] == summary.status


# -- 2. outputs that fail --------------------------------------------------------------------------------

def test_a_closed_pipe_stops_the_run_truthfully_and_exits_141_quietly(runs_dir):
    process = long_run(runs_dir)
    process.stdout.readline()
    process.stdout.readline()
    process.stdout.close()  # `| head -2`
    err = process.stderr.read().decode()
    process.wait(60)
    assert process.returncode == 141 and err == "", err
    summary = summary_of(the_run(runs_dir))
    assert summary["status"] == STOPPED and summary["message"].endswith("the output pipe was closed")
    assert summary["epochs_done"] >= 1


@pytest.mark.parametrize("command", [["list"], ["show", "backprop"], ["runs"], ["data"], ["--help"]],
                         ids=lambda c: c[0])
def test_any_command_into_a_pipe_closed_before_it_writes_exits_141_quietly(command, runs_dir):
    process = subprocess.Popen([PY, "-m", "labapp", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=ROOT)
    process.stdout.close()  # the reader is gone before a byte is written
    err = process.stderr.read().decode()
    assert process.wait(60) == 141 and err == "", err


COMMANDS = [["run", "gradient-descent", "--epochs", "30"], ["list"], ["runs"], ["show", "backprop"], ["data"], []]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:1]) or "workbench")
@pytest.mark.parametrize("output", ["/dev/full", "closed"])
def test_a_full_or_closed_stdout_never_fails_a_run_and_says_one_line(command, output, runs_dir):
    redirect = "> /dev/full" if output == "/dev/full" else ">&-"
    shell = f"exec {PY} -m labapp {' '.join(command)} {redirect}"
    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env={**os.environ, "LABAPP_RUNS_DIR": str(runs_dir)})
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    if not command:  # the workbench
        assert result.returncode == 2 and "needs a terminal" in result.stderr
        return
    assert result.returncode == 1 and "could not write to stdout" in result.stderr
    if command[0] == "run":
        run = the_run(runs_dir)
        assert summary_of(run)["status"] == FINISHED and str(run) in result.stderr


def test_the_guarded_stream_remembers_the_first_error_and_calls_back_once_for_a_pipe():
    calls = []

    class Pipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    stream = GuardedStream(Pipe(), on_broken_pipe=lambda: calls.append(1))
    print("a", file=stream, flush=True)
    print("b", file=stream, flush=True)
    assert stream.broken_pipe and calls == [1] and not stream.isatty()
    assert GuardedStream(None).why() == "stdout is closed"


# -- 3. a full disk ----------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs, where this process may mount one (root in a container); else the test is skipped."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (the fake full disk below still runs)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder: Path, leave: int) -> None:
    """Fill the file system of `folder` until about `leave` bytes are free."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "ballast", "wb") as f:
        try:
            f.write(bytes(max(0, free - leave)))
        except OSError:
            pass


def test_a_full_disk_is_said_before_training_with_exit_2(small_disk):
    fill(small_disk, 16 * 1024)  # an empty file fits; a run's first writes do not
    result = labapp("run", "gradient-descent", "--epochs", "3", "--out", str(small_disk / "runs"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "the disk is full" in result.stderr
    assert "Traceback" not in result.stderr and not list((small_disk / "runs").glob("*/*"))


def test_a_disk_that_fills_during_a_run_fails_it_and_both_say_so(small_disk):
    runs = small_disk / "runs"
    fill(small_disk, 400 * 1024)  # room for the start, not for 100,000 epochs of records
    result = labapp("run", "gradient-descent", "--epochs", "100000", "--mode", "stochastic", "--lr", "0.001",
                    "--out", str(runs))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the disk is full" in result.stderr
    run = the_run(runs)
    assert summary_of(run)["status"] == FAILED and "disk is full" in summary_of(run)["message"]
    assert listed(runs)[run.name] == FAILED


class _FullAfter:
    """A metrics file that fails with ENOSPC after `n` writes (a disk that fills up), and so does everything after."""

    def __init__(self, real, n: int) -> None:
        self.real, self.n = real, n

    def write(self, text):
        self.n -= 1
        if self.n < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(text)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.parametrize("after", [0, 1, 5])
def test_a_fake_full_disk_mid_run_is_recorded_as_failed_and_listed_so(after, counter, runs_dir):
    class Recorder(RunRecorder):
        def start(self, info):
            super().start(info)
            self._metrics = _FullAfter(self._metrics, after)

    recorder = Recorder(runs_dir)
    summary = run_lesson(counter, counter.resolve({"epochs": "20"}), [recorder])
    assert summary.status == FAILED and summary.message.startswith("failed: the disk is full")
    assert summary_of(recorder.path)["status"] == FAILED
    [past] = list_runs(runs_dir)
    assert past.status == FAILED
    log = (recorder.path / "run.log").read_text()
    assert "failed: failed:" not in log and "failed: the disk is full" in log


# -- 4. bytes that are not UTF-8 in arguments ------------------------------------------------------------------

ECHO = Lesson(
    id="echo", number=96, title=Text("回声", "Echo"), explanation=Text("测试用。", "For tests."),
    params=(TextParam(name="text", default="", help=Text("文字", "text")),
            IntParam(name="epochs", default=2, min=1, max=100, help=Text("轮数", "epochs"))),
    views=(View("result", "values", Text("结果", "Result")), View("echo", "text", Text("回声", "Echo"))),
    train=lambda hp, run: iter([Metric(epoch=1, values={"loss": 0.5}), ViewValue("result", {"you said": hp.text}),
                                ViewValue("echo", hp.text)]),
    uses_torch=False,
)

arguments = st.binary(max_size=12).map(lambda raw: os.fsdecode(raw)) | st.text(max_size=8)


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(text=arguments, flag=st.sampled_from(["--text", "--epochs", "--seed", "--device", "--lang", "--threads"]))
def test_any_bytes_in_any_argument_are_recorded_or_refused_in_one_line(text, flag, monkeypatch, tmp_path_factory):
    monkeypatch.setattr(cli, "find_lesson", lambda lesson_id: ECHO)
    out_dir = tmp_path_factory.mktemp("bytes")
    code, out, err = run_in_process(["run", "echo", f"{flag}={text}", "--out", str(out_dir)])
    assert code in (0, 2), err
    assert "Traceback" not in err and not any(ch in out + err for ch in CONTROL.replace("\n", ""))
    if code == 2:
        assert err.count("\n") == 1
        return
    [run] = out_dir.glob("echo/*")
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    if flag == "--text":
        assert config["params"]["text"] == text.strip()  # the same str back, surrogates and all
    assert summary_of(run)["status"] == FINISHED


def test_a_latin1_folder_and_file_name_through_the_real_command(tmp_path):
    folder = os.fsencode(tmp_path) + b"/caf\xe9"
    result = subprocess.run([PY, "-m", "labapp", "run", "gradient-descent", "--epochs", "2", "--out", folder],
                            capture_output=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr
    assert b"run records: " in result.stdout
    [run] = [p for p in Path(os.fsdecode(folder)).glob("*/*")]
    assert summary_of(run)["status"] == FINISHED
    result = subprocess.run([PY, "-m", "labapp", "run", "rnn-classifier", "--load", b"/nowhere/\xe9.pt"],
                            capture_output=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2 and result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr
    assert result.stderr.startswith(b"load: ")


# -- 5, 7, 11. damaged run folders, folders killed as they were made, big ones ----------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = json.dumps({"status": "finished", "final": {"train": {"loss": int("9" * 400)}}, "epochs_done": 1})


def make(folder: Path, name: str, kind: str, lesson: str = "counter") -> None:
    """Put a file of `kind` at folder/name."""
    path = folder / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(folder / "nowhere")
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "sparse":
        with open(path, "wb") as f:
            f.truncate(20 << 30)  # 20 GB that take no room
    elif kind == "deep":
        path.write_text(DEEP)
    elif kind == "huge-int":
        path.write_text(HUGE_INT)
    elif kind == "list":
        path.write_text("[]")
    elif kind == "control":
        path.write_text(json.dumps({"lesson": f"\x1b]0;owned\x07{lesson}\x1b[2J", "status": "\x1b[31mfinished",
                                    "started": "2026-01-01T10:00:00\x9b", "message": "\x07",
                                    "final": {"train": {"\x1b[2Jloss": "\x1b]0;t\x07"}}, "unit": "epoch", "pid": 1}))
    elif kind == "latin1":
        path.write_bytes(b'{"lesson": "caf\xe9", "status": "finished"}')
    elif kind == "whole":
        path.write_text(json.dumps({"lesson": lesson, "started": "2026-01-01T10:00:00+00:00", "status": "finished",
                                    "unit": "epoch", "final": {"train": {"loss": 0.25}}, "epochs_done": 2}))


KINDS = ["absent", "fifo", "zero", "dangling", "loop", "folder", "sparse", "deep", "huge-int", "list", "control",
         "latin1", "whole"]
FILES = ["config.json", "summary.json", "metrics.jsonl", "config.json.tmp", "summary.json.tmp"]


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(kinds=st.fixed_dictionaries({name: st.sampled_from(KINDS) for name in FILES}))
def test_a_run_folder_damaged_in_any_way_is_listed_and_never_breaks_the_list(kinds, tmp_path_factory):
    root = tmp_path_factory.mktemp("damaged")
    folder = root / "counter" / "20260101-100000-abc123"
    folder.mkdir(parents=True)
    for name, kind in kinds.items():
        if kind != "absent":
            make(folder, name, kind)
    run = read_run(folder)
    assert run is not None
    code, out, err = run_in_process(["runs", "--out", str(root)])
    assert code == 0 and err == "" and len(out.splitlines()) == 2
    assert not any(ch in out for ch in CONTROL.replace("\n", ""))


def test_every_damaged_form_at_once_lists_every_folder(tmp_path):
    root = tmp_path / "runs"
    names = []
    for number, (name, kind) in enumerate((n, k) for n in FILES for k in KINDS if k != "absent"):
        folder = root / "counter" / f"20260101-1{number:05d}-{number:06x}"
        folder.mkdir(parents=True)
        make(folder, name, kind)
        names.append(folder.name)
    (root / "counter" / "20260101-120000-0a0b0c").mkdir()  # killed between mkdir and its first file
    names.append("20260101-120000-0a0b0c")
    result = labapp("runs", "--out", str(root), timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()[1:]
    assert sorted(line.rsplit("/", 1)[-1] for line in lines) == sorted(names)


@pytest.mark.parametrize("files, status", [
    ({"config.json.tmp": "torn {"}, "unreadable"),
    ({"config.json.tmp": "complete"}, "interrupted"),
    ({"config.json": "complete", "summary.json.tmp": json.dumps({"status": "stopped", "message": "stopped"})},
     "stopped"),
    ({"config.json": "complete", "summary.json": "[]"}, "unreadable"),
])
def test_a_folder_killed_at_the_wrong_moment_is_still_listed(files, status, runs_dir):
    folder = runs_dir / "counter" / "20260101-100000-abcdef"
    folder.mkdir(parents=True)
    whole = json.dumps({"lesson": "counter", "started": "2026-01-01T10:00:00", "unit": "epoch", "pid": 0})
    for name, content in files.items():
        (folder / name).write_text(whole if content == "complete" else content)
    [run] = list_runs(runs_dir)
    assert run.status == status and run.path == folder


def test_the_last_values_of_a_big_metrics_file_come_from_its_end_in_bounded_memory(tmp_path):
    line = '{"kind": "metric", "epoch": %d, "step": %s, "split": "train", "t": 0.1, "loss": %s}\n'
    block = "".join(line % (epoch, step, 1 / epoch) for epoch in range(1, 2001) for step in ("1", "2", "null"))
    path = tmp_path / "metrics.jsonl"
    with open(path, "w") as f:
        for _ in range(60):  # about 30 MB
            f.write(block)
        f.write(line % (2001, "null", 0.125) + '{"kind": "met')
    tracemalloc.start()
    epochs, final = records.tail_values(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert epochs == 2001 and final == {"train": {"loss": 0.125}}
    assert peak < 8 * records.METRICS_TAIL


# -- 6. a pid that another process took ---------------------------------------------------------------------

def test_a_run_whose_pid_now_belongs_to_another_process_lists_as_interrupted(runs_dir):
    other = subprocess.Popen(["sleep", "30"])
    try:
        identity = records.process_identity(other.pid)
        if not identity:
            pytest.skip("no /proc here")
        for started, status in ((identity["pid_started"], "running"), (identity["pid_started"] - 1, "interrupted")):
            folder = runs_dir / "counter" / f"20260101-10000{status[0]}-abcdef"
            folder.mkdir(parents=True)
            (folder / "config.json").write_text(json.dumps({
                "lesson": "counter", "started": "2026-01-01T10:00:00", "unit": "epoch", "host": platform.node(),
                "pid": other.pid, "pid_started": started, "boot_id": identity.get("boot_id")}))
            assert read_run(folder).status == status
        recorder = RunRecorder(runs_dir)
        run_lesson(ECHO, ECHO.defaults(), [recorder])
        config = json.loads((recorder.path / "config.json").read_text())
        assert config["pid_started"] == records.process_identity(os.getpid())["pid_started"]
    finally:
        other.kill()
        other.wait()


# -- 8. slow networks -------------------------------------------------------------------------------------------

class Trickle(http.server.ThreadingHTTPServer):
    """Sends its `body` one byte every `pause` seconds, with the full Content-Length."""

    daemon_threads = True

    def __init__(self, body: bytes, pause: float) -> None:
        super().__init__(("127.0.0.1", 0), _TrickleHandler)
        self.body, self.pause = body, pause

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/file.csv.gz"


class _TrickleHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        try:
            for byte in self.server.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(self.server.pause)
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def trickle():
    body = gzip.compress(b"1,2,3\n" * 200, mtime=0)
    server = Trickle(body, 0.05)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def trickled(server: Trickle) -> data.Dataset:
    return data.Dataset("tiny", "tiny.csv.gz", hashlib.sha256(server.body).hexdigest(), len(server.body),
                        (server.url(),), "for tests")


def test_a_trickling_server_is_given_up_on_at_the_deadline_with_progress_and_no_partial_file(trickle, tmp_path,
                                                                                                monkeypatch):
    monkeypatch.setattr(data, "DEADLINE_S", 1.0)
    monkeypatch.setattr(data, "PROGRESS_S", 0.3)
    heard = []
    store = data.DataStore(None, cache=tmp_path)
    started = time.monotonic()
    with pytest.raises(data.DataMissing, match="gave up after 1 s .* the connection is too slow"):
        store.download(trickled(trickle), say=heard.append)
    assert time.monotonic() - started < 3
    assert any(" bytes after " in line for line in heard), heard
    assert list(tmp_path.iterdir()) == []


def test_headers_that_trickle_are_given_up_on_at_the_deadline_too(tmp_path, monkeypatch):
    import socket

    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(1000)
            try:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Slow: " + b"a" * 1000:
                    connection.send(bytes([byte]))
                    time.sleep(0.05)
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setattr(data, "DEADLINE_S", 1.0)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/tiny.csv.gz"
    started = time.monotonic()
    with pytest.raises(data.DataMissing, match="gave up after"):
        data.DataStore(None, cache=tmp_path).download(data.Dataset("tiny", "tiny.csv.gz", "0" * 64, 10, (url,), "t"))
    assert time.monotonic() - started < 3 and list(tmp_path.iterdir()) == []
    listener.close()


DRIVER = """
import sys
import lessons
from labapp import cli, data
lessons.datasets = lambda: (data.Dataset("tiny", "tiny.csv.gz", "0" * 64, 10**6, (sys.argv[1],), "for tests"),)
data.cache_dir = lambda: __import__("pathlib").Path(sys.argv[2])
print("ready", flush=True)
sys.exit(cli.main(["data", "fetch", "tiny"]))
"""


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_download_leaves_no_partial_file_and_no_traceback(signum, code, trickle, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    process = subprocess.Popen([PY, "-c", DRIVER, trickle.url(), str(cache)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "LABAPP_DATA_DIR": ""})
    assert process.stdout.readline() == "ready\n"
    process.stdout.readline()  # "downloading tiny.csv.gz ..."
    time.sleep(0.3)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code and "Traceback" not in err, err
    assert list(cache.iterdir()) == []


def test_ctrl_c_while_torch_loads_exits_130_with_no_traceback(runs_dir):
    process = subprocess.Popen([PY, "-m", "labapp", "run", "linear-regression", "--epochs", "2"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + 60  # labapp's own imports come first; on a loaded machine they take a while
    while "libtorch" not in maps.read_text() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before torch loaded"
    process.send_signal(signal.SIGINT)  # torch is loading: its libraries are mapped, its import takes seconds more
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in err, err


# -- 9. control characters -------------------------------------------------------------------------------------

@given(text=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(CONTROL)), max_size=30)
       | st.binary(max_size=20).map(os.fsdecode))
def test_safe_lets_no_control_character_through_and_changes_nothing_printable(text):
    shown = safe(text)
    assert not any(ch in shown for ch in CONTROL)
    assert all(ch.isprintable() or ch.isspace() and ch not in "\n\r\t\v\f" for ch in shown)
    shown.encode("utf-8")  # no lone surrogate left either
    if text.isprintable():
        assert shown == text


def test_text_from_an_argument_reaches_the_report_made_safe(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "find_lesson", lambda lesson_id: ECHO)
    code, out, err = run_in_process(["run", "echo", "--text", "\x1b]0;owned\x07Smith\x1b[2J\x9b", "--out",
                                     str(tmp_path)])
    assert code == 0 and "Smith" in out
    assert not any(ch in out + err for ch in CONTROL.replace("\n", ""))


def test_report_views_of_any_text_hold_no_control_characters():
    from labapp.lesson import View

    hostile = "\x1b]0;title\x07Russian\x1b[2J"
    table = report.view_text(View("t", "table", Text("表", "Table")), {"columns": [hostile], "rows": [[hostile]]},
                             "en", 80, False)
    values = report.view_text(View("v", "values", Text("值", "Values")), {hostile: hostile}, "en", 80, False)
    text = report.view_text(View("x", "text", Text("文", "Text")), hostile, "en", 80, False)
    assert not any(ch in table + values + text for ch in CONTROL.replace("\n", ""))


# -- 10. data files of the wrong size or kind ---------------------------------------------------------------------

def test_a_20_gb_copy_is_corrupt_at_once_without_being_read(tmp_path):
    target = data.Dataset("tiny", "tiny.csv.gz", "0" * 64, 13_539, ("http://127.0.0.1:9/",), "for tests")
    with open(tmp_path / "tiny.csv.gz", "wb") as f:
        f.truncate(20 << 30)
    started = time.monotonic()
    why = data.problem(tmp_path / "tiny.csv.gz", target)
    assert time.monotonic() - started < 1 and "too big to be it" in why


def test_a_gzip_bomb_is_not_unpacked_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "UNPACKED_MAX", 1 << 20)
    bomb = gzip.compress(bytes(50 << 20), compresslevel=9)
    (tmp_path / "tiny.csv.gz").write_bytes(bomb)
    target = data.Dataset("tiny", "tiny.csv.gz", "0" * 64, len(bomb), ("http://127.0.0.1:9/",), "for tests")
    assert "unpacks to more than 1,048,576 bytes" in data.problem(tmp_path / "tiny.csv.gz", target)


@pytest.mark.parametrize("kind, said", [("folder", "it is a folder, not a file"), ("fifo", "it is a named pipe")])
def test_a_data_file_that_is_not_a_file_is_said_to_be_what_it_is(kind, said, tmp_path):
    target = data.Dataset("tiny", "tiny.csv.gz", "0" * 64, 100, ("http://127.0.0.1:9/",), "for tests")
    make(tmp_path, "tiny.csv.gz", kind)
    found = data.DataStore(tmp_path, cache=tmp_path / "cache").status(target)
    assert found.state == data.CORRUPT and said in found.problem


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert data.user_cache_dir() == Path.home() / ".cache" / "labapp"
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    assert data.user_cache_dir() == Path("/var/cache/me/labapp")


# -- 12. memory that does not grow with the records ---------------------------------------------------------------

def _many(hp, run):
    for epoch in range(1, hp.epochs + 1):
        yield Metric(epoch=epoch, step=1, values={"loss": 1 / epoch})
        yield Metric(epoch=epoch, values={"loss": 1 / epoch, "accuracy": 0.5})


MANY = Lesson(id="many", number=95, title=Text("多", "Many"), explanation=Text("测试用。", "For tests."),
              params=(IntParam(name="epochs", default=10, min=1, max=10**7, help=Text("轮数", "epochs")),),
              train=_many, uses_torch=False)


def peak_of_a_headless_run(epochs: int, runs_dir: Path, kept: int = 50) -> int:
    """Peak traced memory of a headless run of `epochs` (two records each), report included."""
    keep = report.Keep(limit=kept)
    tracemalloc.start()
    summary = run_lesson(MANY, MANY.resolve({"epochs": str(epochs)}),
                         [keep, RunRecorder(runs_dir), report.PlainProgress(out=io.StringIO(newline=None))])
    report.final_report(MANY, summary, keep.records, "en", color=False, out=io.StringIO())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_headless_memory_does_not_grow_with_the_records(runs_dir, monkeypatch):
    monkeypatch.setattr(report.PlainProgress, "record", lambda self, record, elapsed: None)  # StringIO would grow
    peak_of_a_headless_run(100, runs_dir)  # imports and caches
    small, large = peak_of_a_headless_run(500, runs_dir), peak_of_a_headless_run(5_000, runs_dir)
    assert large < small * 1.10, (small, large)


def test_the_kept_records_still_draw_the_whole_curve():
    keep = report.Keep(limit=50)
    for epoch in range(1, 10_001):
        keep.record(Metric(epoch=epoch, values={"loss": 1 / epoch}), 0.0)
    epochs = [r.epoch for r in keep.records]
    assert epochs[0] == 1 and epochs[-1] == 10_000 and len(epochs) <= 51 and epochs == sorted(epochs)


# -- 13. out of memory on the cpu ---------------------------------------------------------------------------------

@pytest.mark.parametrize("error", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:118] data. DefaultCPUAllocator: can't allocate memory: you tried "
                 "to allocate 1125899906842624 bytes. Error code 12 (Cannot allocate memory)"),
    OSError(errno.ENOMEM, "Cannot allocate memory"), MemoryError()])
def test_out_of_memory_on_the_cpu_gives_the_promised_message(error, runs_dir):
    def train(hp, run):
        yield Metric(epoch=1, values={"loss": 1.0})
        raise error

    lesson = Lesson(id="oom", number=94, title=Text("内存", "OOM"), explanation=Text("测试用。", "For tests."),
                    params=(IntParam(name="batch_size", default=64, min=1, help=Text("批", "batch")),
                            IntParam(name="epochs", default=2, min=1, help=Text("轮数", "epochs"))), train=train,
                    uses_torch=False)
    summary = run_lesson(lesson, lesson.defaults(), [RunRecorder(runs_dir)])
    assert summary.status == FAILED and summary.message.startswith("failed: ran out of memory on cpu")
    assert summary.message.endswith("try a smaller batch_size")


def test_torch_running_out_of_memory_on_the_cpu_gives_the_promised_message(runs_dir):
    def train(hp, run):
        import torch

        yield Metric(epoch=1, values={"loss": 1.0})
        torch.empty(2**50, dtype=torch.uint8)  # a petabyte: torch's cpu allocator says it cannot

    lesson = Lesson(id="oom", number=94, title=Text("内存", "OOM"), explanation=Text("测试用。", "For tests."),
                    params=(IntParam(name="batch_size", default=64, min=1, help=Text("批", "batch")),
                            IntParam(name="epochs", default=2, min=1, help=Text("轮数", "epochs"))), train=train,
                    uses_torch=False)
    summary = run_lesson(lesson, lesson.defaults(), [RunRecorder(runs_dir)])
    assert summary.message.startswith("failed: ran out of memory on cpu (")
    assert "DefaultCPUAllocator" in summary.message and summary.message.endswith("try a smaller batch_size")


# -- 14. the smaller ones ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
                                                                 "PYTHONCOERCECLOCALE": "0"}], ids=["ascii", "C"])
@pytest.mark.parametrize("command", [["list"], ["show", "backprop", "--lang", "zh"],
                                     ["run", "gradient-descent", "--epochs", "3", "--lang", "zh"]],
                         ids=["list", "show", "run"])
def test_a_stdout_that_cannot_say_unicode_never_crashes(command, env):
    result = labapp(*command, env=env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


def test_runs_are_listed_by_their_start_in_utc(runs_dir):
    starts = {"a": "2026-01-01T12:00:00+08:00", "b": "2026-01-01T05:00:00+00:00", "c": "2026-01-01T01:00:00-05:00"}
    for name, started in starts.items():  # in UTC: a 04:00, b 05:00, c 06:00 — and by local strings c, b, a
        folder = runs_dir / "counter" / f"20260101-000000-{name}"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({"lesson": "counter", "started": started}))
        (folder / "summary.json").write_text(json.dumps({"status": "finished"}))
    assert [run.path.name[-1] for run in list_runs(runs_dir)] == ["a", "b", "c"]


def test_a_failed_run_log_says_failed_once(counter, runs_dir):
    recorder = RunRecorder(runs_dir)
    run_lesson(counter, counter.resolve({"fail_at": "2"}), [recorder])
    log = (recorder.path / "run.log").read_text()
    assert "failed: RuntimeError: boom at epoch 2" in log and "failed: failed:" not in log


@pytest.mark.parametrize("device", ["cpu:5", "cpu:1"])
def test_a_cpu_with_an_index_is_refused(device):
    from labapp.runner import DeviceError, resolve_device

    with pytest.raises(DeviceError, match="the cpu is one device"):
        resolve_device(device)
    assert str(resolve_device("cpu:0")) == "cpu"


def on_a_terminal(args: list[str], env: dict[str, str], stdin=None) -> tuple[int, str]:
    """`labapp ARGS` with stdout on a pseudo-terminal (and stdin as given); exit code and what it printed."""
    main, child = pty.openpty()
    process = subprocess.Popen([PY, "-m", "labapp", *args], stdout=child, stderr=child, cwd=ROOT,
                               stdin=stdin if stdin is not None else child, env={**os.environ, **env})
    os.close(child)
    chunks = []
    while select.select([main], [], [], 30)[0]:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return process.wait(30), b"".join(chunks).decode(errors="replace")


def test_the_workbench_refuses_a_stdin_that_is_not_a_terminal_in_one_line():
    with open(os.devnull) as devnull:
        code, out = on_a_terminal([], {"TERM": "xterm-256color"}, stdin=devnull)
    assert code == 2 and "stdin is not one" in out and out.strip().count("\n") == 0


def test_the_workbench_refuses_a_dumb_terminal_politely():
    code, out = on_a_terminal([], {"TERM": "dumb"})
    assert code == 2 and "TERM=dumb" in out and "\x1b" not in out

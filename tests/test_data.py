"""The data layer: lookup order, verification, corrupt and missing files, downloads from a local server."""

import gzip
import hashlib
import http.server
import random
import socket
import threading
from pathlib import Path

import pytest

import lessons
from labapp import cli, data
from labapp.data import DataCorrupt, DataError, DataMissing, DataStore, Dataset
from labapp.lesson import Lesson, Metric, Text
from labapp.runner import FAILED, FINISHED, Run, run_lesson
from lessons._data import DIABETES
from tests.conftest import SHARED_DATA
from tests.data_fixtures import stand_in

CONTENT = gzip.compress(b"1.0,-0.5,1\n0.25,0.75,0\n" * 50, mtime=0)


def fake(urls: tuple[str, ...], content: bytes = CONTENT, name: str = "tiny") -> Dataset:
    """A dataset whose published file is `content`."""
    return Dataset(name, f"{name}.csv.gz", hashlib.sha256(content).hexdigest(), len(content), urls, "for tests")


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: the connection is refused at once, as offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tiny.csv.gz"


class Server(http.server.ThreadingHTTPServer):
    """A local file server: `files` by path; paths in `cut` are sent half, as a dropped connection."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.cut: set[str] = set()
        self.requests: list[str] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))  # the full length, even when cut
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if self.path in self.server.cut else body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """No folder named by the user, and an empty cache of the test's own."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    path = tmp_path / "cache"
    path.mkdir()
    monkeypatch.setattr(data, "cache_dir", lambda: path)
    return path


@pytest.fixture
def mine(tmp_path) -> Path:
    """A folder of the user's."""
    path = tmp_path / "mine"
    path.mkdir()
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- the registry -----------------------------------------------------------------------------------

COURSE_FILES = [d for d in lessons.datasets() if isinstance(d, Dataset)]


def test_the_lessons_declare_the_three_course_files_and_mnist():
    assert {d.filename for d in COURSE_FILES} == {"diabetes.csv.gz", "names_train.csv.gz", "names_test.csv.gz"}
    for entry in COURSE_FILES:
        assert len(entry.sha256) == 64 and entry.urls[0].startswith("https://raw.githubusercontent.com/hunkim/")
    assert [d.name for d in lessons.datasets()] == ["diabetes", "mnist", "names_train", "names_test"]
    assert data.dataset("diabetes.csv.gz", lessons.datasets()) is data.dataset("diabetes", lessons.datasets())
    with pytest.raises(DataError, match="unknown dataset 'cifar10'"):
        data.dataset("cifar10", lessons.datasets())


@pytest.mark.skipif(not (SHARED_DATA / "diabetes.csv.gz").exists(), reason="the course files are not here")
@pytest.mark.parametrize("entry", COURSE_FILES, ids=lambda d: d.name)
def test_the_declared_checksums_match_the_real_files(entry):
    assert data.problem(SHARED_DATA / entry.filename, entry) is None


# -- finding and verifying --------------------------------------------------------------------------

def test_the_named_folder_comes_first_then_the_cache(cache, mine, monkeypatch):
    tiny = fake((dead_url(),))
    (cache / tiny.filename).write_bytes(CONTENT)
    assert DataStore().locate(tiny) == cache / tiny.filename
    (mine / tiny.filename).write_bytes(CONTENT)
    assert DataStore(mine).locate(tiny) == mine / tiny.filename
    monkeypatch.setenv(data.ENV_VAR, str(mine))
    assert DataStore().locate(tiny) == mine / tiny.filename
    assert [f.source for f in DataStore().folders] == [data.ENV_VAR, "cache"]
    assert [f.source for f in DataStore(cache).folders] == ["--data-dir", "cache"]  # the flag beats the variable


def test_a_named_folder_that_does_not_exist_is_an_error(cache, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        DataStore(tmp_path / "typo")


@pytest.mark.parametrize("content, why", [
    (CONTENT[:-40], "its gzip stream is cut short"),
    (CONTENT[:4] + b"\x01" + CONTENT[5:], "its content differs from the published file"),  # another mtime
    (b"pregnancies,glucose\n" * 2, "it is not a readable gzip file"),
    (CONTENT + b"\0", f"it has {len(CONTENT) + 1} bytes where the published file has {len(CONTENT)} (too big to be it)"),  # never hashed
], ids=["truncated", "same-size", "not-gzip", "too-big"])
def test_a_copy_that_is_not_the_published_file_is_corrupt(cache, mine, content, why):
    tiny = fake((dead_url(),))
    (mine / tiny.filename).write_bytes(content)
    with pytest.raises(DataCorrupt) as error:
        DataStore(mine).locate(tiny)
    message = str(error.value)
    assert message.startswith(f"tiny.csv.gz in {mine} (--data-dir) is corrupt: ")
    assert why in message and "leaves files in your folder alone" in message
    assert ("sha256 mismatch" in message) == ("too big" not in why)
    assert DataStore(mine).status(tiny).state == data.CORRUPT


def test_verification_is_done_once_per_path_size_and_mtime(cache, mine, monkeypatch):
    tiny = fake((dead_url(),))
    path = mine / tiny.filename
    path.write_bytes(CONTENT)
    calls = []
    real = data._find_problem
    monkeypatch.setattr(data, "_find_problem", lambda *args: calls.append(args) or real(*args))
    for _ in range(3):
        DataStore(mine).locate(tiny)
    assert len(calls) == 1
    path.write_bytes(CONTENT[:-40])  # another size: checked again, and found out
    with pytest.raises(DataCorrupt):
        DataStore(mine).locate(tiny)
    assert len(calls) == 2


# -- missing files and downloads --------------------------------------------------------------------

def test_offline_with_no_file_names_the_file_the_folders_the_url_and_the_variable(cache, mine):
    url = dead_url()
    tiny = fake((url,))
    with pytest.raises(DataMissing) as error:
        DataStore(mine).locate(tiny)
    message = str(error.value)
    for needle in ("tiny.csv.gz", f"{mine} (--data-dir)", f"{cache} (cache)", url, "LABAPP_DATA_DIR",
                   "downloading it failed"):
        assert needle in message
    assert "\n" not in message
    assert leftovers(cache) == []


def test_a_download_is_verified_and_renamed_into_the_cache(cache, server):
    server.files["/tiny.csv.gz"] = CONTENT
    tiny = fake((server.url("/tiny.csv.gz"),))
    said = []
    path = DataStore().locate(tiny, say=said.append)
    assert path == cache / tiny.filename and path.read_bytes() == CONTENT
    assert leftovers(cache) == [tiny.filename]
    assert said[0].startswith("downloading tiny.csv.gz") and "verified" in said[-1]
    assert DataStore().locate(tiny) == path and len(server.requests) == 1  # found, not fetched again


def test_an_interrupted_download_leaves_nothing_that_looks_valid(cache, server):
    server.files["/tiny.csv.gz"] = CONTENT
    server.cut.add("/tiny.csv.gz")
    tiny = fake((server.url("/tiny.csv.gz"),))
    with pytest.raises(DataMissing, match=rf"stopped after {len(CONTENT) // 2:,} of {len(CONTENT):,} bytes"):
        DataStore().locate(tiny)
    assert leftovers(cache) == []
    server.cut.clear()  # the network is back
    assert DataStore().locate(tiny).read_bytes() == CONTENT


def test_a_download_with_the_wrong_checksum_leaves_nothing(cache, server):
    server.files["/tiny.csv.gz"] = CONTENT[:4] + b"\x01" + CONTENT[5:]  # the same size, another mtime
    tiny = fake((server.url("/tiny.csv.gz"),))
    with pytest.raises(DataMissing, match="is not the published one"):
        DataStore().locate(tiny)
    assert leftovers(cache) == []


def test_a_download_that_is_too_long_is_refused(cache, server):
    server.files["/tiny.csv.gz"] = CONTENT + b"more"
    with pytest.raises(DataMissing, match="more than"):
        DataStore().locate(fake((server.url("/tiny.csv.gz"),)))
    assert leftovers(cache) == []


def test_the_mirror_is_tried_when_the_origin_fails(cache, server):
    server.files["/mirror/tiny.csv.gz"] = CONTENT
    tiny = fake((server.url("/origin/tiny.csv.gz"), server.url("/mirror/tiny.csv.gz")))
    assert DataStore().locate(tiny).read_bytes() == CONTENT
    assert server.requests == ["/origin/tiny.csv.gz", "/mirror/tiny.csv.gz"]


def test_http_errors_are_reported_per_url(cache, server):
    tiny = fake((server.url("/a/tiny.csv.gz"), dead_url()))
    with pytest.raises(DataMissing) as error:
        DataStore().locate(tiny)
    assert "/a/tiny.csv.gz: HTTP 404" in str(error.value)


def test_fetch_replaces_a_corrupt_cache_copy_but_never_a_file_of_the_user(cache, mine, server):
    server.files["/tiny.csv.gz"] = CONTENT
    tiny = fake((server.url("/tiny.csv.gz"),))
    (cache / tiny.filename).write_bytes(CONTENT[:-40])
    with pytest.raises(DataCorrupt, match="`labapp data fetch tiny` replaces it"):
        DataStore().locate(tiny)
    assert DataStore().fetch(tiny) == (cache / tiny.filename, True)
    assert DataStore().fetch(tiny) == (cache / tiny.filename, False)
    (mine / tiny.filename).write_bytes(b"not gzip")
    with pytest.raises(DataCorrupt, match="leaves files in your folder alone"):
        DataStore(mine).fetch(tiny)
    assert (mine / tiny.filename).read_bytes() == b"not gzip"


# -- the runner and the CLI -------------------------------------------------------------------------

def _read_tiny(hp, run):
    path = run.data_path("tiny")
    yield Metric(epoch=1, values={"bytes": float(path.stat().st_size)})


def tiny_lesson(tiny: Dataset) -> Lesson:
    """A lesson that reads the data file `tiny`."""
    return Lesson(id="tiny-data", number=98, title=Text("数据", "Data"), train=_read_tiny, uses_torch=False,
                  data=(tiny,), total=lambda hp: 1)


@pytest.fixture
def registered(monkeypatch, server):
    """`tiny` in the registry, served by the local server."""
    server.files["/tiny.csv.gz"] = CONTENT
    tiny = fake((server.url("/tiny.csv.gz"),))
    known = lessons.datasets()
    monkeypatch.setattr(lessons, "datasets", lambda: (*known, tiny))  # as if a lesson declared it
    return tiny


def test_a_run_hands_the_lesson_its_verified_files(cache, registered):
    lesson = tiny_lesson(registered)
    summary = run_lesson(lesson, lesson.defaults())
    assert summary.status == FINISHED and summary.final["train"]["bytes"] == len(CONTENT)


def test_a_run_checks_its_data_before_training(cache, mine, registered):
    (mine / registered.filename).write_bytes(CONTENT[:-40])
    lesson = tiny_lesson(registered)
    run = Run(lesson, lesson.defaults(), data_dir=str(mine))
    with pytest.raises(DataCorrupt):
        run.prepare()
    summary = Run(lesson, lesson.defaults(), data_dir=str(mine)).run()  # without prepare first
    assert summary.status == FAILED and "is corrupt" in summary.message and summary.traceback is None


def test_labapp_data_lists_each_file_with_its_state(cache, mine, registered, capsys, monkeypatch):
    (mine / registered.filename).write_bytes(CONTENT)
    (cache / "names_test.csv.gz").write_bytes(b"junk")
    monkeypatch.setenv(data.ENV_VAR, str(mine))
    assert cli.main(["data"]) == 0
    out = capsys.readouterr().out
    assert f"1. {mine} (LABAPP_DATA_DIR)" in out and f"2. {cache} (cache), where downloads go" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and "." not in line.split()[0]}
    assert "present, verified" in rows["tiny"] and str(mine / "tiny.csv.gz") in rows["tiny"]
    assert "missing" in rows["diabetes"] and "https://raw.githubusercontent.com/" in rows["diabetes"]
    assert "corrupt" in rows["names_test"] and "not a readable gzip file" in rows["names_test"]


def test_labapp_data_fetch_downloads_and_says_where(cache, registered, capsys):
    assert cli.main(["data", "fetch", "tiny"]) == 0
    assert (cache / "tiny.csv.gz").read_bytes() == CONTENT
    assert "downloaded tiny.csv.gz" in capsys.readouterr().out
    assert cli.main(["data", "fetch", "tiny"]) == 0
    assert "here already, verified" in capsys.readouterr().out
    assert cli.main(["data", "fetch", "cifar10"]) == 2


def test_labapp_run_without_its_data_exits_2_in_one_line(cache, mine, capsys, monkeypatch, runs_dir):
    stand_in(monkeypatch, DIABETES, urls=(dead_url(),))
    assert cli.main(["run", "multi-dim-input", "--data-dir", str(mine)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("labapp: diabetes.csv.gz is not in ") and "LABAPP_DATA_DIR" in err[-1]
    assert not runs_dir.exists()  # refused before any run began


def test_labapp_run_with_a_truncated_file_says_corrupt(cache, mine, capsys, runs_dir):
    (mine / "diabetes.csv.gz").write_bytes(gzip.compress(random.randbytes(20_000))[:6000])
    assert cli.main(["run", "dataset-dataloader", "--data-dir", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "diabetes.csv.gz in" in err and "is corrupt" in err and "cut short" in err and "Traceback" not in err

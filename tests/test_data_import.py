"""MNIST that arrives: through mirrors tried in order, or imported from a folder, the files or an archive.

No test touches the network: mirrors are a local HTTP server on a thread. The official MNIST files
are not on this machine (only the published test split), so most tests publish checksums of files
they write themselves ("official-looking" files); the real published md5s are checked against the
real test split where it is present.
"""

import dataclasses
import gzip
import hashlib
import socket
import tarfile
import zipfile
from pathlib import Path

import pytest

import lessons._data
from labapp import cli, data
from labapp.data import DataCorrupt, DataMissing, DataStore
from lessons._data import MNIST
from tests.conftest import SHARED_DATA
from tests.mnist_fixtures import write_mnist
from tests.test_data import Server
from tests.test_lessons_mnist import tiny_digits

TRAIN, TEST = 320, 80


@pytest.fixture(scope="module")
def official(tmp_path_factory) -> dict[str, bytes]:
    """The four gzipped files of a tiny MNIST, which the tests publish as the official ones."""
    root = tmp_path_factory.mktemp("tiny")
    raw = write_mnist(root, {"train": tiny_digits(TRAIN, 1), "t10k": tiny_digits(TEST, 2)})
    return {name + ".gz": gzip.compress((raw / name).read_bytes(), mtime=0) for name in MNIST.files}


@pytest.fixture
def published(official, monkeypatch) -> data.ImageSet:
    """MNIST with the tests' files as its published ones (their md5s and sizes), wherever labapp reads it."""
    mnist = dataclasses.replace(MNIST, packed=tuple(
        dataclasses.replace(p, md5=hashlib.md5(official[p.filename]).hexdigest(), size=len(official[p.filename]))
        for p in MNIST.packed))
    monkeypatch.setattr(lessons._data, "MNIST", mnist)
    return mnist


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """No folder named by the user, and an empty cache of the test's own."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    path = tmp_path / "cache"
    monkeypatch.setattr(data, "cache_dir", lambda: path)
    return path


@pytest.fixture
def folder(tmp_path, official) -> Path:
    """A classmate's folder with the four files in a subfolder of it."""
    path = tmp_path / "shared" / "mnist"
    path.mkdir(parents=True)
    for name, content in official.items():
        (path / name).write_bytes(content)
    return path.parent


def installed(cache: Path) -> list[str]:
    """What the cache holds under MNIST/ (a staging folder left behind would show)."""
    root = cache / "MNIST"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


INSTALLED = ["raw", *sorted(f"raw/{name}" for name in MNIST.files)]


# -- the published checksums ----------------------------------------------------------------------

@pytest.mark.skipif(not (SHARED_DATA / "mnist-t10k").is_dir(), reason="the published test split is not here")
def test_the_published_md5s_and_sizes_match_the_real_test_split():
    for packed in MNIST.packed[2:]:
        assert data.problem(SHARED_DATA / "mnist-t10k" / packed.filename, packed) is None
    assert [p.filename for p in MNIST.packed] == [name + ".gz" for name in MNIST.files]
    assert all(p.urls == tuple(m + p.filename for m in MNIST.urls) for p in MNIST.packed)


# -- import ---------------------------------------------------------------------------------------

def test_import_of_a_folder_verifies_installs_and_the_lesson_runs(folder, published, cache, capsys, runs_dir):
    assert cli.main(["data", "import", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"MNIST installed (verified against the published md5s): {cache / 'MNIST' / 'raw'}" in out
    assert installed(cache) == INSTALLED
    raw = cache / "MNIST" / "raw"
    for name in MNIST.files:
        assert (raw / name).read_bytes() == gzip.decompress((folder / "mnist" / f"{name}.gz").read_bytes())
    assert DataStore().status(MNIST).state == data.PRESENT
    assert cli.main(["run", "softmax-mnist", "--epochs", "1", "--quiet"]) == 0


def test_import_of_the_four_files_named_one_by_one(folder, published, cache):
    files = sorted((folder / "mnist").iterdir())
    assert cli.main(["data", "import", *map(str, files)]) == 0
    assert installed(cache) == INSTALLED


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz"])
def test_import_of_an_archive(folder, published, cache, tmp_path, kind):
    archive = tmp_path / f"mnist.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as zipped:
            for path in (folder / "mnist").iterdir():
                zipped.write(path, f"mnist/{path.name}")
    else:
        with tarfile.open(archive, "w:gz" if kind == "tar.gz" else "w") as tarred:
            tarred.add(folder / "mnist", "mnist")
    assert cli.main(["data", "import", str(archive)]) == 0
    assert installed(cache) == INSTALLED


def test_a_truncated_file_is_refused_by_name_and_nothing_is_installed(folder, published, cache, capsys):
    cut = folder / "mnist" / "t10k-images-idx3-ubyte.gz"
    cut.write_bytes(cut.read_bytes()[:-200])
    assert cli.main(["data", "import", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"labapp: t10k-images-idx3-ubyte.gz ({cut}) is refused: it has")
    assert "its gzip stream is cut short (md5 mismatch): it is cut short or damaged" in err
    assert "Nothing was installed" in err
    assert installed(cache) == []


def test_a_file_cut_short_inside_an_archive_is_named_with_the_archive(folder, published, cache, tmp_path, capsys):
    cut = folder / "mnist" / "train-labels-idx1-ubyte.gz"
    cut.write_bytes(cut.read_bytes()[:20])
    archive = tmp_path / "mnist.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in (folder / "mnist").iterdir():
            zipped.write(path, f"mnist/{path.name}")
    assert cli.main(["data", "import", str(archive)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"labapp: train-labels-idx1-ubyte.gz (mnist/train-labels-idx1-ubyte.gz in {archive}) "
                          "is refused")
    assert installed(cache) == []


def test_an_archive_cut_short_is_refused_by_name(folder, published, cache, tmp_path, capsys):
    archive = tmp_path / "mnist.tar.gz"
    with tarfile.open(archive, "w:gz") as tarred:
        tarred.add(folder / "mnist", "mnist")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert cli.main(["data", "import", str(archive)]) == 1
    assert capsys.readouterr().err.startswith(f"labapp: {archive} cannot be read as an archive")
    assert installed(cache) == []


def test_a_missing_file_is_named(folder, published, cache, capsys):
    (folder / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    assert cli.main(["data", "import", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{folder} holds no train-labels-idx1-ubyte.gz; it has train-images-idx3-ubyte.gz," in err
    assert installed(cache) == []


def test_a_path_that_is_neither_is_refused(tmp_path, cache, capsys):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    assert cli.main(["data", "import", str(other)]) == 1
    assert "is not one of MNIST's files" in capsys.readouterr().err
    assert cli.main(["data", "import", str(tmp_path / "absent")]) == 1
    assert capsys.readouterr().err == f"labapp: {tmp_path / 'absent'} does not exist\n"


def test_a_split_of_ones_own_is_refused_as_not_official_unless_no_verify(tmp_path, published, cache, capsys):
    """A classmate's 8,000/2,000 split: readable gzip files whose md5s are not the published ones."""
    own = tmp_path / "own"
    raw = write_mnist(tmp_path / "split", {"train": tiny_digits(200, 3), "t10k": tiny_digits(50, 4)})
    own.mkdir()
    for name in MNIST.files:
        (own / f"{name}.gz").write_bytes(gzip.compress((raw / name).read_bytes()))
    assert cli.main(["data", "import", str(own)]) == 1
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in err and "not the official MNIST file" in err and "--no-verify" in err
    assert installed(cache) == []
    assert cli.main(["data", "import", "--no-verify", str(own)]) == 0
    assert "not compared with the published ones" in capsys.readouterr().out
    assert (cache / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").read_bytes() == (raw / "t10k-labels-idx1-ubyte").read_bytes()


def test_uncompressed_files_need_no_verify_and_are_still_checked_as_idx(tmp_path, cache, capsys):
    raw = write_mnist(tmp_path / "split", {"train": tiny_digits(200, 3), "t10k": tiny_digits(50, 4)})
    assert cli.main(["data", "import", str(raw)]) == 1
    assert "is uncompressed, and MNIST's checksums are published for the gzipped files only" in capsys.readouterr().err
    (raw / "t10k-images-idx3-ubyte").write_bytes((raw / "t10k-images-idx3-ubyte").read_bytes()[:-28])
    assert cli.main(["data", "import", "--no-verify", str(raw)]) == 1
    assert "t10k-images-idx3-ubyte has 39,188 bytes where its 50 images take 39,216" in capsys.readouterr().err
    assert installed(cache) == []


def test_an_import_replaces_a_corrupt_cache_copy(folder, published, cache):
    raw = cache / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST.files:
        (raw / name).write_bytes(b"junk")
    assert DataStore().status(MNIST).state == data.CORRUPT
    assert cli.main(["data", "import", str(folder)]) == 0
    assert DataStore().status(MNIST).state == data.PRESENT


# -- mirrors --------------------------------------------------------------------------------------

@pytest.fixture
def server():
    import threading

    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def silent():
    """A URL whose server accepts the connection and then says nothing: a read times out."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/mnist/"
    sock.close()


@pytest.mark.parametrize("first", ["404", "corrupt", "cut short", "silent"])
def test_the_mirrors_are_tried_in_order_and_each_file_verified(official, published, cache, server, silent, first,
                                                               monkeypatch):
    monkeypatch.setattr(data, "TIMEOUT_S", 0.5)
    good = "/good/"
    for name, content in official.items():
        server.files[good + name] = content
        if first == "corrupt":
            server.files["/bad/" + name] = content[:-1] + bytes([content[-1] ^ 1])
        elif first == "cut short":
            server.files["/bad/" + name] = content
            server.cut.add("/bad/" + name)
    bad = silent if first == "silent" else server.url("/bad/")
    mirrors = (bad, server.url(good))
    mnist = dataclasses.replace(published, urls=mirrors, packed=tuple(
        dataclasses.replace(p, urls=tuple(m + p.filename for m in mirrors)) for p in published.packed))
    said: list[str] = []
    assert DataStore().download(mnist, said.append) == cache
    assert installed(cache) == INSTALLED
    assert said[0].startswith(f"downloading MNIST (4 gzipped files, {sum(map(len, official.values())):,} bytes)")
    assert f"mirrors tried in order: {bad}, {server.url(good)}" in said[0]
    for name in official:
        tried = [i for i, line in enumerate(said) if line.startswith(f"  {name} (")]
        assert [said[i].rsplit(" from ", 1)[1] for i in tried] == [bad + name, server.url(good + name)]
        assert f"  {name}: md5 verified" in said
    why = {"404": "HTTP 404", "corrupt": "md5 mismatch", "cut short": "stopped after", "silent": "timed out"}[first]
    failures = [line for line in said if line.startswith(f"  {bad}")]
    assert len(failures) == 4 and all(why in line and "trying the next mirror" in line for line in failures)


def test_when_every_mirror_fails_the_message_says_how_to_import(published, cache, server):
    mirrors = (server.url("/a/"), server.url("/b/"))
    mnist = dataclasses.replace(published, urls=mirrors, packed=tuple(
        dataclasses.replace(p, urls=tuple(m + p.filename for m in mirrors)) for p in published.packed))
    with pytest.raises(DataMissing) as error:
        DataStore().download(mnist)
    message = str(error.value)
    assert "(train-images-idx3-ubyte.gz: every mirror (2): HTTP 404 Not Found)" in message
    assert "run `labapp data import PATH`, where PATH is the folder that holds them, the four files themselves, " \
           "or a .zip, .tar or .tar.gz archive of them" in message
    assert str(cache / "MNIST" / "raw") in message
    assert not cache.exists() or installed(cache) == []


def test_a_download_that_verifies_but_does_not_read_as_mnist_installs_nothing(published, cache, server):
    junk = {p.filename: gzip.compress(b"not idx at all", mtime=0) for p in published.packed}
    for name, content in junk.items():
        server.files["/m/" + name] = content
    mirrors = (server.url("/m/"),)
    mnist = dataclasses.replace(published, urls=mirrors, packed=tuple(
        dataclasses.replace(p, urls=(mirrors[0] + p.filename,), md5=hashlib.md5(junk[p.filename]).hexdigest(),
                            size=len(junk[p.filename])) for p in published.packed))
    with pytest.raises(DataCorrupt, match="the files do not read as mnist: train-images-idx3-ubyte has 14 bytes, fewer than an idx header"):
        DataStore().download(mnist)
    assert installed(cache) == []


@pytest.mark.skipif(not (SHARED_DATA / "mnist-t10k").is_dir(), reason="the published test split is not here")
def test_the_real_test_files_verify_against_the_real_published_md5s(tmp_path, official, cache, monkeypatch, runs_dir):
    """The published t10k files, checked against MNIST's real md5s; only the training files are the tests' own."""
    mnist = dataclasses.replace(MNIST, packed=tuple(
        dataclasses.replace(p, md5=hashlib.md5(official[p.filename]).hexdigest(), size=len(official[p.filename]))
        if p.filename.startswith("train") else p for p in MNIST.packed))
    monkeypatch.setattr(lessons._data, "MNIST", mnist)
    folder = tmp_path / "classmate"
    folder.mkdir()
    for packed in MNIST.packed:
        source = SHARED_DATA / "mnist-t10k" / packed.filename
        (folder / packed.filename).write_bytes(source.read_bytes() if source.is_file() else official[packed.filename])
    assert cli.main(["data", "import", str(folder)]) == 0
    from torchvision import datasets

    assert len(datasets.MNIST(str(cache), train=False)) == 10_000
    cut = folder / "t10k-labels-idx1-ubyte.gz"
    cut.write_bytes(cut.read_bytes()[:4000])
    assert cli.main(["data", "import", str(folder)]) == 1

"""The course's data files: where labapp finds them, how it downloads and verifies them (no torch, no Textual).

Where a file is looked for, in order:

1. the folder the user names: `--data-dir DIR`, else $LABAPP_DATA_DIR. labapp only reads it;
2. the cache: the `datasets/` folder of a source checkout, else the user's cache directory
   (~/.cache/labapp on Linux);
3. the file's origin: downloaded into the cache through a temporary file, checked against its
   published sha256, and only then renamed into place, so an interrupted or wrong download never
   leaves a file that looks valid.

Every copy found is checked against the published sha256 too (once per path, size and mtime).

The lessons name the files (lessons/_data.py: names, URLs, checksums); this module only knows how
to find, download and verify a file so described.

An image set such as MNIST is kept as torchvision keeps it, four uncompressed idx files in
`<folder>/MNIST/raw/`, searched for in the same folders. A copy found is checked for the idx format
(headers, sizes, images and labels that agree), not against checksums: a folder with a split of
its own is fine. A missing copy is installed into the cache from its published gzipped files:
downloaded through its mirrors, tried in order (`DataStore.download`), or imported from files a
classmate shared (`DataStore.install`, labapp.data_import); each is checked against its published
checksum, unpacked into a staging folder, checked as idx files, and only then moved into place.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "LABAPP_DATA_DIR"
TIMEOUT_S = 30.0  # for connecting, and for a server that sends nothing at all
DEADLINE_S = 120.0  # for a whole course file, over all its URLs: a trickling server is given up on
IMAGES_DEADLINE_S = 900.0  # for MNIST's four gzipped files (11.6 MB), over all their mirrors
PROGRESS_S = 5.0  # how often a download says how far it is
UNPACKED_MAX = 64 << 20  # a gzip file that unpacks to more than this is not a course file (a gzip bomb)
CHUNK = 1 << 16
PRESENT, MISSING, CORRUPT = "present", "missing", "corrupt"

Say = Callable[[str], None]


@dataclass(frozen=True)
class Dataset:
    """A course data file: its name, where it comes from and how to recognise the published copy."""

    name: str
    filename: str
    sha256: str
    size: int
    urls: tuple[str, ...]  # the origin first; any copy whose sha256 matches will do
    about: str
    md5: str = ""  # the publisher's md5, where it publishes no sha256 (MNIST): checked instead

    @property
    def checksum(self) -> tuple[str, str]:
        """(hashlib's name for the algorithm, the published hex digest) that a copy must match."""
        return ("md5", self.md5) if self.md5 else ("sha256", self.sha256)


@dataclass(frozen=True)
class ImageSet:
    """A torchvision image dataset, kept as its class keeps it: uncompressed idx files in <root>/<folder>/raw/."""

    name: str
    folder: str  # the class's name: torchvision reads <root>/MNIST/raw/
    files: tuple[str, ...]  # for each split ('train', 't10k'): its images, then its labels
    urls: tuple[str, ...]  # the mirrors of the gzipped files, tried in order
    about: str
    packed: tuple[Dataset, ...] = ()  # the published gzipped files, one per name in `files` (name + '.gz')

    @property
    def filename(self) -> str:
        """Where the files are, under a data folder."""
        return f"{self.folder}/raw/"


class DataError(Exception):
    """A course data file that cannot be used; str() is the user's message."""


class DataMissing(DataError):
    """The file is in none of the folders and could not be downloaded."""


class DataCorrupt(DataError):
    """A copy was found, but it is not the published file (checksum, size or gzip stream)."""


def dataset(name: str | Dataset | ImageSet, known: Iterable[Dataset | ImageSet]) -> Dataset | ImageSet:
    """The dataset of `known` called `name` (or whose file is `name`); DataError if there is none."""
    if isinstance(name, (Dataset, ImageSet)):
        return name
    known = list(known)
    for candidate in known:
        if name in (candidate.name, candidate.filename):
            return candidate
    raise DataError(f"unknown dataset {name!r}: the course's are {', '.join(d.name for d in known)}")


# -- folders --------------------------------------------------------------------------------------

_CHECKOUT = Path(__file__).resolve().parent.parent


def user_cache_dir() -> Path:
    """The per-user cache folder for labapp's downloads on this platform."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # the XDG spec: a relative one is ignored
    return base / "labapp"


def cache_dir() -> Path:
    """Where downloads go: the `datasets/` folder of a source checkout, else the user cache folder."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "datasets").is_dir():
        return _CHECKOUT / "datasets"
    return user_cache_dir()


@dataclass(frozen=True)
class Folder:
    """A folder searched for data files, and why: '--data-dir', the environment variable, or 'cache'."""

    path: Path
    source: str

    def __str__(self) -> str:
        return f"{self.path} ({self.source})"


@dataclass(frozen=True)
class Status:
    """Whether a dataset is usable here: present (and verified), missing or corrupt, and where.

    For an ImageSet, `path` is the root folder that torchvision's class takes.
    """

    dataset: Dataset | ImageSet
    state: str
    path: Path | None = None
    problem: str = ""


# -- verification ---------------------------------------------------------------------------------

_checked: dict[tuple[str, str, int, int], str | None] = {}  # (sha256, path, size, mtime) -> problem


def problem(path: Path, data: Dataset) -> str | None:
    """What makes `path` differ from the published `data` file, or None if it is the published file.

    The size is compared first: a file of another size is never hashed, nor unpacked past what its size allows.
    """
    try:
        stat = path.stat()
        kind = not_a_file(stat.st_mode)
        if kind:
            return kind
        key = (data.checksum[1], str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _checked:
            _checked[key] = _find_problem(path, data, stat.st_size)
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from None
    return _checked[key]


def not_a_file(mode: int) -> str | None:
    """'it is a folder, not a file' (or a FIFO, a device...) for a path that is not a regular file; else None."""
    import stat

    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "it is a folder, not a file"
    kinds = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
             (stat.S_ISSOCK, "a socket"))
    return f"it is {next((name for test, name in kinds if test(mode)), 'not a regular file')}, not a file"


def _find_problem(path: Path, data: Dataset, size: int) -> str | None:
    if size > data.size:  # a 20 GB diabetes.csv.gz is not hashed for a minute to find that out
        return f"it has {size:,} bytes where the published file has {data.size:,} (too big to be it)"
    algorithm, published = data.checksum
    if size == data.size:
        digest = hashlib.new(algorithm)
        with open(path, "rb") as f:
            left = data.size
            while left > 0 and (chunk := f.read(min(CHUNK, left))):
                digest.update(chunk)
                left -= len(chunk)
        if digest.hexdigest() == published:
            return None
    why = []
    if size != data.size:
        why.append(f"it has {size:,} bytes where the published file has {data.size:,}")
    gzip_problem = _gzip_problem(path) if data.filename.endswith(".gz") else None
    if gzip_problem:
        why.append(gzip_problem)
    if not why:
        why.append("its content differs from the published file")
    return ", and ".join(why) + f" ({algorithm} mismatch)"


def _gzip_problem(path: Path) -> str | None:
    """Why `path` does not read as gzip, or None if it does (unpacking stops at UNPACKED_MAX bytes)."""
    unpacked = 0
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                unpacked += len(chunk)
                if unpacked > UNPACKED_MAX:
                    return f"it unpacks to more than {UNPACKED_MAX:,} bytes"
    except EOFError:
        return "its gzip stream is cut short"
    except (OSError, zlib.error) as error:
        return f"it is not a readable gzip file ({error})"
    return None


# -- MNIST's idx files ----------------------------------------------------------------------------

IMAGES_MAGIC, LABELS_MAGIC = 0x0803, 0x0801  # idx: unsigned bytes (0x08) in 3 dimensions, or in 1
SIDE = 28


def idx_problem(raw: Path, files: tuple[str, ...]) -> str | None:
    """What keeps the MNIST idx `files` in `raw` from reading as images and labels, or None if nothing does."""
    counts: list[int] = []
    for name in files:
        path = raw / name
        images = "images" in name
        try:
            size = path.stat().st_size
            with open(path, "rb") as f:
                head = f.read(16) if images else f.read(8 + 100_000)  # labels: all (60,000 at most), for 0-9
        except OSError as error:
            raise DataError(f"cannot read {path}: {error.strerror or error}") from None
        kind, want = ("images", IMAGES_MAGIC) if images else ("labels", LABELS_MAGIC)
        if len(head) < (16 if images else 8):
            return f"{name} has {size:,} bytes, fewer than an idx header"
        magic, count = int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big")
        if magic != want:
            if magic & 0xFF == want & 0xFF and magic >> 16 == 0:
                return (f"{name} holds numbers of type {magic >> 8:#04x}, not bytes: "
                        "torchvision's MNIST reads uint8 only")
            return f"{name} does not start like MNIST {kind} (idx magic number {magic:#010x}, not {want:#010x})"
        header, item = 8, 1
        if images:
            rows, cols = int.from_bytes(head[8:12], "big"), int.from_bytes(head[12:16], "big")
            if (rows, cols) != (SIDE, SIDE):
                return f"{name} holds {rows}x{cols} images, not {SIDE}x{SIDE}"
            header, item = 16, SIDE * SIDE
        if count == 0:
            return f"{name} holds no {kind}"
        if size != header + count * item:
            return f"{name} has {size:,} bytes where its {count:,} {kind} take {header + count * item:,}"
        if not images and max(head[header:]) > 9:
            return f"{name} has the label {max(head[header:])}: MNIST's labels are 0 to 9"
        counts.append(count)
    for (images, labels), (n_images, n_labels) in zip(zip(files[::2], files[1::2]), zip(counts[::2], counts[1::2])):
        if n_images != n_labels:
            return f"{images} holds {n_images:,} images but {labels} {n_labels:,} labels"
    return None


# -- the store ------------------------------------------------------------------------------------

class DataStore:
    """The folders searched for data files, in order; finds, downloads and checks files in them."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None, cache: Path | None = None) -> None:
        self.named: Folder | None = None
        if data_dir:
            self.named = Folder(Path(data_dir).expanduser(), "--data-dir")
        elif os.environ.get(ENV_VAR):
            self.named = Folder(Path(os.environ[ENV_VAR]).expanduser(), ENV_VAR)
        if self.named is not None and not self.named.path.is_dir():
            raise DataError(f"the data folder {self.named} does not exist: point it at a folder "
                            f"that holds the course files, or leave it unset to use the cache")
        self.cache = Folder(cache if cache is not None else cache_dir(), "cache")

    @property
    def folders(self) -> list[Folder]:
        """The folders searched, in order."""
        return [f for f in (self.named, self.cache) if f is not None]

    def status(self, data: Dataset | ImageSet) -> Status:
        """Where `data` is and whether it is usable; nothing is downloaded."""
        if isinstance(data, ImageSet):
            return self._image_status(data)
        for folder in self.folders:
            path = folder.path / data.filename
            if path.exists():  # a folder or a FIFO of that name is reported as what it is, never read
                why = problem(path, data)
                return Status(data, CORRUPT if why else PRESENT, path, why or "")
        return Status(data, MISSING)

    def _image_status(self, data: ImageSet) -> Status:
        for folder in self.folders:
            raw = folder.path / data.folder / "raw"
            if all((raw / name).exists() for name in data.files):
                kinds = [f"{name}: {kind}" for name in data.files if (kind := not_a_file((raw / name).stat().st_mode))]
                why = "; ".join(kinds) or idx_problem(raw, data.files)
                return Status(data, CORRUPT if why else PRESENT, folder.path, why or "")
        return Status(data, MISSING)

    def find(self, data: Dataset | ImageSet) -> Path | None:
        """The first copy of `data` in the folders, verified; None if there is none; DataCorrupt if it is bad."""
        found = self.status(data)
        if found.state == CORRUPT:
            raise DataCorrupt(self._corrupt_message(found))
        return found.path

    def locate(self, data: Dataset | ImageSet, say: Say | None = None) -> Path:
        """A verified local copy of `data`: found in the folders, else downloaded into the cache."""
        return self.find(data) or self.download(data, say)

    def fetch(self, data: Dataset | ImageSet, say: Say | None = None) -> tuple[Path, bool]:
        """Make sure `data` is here: (path, whether it was downloaded). Replaces a corrupt copy in the cache only."""
        found = self.status(data)
        if found.state == PRESENT:
            assert found.path is not None
            return found.path, False
        images = isinstance(found.dataset, ImageSet)
        cached = self.cache.path if images else self.cache.path / found.dataset.filename
        if found.state == CORRUPT and found.path != cached:
            raise DataCorrupt(self._corrupt_message(found))
        return self.download(found.dataset, say), True

    def download(self, data: Dataset | ImageSet, say: Say | None = None) -> Path:
        """Download `data` into the cache, verified; DataMissing if no URL gives the published file."""
        if isinstance(data, ImageSet):
            return self._download_images(data, say)
        failures: dict[str, str] = {}  # url -> why
        deadline = time.monotonic() + DEADLINE_S
        for url in data.urls:
            if say is not None:
                say(f"downloading {data.filename} ({data.size:,} bytes) from {url} into {self.cache.path} "
                    f"(giving up after {DEADLINE_S:.0f} s)")
            try:
                path = _download(url, data, self.cache.path, deadline, say)
            except _DownloadFailed as error:
                failures[url] = str(error)
                continue
            if say is not None:
                say(f"downloaded {data.filename} and verified its sha256: {path}")
            return path
        raise DataMissing(self._missing_message(data, failures))

    def _missing_message(self, data: Dataset, failures: dict[str, str]) -> str:
        where = " or ".join(map(str, self.folders))
        reasons = set(failures.values())
        why = reasons.pop() if len(reasons) == 1 else "; ".join(f"{url}: {r}" for url, r in failures.items())
        into = "that folder" if len(self.folders) == 1 else "one of those folders"
        return (f"{data.filename} is not in {where}, and downloading it failed ({why}). "
                f"Download it from {data.urls[0]} into {into}, or set {ENV_VAR} "
                f"(or --data-dir) to a folder that holds it; then `labapp data` checks it.")

    def _download_images(self, data: ImageSet, say: Say | None) -> Path:
        """Download `data`'s gzipped files through its mirrors into the cache, verified and unpacked; the cache folder."""
        if not data.packed:
            raise DataMissing(f"{data.name} has no published files to download")
        deadline = time.monotonic() + IMAGES_DEADLINE_S
        total = sum(packed.size for packed in data.packed)
        if say is not None:
            say(f"downloading {data.folder} ({len(data.packed)} gzipped files, {total:,} bytes) into "
                f"{self.cache.path / data.filename}, each verified against its published {data.packed[0].checksum[0]}; "
                f"mirrors tried in order: {', '.join(data.urls)}")
        with self._staging(data) as staging:
            found: dict[str, Path] = {}
            for packed in data.packed:
                try:
                    found[packed.filename] = _download_mirrors(packed, staging, deadline, say)
                except _DownloadFailed as error:
                    raise DataMissing(self._missing_images_message(data, f"{packed.filename}: {error}")) from None
            self._install_staged(data, found, staging, say)
        if say is not None:
            say(f"downloaded {data.folder}, verified and unpacked: {self.cache.path / data.filename}")
        return self.cache.path

    def install(self, data: ImageSet, sources: dict[str, Path], verify: bool = True, say: Say | None = None,
                shown: dict[str, str] | None = None) -> Path:
        """Install `data` into the cache from local files: `sources` maps each of its file names, gzipped
        ('train-images-idx3-ubyte.gz') or not, to a path. Each gzipped file is checked against its published
        checksum (unless not `verify`; an uncompressed file has no published checksum, so it needs `verify`
        off); all of them are unpacked and checked as idx files before any is moved into place. DataCorrupt
        names the first file refused (as `shown` names it: 'in ARCHIVE'; else its path); nothing is left
        half-installed. Returns the cache folder (the root)."""
        shown = {name: shown.get(name) or str(path) for name, path in sources.items()} if shown else \
            {name: str(path) for name, path in sources.items()}
        with self._staging(data) as staging:
            for name, path in sources.items():
                packed = next((p for p in data.packed if p.filename == name), None)
                if packed is None:  # uncompressed
                    if verify:
                        raise DataCorrupt(
                            f"{name} ({shown[name]}) is uncompressed, and MNIST's checksums are published for the gzipped "
                            f"files only, so it cannot be verified: import {name}.gz instead, or pass --no-verify to "
                            f"install it checked only as an idx file (its headers, size and labels)")
                    continue
                why = _packed_problem(path, packed) if verify else _gzip_problem(path)
                if why:
                    raise DataCorrupt(f"{name} ({shown[name]}) is refused: {why}. Nothing was installed.")
            self._install_staged(data, sources, staging, say, shown)
        return self.cache.path

    def _staging(self, data: ImageSet):  # type: ignore[no-untyped-def]
        """A context: a new empty folder beside the cache's `<folder>/raw/`, removed with all it holds on exit."""
        import contextlib
        import shutil

        @contextlib.contextmanager
        def staged():  # type: ignore[no-untyped-def]
            parent = self.cache.path / data.folder
            made = [folder for folder in (self.cache.path, parent) if not folder.exists()]
            try:
                parent.mkdir(parents=True, exist_ok=True)
                folder = Path(tempfile.mkdtemp(dir=parent, prefix=".staging-"))
            except OSError as error:
                raise DataError(f"cannot write to {parent}: {error.strerror or error}") from None
            try:
                yield folder
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                for empty in reversed(made):  # leave no empty folders behind
                    with contextlib.suppress(OSError):
                        empty.rmdir()

        return staged()

    def _install_staged(self, data: ImageSet, sources: dict[str, Path], staging: Path, say: Say | None,
                        shown: dict[str, str] | None = None) -> None:
        """Unpack (or copy) each source into `staging` as its idx file, check them together, then move them into raw/."""
        for name in data.files:
            source = sources.get(name + ".gz") or sources.get(name)
            if source is None:
                raise DataMissing(f"{name}.gz is missing: {data.folder} needs all four files ({', '.join(data.files)})")
            gzipped = source is sources.get(name + ".gz")
            why = _unpack(source, staging / name, gzipped)
            if why:
                label = name + ".gz" if gzipped else name
                raise DataCorrupt(f"{label} ({(shown or {}).get(label, source)}) is refused: {why}. "
                                  f"Nothing was installed.")
        why = idx_problem(staging, data.files)
        if why:
            raise DataCorrupt(f"the files do not read as {data.name}: {why}. Nothing was installed.")
        raw = self.cache.path / data.folder / "raw"
        try:
            raw.mkdir(parents=True, exist_ok=True)
            for name in data.files:
                os.replace(staging / name, raw / name)
        except OSError as error:
            raise DataError(f"cannot write to {raw}: {error.strerror or error}") from None
        if say is not None:
            say(f"installed {', '.join(data.files)} into {raw}")

    def _missing_images_message(self, data: ImageSet, why: str) -> str:
        where = " or ".join(f"{f.path / data.folder / 'raw'} ({f.source})" for f in self.folders)
        names = ", ".join(p.filename for p in data.packed[:-1]) + " and " + data.packed[-1].filename
        found = []
        for folder in self.folders:
            raw = folder.path / data.folder / "raw"
            have = [name for name in data.files if (raw / name).is_file()]
            packed = [name + ".gz" for name in data.files if name not in have and (raw / (name + ".gz")).is_file()]
            if have:
                found.append(f"{raw} has only {', '.join(have)}")
            if packed:
                found.append(f"{raw} has {', '.join(packed)} still gzipped: `labapp data import {raw}` installs them")
        return (f"{data.folder} is not in {where}, and downloading it failed ({why}). "
                + "".join(f"{line[0].upper()}{line[1:]}. " for line in found)
                + f"To work offline, get the four files {names} (from a classmate, or from {data.urls[0]} on a machine "
                f"with internet) and run `labapp data import PATH`, where PATH is the folder that holds them, the four "
                f"files themselves, or a .zip, .tar or .tar.gz archive of them: it verifies their published checksums "
                f"and installs them into {self.cache.path / data.filename}. A folder that already holds the four "
                f"uncompressed files (a split of your own) can be used as it is: set {ENV_VAR} (or --data-dir) to the "
                f"folder above its {data.filename}.")

    def _corrupt_message(self, found: Status) -> str:
        data = found.dataset
        assert found.path is not None
        if isinstance(data, ImageSet):
            folder = next(f for f in self.folders if found.path == f.path)
            fix = (f"`labapp data fetch {data.name}` downloads it afresh, or `labapp data import PATH` installs the "
                   f"published files from PATH (a folder, the four .gz files or an archive)" if folder is self.cache
                   else f"labapp leaves files in your folder alone: replace them with the published ones "
                        f"(from {data.urls[0]}, gunzipped), or delete {found.path / data.folder} "
                        f"(labapp then uses its cache, where `labapp data import PATH` installs them)")
            return f"{data.filename} in {folder} is corrupt: {found.problem}. {fix}."
        folder = next(f for f in self.folders if found.path.parent == f.path)
        fix = (f"`labapp data fetch {data.name}` replaces it with a fresh download" if folder is self.cache
               else f"labapp leaves files in your folder alone: delete it (labapp then uses its cache) "
                    f"or replace it with the original from {data.urls[0]}")
        return f"{data.filename} in {folder} is corrupt: {found.problem}. {fix}."


class _DownloadFailed(Exception):
    """One URL did not give the published file; str() says why."""


class _Watchdog:
    """Opens URLs whose connections it cuts `seconds` from now, whatever they are waiting for (headers that
    trickle in included), so that no download outlives its deadline."""

    def __init__(self, seconds: float) -> None:
        import http.client
        import threading
        import urllib.request

        self.sockets: list[object] = []
        watched = self.sockets

        class Http(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                watched.append(self.sock)

        class Https(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                watched.append(self.sock)

        class Handler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
            def http_open(self, req):  # type: ignore[no-untyped-def]
                return self.do_open(Http, req)

            def https_open(self, req):  # type: ignore[no-untyped-def]
                return self.do_open(Https, req, context=None)

        self.opener = urllib.request.build_opener(Handler)
        self.timer = threading.Timer(seconds, self._cut)
        self.timer.daemon = True
        self.timer.start()

    def open(self, url: str, timeout: float):  # type: ignore[no-untyped-def]
        """urlopen, through connections that the deadline cuts."""
        return self.opener.open(url, timeout=timeout)

    def _cut(self) -> None:
        import socket

        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked in another thread
            except OSError:
                pass

    def cancel(self) -> None:
        """The download is over: no cut."""
        self.timer.cancel()


def _read_timeout(response: object, seconds: float) -> None:
    """Let the next read of `response` wait `seconds` at most (its socket's timeout, where it can be reached)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)  # http.client's socket
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.01))
        except OSError:
            pass


def _packed_problem(path: Path, packed: Dataset) -> str | None:
    """Why `path` is not the published gzipped file `packed`, with what to do about it; None if it is."""
    why = problem(path, packed)
    if why is None:
        return None
    if _gzip_problem(path):
        return f"{why}: it is cut short or damaged; copy it again from its source"
    return (f"{why}: a readable gzip file, but not the official MNIST file (a split of someone's own, or another "
            f"data set); if you trust where it came from, `labapp data import --no-verify` installs it checked only "
            f"as MNIST idx files (headers, sizes, labels 0-9), without comparing it to the published file")


def _unpack(source: Path, target: Path, gzipped: bool) -> str | None:
    """Copy `source` to `target`, gunzipped if `gzipped`; why it could not be (a cut-short stream...), or None."""
    try:
        with (gzip.open(source, "rb") if gzipped else open(source, "rb")) as f, open(target, "wb") as out:
            unpacked = 0
            while chunk := f.read(CHUNK):
                unpacked += len(chunk)
                if unpacked > UNPACKED_MAX:
                    return f"it unpacks to more than {UNPACKED_MAX:,} bytes, more than any MNIST file"
                out.write(chunk)
    except EOFError:
        return "its gzip stream is cut short"
    except (OSError, zlib.error) as error:
        if isinstance(error, OSError) and error.filename == str(target):
            return f"cannot write {target}: {error.strerror or error}"
        return f"it is not a readable {'gzip ' if gzipped else ''}file ({error})"
    return None


def _download_mirrors(packed: Dataset, folder: Path, deadline: float, say: Say | None) -> Path:
    """Download `packed` into `folder` from the first of its URLs that gives the published file; _DownloadFailed
    (each URL's reason) if none does before `deadline`."""
    failures: dict[str, str] = {}  # url -> why
    for url in packed.urls:
        if say is not None:
            say(f"  {packed.filename} ({packed.size:,} bytes) from {url}")
        try:
            path = _download(url, packed, folder, deadline, say, limit_s=IMAGES_DEADLINE_S)
        except _DownloadFailed as error:
            failures[url] = str(error)
            if say is not None:
                say(f"  {url} failed: {error}" + ("; trying the next mirror" if url != packed.urls[-1] else ""))
            if time.monotonic() >= deadline:
                break
            continue
        if say is not None:
            say(f"  {packed.filename}: {packed.checksum[0]} verified")
        return path
    reasons = set(failures.values())
    if len(failures) > 1 and len(reasons) == 1:  # offline, typically: said once
        raise _DownloadFailed(f"every mirror ({len(failures)}): {reasons.pop()}")
    raise _DownloadFailed("; ".join(f"{url}: {why}" for url, why in failures.items()))


def _download(url: str, data: Dataset, folder: Path, deadline: float | None = None, say: Say | None = None,
              limit_s: float = DEADLINE_S) -> Path:
    """Download `url` to a temporary file in `folder`, verify it as `data`, then rename it into place.

    Gives up at `deadline` (time.monotonic()), however slowly the bytes come; says how far it is every
    PROGRESS_S seconds. Interrupted in any way (Ctrl-C, SIGTERM, an error), it leaves no file behind.
    """
    import http.client
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + limit_s if deadline is None else deadline
    begun = next_word = time.monotonic()

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DownloadFailed(f"gave up after {time.monotonic() - begun:.0f} s with {size:,} of {data.size:,} "
                                  f"bytes: the connection is too slow (the limit is {limit_s:.0f} s)")
        return remaining

    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{data.filename}.", suffix=".part")
    except OSError as error:
        raise _DownloadFailed(f"cannot write to {folder}: {error.strerror or error}") from None
    size = 0
    watchdog = _Watchdog(left())
    try:
        algorithm, published = data.checksum
        digest = hashlib.new(algorithm)
        with os.fdopen(handle, "wb") as out, watchdog.open(url, timeout=min(TIMEOUT_S, left())) as response:
            while True:
                _read_timeout(response, min(TIMEOUT_S, left()))
                try:
                    chunk = response.read1(CHUNK)  # what has come, not a whole CHUNK: the deadline is checked often
                except (OSError, http.client.HTTPException):
                    left()
                    raise
                if not chunk:
                    left()  # the watchdog cut the connection at the deadline: said as such
                    break
                if say is not None and time.monotonic() >= next_word + PROGRESS_S:
                    next_word = time.monotonic()
                    say(f"  {data.filename}: {size:,} of {data.size:,} bytes after {next_word - begun:.0f} s")
                size += len(chunk)
                if size > data.size:
                    raise _DownloadFailed(f"the server sent more than the {data.size:,} bytes of the published file")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size < data.size:
            raise _DownloadFailed(f"the download stopped after {size:,} of {data.size:,} bytes")
        if digest.hexdigest() != published:
            raise _DownloadFailed(f"the file it sent ({size:,} bytes) is not the published one ({algorithm} mismatch)")
        target = folder / data.filename
        os.replace(temp, target)
        return target
    except urllib.error.HTTPError as error:
        raise _DownloadFailed(f"HTTP {error.code} {error.reason}") from None
    except (OSError, http.client.HTTPException) as error:  # a timeout, a reset, a cut-short body, no connection
        left()  # cut by the watchdog (a trickle of headers): said as giving up at the deadline
        if isinstance(error, urllib.error.URLError):
            raise _DownloadFailed(str(error.reason)) from None
        raise _DownloadFailed(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__) from None
    finally:
        watchdog.cancel()
        try:
            os.unlink(temp)
        except FileNotFoundError:  # renamed into place
            pass


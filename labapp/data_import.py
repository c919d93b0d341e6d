"""`labapp data import PATH ...`: MNIST's files from a folder, the files themselves or an archive (no torch, no Textual).

A classmate shares MNIST as a folder, as the four `.gz` files, or as a .zip, .tar or .tar.gz archive
of them. `gather` finds the four files in what the user names (an archive is read member by member:
only members named like MNIST's files are taken, whatever folders they sit in, so nothing is written
outside a temporary folder); `DataStore.install` verifies them and installs them into the cache.
"""

from __future__ import annotations

import contextlib
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from labapp.data import CHUNK, UNPACKED_MAX, DataError, DataMissing, ImageSet

ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
MEMBER_MAX = UNPACKED_MAX  # no MNIST file, gzipped or not, is larger: a bigger member is not one


def names(data: ImageSet) -> tuple[str, ...]:
    """The file names that `data` can be imported from: each gzipped file, then each uncompressed one."""
    return tuple(packed.filename for packed in data.packed) + data.files


@dataclass
class Found:
    """The files found: file name -> a path to read it from, and -> how to name it to the user."""

    paths: dict[str, Path] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def gathered(data: ImageSet, paths: list[Path]) -> Iterator[Found]:
    """The files of `data` found in `paths` (folders, files, archives), gzipped names preferred; archives are
    unpacked into a temporary folder that lives as long as the context."""
    with tempfile.TemporaryDirectory(prefix="labapp-import-") as temp:
        found = Found()
        for number, path in enumerate(paths):
            _find_in(data, path, Path(temp) / str(number), found)
        yield _choose(data, found, paths)


def _find_in(data: ImageSet, path: Path, temp: Path, found: Found) -> None:
    """Add the files of `data` that `path` holds (or is) to `found`, where it has none of that name yet."""
    wanted = names(data)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    if path.is_dir():
        for candidate in sorted(path.rglob("*")):  # sorted: the same choice every time
            if candidate.name in wanted and candidate.is_file() and candidate.name not in found.paths:
                found.paths[candidate.name], found.shown[candidate.name] = candidate, str(candidate)
        return
    if path.name in wanted:
        if path.name not in found.paths:
            found.paths[path.name], found.shown[path.name] = path, str(path)
        return
    if path.name.lower().endswith(ARCHIVES):
        for name, (copy, member) in _unpack_archive(path, set(wanted) - set(found.paths), temp).items():
            found.paths[name], found.shown[name] = copy, f"{member} in {path}"
        return
    raise DataError(f"{path} is not one of {data.folder}'s files ({', '.join(wanted[:len(data.files)])}, or the "
                    f"same names without .gz), nor a folder, nor an archive ({', '.join(ARCHIVES)})")


def _unpack_archive(archive: Path, wanted: set[str], temp: Path) -> dict[str, tuple[Path, str]]:
    """The members of `archive` named like one of `wanted` (in any folder), copied into `temp` by name alone:
    name -> (the copy, the member's name in the archive)."""
    temp.mkdir(parents=True)
    found: dict[str, tuple[Path, str]] = {}

    def take(name: str, size: int, open_member) -> None:  # type: ignore[no-untyped-def]
        base = PurePosixPath(name.replace("\\", "/")).name
        if base not in wanted or base in found:
            return
        if size > MEMBER_MAX:
            raise DataError(f"{archive}: its member {name} has {size:,} bytes, more than any MNIST file")
        target = temp / base
        with open_member() as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
        found[base] = (target, name)

    try:
        if archive.name.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                for info in zipped.infolist():
                    if not info.is_dir():
                        take(info.filename, info.file_size, lambda info=info: zipped.open(info))
        else:
            with tarfile.open(archive) as tarred:  # any compression tarfile knows
                for member in tarred:
                    if member.isfile():
                        take(member.name, member.size, lambda member=member: tarred.extractfile(member))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as error:
        said = str(error) or type(error).__name__
        raise DataError(f"{archive} cannot be read as an archive ({said}): it may be cut short; copy it again") from None
    return found


def _choose(data: ImageSet, found: Found, paths: list[Path]) -> Found:
    """For each of `data`'s files, its gzipped copy if one was found, else its uncompressed one; DataMissing naming
    the files that none of `paths` holds."""
    chosen = Found()
    missing = []
    for packed, name in zip(data.packed, data.files):
        pick = packed.filename if packed.filename in found.paths else name if name in found.paths else None
        if pick is None:
            missing.append(packed.filename)
        else:
            chosen.paths[pick], chosen.shown[pick] = found.paths[pick], found.shown[pick]
    if missing:
        where = ", ".join(map(str, paths))
        have = f"; it has {', '.join(chosen.paths)}" if chosen.paths else ""
        raise DataMissing(f"{where} holds no {' or '.join(missing)}{have}: {data.folder} needs all four files "
                          f"({', '.join(p.filename for p in data.packed)}), in one folder, as files, or in an archive")
    return chosen

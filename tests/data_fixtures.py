"""The course's data sets as the tests need them: a declared file given another checksum, size or URL for a test.

The lessons hold their Dataset objects (lessons/_data.py); a test that writes a stand-in file changes
that object in place, for the test only, so that every lesson that declares it sees the change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from labapp.data import Dataset


def stand_in(monkeypatch: Any, dataset: Dataset, **changes: Any) -> Dataset:
    """`dataset` with `changes` (sha256, size, urls) for this test; monkeypatch puts it back afterwards."""
    for name, value in changes.items():
        monkeypatch.setitem(dataset.__dict__, name, value)  # frozen: its fields live in __dict__
    return dataset


def checksum_of(path: Path) -> dict[str, Any]:
    """The sha256 and size of the file at `path`, as Dataset fields."""
    content = Path(path).read_bytes()
    return {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}


def stand_in_code(name: str, changes: dict[str, Any]) -> str:
    """Python lines that make the same change in another process, before it runs labapp."""
    return f"import lessons._data as _d\nvars(_d.{name}).update({changes!r})\n"


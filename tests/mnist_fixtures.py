"""MNIST folders for tests and benchmarks: idx files written as torchvision reads them."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from labapp.data import IMAGES_MAGIC, LABELS_MAGIC, SIDE
from lessons._data import MNIST


def write_mnist(root: str | os.PathLike[str], splits: dict[str, tuple[bytes, bytes]]) -> Path:
    """Write MNIST as torchvision reads it: for 'train' and 't10k', (images, labels) -> <root>/MNIST/raw/.

    `images` are the pixels of n 28x28 images as bytes (row by row), `labels` n bytes 0-9.
    """
    raw = Path(root) / MNIST.folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in splits.items():
        count = len(labels)
        if len(images) != count * SIDE * SIDE:
            raise ValueError(f"{split}: {len(images):,} bytes of pixels for {count:,} labels")
        header = IMAGES_MAGIC.to_bytes(4, "big") + count.to_bytes(4, "big") + SIDE.to_bytes(4, "big") * 2
        (raw / f"{split}-images-idx3-ubyte").write_bytes(header + bytes(images))
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(LABELS_MAGIC.to_bytes(4, "big") + count.to_bytes(4, "big")
                                                         + bytes(labels))
    return raw


def split_mnist_test_set(source: str | os.PathLike[str], root: str | os.PathLike[str], train: int = 8000) -> Path:
    """A folder for offline checks from MNIST's published test set alone (the gzipped t10k files in `source`).

    Its first `train` images become the training split, the rest the test split; written under
    <root>/MNIST/raw/. Returns `root`.
    """
    unpacked = {}
    for kind, header in (("images", 16), ("labels", 8)):
        with gzip.open(Path(source) / f"t10k-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz", "rb") as f:
            unpacked[kind] = f.read()[header:]
    images, labels = unpacked["images"], unpacked["labels"]
    if not 0 < train < len(labels):
        raise ValueError(f"train: {train} must be between 1 and {len(labels) - 1}")
    cut = train * SIDE * SIDE
    write_mnist(root, {"train": (images[:cut], labels[:train]), "t10k": (images[cut:], labels[train:])})
    return Path(root)

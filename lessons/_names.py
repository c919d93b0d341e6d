"""The names data of lesson 14 as tensors: surnames read from the course's files, letters as ASCII codes.

Not a lesson: the reading and padding that the course's program does before its model sees a batch.
"""

import csv
import gzip
import unicodedata

N_CHARS = 128  # the embedding's rows: one per ASCII code
# Letters that NFKD does not split into an ASCII letter and an accent.
ASCII_EXTRA = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                             "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i"})


def to_ascii(name: str) -> str:
    """`name` in the embedding's 128 codes: accents dropped (Müller → Muller), anything else left out."""
    decomposed = unicodedata.normalize("NFKD", name.strip().translate(ASCII_EXTRA))
    return "".join(ch for ch in decomposed if ord(ch) < N_CHARS)


def read_names(path) -> list[tuple[str, str]]:
    """(surname, country) rows: gzip, CSV with quoted fields (two surnames hold a comma)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return [(to_ascii(row[0]), row[1]) for row in csv.reader(f) if len(row) >= 2]


def make_tensors(names, labels):
    """Codes padded with 0 (N, longest), lengths (N,) and labels (N,), all on the cpu."""
    import torch

    lengths = torch.tensor([len(name) for name in names])
    seq = torch.zeros(len(names), int(lengths.max()), dtype=torch.long)
    for i, name in enumerate(names):
        seq[i, :len(name)] = torch.tensor([ord(ch) for ch in name])
    return seq, lengths, torch.tensor(labels)


def sorted_batch(seq, lengths, labels, idx):
    """The names at `idx`, longest first as pack_padded_sequence wants them, cut to the longest."""
    lengths, order = lengths[idx].sort(descending=True)
    idx = idx[order]
    return seq[idx, :int(lengths[0])], lengths, labels[idx]

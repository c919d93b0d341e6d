"""How the panel bar fits its names (`4 Loss  5 Accuracy  6 Results ...`) in the width it has: no Textual.

Each entry is a key and the panel's name. The layouts tried, in order, until one fits: every name
whole on one row; the short names (a chart's declared short name, else a title without its closing
parenthesis, `Loss (BCE)` -> `Loss`) on one row; whole names on two rows; short names on two rows; then short names cut to the longest
length that fits on two rows, the current panel's name kept whole where it can be. A name is never
cut below a few characters, so that a person can still tell which key brings which panel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from labapp.strings import fit, width

MAX_ROWS = 2
MIN_NAME = 6  # columns a cut name keeps at least (three Chinese characters)
PAD = 4  # " 4 " before the name and " " after it
CLOSING = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")


def short_name(name: str) -> str:
    """`name` without a closing parenthesis (`Training loss (mean per epoch)` -> `Training loss`)."""
    short = CLOSING.sub("", name)
    return short if short.strip() else name


def entry(key: str, name: str) -> str:
    """One entry as shown: ` 4 Loss `."""
    return f" {key} {name} "


def pack(entries: Sequence[str], columns: int) -> list[list[int]] | None:
    """The entries' indices in rows of at most `columns` cells, in order; None if they need more than MAX_ROWS rows."""
    rows: list[list[int]] = [[]]
    used = 0
    for index, text in enumerate(entries):
        size = width(text)
        if rows[-1] and used + size > columns:
            rows.append([])
            used = 0
        rows[-1].append(index)
        used += size
    return rows if len(rows) <= MAX_ROWS and all(width("".join(entries[i] for i in row)) <= columns for row in rows) \
        else None


def bar_rows(keys: Sequence[str], names: Sequence[str], current: int, columns: int,
             shorts: Sequence[str] | None = None) -> list[list[tuple[int, str]]]:
    """The bar's rows: (panel index, entry text) in order, fitted to `columns` (see the module's docstring).
    `shorts` are the panels' own short names (a chart's declared one); by default each name without its parenthesis."""
    shorts = [short_name(name) for name in names] if shorts is None else list(shorts)
    for chosen in (names, shorts):
        entries = [entry(k, n) for k, n in zip(keys, chosen)]
        if width("".join(entries)) <= columns:
            return [list(enumerate(entries))]
    for chosen in (names, shorts):
        entries = [entry(k, n) for k, n in zip(keys, chosen)]
        rows = pack(entries, columns)
        if rows is not None:
            return [[(i, entries[i]) for i in row] for row in rows]
    longest = max(width(name) for name in shorts)
    for keep_current in (True, False):
        for limit in range(longest, MIN_NAME - 1, -1):
            cut = [name if keep_current and i == current else fit(name, limit) for i, name in enumerate(shorts)]
            entries = [entry(k, n) for k, n in zip(keys, cut)]
            rows = pack(entries, columns)
            if rows is not None:
                return [[(i, entries[i]) for i in row] for row in rows]
    # Narrower than any sensible bar: each name cut to MIN_NAME, on as many rows as it takes.
    return _greedy([entry(k, fit(n, MIN_NAME)) for k, n in zip(keys, shorts)], columns)


def _greedy(entries: Sequence[str], columns: int) -> list[list[tuple[int, str]]]:
    """Entries in rows of at most `columns` cells, as many rows as it takes."""
    rows: list[list[tuple[int, str]]] = [[]]
    used = 0
    for index, text in enumerate(entries):
        if rows[-1] and used + width(text) > columns:
            rows.append([])
            used = 0
        rows[-1].append((index, text))
        used += width(text)
    return rows

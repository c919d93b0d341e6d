"""What a classifier gets wrong: its confusion matrix, accuracy per class, most confused pairs and a
gallery of its mistakes, from the (true, predicted, probability) answers of a test pass.

No torch, no Textual. A lesson turns its answers (as lists) into a view's value with `summary`, and
yields it as a view of kind KIND; `render` draws that value as lines of text for a given width, in
the colours of a Palette: the terminal's ANSI colours in the headless report, the theme's in the
workbench (labapp/widgets/views.py builds that one).
"""

from __future__ import annotations

import heapq
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from rich.cells import cell_len
from rich.text import Text as RichText

from labapp.strings import say

KIND = "confusion"  # the View kind whose value `summary` makes
SHOWN = 8  # mistakes in the gallery, the ones the model was surest of
PAIRS = 3  # most confused pairs named
INK = 6  # of 15: a pixel at least this bright is ink (the digits' box is found from it; blocks drawn from it)
BOX = 20  # an MNIST digit fits in a 20x20 box: the gallery draws that box around its ink
NAME_WIDTH = 16  # a longer name in the gallery is cut
CLOSING = "，。；：、）》」！？,.;:)"  # punctuation that never starts a line
OPENING = "（《「“("  # and that never ends one


# -- the value: counted from a test pass's answers ---------------------------------------------------------

def counts(n: int, true: Sequence[int], predicted: Sequence[int]) -> list[list[int]]:
    """The n x n confusion matrix: row = the true class, column = the predicted class."""
    if len(true) != len(predicted):
        raise ValueError(f"true, predicted: {len(true)} true classes but {len(predicted)} predictions")
    matrix = [[0] * n for _ in range(n)]
    for t, p in zip(true, predicted):
        if not (0 <= t < n and 0 <= p < n):
            raise ValueError(f"true, predicted: class {t if not 0 <= t < n else p} is not one of the {n} classes 0-{n - 1}")
        matrix[t][p] += 1
    return matrix


def surest_mistakes(true: Sequence[int], predicted: Sequence[int], probability: Sequence[float],
                    k: int = SHOWN) -> list[int]:
    """The indices of at most `k` wrong answers, the most probable (to the model) first; ties in order."""
    wrong = (i for i, (t, p) in enumerate(zip(true, predicted)) if t != p)
    return heapq.nlargest(k, wrong, key=lambda i: probability[i])


def picture(image: Sequence[Sequence[float]]) -> list[str]:
    """An image of 0-255 values as rows of hex digits, one per pixel (0 blank, f full ink): compact in a record."""
    return ["".join("0123456789abcdef"[max(0, min(15, int(v) // 16))] for v in row) for row in image]


def summary(labels: Sequence[str], true: Sequence[int], predicted: Sequence[int], probability: Sequence[float],
            example: Callable[[int], Any], shown: int = SHOWN) -> dict[str, Any]:
    """The value of a confusion view: class labels, the counts, and the mistakes the model was surest of.

    `probability[i]` is the probability the model gave its answer `predicted[i]`; `example(i)` is what
    the gallery shows of answer i: a name (str), a row number of a data file (int), or an image
    (rows of 0-255 values, kept as `picture` rows).
    """
    if len(probability) != len(true):
        raise ValueError(f"probability: {len(probability)} probabilities for {len(true)} answers")
    mistakes = []
    for i in surest_mistakes(true, predicted, probability, shown):
        shown_as = example(i)
        if isinstance(shown_as, (list, tuple)):
            shown_as = picture(shown_as)
        mistakes.append({"true": true[i], "predicted": predicted[i], "probability": float(probability[i]),
                         "example": shown_as})
    matrix = counts(len(labels), true, predicted)
    wrong = len(true) - sum(matrix[i][i] for i in range(len(labels)))
    return {"labels": list(labels), "counts": matrix, "wrong": wrong, "mistakes": mistakes}


# -- what the counts say -----------------------------------------------------------------------------------

def right(matrix: Sequence[Sequence[int]]) -> int:
    """The answers that are right: the diagonal's sum."""
    return sum(matrix[i][i] for i in range(len(matrix)))


def total(matrix: Sequence[Sequence[int]]) -> int:
    """Every answer: the sum of all entries."""
    return sum(map(sum, matrix))


def row_shares(matrix: Sequence[Sequence[int]]) -> list[list[float]]:
    """Each row divided by its sum (the share of each true class given each answer); an empty row stays 0."""
    return [[count / sum(row) if sum(row) else 0.0 for count in row] for row in matrix]


def per_class(matrix: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """(right, of) for each true class: its accuracy is right / of."""
    return [(row[i], sum(row)) for i, row in enumerate(matrix)]


def most_confused(matrix: Sequence[Sequence[int]], k: int = PAIRS) -> list[tuple[int, int, int]]:
    """Up to `k` (true, predicted, count) off the diagonal, the most frequent first (then the larger share of its row)."""
    cells = [(count, count / sum(row), t, p) for t, row in enumerate(matrix) for p, count in enumerate(row)
             if t != p and count]
    cells.sort(key=lambda cell: (-cell[0], -cell[1], cell[2], cell[3]))
    return [(t, p, count) for count, _, t, p in cells[:k]]


def abbreviations(labels: Sequence[str], size: int) -> list[str]:
    """Labels of at most `size` columns, all different: the labels themselves if short, else a prefix,
    else the first letter and later ones (Polish, Portuguese -> Po, Pr); the class number if nothing is left."""
    if all(cell_len(label) <= size for label in labels) and len(set(labels)) == len(labels):
        return list(labels)
    taken: set[str] = set()
    short = []
    for number, label in enumerate(labels):
        letters = "".join(label.split()) or str(number)
        candidates = [_cut(letters, size)] + ["".join((letters[0], *rest))
                                              for rest in combinations(letters[1:], size - 1)]
        pick = next((c for c in candidates if cell_len(c) <= size and c.casefold() not in taken), str(number))
        taken.add(pick.casefold())
        short.append(pick)
    return short


def _cut(text: str, size: int) -> str:
    """The longest start of `text` that takes at most `size` columns."""
    out = ""
    for ch in text:
        if cell_len(out + ch) > size:
            break
        out += ch
    return out


def percent(share: float, decimals: int = 1) -> str:
    """0.2715 -> '27.2%' (decimals 1) or '27%' (decimals 0); never 100% for less than all, never 0% for more than none."""
    text = f"{share * 100:.{decimals}f}%"
    if share < 1 and text == f"{100:.{decimals}f}%":
        return ">" + f"{100 - 10 ** -decimals:.{decimals}f}%"
    if share > 0 and text == f"{0:.{decimals}f}%":
        return "<" + f"{10 ** -decimals:.{decimals}f}%"
    return text


# -- drawing --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Palette:
    """The styles a confusion view is drawn in (rich style strings); `ink` and `paper` (hex colours) draw digits
    in grey levels."""

    title: str = ""
    head: str = ""       # row and column labels
    right: str = ""      # the diagonal: right answers
    wrong: str = ""      # a cell holding 10 % or more of its row, the most confused pairs
    slight: str = ""     # a smaller share off the diagonal
    none: str = ""       # an empty cell
    ink: str | None = None
    paper: str | None = None


PLAIN = Palette()  # a pipe, a file, a terminal without colour
ANSI = Palette(title="bold", head="cyan", right="green", wrong="bold red", slight="yellow",
               none="dim")  # a colour terminal, headless


def _share_text(share: float, count: int, width: int) -> str:
    """A share of a row as a whole percent in `width` columns: '·' for none, '<1' for under half a percent,
    100 only for the whole row, at most 99 where 2 columns are all there is."""
    if not count:
        return "·"
    value = min(round(share * 100), 100 if share == 1 else 99)
    if value == 0:
        return "<1"
    return str(min(value, 99)) if width < 3 else str(value)


def _cell_style(palette: Palette, t: int, p: int, count: int, share: float) -> str:
    if t == p:
        return palette.right if count else palette.none
    if not count:
        return palette.none
    return palette.wrong if share >= 0.1 else palette.slight


@dataclass(frozen=True)
class _Grid:
    """How a matrix is laid out: label codes, a cell's width, the gap between cells (a space at least)."""

    codes: list[str]
    cell: int
    gap: int

    def width(self, extra: int = 0) -> int:
        """Columns taken by the row label, the cells and `extra` columns at the right."""
        return max(map(cell_len, self.codes)) + 1 + len(self.codes) * (self.cell + self.gap) + extra


def _grid(labels: Sequence[str], cell: int, gap: int, whole: bool = False) -> _Grid:
    """The grid for cells of at least `cell` columns, `gap` apart, with the labels `whole`, else codes of 2 or 3
    columns that fit above the cells."""
    codes = list(labels) if whole else abbreviations(labels, max(2, min(3, cell)))
    return _Grid(codes, max(cell, max(map(cell_len, codes))), gap)


def _matrix_lines(grid: _Grid, cells: list[list[tuple[str, str]]], palette: Palette,
                  extra_head: str = "", extras: Sequence[str] = (), columns: range | None = None) -> list[RichText]:
    """The matrix as lines: a header of column codes, then one line per true class (`extras` at its right);
    only `columns` of it, if given."""
    columns = range(len(grid.codes)) if columns is None else columns
    label_width = max(map(cell_len, grid.codes))
    widest = max((cell_len(e) for e in (extra_head, *extras)), default=0)

    def line(head: str, row: Sequence[tuple[str, str]], extra: str, extra_style: str) -> RichText:
        text = RichText(no_wrap=True)
        text.append(head + " " * (label_width - cell_len(head)) + " ", style=palette.head)
        for column in columns:
            cell, style = row[column]
            text.append(" " * (grid.gap + grid.cell - cell_len(cell)) + cell, style=style)
        if widest:
            text.append(" " + " " * (widest - cell_len(extra)) + extra, style=extra_style)
        return text

    header = line("", [(code, palette.head) for code in grid.codes], extra_head, palette.head)
    return [header, *(line(code, row, extra, "")
                      for code, row, extra in zip(grid.codes, cells, extras or [""] * len(cells)))]


def counts_lines(value: dict[str, Any], labels: Sequence[str], width: int, palette: Palette) -> list[RichText]:
    """The counts matrix, its cells at least a space apart whatever the counts' width (colours alone do not
    show on every terminal); where that does not fit `width`, cut into blocks of columns, one under the other."""
    matrix = value["counts"]
    shares = row_shares(matrix)
    digits = max(len(str(c)) for row in matrix for c in row)
    grids = [_grid(labels, digits, 1, whole=True), _grid(labels, digits, 1)]
    grid = next((g for g in grids if g.width() <= width), grids[1])  # blocks keep a space between cells
    cells = [[(str(c) if c else "·", _cell_style(palette, t, p, c, shares[t][p])) for p, c in enumerate(row)]
             for t, row in enumerate(matrix)]
    lines: list[RichText] = []
    for block in _blocks(grid, len(matrix), width):
        lines += ([RichText("")] if lines else []) + _matrix_lines(grid, cells, palette, columns=block)
    return lines


def shares_lines(value: dict[str, Any], labels: Sequence[str], width: int, palette: Palette,
                 lang: str) -> tuple[list[RichText], _Grid]:
    """The row-normalised matrix (whole percents) with each class's accuracy at the right, in the widest
    layout that fits `width`: 3-column cells, else 2-column cells (99 meaning 99 % or more), a space between cells."""
    matrix = value["counts"]
    shares = row_shares(matrix)
    classes = per_class(matrix)
    options: list[tuple[_Grid, int, str]] = []
    for head in (say("confusion accuracy", lang), "✓"):  # the column's name, or a tick where room is short
        for cell, gap, whole in ((3, 1, True), (3, 1, False), (2, 1, False)):
            for decimals in (1, 0):
                options.append((_grid(labels, cell, gap, whole), decimals, head))
    fitted = None
    for grid, decimals, head in options:
        extras = [percent(r / n, decimals) if n else "—" for r, n in classes]
        extra = 1 + max(cell_len(e) for e in (head, *extras))
        if grid.width(extra) <= width:
            fitted = grid, extras, head
            break
    if fitted is None:  # the narrowest cells, in blocks of columns; the accuracy beside the last block
        grid, _, head = options[-1]
        fitted = grid, [percent(r / n, 0) if n else "—" for r, n in classes], head
    grid, extras, head = fitted
    cells = [[(_share_text(shares[t][p], c, grid.cell), _cell_style(palette, t, p, c, shares[t][p]))
              for p, c in enumerate(row)] for t, row in enumerate(matrix)]
    extra = 1 + max(cell_len(e) for e in (head, *extras))
    lines: list[RichText] = []
    for block in _blocks(grid, len(matrix), width, extra):
        last = block.stop == len(matrix)
        lines += ([RichText("")] if lines else []) + _matrix_lines(grid, cells, palette, head if last else "",
                                                                  extras if last else (), columns=block)
    return lines, grid


def _blocks(grid: _Grid, count: int, width: int, extra: int = 0) -> list[range]:
    """The matrix's `count` columns in blocks that fit `width` (with `extra` columns at the right of the last one),
    as many columns in each as can be; one block if it all fits."""
    label = max(map(cell_len, grid.codes)) + 1
    fit = max(1, (width - label - extra) // (grid.cell + grid.gap))
    if fit >= count:
        return [range(count)]
    per_block = -(-count // -(-count // fit))
    return [range(start, min(start + per_block, count)) for start in range(0, count, per_block)]


def pairs_lines(value: dict[str, Any], labels: Sequence[str], width: int, palette: Palette,
                lang: str) -> list[RichText]:
    """The most confused pairs, named in full: 'English → Russian  123 times, 10.1% of true English'
    (what follows the pair on lines of its own where one line is too narrow)."""
    matrix = value["counts"]
    found = most_confused(matrix)
    if not found:
        return [RichText(say("confusion no mistakes", lang), style=palette.right, no_wrap=True)]
    lines = []
    for t, p, count in found:
        pair = RichText(f"{labels[t]} → {labels[p]}", style=palette.wrong, no_wrap=True)
        words = say("confusion pair", lang, count=count, share=percent(count / sum(matrix[t])), true=labels[t])
        if cell_len(pair.plain) + 2 + cell_len(words) <= width:
            lines.append(pair + RichText("  " + words))
        else:
            lines += [pair, *(RichText("  ") + line for line in clause_lines(words, width - 2))]
    return lines


def clause_lines(text: str, width: int, style: str = "") -> list[RichText]:
    """`text` wrapped to `width`, each clause (up to a comma) whole on a line where it fits, and a last word never
    alone on a line: '263 times,' / '100.0% of true 0', never '263 times, 100.0% of true' / '0'."""
    lines: list[str] = []
    for clause in re.split(r"(?<=[,，])", text):
        if not clause.strip():
            continue
        if lines and cell_len(lines[-1] + clause.rstrip()) <= width:
            lines[-1] += clause
        elif cell_len(clause.strip()) <= width:
            lines.append(clause.strip())
        else:  # longer than a line: between words, its last word kept with the one before it where that fits
            parts = [line.plain for line in prose(clause.strip(), width)]
            if len(parts) > 1 and " " not in parts[-1].strip() and " " in parts[-2].strip():
                head, _, word = parts[-2].rstrip().rpartition(" ")
                if cell_len(f"{word} {parts[-1]}") <= width:
                    parts[-2:] = [head, f"{word} {parts[-1]}"]
            lines += parts
    return [RichText(line.rstrip(), style=style, no_wrap=True) for line in lines]


def legend_lines(labels: Sequence[str], codes: Sequence[str], width: int, palette: Palette) -> list[RichText]:
    """'Ar Arabic  Ch Chinese ...' wrapped to `width`, where the codes are not the labels themselves."""
    if list(codes) == list(labels):
        return []
    lines, line = [], RichText(no_wrap=True)
    for code, label in zip(codes, labels):
        entry = f"{code} {label}"
        if line.plain and cell_len(line.plain) + 2 + cell_len(entry) > width:
            lines.append(line)
            line = RichText(no_wrap=True)
        if line.plain:
            line.append("  ")
        line.append(code, style=palette.head)
        line.append(" " + label)
    return [*lines, line] if line.plain else lines


def prose(text: str, width: int, style: str = "") -> list[RichText]:
    """`text` wrapped to `width` columns: between words, or anywhere in Chinese."""
    lines, line = [], ""
    for word in _words(text):
        if line and cell_len(line + word) > width:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line += word
    return [RichText(one, style=style, no_wrap=True) for one in [*lines, line.rstrip()]]


def _words(text: str) -> list[str]:
    """`text` cut where a line may break: before a space, and around each wide (Chinese) character; never between
    a number and the Chinese word after it, nor after an opening bracket."""
    words: list[str] = []
    for n, ch in enumerate(text):
        unit_next = n + 1 < len(text) and cell_len(text[n + 1]) > 1  # a number keeps its unit: '1 轮', '100 个'
        if words and (ch in CLOSING or words[-1][-1:] in OPENING or (ch == " " and words[-1][-1:].isdigit() and unit_next)):
            words[-1] += ch
        elif words and cell_len(ch) > 1 and words[-1].endswith(" ") and words[-1][-2:-1].isdigit():
            words[-1] += ch
        elif not words or ch == " " or cell_len(ch) > 1 or cell_len(words[-1][-1]) > 1:
            words.append(ch)
        else:
            words[-1] += ch
    return words


def _blend(paper: str, ink: str, level: float) -> str:
    """The colour `level` (0-1) of the way from `paper` to `ink` (both '#rrggbb')."""
    a = [int(paper[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(ink[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * level):02x}" for x, y in zip(a, b))


def digit_lines(rows: Sequence[str], palette: Palette, box: int = BOX) -> list[RichText]:
    """A `picture` drawn with half blocks, two pixels a character: the box x box pixels around its ink,
    in grey levels where the palette has ink and paper colours, else in black and white."""
    pixels = [[int(ch, 16) for ch in row] for row in rows]
    height, width = len(pixels), len(pixels[0]) if pixels else 0
    box = min(box, height - height % 2, width)
    ink = [(r, c) for r in range(height) for c in range(width) if pixels[r][c] >= INK] or [(height // 2, width // 2)]

    def start(values: list[int], size: int) -> int:  # where a box-long window centred on the ink starts
        middle = (min(values) + max(values) + 1) // 2
        return max(0, min(size - box, middle - box // 2))

    top, left = start([r for r, _ in ink], height), start([c for _, c in ink], width)
    grey = palette.ink is not None and palette.paper is not None
    lines = []
    for row in range(top, top + box, 2):
        text = RichText(no_wrap=True)
        for col in range(left, left + box):
            upper, lower = pixels[row][col], pixels[row + 1][col]
            if grey:
                text.append("▀", style=f"{_blend(palette.paper, palette.ink, upper / 15)} on "
                                        f"{_blend(palette.paper, palette.ink, lower / 15)}")
            else:
                text.append(" ▄▀█"[(upper >= INK) * 2 + (lower >= INK)])
        lines.append(text)
    return lines


def gallery_lines(value: dict[str, Any], labels: Sequence[str], width: int, palette: Palette,
                  lang: str) -> list[RichText]:
    """The mistakes the model was surest of: digits drawn side by side, or one line per name or row."""
    mistakes = value["mistakes"]
    if not mistakes:
        return []
    lines = [*prose(say("confusion gallery", lang, shown=len(mistakes), wrong=value["wrong"]), width, palette.title),
             *prose(say("confusion gallery key", lang), width, palette.none)]
    pictures = [m for m in mistakes if isinstance(m["example"], list)]
    if pictures:
        drawn = [digit_lines(m["example"], palette) for m in pictures]
        size = max(len(line.plain) for picture in drawn for line in picture)
        per_row = max(1, (width + 2) // (size + 2))
        for start in range(0, len(drawn), per_row):
            group = list(zip(pictures, drawn))[start:start + per_row]
            for line_no in range(max(len(d) for _, d in group)):
                text = RichText(no_wrap=True)
                for n, (_, picture) in enumerate(group):
                    text.append("  " if n else "")
                    text.append_text(picture[line_no] if line_no < len(picture) else RichText(" " * size))
                lines.append(text)
            caption = RichText(no_wrap=True)
            for n, (m, _) in enumerate(group):
                words = f"{labels[m['true']]} → {labels[m['predicted']]} {percent(m['probability'], 0)}"
                caption.append(("  " if n else "") + words.ljust(size), style=palette.wrong)
            lines.append(caption)
        return lines
    names = [_example_text(m["example"], lang) for m in mistakes]
    name_width = min(NAME_WIDTH, max(map(cell_len, names)))
    true_width = max(cell_len(labels[m["true"]]) for m in mistakes)
    predicted_width = max(cell_len(labels[m["predicted"]]) for m in mistakes)
    for name, m in zip(names, mistakes):
        text = RichText(no_wrap=True)
        text.append(_padded(name if cell_len(name) <= name_width else _cut(name, name_width - 1) + "…", name_width))
        text.append("  " + _padded(labels[m["true"]], true_width) + " → ")
        text.append(_padded(labels[m["predicted"]], predicted_width), style=palette.wrong)
        text.append("  " + percent(m["probability"], 0).rjust(4))
        lines.append(text)
    return lines


def _padded(text: str, width: int) -> str:
    """`text` and spaces up to `width` columns (a Chinese character takes two)."""
    return text + " " * max(0, width - cell_len(text))


def _example_text(example: Any, lang: str) -> str:
    """A name as it is; a row number as 'row 12'."""
    if isinstance(example, int) and not isinstance(example, bool):
        return say("confusion row", lang, n=example)
    return str(example)


def render(value: dict[str, Any], lang: str, width: int, palette: Palette = PLAIN,
           label: Callable[[str], str] = str) -> list[RichText]:
    """The whole view as lines for `width` columns: the share right, the most confused pairs, the counts,
    the shares of each true class with each class's accuracy, the codes' legend, and the gallery."""
    labels = [label(str(name)) for name in value["labels"]]
    matrix = value["counts"]
    done, right_answers = total(matrix), right(matrix)
    if not done:
        return [RichText(say("confusion empty", lang), style=palette.none)]
    lines = prose(say("confusion right", lang, right=right_answers, total=done, share=percent(right_answers / done, 2)),
                  width, palette.title)
    lines += prose(say("confusion pairs", lang), width, palette.title)
    lines += pairs_lines(value, labels, width, palette, lang)
    lines += [RichText(""), *prose(say("confusion counts", lang), width, palette.title)]
    lines += counts_lines(value, labels, width, palette)
    shares, grid = shares_lines(value, labels, width, palette, lang)
    notes = say("confusion shares", lang) + ("" if grid.cell >= 3 else say("confusion capped", lang))
    lines += [RichText(""), *prose(notes, width, palette.title), *shares]
    lines += legend_lines(labels, grid.codes, width, palette)
    gallery = gallery_lines(value, labels, width, palette, lang)
    return lines + ([RichText(""), *gallery] if gallery else [])


def ansi(lines: Sequence[RichText], color: bool, indent: str = "") -> str:
    """Lines as one string: with ANSI escapes where `color`, plain otherwise."""
    if not color:
        return "\n".join(indent + line.plain.rstrip() for line in lines)
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, color_system="256", width=10_000,
                      legacy_windows=False, highlight=False, emoji=False, markup=False)
    with console.capture() as captured:
        for line in lines:
            console.print(RichText(indent) + line, soft_wrap=True, crop=False)
    return captured.get().rstrip("\n")

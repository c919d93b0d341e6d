"""The Code tab's program, highlighted and laid out for the width there is: every line read whole.

A line longer than the width wraps: between words where it can (else at the width), its later parts
indented under its own indentation and marked ↪ where its number would be, so a wrapped line never
reads as a new line of Python. The line numbers stay at the left of every line.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.text import Text as RichText

CONTINUED = "↪"  # in the number column: the line above goes on here
HANG = 4  # a wrapped line's later parts: this much further in than the line itself
NUMBER_STYLE = "dim"


def code_lines(highlighted: RichText, width: int) -> list[RichText]:
    """`highlighted` (code with its styles, lines apart by newlines) as lines of at most `width` cells, each
    numbered: a long line wrapped with a hanging indent and ↪ in place of the number."""
    lines = highlighted.split("\n", allow_blank=True)
    if lines and not lines[-1].plain:  # the newline that ends the file starts no line
        lines.pop()
    digits = len(str(max(1, len(lines))))
    gutter = digits + 1
    room = max(1, width - gutter)
    out: list[RichText] = []
    for number, line in enumerate(lines, 1):
        for n, part in enumerate(_parts(line, room)):
            mark = f"{number:>{digits}}" if n == 0 else f"{CONTINUED:>{digits}}"
            out.append(RichText.assemble((mark, NUMBER_STYLE), " ", part, no_wrap=True, end=""))
    return out


def _parts(line: RichText, room: int) -> list[RichText]:
    """One line of code in pieces of at most `room` cells: the first as it starts, the others after a hanging
    indent (the line's own indentation and HANG more, kept under half the room)."""
    line.rstrip()
    if cell_len(line.plain) <= room:
        return [line]
    indent = len(line.plain) - len(line.plain.lstrip(" "))
    hang = min(indent + HANG, room // 2)
    parts, rest, first = [], line, True
    while rest.plain:
        size = room if first else room - hang
        if cell_len(rest.plain) <= size:
            parts.append(rest if first else RichText(" " * hang) + rest)
            break
        cut = _break_at(rest.plain, size)
        head, rest = rest[:cut], rest[cut:]
        head.rstrip()
        parts.append(head if first else RichText(" " * hang) + head)
        rest = rest[len(rest.plain) - len(rest.plain.lstrip(" ")):]  # the spaces at a break go with it
        first = False
    return parts


def _break_at(text: str, size: int) -> int:
    """Where to cut `text` to keep at most `size` cells before the cut: before a comment that follows code, else
    after the last space that leaves words on the line (not within the indentation), else at the edge of a name
    or a number, else at the width (a Chinese character counts two)."""
    cut, used = 0, 0
    while cut < len(text) and used + cell_len(text[cut]) <= size:
        used += cell_len(text[cut])
        cut += 1
    indent = len(text) - len(text.lstrip(" "))
    comment = text.find("  # ", indent + 1, cut + 1)
    if comment > indent and comment >= cut // 3:  # the code whole on its line, its comment under it
        return comment
    space = text.rfind(" ", indent + 1, cut + 1)
    if space > indent and space >= cut // 2:
        return space + 1
    if cut < len(text) and _splits(text, cut):  # inside a name or a number: at the last place that is not
        edge = max((at for at in range(indent + 1, cut) if not _splits(text, at)), default=0)
        if edge:
            return edge
    return max(1, cut)


def _splits(text: str, at: int) -> bool:
    """Whether a cut before `at` splits a name or a number (branch5x5_2, 784, 0.01, .1%) in two."""
    before, after = text[at - 1], text[at]
    decimal = (after == "." and before.isdigit()) or (before == "." and after.isdigit())
    exponent = at > 1 and ((before in "eE" and after in "+-" and text[at - 2].isdigit())  # 1e-08
                           or (before in "+-" and after.isdigit() and text[at - 2] in "eE"))
    return (before.isalnum() or before == "_") and (after.isalnum() or after == "_") or decimal or exponent


class WrappedCode:
    """A Rich renderable: `code` highlighted as Python, numbered and wrapped for the width it is drawn at."""

    def __init__(self, code: str, theme: str = "ansi_dark") -> None:
        from rich.syntax import Syntax  # pygments loads when code is first shown

        self.code = code
        self.highlighted = Syntax(code, "python", theme=theme).highlight(code)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """Each line of the code, laid out for `options.max_width`."""
        for line in code_lines(self.highlighted, options.max_width):
            yield from line.render(console)
            yield Segment.line()

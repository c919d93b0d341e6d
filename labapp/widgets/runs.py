"""The runs of a lesson on disk: start, status, changed params and final headline; Enter overlays one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable

from labapp.controller import changed_params
from labapp.lesson import Lesson
from labapp.records import PastRun
from labapp.report import MIN_COLUMN, number, wrap_cell, wrap_path
from labapp.strings import labelled, say, status_word
from labapp.widgets.views import FittedText


PADDING = 1  # DataTable's cell padding, each side
SCROLLBAR = 2  # the table's vertical scroll bar, when its rows overflow


def final_headline(lesson: Lesson, run: PastRun) -> str:
    """The run's last value of the lesson's headline metric, or ''."""
    which = lesson.headline_metric()
    value = run.final.get(which[0], {}).get(which[1]) if which else None
    if not isinstance(value, (int, float)):
        return ""
    return f"{value:.1%}" if "accuracy" in which[1] and 0 <= value <= 1 else number(value)


def hints_text(hints: str, width: int) -> str:
    """Key hints ('y: copy the path · c: resume ...') on lines of `width`: a hint is broken only when it is wider
    than a line, so a key stays with what it does."""
    lines: list[str] = []
    for hint in hints.split(" · "):
        if lines and cell_len(f"{lines[-1]} · {hint}") <= width:
            lines[-1] += f" · {hint}"
        else:
            lines += wrap_cell(hint, width)
    return "\n".join(lines)


class RunsPanel(Vertical):
    """A table of the lesson's runs on disk and the whole folder path of the highlighted one."""

    @dataclass
    class Chosen(Message):
        """The user chose `run` (Enter): overlay it, or take it off."""

        run: PastRun

    def __init__(self, lesson: Lesson, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.lang = lang
        self.runs: list[PastRun] = []
        self._marks: tuple[set[str], set[str]] = (set(), set())  # the overlaid runs' folders, the best ones'
        self._below: list[str] = []  # the columns shown under the table for the highlighted run (too narrow)

    def compose(self) -> ComposeResult:
        """The table, the path of its highlighted run, and how to use it."""
        yield DataTable(cursor_type="row", zebra_stripes=True, id="runs-table")
        yield FittedText(id="runs-path")  # laid out for its width: a folder breaks after a slash, never in a name
        yield FittedText(lambda width: hints_text(say("runs help", self.lang), width), id="runs-help")

    def show(self, runs: list[PastRun], overlaid: set[str], best: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        """Fill the table with `runs`, marking the overlaid ones (✓) and the best of the latest sweep (★), one line a
        run; the changed params take the width the other columns leave. Where that is too narrow for every run's
        changes whole, they, then the start time, show under the table for the highlighted run."""
        self.runs, self._marks = runs, (overlaid, best)
        if not self.query(DataTable):  # not composed yet (a resize or a tick can come first): the next tick fills it
            return
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        which = self.lesson.headline_metric()
        final = self.lesson.label(which[1], self.lang) if which else say("final", self.lang)
        columns = {"mark": "", "#": "#", "started": say("started", self.lang), "status": say("status", self.lang),
                   "final": final}
        cells = [self._cells(index, run, overlaid, best) for index, run in enumerate(runs)]
        widths = {key: max(cell_len(text) for text in [name, *(row[key] for row in cells)]) for key, name in columns.items()}
        changed = say("changed", self.lang)
        changes = [changed_params(self.lesson, run.path, self.lang) for run in runs]
        self._below = []  # what shows under the table instead of in it, most dispensable first
        room = self._room(widths)
        if room < max(MIN_COLUMN, cell_len(changed), *map(cell_len, changes)):  # never a row on two lines
            self._below.append("changed")
            if room + 2 * PADDING < 0:  # not even the fixed columns fit: the start time goes under the table too
                self._below.append("started")
                del columns["started"]
        for key, name in columns.items():
            table.add_column(name, width=widths[key], key=key)
        if "changed" not in self._below:
            table.add_column(changed, width=room, key="changed")
        for values, change in zip(cells, changes):
            table.add_row(*(values[key] for key in columns), *([] if "changed" in self._below else [change]))
        if runs:
            table.move_cursor(row=min(row, len(runs) - 1))
        self._show_path()
        hints = say("runs help", self.lang) + (f" · {say('best', self.lang)}" if best else "")
        self.query_one("#runs-help", FittedText).relayout(lambda width: hints_text(hints, width))
        if not runs:
            none = say("no runs", self.lang)
            self.query_one("#runs-path", FittedText).relayout(lambda width: "\n".join(wrap_cell(none, width)))

    def _cells(self, index: int, run: PastRun, overlaid: set[str], best: set[str]) -> dict[str, str]:
        """One run's row: its marks, number, start (the time alone for today's), status and final headline."""
        mark = ("★" if str(run.path) in best else "") + ("✓" if str(run.path) in overlaid else "")
        status = status_word(run.status, self.lang)
        today = date.today().isoformat()
        started = run.started[11:16] if run.started.startswith(today) else run.started[5:16].replace("T", " ")
        return {"mark": mark or " ", "#": str(len(self.runs) - index), "started": started, "status": status,
                "final": final_headline(self.lesson, run)}

    def _room(self, widths: dict[str, int]) -> int:
        """The columns left for the changed params beside the other columns (negative: they do not fit)."""
        return self.size.width - sum(size + 2 * PADDING for size in widths.values()) - 2 * PADDING - SCROLLBAR

    def on_resize(self) -> None:
        """A new width: the changed params wrap for it."""
        if self.runs:
            self.show(self.runs, *self._marks)

    def highlighted(self) -> PastRun | None:
        """The run under the cursor, if any."""
        row = self.query_one(DataTable).cursor_row
        return self.runs[row] if 0 <= row < len(self.runs) else None

    def _show_path(self) -> None:
        """The highlighted run's whole folder; and what the table has no room for (its changed params, its start)."""
        run = self.highlighted()
        text = str(run.path) if run else ""
        if run and "started" in self._below:
            text += f"\n{labelled(say('started', self.lang), run.started[:16].replace('T', ' '))}"
        if run and "changed" in self._below:
            text += f"\n{labelled(say('changed', self.lang), changed_params(self.lesson, run.path, self.lang))}"
        self.query_one("#runs-path", FittedText).relayout(lambda width: "\n".join(wrap_path(text, width)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the whole path of the highlighted run."""
        self._show_path()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a run: overlay it (or take it off)."""
        run = self.highlighted()
        if run is not None:
            self.post_message(self.Chosen(run))

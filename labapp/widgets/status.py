"""The status line: state, progress, time and the lesson's headline metric; then the latest message."""

from __future__ import annotations

import re

from rich.text import Text as RichText
from textual.widgets import Static

from labapp.progress import RunProgress
from labapp.report import number
from labapp.strings import fit, join_words, say, status_word, unit_word, width
from labapp.traces import RunTrace

STYLES = {"idle": "dim", "loading torch": "yellow", "waiting for torch": "yellow", "starting": "yellow",
          "running": "bold green", "stepping": "bold magenta", "finished": "bold cyan", "stopped": "bold yellow",
          "diverged": "bold red", "failed": "bold red"}


def clock(seconds: float) -> str:
    """m:ss, or h:mm:ss past an hour."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def headline(trace: RunTrace, lang: str) -> str:
    """The lesson's headline metric of `trace`, e.g. 'test accuracy 91.2%', or ''."""
    which = trace.lesson.headline_metric()
    if which is None:
        return ""
    split, name = which
    values = trace.latest.get(split, {})
    value = values.get(name)
    if value is None:
        return ""
    shown = f"{value:.1%}" if "accuracy" in name and 0 <= value <= 1 else number(value)
    prefix = "" if split == "train" else trace.lesson.label(split, lang)
    also = [f"{trace.lesson.label(other, lang)} {number(values[other])}" for other in trace.lesson.headline_also
            if other in values]
    return join_words(prefix, *also, trace.lesson.label(name, lang)) + f" {shown}"


def status_parts(state: str, trace: RunTrace | None, progress: RunProgress | None, device: str, lang: str,
                 open_lesson: str | None = None, sweep: tuple[int, int] | None = None) -> list[tuple[int, str]]:
    """(priority, text) for each part of the first line, in display order; lower priority is dropped first.

    The run's lesson id is kept whatever the width when it is not the lesson on screen (a run goes on
    while another lesson is open), so its numbers are never read as the open lesson's. In a sweep,
    `sweep` is (the run going, of how many) and is kept whatever the width, with the run's point.
    """
    parts = [(9, status_word(state, lang))]
    if sweep is not None:
        parts.append((9, f"{say('sweep', lang)} {sweep[0]}/{sweep[1]}"))
        if trace is not None:
            parts.append((8, trace.label))
    if trace is not None and progress is not None:
        if progress.total:
            parts.append((8, say("progress", lang, unit=unit_word(trace.lesson.unit, lang), done=progress.epoch,
                                 total=progress.total)))
        if progress.batch and progress.running:
            parts.append((6, f"{say('batch', lang)} {progress.batch[0]}/{progress.batch[1]}"))
        timing = clock(progress.elapsed())
        eta = progress.eta() if state != "stepping" else None  # waiting for a key: no time left to tell
        if eta is not None:
            timing += f" {say('eta', lang)} {clock(eta)}"
        parts.append((7, timing))
        parts.append((8, headline(trace, lang)))
        parts.append((9 if open_lesson not in (None, trace.lesson.id) else 3, trace.lesson.id))
        parts.append((2, trace.device or device))
        if trace.no_records:
            parts.append((4, say("no records", lang)))
    else:
        parts.append((2, device))
    return [(p, text) for p, text in parts if text]


PATH = re.compile(r"[\w.~-]*(?:/[\w.~-]+){2,}/?")  # a folder's path in a message: two slashes or more


def fitted_message(message: str, columns: int, lang: str) -> str:
    """`message` on one line of `columns`: whole if it fits; else each folder's path shortened from its start
    ('…/20261130-165215-752af7': the run's own name stays), then cut; ending in '(m: read all)' when not whole."""
    message = " ".join(message.split())
    if width(message) <= columns:
        return message
    more = f" ({say('more', lang)})"
    room = columns - width(more)
    for match in reversed(list(PATH.finditer(message))):
        names = match.group().rstrip("/").split("/")
        for keep in range(len(names) - 1, 0, -1):
            shortened = message[:match.start()] + "…/" + "/".join(names[-keep:]) + message[match.end():]
            if width(shortened) <= room or keep == 1:
                message = shortened
                break
        if width(message) <= room:
            break
    return fit(message, room) + more


def first_line(parts: list[tuple[int, str]], columns: int) -> str:
    """The parts joined by ' · ', dropping the least important until they fit in `columns`."""
    kept = list(parts)
    while len(kept) > 1 and width("● " + " · ".join(t for _, t in kept)) > columns:
        kept.remove(min(kept[1:], key=lambda part: part[0]))
    return fit(" · ".join(t for _, t in kept), columns - 2)


class StatusLine(Static):
    """Two fixed lines (so that an update never lays out the screen again): the run, then the message."""

    _shown: RichText | None = None

    def show(self, state: str, trace: RunTrace | None, progress: RunProgress | None, device: str, message: str,
             lang: str, open_lesson: str | None = None, sweep: tuple[int, int] | None = None) -> None:
        """Redraw from the current state, run and message."""
        columns = max(20, self.size.width - 2)
        line = RichText()
        line.append("● ", style=STYLES.get(state, "bold"))
        line.append(first_line(status_parts(state, trace, progress, device, lang, open_lesson, sweep), columns))
        line.append("\n" + fitted_message(message, columns, lang), style="italic")
        if line != self._shown:
            self._shown = line
            self.update(line, layout=False)

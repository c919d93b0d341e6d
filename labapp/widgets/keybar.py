"""The key bar at the bottom: the actions of the action table that work now, as many as fit; clickable."""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text as RichText
from textual.widgets import Static

from labapp.actions import ACTIONS
from labapp.strings import say, width

PALETTE_KEY = "^p"


class KeyBar(Static):
    """One line of `key label` pairs in the UI's language; in a field, how to leave it."""

    _shown: RichText | None = None

    def show(self, lang: str, enabled: Callable[[str], bool], in_field: bool) -> None:
        """Redraw for the language, the actions enabled now, and whether a field has focus."""
        if in_field:
            pairs = [("Esc", say("leave field", lang), "screen.leave_field"), ("Tab", say("next field", lang), "app.focus_next"),
                     ("Enter", say("run", lang), "app.run")]
        else:
            pairs = [(a.key, a.label(lang), a.target) for a in ACTIONS if a.shown and enabled(a.action)]
        tail = f"{PALETTE_KEY} {say('palette', lang)}"
        room = max(10, self.size.width - 1) - width(tail)  # never the last column: no stray character there
        line = RichText()
        for key, label, action in pairs:
            piece = f"{key} {label}  "
            if width(line.plain + piece) > room:
                break
            line.append(key, style=Style(bold=True, meta={"@click": action}))
            line.append(f" {label}  ", style=Style(meta={"@click": action}))
        line.append(PALETTE_KEY, style=Style(bold=True, meta={"@click": "app.command_palette"}))
        line.append(f" {say('palette', lang)}", style=Style(meta={"@click": "app.command_palette"}))
        if line != self._shown:
            self._shown = line
            self.update(line, layout=False)

"""Every message of the session, whole and wrapped, newest last: where a long message can be read."""

from __future__ import annotations

import time

from rich.text import Text as RichText
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from labapp.controller import Message
from labapp.report import MIN_COLUMN, wrap_path
from labapp.strings import say
from labapp.widgets.views import FittedText

STAMP = 8  # 'HH:MM:SS'


def log_entry(stamp: str, text: str, width: int) -> RichText:
    """One message for `width` columns: its time, then its words wrapped under one another (a folder's path
    breaks after a slash, never inside a name)."""
    lines = wrap_path(" ".join(text.split()), max(MIN_COLUMN, width - STAMP - 1))
    entry = RichText.assemble((stamp, "dim"), " ", lines[0] if lines else "", no_wrap=True)
    for line in lines[1:]:
        entry.append("\n" + " " * (STAMP + 1) + line)
    return entry


class MessageLog(ModalScreen[None]):
    """A scrollable list of the messages; Escape, m or q closes it."""

    BINDINGS = [("escape,m,q", "dismiss", "close")]

    def __init__(self, messages: list[Message], lang: str) -> None:
        super().__init__()
        self.messages = messages
        self.lang = lang

    def compose(self) -> ComposeResult:
        """The messages, with the time each was said."""
        with VerticalScroll(id="log"):
            yield Static(f"[b]{say('messages', self.lang)}[/b]  [dim]Esc[/dim]", markup=True)
            for message in self.messages or [Message(time.time(), say("no messages", self.lang))]:
                stamp = time.strftime("%H:%M:%S", time.localtime(message.at))
                yield FittedText(lambda width, stamp=stamp, text=message.text: log_entry(stamp, text, width),
                                 classes="log-line")

    def on_mount(self) -> None:
        """Show the newest message."""
        self.query_one("#log", VerticalScroll).scroll_end(animate=False)

    def action_escape_then(self, key: str) -> None:
        """alt+K, which is Escape and K read together: close, then K on the workbench."""
        self.dismiss()
        self.app.post_message(events.Key(key, key))

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
from labapp.strings import say


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
                yield Static(RichText.assemble((stamp, "dim"), " ", message.text), classes="log-line")

    def on_mount(self) -> None:
        """Show the newest message."""
        self.query_one("#log", VerticalScroll).scroll_end(animate=False)

    def action_escape_then(self, key: str) -> None:
        """alt+K, which is Escape and K read together: close, then K on the workbench."""
        self.dismiss()
        self.app.post_message(events.Key(key, key))

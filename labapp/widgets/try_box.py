"""The "try it" box of a lesson with a TryIt: the user types an input, the trained model's answer shows below."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text as RichText
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from labapp.lesson import TryIt, View
from labapp.report import view_text

MAX_INPUT = 200  # characters: a surname, a word, a short list


class TryBox(Vertical):
    """An input and the answer to it; asks the app (TryBox.Asked), which answers with `show`."""

    @dataclass
    class Asked(Message):
        """The user submitted `text` to try the model on."""

        box: TryBox
        text: str

    def __init__(self, try_it: TryIt, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.try_it = try_it
        self.lang = lang

    def compose(self) -> ComposeResult:
        """The input, then the answer (empty until the first one)."""
        yield Input(placeholder=self.try_it.prompt(self.lang), max_length=MAX_INPUT, id="try-input", compact=True)
        yield Static("", id="try-answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the box asks the model; it does not run the lesson."""
        event.stop()
        self.post_message(self.Asked(self, event.value))

    def show(self, value: Any) -> None:
        """Draw the lesson's answer as its view of the TryIt's kind."""
        view = View("try", self.try_it.kind, self.try_it.title)
        try:
            text = RichText.from_ansi(view_text(view, value, self.lang, max(20, self.size.width - 2), color=True))
        except Exception as error:  # noqa: BLE001 - an answer must never take the app down
            text = RichText(f"{self.try_it.title(self.lang)}: cannot draw ({error})", style="dim")
        self.query_one("#try-answer", Static).update(text)

    def say(self, message: str) -> None:
        """A line instead of an answer: no model yet, thinking, or what went wrong."""
        self.query_one("#try-answer", Static).update(RichText(message, style="italic"))

"""The "try it" box of a lesson with a TryIt: the user types an input, the trained model's answer shows below."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text as RichText
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from labapp.lesson import TryIt, View
from labapp.messages import Predicted
from labapp.report import view_text
from labapp.strings import say

MAX_INPUT = 200  # characters: a surname, a word, a short list


class TryBox(Vertical):
    """An input and the answer to it, from the model that `model()` returns (None: no model yet)."""

    def __init__(self, try_it: TryIt, lang: str, model: Callable[[], Any],
                 label: Callable[[str], str] = str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.try_it = try_it
        self.label = label  # the lesson's words (columns, answers) in `lang`
        self.answer: Any = None  # the last answer's value, drawn again at a new width
        self.lang = lang
        self.model = model

    def compose(self) -> ComposeResult:
        """What to type (wrapped to the box: a placeholder would be cut at the input's edge), the input, then the
        answer (empty until the first one)."""
        yield Static(self.try_it.prompt(self.lang), id="try-prompt", markup=False)
        yield Input(max_length=MAX_INPUT, id="try-input", compact=True)
        yield Static("", id="try-answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the box asks the model; it does not run the lesson."""
        event.stop()
        state = self.model()
        if state is None:
            self.say(say("no model", self.lang))
            return
        self.say(say("thinking", self.lang))
        self._predict(state, event.value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _predict(self, state: Any, text: str) -> None:
        """Off the UI thread, the lesson's predict (which imports torch); only posts its answer."""
        try:
            self.post_message(Predicted(text, value=self.try_it.predict(state, text)))
        except Exception as error:  # noqa: BLE001 - told in the box; the app stays up
            self.post_message(Predicted(text, error=f"{type(error).__name__}: {error}"))

    def on_predicted(self, message: Predicted) -> None:
        """Draw the answer as the view of the TryIt's kind, or say what went wrong."""
        if message.error:
            self.say(say("try failed", self.lang, error=message.error))
            return
        self.answer = message.value
        self.draw_answer()

    def draw_answer(self) -> None:
        """The last answer as the view of the TryIt's kind, fitted to the box's width (unfitted while hidden)."""
        if self.answer is None:
            return
        view = View("try", self.try_it.kind, self.try_it.title)
        width = self.size.width - 2 if self.size.width else 10_000
        try:
            text = RichText.from_ansi(view_text(view, self.answer, self.lang, max(20, width), color=True, label=self.label))
        except Exception as error:  # noqa: BLE001 - an answer must never take the app down
            text = RichText(say("cannot draw", self.lang, title=self.try_it.title(self.lang), error=error), style="dim")
        self.query_one("#try-answer", Static).update(text)

    def on_resize(self) -> None:
        """The answer again, for the new width."""
        self.draw_answer()

    def say(self, message: str) -> None:
        """A line instead of an answer: no model yet, thinking, or what went wrong."""
        self.answer = None
        self.query_one("#try-answer", Static).update(RichText(message, style="italic"))

"""The step panel: the latest parameter update of step mode, drawn as `labapp run --steps` prints it."""

from __future__ import annotations

from rich.text import Text as RichText
from textual.containers import ScrollableContainer
from textual.widgets import Static

from labapp.actions import BY_NAME
from labapp.lesson import Lesson
from labapp.report import MIN_COLUMN, step_text, wrap_cell
from labapp.strings import say
from labapp.traces import RunTrace


class StepPanel(ScrollableContainer, can_focus=True):
    """One update: batch, forward values, loss, gradients, the update, the chart points it added (and lesson 3's graph).

    Its lines never wrap: the panel scrolls both ways, as the views do.
    """

    DEFAULT_CSS = """
    StepPanel {
        overflow-x: auto;
        overflow-y: auto;
        padding: 0 1;
    }
    StepPanel > Static {
        width: auto;
        height: auto;
        text-wrap: nowrap;
    }
    """

    def __init__(self, lesson: Lesson, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.lang = lang
        self.text = Static("", id="step-text")
        self._shown: tuple | None = None
        self._last: tuple[RunTrace | None, bool] = (None, False)

    def compose(self):
        """The text of the update."""
        yield self.text

    def on_mount(self) -> None:
        """What the panel is for, until a first update is shown."""
        self.show(None, held=False)

    def on_resize(self) -> None:
        """The hints wrap at the new width."""
        self.show(*self._last)

    def hint(self, key: str, **keys: str) -> str:
        """A sentence of help, wrapped to the panel (the update's own lines keep theirs and scroll sideways)."""
        return "\n".join(wrap_cell(say(key, self.lang, **keys), max(MIN_COLUMN, self.size.width - 2)))

    def show(self, trace: RunTrace | None, held: bool) -> None:
        """Draw `trace`'s latest update shown, with what to press next while the run waits."""
        self._last = (trace, held)
        step = trace.step if trace is not None else None
        points = trace.step_points() if trace is not None else []
        key = (id(step), len(points), held, self.size.width)
        if key == self._shown:
            return
        self._shown = key
        keys = {name: BY_NAME[name].key for name in ("step", "run", "stop")}
        if step is None:
            self.text.update(RichText(self.hint("no step yet", **keys), style="dim"))
            return
        text = RichText(step_text(self.lesson, step, points, self.lang))
        text.stylize("bold", 0, text.plain.index("\n") if "\n" in text.plain else len(text.plain))
        if held:
            text.append("\n\n" + self.hint("step next", **keys), style="dim")
        self.text.update(text)

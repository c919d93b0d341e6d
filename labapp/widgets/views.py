"""The lesson's own views (results, tables, a heat map, a graph), drawn as the headless report draws them."""

from __future__ import annotations

from rich.text import Text as RichText
from textual.containers import VerticalScroll
from textual.widgets import Static

from labapp.lesson import Lesson
from labapp.report import view_text


class ViewsPanel(VerticalScroll):
    """One Static per view of the lesson; each redrawn only when its value changes."""

    def __init__(self, lesson: Lesson, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.lang = lang
        self._shown: dict[str, object] = {}

    def compose(self):
        """A placeholder per view until a run fills it."""
        for view in self.lesson.views:
            yield Static("", id=f"view-{view.name}", classes="view")

    def show(self, views: dict[str, object]) -> None:
        """Draw the views whose value is new."""
        width = max(20, self.size.width - 2)
        for view in self.lesson.views:
            value = views.get(view.name)
            if value is None or self._shown.get(view.name) is value:
                continue
            self._shown[view.name] = value
            try:
                text = RichText.from_ansi(view_text(view, value, self.lang, width, color=True))
            except Exception as error:  # noqa: BLE001 - a view must never take the app down
                text = RichText(f"{view.title(self.lang)}: cannot draw ({error})", style="dim")
            widget = self.query_one(f"#view-{view.name}", Static)
            widget.update(text)
            widget.add_class("filled")

    def clear(self) -> None:
        """Empty every view (a new run is starting)."""
        self._shown.clear()
        for widget in self.query(".view").results(Static):
            widget.update("")
            widget.remove_class("filled")

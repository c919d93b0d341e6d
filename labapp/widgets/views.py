"""The lesson's own views (results, tables, a heat map, a graph), drawn as the headless report draws them.

Each view is drawn for the panel's width: a table wraps its long text columns inside themselves and a
value wraps under itself, so a number is never cut at the panel's edge (80x24 included); what is
still wider (a picture of digits) scrolls sideways. A new width draws the views again.
"""

from __future__ import annotations

from rich.text import Text as RichText
from textual.containers import ScrollableContainer
from textual.widgets import Static

from labapp.lesson import Lesson
from labapp.report import MIN_COLUMN, view_text, wrap_cell

CURVE_WIDTH = 40  # the narrowest curve view: a narrower panel scrolls sideways


class ViewsPanel(ScrollableContainer, can_focus=True):
    """One Static per view of the lesson; each redrawn only when its value changes. Scrolls both ways."""

    DEFAULT_CSS = """
    ViewsPanel {
        overflow-x: auto;
        overflow-y: auto;
    }
    ViewsPanel > .view {
        width: auto;
        height: auto;
        text-wrap: nowrap;
        margin-bottom: 1;
    }
    ViewsPanel > .view.-blank {
        display: none;
    }
    """

    def __init__(self, lesson: Lesson, lang: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.lang = lang
        self._shown: dict[str, object] = {}
        self._views: dict[str, object] = {}  # the values last shown, drawn again for a new width
        self._width = 0

    def compose(self):
        """A placeholder per view until a run fills it."""
        for view in self.lesson.views:
            yield Static("", id=f"view-{view.name}", classes="view -blank")

    def show(self, views: dict[str, object]) -> None:
        """Draw the views whose value is new (all of them at a new width)."""
        self._views = views
        width = max(CURVE_WIDTH, self.size.width - 2)
        if width != self._width:
            self._width = width
            self._shown.clear()
        for view in self.lesson.views:
            value = views.get(view.name)
            if value is None or self._shown.get(view.name) is value:
                continue
            self._shown[view.name] = value
            widget = self.query_one(f"#view-{view.name}", Static)
            widget.update(self.view_renderable(view, value, width))
            widget.remove_class("-blank")
            widget.add_class("filled")

    def view_renderable(self, view, value: object, width: int) -> RichText:
        """One view as unwrapped text, its title bold; a view that cannot be drawn says so."""
        try:
            text = RichText.from_ansi(view_text(view, value, self.lang, width, color=True,
                                                label=lambda word: self.lesson.label(word, self.lang)))
            text.no_wrap = True
            title = "\n".join(wrap_cell(view.title(self.lang), max(MIN_COLUMN, width)))
            if text.plain.startswith(title):
                text.stylize("bold", 0, len(title))
            return text
        except Exception as error:  # noqa: BLE001 - a view must never take the app down
            return RichText(f"{view.title(self.lang)}: cannot draw ({error})", style="dim")

    def on_resize(self) -> None:
        """Draw the views again for the new width."""
        self.show(self._views)

    def set_lang(self, lang: str, views: dict[str, object]) -> None:
        """Redraw every view in `lang`."""
        self.lang = lang
        self._shown.clear()
        self.show(views)

    def clear(self) -> None:
        """Empty every view (a new run is starting)."""
        self._shown.clear()
        for widget in self.query(".view").results(Static):
            widget.update("")
            widget.add_class("-blank")
            widget.remove_class("filled")

"""The lesson's own views (results, tables, a heat map, a graph), drawn as the headless report draws them.

Each view is drawn for the panel's width: a table wraps its long text columns inside themselves and a
value wraps under itself, so a number is never cut at the panel's edge (80x24 included); what is
still wider (a picture of digits) scrolls sideways. A new width draws the views again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rich.text import Text as RichText
from textual.color import Color
from textual.containers import ScrollableContainer
from textual.widget import Widget
from textual.widgets import Static

from labapp import confusion
from labapp.lesson import Lesson, View
from labapp.report import MIN_COLUMN, view_text, wrap_cell
from labapp.strings import say


def view_id(name: str) -> str:
    """The widget id of view `name`: a view's name may hold spaces ('grad norm'), an id may not."""
    return "view-" + re.sub(r"[^A-Za-z0-9_-]", "_", name)


CURVE_WIDTH = 40  # the narrowest curve view: a narrower panel scrolls sideways
PLOTTED = ("curve", "heatmap")  # the view kinds drawn as a plot


class FittedText(Static):
    """Text laid out for this widget's own width: `lay_out(width)` gives its lines, called again on a new width
    (and by `relayout` when what it shows changed). Nothing is cut at the edge: the layout fits the width."""

    DEFAULT_CSS = """
    FittedText {
        width: 1fr;
        height: auto;
        text-wrap: nowrap;
    }
    """

    def __init__(self, lay_out: Callable[[int], str | RichText] = lambda width: "", **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.lay_out = lay_out
        self._drawn: tuple[int, str] | None = None

    def on_resize(self) -> None:
        """A new width: lay the text out again."""
        self.relayout()

    def relayout(self, lay_out: Callable[[int], str | RichText] | None = None) -> None:
        """Lay the text out for the width there is (with `lay_out` from now on, if given); updates only on a change."""
        if lay_out is not None:
            self.lay_out = lay_out
        width = self.content_region.width or self.parent_width()
        text = self.lay_out(max(MIN_COLUMN, width))
        if self._drawn != (width, text):
            self._drawn = (width, text)
            self.update(text if isinstance(text, RichText) else RichText(text, no_wrap=True))

    def parent_width(self) -> int:
        """Before the first layout: the room inside the parent (or 80 columns)."""
        parent = self.parent
        return parent.content_region.width if isinstance(parent, Widget) and parent.size.width else 80


class ViewsPanel(ScrollableContainer, can_focus=True):
    """One Static per view of the lesson (or of `views`, some of them); each redrawn only when its value
    changes, and all of them when the panel's width or the theme changes. Scrolls both ways.

    `empty`, if given, is said while no view has a value.
    """

    DEFAULT_CSS = """
    ViewsPanel {
        overflow-x: auto;
        overflow-y: auto;
        scrollbar-gutter: stable;  /* the text is laid out for a width that a scroll bar appearing later cannot cut */
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
    ViewsPanel > .views-empty {
        color: $text-muted;
    }
    """

    def __init__(self, lesson: Lesson, lang: str, views: Sequence[View] | None = None, empty: str = "",
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.lang = lang
        self.views = tuple(lesson.views if views is None else views)
        self.empty = empty
        self._shown: dict[str, object] = {}
        self._latest: dict[str, object] = {}
        self._widths = (0, 0)  # the panel's and its content's, when the views were drawn

    def compose(self):
        """A placeholder per view until a run fills it."""
        if self.empty:
            yield Static(self.empty, classes="views-empty")
        for view in self.views:
            yield Static("", id=view_id(view.name), classes="view -blank")

    def on_mount(self) -> None:
        """Redraw in the colours of a new theme."""
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.redraw())

    def on_resize(self) -> None:
        """Views drawn for the width (curves, the confusion matrix) are drawn again for a new one."""
        self.show(self._latest)

    def redraw(self) -> None:
        """Draw every view again."""
        self._shown.clear()
        self.show(self._latest)

    def show(self, views: dict[str, object]) -> None:
        """Draw the views whose value is new, or every view if the panel's width changed."""
        self._latest = views
        widths = (self.size.width, self.scrollable_content_region.width)
        if widths != self._widths:
            self._widths = widths
            self._shown.clear()
        for view in self.views:
            value = views.get(view.name)
            if value is None or self._shown.get(view.name) is value:
                continue
            self._shown[view.name] = value
            widget = self.query_one(f"#{view_id(view.name)}", Static)
            room = min(widths[0] - 2, widths[1] - 1)  # inside any scroll bar
            # a plot keeps a readable width (it scrolls sideways); text is laid out for the room there is
            width = max(CURVE_WIDTH, room) if view.kind in PLOTTED else max(MIN_COLUMN, room)
            widget.update(self.view_renderable(view, value, width))
            widget.remove_class("-blank")
            widget.add_class("filled")
        for note in self.query(".views-empty"):
            note.display = not self._shown

    def palette(self) -> confusion.Palette:
        """The confusion view's colours, from the theme: right in its success colour, wrong in its error colour."""
        variables = self.app.get_css_variables()
        _, _, background, foreground = self.colors

        def solid(color: Color) -> str:  # a colour as it shows on this panel's background
            return (background + color).hex6

        theme = {name: Color.parse(variables[name]) for name in ("foreground-muted", "success", "error", "warning")}
        return confusion.Palette(title="bold", head=solid(theme["foreground-muted"]), right=solid(theme["success"]),
                                 wrong=f"bold {solid(theme['error'])}", slight=solid(theme["warning"]), none="dim",
                                 ink=solid(foreground), paper=background.hex6)

    def view_renderable(self, view, value: object, width: int) -> RichText:
        """One view as unwrapped text, its title bold; a view that cannot be drawn says so."""
        try:
            if view.kind == confusion.KIND:
                width = max(20, self._widths[1])  # the matrix chooses its layout for the room there is
                lines = confusion.render(value, self.lang, width, self.palette(),
                                         lambda word: self.lesson.label(word, self.lang))
                text = RichText("\n").join([*confusion.prose(view.title(self.lang), width, "bold"), *lines])
                text.no_wrap = True
                return text
            text = RichText.from_ansi(view_text(view, value, self.lang, width, color=True,
                                                label=lambda word: self.lesson.label(word, self.lang)))
            text.no_wrap = True
            rows = len(wrap_cell(view.title(self.lang), max(MIN_COLUMN, width)))  # the title's lines, first
            text.stylize("bold", 0, sum(len(line) + 1 for line in text.plain.split("\n")[:rows]) - 1)
            return text
        except Exception as error:  # noqa: BLE001 - a view must never take the app down
            return RichText(say("cannot draw", self.lang, title=view.title(self.lang), error=error), style="dim")

    def set_lang(self, lang: str, views: dict[str, object]) -> None:
        """Redraw every view in `lang`."""
        self.lang = lang
        self._shown.clear()
        self.show(views)

    def clear(self) -> None:
        """Empty every view (a new run is starting)."""
        self._shown.clear()
        self._latest = {}
        for widget in self.query(".view").results(Static):
            widget.update("")
            widget.add_class("-blank")
            widget.remove_class("filled")
        for note in self.query(".views-empty"):
            note.display = True

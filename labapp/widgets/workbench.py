"""The workbench's screen: lesson list, the open lesson's view, status line and key bar; and the
actions that only move things on screen (tabs, panels, zoom). Its layout follows its size alone.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import TabbedContent

from labapp.controller import Workbench
from labapp.lesson import Lesson
from labapp.widgets.keybar import KeyBar
from labapp.widgets.lesson_list import LessonList
from labapp.widgets.lesson_view import LessonView
from labapp.widgets.message_log import MessageLog
from labapp.widgets.status import StatusLine

ROOMY = (140, 40)  # columns and rows from which every panel of the Train tab shows at once


class WorkbenchScreen(Screen):
    """Everything the workbench shows; one LessonView per lesson and language, built once and kept."""

    AUTO_FOCUS = None  # nothing, or the lesson list: letters are keys, and Tab goes to the first field
    ALLOW_IN_MAXIMIZED_VIEW = "#status, #keybar"  # a panel full screen (f) keeps the status line and the keys

    def __init__(self, bench: Workbench, devices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.bench = bench
        self.devices = devices
        self.lessons = LessonList(bench.catalogue, bench.lang, id="sidebar")
        self.status_line = StatusLine(id="status")
        self.keybar = KeyBar(id="keybar")
        self.built: dict[tuple[str, str], LessonView] = {}
        self.view: LessonView | None = None

    def compose(self) -> ComposeResult:
        """Sidebar and lesson area, then the status line and the key bar."""
        with Horizontal(id="body"):
            yield self.lessons
            yield Vertical(id="lesson")
        yield self.status_line
        yield self.keybar

    def on_mount(self) -> None:
        """The open lesson; the lesson list has focus while it shows."""
        self.lessons.highlighted = self.bench.catalogue.index(self.bench.lesson)
        self.show_lesson(self.bench.lesson)
        if self.lessons.display:
            self.lessons.focus()

    def on_resize(self) -> None:
        """Roomy or not from the size now, never from the sizes before."""
        self.set_class(self.size.width >= ROOMY[0] and self.size.height >= ROOMY[1], "roomy")
        if self.view is not None:
            self.call_after_refresh(self.view.repaint_charts)

    def show_lesson(self, lesson: Lesson) -> LessonView:
        """Show `lesson`'s view in the current language, building it the first time."""
        key, before = (lesson.id, self.bench.lang), self.view
        if key not in self.built:
            view = LessonView(lesson, self.bench.form(lesson), self.devices, self.bench.lang,
                              model=lambda: self.bench.model(lesson))
            if before is not None and before.lesson is lesson:  # the same lesson in the other language
                view.current = before.current
            self.built[key] = view
            view.on_ready = lambda: self._ready(view)
            self.query_one("#lesson").mount(view)
        else:
            self._only(self.built[key])
        self.view = self.built[key]
        return self.view

    def _ready(self, view: LessonView) -> None:
        """A new view is built: it replaces the old one (kept on screen until now: no blank pane), and is drawn."""
        self._only(view)
        self.app.call_later(self.app.tick, True)  # type: ignore[attr-defined] - LabApp's redraw

    def _only(self, shown: LessonView) -> None:
        """Show `shown`, hide every other view."""
        for view in self.built.values():
            view.display = view is shown

    def action_tab(self, tab: str) -> None:
        """Switch to the Learn, Train or Code tab."""
        if self.view is not None:
            self.view.query_one(TabbedContent).active = tab

    def action_panel(self, index: int) -> None:
        """Bring the Train tab's panel `index` on screen: a chart, the results, the runs."""
        if self.view is not None and index < len(self.view.panels):
            self.action_tab("train")
            self.view.bring(index)
            self.view.show_runs(self.bench)

    def action_next_panel(self) -> None:
        """The next panel of the Train tab."""
        if self.view is not None:
            self.action_panel((self.view.current + 1) % len(self.view.panels))

    def action_zoom(self) -> None:
        """The current panel full screen, or back."""
        if self.view is not None:
            self.action_tab("train")
            self.view.zoom()

    def action_defaults(self) -> None:
        """Put the course's values back in the form."""
        if self.view is not None:
            self.view.form.reset_to_defaults()

    def action_leave_field(self) -> None:
        """Leave the field, so that the letter keys work again."""
        self.set_focus(None)

    def action_messages(self) -> None:
        """Every message of the session, whole."""
        self.app.push_screen(MessageLog(self.bench.log, self.bench.lang))

    def action_screenshot(self, filename: str | None = None) -> None:
        """Save the screen as SVG next to the run (or in the working folder), and say where."""
        name = filename or f"labapp-{self.bench.lesson.id}-{datetime.now():%Y%m%d-%H%M%S}.svg"
        self.app.message = self.bench.save(name, self.app.export_screenshot(), "screenshot saved")

    def action_save_code(self) -> None:
        """Save the Code tab's program as a .py file next to the run."""
        if self.view is not None:
            self.view.show_code()
            self.app.message = self.bench.save(f"{self.bench.lesson.id.replace('-', '_')}.py", self.view.code, "code saved")

    def action_export_run(self) -> None:
        """Export the run highlighted in the runs panel (else the latest) as CSV and SVG into its folder, and say where."""
        self.app.message = self.bench.export(self.view.chosen_run() if self.view else None)

    def action_copy_path(self) -> None:
        """Copy the folder of the run highlighted in the runs panel, else of the latest run."""
        path = self.bench.folder_of(self.view.chosen_run() if self.view else None)
        if path:
            self.app.copy_to_clipboard(path)
            self.app.message = self.bench.tell("copied", path=path)

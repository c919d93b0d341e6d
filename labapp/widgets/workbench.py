"""The workbench's screen: lesson list, the open lesson's view, status line and key bar; and the
actions that only move things on screen (tabs, panels, zoom). Its layout follows its size alone.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from datetime import datetime

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, OptionList, TabbedContent

from labapp.controller import Workbench
from labapp.lesson import Lesson
from labapp.messages import TorchLoaded
from labapp.records import PastRun
from labapp.widgets.chart import load_plotext
from labapp.widgets.keybar import KeyBar
from labapp.widgets.lesson_list import LessonList
from labapp.widgets.lesson_view import LessonView
from labapp.widgets.message_log import MessageLog
from labapp.widgets.status import StatusLine

ROOMY = (140, 40)  # columns and rows from which every panel of the Train tab shows at once
BUILD_WAIT = 5.0  # seconds quitting waits at most for a view being built (a bound, so that quit never hangs)
PREBUILD_PAUSE = 0.05  # seconds after a view is built before the one of the lesson highlighted in the list starts
KEPT_VIEWS = 6  # lesson views kept built: the ones shown last; each one more is restyled on every resize and taken down on quit


class WorkbenchScreen(Screen):
    """Everything the workbench shows; one LessonView per lesson and language, built once and kept."""

    AUTO_FOCUS = ""  # nothing, or the lesson list: letters are keys, and Tab goes to the first field (None would mean
    # the app's "*": back from the message log, the first focusable widget, the Learn tab's text, took the tab)
    ALLOW_IN_MAXIMIZED_VIEW = "#status, #keybar"  # a panel full screen (f) keeps the status line and the keys

    def __init__(self, bench: Workbench, devices: list[tuple[str, str]],
                 chosen: Callable[[str], None] = lambda lesson_id: None) -> None:
        super().__init__()
        self.bench = bench
        self.devices = devices
        self.lessons = LessonList(bench.catalogue, bench.lang, chosen=chosen, id="sidebar")
        self.status_line = StatusLine(id="status")
        self.keybar = KeyBar(id="keybar")
        self.area = Vertical(id="lesson")  # where the lesson views lie, one shown
        self.built: dict[tuple[str, str], LessonView] = {}
        self.view: LessonView | None = None
        self._prebuild_timer: Timer | None = None
        self.closing_down = False
        self.background_loads = False  # torch and plotext: loaded in the background once the first view is on screen
        self.thawed = False  # objects unfrozen (a view taken down) that no settle_memory has collected yet

    def compose(self) -> ComposeResult:
        """Sidebar and lesson area, then the status line and the key bar."""
        with Horizontal(id="body"):
            yield self.lessons
            yield self.area
        yield self.status_line
        yield self.keybar

    def on_mount(self) -> None:
        """The open lesson; the lesson list has focus while it shows."""
        gc.disable()  # building the first screen makes little garbage: collected once it shows (settle_memory)
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
        """Show `lesson`'s view in the current language: at once if built, else as soon as it is."""
        before = self.view
        self.view = self._view_of(lesson, self.bench.lang, before)
        if self.view.ready:
            if before is not None and before is not self.view and before.lesson is lesson:  # z: stay on the same tab
                self.view.query_one(TabbedContent).active = before.query_one(TabbedContent).active
            self._only(self.view)
        return self.view

    def _view_of(self, lesson: Lesson, lang: str, before: LessonView | None = None) -> LessonView:
        """`lesson`'s view in `lang`; built (out of sight) the first time it is asked for."""
        key = (lesson.id, lang)
        if key in self.built:
            self.built[key] = self.built.pop(key)  # the most recently asked for comes last
        else:
            view = LessonView(lesson, self.bench.form(lesson), self.devices, lang,
                              model=lambda: self.bench.model(lesson))
            if before is not None and before.lesson is lesson:  # the same lesson in the other language
                view.current = before.current
                if before.ready:
                    view.tab = before.query_one(TabbedContent).active
            self.built[key] = view
            view.on_ready = lambda: self._ready(view)
            view.display = False  # laid out and painted once, when whole: the old view stays until then
            self.area.mount(view)
        return self.built[key]

    def _ready(self, view: LessonView) -> None:
        """A view is built: if it is the one asked for, it replaces the old one and is drawn; then build the next."""
        self._keep_recent()
        self.call_after_refresh(self.settle_memory)
        if view is self.view:
            self._only(view)
            self.app.call_later(self.app.tick, True)  # type: ignore[attr-defined] - LabApp's redraw
            if not self.background_loads:
                self.background_loads = True
                self.call_after_refresh(self._load_in_background)
        self._prebuild_in(PREBUILD_PAUSE)

    def _load_in_background(self) -> None:
        """plotext for the charts, torch for the runs (this screen hears TorchLoaded), each on a thread of its own."""
        threading.Thread(target=load_plotext, name="labapp-load-plotext", daemon=True).start()
        self.bench.load_torch(lambda devices, error: self.post_message(TorchLoaded(devices, error)))

    def _keep_recent(self) -> None:
        """Take down the views asked for least recently, beyond KEPT_VIEWS (never the one on screen, nor one being
        built): what a lesson's run left lives in the workbench, so a view built again shows it all."""
        for key, view in list(self.built.items())[:max(0, len(self.built) - KEPT_VIEWS)]:
            if view is not self.view and view.ready:
                del self.built[key]
                view.remove()
                gc.unfreeze()  # its objects may be collected again: by the settle after the next run
                self.thawed = True

    def settle_memory(self, run_ended: bool = False) -> None:
        """What is alive now (Textual, the lesson views, torch once loaded) lives on: collect the garbage, then
        take the rest out of the garbage collector's care (gc.freeze), so that a full collection walks only what
        came later. Else each one walked torch's objects again: a pause of about 0.2 s here that a key press or
        a lesson opening waited out. Called once a view is built, once torch has loaded and once a run has ended
        (the runner unfreezes then, so that the run's own objects can go). Once a view has been taken down
        (thawed), only a run's end settles: collecting now would walk torch's objects, just as Enter opens the
        view built meanwhile; a view's 2 MB can wait."""
        gc.enable()
        if self.thawed and not run_ended:
            return
        gc.collect()
        gc.freeze()
        self.thawed = False

    def _prebuild(self) -> None:
        """Build the view of the lesson highlighted in the list out of sight, while the user reads the list, so
        that Enter only shows it; one view at a time, none while a run goes (the keys come first)."""
        if self.closing_down or not self.area.is_attached or any(not view.ready for view in self.built.values()):
            return  # closing; or that view's _ready comes back here
        if self.bench.active is not None:
            return
        highlighted = self.lessons.highlighted if self.lessons.display else None
        if highlighted is not None and (self.bench.catalogue[highlighted].id, self.bench.lang) not in self.built:
            self._view_of(self.bench.catalogue[highlighted], self.bench.lang)

    def _prebuild_in(self, seconds: float) -> None:
        """Call _prebuild after `seconds` (one timer at a time)."""
        if self._prebuild_timer is not None:
            self._prebuild_timer.stop()
        self._prebuild_timer = self.set_timer(seconds, self._prebuild)

    @on(OptionList.OptionHighlighted, "#sidebar")
    def _highlighted(self) -> None:
        """The highlighted lesson is built next, before Enter opens it."""
        self._prebuild()

    def on_unmount(self) -> None:
        """What this screen kept may be collected again once it goes (tests open many apps in one process)."""
        gc.unfreeze()
        gc.enable()

    async def views_built(self, timeout: float = BUILD_WAIT) -> None:
        """Wait (at most `timeout` seconds) for a view being built: Textual cannot take down a tree still mounting
        (its tab bar fails to find its tabs)."""
        self.closing_down = True  # no new one meanwhile
        deadline = time.monotonic() + timeout
        while any(not view.ready for view in self.built.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    def _only(self, shown: LessonView) -> None:
        """Show `shown`, hide every other view; its buttons say what can be done now."""
        for view in self.built.values():
            view.display = view is shown
        self.app.refresh_bindings()

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
        self.app.message = self.bench.export(self.chosen_run())

    def action_copy_path(self) -> None:
        """Copy the folder of the run highlighted in the runs panel, else of the latest run."""
        path = self.bench.folder_of(self.chosen_run())
        if path:
            self.app.copy_to_clipboard(path)
            self.app.message = self.bench.tell("copied", path=path)

    def action_escape_then(self, key: str) -> None:
        """alt+K is how a terminal sends Escape and K typed together (or read together under load): Textual hears one
        key, which a field would take as the letter K. Leave the field, then K."""
        self.set_focus(None)
        self.app.post_message(events.Key(key, key))

    # -- moved from LabApp: drawing what the controller holds ------------------------------------------

    def chosen_run(self) -> PastRun | None:
        """The run highlighted in the runs panel, if any."""
        return self.view.chosen_run() if self.view is not None else None

    def show_lessons(self, shown: bool) -> None:
        """Show the lesson list with the keys, or hide it (a hidden list must not keep the keys: PageDown on it
        raised in OptionList)."""
        self.lessons.display = shown
        if shown:
            self.lessons.focus()
        elif self.lessons.has_focus:
            self.set_focus(None)

    def draw(self, log_scale: bool, earlier: bool, charts: bool) -> None:
        """Redraw the view's step panel, and with `charts` its charts, views and runs (not while the app shuts down)."""
        view = self.view
        if view is None or not view.is_mounted or not view.is_attached:
            return
        if charts:
            view.draw(self.bench, log_scale, earlier)
            view.show_runs(self.bench)
        else:
            view.draw_step(self.bench)  # a step shows with the status line that says so

    def draw_status(self, message: str) -> None:
        """The status line (with `message`) and the key bar: what the controller offers now, or how to leave a field."""
        if not self.status_line.is_mounted:  # not yet, or no longer
            return
        bench = self.bench
        trace = bench.shown_trace()
        progress = bench.progress(trace) if trace is not None else None
        self.status_line.show(bench.state(), trace, progress, bench.form().device, message, bench.lang,
                              open_lesson=bench.lesson.id, sweep=bench.sweep_step())
        self.keybar.show(bench.lang, bench.offers, isinstance(self.focused, Input))

    def offer(self, message: str) -> None:
        """What can be done now: the view's Run, Stop and Step buttons as the controller offers them, the key bar
        and the status line."""
        if self.view is not None:
            self.view.enable(self.bench.offers("run"), self.bench.offers("stop"), self.bench.offers("step"))
        self.draw_status(message)

    def clear_views(self) -> None:
        """A new run: the view's results of the one before go."""
        if self.view is not None:
            self.view.clear_views()

    def on_torch_loaded(self, message: TorchLoaded) -> None:
        """torch is in (loaded by this screen): runs can start, and every form offers the devices found."""
        self.bench.torch_ready = True
        self.settle_memory()
        self.devices[:] = message.devices
        for view in self.built.values():
            view.form.set_devices(self.devices)
        if message.error:
            self.app.message = self.bench.tell("torch failed", error=message.error)  # type: ignore[attr-defined]
        self.draw_status(self.app.message)  # type: ignore[attr-defined]

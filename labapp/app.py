"""The labapp workbench: a view of labapp.controller.Workbench, which holds the state, starts the runs and decides
what is said and offered.

The app never touches torch: torch loads on a background thread after the first screen, and the
training thread only fills a RunTrace and posts RunStarted/RunEnded; the rest is pulled on a timer.
What is on screen, and the actions that only move it, belong to WorkbenchScreen. LabApp keeps the
state the user flips (language, log scale, earlier runs, sidebar, message) as reactives whose
watchers redraw, and the actions that start, stop and reset runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input

import lessons
from labapp.actions import ACTIONS, key_table
from labapp.cli import default_lang
from labapp.controller import Workbench
from labapp.lesson import Lesson, ParamError
from labapp.messages import RunEnded, RunStarted, StepShown
from labapp.traces import RunTrace
from labapp.widgets.param_form import ParamForm
from labapp.widgets.runs import RunsPanel
from labapp.widgets.workbench import WorkbenchScreen

TICK = 0.5  # seconds between status redraws; charts and views redraw every other tick (plotext is slow)


class LabApp(App):
    """The workbench. Its reactives' watchers redraw what each changes (repaint=False: never the whole screen)."""

    CSS_PATH = "app.tcss"
    TITLE = "labapp"
    BINDINGS = [Binding(keys, action, name, show=False, priority=priority) for keys, action, name, priority in key_table()]
    language = reactive("en", init=False, repaint=False)
    log_scale = reactive(False, init=False, repaint=False)
    earlier = reactive(True, init=False, repaint=False)  # earlier runs of this session drawn faint behind the current one
    sidebar = reactive(True, init=False, repaint=False)
    message = reactive("", init=False, repaint=False)  # what the status line says; the controller logs what it says

    def __init__(self, lesson_id: str | None = None, lang: str | None = None,
                 catalogue: tuple[Lesson, ...] = lessons.LESSONS) -> None:
        super().__init__()
        self.bench = Workbench(catalogue, lang or default_lang(), notify=self._heard)
        self.set_reactive(LabApp.language, self.bench.lang)
        self.set_reactive(LabApp.sidebar, lesson_id is None)  # chosen on the command line: no list needed
        if lesson_id:
            self.bench.open(lesson_id)
        self.devices: list[tuple[str, str]] = [("cpu", "CPU")]
        self.workbench = WorkbenchScreen(self.bench, self.devices, chosen=self.open_lesson)
        self.ticks = 0

    def get_default_screen(self) -> Screen:
        """The workbench's screen."""
        return self.workbench

    def on_mount(self) -> None:
        """Show the lesson (the screen then loads torch in the background), and redraw on a timer."""
        self.watch_sidebar(self.sidebar)  # the screen shows the lesson when it mounts
        self.set_interval(TICK, self.tick)

    def on_resize(self) -> None:
        """A new size: the screen has set its layout; draw into it."""
        self.call_after_refresh(self.tick, True)

    # -- drawing ----------------------------------------------------------------------------------

    def tick(self, charts: bool = False) -> None:
        """Hear of a run's end; redraw the status line, and every other tick the charts and views."""
        ended = self.bench.poll()
        if ended is not None:
            self.workbench.settle_memory(run_ended=True)  # the run's own objects may go now
            self.message, charts = ended.said, True
            self.refresh_bindings()
        self.ticks += 1
        self.workbench.draw(self.log_scale, self.earlier, charts or self.ticks % 2 == 0)
        self.workbench.draw_status(self.message)

    def watch_message(self) -> None:
        """A new message shows at once; so does the key bar's hint on leaving a field, when one takes the focus."""
        self.workbench.draw_status(self.message)

    on_descendant_focus = watch_message

    def watch_log_scale(self) -> None:
        """Redraw the charts."""
        self.tick(charts=True)

    watch_earlier = watch_log_scale

    def watch_sidebar(self, shown: bool) -> None:
        """Show or hide the lesson list."""
        self.workbench.show_lessons(shown)

    def watch_language(self, lang: str) -> None:
        """Every word again in `lang`: the lesson list, the lesson's view (built once per language), the bars."""
        self.bench.lang, self.message = lang, ""  # the message was said in the other language; the log keeps it
        self.workbench.lessons.set_lang(lang)
        self.workbench.show_lesson(self.bench.lesson)
        self.call_after_refresh(self.tick, True)
        self.refresh_bindings()

    def refresh_bindings(self) -> None:
        """Also offer what can be done now on the buttons of the view on screen and in the key bar."""
        if self.screen_stack:  # none left once the app closes, when a form's last change may still come in
            super().refresh_bindings()
            self.workbench.offer(self.message)

    # -- events -----------------------------------------------------------------------------------

    def open_lesson(self, lesson_id: str) -> None:
        """Enter in the lesson list: open the lesson at once, within that key press (a message would come after
        the next key, and a quick `b` would then act on the list before it folds away)."""
        self.set_focus(None)  # letters are keys; Tab goes to the first field
        self.workbench.show_lesson(self.bench.open(lesson_id))
        self.call_after_refresh(self.tick, True)
        self.sidebar = False
        self.message = ""

    @on(ParamForm.Changed)
    def _form_changed(self, event: ParamForm.Changed) -> None:
        """The form on screen changed: its first error (logged) or nothing shows, and Run follows."""
        if self.workbench.view is None or event.form is not self.workbench.view.form:
            return  # a view being built out of sight
        self.message = "" if event.valid else self.bench.say(event.form.state.first_error())
        self.refresh_bindings()

    @on(Input.Submitted, "ParamForm Input")
    def _submitted(self) -> None:
        """Enter in a field runs; focus then leaves the field, so s and q work at once."""
        self.action_run()
        if self.bench.active is not None:
            self.set_focus(None)

    @on(RunsPanel.Chosen)
    def _overlay(self, event: RunsPanel.Chosen) -> None:
        """Enter on a run of the runs panel: overlay it on the charts, or take it off."""
        shown = self.bench.toggle_overlay(event.run)
        self.message = self.bench.tell("overlaid" if shown else "removed", label=event.run.path.name)
        self.tick(charts=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Whether the controller allows `action` now (a key that it does not is not heard)."""
        return self.bench.allows(action)

    # -- actions ----------------------------------------------------------------------------------

    def _start(self, start: Callable[[], RunTrace], fresh: bool = True) -> RunTrace | None:
        """Start a run (`fresh`), or step the one going, through the controller, and show it; a refusal rings the
        bell and says why."""
        try:
            trace = start()
        except ParamError as error:
            self.bell()
            self.message = self.bench.say(str(error))
            return None
        if fresh:
            self.message = trace.no_records
            self.workbench.clear_views()
        self.refresh_bindings()
        self.tick(charts=True)
        return trace

    def action_run(self) -> None:
        """Train the open lesson with the form's values; a run in step mode goes on at full speed."""
        if self.bench.run_on():
            self.message = self.bench.tell("running on")
            self.workbench.action_panel(0)  # the first chart: the rest of the curve
            self.refresh_bindings()
        else:
            self._start(self.bench.start)

    def action_step(self) -> None:
        """One parameter update, shown in the step panel: the first starts the run in step mode."""
        if self._start(self.bench.step, fresh=self.bench.active is None) is not None:
            self.workbench.view.show_step()  # type: ignore[union-attr] - a lesson is open

    def action_resume(self) -> None:
        """Continue the stopped run highlighted in the runs panel (else the lesson's latest on disk) from its checkpoint."""
        trace = self._start(lambda: self.bench.resume(self.workbench.chosen_run()))
        if trace is not None:
            self.message = self.bench.tell("run folder", path=trace.run_dir)

    def action_stop(self) -> None:
        """Stop the run after its current step."""
        if self.bench.stop():
            self.message = self.bench.tell("stopping")

    def action_reset(self) -> None:
        """Clear this lesson's curves and results (not while it trains)."""
        if not self.bench.reset():
            self.message = self.bench.tell("busy", lesson=self.bench.lesson.id)
            return
        self.workbench.clear_views()
        self.message = ""
        self.tick(charts=True)

    def action_flip(self, name: str) -> None:
        """Turn the reactive `name` on or off: sidebar, log_scale, earlier."""
        setattr(self, name, not getattr(self, name))

    def action_toggle_lang(self) -> None:
        """中文 / English."""
        self.language = "en" if self.language == "zh" else "zh"

    def get_system_commands(self, screen: Screen):
        """The action table in the palette, in the UI's language (Textual's own, less its screenshot and quit)."""
        yield from (command for command in super().get_system_commands(screen) if command.title not in ("Screenshot", "Quit"))
        for action in (a for a in ACTIONS if a.palette):
            yield SystemCommand(f"{action.label(self.language)} ({action.key})", action.about(self.language),
                                lambda action=action: self.run_action(action.action))

    # -- news from other threads (torch loading is the screen's) ---------------------------------------

    def _heard(self, event: str, trace: Any) -> None:
        """From the training thread: post the news as a message (thread-safe)."""
        news = {"started": RunStarted, "held": StepShown}.get(event, RunEnded)
        self.post_message(news(trace))

    @on(RunStarted)
    @on(RunEnded)
    @on(StepShown)
    def _run_news(self) -> None:
        """A run began, made the update asked for, or ended: show it at once."""
        self.call_after_refresh(self.tick, True)
        self.refresh_bindings()

    async def action_quit(self) -> None:
        """Stop a run that is going, let it record how it ended, let a view being built finish, and exit."""
        self.bench.shutdown()
        await self.workbench.views_built()
        self.exit()

    def on_unmount(self) -> None:
        """No training thread outlives the app."""
        self.bench.shutdown()


def run_app(lesson_id: str | None = None) -> int:
    """Open the workbench; returns the exit code."""
    LabApp(lesson_id).run()
    return 0

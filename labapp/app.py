"""The labapp workbench: a view of labapp.controller.Workbench, which holds the state and starts the runs.

The app never touches torch: torch loads on a background thread after the first screen, and the
training thread only fills a RunTrace and posts RunStarted/RunEnded; the rest is pulled on a timer.
What is on screen, and the actions that only move it, belong to WorkbenchScreen.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, OptionList

import lessons
from labapp.actions import ACTIONS, key_table
from labapp.cli import default_lang
from labapp.controller import Workbench, ended_message
from labapp.lesson import Lesson, ParamError
from labapp.messages import RunEnded, RunStarted, StepShown, TorchLoaded
from labapp.strings import say
from labapp.widgets.param_form import ParamForm
from labapp.widgets.runs import RunsPanel
from labapp.widgets.workbench import WorkbenchScreen

TICK = 0.5  # seconds between status redraws; charts and views redraw every other tick (plotext is slow)


class LabApp(App):
    """The workbench."""

    CSS_PATH = "app.tcss"
    TITLE = "labapp"
    BINDINGS = [Binding(keys, action, name, show=False, priority=priority) for keys, action, name, priority in key_table()]
    # Their watchers redraw what each changes; repaint=False: a change never repaints the whole screen besides
    language = reactive("en", init=False, repaint=False)
    log_scale = reactive(False, init=False, repaint=False)
    earlier = reactive(True, init=False, repaint=False)  # earlier runs of this session drawn faint behind the current one
    sidebar = reactive(True, init=False, repaint=False)
    message = reactive("", init=False, repaint=False)

    def __init__(self, lesson_id: str | None = None, lang: str | None = None,
                 catalogue: tuple[Lesson, ...] = lessons.LESSONS) -> None:
        super().__init__()
        self.bench = Workbench(catalogue, lang or default_lang(), notify=self._heard)
        self.set_reactive(LabApp.language, self.bench.lang)
        self.set_reactive(LabApp.sidebar, lesson_id is None)  # chosen on the command line: no list needed
        if lesson_id:
            self.bench.open(lesson_id)
        self.devices: list[tuple[str, str]] = [("cpu", "CPU")]
        self.workbench = WorkbenchScreen(self.bench, self.devices)
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
            self.message = self._ended_said(ended)
            self.refresh_bindings()
            charts = True
        self.ticks += 1
        view = self.workbench.view
        drawable = view is not None and view.is_mounted and view.is_attached  # not while the app shuts down
        if drawable and (charts or self.ticks % 2 == 0):
            view.draw(self.bench, self.log_scale, self.earlier)  # type: ignore[union-attr]
            view.show_runs(self.bench)  # type: ignore[union-attr]
        elif drawable:
            view.draw_step(self.bench)  # type: ignore[union-attr] - a step shows with the status line that says so
        self._draw_status()

    def _ended_said(self, ended: Any) -> str:
        """What the status line says when a run ends: how, and where it is kept; in a sweep, which run and how the sweep ended."""
        bench = self.bench
        said = ended_message(ended, self.language) + (f" · {ended.run_dir}" if ended.run_dir else "")
        sweep = bench.sweep_of(ended.lesson)
        if sweep is None or ended not in sweep.traces:
            return bench.say(said)
        if not sweep.running:
            return bench.say(bench.sweep_said(sweep))
        step = f"{say('sweep', self.language)} {sweep.traces.index(ended) + 1}/{sweep.count} {ended.label}: "
        return bench.say(step + said)

    def _draw_status(self) -> None:
        screen, bench = self.workbench, self.bench
        if not screen.status_line.is_mounted:  # not yet, or no longer
            return
        trace = bench.shown_trace()
        progress = bench.progress(trace) if trace is not None else None
        screen.status_line.show(bench.state(), trace, progress, bench.form().device, self.message, self.language,
                                open_lesson=bench.lesson.id, sweep=bench.sweep_step())
        screen.keybar.show(self.language, self._offered, isinstance(screen.focused, Input))

    def _offered(self, action: str) -> bool:
        """Whether the key bar and the buttons offer `action` now (Run: not while a run goes, unless it steps)."""
        busy = self.bench.active is not None and not self.bench.stepping()
        if action == "step" and self.bench.lesson.step_mode is None:
            return False
        return bool(self.check_action(action, ())) and not (action == "run" and busy)

    def watch_message(self, message: str) -> None:
        """A new message shows at once, and goes to the message log."""
        self.bench.say(message)
        self._draw_status()

    def watch_log_scale(self) -> None:
        """Redraw the charts."""
        self.tick(charts=True)

    watch_earlier = watch_log_scale

    def watch_sidebar(self, shown: bool) -> None:
        """Show or hide the lesson list."""
        lessons = self.workbench.lessons
        lessons.display = shown
        if shown:
            lessons.focus()
        elif lessons.has_focus:  # a hidden list must not keep the keys (PageDown on it raised in OptionList)
            self.workbench.set_focus(None)

    def watch_language(self, lang: str) -> None:
        """Every word again in `lang`: the lesson list, the lesson's view (built once per language), the bars."""
        self.bench.lang = lang
        self.workbench.lessons.set_lang(lang)
        self.workbench.show_lesson(self.bench.lesson)
        self.call_after_refresh(self.tick, True)
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        """The key bar says how to leave a field while one has focus."""
        self._draw_status()

    # -- events -----------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#sidebar")
    def _lesson_chosen(self, event: OptionList.OptionSelected) -> None:
        self.set_focus(None)  # letters are keys; Tab goes to the first field (now: one layout, not two)
        self.workbench.show_lesson(self.bench.open(str(event.option.id)))
        self.call_after_refresh(self.tick, True)
        self.sidebar = False
        self.message = ""

    @on(ParamForm.Changed)
    def _form_changed(self, event: ParamForm.Changed) -> None:
        if self.workbench.view is None or event.form is not self.workbench.view.form:
            return  # a view being built out of sight
        self.message = "" if event.valid else event.form.state.first_error()
        self.refresh_bindings()

    @on(Input.Submitted, "ParamForm Input")
    def _submitted(self) -> None:
        """Enter in a field runs; focus then leaves the field, so s and q work at once."""
        self.action_run()
        if self.bench.active is not None:
            self.set_focus(None)

    @on(RunsPanel.Chosen)
    def _overlay(self, event: RunsPanel.Chosen) -> None:
        shown = self.bench.toggle_overlay(event.run)
        self.message = self.bench.tell("overlaid" if shown else "removed", label=event.run.path.name)
        self.tick(charts=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run needs a valid form (while a run goes it says so); Stop needs a run going."""
        if action == "run":
            return self.bench.form().valid
        if action == "step":  # a lesson without step mode hears the key, and says so
            return self.bench.active is not None or self.bench.form().valid
        if action == "resume":
            return self.bench.active is None
        return self.bench.active is not None if action == "stop" else True

    def refresh_bindings(self) -> None:
        """Also enable or disable the Run, Stop and Step buttons of the view on screen (a view shown calls this);
        redraw the key bar."""
        super().refresh_bindings()
        if self.workbench.view is not None:
            self.workbench.view.enable(self._offered("run"), self._offered("stop"), self._offered("step"))
        self._draw_status()

    # -- actions ----------------------------------------------------------------------------------

    def action_run(self) -> None:
        """Train the open lesson with the form's values; a run in step mode goes on at full speed."""
        if self.bench.run_on():
            self.message = self.bench.tell("running on")
            self.workbench.view.bring(0)  # type: ignore[union-attr] - the first chart: the rest of the curve
            self.refresh_bindings()
            return
        try:
            trace = self.bench.start()
        except ParamError as error:
            self.bell()
            self.message = self.bench.say(str(error))
            return
        self.message = trace.no_records
        self.workbench.view.clear_views()  # type: ignore[union-attr]
        self.refresh_bindings()
        self.tick(charts=True)

    def action_step(self) -> None:
        """One parameter update, shown in the step panel: the first starts the run in step mode."""
        started = self.bench.active is None
        try:
            trace = self.bench.step()
        except ParamError as error:
            self.bell()
            self.message = self.bench.say(str(error))
            return
        if started:
            self.message = trace.no_records
            self.workbench.view.clear_views()  # type: ignore[union-attr]
        self.workbench.view.show_step()  # type: ignore[union-attr]
        self.refresh_bindings()

    def action_resume(self) -> None:
        """Continue the stopped run highlighted in the runs panel (else the lesson's latest on disk) from its checkpoint."""
        view = self.workbench.view
        past = view.chosen_run() if view is not None else None
        if past is None:
            runs = self.bench.past_runs()
            past = runs[0] if runs else None  # newest first
        try:
            trace = self.bench.resume(past)
        except ParamError as error:
            self.bell()
            self.message = self.bench.say(str(error))
            return
        self.message = self.bench.tell("run folder", path=trace.run_dir)
        if view is not None:
            view.clear_views()
        self.refresh_bindings()
        self.tick(charts=True)

    def action_stop(self) -> None:
        """Stop the run after its current step."""
        if self.bench.stop():
            self.message = self.bench.tell("stopping")

    def action_reset(self) -> None:
        """Clear this lesson's curves and results (not while it trains)."""
        if not self.bench.reset():
            self.message = self.bench.tell("busy", lesson=self.bench.lesson.id)
            return
        self.workbench.view.clear_views()  # type: ignore[union-attr]
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

    # -- news from other threads ------------------------------------------------------------------

    def on_torch_loaded(self, message: TorchLoaded) -> None:
        """Offer the devices found."""
        self.bench.torch_ready = True
        self.devices[:] = message.devices
        if message.error:
            self.message = self.bench.tell("torch failed", error=message.error)
        for view in self.workbench.built.values():
            view.form.set_devices(self.devices)
        self._draw_status()

    def _heard(self, event: str, trace: Any) -> None:
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

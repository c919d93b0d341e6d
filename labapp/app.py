"""The labapp workbench: a view of labapp.controller.Workbench, which holds the state and starts the runs.

The app never touches torch: torch loads on a background thread after the first screen, and the
training thread only fills a RunTrace and posts RunStarted/RunEnded; the rest is pulled on a timer.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, OptionList, TabbedContent

import lessons
from labapp.actions import ACTIONS, EXTRA_KEYS, PANEL_KEYS, TABS
from labapp.cli import default_lang
from labapp.controller import Workbench, ended_message
from labapp.lesson import Lesson, ParamError
from labapp.messages import Predicted, RunEnded, RunStarted, TorchLoaded
from labapp.strings import say
from labapp.widgets.keybar import KeyBar
from labapp.widgets.lesson_list import LessonList
from labapp.widgets.lesson_view import LessonView
from labapp.widgets.message_log import MessageLog
from labapp.widgets.param_form import ParamForm
from labapp.widgets.runs import RunsPanel
from labapp.widgets.status import StatusLine
from labapp.widgets.try_box import TryBox

ROOMY = (140, 40)  # columns and rows from which every panel of the Train tab shows at once
TICK = 0.5  # seconds between status redraws; charts and views redraw every other tick (plotext is slow)


def _bindings() -> list[Binding]:
    """The keys of the action table, the extra keys, and the digits for tabs and panels."""
    keys = [Binding(a.keys, a.action, a.name, show=False, priority=a.priority) for a in ACTIONS]
    keys += [Binding(key, action, action, show=False, priority=True) for key, action in EXTRA_KEYS]
    keys += [Binding(str(n), f"tab('{tab}')", tab, show=False) for n, tab in enumerate(TABS, 1)]
    return keys + [Binding(key, f"panel({n})", "panel", show=False) for n, key in enumerate(PANEL_KEYS)]


class LabApp(App):
    """The workbench."""

    CSS_PATH = "app.tcss"
    TITLE = "labapp"
    BINDINGS = _bindings()
    language = reactive("en", init=False)
    log_scale = reactive(False, init=False)
    earlier = reactive(True, init=False)  # earlier runs of this session drawn faint behind the current one
    sidebar = reactive(True, init=False)
    message = reactive("", init=False)

    def __init__(self, lesson_id: str | None = None, lang: str | None = None,
                 catalogue: tuple[Lesson, ...] = lessons.LESSONS) -> None:
        super().__init__()
        self.bench = Workbench(catalogue, lang or default_lang(), notify=self._heard)
        self.set_reactive(LabApp.language, self.bench.lang)
        self.set_reactive(LabApp.sidebar, lesson_id is None)  # chosen on the command line: no list needed
        if lesson_id:
            self.bench.open(lesson_id)
        self.devices: list[tuple[str, str]] = [("cpu", "CPU")]
        self.built: dict[tuple[str, str], LessonView] = {}  # (lesson id, language) -> its view, built once
        self.view: LessonView | None = None
        self.ticks = 0
        self.sidebar_list = LessonList(self.bench.catalogue, self.bench.lang, id="sidebar")
        self.status_line = StatusLine(id="status")
        self.keybar = KeyBar(id="keybar")

    def compose(self) -> ComposeResult:
        """Sidebar and lesson area, then the status line and the key bar."""
        with Horizontal(id="body"):
            yield self.sidebar_list
            yield Vertical(id="lesson")
        yield self.status_line
        yield self.keybar

    def on_mount(self) -> None:
        """Show the lesson, then load torch in the background."""
        sidebar = self.sidebar_list
        sidebar.highlighted = self.bench.catalogue.index(self.bench.lesson)
        sidebar.display = self.sidebar
        self._show(self.bench.lesson)
        if self.sidebar:
            sidebar.focus()
        else:
            self.call_after_refresh(self.set_focus, None)
        self.set_interval(TICK, self.tick)
        self.call_after_refresh(self._load_torch)

    def on_resize(self) -> None:
        """The layout follows the size now, whatever it was before: roomy shows every panel."""
        roomy = self.size.width >= ROOMY[0] and self.size.height >= ROOMY[1]
        self.screen_stack[0].set_class(roomy, "roomy")
        self.tick(charts=True)

    def _show(self, lesson: Lesson) -> None:
        """Show `lesson`'s view in the current language, building it the first time."""
        key = (lesson.id, self.language)
        if key not in self.built:
            self.built[key] = LessonView(lesson, self.bench.form(lesson), self.devices, self.language)
            self.query_one("#lesson").mount(self.built[key])
        for view in self.built.values():
            view.display = view is self.built[key]
        self.view = self.built[key]
        self.call_after_refresh(self.tick, True)

    # -- drawing ----------------------------------------------------------------------------------

    def tick(self, charts: bool = False) -> None:
        """Hear of a run's end; redraw the status line, and every other tick the charts and views."""
        ended = self.bench.poll()
        if ended is not None:
            self.message = self.bench.say(ended_message(ended, self.language)
                                          + (f" · {ended.run_dir}" if ended.run_dir else ""))
            self.refresh_bindings()
            charts = True
            if self.view and self.view.lesson is ended.lesson:
                self._show_runs()
        self.ticks += 1
        if (charts or self.ticks % 2 == 0) and self.view is not None:
            traces = self.bench.chart_traces(self.earlier)
            for chart in self.view.charts:
                chart.show(traces, self.log_scale, self.earlier)
            latest = self.bench.latest()
            self.view.views.show(latest.views if latest else {})
            self.view.no_results.display = not (latest and latest.views)
        self._draw_status()

    def _draw_status(self) -> None:
        bench, trace = self.bench, self.bench.shown_trace()
        if trace is not None:
            state = "waiting for torch" if trace.status == "starting" and not bench.torch_ready else trace.status
        else:
            state = "idle" if bench.torch_ready else "loading torch"
        progress = bench.progress(trace) if trace is not None else None
        if not self.status_line.is_mounted:  # the app is closing
            return
        self.status_line.show(state, trace, progress, bench.form().device,
                                        self.message, self.language)
        in_field = isinstance(self.focused, Input)
        self.keybar.show(self.language, lambda action: self.check_action(action, ()) is not False, in_field)

    def _show_runs(self) -> None:
        if self.view is not None:
            overlaid = set(self.bench.overlaid.get(self.bench.lesson.id, {}))
            self.view.runs.show(self.bench.past_runs(), overlaid)

    def watch_message(self) -> None:
        """A new message shows at once."""
        self._draw_status()

    def watch_log_scale(self) -> None:
        """Redraw the charts."""
        self.tick(charts=True)

    watch_earlier = watch_log_scale

    def watch_sidebar(self, shown: bool) -> None:
        """Show or hide the lesson list."""
        sidebar = self.sidebar_list
        sidebar.display = shown
        if shown:
            sidebar.focus()

    def watch_language(self, lang: str) -> None:
        """Every word again in `lang`: the lesson list, the lesson's view (built once per language), the bars."""
        self.bench.lang = lang
        self.sidebar_list.set_lang(lang)
        current = self.view.current if self.view else 0
        self._show(self.bench.lesson)
        self.view.current = current  # type: ignore[union-attr]
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        """The key bar says how to leave a field while one has focus."""
        self._draw_status()

    # -- events -----------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#sidebar")
    def _lesson_chosen(self, event: OptionList.OptionSelected) -> None:
        self.bench.open(str(event.option.id))
        self._show(self.bench.lesson)
        self.sidebar = False
        self.message = ""
        self.call_after_refresh(self.set_focus, None)  # letters are keys; Tab goes to the first field

    @on(ParamForm.Changed)
    def _form_changed(self, event: ParamForm.Changed) -> None:
        self.message = "" if event.valid else event.form.state.first_error()
        self.refresh_bindings()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in a field runs; focus then leaves the field, so s and q work at once."""
        self.action_run()
        if self.bench.active is not None:
            self.set_focus(None)

    @on(RunsPanel.Chosen)
    def _overlay(self, event: RunsPanel.Chosen) -> None:
        shown = self.bench.toggle_overlay(event.run)
        label = f"{event.run.started[:16]} ({event.run.path.name})"
        self.message = say("overlaid" if shown else "removed", self.language, label=label)
        self._show_runs()
        self.tick(charts=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run needs a valid form and no run going; Stop needs a run going."""
        if action == "run":
            return self.bench.active is None and self.bench.form().valid
        if action == "stop":
            return self.bench.active is not None
        return True

    def refresh_bindings(self) -> None:
        """Also enable or disable the Run and Stop buttons, and redraw the key bar."""
        super().refresh_bindings()
        for view in self.built.values():
            for button in view.query("#run, #stop"):
                button.disabled = not self.check_action(str(button.id), ())
        if self.is_mounted:
            self._draw_status()

    # -- actions ----------------------------------------------------------------------------------

    def action_run(self) -> None:
        """Train the open lesson with the form's values."""
        try:
            trace = self.bench.start()
        except ParamError as error:
            self.bell()
            self.message = self.bench.say(str(error))
            return
        self.message = trace.no_records
        self.view.views.clear()  # type: ignore[union-attr]
        self.refresh_bindings()
        self.tick(charts=True)

    def action_stop(self) -> None:
        """Stop the run after its current step."""
        if self.bench.stop():
            self.message = say("stopping", self.language)

    def action_reset(self) -> None:
        """Clear this lesson's curves and results (not while it trains)."""
        if not self.bench.reset():
            self.message = say("busy", self.language, lesson=self.bench.lesson.id)
            return
        self.view.views.clear()  # type: ignore[union-attr]
        self.message = ""
        self.tick(charts=True)

    def action_defaults(self) -> None:
        """Put the course's values back in the form."""
        if self.view is not None:
            self.view.form.reset_to_defaults()

    def action_tab(self, tab: str) -> None:
        """Switch to the Learn, Train or Code tab."""
        for tabs in self.view.query(TabbedContent) if self.view else ():
            tabs.active = tab

    def action_panel(self, index: int) -> None:
        """Bring the Train tab's panel `index` on screen: a chart, the results, the runs."""
        if self.view is None or self.view.form is None or index >= len(self.view.panels):
            return
        self.action_tab("train")
        self.view.show_panel(index)
        if self.view.panels[index] is self.view.runs:
            self._show_runs()
            self.view.runs.query_one("DataTable").focus()
        elif self.view.panels[index] is self.view.results:
            for box in self.view.query("#try-input"):
                box.focus()
        if self.screen.maximized is not None:
            self.screen.maximize(self.view.panels[index], container=False)

    def action_next_panel(self) -> None:
        """The next panel of the Train tab."""
        if self.view is not None:
            self.action_panel((self.view.current + 1) % len(self.view.panels))

    def action_zoom(self) -> None:
        """The current panel full screen, or back."""
        if self.screen.maximized is not None:
            self.screen.minimize()
        elif self.view is not None:
            self.action_tab("train")
            self.screen.maximize(self.view.panels[self.view.current], container=False)

    def action_toggle_sidebar(self) -> None:
        """Show or hide the lesson list."""
        self.sidebar = not self.sidebar

    def action_toggle_log(self) -> None:
        """Plot log10 of the values, or the values."""
        self.log_scale = not self.log_scale

    def action_toggle_earlier(self) -> None:
        """Show or hide earlier runs of this lesson."""
        self.earlier = not self.earlier

    def action_toggle_lang(self) -> None:
        """中文 / English."""
        self.language = "en" if self.language == "zh" else "zh"

    def action_leave_field(self) -> None:
        """Leave the field, so that the letter keys work again."""
        self.set_focus(None)

    def action_messages(self) -> None:
        """Every message of the session, whole."""
        self.push_screen(MessageLog(self.bench.log, self.language))

    def _folder(self) -> Path:
        """Where files go: the open lesson's latest run folder, else the working folder."""
        trace = self.bench.latest()
        return Path(trace.run_dir) if trace and trace.run_dir else Path.cwd()

    def _saved(self, name: str, write: Any) -> None:
        path = self._folder() / name
        try:
            write(path)
        except OSError as error:
            self.message = self.bench.say(say("save failed", self.language, error=error))
        else:
            self.message = self.bench.say(say("code saved" if name.endswith(".py") else "screenshot saved",
                                              self.language, path=path))

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save the screen as SVG next to the run (or in the working folder), and say where."""
        from datetime import datetime

        name = filename or f"labapp-{self.bench.lesson.id}-{datetime.now():%Y%m%d-%H%M%S}.svg"
        self._saved(name, lambda target: target.write_text(self.export_screenshot(), encoding="utf-8"))

    def action_save_code(self) -> None:
        """Save the Code tab's program as a .py file next to the run."""
        if self.view is not None:
            self.view.show_code()
            code = self.view.code
            self._saved(f"{self.bench.lesson.id.replace('-', '_')}.py", lambda target: target.write_text(code, encoding="utf-8"))

    def action_copy_path(self) -> None:
        """Copy the highlighted run's folder (runs panel), else the latest run's."""
        run = self.view.runs.highlighted() if self.view and self.view.form and self.view.runs.has_class("-current") else None
        path = str(run.path) if run else (self.bench.latest().run_dir if self.bench.latest() else "")
        if path:
            self.copy_to_clipboard(path)
            self.message = self.bench.say(say("copied", self.language, path=path))

    def get_system_commands(self, screen: Screen):
        """The action table in the palette, in the UI's language (Textual's own, less its screenshot and quit)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Quit"):
                yield command
        for action in ACTIONS:
            yield SystemCommand(f"{action.label(self.language)} ({action.key})", action.about(self.language),
                                lambda action=action: self.run_action(action.action))

    # -- torch, runs and try-it -------------------------------------------------------------------

    def _load_torch(self) -> None:
        def load() -> None:
            try:
                from labapp.runner import available_devices

                self.post_message(TorchLoaded(available_devices()))
            except Exception as error:  # noqa: BLE001 - shown to the user, the app stays up
                self.post_message(TorchLoaded([("cpu", "CPU")], error=str(error)))

        threading.Thread(target=load, name="labapp-load-torch", daemon=True).start()

    def on_torch_loaded(self, message: TorchLoaded) -> None:
        """Offer the devices found."""
        self.bench.torch_ready = True
        self.devices[:] = message.devices
        if message.error:
            self.message = self.bench.say(say("torch failed", self.language, error=message.error))
        for view in self.built.values():
            if view.form is not None:
                view.form.set_devices(self.devices)
        self._draw_status()

    def _heard(self, event: str, trace: Any) -> None:
        self.post_message(RunStarted(trace) if event == "started" else RunEnded(trace))

    def on_run_started(self, message: RunStarted) -> None:
        """Training has begun."""
        self.tick()

    def on_run_ended(self, message: RunEnded) -> None:
        """The run ended: show how, at once."""
        self.call_after_refresh(self.tick, True)

    @on(TryBox.Asked)
    def _try_asked(self, event: TryBox.Asked) -> None:
        """Answer with the model of the lesson's run going now, else of its last run."""
        bench, lesson = self.bench, self.bench.lesson
        live = bench.run.kept if bench.run is not None and bench.active and bench.active.lesson is lesson else None
        state = live if live is not None else bench.models.get(lesson.id)
        if state is None or lesson.try_it is None:
            event.box.say(say("no model", self.language))
            return
        event.box.say(say("thinking", self.language))
        self._predict(lesson, state, event.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="try-it")
    def _predict(self, lesson: Lesson, state: Any, text: str) -> None:
        """Off the UI thread, the lesson's predict (which imports torch); only posts its answer."""
        try:
            self.post_message(Predicted(lesson.id, text, value=lesson.try_it.predict(state, text)))  # type: ignore[union-attr]
        except Exception as error:  # noqa: BLE001 - told in the box; the app stays up
            self.post_message(Predicted(lesson.id, text, error=f"{type(error).__name__}: {error}"))

    def on_predicted(self, message: Predicted) -> None:
        """Show the answer, if its lesson is still on screen."""
        for box in self.view.query(TryBox) if self.view and message.lesson_id == self.bench.lesson.id else ():
            box.show(message.value) if not message.error else box.say(say("try failed", self.language, error=message.error))

    async def action_quit(self) -> None:
        """Stop a run that is going, let it record how it ended, and exit."""
        self.bench.shutdown()
        self.exit()

    def on_unmount(self) -> None:
        """No training thread outlives the app."""
        self.bench.shutdown()


def run_app(lesson_id: str | None = None) -> int:
    """Open the workbench; returns the exit code."""
    LabApp(lesson_id).run()
    return 0

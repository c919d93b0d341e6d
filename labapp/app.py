"""The labapp workbench: lessons in a sidebar; explanation, form, live chart and status for the chosen one.

The app never touches torch: torch is imported on a background thread after the first screen,
and training runs on one thread of the app's own that only fills a RunTrace and posts messages.
"""

from __future__ import annotations

import threading
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widget import AwaitMount
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, TabbedContent, Tabs

import lessons
from labapp.cli import default_lang
from labapp.lesson import Lesson, ParamError
from labapp.messages import Predicted, RunEnded, RunRefused, RunStarted, TorchLoaded
from labapp.records import RecordsError, RunRecorder, default_root
from labapp.runner import Run
from labapp.traces import RunTrace, TraceSink, describe
from labapp.widgets.footer import LabFooter
from labapp.widgets.lesson_list import LessonList
from labapp.widgets.lesson_view import LessonView
from labapp.widgets.param_form import ParamForm
from labapp.widgets.status import StatusLine
from labapp.widgets.try_box import TryBox
from labapp.widgets.views import ViewsPanel

WIDE = 140  # columns from which the explanation sits beside the training area
NARROW = 100  # columns below which the sidebar closes once a lesson is open
# While training, the status line redraws twice a second and the charts once: building and painting
# a plotext chart costs tens of milliseconds on the UI thread, time the training thread would wait
# for (the GIL). benchmarks/tui.py measures what the workbench costs a run.
STATUS_TICK = 0.5
CHART_TICK = 1.0
QUIT_WAIT = 1.5  # seconds to let a stopping run write its summary before exiting

WORDS = {
    "zh": {"busy": "{lesson} 正在训练：先按 s 停止", "no_lesson": "先打开一课（回车）",
           "no_model": "还没有训练好的模型：先运行这一课（r），第一个 epoch 结束后就能试",
           "thinking": "计算中…", "try_failed": "没能回答：{error}",
           "records_off": "{error}：照常训练，但不保存运行记录"},
    "en": {"busy": "{lesson} is training: stop it first (s)", "no_lesson": "open a lesson first (Enter)",
           "no_model": "no trained model yet: run the lesson (r); the box answers once its first epoch ends",
           "thinking": "thinking…", "try_failed": "no answer: {error}",
           "records_off": "{error}: training goes on without run records"},
}


class LabApp(App):
    """The workbench."""

    CSS_PATH = "app.tcss"
    TITLE = "labapp"
    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("f5", "run", "Run", show=False, priority=True),
        Binding("s", "stop", "Stop"),
        Binding("f6", "stop", "Stop", show=False, priority=True),
        Binding("x", "reset", "Reset"),
        Binding("d", "defaults", "Defaults"),
        Binding("b", "toggle_sidebar", "Lessons"),
        Binding("1", "tab('learn')", "Learn", show=False),  # the tabs show their keys
        Binding("2", "tab('train')", "Train", show=False),
        Binding("3", "tab('code')", "Code", show=False),
        Binding("g", "toggle_log", "Log"),
        Binding("o", "toggle_overlays", "Earlier"),
        Binding("z", "toggle_lang", "中/EN"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, lesson_id: str | None = None, lang: str | None = None,
                 catalogue: tuple[Lesson, ...] = lessons.LESSONS) -> None:
        super().__init__()
        self.lang = lang or default_lang()
        self.catalogue = catalogue
        self.lesson: Lesson = self._lesson(lesson_id) if lesson_id else catalogue[0]
        self.texts: dict[str, dict[str, str]] = {}  # lesson id -> form texts, kept across switches
        self.traces: dict[str, list[RunTrace]] = {}  # lesson id -> runs since the app started
        self.devices: list[tuple[str, str]] = [("cpu", "CPU")]
        self.device = "auto"
        self.torch_state = "loading torch"
        self.current_run: Run | None = None
        self.active: RunTrace | None = None
        self.models: dict[str, Any] = {}  # lesson id -> the model its latest run kept, for the TryBox
        self.thread: threading.Thread | None = None
        self.message = ""
        self.log_scale = False
        self.overlays = True
        self.sidebar_open = True
        self.view: LessonView | None = None
        self.status_line = StatusLine(id="status")

    # -- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Sidebar and lesson area, then the status line and the footer."""
        with Horizontal(id="body"):
            yield LessonList(self.catalogue, self.lang, id="sidebar")
            yield Vertical(id="lesson")
        yield self.status_line
        yield LabFooter(compact=True)

    def on_mount(self) -> None:
        """Show the first lesson, then load torch in the background."""
        sidebar = self.query_one(LessonList)
        sidebar.highlighted = self.catalogue.index(self.lesson)
        sidebar.focus()
        self._open(self.lesson)
        self.set_interval(STATUS_TICK, self._draw_status)
        self.set_interval(CHART_TICK, self._tick)
        self.call_after_refresh(self._load_torch)

    def _lesson(self, lesson_id: str) -> Lesson:
        return next(lesson for lesson in self.catalogue if lesson.id == lesson_id)

    def on_resize(self) -> None:
        """Explanation beside training when wide; the sidebar folds away when narrow."""
        self.screen.set_class(self.size.width >= WIDE, "wide")

    def _open(self, lesson: Lesson) -> AwaitMount:
        """Show `lesson` in the lesson area, keeping the form edits of the one we leave."""
        self._keep_form()
        tab = "train"
        for tabs in self.query(TabbedContent):
            tab = tabs.active or tab
        self.lesson = lesson
        area = self.query_one("#lesson", Vertical)
        area.remove_children()
        self.call_after_refresh(self._tick)
        self.view = LessonView(lesson, self.texts.get(lesson.id, {}), self.devices, self.device, self.lang, tab)
        return area.mount(self.view)

    def _keep_form(self) -> None:
        if self.form is not None:
            self.texts[self.form.lesson.id] = dict(self.form.texts)
            self.device = self.form.device

    @property
    def form(self) -> ParamForm | None:
        """The form of the lesson on screen, if it has one (and it is mounted)."""
        form = self.view.form if self.view is not None else None
        return form if form is not None and form.is_mounted else None

    # -- drawing ----------------------------------------------------------------------------------

    def _tick(self) -> None:
        """Redraw the charts, views and status from the traces (every CHART_TICK, and on events)."""
        traces = self.traces.get(self.lesson.id, [])
        view = self.view
        if view is not None and view.is_mounted:
            for chart in view.charts:
                chart.show(traces, self.log_scale, self.overlays)
            if traces and view.views is not None:
                view.views.show(traces[-1].views)
        self._draw_status()

    def _draw_status(self) -> None:
        trace = self.active or (self.traces.get(self.lesson.id) or [None])[-1]
        if self.active is not None:
            state = "waiting for torch" if self.active.status == "starting" and self.torch_state != "ready" \
                else self.active.status
        elif trace is not None:
            state = trace.status
        else:
            state = "loading torch" if self.torch_state == "loading torch" else "idle"
        form = self.form
        device = form.device if form else self.device
        if self.status_line.is_mounted:  # not while the app is closing
            self.status_line.show(state, trace, device, self.message)

    def _say(self, message: str) -> None:
        self.message = message
        self._draw_status()

    # -- torch ------------------------------------------------------------------------------------

    def _load_torch(self) -> None:
        def load() -> None:
            try:
                from labapp.runner import available_devices

                self.post_message(TorchLoaded(available_devices()))
            except Exception as error:  # noqa: BLE001 - shown to the user, the app stays up
                self.post_message(TorchLoaded([("cpu", "CPU")], error=f"torch could not load: {error}"))

        threading.Thread(target=load, name="labapp-load-torch", daemon=True).start()

    def on_torch_loaded(self, message: TorchLoaded) -> None:
        """Offer the devices found."""
        self.torch_state = "ready"
        self.devices = message.devices
        if message.error:
            self.message = message.error
        if self.form is not None:
            self.form.set_devices(self.devices)
        self._draw_status()

    # -- events -----------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#sidebar")
    async def _lesson_chosen(self, event: OptionList.OptionSelected) -> None:
        await self._open(self._lesson(event.option.id))
        if self.size.width < NARROW:
            self._set_sidebar(False)
        self.call_after_refresh(self._focus_tabs)  # after the hidden sidebar has given up focus
        self.message = ""
        self._draw_status()

    def _focus_tabs(self) -> None:
        """Focus the tab bar: letters work as keys there, Tab moves into the form."""
        for tabs in self.query(Tabs):
            tabs.focus()
            return
        self.query_one(LessonList).focus()

    def on_key(self, event) -> None:
        """Escape leaves a form field, so that the letter keys work again."""
        if event.key == "escape" and isinstance(self.focused, Input):
            event.stop()
            self._focus_tabs()

    @on(ParamForm.Changed)
    def _form_changed(self, event: ParamForm.Changed) -> None:
        self.message = "" if event.valid else event.form.first_error()
        self.refresh_bindings()
        self._draw_status()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in a field runs; focus then leaves the field, so s and q work at once."""
        self.action_run()
        if self.active is not None:
            self._focus_tabs()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {"run": self.action_run, "stop": self.action_stop, "reset": self.action_reset,
                   "defaults": self.action_defaults}
        if event.button.id in actions:
            actions[event.button.id]()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run is disabled while the form is invalid; Stop only works while a run is going."""
        if action == "run":
            form = self.form
            return form is not None and form.valid
        if action == "stop":
            return self.active is not None
        return True

    def refresh_bindings(self) -> None:
        """Also enable or disable the Run and Stop buttons."""
        super().refresh_bindings()
        for button in self.query("#run").results(Button):
            button.disabled = self.active is not None or not self.check_action("run", ())
        for button in self.query("#stop").results(Button):
            button.disabled = self.active is None

    # -- runs -------------------------------------------------------------------------------------

    def action_run(self) -> None:
        """Train the lesson on screen with the form's values."""
        form = self.form
        if self.active is not None:
            self._say(WORDS[self.lang]["busy"].format(lesson=self.active.lesson.id))
            return
        if form is None:
            self._say(WORDS[self.lang]["no_lesson"])
            return
        try:
            values = form.values()
        except ParamError as error:
            self.bell()
            self._say(str(error))
            return
        lesson = self.lesson
        runs = self.traces.setdefault(lesson.id, [])
        trace = RunTrace(lesson=lesson, values=values, number=len(runs) + 1, label=describe(lesson, values))
        runs.append(trace)
        recorder, trace.no_records = self._recorder(lesson)
        self.message = trace.no_records
        if trace.no_records:
            self.notify(trace.no_records, severity="warning", timeout=8)
        sinks: list = [TraceSink(trace, self._notify, run_dir=lambda: recorder and recorder.path)]
        if recorder is not None:
            sinks.insert(0, recorder)  # first, so its folder exists when the trace hears of the start
        self.current_run = Run(lesson, values, device=form.device, sinks=sinks)
        self.active = trace
        for views in self.query(ViewsPanel):
            views.clear()
        self.thread = threading.Thread(target=self._train, args=(self.current_run, trace), name="labapp-train", daemon=True)
        self.thread.start()
        self.refresh_bindings()
        self._tick()

    def _recorder(self, lesson: Lesson) -> tuple[RunRecorder | None, str]:
        """A recorder for a run of `lesson`; or none, and why, when its folder cannot be written."""
        recorder = RunRecorder(default_root())
        try:
            recorder.check(lesson.id)
        except RecordsError as error:
            return None, WORDS[self.lang]["records_off"].format(error=error)
        return recorder, ""

    def _train(self, run: Run, trace: RunTrace) -> None:
        """The training thread: prepare (device, data), then run; only posts messages."""
        try:
            run.prepare()
        except Exception as error:  # noqa: BLE001 - a missing device or dataset: told, not raised
            trace.status, trace.message = "failed", str(error)
            self.post_message(RunRefused(trace, str(error)))
            return
        try:
            run.run()
        except Exception as error:  # noqa: BLE001 - the runner reports its own failures; this is the last guard
            if trace.running:
                trace.status, trace.message = "failed", f"failed: {type(error).__name__}: {error}"
                self.post_message(RunEnded(trace))

    def _notify(self, event: str, trace: RunTrace) -> None:
        self.post_message(RunStarted(trace) if event == "started" else RunEnded(trace))

    def on_run_started(self, message: RunStarted) -> None:
        """Training has begun."""
        self._draw_status()

    def on_run_ended(self, message: RunEnded) -> None:
        """Show how the run ended; the app stays ready for the next."""
        trace = message.trace
        self._finish(trace, trace.message)

    def on_run_refused(self, message: RunRefused) -> None:
        """The run could not start."""
        self.notify(message.reason, severity="error", timeout=8)
        self._finish(message.trace, message.reason)

    def _finish(self, trace: RunTrace, text: str) -> None:
        if trace is self.active:
            if self.current_run is not None and self.current_run.kept is not None:
                self.models[trace.lesson.id] = self.current_run.kept
            self.active = None
            self.current_run = None
        if trace.run_dir:
            text += f" · {trace.run_dir}"
        elif trace.no_records:
            text += f" · {trace.no_records}"
        self.message = text
        self.refresh_bindings()
        self._tick()

    # -- try it -----------------------------------------------------------------------------------

    @on(TryBox.Asked)
    def _try_asked(self, event: TryBox.Asked) -> None:
        """Answer with the model of the lesson's run going now (its latest epoch), else of its last run."""
        lesson = self.lesson
        state = None
        if self.active is not None and self.active.lesson is lesson and self.current_run is not None:
            state = self.current_run.kept
        if state is None:
            state = self.models.get(lesson.id)
        if state is None or lesson.try_it is None:
            event.box.say(WORDS[self.lang]["no_model"])
            return
        event.box.say(WORDS[self.lang]["thinking"])
        self._predict(lesson, state, event.text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="try-it")
    def _predict(self, lesson: Lesson, state: Any, text: str) -> None:
        """Off the UI thread, the lesson's predict (which imports torch); only posts its answer."""
        try:
            self.post_message(Predicted(lesson.id, text, value=lesson.try_it.predict(state, text)))
        except Exception as error:  # noqa: BLE001 - told in the box; the app stays up
            self.post_message(Predicted(lesson.id, text, error=f"{type(error).__name__}: {error}"))

    def on_predicted(self, message: Predicted) -> None:
        """Show the answer, if its lesson is still on screen."""
        if message.lesson_id != self.lesson.id:
            return
        for box in self.query(TryBox):
            if message.error:
                box.say(WORDS[self.lang]["try_failed"].format(error=message.error))
            else:
                box.show(message.value)

    def action_stop(self) -> None:
        """Stop the run after its current step."""
        if self.current_run is not None:
            self.current_run.request_stop()
            self._say("stopping…")

    def action_reset(self) -> None:
        """Clear this lesson's curves and results (not while it trains)."""
        if self.active is not None and self.active.lesson is self.lesson:
            self._say(WORDS[self.lang]["busy"].format(lesson=self.lesson.id))
            return
        self.traces.pop(self.lesson.id, None)
        for views in self.query(ViewsPanel):
            views.clear()
        self.message = ""
        self._tick()

    def action_defaults(self) -> None:
        """Put the course's values back in the form."""
        if self.form is not None:
            self.form.reset_to_defaults()

    # -- view toggles -----------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        """Switch to the Learn, Train or Code tab."""
        for tabs in self.query(TabbedContent):
            tabs.active = tab

    def action_toggle_sidebar(self) -> None:
        """Show or hide the lesson list."""
        self._set_sidebar(not self.sidebar_open)

    def _set_sidebar(self, open_: bool) -> None:
        self.sidebar_open = open_
        sidebar = self.query_one(LessonList)
        sidebar.display = open_
        if open_:
            sidebar.focus()

    def action_toggle_log(self) -> None:
        """Plot log10 of the values, or the values."""
        self.log_scale = not self.log_scale
        self._tick()

    def action_toggle_overlays(self) -> None:
        """Show or hide earlier runs of this lesson."""
        self.overlays = not self.overlays
        self._tick()

    async def action_toggle_lang(self) -> None:
        """中文 / English."""
        self.lang = "en" if self.lang == "zh" else "zh"
        self.query_one(LessonList).set_lang(self.lang)
        await self._open(self.lesson)
        if not self.sidebar_open:
            self._focus_tabs()

    def get_system_commands(self, screen: Screen):
        """The workbench's actions in the command palette (ctrl+p)."""
        yield from super().get_system_commands(screen)
        for key, action, title, about in (
                ("r", self.action_run, "Run", "train the lesson with the form's values"),
                ("s", self.action_stop, "Stop", "stop the run after its current step"),
                ("x", self.action_reset, "Reset", "clear this lesson's curves and results"),
                ("d", self.action_defaults, "Course defaults", "put the course's values back in the form"),
                ("b", self.action_toggle_sidebar, "Toggle lessons", "show or hide the lesson list"),
                ("g", self.action_toggle_log, "Toggle log scale", "plot log10 of the values"),
                ("o", self.action_toggle_overlays, "Toggle earlier runs", "show or hide earlier runs"),
                ("z", self.action_toggle_lang, "中文 / English", "switch the language")):
            yield SystemCommand(f"{title} ({key})", about, action)

    # -- quitting ---------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Stop a run that is going, give it a moment to write its summary, and exit."""
        self._stop_training()
        self.exit()

    def _stop_training(self) -> None:
        if self.current_run is not None:
            self.current_run.request_stop()
        if self.thread is not None and self.thread.is_alive():
            self.thread.join(QUIT_WAIT)

    def on_unmount(self) -> None:
        """No training thread outlives the app."""
        self._stop_training()


def run_app(lesson_id: str | None = None) -> int:
    """Open the workbench; returns the exit code."""
    LabApp(lesson_id).run()
    return 0

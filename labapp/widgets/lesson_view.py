"""The area for one lesson: title, then Learn / Train / Code tabs. Built once per lesson and language.

The Train tab holds the form and the panels: one per chart, the results (the lesson's views and
its try-it box), a classifier's mistakes (its confusion views) and the runs on disk. Narrow, one
panel shows at a time (keys 4, 5, ...); roomy (WorkbenchScreen's `roomy` class), all of them. The
explanation and the code render when first shown.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text as RichText
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane
from textual.widgets._tabbed_content import ContentTabs

from labapp import confusion
from labapp.actions import PANEL_KEYS
from labapp.controller import Form, Workbench
from labapp.records import PastRun
from labapp.lesson import Lesson
from labapp.panel_bar import bar_rows, short_name
from labapp.report import wrap_cell
from labapp.strings import glue_numbers, say
from labapp.widgets.chart import LessonChart
from labapp.widgets.param_form import ParamForm
from labapp.widgets.runs import RunsPanel
from labapp.widgets.step_panel import StepPanel
from labapp.widgets.try_box import TryBox
from labapp.widgets.views import FittedText, ViewsPanel


def module_source(lesson: Lesson) -> str:
    """The lesson's module: the code that runs in labapp."""
    path = inspect.getsourcefile(lesson.train) if lesson.train else None
    return Path(path).read_text(encoding="utf-8") if path else "# source not found"


def program_text(lesson: Lesson, form: Form, lang: str) -> str:
    """The take-away program for the form's values (a sweep's: its first run's), else the lesson's module under a note."""
    from labapp.program import program_source

    try:
        point = form.grid.points[0]  # type: ignore[union-attr] - None while the form is invalid: the module shows
        source = program_source(lesson, point.values, seed=point.seed, device=form.device)
        if source and form.is_sweep:
            source = say("sweep program", lang, label=point.label(lesson), count=len(form.grid.points)) + "\n" + source  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - invalid values or no program: the module still shows
        source = None
    return source if source else say("no program", lang) + "\n\n" + module_source(lesson)


class PanelBar(Static):
    """The Train tab's panel bar, drawn again whenever its own width changes: a view built out of sight, or
    behind another tab, learns its width only when it is shown."""

    def __init__(self, draw: Callable[[], None], **kwargs) -> None:
        super().__init__("", **kwargs)
        self.draw = draw

    def on_resize(self) -> None:
        """Names fitted to the new width."""
        self.draw()


class LessonView(Vertical):
    """Everything about one lesson; the app's Workbench keeps its data, this only lays it out."""

    def __init__(self, lesson: Lesson, form: Form, devices: list[tuple[str, str]], lang: str,
                 model: Callable[[], Any] = lambda: None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.lang = lang
        self.model = model
        self.form = ParamForm(form, devices, lang, id="form")
        self.charts = [LessonChart(chart, lang, classes="chart panel") for chart in lesson.charts]
        confusions = [view for view in lesson.views if view.kind == confusion.KIND]
        self.views = ViewsPanel(lesson, lang, [v for v in lesson.views if v not in confusions], id="views")
        # what a classifier gets wrong: a panel of its own, next to the results
        self.mistakes = ViewsPanel(lesson, lang, confusions, empty=say("no results", lang), id="mistakes",
                                   classes="panel") if confusions else None
        self.runs = RunsPanel(lesson, lang, id="runs", classes="panel")
        self.results = VerticalScroll(id="results", classes="panel")
        self.no_results = Static(say("no results", lang), id="no-results")
        self.sweep_table = FittedText(id="sweep-table")  # a sweep's ranked runs, as `labapp sweep` prints them
        self.sweep_box = Vertical(self.sweep_table, id="sweep-box")
        self.sweep_box.display = False  # until the lesson has a sweep
        self._sweep_shown: tuple[str, str] = ("", "")
        # step mode's panel, for a lesson that has one: last, so the other panels keep their keys
        self.step = StepPanel(lesson, lang, id="step", classes="panel") if lesson.step_mode is not None else None
        self.panels: list[Widget] = [*self.charts, self.results, *filter(None, [self.mistakes, self.runs, self.step])]
        self.shapes = FittedText(self.shapes_layout, id="shapes-before")  # the model's shapes for the form's values
        for panel in self.panels:
            panel.ALLOW_MAXIMIZE = True  # type: ignore[misc] - a chart or a panel may fill the screen (f)
        self.current = 0
        self.tab = "train"  # the tab it opens on (the other language's view passes on its own)
        self.code = ""  # the text on the Code tab, once shown
        self.on_ready: Callable[[], None] = lambda: None  # called once the view is built and mounted
        self.ready = False

    def compose(self) -> ComposeResult:
        """Title; then the tabs, with the panels of the Train tab."""
        lesson, lang = self.lesson, self.lang
        yield Static(f"[b]{lesson.number}. {lesson.title(lang)}[/b]  [dim]{lesson.id}[/dim]", id="title")
        with TabbedContent(initial=self.tab, id="tabs"):
            with TabPane(f"{say('learn', lang)} 1", id="learn"):
                yield VerticalScroll(id="learn-text")
            with TabPane(f"{say('train', lang)} 2", id="train"):
                with Horizontal(id="workbench"):
                    yield self.form
                    with Vertical(id="panels"):
                        yield PanelBar(self.draw_bar, id="panel-bar")
                        with Horizontal(id="chart-row", classes="row"):
                            yield from self.charts
                        with Horizontal(id="info-row", classes="row"):
                            with self.results:
                                if lesson.try_it is not None:
                                    yield TryBox(lesson.try_it, lang, self.model, label=lambda word: lesson.label(word, lang), id="try")
                                yield self.shapes
                                yield self.no_results
                                yield self.sweep_box
                                yield self.views
                            if self.mistakes is not None:
                                yield self.mistakes
                            yield self.runs
                            if self.step is not None:
                                yield self.step
            with TabPane(f"{say('code', lang)} 3", id="code"):
                yield VerticalScroll(Static("", id="source"), id="code-scroll")

    def on_mount(self) -> None:
        """Show the first panel; the tab bar gives up focus (keys 1 2 3 switch tabs), so Tab goes to the first field."""
        tabs = self.query(ContentTabs)
        if not tabs:
            return  # taken down before it was built: the app is closing
        tabs.first().can_focus = False
        self.show_shapes()
        self.show_panel(self.current)
        self.ready = True
        self.on_ready()

    def on_param_form_changed(self) -> None:
        """The shapes follow the form's values as they are typed (the app hears the message too)."""
        self.show_shapes()

    def show_shapes(self) -> None:
        """The model's shapes for the form's values, worked out without torch; nothing if the lesson has no model."""
        self.shapes.display = self.lesson.shapes is not None
        if self.shapes.display:
            self.shapes.relayout()

    def shapes_layout(self, width: int) -> str:
        """The model's shapes laid out for `width` columns (or why there are none: the form holds an error)."""
        return self.form.state.shapes(self.lang, width) or ""

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Render the explanation or the code when its tab is first shown."""
        if event.pane.id == "learn" and not self.query("#learn-text Markdown"):
            from textual.widgets import Markdown  # markdown-it loads when an explanation is first read

            text = self.lesson.explanation(self.lang)
            self.query_one("#learn-text").mount(Markdown(glue_numbers(text) if self.lang == "zh" else text))
        elif event.pane.id == "code":
            self.show_code()
        if not self.display:
            return
        scrollers = {"learn": self.query_one("#learn-text"), "code": self.query_one("#code-scroll")}
        if event.pane.id in scrollers:  # the arrow and page keys read on
            scrollers[event.pane.id].focus()
        elif self.screen.focused in scrollers.values():  # the Train tab: a hidden text keeps no keys
            self.screen.set_focus(None)

    def show_code(self) -> None:
        """The program for the form's current values on the Code tab."""
        from labapp.widgets.code import WrappedCode  # pygments loads when code is first shown

        code = program_text(self.lesson, self.form.state, self.lang)
        if code != self.code:
            self.code = code
            self.query_one("#source", Static).update(WrappedCode(code))

    def show_panel(self, index: int) -> None:
        """Make panel `index` the current one (the one shown when only one fits)."""
        self.current = index % len(self.panels)
        current = self.panels[self.current]
        for panel in self.panels:
            panel.set_class(panel is current, "-current")
        for row in self.query(".row"):
            row.set_class(current.parent is row, "-current")
        self.draw_bar()
        self.call_after_refresh(self.repaint_charts)

    def repaint_charts(self) -> None:
        """Paint the charts again once the layout has settled (a chart shown again may have a new size)."""
        for chart in self.charts:
            chart.refresh()

    def bring(self, index: int) -> None:
        """Make panel `index` current and give it the keys: its runs table, or the panel itself where it scrolls
        (results, mistakes, step: the arrow and page keys scroll it; never a text box, so the panel keys keep
        working); nothing for a chart. Zoom it if zoomed."""
        self.show_panel(index)
        panel = self.panels[self.current]
        table = panel.query("#runs-table")
        if table:
            table.first().focus()
        elif panel.can_focus:
            panel.focus()
        else:
            self.screen.set_focus(None)
        if self.screen.maximized is not None:
            self.screen.maximize(panel, container=False)

    def zoom(self) -> None:
        """The current panel full screen, or back."""
        if self.screen.maximized is not None:
            self.screen.minimize()
        else:
            self.screen.maximize(self.panels[self.current], container=False)

    def panel_names(self) -> list[str]:
        """The panels' names in the UI's language: chart titles, results, mistakes (a classifier's), runs, step."""
        names = {self.results: say("results", self.lang), self.mistakes: say("mistakes", self.lang),
                 self.runs: say("runs", self.lang), self.step: say("step panel", self.lang)}
        return [chart.title(self.lang) for chart in self.lesson.charts] + [names[p] for p in self.panels[len(self.charts):]]

    def panel_shorts(self) -> list[str]:
        """The panels' short names for the bar: each chart's own short name (else its title without its parenthesis)."""
        charts = [chart.short_title(self.lang) if chart.short else short_name(chart.title(self.lang))
                  for chart in self.lesson.charts]
        return charts + self.panel_names()[len(charts):]

    def draw_bar(self) -> None:
        """The panel bar: `4 Loss  5 Accuracy  6 Results ...` on one or two rows, the current one highlighted, each clickable."""
        room = max(20, self.query_one(PanelBar).size.width - 1)
        bar = RichText()
        for number, row in enumerate(bar_rows(PANEL_KEYS, self.panel_names(), self.current, room, self.panel_shorts())):
            if number:
                bar.append("\n")
            for index, text in row:
                bar.append(text, style=Style(reverse=index == self.current, meta={"@click": f"screen.panel({index})"}))
        self.query_one(PanelBar).update(bar)  # one row or two: its height follows

    def draw(self, bench: Workbench, log_scale: bool, earlier: bool) -> None:
        """Redraw the charts and views from the workbench's runs (each widget repaints only on change)."""
        traces = bench.chart_traces(earlier)
        sweep = bench.sweep_of(self.lesson)
        for chart in self.charts:
            chart.show(traces, log_scale, earlier, sweep=sweep.points() if sweep is not None else ())
        latest = bench.latest(self.lesson)
        self.views.show(latest.views if latest else {})
        self.show_sweep(bench)
        empty = not (latest and latest.views) and sweep is None
        if self.no_results.display != empty:  # set only on a change: each setting lays the screen out again
            self.no_results.display = empty
        self.draw_step(bench)
        if self.mistakes is not None:
            self.mistakes.show(latest.views if latest else {})

    def show_sweep(self, bench: Workbench) -> None:
        """The lesson's sweep, ranked: the table `labapp sweep` prints, in the UI's language (hidden when there is none)."""
        sweep = bench.sweep_of(self.lesson)
        self.sweep_box.display = sweep is not None
        if sweep is None:
            return
        done = "" if not sweep.running else say("sweep so far", self.lang, done=len(sweep.results), count=sweep.count)
        head = f"{say('sweep table', self.lang)}{done}"
        shown = (head, sweep.table(self.lang) if sweep.results else "")
        if shown != self._sweep_shown:  # laid out anew for the width only when the table changed
            self._sweep_shown = shown
            lang, ended = self.lang, bool(sweep.results)
            self.sweep_table.relayout(lambda width: "\n".join(
                [*wrap_cell(head, width), *([sweep.table(lang, width)] if ended else [])]))

    def draw_step(self, bench: Workbench) -> None:
        """The step panel, from the lesson's latest run (cheap when nothing changed: every tick may call it)."""
        if self.step is not None:
            latest = bench.latest(self.lesson)
            self.step.show(latest, held=bench.state() == "stepping" and bench.active is latest)

    def show_step(self) -> None:
        """Bring the step panel on screen (step mode has begun or gone on)."""
        if self.step is not None and self.panels[self.current] is not self.step:
            self.bring(self.panels.index(self.step))

    def clear_views(self) -> None:
        """Empty the results and the mistakes (a new run starts, or the lesson is reset)."""
        self.views.clear()
        if self.mistakes is not None:
            self.mistakes.clear()

    def show_runs(self, bench: Workbench) -> None:
        """Fill the runs panel from disk, if it is on screen."""
        if self.runs.has_class("-current") or self.screen.has_class("roomy"):
            self.runs.show(bench.past_runs(self.lesson), set(bench.overlaid.get(self.lesson.id, {})), bench.best_folders(self.lesson))

    def chosen_run(self) -> PastRun | None:
        """The run highlighted in the runs panel, while that panel is the current one."""
        return self.runs.highlighted() if self.runs.has_class("-current") else None

    def enable(self, run: bool, stop: bool, step: bool = False) -> None:
        """Enable or disable the Run, Stop and Step buttons."""
        wanted = {"run": run, "stop": stop, "step": step}
        for button in self.form.query("#run, #stop, #step-button"):  # none yet while the view is being built
            button.disabled = not wanted[(button.id or "").removesuffix("-button")]

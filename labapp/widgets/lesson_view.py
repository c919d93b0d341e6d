"""The area for one lesson: title, then Learn / Train / Code tabs. Built once per lesson and language.

The Train tab holds the form and the panels: one per chart, the results (the lesson's views and
its try-it box) and the runs on disk. Narrow, one panel shows at a time (keys 4, 5, ...); roomy
(WorkbenchScreen's `roomy` class), all of them. The explanation and the code render when first shown.
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

from labapp.actions import PANEL_KEYS
from labapp.controller import Form, Workbench
from labapp.records import PastRun
from labapp.lesson import Lesson
from labapp.strings import fit, say, width
from labapp.widgets.chart import LessonChart
from labapp.widgets.param_form import ParamForm
from labapp.widgets.runs import RunsPanel
from labapp.widgets.try_box import TryBox
from labapp.widgets.views import ViewsPanel


def module_source(lesson: Lesson) -> str:
    """The lesson's module: the code that runs in labapp."""
    path = inspect.getsourcefile(lesson.train) if lesson.train else None
    return Path(path).read_text(encoding="utf-8") if path else "# source not found"


def program_text(lesson: Lesson, form: Form, lang: str) -> str:
    """The take-away program for the form's values, else the lesson's module under a one-line note."""
    from labapp.program import program_source

    try:
        source = program_source(lesson, form.values(), seed=form.seed(), device=form.device)
    except Exception:  # noqa: BLE001 - invalid values or no program: the module still shows
        source = None
    return source if source else say("no program", lang) + "\n\n" + module_source(lesson)


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
        self.views = ViewsPanel(lesson, lang, id="views")
        self.runs = RunsPanel(lesson, lang, id="runs", classes="panel")
        self.results = VerticalScroll(id="results", classes="panel")
        self.no_results = Static(say("no results", lang), id="no-results")
        self.panels: list[Widget] = [*self.charts, self.results, self.runs]
        for panel in self.panels:
            panel.ALLOW_MAXIMIZE = True  # type: ignore[misc] - a chart or a panel may fill the screen (f)
        self.current = 0
        self.code = ""  # the text on the Code tab, once shown
        self.on_ready: Callable[[], None] = lambda: None  # called once the view is built and mounted
        self.ready = False

    def compose(self) -> ComposeResult:
        """Title; then the tabs, with the panels of the Train tab."""
        lesson, lang = self.lesson, self.lang
        yield Static(f"[b]{lesson.number}. {lesson.title(lang)}[/b]  [dim]{lesson.id}[/dim]", id="title")
        with TabbedContent(initial="train", id="tabs"):
            with TabPane(f"{say('learn', lang)} 1", id="learn"):
                yield VerticalScroll(id="learn-text")
            with TabPane(f"{say('train', lang)} 2", id="train"):
                with Horizontal(id="workbench"):
                    yield self.form
                    with Vertical(id="panels"):
                        yield Static("", id="panel-bar")
                        with Horizontal(id="chart-row", classes="row"):
                            yield from self.charts
                        with Horizontal(id="info-row", classes="row"):
                            with self.results:
                                if lesson.try_it is not None:
                                    yield TryBox(lesson.try_it, lang, self.model, id="try")
                                yield self.no_results
                                yield self.views
                            yield self.runs
            with TabPane(f"{say('code', lang)} 3", id="code"):
                yield VerticalScroll(Static("", id="source"), id="code-scroll")

    def on_mount(self) -> None:
        """Show the first panel; the tab bar gives up focus (keys 1 2 3 switch tabs), so Tab goes to the first field."""
        tabs = self.query(ContentTabs)
        if not tabs:
            return  # taken down before it was built: the app is closing
        tabs.first().can_focus = False
        self.show_panel(self.current)
        self.ready = True
        self.on_ready()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Render the explanation or the code when its tab is first shown."""
        if event.pane.id == "learn" and not self.query("#learn-text Markdown"):
            from textual.widgets import Markdown  # markdown-it loads when an explanation is first read

            self.query_one("#learn-text").mount(Markdown(self.lesson.explanation(self.lang)))
        elif event.pane.id == "code":
            self.show_code()

    def show_code(self) -> None:
        """The program for the form's current values on the Code tab."""
        from rich.syntax import Syntax  # pygments loads when code is first shown

        code = program_text(self.lesson, self.form.state, self.lang)
        if code != self.code:
            self.code = code
            self.query_one("#source", Static).update(
                Syntax(code, "python", line_numbers=True, word_wrap=False, theme="ansi_dark"))

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
        """Make panel `index` current, focus its runs table (never a text box: the panel keys must keep working), zoom it if zoomed."""
        self.show_panel(index)
        panel = self.panels[self.current]
        for widget in panel.query("#runs-table"):
            widget.focus()
        if self.screen.maximized is not None:
            self.screen.maximize(panel, container=False)

    def zoom(self) -> None:
        """The current panel full screen, or back."""
        if self.screen.maximized is not None:
            self.screen.minimize()
        else:
            self.screen.maximize(self.panels[self.current], container=False)

    def panel_names(self) -> list[str]:
        """The panels' names in the UI's language: chart titles, results, runs."""
        return [chart.title(self.lang) for chart in self.lesson.charts] + [say("results", self.lang), say("runs", self.lang)]

    def draw_bar(self) -> None:
        """The panel bar: `4 Loss  5 Accuracy  6 Results ...`, the current one highlighted, each clickable."""
        names = self.panel_names()
        room = max(20, self.query_one("#panels").size.width - 1)
        current = min(width(names[self.current]), room // 2)  # the current panel's name whole, if it can be
        longest = max(width(name) for name in names)

        def sizes() -> list[int]:
            return [current if i == self.current else min(longest, width(n)) for i, n in enumerate(names)]

        while sum(size + 4 for size in sizes()) > room and (longest > 3 or current > 3):
            if longest > 3:
                longest -= 1
            else:
                current -= 1
        bar = RichText()
        for index, name in enumerate(names):
            style = Style(reverse=index == self.current, meta={"@click": f"screen.panel({index})"})
            bar.append(f" {PANEL_KEYS[index]} {fit(name, sizes()[index])} ", style=style)
        self.query_one("#panel-bar", Static).update(bar, layout=False)  # one line, whatever it says

    def draw(self, bench: Workbench, log_scale: bool, earlier: bool) -> None:
        """Redraw the charts and views from the workbench's runs (each widget repaints only on change)."""
        traces = bench.chart_traces(earlier)
        for chart in self.charts:
            chart.show(traces, log_scale, earlier)
        latest = bench.latest(self.lesson)
        self.views.show(latest.views if latest else {})
        empty = not (latest and latest.views)
        if self.no_results.display != empty:  # set only on a change: each setting lays the screen out again
            self.no_results.display = empty

    def show_runs(self, bench: Workbench) -> None:
        """Fill the runs panel from disk, if it is on screen."""
        if self.runs.has_class("-current") or self.screen.has_class("roomy"):
            self.runs.show(bench.past_runs(self.lesson), set(bench.overlaid.get(self.lesson.id, {})))

    def chosen_run(self) -> PastRun | None:
        """The run highlighted in the runs panel, while that panel is the current one."""
        return self.runs.highlighted() if self.runs.has_class("-current") else None

    def enable(self, run: bool, stop: bool) -> None:
        """Enable or disable the Run and Stop buttons."""
        for button in self.form.query("#run, #stop"):  # none yet while the view is being built
            button.disabled = not (run if button.id == "run" else stop)

    def on_resize(self) -> None:
        """The bar's names fit the new width."""
        self.call_after_refresh(self.draw_bar)

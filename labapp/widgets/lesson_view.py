"""The area for one lesson: title, then Learn / Train / Code tabs (and the explanation beside them when wide)."""

from __future__ import annotations

import inspect
from pathlib import Path

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Markdown, Static, TabbedContent, TabPane

from labapp.lesson import Lesson
from labapp.widgets.chart import LessonChart
from labapp.widgets.param_form import ParamForm
from labapp.widgets.try_box import TryBox
from labapp.widgets.views import ViewsPanel

TABS = {"zh": ("讲解 1", "训练 2", "代码 3"), "en": ("Learn 1", "Train 2", "Code 3")}


def lesson_source(lesson: Lesson) -> Syntax:
    """The lesson's module, highlighted: the program that runs."""
    path = inspect.getsourcefile(lesson.train)
    code = Path(path).read_text(encoding="utf-8") if path else "# source not found"
    return Syntax(code, "python", line_numbers=True, word_wrap=True, theme="ansi_dark")


class LessonView(Vertical):
    """Everything about one lesson; the app keeps its data, this only lays it out."""

    def __init__(self, lesson: Lesson, texts: dict[str, str], devices: list[tuple[str, str]], device: str,
                 lang: str, tab: str = "train", **kwargs) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.texts = texts
        self.devices = devices
        self.device = device
        self.lang = lang
        self.tab = tab
        # The widgets the app updates several times a second, kept so it never searches the DOM for them.
        self.form: ParamForm | None = None
        self.charts: list[LessonChart] = []
        self.views: ViewsPanel | None = None

    def compose(self) -> ComposeResult:
        """Title; then the explanation, form, charts, views and code."""
        lesson, lang = self.lesson, self.lang
        yield Static(f"[b]{lesson.number}. {lesson.title(lang)}[/b]  [dim]{lesson.id}[/dim]", id="title")
        learn, train, code = TABS[lang]
        explanation = lesson.explanation(lang)
        with Horizontal(id="split"):
            with VerticalScroll(id="side-learn"):
                yield Markdown(explanation)
            with TabbedContent(initial=self.tab, id="tabs"):
                with TabPane(learn, id="learn"):
                    with VerticalScroll():
                        yield Markdown(explanation)
                with TabPane(train, id="train"):
                    with Horizontal(id="workbench"):
                        self.form = ParamForm(lesson, self.texts, self.devices, self.device, lang, id="form")
                        yield self.form
                        with Vertical(id="results"):
                            with Vertical(id="charts"):
                                self.charts = [LessonChart(chart, lang, classes="chart") for chart in lesson.charts]
                                yield from self.charts
                            if lesson.try_it is not None:
                                yield TryBox(lesson.try_it, lang, id="try")
                            self.views = ViewsPanel(lesson, lang, id="views")
                            yield self.views
                with TabPane(code, id="code"):
                    with VerticalScroll():
                        yield Static(lesson_source(lesson), id="source")

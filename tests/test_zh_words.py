"""In Chinese, every lesson's screen words are Chinese: a short run of each lesson, everything it shows
(views, chart titles, axes and legends, the status line, the end message, the runs table's header,
the try-it box) rendered in zh and searched for English words.

Identifiers may stay: torch and Python names (nn.Linear, ReLU, MaxPool2d), the lesson's parameter
names and choices, units (MiB), the course's own strings ('hello'), and names written in capitals
(MSE, SGD, BCE). Anything else in Latin letters is a word a Chinese reader should not meet.
"""

from __future__ import annotations

import re

import pytest

import lessons
from labapp import data
from labapp.controller import ended_message
from labapp.lesson import ChoiceParam, Lesson, Metric, MultiChoiceParam, ViewValue
from labapp.progress import headline_values
from labapp.report import chart_series, series_label, view_text
from labapp.runner import FINISHED, Run
from labapp.strings import say, unit_word
from labapp.traces import RunTrace, plan_traces
from labapp.widgets.status import first_line, status_parts
from lessons import _data
from tests.data_fixtures import checksum_of, stand_in
from tests.mnist_fixtures import write_mnist
from tests.test_lessons_data import make_diabetes
from tests.test_lessons_mnist import TEST, TRAIN, tiny_digits
from tests.test_lessons_rnn import write_names

SHORT = {  # a short run of each lesson (the explorers and summaries run too)
    "dataset-dataloader": {"epochs": "2", "num_workers": "0"},
    "softmax-mnist": {"epochs": "1"}, "cnn-basics": {"epochs": "1"}, "sequential": {"epochs": "1"},
    "cnn-advanced": {"epochs": "1"},
    "rnn-classifier": {"epochs": "1", "hidden_size": "8", "n_layers": "1", "predict": "Nakamoto,,李"},
    "linear-regression": {"epochs": "5", "compare": "SGD,Adam"}, "logistic-regression": {"epochs": "5"},
    "multi-dim-input": {"epochs": "5"}, "gradient-descent": {"epochs": "5"}, "backprop": {"epochs": "5"},
    "rnn-basics": {"epochs": "3"},
}

# Names a Chinese screen keeps as they are: torch, Python and the course's own identifiers.
IDENTIFIERS = {
    "nn", "torch", "tensor", "dim", "input", "input2", "target", "weight", "log", "exp", "cos", "max", "min",
    "margin", "delta", "pos", "pred", "true", "predict", "hello", "ohlol", "inputs", "labels", "hidden", "out",
    "emb", "fc", "view", "batch", "seq", "len", "size", "num", "rnncell", "incep", "mp", "conv", "cpu", "cuda",
    "mps", "auto", "lr", "momentum", "none", "sum", "mean", "mse", "sse", "MiB", "Linear", "Flatten", "Sigmoid",
    "Adam", "Adagrad", "Adamax", "Rprop", "Inception", "loss", "embedding", "logit", "anchor", "positive",
    "negative", "all",
    # the layer-list syntax of lesson 10 and the shape traces (`conv 10 5, pool 2, linear 10`), and code values
    "linear", "pool", "flatten", "pad", "stride", "False", "True", "inf", "nan", "logits",
    # libraries and the program's own commands
    "numpy", "torchvision", "labapp", "sweep",
}
QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")  # a message quoted as torch says it (an error's own words)
WORD = re.compile(r"(--|\.)?(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9_]*)(?=([.(=\[]?))")
COURSE_LETTERS = set("helo")  # the RNN's strings ('ohlol', 'hhlll') are data, not words
TYPED = "Nakamoto"  # the name typed in the try-it box: the user's, not the screen's


def english_words(text: str, lesson: Lesson) -> set[str]:
    """The Latin-letter words of `text` that are not identifiers (see the module's docstring)."""
    allowed = set(IDENTIFIERS) | {lesson.id} | set(lesson.id.split("-"))
    for param in lesson.params:
        allowed |= {param.name, *param.name.split("_")}
        if isinstance(param, (ChoiceParam, MultiChoiceParam)):
            allowed |= {part for choice in param.choices for part in (choice, *choice.split("-"))}
    found = set()
    for before, word, after in WORD.findall(QUOTED.sub("", text.replace(TYPED, ""))):
        if before or after or set(word) <= COURSE_LETTERS:
            continue  # code: .data, --seed, betas=, nn.Linear(, x[i]
        if len(word) == 1 or word in allowed or word.lower() in allowed or any(ch.isdigit() or ch == "_" for ch in word):
            continue
        if len(word) > 1 and (word.isupper() or any(ch.isupper() for ch in word[1:])):
            continue  # MSE, SGD, ReLU, LogSoftmax, MaxPool2d: names, not words
        found.add(word)
    return found


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    """Tiny MNIST, diabetes and names files (as the snapshot tests use)."""
    folder = tmp_path_factory.mktemp("data")
    write_mnist(folder, {"train": tiny_digits(TRAIN, 1), "t10k": tiny_digits(TEST, 2)})
    make_diabetes(folder / "diabetes.csv.gz")
    write_names(folder / "names_train.csv.gz", 600, seed=1)
    write_names(folder / "names_test.csv.gz", 200, seed=2)
    return folder


@pytest.fixture(autouse=True)
def registered(monkeypatch, stand_ins):
    """The lessons read the stand-ins, registered under their checksums."""
    monkeypatch.setenv(data.ENV_VAR, str(stand_ins))
    for dataset in (_data.DIABETES, _data.NAMES_TRAIN, _data.NAMES_TEST):
        stand_in(monkeypatch, dataset, **checksum_of(stand_ins / dataset.filename))


class Collect:
    """A sink that fills a RunTrace as the workbench's does."""

    def __init__(self, trace: RunTrace) -> None:
        self.trace = trace
        self.kept = None

    def start(self, info) -> None:
        self.trace.progress = info.progress
        self.trace.device = info.device

    def record(self, record, elapsed) -> None:
        self.trace.add(record, elapsed)

    def finish(self, summary) -> None:
        self.trace.message = summary.message


def without_examples(value):
    """A confusion view's value without its gallery's examples: the test names are data, not words."""
    if isinstance(value, dict) and "mistakes" in value:
        return {**value, "mistakes": [{**m, "example": ""} for m in value["mistakes"]]}
    return value


def screen_texts(lesson: Lesson, trace: RunTrace, lang: str, kept) -> list[str]:
    """Every text the workbench shows of a finished run of `lesson`, in `lang`."""
    label = lambda word: lesson.label(word, lang)  # noqa: E731
    texts = [view_text(view, without_examples(trace.views[view.name]), lang, 60, color=False, label=label)
             for view in lesson.views if view.name in trace.views]
    for chart in lesson.charts:
        plan = plan_traces(chart, [trace], lang, 60, 12)
        texts += [plan.title, plan.x_label, plan.empty or "", *[line.label for line in plan.lines]]
        texts += [series_label(chart, key, lesson, lang) for key in chart_series(chart, trace.points)]
    texts.append(first_line(status_parts(trace.status, trace, trace.progress, "cpu", lang), 400))
    texts.append(ended_message(trace, lang))
    which = lesson.headline_metric()
    texts.append(lesson.label(which[1], lang) if which else say("final", lang))
    texts += [label(name) for name, _ in headline_values(trace.latest, which)]
    texts += [unit_word(lesson.unit, lang), lesson.label(lesson.unit, lang)]
    if lesson.try_it is not None and kept is not None:
        from labapp.lesson import View

        texts.append(lesson.try_it.prompt(lang))
        answer = lesson.try_it.predict(kept, "Nakamoto,,李")
        texts.append(view_text(View("try", lesson.try_it.kind, lesson.try_it.title), answer, lang, 60, False, label))
    return texts


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_every_screen_word_of_a_finished_run_is_chinese_in_zh(lesson):
    values = lesson.resolve(SHORT.get(lesson.id, {}))
    trace = RunTrace(lesson, values, 1, "#1")
    sink = Collect(trace)
    run = Run(lesson, values, sinks=[sink], seed=lesson.seed)
    summary = run.run()
    assert summary.status == FINISHED, summary.message
    assert trace.views and any(isinstance(p, Metric) for p in trace.points) or lesson.id == "cnn-basics"
    english = {text: words for text in screen_texts(lesson, trace, "zh", getattr(run, "kept", None))
               if (words := english_words(text, lesson))}
    assert not english, f"English words on {lesson.id}'s zh screens: {english}"


def test_the_finder_sees_english_and_spares_identifiers():
    lesson = lessons.get("cnn-basics")
    assert english_words("first test images  pred 7", lesson) == {"first", "test", "images"}
    assert english_words("nn.CrossEntropyLoss(reduction='mean')(input, target) MSE ReLU 23.9 MiB", lessons.get(
        "loss-functions")) == set()
    assert english_words("5x5 input, 3x3 kernel, padding 0 → 3x3", lesson) == set()  # kernel, padding: params
    assert english_words("759 of 759 rows", lesson) == {"of", "rows"}
    assert english_words("SGD(lr=0.01, betas=(0.9, 0.999)) --seed packed.data 'ohlll'", lesson) == set()


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_every_word_a_lesson_declares_is_chinese_in_zh(lesson):
    """The form's help, the titles of charts and views, the labels and the try-it prompt."""
    texts = [lesson.title("zh"), *(param.help("zh") for param in lesson.params),
             *(chart.title("zh") for chart in lesson.charts), *(view.title("zh") for view in lesson.views),
             *(text("zh") for text in lesson.labels.values())]
    if lesson.try_it is not None:
        texts += [lesson.try_it.prompt("zh"), lesson.try_it.title("zh")]
    english = {text: words for text in texts if (words := english_words(text, lesson))}
    assert not english, f"English words in {lesson.id}'s zh texts: {english}"

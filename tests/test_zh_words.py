"""In Chinese, every lesson's screen words are Chinese. Each lesson runs through the workbench's controller (as the
app starts a run) once with its short settings and once more for every other choice and switch of its params; then
everything the app shows of those runs is rendered in zh and searched for English words: the shapes trace, the
views (tables, values, heat map keys, the confusion matrix and its key), chart titles, axes, legends and empty
notes, the status line, the end message and the message log, the step panel, the try-it box, a sweep's table,
and the runs panel's headers and rows. The catalogue's own zh texts are checked whole too.

Identifiers may stay (`IDENTIFIERS`, and the lesson's id, params and choices): torch and Python names (nn.Linear,
ReLU, MaxPool2d), units (MiB), paths, the course's own strings ('hello'), code (`x.view(-1)`, `lr=0.1`, `∂cost/∂w`)
and names written in capitals (MSE, SGD, BCE). Anything else in Latin letters is a word a Chinese reader should
not meet.
"""

from __future__ import annotations

import re
import time
from functools import partial

import pytest

import lessons
from labapp import data
from labapp.controller import Workbench, changed_params, ended_message
from labapp.lesson import BoolParam, ChoiceParam, Lesson, MultiChoiceParam, ParamError, View
from labapp.progress import headline_values
from labapp.report import chart_series, series_label, step_text, view_text
from labapp.strings import WORDS, say, status_word, unit_word
from labapp.traces import RunTrace, plan_traces
from labapp.widgets.runs import final_headline
from labapp.widgets.status import status_parts
from lessons import _data
from tests.data_fixtures import checksum_of, stand_in
from tests.mnist_fixtures import write_mnist
from tests.test_lessons_data import make_diabetes
from tests.test_lessons_mnist import TEST, TRAIN, tiny_digits
from tests.test_lessons_rnn import write_names

EXTRA = {  # runs that end otherwise: diverged (the runner's words go to the message log)
    "gradient-descent": [{"lr": "10", "epochs": "100"}],
}
SHORT = {  # a short run of each lesson (the explorers and summaries run too)
    "dataset-dataloader": {"epochs": "2", "num_workers": "0"},
    "softmax-mnist": {"epochs": "1"}, "cnn-basics": {"epochs": "1"}, "sequential": {"epochs": "1"},
    "cnn-advanced": {"epochs": "1"},
    "rnn-classifier": {"epochs": "1", "hidden_size": "8", "n_layers": "1", "predict": "Nakamoto,,李"},
    "linear-regression": {"epochs": "5", "compare": "SGD,Adam"}, "logistic-regression": {"epochs": "5"},
    "multi-dim-input": {"epochs": "5"}, "gradient-descent": {"epochs": "5"}, "backprop": {"epochs": "5"},
    "rnn-basics": {"epochs": "3"},
}

# Names a Chinese screen keeps as they are (besides the lesson's id and its params' names and choices, allowed in
# `english_words`; CamelCase and CAPITALS pass as names, and code is recognised by its dots, brackets and `=`):
IDENTIFIERS = {
    "torch", "torchvision", "numpy", "labapp", "sweep",  # libraries, and the program's own commands
    "cpu", "cuda", "mps", "auto", "Enter", "Esc", "Tab",  # devices and keys, as the machine and the keyboard name them
    "Adam", "Flatten", "Linear", "Normalize", "Sigmoid",  # torch and torchvision classes with a single capital
    "inf", "nan", "all",  # values as code writes them: what a diverged value became; a list param's `all`
    # the course code's own names, which the shape traces, formulas and model summaries show as the code has them
    "inputs", "labels", "hidden", "out", "embedding", "batch", "fc", "mp", "log", "logit", "logits", "anchor",
    "positive", "negative", "margin",
    "conv", "pool", "linear", "pad",  # the layer list of lesson 10, as the user types it (`conv 10 5, pool 2, linear 10`)
    "pred", "true",  # the tags on the digit pictures, which the view's title explains (模型的回答（pred）和标签（true）)
}
QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")  # a message quoted as torch says it (an error's own words)
WORD = re.compile(r"(--|\.|=|∂|·)?(?<![A-Za-z0-9_])([A-Za-z][A-Za-z0-9_]*)(?=([.(=\[]?))")
RUN_ID = re.compile(r"[0-9a-f]{6}")
PATH = re.compile(r"(?<![\w.])/[^\s·，。）]+")  # a file or folder path (a run folder, a saved file)
COURSE_LETTERS = set("helo")  # the RNN's strings ('ohlol', 'hhlll') are data, not words
TRY = "Nakamoto,,李"  # typed in the try-it box
TYPED = "Nakamoto"  # the name typed in the try-it box: the user's, not the screen's


def english_words(text: str, lesson: Lesson) -> set[str]:
    """The Latin-letter words of `text` that are not identifiers (see the module's docstring)."""
    allowed = set(IDENTIFIERS) | {lesson.id, "seed"} | set(lesson.id.split("-"))  # the form's fields: params, and seed
    for param in lesson.params:
        allowed |= {param.name, *param.name.split("_")}
        if isinstance(param, (ChoiceParam, MultiChoiceParam)):
            allowed |= {part for choice in param.choices for part in (choice, *choice.split("-"))}
    found = set()
    for before, word, after in WORD.findall(PATH.sub("", QUOTED.sub("", text.replace(TYPED, "")))):
        if before or after or set(word) <= COURSE_LETTERS:
            continue  # code and formulas: .data, --seed, betas=, =off, nn.Linear(, x[i], ∂cost/∂w, lr·grad
        if RUN_ID.fullmatch(word):
            continue  # the end of a run folder's name (20261130-172717-bdffad), wrapped onto a line of its own
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


def cases(lesson: Lesson) -> list[dict[str, str]]:
    """The lesson's short run, then one more for each other choice of each choice param and each switch flipped:
    every view, chart, trace and message a setting brings on screen (a variant's heat map, a mistake's view,
    torch's error explained) is read in zh."""
    short = SHORT.get(lesson.id, {})
    more = []
    for param in lesson.params:
        if isinstance(param, ChoiceParam):
            more += [{**short, param.name: choice} for choice in param.choices if choice != param.default]
        elif isinstance(param, BoolParam):
            more.append({**short, param.name: param.format(not param.default)})
    return [short, *map(partial(allowed, lesson), more), *EXTRA.get(lesson.id, [])]


def allowed(lesson: Lesson, case: dict[str, str]) -> dict[str, str]:
    """`case`, with another param's choice where a rule needs one (cnn-advanced's skip switch needs resnet)."""
    options = [{}] + [{param.name: choice} for param in lesson.params if isinstance(param, ChoiceParam)
                      and param.name not in case for choice in param.choices]
    for option in options:
        try:
            lesson.resolve({**case, **option})
            return {**case, **option}
        except ParamError:
            pass
    raise AssertionError(f"{lesson.id}: no valid run with {case}")


def wait_for(condition, timeout: float = 300) -> None:
    """Wait until `condition()` holds (generous: the machine may be loaded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the run did not get there"
        time.sleep(0.02)


def ended(bench: Workbench):
    """The open lesson's run, once it has ended (Ended: its trace and what the status line says)."""
    found = []
    wait_for(lambda: found.append(bench.poll()) or found[-1] is not None)
    return found[-1]


def without_examples(value):
    """A confusion view's value without its gallery's examples: the test names are data, not words."""
    if isinstance(value, dict) and "mistakes" in value:
        return {**value, "mistakes": [{**m, "example": ""} for m in value["mistakes"]]}
    return value


def trace_texts(bench: Workbench, trace: RunTrace, said: str) -> list[str]:
    """Every text the workbench shows of a run that has ended: the form's shapes, the views, the charts (titles, axes,
    legends, empty notes), the status line and the message, the try-it box, a sweep's table."""
    lesson, lang = trace.lesson, bench.lang
    label = lambda word: lesson.label(word, lang)  # noqa: E731
    texts = [bench.form().shapes(lang) or "", bench.form().shapes(lang, 60) or "", said, *(m.text for m in bench.log)]
    texts += [view.title(lang) for view in lesson.views]
    texts += [view_text(view, without_examples(trace.views[view.name]), lang, width, color=False, label=label)
              for view in lesson.views if view.name in trace.views for width in (36, 76)]
    for chart in lesson.charts:
        plan = plan_traces(chart, bench.chart_traces(earlier=True), lang, 60, 12)
        texts += [plan.title, plan.x_label, plan.empty or "", *[line.label for line in plan.lines]]
        texts += [series_label(chart, key, lesson, lang) for key in chart_series(chart, trace.points)]
    parts = status_parts(trace.status, trace, trace.progress, "cpu", lang, lesson.id, bench.sweep_step())
    texts += [text for _, text in parts]
    texts.append(ended_message(trace, lang))
    which = lesson.headline_metric()
    texts += [label(name) for name, _ in headline_values(trace.latest, which)]
    texts += [unit_word(lesson.unit, lang), label(lesson.unit)]
    sweep = bench.sweep_of()
    if sweep is not None:
        texts += [sweep.table(lang), sweep.table(lang, 60)]
    model = bench.model(lesson)
    if lesson.try_it is not None and model is not None:
        texts.append(lesson.try_it.prompt(lang))
        answer = lesson.try_it.predict(model, TRY)
        texts.append(view_text(View("try", lesson.try_it.kind, lesson.try_it.title), answer, lang, 60, False, label))
    return texts


def runs_texts(bench: Workbench) -> list[str]:
    """The runs panel: its column names, and each run's status, changed params and final headline."""
    lesson, lang = bench.lesson, bench.lang
    which = lesson.headline_metric()
    texts = [say(key, lang) for key in ("started", "status", "changed", "runs help", "best")]
    texts.append(lesson.label(which[1], lang) if which else say("final", lang))
    for past in bench.past_runs():
        texts += [status_word(past.status, lang), changed_params(lesson, past.path, lang), final_headline(lesson, past)]
    return texts


def step_texts(bench: Workbench) -> list[str]:
    """The step panel after one update, its keys, then the run going on at full speed."""
    trace = bench.step()
    wait_for(lambda: trace.step is not None or bench.run is None or bench.run.join(0))
    texts = [say("step next", bench.lang, step="t", run="r", stop="s")]
    if trace.step is not None:
        texts.append(step_text(bench.lesson, trace.step, trace.step_points(), bench.lang))
        bench.run_on()
    return texts


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_every_screen_word_after_a_run_is_chinese_in_zh(lesson, runs_dir):
    """For each setting of `cases`: a run through the workbench's controller (as the app starts it), then every text
    the app shows of it, in zh; then the runs panel listing them all."""
    bench = Workbench(lessons.LESSONS, "zh")
    bench.open(lesson.id)
    texts = []
    for case in cases(lesson):
        form = bench.form()
        form.reset()
        for name, text in case.items():
            form.set(name, text)
        assert form.valid, form.first_error()
        if lesson.step_mode is not None and not form.is_sweep and not lesson.step_problem(form.values()):
            texts += step_texts(bench)
        else:
            bench.start()
        end = ended(bench)
        while bench.sweep is not None:  # a sweep's runs, each in turn
            end = ended(bench)
        texts += trace_texts(bench, end.trace, end.said)
    texts += runs_texts(bench)
    english = {text: words for text in texts if (words := english_words(text, lesson))}
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


def test_every_word_of_the_catalogue_is_chinese_in_zh():
    """The UI's own words (status, keys, panels, messages), their blanks left out: what any lesson's screen may say.
    Besides identifiers, the language switch names English as itself, and a message may name a param (epochs)."""
    lesson = lessons.get("linear-regression")  # a lesson with epochs, as the message about resuming names it
    english = {key: words for key, text in WORDS.items()
               if (words := english_words(re.sub(r"\{\w+\}", "", text("zh")), lesson) - {"English"})}
    assert not english, f"English words in the catalogue's zh texts: {english}"

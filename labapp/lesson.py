"""The declarative lesson spec: Lesson, its Params, Charts and Views, and the records it yields.

Nothing here imports torch or Textual: the CLI lists lessons and the TUI draws forms from these
specs before torch is loaded.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from labapp.data import Dataset, ImageSet


@dataclass(frozen=True)
class Text:
    """A piece of text in the course's two languages."""

    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        """The text in `lang` ('zh' or 'en')."""
        return self.zh if lang == "zh" else self.en


def both(zh: str, en: str) -> dict[str, str]:
    """A value a lesson yields in both languages (JSON-safe, so run records keep it): views show the UI's one."""
    return {"zh": zh, "en": en}


def in_lang(value: Any, lang: str) -> Any:
    """`value` with every `both(zh, en)` inside it (dicts, lists) replaced by its text in `lang`."""
    if isinstance(value, dict):
        if value.keys() == {"zh", "en"} and all(isinstance(v, str) for v in value.values()):
            return value["zh" if lang == "zh" else "en"]
        return {key: in_lang(item, lang) for key, item in value.items()}
    if isinstance(value, list):
        return [in_lang(item, lang) for item in value]
    return value


class ComputedText(Text):
    """A Text whose two languages are worked out when asked for: a subclass says how, in `_text(lang)`."""

    def _text(self, lang: str) -> str:
        raise NotImplementedError

    @property  # type: ignore[override]
    def zh(self) -> str:
        """The Chinese text."""
        return self._text("zh")

    @property  # type: ignore[override]
    def en(self) -> str:
        """The English text."""
        return self._text("en")


class TextFiles(ComputedText):
    """A Text kept in two files, `<stem>.zh.md` and `<stem>.en.md`, each read when first asked for.

    A missing file reads as the empty string, so a lesson without text files still works.
    """

    def __init__(self, stem: Path) -> None:
        object.__setattr__(self, "_stem", Path(stem))  # frozen, as Text is: set once, here
        object.__setattr__(self, "_read", {})

    def _text(self, lang: str) -> str:
        if lang not in self._read:
            try:
                self._read[lang] = self._stem.with_name(f"{self._stem.name}.{lang}.md").read_text(encoding="utf-8")
            except FileNotFoundError:
                self._read[lang] = ""
        return self._read[lang]

    def __repr__(self) -> str:
        return f"TextFiles({str(self._stem)!r})"


class ParamError(ValueError):
    """A value that a param or a lesson's cross-field rule rejects; str() is the user's message."""


SHOWN_MAX = 40  # characters of a rejected value that a message repeats


def shown(text: str) -> str:
    """`text` quoted for a one-line message: escaped like repr, and cut short if long."""
    if len(text) <= SHOWN_MAX:
        return repr(text)
    return repr(text[:SHOWN_MAX]) + f"… ({len(text):,} characters)"


def _show(number: float) -> str:
    """A number as a person would write it in a range: 0.0 -> 0, 1e-06 stays."""
    return f"{number:g}"


@dataclass(frozen=True, kw_only=True)
class Param:
    """One hyperparameter: its name, course default and a one-line help in both languages."""

    name: str
    default: Any
    help: Text

    @property
    def flag(self) -> str:
        """The CLI flag: `--w-min` for `w_min`."""
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """What values are allowed, in words (English; shown in messages and `labapp show`)."""
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        """The value that `text` (from a form field or a CLI flag) stands for, or ParamError."""
        raise NotImplementedError

    def format(self, value: Any) -> str:
        """`value` as text that `parse` reads back."""
        return str(value)

    def _reject(self, text: str, why: str) -> ParamError:
        return ParamError(f"{self.name}: {shown(text.strip())} {why}")


@dataclass(frozen=True, kw_only=True)
class _Number(Param):
    """A number with optional bounds; `min_open`/`max_open` make a bound strict."""

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False

    def allowed(self) -> str:
        low = None if self.min is None else (">" if self.min_open else ">=") + " " + _show(self.min)
        high = None if self.max is None else ("<" if self.max_open else "<=") + " " + _show(self.max)
        if low and high and not self.min_open and not self.max_open:
            return f"between {_show(self.min)} and {_show(self.max)}"
        if low and high:
            return f"{low} and {high}"
        return low or high or "any number"

    def _check_range(self, text: str, value: float) -> None:
        too_low = self.min is not None and (value <= self.min if self.min_open else value < self.min)
        too_high = self.max is not None and (value >= self.max if self.max_open else value > self.max)
        if too_low or too_high:
            raise self._reject(text, f"is out of range: must be {self.allowed()}")


@dataclass(frozen=True, kw_only=True)
class FloatParam(_Number):
    """A real-valued param such as a learning rate.

    `empty` is a word, such as 'auto', that stands for the value None: the lesson picks its own
    number (for example the course's learning rate for the chosen variant).
    """

    empty: str | None = None

    def allowed(self) -> str:
        return super().allowed() + (f", or {self.empty}" if self.empty else "")

    def parse(self, text: str) -> float | None:
        """A finite float within range (or None for the `empty` word)."""
        if self.empty is not None and text.strip().casefold() == self.empty.casefold():
            return None
        try:
            value = float(text.strip())
        except ValueError:
            raise self._reject(text, "is not a number") from None
        if not math.isfinite(value):
            raise self._reject(text, f"is not a finite number: must be {self.allowed()}")
        self._check_range(text, value)
        return value

    def format(self, value: float | None) -> str:
        """Shortest text that reads back as `value` (the `empty` word for None)."""
        return str(self.empty) if value is None else repr(float(value))


@dataclass(frozen=True, kw_only=True)
class IntParam(_Number):
    """A whole-number param such as an epoch count."""

    def parse(self, text: str) -> int:
        """An int within range; '1e3' or '2.5' are rejected, '1_000' is not."""
        try:
            value = int(text.strip())
        except ValueError:
            raise self._reject(text, "is not a whole number") from None
        self._check_range(text, value)
        return value

    def allowed(self) -> str:
        return "a whole number " + super().allowed() if self.min is not None or self.max is not None else "a whole number"


@dataclass(frozen=True, kw_only=True)
class ChoiceParam(Param):
    """One of a fixed list of strings, such as a variant or an optimizer."""

    choices: tuple[str, ...]

    def allowed(self) -> str:
        return "one of " + ", ".join(self.choices)

    def parse(self, text: str) -> str:
        """The choice that `text` names; case and surrounding spaces do not matter."""
        wanted = text.strip().casefold()
        for choice in self.choices:
            if choice.casefold() == wanted:
                return choice
        raise self._reject(text, f"is not a choice: must be {self.allowed()}")


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True, kw_only=True)
class TextParam(Param):
    """Free text, such as names to try a trained model on; surrounding spaces are dropped.

    `empty` is a word, such as 'none', that stands for the value None (no text at all), so that an
    empty text can be told apart from the default.
    """

    max_length: int = 1000
    empty: str | None = None

    def allowed(self) -> str:
        return f"any text of at most {self.max_length:,} characters" + (f", or {self.empty}" if self.empty else "")

    def parse(self, text: str) -> str | None:
        """`text` without surrounding spaces, if it is not too long (None for the `empty` word)."""
        value = text.strip()
        if self.empty is not None and value.casefold() == self.empty.casefold():
            return None
        if len(value) > self.max_length:
            raise self._reject(text, f"has {len(value):,} characters: at most {self.max_length:,}")
        return value

    def format(self, value: str | None) -> str:
        """The text (the `empty` word for None)."""
        return str(self.empty) if value is None else value


@dataclass(frozen=True, kw_only=True)
class BoolParam(Param):
    """A switch."""

    def allowed(self) -> str:
        return "on or off (true/false, yes/no, 1/0)"

    def parse(self, text: str) -> bool:
        """True for on/true/yes/1, False for off/false/no/0."""
        word = text.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise self._reject(text, f"is not a switch value: must be {self.allowed()}")

    def format(self, value: bool) -> str:
        """'on' or 'off'."""
        return "on" if value else "off"


class Values(dict):
    """Validated hyperparameters by name, readable as attributes: `hp.lr`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# A cross-field rule: given all values, a message naming the fields, or None when they agree.
Rule = Callable[[Values], "str | None"]


@dataclass(frozen=True)
class Chart:
    """A live chart: metric series `y` plotted against `x` ('epoch', 'step' or a metric name).

    One series per (split, y) pair; `splits=()` takes every split the run reports, for example
    one split per optimizer in a comparison. `short` names it in the panel bar where the title is long
    (the chart itself keeps its title). `needs` holds the (param, value) pairs without which a run draws
    nothing here (`(("zero_grad", False),)`): an empty chart says which setting fills it. `every` (x='step'):
    each point is the mean of this many batches of an epoch, as the course prints it; a lesson gives an epoch
    shorter than that one point, its mean, and the chart says so.
    """

    title: Text
    y: tuple[str, ...]
    x: str = "epoch"
    splits: tuple[str, ...] = ("train",)
    short: Text | None = None
    needs: tuple[tuple[str, Any], ...] = ()
    every: int = 0

    def short_title(self, lang: str) -> str:
        """The chart's name for the panel bar: its short one if it has one, else its title."""
        return (self.short or self.title)(lang)


@dataclass(frozen=True)
class View:
    """One of a lesson's own views, filled by ViewValue records.

    kinds: 'values' (name -> number or text), 'table' ({'columns': [...], 'rows': [[...]]}),
    'heatmap' ({'x': [...], 'y': [...], 'z': rows of y by columns of x, 'x_label', 'y_label',
    'mark': [x, y]}), 'curve' ({'x': [...], 'y': [...], 'x_label', 'y_label', 'hline', 'vline'}),
    'text' (a string), 'confusion' (what a classifier gets wrong: labapp.confusion.summary's value).
    """

    name: str
    kind: str
    title: Text


@dataclass(frozen=True)
class ShapeTrace:
    """A model's tensors and their shapes, worked out before training: a table (`columns`, `rows`) and
    `notes` (name -> text) such as the flatten size or the layout of a sequence; a note's name and text go
    through the lesson's labels, so that either may be a word the lesson explains in both languages."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    notes: Mapping[str, str] = field(default_factory=dict)

    def table(self) -> dict[str, Any]:
        """The table as a 'table' view's value."""
        return {"columns": list(self.columns), "rows": [list(row) for row in self.rows]}

    def text(self, label: Callable[[str], str] = str, indent: str = "  ") -> str:
        """The trace as aligned lines: the table (headers, word cells and notes named through `label`), then the notes."""
        cells = [[label(c) for c in self.columns]] + [[f"{c:,}" if isinstance(c, int) else label(str(c)) for c in row]
                                                     for row in self.rows]
        widths = [max(_columns(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = [indent + "  ".join(c + " " * (w - _columns(c)) for c, w in zip(row, widths)).rstrip() for row in cells]
        from labapp.strings import labelled  # the catalogue builds on this module

        return "\n".join(lines + [indent + labelled(label(name), label(value)) for name, value in self.notes.items()])


def _columns(text: str) -> int:
    """Terminal columns of `text` (a Chinese character takes two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@dataclass(frozen=True)
class Metric:
    """A point for the charts: `values` (loss, accuracy, w, ...) at an epoch, or at a step inside it."""

    epoch: int
    values: dict[str, float]
    split: str = "train"
    step: int | None = None


@dataclass(frozen=True)
class ViewValue:
    """New contents for the view named `view`."""

    view: str
    value: Any


@dataclass(frozen=True)
class Step:
    """One parameter update, as step mode shows it: yielded by a lesson right after the update.

    `batch` holds the inputs and targets it used, `forward` the forward pass's values, `grads`,
    `before` and `after` each parameter's gradient and its values before and after the update. `lr`
    is set when the update is plain gradient descent, `new = old − lr·grad`; otherwise `rule` names
    what updated the parameters (an optimizer). `graph` is an optional text drawing of the
    computational graph with this step's values. `number` counts the run's updates: the runner fills it.
    """

    epoch: int
    batch: dict[str, Any]
    forward: dict[str, Any]
    loss: float
    grads: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    lr: float | None = None
    rule: str = ""
    loss_name: str = "loss"
    graph: str = ""
    number: int = 0


@dataclass(frozen=True)
class StepLater:
    """A Step made only if step mode shows it: for a lesson whose numbers cost time to read (torch tensors).

    The runner calls `make()` at once, while the lesson still waits at its yield, so the numbers are
    those of the update just made; at full speed it is never called.
    """

    make: Callable[[], Step]


Record = Metric | ViewValue | Step | StepLater


class RunContext(Protocol):
    """What a lesson's train function may ask of the run it is part of."""

    device: Any  # a torch.device for torch lessons, the string 'cpu' otherwise
    seed: int
    data_dir: str | None  # the folder the user named for datasets (--data-dir), if any

    @property
    def should_stop(self) -> bool:
        """True once a stop was requested: finish the current step and return."""

    def log(self, message: str) -> None:
        """A line for the run's log (never the screen)."""

    def data_path(self, name: str) -> Path:
        """The verified local copy of dataset `name`, one of the lesson's `data` (located before training)."""

    @property
    def out_dir(self) -> Path | None:
        """The folder of the run's records (for files such as a checkpoint); None when none are kept."""

    def keep(self, state: Any) -> None:
        """Keep `state`, a snapshot of the trained model, for the lesson's TryIt (during and after the run)."""

    def batch(self, done: int, total: int) -> None:
        """Progress inside the current epoch: `done` of `total` batches (cheap: call it every batch)."""

    @property
    def resumed(self) -> int:
        """The epoch whose checkpoint this run continues from (`labapp run --resume`); 0 for a new run."""

    def restore(self, **objects: Any) -> dict[str, Any]:
        """Load the resumed checkpoint into `objects` (model=..., optimizer=...) and restore the random generators.

        Returns {'epoch': the epoch it ended, and the plain values saved with it}; {} for a new run.
        Call it once the objects are built, just before the epoch loop.
        """

    def checkpoint(self, epoch: int, **state: Any) -> None:
        """The end of `epoch`: save `state` (modules and optimizers by state_dict, Generators, plain numbers).

        Call it after the epoch's metrics are yielded: the best checkpoint is chosen by the headline metric.
        Does nothing when checkpoints are off or the run keeps no folder.
        """


TrainFn = Callable[[Values, RunContext], Iterator[Record]]


@dataclass(frozen=True)
class TryIt:
    """A box where the user types an input and sees the trained model's answer, as a view of `kind`.

    `predict(state, text)` gets the latest state the run kept (`run.keep`) and the text typed; it
    runs off the UI thread, imports torch itself, and returns the view's value (rejecting bad text
    with a message in the value, never an exception).
    """

    prompt: Text
    title: Text
    predict: Callable[[Any, str], Any]
    kind: str = "table"


@dataclass(frozen=True)
class Lesson:
    """One lesson of the course: what it teaches, its hyperparameters and its program.

    `train(hp, run)` yields Metric and ViewValue records and never prints or draws. It imports
    torch inside its body, so that reading this spec stays cheap.
    """

    id: str
    number: int
    title: Text
    train: TrainFn
    explanation: Text = Text("", "")
    params: tuple[Param, ...] = ()
    rules: tuple[Rule, ...] = ()
    charts: tuple[Chart, ...] = ()
    views: tuple[View, ...] = ()
    uses_torch: bool = True
    threads: int | None = None  # torch's intra-op threads; None: the runner's policy chooses
    seed: int = 0  # the run's seed when none is given (`labapp run --seed`, the form)
    unit: str = "epoch"
    # Every data file the lesson may read, checked (found, downloaded, verified) before training.
    data: tuple[Dataset | ImageSet, ...] = ()
    # Whether a run with these values reads `data` (a loaded model or an explorer-only run does not).
    reads_data: Callable[[Values], bool] = field(default=lambda hp: True)
    try_it: TryIt | None = None  # a box to try the trained model on the user's own input
    total: Callable[[Values], int] = field(default=lambda hp: hp["epochs"])
    # Whether train() builds a torch.optim optimizer: the runner then imports beforehand what the first
    # one imports (torch._dynamo, about 1.5 s); a lesson that updates its weights by hand never pays it.
    builds_optimizer: bool = True
    # The metric that says how a run went, as (split, name): ('test', 'accuracy') for a classifier.
    # None: the first series of the first chart (the loss, for most lessons).
    headline: tuple[str, str] | None = None
    # Other values of the headline's split that the status line shows before it: the w of the best MSE.
    headline_also: tuple[str, ...] = ()
    # Display names, in both languages, for the words a lesson yields that are not identifiers:
    # split names ('course defaults'), result keys ('best w'), table columns. Looked up by `label`.
    labels: Mapping[str, Text] = field(default_factory=dict)
    # Step mode (one update at a time): None if train() yields no Step records; else a function of the
    # values that says why these values cannot be stepped through (a message naming the fields), or None.
    step_mode: Callable[[Values], "str | None"] | None = None

    def step_problem(self, values: Values) -> str | None:
        """Why a run of this lesson with `values` cannot be stepped through; None if it can."""
        return f"{self.id} has no step mode" if self.step_mode is None else self.step_mode(values)
    # Checkpoints at the end of each epoch (`run.checkpoint`), which `labapp run --resume` continues from:
    # None, the lesson keeps none (no model to save); False, it can, when asked (--checkpoints on);
    # True, it does unless told not to: a lesson whose epoch takes more than a few seconds.
    checkpoints: bool | None = None
    # The model's shapes for these values, worked out without torch (shown before training); None: no model.
    shapes: Callable[[Values], ShapeTrace] | None = None

    def headline_metric(self) -> tuple[str, str] | None:
        """(split, name) of the metric the status line and run lists show first; None if there is no chart."""
        if self.headline is not None:
            return self.headline
        if not self.charts or not self.charts[0].y:
            return None
        chart = self.charts[0]
        return (chart.splits[0] if chart.splits else "train"), chart.y[0]

    def datasets(self, values: Values) -> tuple[Dataset | ImageSet, ...]:
        """The data files that a run with `values` reads."""
        return self.data if self.reads_data(values) else ()

    def label(self, word: str, lang: str) -> str:
        """`word` (a split, a result key, a column the lesson yields) as shown in `lang`."""
        text = self.labels.get(word) or COMMON_LABELS.get(word)
        return text(lang) if text is not None else word

    def param(self, name: str) -> Param:
        """The param called `name`."""
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def defaults(self) -> Values:
        """The course's values for every param."""
        return Values((p.name, p.default) for p in self.params)

    def resolve(self, texts: Mapping[str, str]) -> Values:
        """Defaults overridden by `texts` (param name -> text), validated; ParamError if not."""
        values = self.defaults()
        for name, text in texts.items():
            try:
                param = self.param(name)
            except KeyError:
                raise ParamError(f"{name}: not a param of {self.id}") from None
            values[name] = param.parse(text)
        self.check(values)
        return values

    def check(self, values: Values) -> None:
        """Raise ParamError with the first cross-field rule that `values` break."""
        for rule in self.rules:
            message = rule(values)
            if message:
                raise ParamError(message)


# Words that many lessons yield, so that no lesson has to repeat them in its `labels`.
COMMON_LABELS: Mapping[str, Text] = {
    "train": Text("训练集", "train"),
    "test": Text("测试集", "test"),
    "loss": Text("损失", "loss"),
    "accuracy": Text("准确率", "accuracy"),
    "epoch": Text("轮次", "epoch"),
    "step": Text("步", "step"),
    "evaluation": Text("计算次数", "evaluation"),
    "on": Text("开", "on"),
    "off": Text("关", "off"),
    "seconds": Text("秒", "seconds"),
    # the words of a ShapeTrace
    "layer": Text("层", "layer"), "output shape": Text("输出形状", "output shape"), "params": Text("参数个数", "params"),
    "tensor": Text("张量", "tensor"), "shape": Text("形状", "shape"), "layout": Text("维度的含义", "layout"),
    "flatten size": Text("展平后的大小", "flatten size"), "parameters": Text("参数总数", "parameters"),
    "N, L": Text("N、L", "N, L"), "input": Text("输入", "input"), "flatten": Text("展平", "flatten"),
}


def every_run(hp: Values) -> str | None:
    """Lesson.step_mode of a lesson whose every run can be stepped through, one update at a time."""
    return None


def less_than(low: str, high: str) -> Rule:
    """A rule: the value of param `low` must be below that of `high`."""

    def rule(hp: Values) -> str | None:
        if hp[low] < hp[high]:
            return None
        return f"{low}, {high}: {low} ({_show(hp[low])}) must be less than {high} ({_show(hp[high])})"

    return rule


@dataclass(frozen=True, kw_only=True)
class MultiChoiceParam(Param):
    """Any of a fixed list of strings, written comma-separated (`SGD,Adam`), or `all`, or `none`.

    The value is a tuple of choices in the order written, without repeats; `none` is the empty tuple.
    `sweep_as` names a ChoiceParam with the same choices: in a sweep (the workbench, `labapp sweep`)
    each choice listed is a run of its own with that param set to it (lesson 4's optimizer comparison).
    """

    choices: tuple[str, ...]
    sweep_as: str = ""

    def allowed(self) -> str:
        return "a comma-separated list of " + ", ".join(self.choices) + "; or all, or none"

    def parse(self, text: str) -> tuple[str, ...]:
        """The choices that `text` names; case and spaces do not matter."""
        words = [word.strip() for word in text.split(",") if word.strip()]
        if [word.casefold() for word in words] in ([], ["none"]):
            return ()
        if [word.casefold() for word in words] == ["all"]:
            return self.choices
        chosen: list[str] = []
        for word in words:
            match = next((c for c in self.choices if c.casefold() == word.casefold()), None)
            if match is None:
                raise self._reject(text, f"names {shown(word)}, which is not a choice: must be {self.allowed()}")
            if match not in chosen:
                chosen.append(match)
        return tuple(chosen)

    def format(self, value: tuple[str, ...]) -> str:
        """'all', 'none', or the choices joined by commas."""
        if not value:
            return "none"
        return "all" if tuple(value) == self.choices else ",".join(value)


def tensor_shape(value: Any) -> tuple[int, ...]:
    """The shape of a number or of rectangular nested lists: 3.0 -> (), [[1, 2, 3]] -> (1, 3)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def _kind(shape: tuple[int, ...]) -> str:
    """'a number' or 'shape (2, 3)'."""
    return f"shape {shape}" if shape else "a number"


def _tensor_problem(value: Any) -> str | None:
    """Why `value` is not a number or rectangular nested lists of finite numbers; None if it is."""
    if isinstance(value, list):
        if not value:
            return "has an empty list"
        for item in value:
            problem = _tensor_problem(item)
            if problem:
                return problem
        first = tensor_shape(value[0])
        other = next((shape for shape in map(tensor_shape, value) if shape != first), None)
        if other is not None:
            return f"is not rectangular: its items have {_kind(first)} and {_kind(other)}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        brief = repr(value) if len(repr(value)) <= SHOWN_MAX else repr(value)[:SHOWN_MAX] + "…"
        return f"has {brief}, which is not a number"
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int with hundreds of digits
        return "has a number too large for a float"
    if not finite:
        return f"has {value!r}, which is not a finite number"
    return None


def _as_lists(value: Any) -> Any:
    """Tuples, as `(1, 2)` or a bare `1, 2` reads, turned into lists."""
    return [_as_lists(item) for item in value] if isinstance(value, (list, tuple)) else value


@dataclass(frozen=True, kw_only=True)
class TensorParam(Param):
    """A small tensor written as nested lists of numbers, `[[0.2, 0.8], [0.9, 0.1]]`, read without torch.

    The value is the nested lists (ints stay ints, so class indices stay whole). `empty` is a word,
    such as 'example' or 'none', that stands for the value None: the lesson fills in its own tensor.
    """

    empty: str | None = None
    max_size: int = 1000

    def allowed(self) -> str:
        text = "a number or nested lists of numbers such as [[0.2, 0.8], [0.9, 0.1]]"
        return text + (f", or {self.empty}" if self.empty else "")

    def parse(self, text: str) -> Any:
        """The nested lists that `text` writes (or None for the `empty` word)."""
        if self.empty is not None and text.strip().casefold() in ("", self.empty.casefold()):
            return None
        try:
            value = _as_lists(ast.literal_eval(text.strip()))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise self._reject(text, f"is not a tensor: must be {self.allowed()}") from None
        problem = _tensor_problem(value)
        if problem:
            raise self._reject(text, f"{problem}: must be {self.allowed()}")
        size = math.prod(tensor_shape(value))
        if size > self.max_size:
            raise self._reject(text, f"has {size:,} numbers: at most {self.max_size:,}")
        return value

    def format(self, value: Any) -> str:
        """The nested lists as Python writes them, or the `empty` word for None."""
        return str(self.empty) if value is None else str(value)

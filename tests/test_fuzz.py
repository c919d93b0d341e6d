"""Any text in any field: it parses to an allowed value or is refused with a one-line message naming the param.

Property tests (hypothesis) over every param of every lesson, and over whole forms with the
lessons' cross-field rules; then the same hostile strings through `labapp run` and the workbench's
form. `python -m tests.stress --full` runs the same properties with many more examples.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lessons
from labapp import cli
from labapp.lesson import (BoolParam, ChoiceParam, FloatParam, IntParam, Lesson, MultiChoiceParam, Param, ParamError,
                           TensorParam, Values)
from tests.conftest import ROOT

READY = list(lessons.LESSONS)
PARAMS = [(lesson, param) for lesson in READY for param in lesson.params]
MESSAGE_MAX = 400  # characters: a message is a line, however long the value typed

# Strings that have broken parsers elsewhere: empty, non-finite, overflowing, unicode digits, huge,
# shell metacharacters, control characters, deep nesting.
HOSTILE = [
    "", " ", "\t", "\n", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400", "-0",
    "٣", "١٢٣", "１２", "²", "½", "Ⅻ", "1_000", "0x10", "0b1", "1e3", "+1", "--1", "1.", ".5", "1,5",
    "9" * 5000, "1" + "0" * 400, "[" + "1" + "0" * 400 + "]", "[1e309]", "[nan]", "[[1, 2], [3]]", "[]", "[[]]",
    "[" * 300 + "]" * 300, "[" * 50 + "1" + "]" * 50, "[" + ", ".join(["1"] * 2000) + "]", "'abc'", "None", "True",
    "[True]", "{1: 2}", "{1}", "1j", "(1, 2)", "1, 2", "__import__('os').system('id')", "; rm -rf ~", "$(reboot)",
    "`id`", "a|b&c>d<e", "'\"", "1\n2", "\r\n", "\x00", "\x1b[31mred", "\ud800", "💥", "x" * 100_000, ",", ",,",
    "all,none", "SGD,SGD", "ALL", " all ", "on", "OFF", "yes", "2",
]


def numbers() -> st.SearchStrategy[str]:
    """Text that looks like numbers: floats and ints as Python writes them, in several styles."""
    return st.one_of(st.floats().map(repr), st.floats().map(lambda x: f"{x:g}"), st.integers().map(str),
                     st.integers(-10**6, 10**6).map(lambda n: f" {n} "), st.decimals().map(str))


def hostile_text() -> st.SearchStrategy[str]:
    """Any text, weighted toward what breaks parsers."""
    return st.one_of(st.sampled_from(HOSTILE), st.text(), numbers(),
                     st.text(st.characters(categories=("Nd", "No", "Zs", "Cc", "Po", "Ps", "Pe")), max_size=12))


@st.composite
def tensor_text(draw) -> str:
    """Nested lists of numbers as text: rectangular or not, of ints, floats or both."""
    dims = draw(st.lists(st.integers(1, 4), max_size=3))
    number = st.one_of(st.integers(-3, 5), st.floats(-5, 5, allow_nan=False, allow_infinity=False))

    def build(shape):
        if not shape:
            return draw(number)
        size = shape[0] if draw(st.integers(0, 9)) else draw(st.integers(0, 5))  # mostly rectangular
        return [build(shape[1:]) for _ in range(size)]

    return str(build(dims))


def valid_text(param: Param) -> st.SearchStrategy[str]:
    """Text of a value the param allows (mostly), as a form or a flag would carry it."""
    if isinstance(param, (FloatParam, IntParam)):
        low = param.min if param.min is not None else -1e6
        high = param.max if param.max is not None else 1e6
        if isinstance(param, IntParam):
            return st.integers(math.ceil(low), math.floor(high)).map(str)
        return st.one_of(st.floats(low, high, allow_nan=False), st.sampled_from(edges(param))).map(repr)
    if isinstance(param, ChoiceParam):
        return st.sampled_from(param.choices).flatmap(lambda c: st.sampled_from([c, f" {c.upper()} "]))
    if isinstance(param, BoolParam):
        return st.sampled_from(["on", "off", "true", "false", "yes", "no", "1", "0"])
    if isinstance(param, MultiChoiceParam):
        return st.one_of(st.just("all"), st.just("none"), st.lists(st.sampled_from(param.choices)).map(",".join))
    if isinstance(param, TensorParam):
        return st.one_of(tensor_text(), st.just(param.empty or "[1.0]"))
    return st.text()


def edges(param: Param) -> list:
    """A number param's edge values: its bounds and their neighbours, and numbers so small that dividing overflows."""
    low = param.min if param.min is not None else -1e6
    high = param.max if param.max is not None else 1e6
    if isinstance(param, IntParam):
        return [int(low), int(low) + 1, int(high) - 1, int(high)]
    return [low, high, math.nextafter(low, high), math.nextafter(high, low), 5e-324, -5e-324, 1e-300, 0.0, -0.0]


def assert_names(error: ParamError, names: list[str]) -> None:
    """The message is one line, not too long, and starts by naming a param."""
    message = str(error)
    assert "\n" not in message and "\r" not in message, message
    assert 0 < len(message) <= MESSAGE_MAX, message[:200]
    subject = message.split(":")[0]
    assert any(name in subject for name in names), f"no param named in {message!r}"


# -- one param at a time --------------------------------------------------------------------------

@pytest.mark.parametrize("lesson, param", PARAMS, ids=[f"{lesson.id}.{param.name}" for lesson, param in PARAMS])
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text())
def test_any_text_parses_to_an_allowed_value_or_a_message_naming_the_param(lesson: Lesson, param: Param, text: str):
    check_param(param, text)


@pytest.mark.parametrize("lesson, param", PARAMS, ids=[f"{lesson.id}.{param.name}" for lesson, param in PARAMS])
def test_every_hostile_string_is_handled_by_the_param_and_the_rules(lesson: Lesson, param: Param):
    for text in HOSTILE:
        check_param(param, text)
        check_form(lesson, {param.name: text})  # the cross-field rules see what the param let through


def check_param(param: Param, text: str) -> None:
    """`text` parses to a value that reads back the same, or is refused naming `param`; nothing else."""
    try:
        value = param.parse(text)
    except ParamError as error:
        assert str(error).startswith(param.name + ": "), str(error)
        assert_names(error, [param.name])
        return
    assert param.parse(param.format(value)) == value, "a value shown in the form reads back the same"
    if isinstance(value, float):
        assert math.isfinite(value)


@pytest.mark.parametrize("lesson", READY, ids=[lesson.id for lesson in READY])
def test_the_course_defaults_read_back_and_resolve(lesson: Lesson):
    texts = {p.name: p.format(p.default) for p in lesson.params}
    assert lesson.resolve(texts) == lesson.defaults() == lesson.resolve({})


# -- whole forms, with the cross-field rules ------------------------------------------------------

def forms(lesson: Lesson) -> st.SearchStrategy[dict[str, str]]:
    """Some of the lesson's params, each with allowed-looking or hostile text."""
    optional = {p.name: st.one_of(valid_text(p), valid_text(p), hostile_text()) for p in lesson.params}
    return st.fixed_dictionaries({}, optional=optional)


@pytest.mark.parametrize("lesson", READY, ids=[lesson.id for lesson in READY])
def test_random_forms_resolve_or_are_refused_with_a_message_naming_a_param(lesson: Lesson):
    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(texts=forms(lesson))
    def check(texts: dict[str, str]) -> None:
        check_form(lesson, texts)

    check()


def check_form(lesson: Lesson, texts: dict[str, str]) -> Values | None:
    """`texts` resolve to values each param allows, or a ParamError names a param; nothing else."""
    try:
        values = lesson.resolve(texts)
    except ParamError as error:
        assert_names(error, [p.name for p in lesson.params])
        return None
    for param in lesson.params:
        assert param.parse(param.format(values[param.name])) == values[param.name]
    return values


@pytest.mark.parametrize("lesson", READY, ids=[lesson.id for lesson in READY])
def test_edge_values_of_every_pair_of_number_params(lesson: Lesson):
    numeric = [p for p in lesson.params if isinstance(p, (FloatParam, IntParam))]
    for first, second in itertools.combinations_with_replacement(numeric, 2):
        for a, b in itertools.product(edges(first), edges(second)):
            check_form(lesson, {first.name: repr(a), second.name: repr(b)})


# -- through `labapp run` -------------------------------------------------------------------------

CLI_SAMPLE = ["", "NaN", "inf", "1e309", "١٢٣", "x" * 20_000, "; rm -rf ~", "$(reboot)", "`id`", "a\nb", "\x1b[2J",
              "💥", "--", "1 2"]


def refused(param: Param, text: str) -> bool:
    try:
        param.parse(text)
    except ParamError:
        return True
    return False


@pytest.mark.parametrize("lesson", READY, ids=[lesson.id for lesson in READY])
def test_labapp_run_refuses_hostile_values_in_one_line_with_exit_2(lesson: Lesson, capsys, runs_dir):
    tried = 0
    for param in lesson.params:
        for text in CLI_SAMPLE + HOSTILE[:40]:
            if not refused(param, text):
                continue
            code = cli.main(["run", lesson.id, f"{param.flag}={text}"])
            out, err = capsys.readouterr()
            assert code == cli.EXIT_USAGE, (param.name, text[:50], err)
            assert err.count("\n") == 1 and err.startswith(f"{param.name}: "), err[:300]
            assert len(err) <= MESSAGE_MAX and "Traceback" not in err and out == ""
            tried += 1
    assert tried and not runs_dir.exists(), "no run starts on a refused value"


@pytest.mark.parametrize("args", [
    ["gradient-descent", "--lr", ""],
    ["gradient-descent", "--lr", "NaN"],
    ["gradient-descent", "--lr", "1e309"],
    ["gradient-descent", "--epochs", "١٢٣٤٥٦٧"],
    ["gradient-descent", "--mode", "x" * 100_000],
    ["gradient-descent", "--lr", "$(touch /tmp/labapp-pwned); `id` | cat > x & rm -rf ~"],
    ["gradient-descent", "--lr", "0.1\nepoch 1/1 cost 0"],
    ["gradient-descent", "line one\nline two"],
    ["gradient-descent", "--w0", "-inf"],
    ["no\nsuch\x1b[2Jlesson"],
], ids=["empty", "nan", "1e309", "arabic-digits", "long", "shell", "newline", "stray-arg", "dash-inf", "lesson"])
def test_hostile_values_through_the_real_command(args, runs_dir):
    result = subprocess.run([sys.executable, "-m", "labapp", "run", *args], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stderr[:300]
    assert result.stderr.count("\n") == 1 and len(result.stderr) <= MESSAGE_MAX, result.stderr[:300]
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr and result.stdout == ""
    assert not runs_dir.exists()


def test_bytes_that_are_not_utf8_are_refused_in_one_line(runs_dir):
    result = subprocess.run([sys.executable, "-m", "labapp", "run", "gradient-descent", "--lr", b"\xff\xfe0.1"],
                            capture_output=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2 and result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr
    assert result.stderr.startswith(b"lr: ")


# -- through the workbench's form -----------------------------------------------------------------

FORM_SAMPLE = ["", "NaN", "inf", "1e309", "١٢٣", "1" + "0" * 400, "[" + "1" + "0" * 400 + "]", "x" * 5000,
               "; rm -rf ~", "a\nb", "\x1b[2J", "💥", "[" * 300 + "]" * 300, "-0", "[[1, 2], [3]]", "all,none"]


async def test_the_form_takes_any_text_and_run_stays_off_while_it_is_invalid():
    # a lesson with cross-field rules and one with tensors; `python -m tests.stress --full` types into all
    chosen = [lessons.get("loss-functions"), lessons.get("linear-model")]  # the last one runs at the end
    assert await type_into_forms(chosen, per_field=2) >= 20


async def type_into_forms(chosen: list[Lesson], per_field: int) -> int:
    """Put hostile text into every field of the `chosen` lessons (`per_field` strings each, in turn); the count.

    Then the last lesson runs with its course defaults: make it a quick one.
    """
    from textual.widgets import Input

    from labapp.app import LabApp
    from tests.test_app import open_lesson, press_run, until

    tried = 0
    samples = itertools.cycle(FORM_SAMPLE)
    app = LabApp(lang="en", catalogue=lessons.LESSONS)
    async with app.run_test(size=(80, 24)) as pilot:
        for lesson in chosen:
            await pilot.press("escape")
            await open_lesson(pilot, lesson.number)
            inputs = [field for field in app.workbench.view.query(Input) if (field.id or "").startswith("param-")]
            for field in inputs:
                param = app.bench.form().field(field.id.removeprefix("param-"))  # a lesson param, or the seed
                if lesson is chosen[0] and field is inputs[0]:  # typed key by key, as a person would
                    for text in TYPED:
                        field.value = ""
                        field.focus()
                        await pilot.press(*text)
                        assert field.value == text
                        await check_the_form(pilot, lesson, param, text)
                        tried += 1
                for text in itertools.islice(samples, per_field):
                    field.value = text
                    await check_the_form(pilot, lesson, param, text)
                    tried += 1
                field.value = param.format(param.default)
                await until(pilot, lambda: app.bench.form().texts[param.name] == field.value, timeout=5)
            assert app.bench.form().valid, (lesson.id, app.bench.form().errors, app.bench.form().rule_error)  # every field at its default
        await press_run(pilot)  # after all that, the app still runs the lesson on screen
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get(app.bench.lesson.id), timeout=60)
        assert app.bench.traces[app.bench.lesson.id][-1].status == "finished" and app.is_running
    return tried


TYPED = ["1e309", "nan", "-0", "$(id);`x`|&"]


async def check_the_form(pilot, lesson: Lesson, param: Param, text: str) -> None:
    """The form marks `text` exactly when the CLI would refuse it, and Run is off then."""
    from tests.test_app import until

    app = pilot.app
    await until(pilot, lambda: app.bench.form().texts[param.name] == text, timeout=5)  # the form has seen it
    form = app.bench.form()
    bad = refused(param, text) or check_form(lesson, {k: v for k, v in form.texts.items() if k != "seed"}) is None
    assert form.valid is not bad, (lesson.id, param.name, text[:40])
    await until(pilot, lambda: app.workbench.view.query_one("#run").disabled is bad, timeout=5)
    if bad:
        said = str(app.workbench.view.query_one(f"#error-{param.name}").render()) + str(app.workbench.view.query_one("#rule-error").render())
        assert said.strip(), "the form says what is wrong"

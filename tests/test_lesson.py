"""The lesson spec: params parse and reject with messages that name the param, value and rule."""

import pytest

from labapp.lesson import (BoolParam, ChoiceParam, FloatParam, IntParam, Lesson, ParamError, Text, Values,
                           less_than)

HELP = Text("帮助", "help")
lr = FloatParam(name="lr", default=0.01, min=0, min_open=True, max=10, help=HELP)
epochs = IntParam(name="epochs", default=100, min=1, max=1000, help=HELP)
mode = ChoiceParam(name="mode", default="batch", choices=("batch", "stochastic"), help=HELP)
shuffle = BoolParam(name="shuffle", default=True, help=HELP)


def message(param, text):
    with pytest.raises(ParamError) as caught:
        param.parse(text)
    return str(caught.value)


def test_float_parses_and_rejects():
    assert lr.parse(" 0.05 ") == 0.05
    assert lr.parse("1e-3") == 0.001
    assert message(lr, "-1") == "lr: '-1' is out of range: must be > 0 and <= 10"
    assert message(lr, "0") == "lr: '0' is out of range: must be > 0 and <= 10"
    assert message(lr, "abc") == "lr: 'abc' is not a number"
    assert message(lr, "") == "lr: '' is not a number"
    assert "not a finite number" in message(lr, "nan")
    assert "not a finite number" in message(lr, "1e309")
    assert "not a finite number" in message(lr, "-inf")


def test_int_parses_and_rejects():
    assert epochs.parse("10") == 10
    assert message(epochs, "0") == "epochs: '0' is out of range: must be a whole number between 1 and 1000"
    assert message(epochs, "2.5") == "epochs: '2.5' is not a whole number"
    assert message(epochs, "1e3") == "epochs: '1e3' is not a whole number"


def test_choice_and_bool():
    assert mode.parse("Stochastic") == "stochastic"
    assert message(mode, "fast") == "mode: 'fast' is not a choice: must be one of batch, stochastic"
    assert shuffle.parse("off") is False and shuffle.parse("Yes") is True
    assert shuffle.format(True) == "on"
    assert "shuffle: 'maybe' is not a switch value" in message(shuffle, "maybe")


def test_format_reads_back():
    for param in (lr, epochs, mode, shuffle):
        assert param.parse(param.format(param.default)) == param.default


def test_flag_from_name():
    assert FloatParam(name="w_min", default=0.0, help=HELP).flag == "--w-min"


def lesson(**kwargs) -> Lesson:
    low = FloatParam(name="w_min", default=0.0, help=HELP)
    high = FloatParam(name="w_max", default=4.0, help=HELP)
    return Lesson(id="t", number=1, title=HELP, train=lambda hp, run: iter(()), params=(low, high),
                  rules=(less_than("w_min", "w_max"),), **kwargs)


def test_resolve_applies_defaults_values_and_rules():
    spec = lesson()
    assert spec.resolve({}) == {"w_min": 0.0, "w_max": 4.0}
    values = spec.resolve({"w_max": "5"})
    assert isinstance(values, Values) and values.w_max == 5.0
    with pytest.raises(ParamError, match=r"^w_min, w_max: w_min \(5\) must be less than w_max \(4\)$"):
        spec.resolve({"w_min": "5"})
    with pytest.raises(ParamError, match="lr: not a param of t"):
        spec.resolve({"lr": "1"})


def test_text_picks_language():
    assert HELP("zh") == "帮助" and HELP("en") == "help"


def test_a_lesson_declares_its_seed_data_and_words():
    from labapp.data import Dataset

    plain = lesson()
    assert (plain.seed, plain.threads, plain.data, plain.datasets(plain.defaults())) == (0, None, (), ())
    assert plain.label("test", "zh") == "测试集" and plain.label("best w", "zh") == "best w"
    data = Dataset("d", "d.csv.gz", "0" * 64, 1, ("https://example.org/d.csv.gz",), "for tests")
    reads = lesson(seed=2, data=(data,), reads_data=lambda hp: hp.w_max > 1, labels={"best w": Text("最好的 w", "best w")})
    assert reads.seed == 2 and reads.datasets(reads.defaults()) == (data,)
    assert reads.datasets(reads.resolve({"w_max": "0.5"})) == ()
    assert reads.label("best w", "zh") == "最好的 w" and reads.label("best w", "en") == "best w"


def test_a_float_param_can_leave_the_number_to_the_lesson():
    auto_lr = FloatParam(name="lr", default=None, empty="auto", min=0, min_open=True, max=10, help=HELP)
    assert auto_lr.parse(" Auto ") is None and auto_lr.format(None) == "auto"
    assert auto_lr.parse("0.5") == 0.5 and auto_lr.parse(auto_lr.format(0.5)) == 0.5
    assert auto_lr.allowed() == "> 0 and <= 10, or auto"
    with pytest.raises(ParamError, match="lr: '' is not a number"):
        auto_lr.parse("")
    with pytest.raises(ParamError, match="is not a number"):
        lr.parse("auto")  # only a param with the word takes it


def test_a_text_param_keeps_the_text_without_surrounding_spaces():
    from labapp.lesson import TextParam

    names = TextParam(name="predict", default="", max_length=13, help=HELP)
    assert names.parse("  Müller, Smith ") == "Müller, Smith" and names.parse("") == ""
    with pytest.raises(ParamError, match="predict: .* has 14 characters: at most 13"):
        names.parse("x" * 14)
    with_word = TextParam(name="predict", default=None, empty="none", help=HELP)
    assert with_word.parse("None") is None and with_word.format(None) == "none"
    assert with_word.parse("") == "" and with_word.parse(with_word.format("Smith")) == "Smith"

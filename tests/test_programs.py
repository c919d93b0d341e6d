"""The take-away programs: every lesson has one, it is plain torch, and it prints `labapp run`'s final numbers.

The parity checks here are a quick subset (small epochs, one subprocess for all the torch programs);
`python -m tests.program_parity` runs every lesson with its defaults and more.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lessons
from lessons._changes import program_comment
from labapp.threads import choose_threads, read_machine
from lessons._data import DIABETES
from labapp import cli, program
from labapp.data import PRESENT, DataStore
from labapp.lesson import (BoolParam, ChoiceParam, FloatParam, IntParam, MultiChoiceParam, TensorParam, TextParam,
                           Values)
from labapp.program import literal, marked_lines, program_source
from labapp.runner import run_lesson
from tests.conftest import SHARED_DATA, labapp
from tests.program_parity import differences, final_numbers

ALLOWED_IMPORTS = {"torch", "torchvision"} | set(sys.stdlib_module_names)
DATA_DIR = os.environ.get("LABAPP_DATA_DIR") or (str(SHARED_DATA) if SHARED_DATA.is_dir() else None)


def imports(source: str) -> set[str]:
    """The top-level names of every module that `source` imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


# -- every lesson ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_every_lesson_has_a_program_that_compiles_and_imports_only_torch(lesson):
    source = program_source(lesson, lesson.defaults())  # the Code tab's call: two arguments
    assert source is not None, f"lessons/programs/{lesson.id}.py is missing"
    compile(source, f"{lesson.id}.py", "exec")
    assert imports(source) <= ALLOWED_IMPORTS, imports(source) - ALLOWED_IMPORTS


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_every_param_of_the_lesson_is_a_setting_of_its_program(lesson):
    text = program.template_path(lesson).read_text(encoding="utf-8")
    marked = marked_lines(text)
    params = [name for _, kind, name in marked if kind == "param"]
    assert sorted(params) == sorted(p.name for p in lesson.params)
    assert {name for _, kind, name in marked if kind == "option"} <= set(program.OPTIONS)
    assert "seed" in {name for _, kind, name in marked if kind == "option"}


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_only_the_marked_lines_change(lesson):
    template = program.template_path(lesson).read_text(encoding="utf-8")
    values = Values(lesson.defaults())
    source = program_source(lesson, values, seed=7, device="auto", threads=3, data_dir="/some/where")
    source = source.replace("\n" + program_comment(lesson.id), "", 1)  # the API changes, written in after the docstring
    marked = {index for index, _, _ in marked_lines(template)}
    for index, (before, after) in enumerate(zip(template.splitlines(), source.splitlines(), strict=True)):
        if index not in marked:
            assert before == after
    settings = {}
    for index, kind, name in marked_lines(source):
        line = source.splitlines()[index]
        settings[name] = ast.literal_eval(line.split("=", 1)[1].split("  #")[0].strip())
    assert settings["seed"] == 7
    assert {name: settings[name] for name in values} == dict(values)
    if "device" in settings:  # threads as the runner's policy takes them: capped at the usable cpus
        capped = choose_threads(read_machine(), interactive=False, requested=3, lesson_limit=lesson.threads).threads
        assert (settings["device"], settings["threads"]) == ("auto", capped)


# -- values of every param type are Python ----------------------------------------------------------

TEXTS = ["", "plain", "it's", 'say "hi"', "back\\slash", "two\nlines", "tab\there", "Müller, 中文", "\x00\x1b[31m",
         "\ud800", "'''", "# not a comment"]


@pytest.mark.parametrize("value", [0.01, 1e-300, 5e-324, -0.0, 1e300, 100_000, -3, 2**80, True, False, None, "SGD",
                                   (), ("SGD",), ("SGD", "Adam"), [[0.1, 2], [3, -4.5]], [1, 2, 3], 7.0, [[[1]]],
                                   *TEXTS])
def test_a_value_renders_as_the_python_literal_of_itself(value):
    text = literal(value)
    assert "\n" not in text
    back = ast.literal_eval(text)
    assert back == value and type(back) is type(value)


def test_parsed_values_of_every_param_type_render_into_a_program_that_compiles(tmp_path, monkeypatch):
    params = (FloatParam(name="f", default=0.1, help=None), IntParam(name="i", default=1, help=None),
              ChoiceParam(name="c", default="a", choices=("a", "b'c"), help=None),
              BoolParam(name="b", default=True, help=None), TextParam(name="t", default=None, empty="none", help=None),
              TensorParam(name="x", default=None, empty="example", help=None),
              MultiChoiceParam(name="m", default=(), choices=("SGD", "Adam"), help=None))
    lines = [f"{p.name} = None  # param" for p in params] + ["seed = 0  # option"]
    monkeypatch.setattr(program, "PROGRAMS", tmp_path)
    (tmp_path / "all-types.py").write_text("\n".join(lines) + "\nprint(f, i, c, b, t, x, m)\n")
    from labapp.lesson import Lesson, Text

    lesson = Lesson(id="all-types", number=99, title=Text("", ""), params=params, uses_torch=False,
                    train=lambda hp, run: iter(()))
    texts = [{"f": "1e-7", "i": "1_000", "c": "B'C", "b": "off", "t": "it's \"quoted\"\\", "x": "[[1, 2.5], [3, 4]]",
              "m": "adam,sgd"},
             {"t": "none", "x": "example", "m": "all"}, {"t": "x" * 1000, "m": "none", "x": "3"}]
    for given in texts:
        values = lesson.resolve(given)
        source = program_source(lesson, values)
        namespace: dict = {}
        exec(compile(source, "all-types.py", "exec"), namespace, namespace)  # noqa: S102 - our own program
        assert {p.name: namespace[p.name] for p in params} == dict(values)


# -- labapp code ---------------------------------------------------------------------------------

def test_code_prints_the_program_with_the_values(capsys):
    assert cli.main(["code", "gradient-descent", "--lr", "0.05", "--epochs", "30", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "lr = 0.05  # param" in out and "epochs = 30  # param" in out and "seed = 4  # option" in out
    compile(out, "gradient-descent.py", "exec")


def test_code_writes_a_file_with_out(tmp_path, capsys):
    target = tmp_path / "prog.py"
    assert cli.main(["code", "backprop", "--variant", "quadratic", "--out", str(target)]) == 0
    assert "variant = 'quadratic'  # param" in target.read_text(encoding="utf-8")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("args, message", [
    (["code", "gradient-descent", "--lr", "-1"], "lr: '-1' is out of range: must be > 0 and <= 1000"),
    (["code", "gradient-descent", "--lr", "nan"], "lr: 'nan' is not a finite number"),
    (["code", "linear-model", "--w-min", "5"], "w_min, w_max: w_min (5) must be less than w_max (4)"),
    (["code", "gradient-descent", "--seed", "-1"], "seed: '-1' is out of range"),
    (["code", "gradient-descent", "--threads", "0"], "threads: '0' is out of range"),
    (["code", "gradient-descent", "--device", "gpu"], "device: 'gpu' is not a device"),
    (["code", "gradient-descent", "--no-such-flag", "1"], "unrecognized arguments"),
    (["code", "no-such-lesson"], "unknown lesson 'no-such-lesson'"),
    (["code"], "which lesson?"),
])
def test_code_refuses_bad_values_like_run_in_one_line(args, message, capsys):
    assert cli.main(args) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    if "--lr" in args or "--w-min" in args:  # the very words of `labapp run`
        assert cli.main(["run", *args[1:]]) == cli.EXIT_USAGE
        assert capsys.readouterr().err == err


def test_a_lesson_without_a_program_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(program, "PROGRAMS", tmp_path)
    assert program_source(lessons.get("backprop"), lessons.get("backprop").defaults()) is None
    assert cli.main(["code", "backprop"]) == cli.EXIT_USAGE
    assert capsys.readouterr().err == "labapp code: lesson 'backprop' has no standalone program yet\n"


def test_the_data_folder_is_the_one_labapp_reads(monkeypatch, tmp_path):
    lesson = lessons.get("multi-dim-input")

    def embedded(**options):
        source = program_source(lesson, lesson.defaults(), **options)
        return next(line for line in source.splitlines() if line.startswith("data_dir = "))

    missing = tmp_path / "not-there"  # labapp would say so before training; the program names it all the same
    assert embedded(data_dir=str(missing)).startswith(f"data_dir = {str(missing)!r}  # option")
    monkeypatch.delenv("LABAPP_DATA_DIR", raising=False)
    cached = DataStore().status(DIABETES)  # found in the cache, or downloaded there by labapp
    expected = str(cached.path.parent) if cached.state == PRESENT else str(DataStore().cache.path)
    assert embedded().startswith(f"data_dir = {expected!r}  # option")
    if DATA_DIR and _data_here(lesson, lesson.defaults()):
        assert embedded(data_dir=DATA_DIR).startswith(f"data_dir = {DATA_DIR!r}  # option")
        monkeypatch.setenv("LABAPP_DATA_DIR", DATA_DIR)
        assert embedded().startswith(f"data_dir = {DATA_DIR!r}  # option")
    assert program_source(lessons.get("gradient-descent"), lessons.get("gradient-descent").defaults()).count(
        "data_dir") == 0  # a lesson without data has no data folder


def test_a_program_imports_no_labapp_module(tmp_path):
    """`python -X importtime` lists every module a program loads: none of labapp's or the lessons'."""
    path = tmp_path / "gradient-descent.py"
    assert labapp("code", "gradient-descent", "--out", str(path)).returncode == 0
    done = subprocess.run([sys.executable, "-X", "importtime", str(path)], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""}, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "random" in loaded and not loaded & {"labapp", "lessons"}
    assert final_numbers(done.stdout)["train"]["w"] == pytest.approx(2.0, abs=1e-3)


# -- parity: the program prints labapp's final numbers ----------------------------------------------

# (lesson, flags, datasets it needs): small runs, so the suite stays quick.
QUICK = [
    ("linear-model", ["--variant", "wx+b"]),
    ("gradient-descent", ["--lr", "0.05", "--epochs", "30"]),
    ("gradient-descent", ["--mode", "stochastic"]),
    ("backprop", ["--variant", "quadratic"]),
    ("backprop", ["--zero-grad", "off"]),
    ("linear-regression", ["--zero-grad", "off", "--epochs", "100"]),
    ("linear-regression", ["--compare", "SGD,Adam,LBFGS", "--epochs", "50"]),
    ("loss-functions", []),
    ("loss-functions", ["--loss", "Huber", "--reduction", "none", "--delta", "0.5"]),
    ("logistic-regression", ["--epochs", "200"]),
    ("multi-dim-input", ["--epochs", "20"]),
    ("cnn-basics", ["--epochs", "0", "--padding", "1"]),
    ("sequential", ["--epochs", "0", "--model", "resnet"]),
    ("rnn-basics", []),
    ("rnn-basics", ["--variant", "embedding", "--seed", "2"]),
    ("softmax-mnist", ["--epochs", "1"]),
]

# Runs each program (a file) in one process with runpy and reports what each printed and every module loaded.
BATCH = """
import contextlib, io, json, runpy, sys
outputs = {}
for name, path in json.loads(sys.argv[1]):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        runpy.run_path(path, run_name="__main__")
    outputs[name] = buffer.getvalue()
print(json.dumps({"outputs": outputs, "modules": sorted(sys.modules)}))
"""


def _values(lesson, flags):
    """The values and the seed that `labapp code LESSON FLAGS` reads."""
    args = cli.code_parser(lesson).parse_args(flags)
    texts = {p.name: getattr(args, p.name) for p in lesson.params if getattr(args, p.name) is not None}
    return lesson.resolve(texts), lesson.seed if args.seed is None else int(args.seed)


def _data_here(lesson, values) -> bool:
    try:
        store = DataStore(DATA_DIR)
        return all(store.status(name).state == PRESENT for name in lesson.datasets(values))
    except Exception:  # noqa: BLE001 - a data folder that is not there: nothing to compare with
        return False


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The quick cases' programs, run in one subprocess (one torch import): (outputs by case, modules loaded)."""
    folder = tmp_path_factory.mktemp("programs")
    runnable, skipped = [], {}
    for number, (lesson_id, flags) in enumerate(QUICK):
        lesson = lessons.get(lesson_id)
        values, seed = _values(lesson, flags)
        if not _data_here(lesson, values):
            skipped[number] = f"no {', '.join(lesson.datasets(values))} in {DATA_DIR or 'the cache'}"
            continue
        path = folder / f"case{number}-{lesson_id}.py"
        path.write_text(program_source(lesson, values, seed=seed, data_dir=DATA_DIR), encoding="utf-8")
        runnable.append((str(number), str(path)))
    done = subprocess.run([sys.executable, "-c", BATCH, json.dumps(runnable)], capture_output=True, text=True,
                          cwd=folder, env={**os.environ, "PYTHONPATH": ""}, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    return report["outputs"], report["modules"], skipped


def test_the_programs_load_no_labapp_module(batch):
    _, modules, _ = batch
    assert "torch" in modules
    assert not [m for m in modules if m.split(".")[0] in ("labapp", "lessons")]


@pytest.mark.parametrize("case", range(len(QUICK)), ids=[f"{lesson} {' '.join(flags)}".strip() for lesson, flags in QUICK])
def test_the_program_prints_the_final_numbers_of_labapp_run(case, batch):
    outputs, _, skipped = batch
    if case in skipped:
        pytest.skip(skipped[case])
    lesson_id, flags = QUICK[case]
    lesson = lessons.get(lesson_id)
    values, seed = _values(lesson, flags)
    summary = run_lesson(lesson, values, device="cpu", seed=seed, data_dir=DATA_DIR)
    assert summary.status == "finished", summary.message
    printed = final_numbers(outputs[str(case)])
    assert differences(summary.final, printed) == []
    assert bool(printed) == bool(summary.final)  # a lesson that trains prints its final numbers


def test_the_programs_ship_as_data_and_are_never_imported():
    import tomllib

    from tests.conftest import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "programs/*.py" in config["package-data"]["lessons"]
    assert not (program.PROGRAMS / "__init__.py").exists()
    assert sorted(path.stem for path in program.PROGRAMS.glob("*.py")) == sorted(l.id for l in lessons.LESSONS)
    assert not [name for name in sys.modules if name.startswith("lessons.programs")]

"""Sweeps: grid parsing and its refusals, ranking, mean ± std over seeds, and `labapp sweep` end to end."""

import dataclasses
import json
import math
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessons
from labapp.lesson import ChoiceParam, FloatParam, IntParam, ParamError, Values
from labapp.sweep import (FAILED, FINISHED, MAX_RUNS, Point, PointResult, Sweep, higher_is_better,
                          parse_grid, rank, table_text, takes_list)
from tests.conftest import COUNTER, ROOT, labapp

GD = lessons.get("gradient-descent")
READY = list(lessons.LESSONS)
LIST_PARAMS = [(lesson, p) for lesson in READY for p in lesson.params if takes_list(p)]


# -- the grid ---------------------------------------------------------------------------------------

def test_a_grid_is_every_combination_in_the_given_order_each_over_every_seed():
    grid = parse_grid(GD, {"mode": "batch,Stochastic", "lr": "0.1,0.01", "epochs": "50"}, seeds="0,1")
    assert grid.axes == {"mode": ("batch", "stochastic"), "lr": (0.1, 0.01), "epochs": (50,)}
    assert grid.varied == ("mode", "lr")
    assert [(p.values.mode, p.values.lr, p.seed) for p in grid.points][:5] == [
        ("batch", 0.1, 0), ("batch", 0.1, 1), ("batch", 0.01, 0), ("batch", 0.01, 1), ("stochastic", 0.1, 0)]
    assert len(grid.points) == 8
    assert all(p.values.epochs == 50 and p.values.w0 == 1.0 for p in grid.points)  # the rest: course defaults
    assert grid.points[0].varied == (("mode", "batch"), ("lr", 0.1))
    assert grid.is_sweep and not parse_grid(GD, {"lr": "0.1"}).is_sweep
    assert grid.describe() == "sweep of gradient-descent: mode batch, stochastic; lr 0.1, 0.01; seeds 0, 1: 8 runs"


def test_equal_values_are_one_point():
    assert parse_grid(GD, {"lr": "0.1, 1e-1,0.10"}).axes["lr"] == (0.1,)


@pytest.mark.parametrize("texts, seeds, message", [
    ({"lr": "0.1,abc"}, "0", "lr: 'abc' is not a number: must be > 0 and <= 1000 (item 2 of '0.1,abc')"),
    ({"lr": "0.1,-1"}, "0", "lr: '-1' is out of range: must be > 0 and <= 1000 (item 2 of '0.1,-1')"),
    ({"lr": "0.1,,0.2"}, "0", "lr: item 2 of '0.1,,0.2' is empty: give values separated by commas, each > 0 and <= 1000"),
    ({"mode": "batch,minibatch"}, "0", "mode: 'minibatch' is not a choice: must be one of batch, stochastic, mini-batch "
                                       "(item 2 of 'batch,minibatch')"),
    ({"epochs": "10,2.5"}, "0", "epochs: '2.5' is not a whole number: must be a whole number between 1 and 100000 "
                                  "(item 2 of '10,2.5')"),
    ({"lr": "0.1"}, "0,x", "seeds: 'x' is not a whole number: must be between 0 and "
                               "4294967295 (item 2 of '0,x')"),
    ({"nope": "1"}, "0", "nope: not a param of gradient-descent"),
])
def test_a_bad_item_is_refused_in_one_line_naming_the_param_the_item_and_what_is_allowed(texts, seeds, message):
    with pytest.raises(ParamError) as caught:
        parse_grid(GD, texts, seeds)
    assert str(caught.value) == message


def test_every_combination_meets_the_lessons_rules_before_anything_trains():
    linear_model = lessons.get("linear-model")
    parse_grid(linear_model, {"w_min": "0,1", "w_max": "4"})
    with pytest.raises(ParamError, match=r"w_min, w_max: w_min \(5\) must be less than w_max \(4\) "
                                         r"\(in the combination w_min=5.0\)"):
        parse_grid(linear_model, {"w_min": "0,5", "w_max": "4"})


def test_the_grid_is_capped():
    parse_grid(GD, {"lr": ",".join(f"0.00{i}" for i in range(1, 10)), "epochs": ",".join(map(str, range(1, 23)))})
    with pytest.raises(ParamError, match=rf"sweep: 9 x 23 x 1 seeds is 207 runs: at most {MAX_RUNS} in one sweep"):
        parse_grid(GD, {"lr": ",".join(f"0.00{i}" for i in range(1, 10)), "epochs": ",".join(map(str, range(1, 24)))})
    with pytest.raises(ParamError, match="is 202 runs"):
        parse_grid(GD, {"lr": "0.1,0.2"}, seeds=",".join(map(str, range(101))))


def test_lesson_4s_compare_is_a_sweep_over_optimizer():
    regression = lessons.get("linear-regression")
    grid = parse_grid(regression, {"compare": "all"})
    assert grid.varied == ("optimizer",) and grid.axes["compare"] == ((),)
    assert [p.values["optimizer"] for p in grid.points] == list(regression.param("optimizer").choices)
    assert parse_grid(regression, {"compare": "Adam,SGD"}).points == parse_grid(regression, {"optimizer": "Adam,SGD"}).points
    assert parse_grid(regression, {"compare": "Adam", "optimizer": "SGD"}).points[0].values["optimizer"] == "Adam"
    with pytest.raises(ParamError, match="compare, optimizer: both list several optimizers: give the list in one of them"):
        parse_grid(regression, {"compare": "SGD,Adam", "optimizer": "SGD,Adam"})
    with pytest.raises(ParamError, match=r"needs momentum > 0 .*\(in the combination optimizer=SGD-momentum\)"):
        parse_grid(regression, {"compare": "SGD-momentum,Adam", "momentum": "0", "nesterov": "on"})


def test_tensor_and_text_params_take_their_commas_as_one_value():
    losses = lessons.get("loss-functions")
    square = "[[0.2, 0.8, 0.1], [0.9, 0.1, 0.3], [0.1, 0.2, 0.7]]"
    assert parse_grid(losses, {"input": square}).axes["input"] == ([[0.2, 0.8, 0.1], [0.9, 0.1, 0.3], [0.1, 0.2, 0.7]],)
    assert "input takes one value in a sweep, not a list" in parse_grid(losses, {"input": square}).describe()
    with pytest.raises(ParamError, match=r"MSE needs input and target of the same shape \(in the combination loss=MSE\)"):
        parse_grid(losses, {"loss": "CrossEntropy,MSE", "input": square})
    names = parse_grid(lessons.get("rnn-classifier"), {"predict": "Alice,Bob", "lr": "0.001,0.01"})
    assert names.axes["predict"] == ("Alice,Bob",) and names.varied == ("lr",)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_list_of_allowed_values_parses_to_those_values(data):
    lesson, param = data.draw(st.sampled_from(LIST_PARAMS), label="param")
    values = data.draw(st.lists(_allowed(param), min_size=1, max_size=4), label="values")
    expected = list(dict.fromkeys(values))
    grid_axis = _axis_or_rule(lesson, param, ",".join(param.format(v) for v in values))
    if grid_axis is not None:
        assert list(grid_axis) == expected


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_refused_item_refuses_the_whole_list_with_the_params_own_message(data):
    lesson, param = data.draw(st.sampled_from(LIST_PARAMS), label="param")
    bad = data.draw(st.text(alphabet="abcxyz-!?.e9", min_size=1, max_size=6).filter(lambda t: _refused(param, t)))
    good = param.format(param.default)
    with pytest.raises(ParamError) as caught:
        parse_grid(lesson, {param.name: f"{good},{bad}"})
    message = str(caught.value)
    assert message.startswith(f"{param.name}: ") and param.allowed() in message and "\n" not in message


def _allowed(param):
    """A strategy of values that `param` allows."""
    if isinstance(param, ChoiceParam):
        return st.sampled_from(param.choices)
    if isinstance(param, IntParam):
        return st.integers(int(param.min if param.min is not None else -10**6),
                           int(param.max if param.max is not None else 10**6))
    if isinstance(param, FloatParam):
        low = param.min if param.min is not None else -1e6
        high = param.max if param.max is not None else 1e6
        return st.floats(low, high, exclude_min=param.min_open, exclude_max=param.max_open, allow_nan=False)
    return st.booleans()


def _refused(param, text):
    try:
        param.parse(text)
    except ParamError:
        return bool(text.strip()) and "," not in text
    return False


def _axis_or_rule(lesson, param, text):
    """The parsed axis, or None when a combination with the other defaults breaks a cross-field rule."""
    try:
        return parse_grid(lesson, {param.name: text}).axes[param.name]
    except ParamError as error:
        fields = str(error).split(":")[0]  # a rule's message begins with the fields it concerns
        assert any(p.name in fields for p in lesson.params) and "\n" not in str(error), str(error)
        return None


# -- ranking and seeds ----------------------------------------------------------------------------

def _result(lr, seed, status, final):
    point = Point(values=Values(lr=lr), varied=(("lr", lr),), seed=seed)
    return PointResult(point=point, status=status, message=status, final=final)


def test_mean_and_sample_std_over_seeds_and_failed_points_last():
    results = [_result(0.1, 0, FINISHED, 2.0), _result(0.1, 1, FINISHED, 4.0), _result(0.1, 2, FINISHED, 9.0),
               _result(0.01, 0, FINISHED, 1.0), _result(0.01, 1, FINISHED, 1.5), _result(0.01, 2, FINISHED, 2.0),
               _result(1.0, 0, "diverged", None), _result(1.0, 1, FINISHED, 0.1), _result(1.0, 2, FINISHED, 0.2),
               _result(0.5, 0, FAILED, None), _result(0.5, 1, FAILED, None), _result(0.5, 2, FAILED, None)]
    rows = rank(GD, results)
    assert [row.varied[0][1] for row in rows] == [0.01, 0.1, 1.0, 0.5]
    assert rows[1].mean == pytest.approx(5.0) and rows[1].spread == pytest.approx(math.sqrt(13.0))
    assert rows[1].spread == pytest.approx(statistics.stdev([2.0, 4.0, 9.0]))
    assert rows[2].status == "diverged" and rows[2].mean == pytest.approx(0.15)  # the seeds that finished
    assert rows[3].status == FAILED and rows[3].mean is None and rows[3].spread is None
    text = table_text(GD, rows, seeds=3)
    assert "mean ± std over 3 seeds" in text and "5.0 ± 3.6" in text and "diverged (1 of 3)" in text
    assert "failed (3 of 3)" in text and "—" in text


def test_higher_is_better_for_accuracies_lower_for_losses():
    assert higher_is_better("accuracy") and higher_is_better("letters right")
    assert not higher_is_better("loss") and not higher_is_better("cost") and not higher_is_better("mse")


def test_an_accuracy_headline_ranks_the_highest_first():
    classifier = dataclasses.replace(GD, headline=("test", "accuracy"))
    rows = rank(classifier, [_result(0.1, 0, FINISHED, 0.90), _result(0.01, 0, FINISHED, 0.97),
                             _result(0.5, 0, FINISHED, 0.11)])
    assert [row.varied[0][1] for row in rows] == [0.01, 0.1, 0.5]
    assert "higher is better" in table_text(classifier, rows, seeds=1)


def test_a_sweep_of_finished_diverged_and_failed_runs_ranks_them_without_crashing(tmp_path: Path):
    grid = parse_grid(COUNTER, {"epochs": "3,5", "blow_up_at": "0,2", "fail_at": "0,1"})
    sweep = Sweep(grid, runs_root=tmp_path)
    results = sweep.run()
    assert len(results) == 8 and len(list((tmp_path / "counter").iterdir())) == 8
    rows = rank(COUNTER, results)
    assert [row.status for row in rows] == ["finished", "finished", "diverged", "diverged",
                                            "failed", "failed", "failed", "failed"]
    assert rows[0].varied == (("epochs", 5), ("fail_at", 0), ("blow_up_at", 0)) and rows[0].mean == 1 / 32
    assert rows[0].curve() == ([1.0, 2.0, 3.0, 4.0, 5.0], [0.5, 0.25, 0.125, 0.0625, 0.03125])
    assert all(r.path is not None and (r.path / "summary.json").exists() for r in results)


# -- labapp sweep ---------------------------------------------------------------------------------

def _folders(runs_dir: Path, lesson: str) -> list[Path]:
    return sorted((runs_dir / lesson).iterdir())


def test_sweep_gradient_descent_ranks_three_recorded_runs_by_final_cost(runs_dir):
    result = labapp("sweep", "gradient-descent", "--lr", "0.001,0.01,0.1", "--epochs", "50")
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("sorted by final train cost, lower is better")[1]
    rows = [line.split() for line in table.splitlines()[2:5]]
    assert [row[:2] for row in rows] == [["1", "0.1"], ["2", "0.01"], ["3", "0.001"]]
    assert [row[3] for row in rows] == ["finished"] * 3
    assert len(_folders(runs_dir, "gradient-descent")) == 3
    assert {row[4] for row in rows} == {str(path) for path in _folders(runs_dir, "gradient-descent")}
    assert "lr=0.1" in result.stdout and "lr=0.001" in result.stdout  # the overlay's legend
    listed = labapp("runs")
    assert [line.split()[1:3] for line in listed.stdout.splitlines()[1:]] == [["gradient-descent", "finished"]] * 3


def test_seeds_double_the_runs(runs_dir):
    result = labapp("sweep", "gradient-descent", "--lr", "0.001,0.01,0.1", "--epochs", "50", "--seeds", "0,1",
                    "--quiet")
    assert result.returncode == 0, result.stderr
    assert len(_folders(runs_dir, "gradient-descent")) == 6
    assert "mean ± std over 2 seeds" in result.stdout and "0.00031541 ± 0" in result.stdout


@pytest.mark.parametrize("flags, message", [
    (["--lr", "0.1,zero"], "lr: 'zero' is not a number: must be > 0 and <= 1000 (item 2 of '0.1,zero')"),
    (["--seeds", "0,-1"], "seeds: '-1' is out of range"),
])
def test_sweep_refuses_bad_values_before_training(runs_dir, flags, message):
    result = labapp("sweep", "gradient-descent", *flags)
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert not (runs_dir / "gradient-descent").exists() or not list((runs_dir / "gradient-descent").iterdir())


def test_ctrl_c_stops_the_current_run_and_keeps_what_finished(runs_dir):
    # the first point is quick, the second long: Ctrl-C once the first has its summary
    process = subprocess.Popen([sys.executable, "-m", "labapp", "sweep", "gradient-descent", "--epochs", "20,100000",
                                "--lr", "0.001,0.01"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=ROOT)
    deadline = time.monotonic() + 60
    while not list(runs_dir.glob("gradient-descent/*/summary.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    folders = _folders(runs_dir, "gradient-descent")
    runs = sorted((json.loads((f / "config.json").read_text())["params"]["epochs"],
                   json.loads((f / "summary.json").read_text())["status"]) for f in folders)
    assert runs in ([(20, "finished")], [(20, "finished"), (100000, "stopped")])  # the third and fourth never start
    assert f"stopped: {len(folders)} of 4 runs ran; the table shows them" in out
    table = out.split("sorted by final train cost")[1].splitlines()
    assert table[2].split()[:5] == ["1", "0.001", "20", "3.2678", "finished"]


def test_the_sweep_core_imports_neither_torch_nor_textual():
    code = "import sys, labapp.sweep, lessons; assert 'torch' not in sys.modules and 'textual' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0

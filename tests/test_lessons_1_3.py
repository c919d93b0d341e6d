"""Lessons 1-3 against the course's numbers (LESSONS.md), with torch as the oracle where it applies."""

import pytest

import lessons
from labapp.lesson import Metric, ParamError
from labapp.runner import FINISHED, run_lesson


def train(lesson_id, **texts):
    lesson = lessons.get(lesson_id)
    records = []

    class Keep:
        start = finish = lambda self, x: None

        def record(self, record, elapsed):
            records.append(record)

    summary = run_lesson(lesson, lesson.resolve({k: str(v) for k, v in texts.items()}), [Keep()])
    assert summary.status == FINISHED, summary.message
    metrics = [r for r in records if isinstance(r, Metric)]
    return summary, metrics


def test_linear_model_finds_w_2_and_the_symmetric_ends():
    summary, metrics = train("linear-model")
    result = summary.results["result"]
    assert result["best w"] == 2.0 and result["min MSE"] == 0.0
    assert result["MSE(0)"] == result["MSE(4)"] == 18.667
    grid = [m for m in metrics if m.split == "train"]
    assert [m.values["w"] for m in grid][:4] == [0.0, 0.1, 0.2, 0.3] and len(grid) == 41
    assert summary.final["best"] == {"w": 2.0, "loss": 0.0}  # the headline: the best w and its MSE, not the last


def test_linear_model_headline_is_the_best_w_and_its_loss_in_both_languages():
    from labapp.widgets.status import headline
    from labapp.traces import RunTrace

    summary, metrics = train("linear-model", variant="wx+b")
    assert summary.final["best"] == {"w": 3.0, "b": 2.0, "loss": 0.0}
    lesson = lessons.get("linear-model")
    trace = RunTrace(lesson, lesson.resolve({"variant": "wx+b"}), 1, "#1")
    for metric in metrics:
        trace.progress.add(metric)
    assert headline(trace, "en") == "best w 3.0 b 2.0 min loss 0.0"
    assert headline(trace, "zh") == "最好的 w 3.0 b 2.0 最小损失 0.0"


def test_linear_model_surface_matches_the_course_grid():
    summary, metrics = train("linear-model", variant="wx+b")
    surface = summary.results["surface"]
    assert len(surface["x"]) == len(surface["y"]) == 41
    w, b, z = surface["x"], surface["y"], surface["z"]  # z[row of b][column of w]
    sse = lambda wi, bi: z[b.index(bi)][w.index(wi)]  # noqa: E731
    assert sse(0.0, 0.0) == pytest.approx(210)
    assert sse(4.0, 0.0) == pytest.approx(2)
    assert sse(4.0, 4.0) == pytest.approx(50)
    assert surface["mark"] == [3.0, 2.0] and sse(3.0, 2.0) == pytest.approx(0)
    assert summary.results["result"]["best w"] == 3.0 and summary.results["result"]["best b"] == 2.0


def test_linear_model_rules():
    lesson = lessons.get("linear-model")
    with pytest.raises(ParamError, match="w_min, w_max: w_min"):
        lesson.resolve({"w_min": "4", "w_max": "0"})
    with pytest.raises(ParamError, match="at most 10,000"):
        lesson.resolve({"variant": "wx+b", "step": "0.01"})
    with pytest.raises(ParamError, match="step: '0' is out of range: must be > 0"):
        lesson.resolve({"step": "0"})


def test_gradient_descent_batch_follows_the_course():
    summary, metrics = train("gradient-descent")
    first = metrics[0].values
    assert first["w"] == pytest.approx(1.0933, abs=1e-4) and first["cost"] == pytest.approx(4.667, abs=1e-3)
    eleventh = metrics[10].values  # the course counts epochs from 0: its "epoch 10"
    assert eleventh["w"] == pytest.approx(1.66, abs=0.005) and eleventh["cost"] == pytest.approx(0.66, abs=0.005)
    result = summary.results["result"]
    assert result["predict(4) before"] == 4.0
    assert result["w"] == pytest.approx(2.0, abs=1e-3) and result["predict(4) after"] == pytest.approx(8.0, abs=1e-3)


@pytest.mark.parametrize("mode", ["stochastic", "mini-batch"])
def test_gradient_descent_other_modes_converge(mode):
    summary, _ = train("gradient-descent", mode=mode)
    assert summary.results["result"]["w"] == pytest.approx(2.0, abs=1e-3)
    assert summary.results["result"]["predict(4) after"] == pytest.approx(8.0, abs=1e-3)


def test_gradient_descent_gradient_is_the_derivative():
    """The hand-written gradient equals autograd's."""
    import torch

    from lessons.gradient_descent import cost, gradient, x_data, y_data

    w = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    loss = ((torch.tensor(x_data, dtype=torch.float64) * w - torch.tensor(y_data, dtype=torch.float64)) ** 2).mean()
    loss.backward()
    assert gradient(x_data, y_data, 1.3) == pytest.approx(w.grad.item())
    assert cost(x_data, y_data, 1.3) == pytest.approx(loss.item())


def test_backprop_wx_matches_the_course():
    summary, metrics = train("backprop")
    result = summary.results["result"]
    assert result["predict(4) before"] == 4.0
    assert result["predict(4) after"] == pytest.approx(8.0, abs=1e-3)
    assert len(metrics) == 100
    grads = summary.results["grads"]
    assert grads["columns"] == ["x", "y", "∂l/∂w"] and len(grads["rows"]) == 3
    assert summary.results["graph"].splitlines() == [
        "PowBackward0", "  └─ SubBackward0", "    └─ MulBackward0", "      └─ AccumulateGrad -> w"]


def test_backprop_first_gradients_are_the_course_ones():
    """With w = 1 the first sample's gradient is 2·x·(x·w − y) = −2."""
    summary, _ = train("backprop", epochs=1)
    assert summary.results["grads"]["rows"][0] == [1.0, 2.0, pytest.approx(-2.0)]


def test_backprop_quadratic_predicts_8_544():
    summary, _ = train("backprop", variant="quadratic")
    assert summary.results["result"]["predict(4) after"] == pytest.approx(8.544, abs=1e-3)


def test_backprop_wx_plus_b_has_two_leaves():
    summary, metrics = train("backprop", variant="wx+b", epochs=5)
    assert set(metrics[-1].values) == {"loss", "w", "b"}
    assert "AccumulateGrad -> b" in summary.results["graph"]

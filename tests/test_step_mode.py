"""Step mode: one parameter update at a time, headless (`labapp run --steps N`) and through the runner's gate."""

from __future__ import annotations

import json
import time

import pytest

import lessons
from labapp.lesson import Metric, Step
from labapp.runner import Run, run_lesson
from tests.conftest import labapp

DEADLINE = 60  # seconds to wait for a condition on a loaded machine


class Collect:
    """A sink that keeps every record."""

    def __init__(self) -> None:
        self.records: list = []

    def start(self, info) -> None:
        pass

    def record(self, record, elapsed) -> None:
        self.records.append(record)

    def finish(self, summary) -> None:
        pass

    def steps(self) -> list[Step]:
        return [r for r in self.records if isinstance(r, Step)]


def wait_for(condition, what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < end, f"never: {what}"
        time.sleep(0.01)


def test_gradient_descent_steps_3_prints_the_course_numbers(runs_dir):
    result = labapp("run", "gradient-descent", "--steps", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # update 1, batch mode, w0 = 1: grad = mean of 2·x·(x·w − y) = (−2 − 8 − 18) / 3 = −28/3
    assert "update 1 · epoch 1" in out and "∂cost/∂w = -9.3333" in out
    assert "w ← w − lr·grad\n               = 1.0 − 0.01 × (-9.3333)\n               = 1.0933\n" in out
    assert "x [1.0, 2.0, 3.0]\n             y [2.0, 4.0, 6.0]" in out and "ŷ = x·w = [1.0, 2.0, 3.0]" in out
    assert "chart      epoch 1: cost 4.6667  w 1.0933" in out
    assert "update 3 · epoch 3" in out and "update 4" not in out
    assert "stopped at epoch 3 in step mode: 3 updates shown, as --steps asked" in out
    folder = next((runs_dir / "gradient-descent").iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "stopped" and "step mode" in summary["message"] and summary["epochs_done"] == 3
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert [row["number"] for row in rows if row["kind"] == "step"] == [1, 2, 3]


def test_the_step_record_holds_exact_numbers():
    sink = Collect()
    lesson = lessons.get("gradient-descent")
    run = Run(lesson, lesson.defaults(), sinks=[sink], steps=2)
    run.run()
    first = sink.steps()[0]
    assert first.number == 1 and first.grads["w"] == pytest.approx(-28 / 3, abs=1e-12)
    assert first.before == {"w": 1.0} and first.after["w"] == pytest.approx(1 + 0.01 * 28 / 3, abs=1e-12)
    assert first.loss == pytest.approx(14 / 3) and first.batch == {"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]}


def test_backprop_steps_1_draws_the_graph_for_x_1():
    result = labapp("run", "backprop", "--steps", "1", "--no-record")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "computational graph" in out
    for node in ("l = r² = 1", "r = ŷ − y = -1", "∂l/∂r = 2r = -2", "ŷ = x·w = 1", "x = 1", "w = 1", "y = 2",
                 "∂l/∂w = -2  (.grad)", "∂l/∂w = ∂l/∂ŷ·x = -2·1 = -2"):
        assert node in out, node
    assert "= 1.0 − 0.01 × (-2.0)\n               = 1.02" in out


def test_the_graph_speaks_chinese_too():
    result = labapp("run", "backprop", "--steps", "1", "--no-record", "--lang", "zh", "--variant", "wx+b")
    assert result.returncode == 0, result.stderr
    assert "计算图" in result.stdout and "第 1 次更新" in result.stdout and "∂l/∂b = ∂l/∂ŷ·1" in result.stdout


@pytest.mark.parametrize("lesson_id, values", [("logistic-regression", {}), ("linear-regression", {}),
                                               ("linear-regression", {"optimizer": "Adam"})])
def test_torch_lessons_steps_hold_autograds_gradients(lesson_id, values):
    import torch

    lesson = lessons.get(lesson_id)
    sink = Collect()
    Run(lesson, lesson.resolve(values), sinks=[sink], steps=3, device="cpu").run()
    steps = sink.steps()
    assert [s.number for s in steps] == [1, 2, 3]
    for step in steps:  # the oracle: torch's own gradient of the loss at the values before the update
        w = torch.tensor([[step.before["w"]]], requires_grad=True)
        b = torch.tensor([step.before["b"]], requires_grad=True)
        x, y = torch.tensor(step.batch["x"]).view(-1, 1), torch.tensor(step.batch["y"]).view(-1, 1)
        y_pred = x @ w.T + b
        if lesson_id == "logistic-regression":
            loss = torch.nn.BCELoss(reduction="sum")(torch.sigmoid(y_pred), y)
        else:
            loss = torch.nn.MSELoss(reduction="sum")(y_pred, y)
        loss.backward()
        assert step.loss == pytest.approx(loss.item(), rel=1e-5)
        assert step.grads["w"] == pytest.approx(w.grad.item(), rel=1e-4)
        assert step.grads["b"] == pytest.approx(b.grad.item(), rel=1e-4)
        if step.lr is not None:  # plain SGD: w ← w − lr·grad
            assert step.after["w"] == pytest.approx(step.before["w"] - step.lr * step.grads["w"], abs=1e-6)
        else:
            assert step.rule == "Adam.step()" and step.after["w"] != step.before["w"]
    assert steps[1].before == steps[0].after  # each update starts where the last one left


@pytest.mark.parametrize("args, needles", [
    (("sequential", "--steps", "2"), ("--steps: '2'", "sequential has no step mode", "gradient-descent, backprop")),
    (("gradient-descent", "--steps", "0"), ("--steps: '0'", "whole number between 1 and")),
    (("gradient-descent", "--steps", "two"), ("--steps: 'two'", "whole number between 1 and")),
    (("linear-regression", "--steps", "1", "--compare", "SGD,Adam"), ("--steps: '1'", "compare", "one optimizer")),
])
def test_steps_is_refused_with_a_clear_message(args, needles):
    result = labapp("run", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def test_the_gate_waits_then_runs_free_to_the_same_end():
    lesson = lessons.get("gradient-descent")
    sink = Collect()
    run = Run(lesson, lesson.defaults(), sinks=[sink])
    run.gate.step(1)
    run.start()
    for shown in (1, 2, 3):
        wait_for(lambda: run.gate.held and run.gate.shown == shown, f"held after update {shown}")
        metrics = [r for r in sink.records if isinstance(r, Metric)]
        assert len(metrics) == shown  # the chart point of each update shown is in, the next update's is not
        if shown < 3:
            run.gate.step()
    run.gate.run_free()
    assert run.join(DEADLINE)
    straight = run_lesson(lesson, lesson.defaults())
    assert run.summary.status == "finished" and run.summary.epochs_done == 100
    assert run.summary.final["train"]["w"] == straight.final["train"]["w"]
    assert len(sink.steps()) == 3  # at full speed no step is shown


def test_stop_works_while_the_gate_waits():
    lesson = lessons.get("backprop")
    run = Run(lesson, lesson.defaults(), sinks=[Collect()])
    run.gate.step(2)
    run.start()
    wait_for(lambda: run.gate.held, "held after update 2")
    run.request_stop()
    assert run.join(DEADLINE)
    assert run.summary.status == "stopped" and "in step mode, after update 2" in run.summary.message


def test_step_mode_can_begin_in_a_run_at_full_speed():
    lesson = lessons.get("gradient-descent")
    values = lesson.resolve({"epochs": "100000"})
    sink = Collect()
    run = Run(lesson, values, sinks=[sink])
    run.start()
    wait_for(lambda: any(isinstance(r, Metric) for r in sink.records), "a first epoch")
    run.gate.step()
    wait_for(lambda: run.gate.held, "held after one update")
    (step,) = sink.steps()
    assert step.number > 1  # numbered among all the updates made, shown or not
    run.request_stop()
    assert run.join(DEADLINE) and run.summary.status == "stopped"


def test_a_step_made_later_is_made_only_when_shown():
    from labapp.lesson import IntParam, Lesson, StepLater, Text

    made = []

    def train(hp, run):
        for epoch in range(1, hp.epochs + 1):
            yield StepLater(lambda epoch=epoch: made.append(epoch) or Step(epoch, {}, {}, 0.0, {}, {}, {}))
            yield Metric(epoch=epoch, values={"loss": 1 / epoch})

    lesson = Lesson(id="later", number=99, title=Text("后", "later"), train=train, uses_torch=False,
                    params=(IntParam(name="epochs", default=5, min=1, help=Text("轮", "epochs")),),
                    step_mode=lambda hp: None)
    assert run_lesson(lesson, lesson.defaults()).status == "finished" and made == []
    sink = Collect()
    summary = Run(lesson, lesson.defaults(), sinks=[sink], steps=2).run()
    assert made == [1, 2] and [s.number for s in sink.steps()] == [1, 2] and summary.status == "stopped"

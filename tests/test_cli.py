"""The `labapp` command as a user runs it: a subprocess with its stdout piped."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, labapp

ESC = "\x1b"


def test_list_prints_the_14_lessons_in_order():
    result = labapp("list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 14
    assert lines[0].split()[:2] == ["1", "linear-model"] and "线性模型（穷举法）" in lines[0]
    assert lines[13].split()[:2] == ["14", "rnn-classifier"]


def test_help_works():
    result = labapp("--help")
    assert result.returncode == 0 and "run" in result.stdout and "list" in result.stdout
    result = labapp("run", "gradient-descent", "--help")
    assert result.returncode == 0 and "--lr VALUE" in result.stdout and "--device" in result.stdout


@pytest.mark.parametrize("lang, needle", [("zh", "梯度下降"), ("en", "Gradient descent")])
def test_show_explains_a_lesson_in_either_language(lang, needle):
    result = labapp("show", "gradient-descent", "--lang", lang)
    assert result.returncode == 0
    assert needle in result.stdout and "--lr" in result.stdout and "default 0.01" in result.stdout


def test_show_follows_the_locale():
    result = labapp("show", "backprop", env={"LABAPP_LANG": "", "LC_ALL": "zh_CN.UTF-8"})
    assert "反向传播" in result.stdout


def test_run_linear_model_reports_the_best_w(runs_dir):
    result = labapp("run", "linear-model")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "best w   2.0" in out and "MSE(0)   18.667" in out and "MSE(4)   18.667" in out
    assert ESC not in out
    assert len(list((runs_dir / "linear-model").iterdir())) == 1


def test_run_linear_model_surface():
    result = labapp("run", "linear-model", "--variant", "wx+b")
    assert result.returncode == 0
    assert "X = minimum at w=3, b=2" in result.stdout
    assert "best w         3.0" in result.stdout and "best b         2.0" in result.stdout


@pytest.mark.parametrize("args", [[], ["--mode", "stochastic"]])
def test_gradient_descent_ends_near_w_2(args):
    result = labapp("run", "gradient-descent", *args)
    assert result.returncode == 0
    assert "epoch 100/100" in result.stdout
    result_lines = result.stdout.split("Result")[1]
    assert "w                  2.0" in result_lines or "w                  1.9999" in result_lines
    assert "predict(4) after   8.0" in result_lines or "predict(4) after   7.9998" in result_lines


def test_backprop_quadratic():
    result = labapp("run", "backprop", "--variant", "quadratic", "--quiet")
    assert result.returncode == 0 and "predict(4) after   8.5442" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["gradient-descent", "--lr", "abc"], "lr: 'abc' is not a number"),
    (["gradient-descent", "--lr", "-1"], "lr: '-1' is out of range: must be > 0"),
    (["gradient-descent", "--epochs", "0"], "epochs: '0' is out of range"),
    (["gradient-descent", "--mode", "fast"], "mode: 'fast' is not a choice: must be one of batch, stochastic, mini-batch"),
    (["gradient-descent", "--device", "tpu"], "device: 'tpu' is not"),
    (["gradient-descent", "--seed", "-3"], "seed: '-3' is out of range"),
    (["gradient-descent", "--bogus", "1"], "unrecognized arguments: --bogus"),
    (["no-such-lesson"], "labapp: unknown lesson 'no-such-lesson'"),
    ([], "which lesson?"),
])
def test_bad_usage_exits_2_with_one_line(args, message, runs_dir):
    result = labapp("run", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not list(runs_dir.glob("*/*")), "no run before the values are checked"


def test_a_missing_cuda_device_is_a_usage_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = labapp("run", "gradient-descent", "--device", "cuda")
    assert result.returncode == 2 and result.stderr.startswith("device: 'cuda' is not available")
    assert result.stderr.count("\n") == 1


def test_a_diverging_run_exits_3_and_says_so():
    result = labapp("run", "gradient-descent", "--lr", "10")
    assert result.returncode == 3
    assert "diverged at epoch" in result.stdout
    assert result.stderr.startswith("labapp: the run diverged at epoch")


def test_piped_output_is_plain():
    result = labapp("run", "backprop", "--epochs", "5")
    lines = result.stdout.splitlines()
    assert lines[0] == "backprop: 5 epochs on cpu (CPU), seed 0"
    assert lines[1].startswith("epoch 1/5  loss ")
    assert ESC not in result.stdout + result.stderr


def test_ctrl_c_stops_the_run_and_keeps_its_records(runs_dir):
    env = {**os.environ, "LABAPP_RUNS_DIR": str(runs_dir)}
    process = subprocess.Popen([sys.executable, "-m", "labapp", "run", "gradient-descent", "--epochs", "100000",
                                "--lr", "0.001", "--mode", "stochastic"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    line = process.stdout.readline()
    assert line.startswith("gradient-descent: 100000 epochs")
    process.stdout.readline()  # training has started
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    [run] = list((runs_dir / "gradient-descent").iterdir())
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "stopped"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows and rows[-1]["kind"] in ("metric", "view")
    assert "stopped at epoch" in out


def test_kill_9_leaves_a_run_that_lists_as_interrupted(runs_dir):
    env = {**os.environ, "LABAPP_RUNS_DIR": str(runs_dir)}
    process = subprocess.Popen([sys.executable, "-m", "labapp", "run", "gradient-descent", "--epochs", "100000",
                                "--lr", "0.001"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env, cwd=ROOT)
    for _ in range(3):
        process.stdout.readline()
    time.sleep(0.2)
    process.kill()
    process.wait(10)
    result = labapp("runs")
    assert result.returncode == 0
    [line] = [l for l in result.stdout.splitlines() if "gradient-descent" in l]
    assert " interrupted " in line


def test_runs_lists_finished_runs():
    labapp("run", "gradient-descent", "--epochs", "3")
    result = labapp("runs")
    assert result.returncode == 0
    assert "gradient-descent" in result.stdout and " finished " in result.stdout and "cost " in result.stdout

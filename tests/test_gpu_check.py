"""The GPU check's command (benchmarks/gpu.py) on the cpu fallback: it runs lessons and fails loudly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def gpu_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.gpu", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_the_cpu_fallback_runs_lessons_and_prints_a_line_each():
    done = gpu_check("--device", "cpu", "--only", "backprop", "loss-functions")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("labapp on cpu (cpu)") and "2 short runs" in lines[0]
    rows = {line.split()[0]: line for line in lines[2:4]}
    assert set(rows) == {"backprop", "loss-functions"}
    assert "train loss" in rows["backprop"] and "FAILED" not in done.stderr

def test_a_device_that_is_not_here_is_an_error_not_a_fallback(capsys):
    from benchmarks import gpu

    assert gpu.check("cuda:99", only=["backprop"]) == 2
    assert "is not available" in capsys.readouterr().err

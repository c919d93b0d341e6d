"""Shared fixtures: a private runs folder, the CLI as a subprocess, and tiny lessons without torch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from labapp.lesson import Chart, FloatParam, IntParam, Lesson, Metric, Text, ViewValue

# Ctrl-C reaches the processes the tests start however this run was started: a shell that starts it in the
# background (`cmd &`, `nohup`) leaves SIGINT ignored, and an ignored signal stays ignored in every child
# (Python then never raises KeyboardInterrupt). A handled one is reset to the default in each child.
signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes its run records into its own folder."""
    path = tmp_path / "runs"
    monkeypatch.setenv("LABAPP_RUNS_DIR", str(path))
    return path


def labapp(*args: str, env: dict[str, str] | None = None, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run `labapp ARGS` as a user would (stdout is a pipe, not a terminal)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "labapp", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=kwargs.pop("cwd", ROOT), **kwargs)


def _count(hp, run):
    """Counts up; loss halves each epoch, or explodes past `blow_up_at`, or raises at `fail_at`."""
    loss = 1.0
    for epoch in range(1, hp.epochs + 1):
        if epoch == hp.fail_at:
            raise RuntimeError("boom at epoch %d" % epoch)
        loss = float("inf") if epoch == hp.blow_up_at else loss / 2
        yield Metric(epoch=epoch, values={"loss": loss})
        if run.should_stop:
            return
        if hp.sleep:
            import time

            time.sleep(hp.sleep)
    yield ViewValue("result", {"last loss": loss})


COUNTER = Lesson(
    id="counter",
    number=99,
    title=Text("计数", "Counter"),
    explanation=Text("测试用。", "For tests."),
    params=(
        IntParam(name="epochs", default=5, min=1, max=10_000, help=Text("轮数", "epochs")),
        IntParam(name="fail_at", default=0, min=0, help=Text("在此轮失败", "fail at this epoch")),
        IntParam(name="blow_up_at", default=0, min=0, help=Text("在此轮发散", "diverge at this epoch")),
        FloatParam(name="sleep", default=0.0, min=0, max=1, help=Text("每轮暂停", "pause per epoch")),
    ),
    charts=(Chart(Text("损失", "Loss"), y=("loss",)),),
    train=_count,
    uses_torch=False,
)


@pytest.fixture
def counter() -> Lesson:
    """A lesson that needs no torch: five quick epochs, with switches to fail or diverge."""
    return COUNTER

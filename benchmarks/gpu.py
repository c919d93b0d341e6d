"""The GPU check: every lesson once, briefly, on a device; its epoch time, final numbers beside the cpu's, peak memory.

    python -m benchmarks --gpu [--amp] [--device cuda:N | --device cpu]
    python -m benchmarks.gpu [--amp] [--device D] [--only LESSON ...]

Runs each lesson (and the variants that build other models) through labapp's own runner, as
`labapp run` does, with a short setting (one epoch of the MNIST lessons on the course data, a
few of the others). On cuda: the MNIST splits are normalised once and kept on the device (the
lessons' default loader), `torch.backends.cudnn.benchmark` is on (the runner turns it on for
cuda: the course's convolutions see fixed shapes), and the same runs go on the cpu too, so
that the table shows the final metrics of both side by side. `--amp` runs the device pass a
second time under autocast (bfloat16, which needs no gradient scaler) and shows its numbers
beside float32's. Peak device memory is torch.cuda.max_memory_allocated for each run.

Any run that does not finish (an error, a divergence, a missing device) is printed with its
traceback, and the command exits 1 after the table. `--device cpu` is the fallback that runs
anywhere (about a minute or two on a quiet 2-core machine) and checks the command itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    """One short run: a lesson and the values that differ from its defaults."""

    lesson: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """e.g. 'cnn-advanced variant=resnet'."""
        extra = " ".join(f"{k}={v}" for k, v in self.values.items() if k != "epochs")
        return f"{self.lesson} {extra}".strip()


CASES = (
    Case("backprop", {"epochs": "100"}),
    Case("linear-regression", {"epochs": "200"}),
    Case("linear-regression", {"epochs": "100", "compare": "all"}),
    Case("loss-functions"),
    Case("logistic-regression", {"epochs": "200"}),
    Case("multi-dim-input", {"epochs": "100"}),
    Case("dataset-dataloader", {"epochs": "5"}),
    Case("softmax-mnist", {"epochs": "1"}),
    Case("cnn-basics", {"epochs": "1"}),
    Case("sequential", {"epochs": "1", "model": "mlp"}),
    Case("sequential", {"epochs": "1", "model": "resnet"}),
    Case("cnn-advanced", {"epochs": "1", "variant": "inception"}),
    Case("cnn-advanced", {"epochs": "1", "variant": "resnet"}),
    Case("rnn-basics", {"epochs": "15"}),
    Case("rnn-classifier", {"epochs": "1"}),
)


@dataclass
class Outcome:
    """How one run went on one device."""

    status: str
    message: str
    epoch_s: float | None
    final: dict[str, dict[str, float]]
    peak_mib: float | None
    traceback: str | None = None


def data_dir() -> str | None:
    """$LABAPP_DATA_DIR, else ../shared/data if it is there, else labapp's own search (its cache)."""
    shared = ROOT.parent / "shared" / "data"
    return os.environ.get("LABAPP_DATA_DIR") or (str(shared) if shared.is_dir() else None)


def run_case(case: Case, device: str, amp: bool = False) -> Outcome:
    """Run `case` on `device` through labapp's runner (under bfloat16 autocast if `amp`)."""
    import torch

    import lessons
    from labapp.lesson import Metric
    from labapp.runner import Run

    class Seconds:
        """A sink that keeps the lesson's own seconds per epoch, where it reports them."""

        def __init__(self) -> None:
            self.seconds: list[float] = []

        def start(self, info: Any) -> None:
            """Nothing to do."""

        def record(self, record: Any, elapsed: float) -> None:
            """Keep an epoch's `seconds`."""
            if isinstance(record, Metric) and record.step is None and "seconds" in record.values:
                self.seconds.append(float(record.values["seconds"]))

        def finish(self, summary: Any) -> None:
            """Nothing to do."""

    lesson = lessons.get(case.lesson)
    values = lesson.resolve(case.values)
    on_cuda = device.startswith("cuda")
    seconds = Seconds()
    run = Run(lesson, values, device=device, seed=0, data_dir=data_dir(), sinks=[seconds])
    try:
        run.prepare()
    except Exception as error:  # noqa: BLE001 - reported in the table, and the command fails
        return Outcome("failed", f"could not start: {type(error).__name__}: {error}", None, {}, None)
    if on_cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    autocast = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if amp else contextlib.nullcontext()
    with autocast:
        summary = run.run()
    if on_cuda:
        torch.cuda.synchronize()
    epochs = max(1, summary.epochs_done)
    epoch_s = min(seconds.seconds) if seconds.seconds else summary.duration_s / epochs
    peak = torch.cuda.max_memory_allocated() / 2**20 if on_cuda else None
    return Outcome(summary.status, summary.message, epoch_s, summary.final, peak, summary.traceback)


def finals(final: dict[str, dict[str, float]]) -> str:
    """The last loss and accuracy of each split, short."""
    shown = []
    for split, values in final.items():
        for name in ("loss", "cost", "accuracy"):
            value = values.get(name)
            if isinstance(value, (int, float)):
                text = f"{value:.1%}" if name == "accuracy" else f"{value:.4g}"
                shown.append(f"{split} {name} {text}")
    return ", ".join(shown[:3]) or "-"


def main(argv: list[str] | None = None) -> int:
    """Run every case on the device (and on the cpu beside it); exit 1 if any run failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N, mps, or cpu (the fallback); default cuda")
    parser.add_argument("--amp", action="store_true",
                        help="also run under autocast (bfloat16), accuracy beside float32")
    parser.add_argument("--only", nargs="+", default=None, metavar="LESSON", help="only these lessons")
    args = parser.parse_args(argv)
    return check(args.device, args.amp, args.only)


def check(device: str, amp: bool = False, only: list[str] | None = None) -> int:
    """The check itself: prints one line per case as it finishes, then the failures; 0 if all finished."""
    import torch

    from labapp.runner import DeviceError, resolve_device

    try:
        resolved = str(resolve_device(device))
    except DeviceError as error:
        print(f"benchmarks --gpu: {error}", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name(resolved) if resolved.startswith("cuda") else resolved
    compare_cpu = resolved != "cpu"
    amp = amp and resolved.startswith("cuda")
    cases = [c for c in CASES if only is None or c.lesson in only]
    print(f"labapp on {resolved} ({name}), torch {torch.__version__}: {len(cases)} short runs"
          f"{', each also on the cpu' if compare_cpu else ''}{', and under bfloat16 autocast' if amp else ''}",
          flush=True)
    print(f"{'lesson':<34} {'s/epoch':>8} {'peak MiB':>9}  final ({resolved}){' | cpu' if compare_cpu else ''}"
          f"{' | amp' if amp else ''}", flush=True)
    failures: list[tuple[str, str, Outcome]] = []
    started = time.perf_counter()
    for case in cases:
        outcome = run_case(case, resolved)
        shown = [finals(outcome.final)]
        if outcome.status != "finished":
            failures.append((case.name, resolved, outcome))
        if compare_cpu:
            cpu = run_case(case, "cpu")
            shown.append(finals(cpu.final))
            if cpu.status != "finished":
                failures.append((case.name, "cpu", cpu))
        if amp:
            mixed = run_case(case, resolved, amp=True)
            shown.append(finals(mixed.final) + f" ({mixed.epoch_s:.3g} s/epoch)" if mixed.epoch_s else "-")
            if mixed.status != "finished":
                failures.append((case.name, f"{resolved} amp", mixed))
        epoch = f"{outcome.epoch_s:8.3g}" if outcome.epoch_s is not None else f"{'-':>8}"
        peak = f"{outcome.peak_mib:9.1f}" if outcome.peak_mib is not None else f"{'-':>9}"
        status = "" if outcome.status == "finished" else f"  [{outcome.status.upper()}]"
        print(f"{case.name:<34} {epoch} {peak}  {' | '.join(shown)}{status}", flush=True)
    print(f"\n{len(cases)} lessons in {time.perf_counter() - started:.0f} s", flush=True)
    for case_name, where, outcome in failures:
        print(f"\nFAILED: {case_name} on {where}: {outcome.message}", file=sys.stderr)
        if outcome.traceback:
            print(outcome.traceback, file=sys.stderr)
    if failures:
        print(f"\n{len(failures)} run(s) did not finish", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

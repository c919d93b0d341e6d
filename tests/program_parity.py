"""The take-away programs against `labapp run`: the same final numbers, to 3 significant digits.

    python -m tests.program_parity               every lesson with its defaults, then the non-default cases
    python -m tests.program_parity --defaults    every lesson with its defaults only (the full sweep)
    python -m tests.program_parity LESSON ...    those lessons' cases only

Both sides run as subprocesses with the same seed and data folder ($LABAPP_DATA_DIR, else the course
data in ../shared/data when it is there). Slow with the defaults (rnn-classifier trains 100 epochs
twice): an opt-in check, not part of the test suite, which runs a quick subset (tests/test_programs.py).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
TIMING = {"seconds"}  # final values that measure time, not the result

# Every lesson with its defaults, then non-default cases: (lesson, flags).
DEFAULTS = [(lesson, []) for lesson in (
    "linear-model", "gradient-descent", "backprop", "linear-regression", "loss-functions", "logistic-regression",
    "multi-dim-input", "dataset-dataloader", "softmax-mnist", "cnn-basics", "sequential", "cnn-advanced",
    "rnn-basics", "rnn-classifier")]
OTHERS = [
    ("linear-model", ["--variant", "wx+b", "--step", "0.2"]),
    ("gradient-descent", ["--lr", "0.05", "--epochs", "30"]),
    ("gradient-descent", ["--mode", "mini-batch", "--w0", "-2"]),
    ("backprop", ["--variant", "quadratic"]),
    ("linear-regression", ["--compare", "SGD,Adam,LBFGS", "--epochs", "100"]),
    ("linear-regression", ["--optimizer", "SGD-momentum", "--nesterov", "on", "--loss", "Huber", "--reduction", "mean"]),
    ("loss-functions", ["--loss", "NLL", "--weight", "[1, 2, 3]"]),
    ("loss-functions", ["--loss", "SmoothL1", "--reduction", "none", "--delta", "0.5"]),
    ("logistic-regression", ["--epochs", "300", "--reduction", "mean"]),
    ("multi-dim-input", ["--activation", "relu", "--epochs", "300"]),
    ("dataset-dataloader", ["--num-workers", "0", "--batch-size", "100", "--lr", "0.5", "--epochs", "20"]),
    ("softmax-mnist", ["--epochs", "2"]),
    ("softmax-mnist", ["--epochs", "1", "--loader", "dataloader"]),
    ("cnn-basics", ["--epochs", "0", "--padding", "1"]),
    ("sequential", ["--model", "mlp", "--epochs", "1"]),
    ("sequential", ["--model", "resnet", "--epochs", "1", "--loader", "dataloader"]),
    ("cnn-advanced", ["--variant", "resnet", "--epochs", "1"]),
    ("rnn-basics", ["--variant", "rnn"]),
    ("rnn-basics", ["--variant", "embedding", "--epochs", "30", "--seed", "3"]),
    ("rnn-classifier", ["--epochs", "2", "--bidirectional", "off", "--hidden-size", "50"]),
    # issue 17: the mistakes made on purpose, and lesson 10's layer list
    ("backprop", ["--zero-grad", "off"]),
    ("linear-regression", ["--zero-grad", "off", "--compare", "SGD,Adam"]),
    ("softmax-mnist", ["--softmax", "on", "--epochs", "2"]),
    ("cnn-basics", ["--epochs", "1", "--layers", "conv 10 3, pool 2, conv 20 3 pad 1, pool 2 stride 1, linear 50, linear 10"]),
    ("cnn-advanced", ["--variant", "resnet", "--skip", "off", "--epochs", "1"]),
]


def environment() -> dict[str, str]:
    """The environment of both sides: this checkout first on the path, the course data, no run records."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    if not env.get("LABAPP_DATA_DIR") and SHARED_DATA.is_dir():
        env["LABAPP_DATA_DIR"] = str(SHARED_DATA)
    return env


def final_numbers(output: str) -> dict[str, dict[str, float]]:
    """The `final SPLIT: name value  name value` lines of an output, as numbers by split and name."""
    finals: dict[str, dict[str, float]] = {}
    for line in output.splitlines():
        if not line.startswith("final ") or ": " not in line:
            continue
        head, _, rest = line.partition(": ")
        values = finals.setdefault(head.removeprefix("final "), {})
        for item in rest.split("  "):
            name, _, number = item.strip().rpartition(" ")
            try:
                values[name] = float(number)
            except ValueError:
                continue
    return finals


def agree(a: float, b: float, digits: int = 3) -> bool:
    """Whether `a` and `b` are the same number to `digits` significant digits (or both not finite and equal)."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b or (math.isnan(a) and math.isnan(b))
    if f"{a:.{digits}g}" == f"{b:.{digits}g}":
        return True
    return math.isclose(a, b, rel_tol=10 ** -(digits + 1), abs_tol=1e-12)  # either side of a rounding edge


def run(command: list[str], env: dict[str, str], timeout: float) -> str:
    """A command's stdout; RuntimeError with its stderr if it fails."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def labapp_final(lesson: str, flags: list[str], env: dict[str, str], timeout: float = 3600) -> dict:
    """`labapp run`'s final numbers."""
    return final_numbers(run([sys.executable, "-m", "labapp", "run", lesson, *flags, "--no-record", "--quiet"],
                             env, timeout))


def program_final(lesson: str, flags: list[str], env: dict[str, str], timeout: float = 3600) -> dict:
    """The final numbers of `labapp code`'s program, written to a file and run with python."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{lesson}.py"
        run([sys.executable, "-m", "labapp", "code", lesson, *flags, "--out", str(path)], env, 60)
        return final_numbers(run([sys.executable, str(path)], env | {"PYTHONPATH": ""}, timeout))


def both(lesson: str, flags: list[str], env: dict[str, str]) -> tuple[dict, dict]:
    """labapp's and the program's final numbers, the two run side by side (each on one thread by default)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        ours = pool.submit(labapp_final, lesson, flags, env)
        theirs = pool.submit(program_final, lesson, flags, env)
        return ours.result(), theirs.result()


def differences(labapp: dict, program: dict) -> list[str]:
    """What keeps the two from agreeing: values apart, or names one side lacks (timings aside)."""
    problems = []
    for split in sorted(set(labapp) | set(program)):
        ours, theirs = labapp.get(split, {}), program.get(split, {})
        for name in sorted((set(ours) | set(theirs)) - TIMING):
            if name not in ours or name not in theirs:
                problems.append(f"{split} {name}: only {'labapp' if name in ours else 'the program'} has it")
            elif not agree(ours[name], theirs[name]):
                problems.append(f"{split} {name}: labapp {ours[name]:.6g}, the program {theirs[name]:.6g}")
    return problems


def main(argv: list[str]) -> int:
    """Run the cases, print one row per final number, and exit 1 if any disagree."""
    cases = DEFAULTS if "--defaults" in argv else DEFAULTS + OTHERS
    wanted = [arg for arg in argv if not arg.startswith("--")]
    if wanted:
        cases = [case for case in DEFAULTS + OTHERS if case[0] in wanted]
    env = environment()
    print(f"data: {env.get('LABAPP_DATA_DIR', '(labapp cache)')}")
    print(f"{'lesson':<20} {'flags':<44} {'value':<18} {'labapp':>12} {'program':>12}  same")
    failed = 0
    for lesson, flags in cases:
        start = time.perf_counter()
        try:
            ours, theirs = both(lesson, flags, env)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"{lesson:<20} {' '.join(flags):<44} FAILED: {error}")
            failed += 1
            continue
        problems = differences(ours, theirs)
        failed += bool(problems)
        for split in ours:
            for name, value in ours[split].items():
                if name in TIMING:
                    continue
                other = theirs.get(split, {}).get(name, math.nan)
                same = "yes" if agree(value, other) else "NO"
                print(f"{lesson:<20} {' '.join(flags):<44} {split + ' ' + name:<18} {value:>12.6g} {other:>12.6g}  {same}")
        for problem in problems:
            print(f"{lesson:<20} {' '.join(flags):<44} DIFFERS: {problem}")
        print(f"{'':<20} ({time.perf_counter() - start:.0f} s)", flush=True)
    print(f"\n{len(cases) - failed} of {len(cases)} cases agree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

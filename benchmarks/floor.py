"""The compute floor: each training lesson's model in a bare loop, against `labapp run`, in one run.

    python -m benchmarks.floor [--epochs N] [--rounds R] [--only CASE ...] [--json]

For each case, one after the other, each in a fresh process: `labapp run LESSON --epochs N` (the
whole runner path: its records, views and sinks), then the floor: the same model, optimizer, loss,
batch size and number of batches, on tensors prepared once and resident in memory, in a bare loop
of zero_grad, forward, loss, backward, step, then the same test pass; with the threads labapp chose
(read from its config.json), waiting as labapp's do (OMP_WAIT_POLICY=PASSIVE unless set). An
epoch is timed from the end of one epoch to the end of the next, so the first epoch (data loading,
warm-up) is left out of both sides; the ratio is the median labapp epoch over the median floor
epoch ('best': the fastest over the fastest, steadier when other programs share the machine).
Target: at most 1.15 where an epoch takes over 0.1 s.
Beside it, where the course's own program is in benchmarks/reference/, its median epoch, as
information (its data pipeline costs very differently from machine to machine).

The data: $LABAPP_DATA_DIR, else ../shared/data (MNIST/raw with the 8,000/2,000 split, names).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
PYTHON = sys.executable
TARGET = 1.15  # labapp's epoch at most 15 % over the floor's
MATTERS_S = 0.1  # the target holds for lessons whose epoch takes longer than this


@dataclass(frozen=True)
class Case:
    """One lesson (and variant) to measure: its `labapp run` flags and the floor loop that matches it."""

    name: str
    lesson: str
    flags: tuple[str, ...]
    floor: str  # 'mnist:<model>' or 'rnn'
    course: str | None = None  # a program in benchmarks/reference/ that reports epoch_seconds


CASES = (
    Case("softmax-mnist", "softmax-mnist", (), "mnist:mlp", course="softmax_mnist_course.py"),
    Case("cnn-basics", "cnn-basics", (), "mnist:cnn"),
    Case("sequential (cnn)", "sequential", ("--model", "cnn"), "mnist:cnn"),
    Case("cnn-advanced inception", "cnn-advanced", ("--variant", "inception"), "mnist:inception"),
    Case("cnn-advanced resnet", "cnn-advanced", ("--variant", "resnet"), "mnist:resnet"),
    Case("rnn-classifier", "rnn-classifier", (), "rnn"),
)


def data_dir() -> str:
    """$LABAPP_DATA_DIR, else ../shared/data."""
    return os.environ.get("LABAPP_DATA_DIR") or str(ROOT.parent / "shared" / "data")


# -- the floors (run in a process of their own: `python -m benchmarks.floor --worker ...`) ---------

def mnist_model(name: str) -> Callable[[], object]:
    """The lesson's own model builder for `name` (mlp, cnn, inception, resnet)."""
    from lessons import cnn_advanced, cnn_basics, softmax_mnist

    return {"mlp": softmax_mnist.make_model, "cnn": cnn_basics.make_model,
            "inception": lambda: cnn_advanced.make_model("inception"),
            "resnet": lambda: cnn_advanced.make_model("resnet")}[name]


def mnist_floor(model_name: str, epochs: int, device: str = "cpu") -> list[float]:
    """Seconds per epoch of lessons 9-12's loop, bare: SGD with the lesson's lr and momentum, its batch size,
    test batches of 1000."""
    import torch
    from torchvision import datasets

    import lessons

    hp = lessons.get("softmax-mnist").defaults()  # lessons 9-12 share these params

    root = data_dir()
    splits = []
    for train in (True, False):
        data = datasets.MNIST(root=root, train=train, download=False)
        x = ((data.data.unsqueeze(1).float() / 255) - 0.1307) / 0.3081  # (N, 1, 28, 28), normalised once
        splits.append((x.to(device), data.targets.to(device)))
    (x, y), (test_x, test_y) = splits
    model = mnist_model(model_name)().to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=hp["momentum"])
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for index in torch.randperm(len(y), device=device).split(hp["batch_size"]):
            optimizer.zero_grad()
            loss = criterion(model(x.index_select(0, index)), y.index_select(0, index))
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(test_x[i:i + 1000]).argmax(dim=1) == test_y[i:i + 1000]).sum()
                          for i in range(0, len(test_y), 1000))
        model.train()
        float(correct)  # waits for the device
        seconds.append(time.perf_counter() - start)
    return seconds


def rnn_floor(epochs: int, device: str = "cpu") -> list[float]:
    """Seconds per epoch of rnn-classifier's loop, bare: the course's GRU, Adam, the lesson's default settings."""
    import torch

    import lessons
    from lessons import rnn_classifier as rnn

    hp = lessons.get("rnn-classifier").defaults()

    folder = Path(data_dir())
    train_rows = [row for row in rnn.read_names(folder / "names_train.csv.gz") if row[0]]
    countries = sorted({country for _, country in train_rows})
    index = {country: i for i, country in enumerate(countries)}
    test_rows = [row for row in rnn.read_names(folder / "names_test.csv.gz") if row[0] and row[1] in index]
    seq, lengths, labels = rnn.make_tensors(*zip(*[(n, index[c]) for n, c in train_rows]))
    test_seq, test_len, test_y = rnn.make_tensors(*zip(*[(n, index[c]) for n, c in test_rows]))
    order = test_len.argsort(descending=True)
    test_seq, test_len, test_y = test_seq[order], test_len[order], test_y[order]
    model = rnn.make_model(hp["hidden_size"], hp["n_layers"], hp["bidirectional"], len(countries)).to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for idx in torch.randperm(len(labels)).split(hp["batch_size"]):
            inputs, batch_lengths, target = rnn.sorted_batch(seq, lengths, labels, idx)
            loss = criterion(model(inputs.to(device), batch_lengths), target.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(test_seq[i:i + 1024, :int(test_len[i])].to(device),
                                         test_len[i:i + 1024]).argmax(dim=1).cpu()
                                   for i in range(0, len(test_len), 1024)])
        model.train()
        float((predicted == test_y).float().mean())
        seconds.append(time.perf_counter() - start)
    return seconds


def worker(floor: str, epochs: int, threads: int) -> dict:
    """Run one floor in this process with `threads` torch threads; its epoch seconds."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    seconds = rnn_floor(epochs) if floor == "rnn" else mnist_floor(floor.split(":", 1)[1], epochs)
    return {"epoch_s": seconds, "threads": torch.get_num_threads()}


# -- the comparison ------------------------------------------------------------------------------

def labapp_epochs(case: Case, epochs: int) -> dict:
    """`labapp run` for the case: seconds between the ends of consecutive epochs, and its thread count."""
    with tempfile.TemporaryDirectory() as out:
        command = [PYTHON, "-m", "labapp", "run", case.lesson, *case.flags, "--epochs", str(epochs), "--quiet",
                   "--out", out, "--data-dir", data_dir()]
        subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        [folder] = Path(out).glob(f"{case.lesson}/*/")
        config = json.loads((folder / "config.json").read_text())
        lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    ends = [r["t"] for r in lines if r["kind"] == "metric" and r["step"] is None and r["split"] == "train"]
    return {"epoch_s": [b - a for a, b in zip(ends, ends[1:])], "threads": config["threads"],
            "threads_why": config.get("threads_why")}


def floor_epochs(case: Case, epochs: int, threads: int) -> dict:
    """The case's floor in a fresh process; every epoch but the first."""
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}  # as labapp's threads wait
    done = subprocess.run([PYTHON, "-m", "benchmarks.floor", "--worker", case.floor, "--epochs", str(epochs),
                           "--threads", str(threads)], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "epoch_s": result["epoch_s"][1:]}


def course_epochs(case: Case, epochs: int, threads: int) -> dict | None:
    """The course's program for the case, if there is one here, with the same threads; every epoch but the first."""
    if case.course is None:
        return None
    done = subprocess.run([PYTHON, str(REFERENCE / case.course), "--epochs", str(epochs), "--data", data_dir(),
                           "--threads", str(threads)], capture_output=True, text=True, check=True, cwd=REFERENCE)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"epoch_s": result["epoch_seconds"][1:], "threads": result["threads"]}


def measure(cases: tuple[Case, ...] = CASES, epochs: int = 3, rounds: int = 1,
            say: Callable[[str], None] = lambda line: None) -> list[dict]:
    """For each case, `rounds` times labapp and the floor (alternating which goes first), then the course's program."""
    results = []
    for case in cases:
        ours: list[float] = []
        floor: list[float] = []
        course: list[float] = []
        threads, why = None, None
        for round in range(rounds):
            if round % 2 == 1 and threads is not None:  # every other round the floor first: no side always second
                floor += floor_epochs(case, epochs, threads)["epoch_s"]
            run = labapp_epochs(case, epochs)
            threads, why = run["threads"], run["threads_why"]
            ours += run["epoch_s"]
            if round % 2 == 0:
                floor += floor_epochs(case, epochs, threads)["epoch_s"]
            reference = course_epochs(case, epochs, threads)
            if reference is not None:
                course += reference["epoch_s"]
        result = {"case": case.name, "threads": threads, "threads_why": why,
                  "labapp_s": statistics.median(ours), "floor_s": statistics.median(floor),
                  "course_s": statistics.median(course) if course else None,
                  "labapp_epochs_s": ours, "floor_epochs_s": floor}
        result["ratio"] = result["labapp_s"] / result["floor_s"]
        result["best_ratio"] = min(ours) / min(floor)  # fastest epoch over fastest epoch: steadier on a busy machine
        result["matters"] = result["floor_s"] > MATTERS_S
        result["met"] = result["ratio"] <= TARGET or not result["matters"]
        results.append(result)
        say(line(result))
    return results


def line(result: dict) -> str:
    """One row of the table."""
    course = f"{result['course_s']:8.3f}" if result["course_s"] is not None else f"{'-':>8}"
    verdict = ("ok" if result["ratio"] <= TARGET else "OVER") if result["matters"] else "(epoch under 0.1 s)"
    return (f"{result['case']:<24} {result['threads']:>7} {result['labapp_s']:8.3f} {result['floor_s']:8.3f} "
            f"{result['ratio']:6.2f} {result['best_ratio']:6.2f}  {verdict:<6} {course}")


HEADER = (f"{'lesson':<24} {'threads':>7} {'labapp':>8} {'floor':>8} {'ratio':>6} {'best':>6}  {'target':<6} "
          f"{'course':>8}")


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 1 if a lesson whose epoch matters is over the target."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (the first is not counted); default 3")
    parser.add_argument("--rounds", type=int, default=1, help="labapp/floor pairs per lesson; default 1")
    parser.add_argument("--only", nargs="+", choices=[c.name for c in CASES], default=None, metavar="CASE")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch is not counted")
    if args.worker:
        print(json.dumps(worker(args.worker, args.epochs, args.threads)))
        return 0
    cases = tuple(c for c in CASES if args.only is None or c.name in args.only)
    print(f"the compute floor: median seconds per epoch (epochs 2-{args.epochs}, {args.rounds} round(s)); "
          f"ratio = labapp / floor, target at most {TARGET} where an epoch takes over {MATTERS_S} s", flush=True)
    print(HEADER, flush=True)
    results = measure(cases, args.epochs, args.rounds, say=lambda text: print(text, flush=True))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

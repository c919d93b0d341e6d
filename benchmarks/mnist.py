"""MNIST: the course's program (a DataLoader with per-image transforms) against `labapp run softmax-mnist`.

    python -m benchmarks.mnist [--data-dir DIR] [--epochs N] [--quick]
    python -m benchmarks.mnist --threads     ms per step of lessons 9-12's models on 1 and 2 threads

In one run, on the same data folder, one after the other, each as a user runs it:
1. the course's program as written (benchmarks/reference/softmax_mnist_course.py), torch's default threads;
2. the same program with one thread, labapp's setting, to show what the threads alone change;
3. `labapp run softmax-mnist` (its default loader: each split normalised once, batches sliced);
4. `labapp run softmax-mnist --loader dataloader` (the course's pipeline inside labapp).
An epoch's time is its train() plus its test(). labapp's first epoch also carries its one-off data
preparation (reading the files and normalising every image), so the ratio is on the cautious side.
Imports and process start-up are left out of both. With the same seed both train on the same
batches, so the test accuracies agree (to rounding: a different thread count sums in another order).

Without a folder that holds MNIST/raw/ (--data-dir, else $LABAPP_DATA_DIR), one is built in a
temporary folder from ../shared/data/mnist-t10k: the first 8,000 images of MNIST's test set as the
training split, the last 2,000 as the test split.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference" / "softmax_mnist_course.py"
T10K = ROOT.parent / "shared" / "data" / "mnist-t10k"
PYTHON = sys.executable
TARGET = 0.25  # the bar: labapp's epoch at most 1/4 of the course's


def mnist_folder(data_dir: str | None, scratch: str) -> str:
    """A folder with MNIST/raw/: `data_dir`, else $LABAPP_DATA_DIR, else one built in `scratch` from the t10k files."""
    from labapp.data import DataStore
    from lessons._data import MNIST
    from tests.mnist_fixtures import split_mnist_test_set

    for folder in (data_dir, os.environ.get("LABAPP_DATA_DIR")):
        if folder and DataStore(folder).status(MNIST).path == Path(folder).expanduser():
            return str(Path(folder).expanduser())
    if data_dir:
        raise SystemExit(f"{data_dir} holds no usable MNIST/raw/ (see `labapp data --data-dir {data_dir}`)")
    if not T10K.is_dir():
        raise SystemExit(f"no MNIST folder: pass --data-dir DIR (a folder with MNIST/raw/); {T10K} is not here")
    return str(split_mnist_test_set(T10K, Path(scratch) / "mnist8k", train=8000))


def course(data: str, epochs: int, threads: int = 0) -> dict:
    """The course's program: its epoch times and test accuracies (threads 0: torch's default)."""
    command = [PYTHON, str(REFERENCE), "--epochs", str(epochs), "--data", data, "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REFERENCE.parent, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"epoch_s": result["epoch_seconds"], "accuracy": result["accuracies"], "threads": result["threads"]}


def labapp(data: str, epochs: int, *flags: str) -> dict:
    """`labapp run softmax-mnist`: epoch times (the first with the data preparation) and test accuracies."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([PYTHON, "-m", "labapp", "run", "softmax-mnist", "--epochs", str(epochs), "--quiet",
                        "--out", out, "--data-dir", data, *flags], capture_output=True, text=True, check=True, cwd=ROOT)
        [run] = Path(out).glob("softmax-mnist/*/")
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        threads = json.loads((run / "config.json").read_text()).get("threads")
    epochs_rows = [r for r in rows if r["kind"] == "metric" and r["step"] is None]
    seconds = [r["seconds"] for r in epochs_rows if r["split"] == "train"]
    [about] = [r["value"] for r in rows if r["kind"] == "view" and r["view"] == "data"]
    prepare = float(about["loaded in"].split()[0])
    return {"epoch_s": [seconds[0] + prepare, *seconds[1:]], "prepare_s": prepare, "threads": threads,
            "accuracy": [r["accuracy"] for r in epochs_rows if r["split"] == "test"]}


def measure(data_dir: str | None = None, epochs: int = 1, quick: bool = False) -> dict:
    """Every number of the comparison; `quick` leaves out the one-thread course run and labapp's DataLoader run."""
    with tempfile.TemporaryDirectory() as scratch:
        data = mnist_folder(data_dir, scratch)
        results = {"course": course(data, epochs)}
        if not quick:
            results["course, 1 thread"] = course(data, epochs, threads=1)
        results["labapp"] = labapp(data, epochs)
        if not quick:
            results["labapp --loader dataloader"] = labapp(data, epochs, "--loader", "dataloader")
    ratio = results["labapp"]["epoch_s"][0] / results["course"]["epoch_s"][0]
    return {"data": data if data_dir or os.environ.get("LABAPP_DATA_DIR") else "8,000/2,000 split of MNIST's test set",
            "epochs": epochs, "runs": results, "ratio": ratio, "target": TARGET, "met": ratio <= TARGET}


def thread_table(rounds: int = 3) -> dict:
    """ms per training step (batch 64) of each model of lessons 9-12 with 1 and 2 threads: (best, median) of rounds."""
    import statistics
    import time

    import torch

    from lessons import cnn_advanced, cnn_basics, softmax_mnist

    models = {"mlp": softmax_mnist.make_model, "cnn": cnn_basics.make_model,
              "inception": lambda: cnn_advanced.make_model("inception"),
              "resnet": lambda: cnn_advanced.make_model("resnet")}
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for name, make in models.items():
            for threads in (1, 2):
                torch.set_num_threads(threads)
                model = make()
                optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
                steps = 60 if name in ("mlp", "cnn") else 20
                for step in range(steps + 5):  # 5 to warm up
                    if step == 5:
                        start = time.perf_counter()
                    optimizer.zero_grad()
                    torch.nn.functional.cross_entropy(model(x), y).backward()
                    optimizer.step()
                times.setdefault((name, threads), []).append((time.perf_counter() - start) / steps * 1000)
    return {f"{name}, {threads} thread(s)": (min(ms), statistics.median(ms)) for (name, threads), ms in times.items()}


def main(argv: list[str] | None = None) -> int:
    """Print the comparison; exit 1 if labapp's epoch is over the target share of the course's."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mnist", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="a folder that holds MNIST/raw/ (default: $LABAPP_DATA_DIR, "
                                                         "else built from ../shared/data/mnist-t10k)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="only the course's program and labapp's default")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--threads", action="store_true", help="measure a training step with 1 and 2 threads")
    args = parser.parse_args(argv)
    if args.threads:
        for name, (best, median) in thread_table().items():
            print(f"  {name:<24} ms per step: best {best:6.2f}  median {median:6.2f}")
        return 0
    result = measure(args.data_dir, args.epochs, args.quick)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"MNIST, {result['data']}, {result['epochs']} epoch(s), one run of each, one after the other:")
        for name, run in result["runs"].items():
            times = ", ".join(f"{s:.2f}" for s in run["epoch_s"])
            accuracy = ", ".join(f"{a:.2%}" for a in run["accuracy"])
            print(f"  {name:<28} {run['threads']} thread(s)  s/epoch {times:<12}  test accuracy {accuracy}")
        print(f"ratio labapp / course, first epoch: {result['ratio']:.3f} "
              f"(target at most {TARGET}: {'met' if result['met'] else 'NOT met'})")
        if "course, 1 thread" in result["runs"]:
            alone = result["runs"]["labapp"]["epoch_s"][0] / result["runs"]["course, 1 thread"]["epoch_s"][0]
            print(f"ratio labapp / course with one thread, what the data pipeline alone saves: {alone:.3f}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())

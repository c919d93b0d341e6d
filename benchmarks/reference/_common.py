"""What every reference script shares: its command line and the JSON line it ends with."""

import argparse
import json
import random
import time


def arguments(epochs: int) -> argparse.Namespace:
    """--epochs, --data (the folder with the course files), --seed, --threads."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--data", default=".")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads; 0 leaves torch's default")
    args = parser.parse_args()
    random.seed(args.seed)
    try:
        import numpy
        import torch

        numpy.random.seed(args.seed)
        torch.manual_seed(args.seed)
        if args.threads:
            torch.set_num_threads(args.threads)
    except ImportError:
        pass
    return args


class Clock:
    """Times the training loop."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def report(seconds: float, epochs: int, **final) -> None:
    """The last line: what the suite reads."""
    print(json.dumps({"seconds": seconds, "epochs": epochs, **final}), flush=True)

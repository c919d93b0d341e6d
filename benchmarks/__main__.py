"""`python -m benchmarks [--quick|--full] [--only SECTION ...]`: labapp against the course's programs.

`python -m benchmarks --gpu [--amp] [--device cpu]`: the GPU check instead (benchmarks/gpu.py).

Prints one table: for each measurement labapp's number, the reference's, and the ratio
labapp / reference (below 1 is better; for the targets, the reference column is the target).
--quick (the default) finishes in a few minutes here; --full runs more epochs and repeats.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

from benchmarks import suite

SECTIONS = {
    "lessons": suite.lessons,
    "floor": suite.floor,
    "mnist": suite.mnist,
    "busy": suite.busy_core,
    "tui": suite.tui,
    "startup": suite.startup,
    "memory": suite.memory,
}


def table(rows: list[suite.Row]) -> str:
    """The rows as an aligned text table."""
    lines = [f"{'measurement':<72} {'labapp':>10} {'reference':>10} {'ratio':>6}  note"]
    for row in rows:
        reference = f"{row.reference:.4g}" if row.reference is not None else "-"
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        lines.append(f"{row.what[:72]:<72} {row.labapp:>10.4g} {reference:>10} {ratio:>6}  {row.unit}; {row.note}")
    return "\n".join(lines)


def main() -> int:
    """Run the chosen sections and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the default: a few minutes")
    mode.add_argument("--full", action="store_true", help="more epochs")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--gpu", action="store_true",
                        help="instead: the GPU check, every lesson briefly on --device (benchmarks/gpu.py)")
    parser.add_argument("--device", default="cuda", help="with --gpu: cuda, cuda:N, mps, or cpu (the fallback)")
    parser.add_argument("--amp", action="store_true", help="with --gpu: also under bfloat16 autocast")
    args = parser.parse_args()
    if args.gpu:
        from benchmarks import gpu

        return gpu.check(args.device, amp=args.amp)
    quick = not args.full
    started = time.perf_counter()
    print(f"labapp benchmarks ({'quick' if quick else 'full'}) on {platform.node()}: "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}", flush=True)
    rows: list[suite.Row] = []
    for name in args.only:
        section_start = time.perf_counter()
        try:
            new = SECTIONS[name](quick)
        except (Exception, SystemExit) as error:  # noqa: BLE001 - one section failing must not hide the others
            print(f"  {name}: could not run: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            continue
        rows += new
        print(f"  {name}: {len(new)} rows in {time.perf_counter() - section_start:.0f} s", flush=True)
    print()
    print(table(rows))
    print(f"\n{len(rows)} measurements in {time.perf_counter() - started:.0f} s; "
          "ratio = labapp / reference (below 1: labapp is faster or smaller)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

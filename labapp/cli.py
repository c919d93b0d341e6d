"""`labapp`: the workbench (TUI), and `labapp list | show | run | runs | data` for scripts and slow links.

Exit codes of `labapp run`: 0 finished, 1 failed, 2 bad usage or value (a missing or corrupt data
file included), 3 diverged, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM); an interrupted run
is recorded as stopped. `labapp data fetch` exits 1 when a file could not be had.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import unicodedata
from pathlib import Path
from typing import Any, NoReturn

from labapp.lesson import Lesson, ParamError, shown

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DIVERGED = 0, 1, 2, 3
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
RUN_OPTIONS = ("device", "seed", "out", "quiet", "threads", "no_record", "lang", "data_dir", "help")
DATA_DIR_HELP = "a folder that holds the course's data files (default $LABAPP_DATA_DIR), searched before the cache"


class UsageError(Exception):
    """Bad usage: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit 2, never a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def default_lang() -> str:
    """'zh' if $LABAPP_LANG or the locale asks for Chinese, else 'en'."""
    for name in ("LABAPP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def width(text: str) -> int:
    """Columns that `text` takes in a terminal (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns` terminal columns."""
    return text + " " * max(0, columns - width(text))


def fancy_terminal() -> bool:
    """Whether stdout may get a progress bar and colours: a terminal, not TERM=dumb, and no NO_COLOR."""
    return sys.stdout.isatty() and os.environ.get("TERM", "") != "dumb" and not os.environ.get("NO_COLOR")


def one_line(text: str) -> str:
    """`text` with its line breaks and other control characters escaped, so that it prints as one line."""
    return "".join(repr(ch)[1:-1] if unicodedata.category(ch) == "Cc" else ch for ch in text)


def find_lesson(lesson_id: str) -> Lesson:
    """The lesson named `lesson_id`, or UsageError."""
    import lessons

    try:
        return lessons.get(lesson_id)
    except KeyError:
        raise UsageError(f"labapp: unknown lesson {shown(lesson_id)}: `labapp list` shows the lessons") from None


# -- list, show ---------------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    """Print the lessons in course order."""
    import lessons

    for lesson in lessons.LESSONS:
        mark = "" if lesson.ready else "  (coming)"
        print(f"{lesson.number:>2}  {lesson.id:<20} {pad(lesson.title.zh, 24)} {lesson.title.en}{mark}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """Print a lesson's explanation and params."""
    lesson = find_lesson(args.lesson)
    lang = args.lang or default_lang()
    print(f"{lesson.number}. {lesson.title(lang)}  ({lesson.id})")
    if not lesson.ready:
        print("\n" + ("这一课还在制作中。" if lang == "zh" else "This lesson is not built yet."))
        return EXIT_OK
    print("\n" + lesson.explanation(lang).rstrip())
    print("\n" + ("参数" if lang == "zh" else "Parameters") + f"  (labapp run {lesson.id} --flag VALUE)")
    for param in lesson.params:
        print(f"  {param.flag:<14} {param.help(lang)}")
        print(f"  {'':<14} default {param.format(param.default) or '(empty)'}; {param.allowed()}")
    return EXIT_OK


# -- run ------------------------------------------------------------------------------------------

def run_parser(lesson: Lesson) -> _Parser:
    """`labapp run <lesson>`'s parser: one flag per lesson param, plus the run options."""
    parser = _Parser(prog=f"labapp run {lesson.id}", description=lesson.title.en)
    group = parser.add_argument_group("lesson parameters (course defaults)")
    for param in lesson.params:
        group.add_argument(param.flag, dest=param.name, metavar="VALUE", default=None,
                           help=f"{param.help.en}; default {param.format(param.default)}; {param.allowed()}")
    parser.add_argument("--device", default="auto", help="auto (cuda, else mps, else cpu), cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", default="0", help=f"random seed, 0 to {SEED_MAX} (default 0)")
    parser.add_argument("--threads", default=None, help=f"torch cpu threads, 1 to {THREADS_MAX} (default: chosen per lesson)")
    parser.add_argument("--out", default=None, help="folder for run records (default $LABAPP_RUNS_DIR or ./runs)")
    parser.add_argument("--no-record", action="store_true", help="keep no run records on disk")
    parser.add_argument("--quiet", action="store_true", help="print only the final report")
    parser.add_argument("--lang", choices=("zh", "en"), default=None, help="language of the report")
    parser.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    return parser


SEED_MAX = 2**32 - 1  # numpy's seeds are 32-bit
THREADS_MAX = 1024


def _whole(name: str, text: str | None, low: int, high: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{name}: {shown(text)} is not a whole number") from None
    if not low <= value <= high:
        raise UsageError(f"{name}: {shown(text)} is out of range: must be between {low} and {high}")
    return value


def cmd_run(argv: list[str]) -> int:
    """Train a lesson headless; returns the exit code."""
    if not argv or argv[0].startswith("-"):
        if argv and argv[0] in ("-h", "--help"):
            print("usage: labapp run LESSON [--PARAM VALUE ...] [--device D] [--seed N] [--out DIR] [--quiet]\n"
                  "                  [--data-dir DIR]\n"
                  "       labapp run LESSON --help   lists the lesson's parameters")
            return EXIT_OK
        raise UsageError("labapp run: which lesson? (`labapp list` shows them)")
    lesson = find_lesson(argv[0])
    if not lesson.ready:
        raise UsageError(f"labapp: lesson {lesson.id!r} is not built yet")
    args = run_parser(lesson).parse_args(argv[1:])
    for name, value in vars(args).items():
        if isinstance(value, list):  # argparse drops the value '--' (as in `--lr=--`), leaving []
            setattr(args, name, "--")
    texts = {p.name: getattr(args, p.name) for p in lesson.params if getattr(args, p.name) is not None}
    try:
        values = lesson.resolve(texts)
    except ParamError as error:
        raise UsageError(str(error)) from None
    seed = _whole("seed", args.seed, 0, SEED_MAX)
    threads = _whole("threads", args.threads, 1, THREADS_MAX)
    return _train(lesson, values, args, seed or 0, threads)


def _train(lesson: Lesson, values: Any, args: argparse.Namespace, seed: int, threads: int | None) -> int:
    from labapp import report
    from labapp.data import DataError
    from labapp.records import RecordsError, RunRecorder
    from labapp.runner import DIVERGED, FAILED, FINISHED, DeviceError, Run

    terminal = fancy_terminal()
    keep = report.Keep()
    sinks: list[Any] = [keep]
    recorder = None
    if not args.no_record:
        recorder = RunRecorder(Path(args.out) if args.out else None)
        sinks.append(recorder)
    if not args.quiet:
        sinks.append(report.BarProgress() if terminal else report.PlainProgress())
    run = Run(lesson, values, device=args.device, seed=seed, threads=threads, data_dir=args.data_dir, sinks=sinks)
    try:
        run.prepare(say=lambda message: print(f"labapp: {message}", file=sys.stderr, flush=True))
    except DeviceError as error:
        raise UsageError(str(error)) from None
    except DataError as error:
        raise UsageError(f"labapp: {error}") from None
    try:
        if recorder is not None:
            recorder.check(lesson.id)
    except RecordsError as error:
        raise UsageError(f"labapp: {error}: use --out DIR to keep them elsewhere, or --no-record") from None

    signals: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        if signals and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, whatever the lesson is doing
        signals.append(signum)
        run.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = run.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

    lang = args.lang or default_lang()
    report.final_report(lesson, summary, keep.records, lang, color=terminal)
    if recorder is not None and recorder.path is not None:
        print(f"run records: {recorder.path}")
    if summary.status == FAILED:
        where = f"the traceback is in {recorder.path / 'run.log'}" if recorder and recorder.path else summary.traceback
        print(f"labapp: the run {summary.message}; {where}", file=sys.stderr)
        return EXIT_FAILED
    if summary.status == DIVERGED:
        print(f"labapp: the run {summary.message}", file=sys.stderr)
        return EXIT_DIVERGED
    if summary.status == FINISHED:
        return EXIT_OK
    return EXIT_SIGTERM if signals and signals[0] == signal.SIGTERM else EXIT_SIGINT


# -- code -----------------------------------------------------------------------------------------

def code_parser(lesson: Lesson) -> _Parser:
    """`labapp code <lesson>`'s parser: the lesson's flags as `labapp run` has them, and the options baked in."""
    parser = _Parser(prog=f"labapp code {lesson.id}",
                     description=f"{lesson.title.en}: the lesson's standalone course program, with these values")
    group = parser.add_argument_group("lesson parameters (course defaults)")
    for param in lesson.params:
        group.add_argument(param.flag, dest=param.name, metavar="VALUE", default=None,
                           help=f"{param.help.en}; default {param.format(param.default)}; {param.allowed()}")
    run = run_parser(lesson)  # the same defaults as `labapp run`, so the program computes what a run does
    parser.add_argument("--device", default=run.get_default("device"),
                        help="written into the program: auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", default=run.get_default("seed"),
                        help=f"written into the program: random seed, 0 to {SEED_MAX}")
    parser.add_argument("--threads", default=None, help=f"written into the program: torch cpu threads, 1 to {THREADS_MAX}")
    parser.add_argument("--data-dir", default=None, metavar="DIR", help="the data folder written into the program "
                        "(default as labapp finds it: $LABAPP_DATA_DIR, then the cache); $LABAPP_DATA_DIR overrides it")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the program to FILE instead of printing it")
    return parser


def cmd_code(argv: list[str]) -> int:
    """Print (or write) a lesson's standalone program with the given values; returns the exit code."""
    from labapp.program import program_source

    if not argv or argv[0].startswith("-"):
        if argv and argv[0] in ("-h", "--help"):
            print("usage: labapp code LESSON [--PARAM VALUE ...] [--device D] [--seed N] [--threads N] [--out FILE]\n"
                  "       labapp code LESSON --help   lists the lesson's parameters")
            return EXIT_OK
        raise UsageError("labapp code: which lesson? (`labapp list` shows them)")
    lesson = find_lesson(argv[0])
    args = code_parser(lesson).parse_args(argv[1:])
    for name, value in vars(args).items():
        if isinstance(value, list):  # argparse drops the value '--' (as in `--lr=--`), leaving []
            setattr(args, name, "--")
    texts = {p.name: getattr(args, p.name) for p in lesson.params if getattr(args, p.name) is not None}
    try:
        values = lesson.resolve(texts)
    except ParamError as error:
        raise UsageError(str(error)) from None
    seed = _whole("seed", args.seed, 0, SEED_MAX) or 0
    threads = _whole("threads", args.threads, 1, THREADS_MAX)
    device = args.device.strip().lower()
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", device):  # whether it is here is for the program to find
        raise UsageError(f"device: {shown(args.device)} is not a device: must be auto, cpu, cuda, cuda:N or mps")
    source = program_source(lesson, values, seed=seed, device=device, threads=threads, data_dir=args.data_dir)
    if source is None:
        raise UsageError(f"labapp code: lesson {lesson.id!r} has no standalone program yet")
    if args.out is None:
        sys.stdout.write(source)
        return EXIT_OK
    try:
        Path(args.out).expanduser().write_text(source, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"labapp code: cannot write {shown(args.out)}: {error.strerror or error}") from None
    print(f"wrote {args.out}: run it with `python {args.out}`", file=sys.stderr)
    return EXIT_OK


# -- runs -----------------------------------------------------------------------------------------

def cmd_runs(args: argparse.Namespace) -> int:
    """List past runs."""
    from labapp.records import default_root, list_runs

    root = Path(args.out) if args.out else default_root()
    runs = list_runs(root, args.lesson)
    if not runs:
        print(f"no runs in {root}")
        return EXIT_OK
    print(f"{'started':<20} {'lesson':<20} {'status':<12} {'epochs':>6}  {'final':<34} path")
    for run in runs:
        final = run.final.get("test") or run.final.get("train") or {}
        shown = "  ".join(f"{k} {v:.4g}" if isinstance(v, (int, float)) else f"{k} {v}"
                          for k, v in list(final.items())[:3])
        print(f"{run.started[:19]:<20} {run.lesson:<20} {run.status:<12} {run.epochs_done:>6}  {shown:<34} {run.path}")
    return EXIT_OK


# -- data -----------------------------------------------------------------------------------------

def _store(args: argparse.Namespace) -> Any:
    from labapp.data import DataError, DataStore

    try:
        return DataStore(args.data_dir)
    except DataError as error:
        raise UsageError(f"labapp: {error}") from None


def cmd_data(args: argparse.Namespace) -> int:
    """List the course's data files: present (verified), missing or corrupt, and where."""
    from labapp.data import DATASETS, IMAGE_SETS, MISSING, PRESENT

    store = _store(args)
    print("labapp looks for the course's data files in:")
    for number, folder in enumerate(store.folders, 1):
        print(f"  {number}. {folder}" + (", where downloads go" if folder is store.cache else ""))
    print()
    missing = False
    for data in (*DATASETS.values(), *IMAGE_SETS.values()):
        found = store.status(data)
        if found.state == PRESENT:  # MNIST: its folder, checked as idx files (a split of one's own is fine)
            where = str(found.path if data.name in DATASETS else found.path / data.filename)
            state = "present, verified"
        elif found.state == MISSING:
            state, where, missing = "missing", f"origin {data.urls[0]}", True
        else:
            state, where = "corrupt", f"{found.path}: {found.problem}"
        print(f"  {data.name:<12} {data.filename:<19} {state:<18} {where}")
    if missing:
        print("\n`labapp data fetch [NAME ...]` downloads the missing files into the cache and verifies them.")
    return EXIT_OK


def cmd_data_fetch(args: argparse.Namespace) -> int:
    """Download the named data files (all by default) that are not here yet; verify every one."""
    from labapp.data import DATASETS, IMAGE_SETS, DataError, dataset

    store = _store(args)
    try:
        wanted = [dataset(name) for name in args.names] or [*DATASETS.values(), *IMAGE_SETS.values()]
    except DataError as error:
        raise UsageError(f"labapp data fetch: {error}") from None
    failed = False
    for data in wanted:
        try:
            path, downloaded = store.fetch(data, say=print)
        except DataError as error:
            print(f"labapp: {error}", file=sys.stderr)
            failed = True
            continue
        if not downloaded:
            print(f"{data.filename} is here already, verified: {path}")
    return EXIT_FAILED if failed else EXIT_OK


# -- main -----------------------------------------------------------------------------------------

def main_parser() -> _Parser:
    """The top-level parser."""
    parser = _Parser(prog="labapp", description="A terminal lab workbench for the PyTorch course "
                     "《PyTorch深度学习实践》. With no command, opens the workbench.")
    parser.add_argument("--lesson", help="open the workbench on this lesson")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser("list", help="list the lessons in course order")
    show = commands.add_parser("show", help="a lesson's explanation and parameters")
    show.add_argument("lesson")
    show.add_argument("--lang", choices=("zh", "en"), default=None, help="language (default from the locale)")
    commands.add_parser("run", help="train a lesson headless: labapp run LESSON [--PARAM VALUE ...]", add_help=False)
    commands.add_parser("code", help="a lesson's standalone program: labapp code LESSON [--PARAM VALUE ...]",
                        add_help=False)
    runs = commands.add_parser("runs", help="list past runs")
    runs.add_argument("--lesson", default=None, help="only this lesson's runs")
    runs.add_argument("--out", default=None, help="runs folder (default $LABAPP_RUNS_DIR or ./runs)")
    data = commands.add_parser("data", help="the course's data files: where they are and whether they are intact")
    data.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    data_commands = data.add_subparsers(dest="data_command", metavar="fetch", parser_class=_Parser)
    fetch = data_commands.add_parser("fetch", help="download the files that are not here yet")
    fetch.add_argument("names", nargs="*", metavar="NAME",
                       help="diabetes, names_train, names_test or mnist (default: all)")
    fetch.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    return parser


def open_workbench(lesson_id: str | None) -> int:
    """Open the workbench (the TUI), on `lesson_id` if given."""
    if lesson_id is not None:
        lesson_id = find_lesson(lesson_id).id
    if not sys.stdout.isatty():
        raise UsageError("labapp: the workbench needs a terminal; for scripts use `labapp run LESSON`")
    from labapp.app import run_app

    return run_app(lesson_id)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `labapp` command."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv and argv[0] == "run":
            return cmd_run(argv[1:])
        if argv and argv[0] == "code":
            return cmd_code(argv[1:])
        args = main_parser().parse_args(argv)
        if args.command == "list":
            return cmd_list(args)
        if args.command == "show":
            return cmd_show(args)
        if args.command == "runs":
            return cmd_runs(args)
        if args.command == "data":
            return cmd_data_fetch(args) if args.data_command == "fetch" else cmd_data(args)
        return open_workbench(args.lesson)
    except UsageError as error:
        print(one_line(str(error)), file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `labapp list | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

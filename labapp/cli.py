"""`labapp`: the workbench (TUI), and `labapp list | show | run | runs | data` for scripts and slow links.

Exit codes of `labapp run`: 0 finished, 1 failed, 2 bad usage or value (a missing or corrupt data
file included), 3 diverged, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM); an interrupted run
is recorded as stopped. `labapp data fetch` exits 1 when a file could not be had.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import signal
import sys
import unicodedata
from pathlib import Path
from typing import Any, NoReturn

from labapp.lesson import Lesson, ParamError, shown
from labapp.output import (EXIT_BROKEN_PIPE, GuardedStream, fix_std_descriptors, safe, say_to_stderr,
                           tolerant_encoding)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DIVERGED = 0, 1, 2, 3
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
RUN_OPTIONS = ("device", "seed", "out", "quiet", "threads", "no_record", "lang", "data_dir", "steps", "help", "resume",
               "checkpoints", "shapes")
DATA_DIR_HELP = "a folder that holds the course's data files (default $LABAPP_DATA_DIR), searched before the cache"


class UsageError(Exception):
    """Bad usage: printed as one line, exit 2."""


class Terminated(BaseException):
    """SIGTERM outside training: unwinds like Ctrl-C (a download removes its partial file), exit 143."""


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
    return safe(text)


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
        print(f"{lesson.number:>2}  {lesson.id:<20} {pad(lesson.title.zh, 24)} {lesson.title.en}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    """Print a lesson's explanation and params."""
    lesson = find_lesson(args.lesson)
    lang = args.lang or default_lang()
    print(f"{lesson.number}. {lesson.title(lang)}  ({lesson.id})")
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
    parser.add_argument("--seed", default=None, help=f"random seed, 0 to {SEED_MAX} (default {lesson.seed}, the lesson's)")
    parser.add_argument("--threads", default=None, help=f"torch cpu threads, 1 to {THREADS_MAX} (default: chosen per lesson)")
    parser.add_argument("--out", default=None, help="folder for run records (default $LABAPP_RUNS_DIR or ./runs)")
    parser.add_argument("--no-record", action="store_true", help="keep no run records on disk")
    parser.add_argument("--quiet", action="store_true", help="print only the final report")
    parser.add_argument("--lang", choices=("zh", "en"), default=None, help="language of the report")
    parser.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    parser.add_argument("--steps", default=None, metavar="N", help=f"step mode: print the first N parameter updates "
                        f"(batch, forward values, loss, gradients, the update, the chart point), then stop; 1 to {STEPS_MAX}")
    default = "none: this lesson trains no model" if lesson.checkpoints is None else "on" if lesson.checkpoints else "off"
    parser.add_argument("--checkpoints", default=None, metavar="on|off",
                        help=f"save a checkpoint at the end of each epoch into the run folder (default {default})")
    parser.add_argument("--resume", default=None, metavar="RUN_FOLDER",
                        help="continue a stopped or interrupted run of this lesson from its last checkpoint, "
                             "in its own folder, to --epochs N (default: the run's own count)")
    if lesson.shapes is not None:
        parser.add_argument("--shapes", action="store_true", help="print the model's shapes, worked out for these "
                            "values, and stop (they are printed before training anyway, unless --quiet)")
    return parser


STEPS_MAX = 10_000  # updates that `--steps` prints at most


def parse_steps(lesson: Lesson, values: Any, text: str | None) -> int | None:
    """The number of updates `--steps` asks for, or None; UsageError naming the flag, the value and what is allowed."""
    if text is None:
        return None
    try:
        steps = int(text)
    except ValueError:
        steps = 0
    if not 1 <= steps <= STEPS_MAX:
        raise UsageError(f"--steps: {shown(text)} is not allowed: must be a whole number between 1 and {STEPS_MAX:,}")
    problem = lesson.step_problem(values)
    if problem:
        import lessons

        stepped = ", ".join(other.id for other in lessons.LESSONS if other.step_mode is not None)
        raise UsageError(f"--steps: {shown(text)} cannot be used: {problem} (lessons with step mode: {stepped})")
    return steps


def shapes_text(lesson: Lesson, values: Any, lang: str, width: int | None = None) -> str | None:
    """The model's shape trace for `values`, headed, in `lang`; None if the lesson has no model. Given `width`,
    laid out for that many columns (the table's text columns and the notes wrap)."""
    from labapp.strings import say

    if lesson.shapes is None:
        return None
    trace = lesson.shapes(values)
    label = lambda word: lesson.label(word, lang)  # noqa: E731
    if width is None:
        return say("shapes before training", lang) + "\n" + trace.text(label)
    from labapp.report import trace_text, wrap_cell

    return "\n".join([*wrap_cell(say("shapes before training", lang), width), trace_text(trace, label, width)])


SEED_MAX = 2**32 - 1  # numpy's seeds are 32-bit
THREADS_MAX = 1024


def checkpoints_flag(lesson: Lesson, text: str | None) -> bool | None:
    """`--checkpoints on|off` (None when not given: the lesson's default); UsageError if it is neither, or for a
    lesson that trains no model."""
    if text is None:
        return None
    from labapp.lesson import BoolParam, Text

    try:
        wanted = BoolParam(name="--checkpoints", default=None, help=Text("", "")).parse(text)
    except ParamError as error:
        raise UsageError(str(error)) from None
    if wanted and lesson.checkpoints is None:
        raise UsageError(f"--checkpoints: {lesson.id} trains no model to checkpoint: the lessons that do are "
                         + ", ".join(other.id for other in _lessons_with_checkpoints()))
    return wanted


def _lessons_with_checkpoints() -> list[Lesson]:
    import lessons

    return [lesson for lesson in lessons.LESSONS if lesson.checkpoints is not None]


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
                  "                  [--data-dir DIR] [--steps N] [--checkpoints on|off]\n"
                  "       labapp run LESSON --resume RUN_FOLDER [--epochs N]\n"
                  "       labapp run LESSON --help   lists the lesson's parameters")
            return EXIT_OK
        raise UsageError("labapp run: which lesson? (`labapp list` shows them)")
    lesson = find_lesson(argv[0])
    args, values, seed, threads = parse_lesson_flags(lesson, run_parser(lesson), argv[1:])
    checkpoints_flag(lesson, args.checkpoints)  # a bad value is refused before any resume is checked
    resume = check_resume(lesson, args, values, seed) if args.resume is not None else None
    steps = parse_steps(lesson, values, args.steps)
    if getattr(args, "shapes", False):  # at once: no torch, no training
        print(shapes_text(lesson, values, args.lang or default_lang()), flush=True)
        return EXIT_OK
    return _train(lesson, values, args, seed, threads, resume, steps)


RESUME_REFUSES = ("out", "no_record", "checkpoints", "steps")  # a resumed run keeps its own folder and checkpoints


def check_resume(lesson: Lesson, args: argparse.Namespace, values: Any, seed: int) -> Any:
    """The checked `--resume` (a labapp.checkpoints.ResumePlan); UsageError naming the flag, the folder and what is allowed.

    The lesson's flags may repeat the run's own values (a command line recalled and `--resume` added); only
    --epochs may change them.
    """
    from labapp.checkpoints import ResumeError, check_folder, plan_resume

    allowed = "only --epochs (and --device, --threads, --quiet, --lang, --data-dir) may go with it"
    refused = ["--" + name.replace("_", "-") for name in RESUME_REFUSES if getattr(args, name, None)]
    if refused:
        raise UsageError(f"--resume: continues a run in its own folder, with its checkpoints: {allowed}, "
                         f"not {', '.join(refused)}")
    folder = Path(args.resume).expanduser()
    try:
        check_folder(folder, lesson)  # before torch loads: the quick answers come at once
        plan = plan_resume(folder, lesson, args.epochs)
    except ResumeError as error:
        raise UsageError(str(error)) from None
    changed = [f"{p.flag} {p.format(values[p.name])} (the run's is {p.format(plan.values[p.name])})"
               for p in lesson.params if p.name != "epochs" and getattr(args, p.name) is not None
               and values[p.name] != plan.values[p.name]]
    if args.seed is not None and seed != plan.seed:
        changed.append(f"--seed {seed} (the run's is {plan.seed})")
    if changed:
        raise UsageError(f"--resume: continues a run with its own values and seed: {allowed}, not "
                         + ", ".join(changed))
    return plan


def parse_lesson_flags(lesson: Lesson, parser: _Parser, argv: list[str]) -> tuple[argparse.Namespace, Any, int, int | None]:
    """`labapp run`'s and `labapp code`'s flags read: (args, the lesson's values, seed, threads); UsageError if bad."""
    args = parser.parse_args(argv)
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
    return args, values, lesson.seed if seed is None else seed, threads


def _train(lesson: Lesson, values: Any, args: argparse.Namespace, seed: int, threads: int | None,
           resume: Any = None, steps: int | None = None) -> int:
    from labapp import report
    from labapp.data import DataError
    from labapp.records import RecordsError, RunRecorder
    from labapp.runner import DIVERGED, FAILED, FINISHED, DeviceError, Run

    terminal = fancy_terminal()
    keep = report.Keep()
    sinks: list[Any] = [keep]
    recorder = None
    if not args.no_record:
        # a resumed run writes in its own folder, <root>/<lesson>/<run>
        recorder = RunRecorder(resume.folder.parent.parent if resume else Path(args.out) if args.out else None)
        sinks.append(recorder)
    if steps is not None:  # step mode: each update in words and numbers, in place of the progress
        sinks.append(report.StepPrinter(lesson, args.lang or default_lang(), out=sys.stdout))
    elif not args.quiet:  # the model's shapes under the first line, before training
        shapes = shapes_text(lesson, values, args.lang or default_lang())
        sinks.append(report.BarProgress(shapes) if terminal else report.PlainProgress(out=sys.stdout, shapes=shapes))
    run = Run(lesson, values, device=args.device, seed=seed, threads=threads, data_dir=args.data_dir, sinks=sinks,
              checkpoints=checkpoints_flag(lesson, args.checkpoints), resume=resume, steps=steps)
    stdout = sys.stdout if isinstance(sys.stdout, GuardedStream) else None
    if stdout is not None:  # a reader that went away ends the run as a closed pipe ends a POSIX tool
        stdout.on_broken_pipe = lambda: run.request_stop("the output pipe was closed")
    try:
        run.prepare(say=lambda message: say_to_stderr(f"labapp: {safe(message)}"))
    except DeviceError as error:
        raise UsageError(str(error)) from None
    except DataError as error:
        raise UsageError(f"labapp: {error}") from None
    try:
        if recorder is not None:
            recorder.check(resume.folder.parent.name if resume else lesson.id)
    except RecordsError as error:
        raise UsageError(f"labapp: {error}: use --out DIR to keep them elsewhere, or --no-record") from None

    signals: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        again = bool(signals)
        signals.append(signum)
        run.request_stop()
        if again and signum == signal.SIGINT:
            run.interrupt()  # a second Ctrl-C: stop now if the lesson is training; never mid-summary

    # Kept until `main` returns: a Ctrl-C during the summary write or the report only asks again to stop.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    summary = run.run()

    if stdout is None or stdout.error is None:
        lang = args.lang or default_lang()
        report.final_report(lesson, summary, keep.records, lang, color=terminal, out=sys.stdout)
        if recorder is not None and recorder.path is not None:
            print(f"run records: {safe(recorder.path)}", flush=True)
    records = f"; its records are in {safe(recorder.path)}" if recorder is not None and recorder.path else ""
    if signals:
        return EXIT_SIGTERM if signals[0] == signal.SIGTERM else EXIT_SIGINT
    if summary.status == FAILED:
        log = recorder.path / "run.log" if recorder is not None and recorder.path is not None else None
        if log is not None and log.is_file() and summary.traceback:
            where = f"; the traceback is in {safe(log)}"
        elif recorder is None and summary.traceback:  # --no-record: the traceback has nowhere else to go
            where = "".join("\n" + safe(line) for line in summary.traceback.rstrip().splitlines())
        else:
            where = records
        say_to_stderr(f"labapp: the run {safe(summary.message)}{where}")
        from labapp.torch_errors import explanation

        explained = explanation(summary.message, args.lang or default_lang())
        if explained:  # a torch error learners commonly meet: what it means and the usual fix
            say_to_stderr(f"labapp: {safe(explained)}")
        return EXIT_FAILED
    if summary.status == DIVERGED:
        say_to_stderr(f"labapp: the run {safe(summary.message)}")
        return EXIT_DIVERGED
    if stdout is not None and stdout.error is not None:
        stdout.reported = True
        if stdout.broken_pipe:
            return EXIT_BROKEN_PIPE
        say_to_stderr(f"labapp: could not write to stdout ({stdout.why()}); the run {safe(summary.message)}{records}")
        return EXIT_FAILED
    if summary.status == FINISHED or run.gate.limit_reached:  # --steps N: stopped after N updates, as asked
        return EXIT_OK
    return EXIT_SIGINT


# -- sweep ----------------------------------------------------------------------------------------

def sweep_parser(lesson: Lesson) -> _Parser:
    """`labapp sweep <lesson>`'s parser: one flag per lesson param (a comma-separated list), plus options."""
    from labapp.sweep import MAX_RUNS, takes_list

    parser = _Parser(prog=f"labapp sweep {lesson.id}", description=f"{lesson.title.en}: run every combination "
                     f"of the values given (at most {MAX_RUNS} runs), one after another, each recorded")
    group = parser.add_argument_group("lesson parameters (a list such as 0.001,0.01,0.1 sweeps; course defaults)")
    for param in lesson.params:
        listed = takes_list(param) or bool(getattr(param, "sweep_as", ""))
        kind = "VALUES" if listed else "VALUE"
        one = "" if listed else " (one value, not a list)"
        group.add_argument(param.flag, dest=param.name, metavar=kind, default=None,
                           help=f"{param.help.en}; default {param.format(param.default)}; {param.allowed()}{one}")
    parser.add_argument("--seeds", default=None, help=f"seeds to repeat each point over, such as 0,1,2 (default {lesson.seed}, the lesson's)")
    parser.add_argument("--device", default="auto", help="auto (cuda, else mps, else cpu), cpu, cuda, cuda:N or mps")
    parser.add_argument("--threads", default=None, help=f"torch cpu threads, 1 to {THREADS_MAX} (default: chosen per lesson)")
    parser.add_argument("--out", default=None, help="folder for run records (default $LABAPP_RUNS_DIR or ./runs)")
    parser.add_argument("--quiet", action="store_true", help="print only the table and the curves")
    parser.add_argument("--lang", choices=("zh", "en"), default=None, help="language of the report")
    parser.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    return parser


def cmd_sweep(argv: list[str]) -> int:
    """Run a lesson over a grid of values, one recorded run at a time; print the ranked table and the curves.

    Exit 0 when every run ended (diverged runs are an answer, listed last), 1 when one failed, 2 for a
    bad value or combination (before any training), 130/143 when stopped (what finished is kept and shown).
    """
    import shutil

    from labapp import sweep as sw
    from labapp.data import DataError
    from labapp.report import number
    from labapp.records import RecordsError, RunRecorder, default_root
    from labapp.runner import DeviceError

    if not argv or argv[0].startswith("-"):
        if argv and argv[0] in ("-h", "--help"):
            print("usage: labapp sweep LESSON [--PARAM A,B,...] [--seeds 0,1] [--device D] [--threads N]\n"
                  "                    [--out DIR] [--quiet] [--lang zh|en] [--data-dir DIR]\n"
                  "       labapp sweep LESSON --help   lists the lesson's parameters")
            return EXIT_OK
        raise UsageError("labapp sweep: which lesson? (`labapp list` shows them)")
    lesson = find_lesson(argv[0])
    args = sweep_parser(lesson).parse_args(argv[1:])
    texts = {p.name: getattr(args, p.name) for p in lesson.params if getattr(args, p.name) is not None}
    try:
        grid = sw.parse_grid(lesson, {k: "--" if isinstance(v, list) else v for k, v in texts.items()}, args.seeds)
    except ParamError as error:
        raise UsageError(str(error)) from None
    threads = _whole("threads", args.threads, 1, THREADS_MAX)
    root = Path(args.out) if args.out else default_root()
    try:
        RunRecorder(root).check(lesson.id)
    except RecordsError as error:
        raise UsageError(f"labapp: {error}: use --out DIR to keep them elsewhere") from None
    lang = args.lang or default_lang()
    terminal = fancy_terminal()
    sweep = sw.Sweep(grid, device=args.device, threads=threads, data_dir=args.data_dir, runs_root=root)
    first = sweep.make_run(grid.points[0], 1)
    try:  # the device and the data, checked once before anything trains
        first[0].prepare(say=lambda message: print(f"labapp: {message}", file=sys.stderr, flush=True))
    except DeviceError as error:
        raise UsageError(str(error)) from None
    except DataError as error:
        raise UsageError(f"labapp: {error}") from None

    count = len(grid.points)
    headline = (lesson.headline_metric() or ("train", "loss"))[1]
    if not args.quiet:
        print(grid.describe(), flush=True)

    def heard(result: sw.PointResult, index: int, count: int) -> None:
        if args.quiet:
            return
        finished = result.final is not None and result.status == sw.FINISHED
        value = f", {headline} {number(result.final)}" if finished else ""
        seed = f" seed {result.point.seed}" if len(grid.seeds) > 1 else ""
        print(f"[{index:>{len(str(count))}}/{count}] {result.point.label(lesson)}{seed}: {result.message}{value} "
              f"({result.duration_s:.2f} s)", flush=True)

    signals: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        if signals and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, whatever the lesson is doing
        signals.append(signum)
        sweep.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        results = sweep.run(on_result=heard, first=first)
    except KeyboardInterrupt:  # a second Ctrl-C between two runs
        results = sweep.results
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

    rows = sw.rank(lesson, results)
    print()
    if signals:
        print(f"stopped: {len(results)} of {count} runs ran; the table shows them")
    if rows:
        print(sw.table_text(lesson, rows, len(grid.seeds), lang))
        curves = sw.curves_text(lesson, rows, min(100, shutil.get_terminal_size((80, 24)).columns), terminal, lang)
        print("\n" + curves if curves else "\n(no curves: each run reported its headline once)")
    sys.stdout.flush()
    if signals:
        return EXIT_SIGTERM if signals[0] == signal.SIGTERM else EXIT_SIGINT
    failed = [r for r in results if r.status == sw.FAILED]
    if failed:
        print(f"labapp: {len(failed)} of {count} runs failed; the tracebacks are in their run.log", file=sys.stderr)
        from labapp.torch_errors import explanation

        explained = {explanation(r.message, args.lang or default_lang()) for r in failed} - {None}
        for line in sorted(explained):  # torch errors learners commonly meet: what each means and the usual fix
            print(f"labapp: {safe(line)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


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
    args, values, seed, threads = parse_lesson_flags(lesson, code_parser(lesson), argv[1:])
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
    """List past runs, oldest first (by their start in UTC)."""
    import lessons
    from labapp.progress import headline_values
    from labapp.records import default_root, list_runs

    root = Path(args.out) if args.out else default_root()
    runs = list_runs(root, args.lesson)
    if not runs:
        print(f"no runs in {safe(root)}")
        return EXIT_OK
    headlines = {lesson.id: lesson.headline_metric() for lesson in lessons.LESSONS}
    print(f"{'started':<20} {'lesson':<20} {'status':<12} {'epochs':>6}  {'final':<34} path")
    for run in runs:
        final = dict(headline_values(run.final, headlines.get(run.lesson)))
        print(f"{safe(run.started[:19]):<20} {safe(run.lesson):<20} {safe(run.status):<12} {run.epochs_done:>6}  "
              f"{final_text(final):<34} {safe(run.path)}")
    return EXIT_OK


def final_text(values: dict[str, Any], count: int = 3) -> str:
    """'loss 0.25  accuracy 0.75' for the first `count` final values, whatever they hold (made safe, cut short)."""
    shown_values = []
    for name, value in list(values.items())[:count]:
        try:
            text = f"{value:.4g}" if isinstance(value, (int, float)) else str(value)
        except (OverflowError, ValueError):  # an int of hundreds of digits
            text = "(huge)"
        shown_values.append(f"{safe(name)[:20]} {safe(text)[:20]}")
    return "  ".join(shown_values)


# -- serve, export ---------------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the workbench to browsers until Ctrl-C (textual-serve)."""
    from labapp.serve import ServeError, serve

    port = _whole("port", args.port, 1, 65535)
    assert port is not None  # the flag has a default
    if args.lesson:
        os.environ["LABAPP_LESSON"] = find_lesson(args.lesson).id  # every tab opens on it
    try:
        serve(args.host, port, runs=Path(args.out) if args.out else None, data_dir=args.data_dir)
    except ServeError as error:
        raise UsageError(str(error)) from None
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Write a run's metrics as CSV and/or its charts as SVG, beside the run or to --out."""
    from labapp.export import ExportError, check_run_folder, export_chart, export_csv

    both = args.csv == args.chart  # neither flag: both files
    if args.out and both:
        raise UsageError("labapp export: --out names one file: give it with --csv or --chart alone")
    out = Path(args.out) if args.out else None
    try:
        folder = check_run_folder(Path(args.folder))
        written = []
        if args.csv or both:
            written.append(export_csv(folder, out))
        if args.chart or both:
            written.append(export_chart(folder, out, lang=args.lang or default_lang()))
    except ExportError as error:
        raise UsageError(f"labapp export: {error}") from None
    for path in written:
        print(path)
    return EXIT_OK


def cmd_runs_json(args: argparse.Namespace) -> int:
    """List past runs as a JSON array for scripts: every run folder, damaged ones included."""
    import json
    from dataclasses import asdict

    from labapp.records import default_root, list_runs, plain

    root = Path(args.out) if args.out else default_root()
    runs = [plain({**asdict(run), "path": str(run.path)}) for run in list_runs(root, args.lesson)]
    print(json.dumps(runs, ensure_ascii=False, indent=2, allow_nan=False))
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
    import lessons
    from labapp.data import MISSING, PRESENT, ImageSet

    store = _store(args)
    print("labapp looks for the course's data files in:")
    for number, folder in enumerate(store.folders, 1):
        print(f"  {number}. {safe(folder)}" + (", where downloads go" if folder is store.cache else ""))
    print()
    missing = False
    for data in lessons.datasets():
        found = store.status(data)
        if found.state == PRESENT:  # MNIST: its folder, checked as idx files (a split of one's own is fine)
            where = str(found.path / data.filename if isinstance(data, ImageSet) else found.path)
            state = "present, verified"
        elif found.state == MISSING:
            state, where, missing = "missing", f"origin {data.urls[0]}", True
        else:
            state, where = "corrupt", f"{found.path}: {found.problem}"
        print(f"  {data.name:<12} {data.filename:<19} {state:<18} {safe(where)}")
    if missing:
        print("\n`labapp data fetch [NAME ...]` downloads the missing files into the cache and verifies them;"
              "\n`labapp data import PATH` installs MNIST from a folder, its four .gz files or an archive you have.")
    return EXIT_OK


def cmd_data_fetch(args: argparse.Namespace) -> int:
    """Download the named data files (all by default) that are not here yet; verify every one."""
    import lessons
    from labapp.data import DataError, dataset

    store = _store(args)
    known = lessons.datasets()
    try:
        wanted = [dataset(name, known) for name in args.names] or list(known)
    except DataError as error:
        raise UsageError(f"labapp data fetch: {error}") from None
    failed = False
    for data in wanted:
        try:
            path, downloaded = store.fetch(data, say=lambda message: print(safe(message), flush=True))
        except DataError as error:
            say_to_stderr(f"labapp: {safe(error)}")
            failed = True
            continue
        if not downloaded:
            print(f"{data.filename} is here already, verified: {safe(path)}")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_data_import(args: argparse.Namespace) -> int:
    """Install MNIST into the cache from a folder, its four files or an archive; every file verified first."""
    from labapp.data import DataError
    from labapp.data_import import gathered
    from lessons._data import MNIST

    store = _store(args)
    paths = [Path(path).expanduser() for path in args.paths]
    try:
        with gathered(MNIST, paths) as found:
            for name, where in found.shown.items():
                print(f"found {name}: {safe(where)}", flush=True)
            if args.no_verify:
                print("--no-verify: the files are not compared with the published ones; each is checked only as "
                      "MNIST idx files (headers, sizes, labels 0-9)", flush=True)
            root = store.install(MNIST, found.paths, verify=not args.no_verify,
                                 say=lambda message: print(safe(message), flush=True), shown=found.shown)
    except DataError as error:
        say_to_stderr(f"labapp: {safe(error)}")
        return EXIT_FAILED
    checked = "checked as idx files" if args.no_verify else "verified against the published md5s"
    print(f"{MNIST.folder} installed ({checked}): {safe(root / MNIST.filename)}")
    found = store.status(MNIST)
    if found.path is not None and found.path != root:
        print(f"note: {safe(store.named)} holds a {MNIST.folder} of its own, which the lessons read first")
    return EXIT_OK


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
    commands.add_parser("sweep", help="run a lesson over a grid: labapp sweep LESSON --PARAM A,B,... [--seeds 0,1]",
                        add_help=False)
    commands.add_parser("code", help="a lesson's standalone program: labapp code LESSON [--PARAM VALUE ...]",
                        add_help=False)
    runs = commands.add_parser("runs", help="list past runs")
    runs.add_argument("--lesson", default=None, help="only this lesson's runs")
    runs.add_argument("--out", default=None, help="runs folder (default $LABAPP_RUNS_DIR or ./runs)")
    runs.add_argument("--json", action="store_true", help="print the runs as a JSON array, for scripts")
    export = commands.add_parser("export", help="a run's metrics as CSV and its charts as SVG")
    export.add_argument("folder", metavar="RUN_FOLDER", help="the run's folder (`labapp runs` lists them)")
    export.add_argument("--csv", action="store_true", help="write the metrics as CSV (metrics.csv in the run folder)")
    export.add_argument("--chart", action="store_true", help="write the charts as SVG (charts.svg in the run folder)")
    export.add_argument("--out", default=None, metavar="FILE", help="write to FILE instead (with --csv or --chart alone)")
    export.add_argument("--lang", choices=("zh", "en"), default=None, help="language of chart titles")
    serve = commands.add_parser("serve", help="serve the workbench to a browser (needs labapp[serve])")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", default="8000", help="port to listen on (default 8000)")
    serve.add_argument("--lesson", default=None, help="open each tab on this lesson")
    serve.add_argument("--out", default=None, help="folder for run records (default $LABAPP_RUNS_DIR or ./runs)")
    serve.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    data = commands.add_parser("data", help="the course's data files: where they are and whether they are intact")
    data.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    data_commands = data.add_subparsers(dest="data_command", metavar="fetch|import", parser_class=_Parser)
    fetch = data_commands.add_parser("fetch", help="download the files that are not here yet (mirrors tried in order)")
    fetch.add_argument("names", nargs="*", metavar="NAME",
                       help="data set names, as `labapp data` lists them (default: all)")
    fetch.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    imports = data_commands.add_parser(
        "import", help="install MNIST from files you have: a folder, the four .gz files, or a .zip/.tar/.tar.gz",
        description="Install MNIST into labapp's cache from files you have (a classmate's copy, a download made "
        "elsewhere): a folder that holds the four .gz files (in any subfolder), the files themselves, or a .zip, "
        ".tar or .tar.gz archive of them. Each file is checked against MNIST's published md5 and all four are "
        "unpacked and checked before any is installed; a file that is cut short or not the official one is refused "
        "by name and nothing is installed.")
    imports.add_argument("paths", nargs="+", metavar="PATH", help="a folder, a file or an archive (several allowed)")
    imports.add_argument("--no-verify", action="store_true",
                         help="skip the comparison with the published files (for a split of your own, or "
                              "uncompressed files): each is still checked as MNIST idx files (headers, sizes, "
                              "labels 0-9)")
    imports.add_argument("--data-dir", default=None, metavar="DIR", help=DATA_DIR_HELP)
    return parser


def open_workbench(lesson_id: str | None) -> int:
    """Open the workbench (the TUI), on `lesson_id` if given; UsageError where it cannot draw or hear keys."""
    if lesson_id is not None:
        lesson_id = find_lesson(lesson_id).id
    problem = workbench_problem()
    if problem:
        raise UsageError(f"labapp: the workbench needs a terminal: {problem}; for scripts use `labapp run LESSON`")
    gc.disable()  # importing and building the first screen make little garbage: collected once it shows
    from labapp.app import run_app

    stdout = sys.stdout
    sys.stdout = stdout.inner if isinstance(stdout, GuardedStream) else stdout  # Textual writes to it itself
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as before `main`: the workbench ends at once
    try:
        return run_app(lesson_id)
    finally:
        sys.stdout = stdout


def workbench_problem() -> str | None:
    """Why the workbench cannot open here (stdout or stdin not a terminal, TERM=dumb), or None."""
    def tty(stream: Any) -> bool:
        try:
            return stream is not None and stream.isatty()
        except (ValueError, OSError):
            return False

    if not tty(sys.stdout):
        return "stdout is not one"
    if not tty(sys.stdin):
        return "stdin is not one, so it would hear no keys"
    if os.environ.get("TERM", "") == "dumb":
        return "TERM=dumb cannot draw it; set TERM (for example xterm-256color)"
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `labapp` command.

    Whatever happens to stdout (a closed pipe, a full disk, a closed descriptor) and whenever Ctrl-C or
    SIGTERM comes, it ends with an exit code and at most one line on stderr, never a traceback.
    """
    whole_process = argv is None  # the `labapp` command itself, not a call from a test or a script
    argv = sys.argv[1:] if argv is None else argv
    fix_std_descriptors()
    for stream in (sys.stdout, sys.stderr):
        tolerant_encoding(stream)
    original = sys.stdout
    stdout = GuardedStream(original)
    sys.stdout = stdout
    handlers = _quit_on_sigterm()
    try:
        code = _command(argv)
    except UsageError as error:
        say_to_stderr(one_line(str(error)))
        code = EXIT_USAGE
    except KeyboardInterrupt:  # Ctrl-C while torch loads, a file downloads, the runs are listed...
        code = EXIT_SIGINT
    except Terminated:
        code = EXIT_SIGTERM
    except SystemExit as ended:  # argparse after --help
        code = ended.code if isinstance(ended.code, int) else EXIT_OK if ended.code is None else EXIT_FAILED
    finally:
        stdout.settle()
        sys.stdout = original
        for signum, handler in handlers.items():
            # The command is over: a late Ctrl-C changes nothing now, and Python's own handler (or, while it
            # shuts down, the default one) would turn it into a traceback or a death by SIGINT.
            signal.signal(signum, signal.SIG_IGN if whole_process else handler)
    if stdout.error is not None and not stdout.reported and code == EXIT_OK:
        if stdout.broken_pipe:  # `labapp runs | head -1`: ended quietly, as a closed pipe ends a POSIX tool
            return EXIT_BROKEN_PIPE
        say_to_stderr(f"labapp: could not write to stdout ({stdout.why()})")
        return EXIT_FAILED
    return code


def _command(argv: list[str]) -> int:
    if argv and argv[0] == "run":
        return cmd_run(argv[1:])
    if argv and argv[0] == "sweep":
        return cmd_sweep(argv[1:])
    if argv and argv[0] == "code":
        return cmd_code(argv[1:])
    args = main_parser().parse_args(argv)
    if args.command == "list":
        return cmd_list(args)
    if args.command == "show":
        return cmd_show(args)
    if args.command == "runs":
        return cmd_runs_json(args) if args.json else cmd_runs(args)
    if args.command == "export":
        return cmd_export(args)
    if args.command == "serve":
        return cmd_serve(args)
    if args.command == "data":
        if args.data_command == "import":
            return cmd_data_import(args)
        return cmd_data_fetch(args) if args.data_command == "fetch" else cmd_data(args)
    return open_workbench(args.lesson)


def _quit_on_sigterm() -> dict[int, Any]:
    """SIGTERM raises Terminated (a run replaces this with its own stop); the handlers to put back."""
    def terminate(signum: int, frame: Any) -> None:
        raise Terminated

    try:
        return {signal.SIGTERM: signal.signal(signal.SIGTERM, terminate),
                signal.SIGINT: signal.getsignal(signal.SIGINT)}
    except ValueError:  # not the main thread: leave the signals alone
        return {}


if __name__ == "__main__":
    sys.exit(main())

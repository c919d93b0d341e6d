"""A lesson's take-away program: a standalone torch script with the form's values (issue 12).

Each lesson's program is a real, runnable Python file, `lessons/programs/<lesson id>.py`, that
imports only torch, torchvision and the standard library. Its settings are plain assignments
marked by a trailing comment, one per line:

    lr = 0.01  # param: learning rate          a lesson param named like the variable
    loss_name = 'MSE'  # param loss            a lesson param named otherwise
    seed = 0  # option                         a run option: seed, device, threads or data_dir

`program_source` replaces the value of each marked line with the repr of the chosen value and
keeps every other character of the file as it is. No torch, no Textual here: the Code tab and
`labapp code` render programs before torch loads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from labapp.lesson import Lesson, Values

PROGRAMS = Path(__file__).resolve().parent.parent / "lessons" / "programs"
OPTIONS = ("seed", "device", "threads", "data_dir")
ENV_VAR = "LABAPP_DATA_DIR"  # the same variable as labapp.data's: the program reads it too

# `name = value  # param` or `# param other_name` or `# option`, with an optional `: words` after it.
_MARKED = re.compile(r"^(?P<head>[ \t]*(?P<var>[A-Za-z_]\w*)[ \t]*=[ \t]*)(?P<value>\S.*?)"
                     r"(?P<tail>[ \t]+#[ \t]*(?P<kind>param|option)"
                     r"(?:[ \t]+(?P<name>[A-Za-z_]\w*)(?=[ \t]*(?::|$)))?(?![\w]).*)$")


class TemplateError(ValueError):
    """A program template whose marked lines do not fit its lesson; str() names the file and line."""


def template_path(lesson: Lesson) -> Path:
    """Where the program template of `lesson` is (it may not exist)."""
    return PROGRAMS / f"{lesson.id}.py"


def marked_lines(text: str) -> list[tuple[int, str, str]]:
    """(line index, 'param' or 'option', name) for every marked assignment of a template."""
    found = []
    for index, line in enumerate(text.splitlines()):
        match = _MARKED.match(line)
        if match:
            found.append((index, match["kind"], match["name"] or match["var"]))
    return found


def literal(value: Any) -> str:
    """`value` (of any param type: float, int, str, bool, None, nested lists, tuples) as Python source."""
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    if isinstance(value, (list, tuple)):
        items = ", ".join(literal(item) for item in value)
        if isinstance(value, list):
            return f"[{items}]"
        return f"({items},)" if len(value) == 1 else f"({items})"
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    raise TypeError(f"{type(value).__name__} values cannot be written into a program: {value!r}")


def data_folder(lesson: Lesson, values: Values, data_dir: str | None = None) -> str | None:
    """The folder that labapp would read the lesson's data from with these values; None if it reads none.

    The folder named (`data_dir`, else $LABAPP_DATA_DIR) when it holds the files, else labapp's
    cache, where labapp downloads them (nothing is downloaded here).
    """
    names = lesson.datasets(values)
    if not names:
        return None
    try:
        from labapp.data import DataStore

        store = DataStore(data_dir)
        for name in names:
            found = store.status(name)
            if found.path is not None:
                return str(found.path if found.path.is_dir() else found.path.parent)
        return str(store.cache.path)
    except Exception:  # noqa: BLE001 - a folder that is not there: the program names it and says so when run
        from labapp.data import cache_dir

        named = data_dir or os.environ.get(ENV_VAR)
        return str(Path(named).expanduser()) if named else str(cache_dir())


def program_source(lesson: Lesson, values: Values, *, seed: int | None = None, device: str = "cpu",
                   threads: int | None = None, data_dir: str | None = None) -> str | None:
    """The standalone program of `lesson` with `values`, or None if the lesson has none.

    `seed`, `device` and `threads` are the run options of `labapp run` (seed None: the lesson's own;
    threads None: what the runner's thread policy picks for a headless run on this machine);
    `data_dir` the data folder setting (None: $LABAPP_DATA_DIR, then labapp's cache, as labapp.data
    searches).
    """
    path = template_path(lesson)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    from labapp.threads import choose_threads, read_machine

    threads = choose_threads(read_machine(), interactive=False, requested=threads, lesson_limit=lesson.threads).threads
    options = {"seed": lesson.seed if seed is None else seed, "device": device, "threads": threads,
               "data_dir": data_folder(lesson, values, data_dir)}
    lines = text.splitlines(keepends=True)
    for index, kind, name in marked_lines(text):
        if kind == "param":
            if name not in values:
                raise TemplateError(f"{path.name}:{index + 1}: {lesson.id} has no param {name!r}")
            value = values[name]
        else:
            if name not in options:
                raise TemplateError(f"{path.name}:{index + 1}: {name!r} is not a run option: {', '.join(OPTIONS)}")
            value = options[name]
        match = _MARKED.match(lines[index].rstrip("\r\n"))
        assert match is not None
        ending = lines[index][len(lines[index].rstrip("\r\n")):]
        lines[index] = match["head"] + literal(value) + match["tail"] + ending
    return with_changes("".join(lines), lesson)


def with_changes(source: str, lesson: Lesson) -> str:
    """`source` with the comment on the API changes since the course was recorded (lessons/_changes.py) written in
    after its docstring (or at its top)."""
    import ast

    from lessons._changes import program_comment

    comment = program_comment(lesson.id)
    if not comment:
        return source
    body = ast.parse(source).body
    docstring = body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
    after = body[0].end_lineno if docstring and body[0].end_lineno else 0
    lines = source.splitlines(keepends=True)
    return "".join(lines[:after]) + ("\n" if after else "") + comment + ("" if after else "\n") + "".join(lines[after:])

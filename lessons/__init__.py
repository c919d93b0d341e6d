"""The course's lessons, found rather than listed: every module here that defines LESSON, in course order.

A lesson is one module (plus its explanation, text/<id>.zh.md and text/<id>.en.md); modules whose
name starts with an underscore are shared by lessons and are not lessons. Importing this package
does not import torch.
"""

import dataclasses
import importlib
import pkgutil
from pathlib import Path

from labapp.data import Dataset, ImageSet
from labapp.lesson import Lesson, TextFiles
from lessons._changes import BY_LESSON, WithChanges

TEXT = Path(__file__).parent / "text"


def discover() -> tuple[Lesson, ...]:
    """The LESSON of every lesson module here (shared `_modules` skipped), ordered by number; ValueError on a clash.

    A lesson without an explanation of its own gets the text files named after its id; every lesson's
    explanation ends with its section on the API changes since the course was recorded (lessons/_changes.py).
    """
    found = []
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_") or module_info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        lesson = getattr(module, "LESSON", None)
        if not isinstance(lesson, Lesson):
            continue
        if not (lesson.explanation.zh or lesson.explanation.en):
            lesson = dataclasses.replace(lesson, explanation=TextFiles(TEXT / lesson.id))
        if lesson.id in BY_LESSON:  # the API changes since the course was recorded, as a section of their own
            lesson = dataclasses.replace(lesson, explanation=WithChanges(lesson.explanation, lesson.id))
        found.append(lesson)
    for key in ("id", "number"):
        seen: dict[object, Lesson] = {}
        for lesson in found:
            other = seen.setdefault(getattr(lesson, key), lesson)
            if other is not lesson:
                raise ValueError(f"lessons {other.id} and {lesson.id} have the same {key}: {getattr(lesson, key)}")
    return tuple(sorted(found, key=lambda lesson: lesson.number))


LESSONS: tuple[Lesson, ...] = discover()


def get(lesson_id: str) -> Lesson:
    """The lesson called `lesson_id` (or numbered so); KeyError if there is none."""
    for lesson in LESSONS:
        if lesson_id in (lesson.id, str(lesson.number)):
            return lesson
    raise KeyError(lesson_id)


def datasets() -> tuple[Dataset | ImageSet, ...]:
    """Every data file that some lesson may read, each once, in course order."""
    found: dict[str, Dataset | ImageSet] = {}
    for lesson in LESSONS:
        for data in lesson.data:
            found.setdefault(data.name, data)
    return tuple(found.values())

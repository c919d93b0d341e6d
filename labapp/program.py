"""A lesson's take-away program: a standalone torch script with the form's values (issue 12).

Interface for the workbench's Code tab and `labapp code`; filled in by the take-away work.
"""

from __future__ import annotations

from labapp.lesson import Lesson, Values


def program_source(lesson: Lesson, values: Values) -> str | None:
    """The standalone program of `lesson` with `values`, or None if the lesson has none."""
    return None

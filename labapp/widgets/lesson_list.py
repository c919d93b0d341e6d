"""The sidebar: the course's lessons in order; Enter opens one."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import OptionList
from textual.widgets.option_list import Option

from labapp.lesson import Lesson


class LessonList(OptionList):
    """Lesson number and title in the chosen language."""

    def __init__(self, lessons: tuple[Lesson, ...], lang: str,
                 chosen: Callable[[str], None] = lambda lesson_id: None, **kwargs) -> None:
        super().__init__(*self._lesson_options(lessons, lang), **kwargs)
        self.lessons = lessons
        self.chosen = chosen

    def action_select(self) -> None:
        """Enter or a click: `chosen(lesson id)` at once, within the key press. OptionList's message would be heard
        after the keys typed next (a quick `b` then flipped the list before the choice folded it away)."""
        if self.highlighted is not None:
            self.chosen(self.lessons[self.highlighted].id)

    def allow_focus(self) -> bool:
        """Never while hidden: a hidden list would keep the keys (and PageDown on it raises in OptionList)."""
        return self.can_focus and self.display

    @staticmethod
    def _lesson_options(lessons: tuple[Lesson, ...], lang: str) -> list[Option]:
        return [Option(f"{lesson.number:>2} {lesson.title(lang)}", id=lesson.id) for lesson in lessons]

    def set_lang(self, lang: str) -> None:
        """Show the titles in `lang`, keeping the highlighted lesson."""
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(self._lesson_options(self.lessons, lang))
        self.highlighted = highlighted

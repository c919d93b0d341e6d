"""The lesson catalogue: the course's 14 lessons in order, cheap to list, each spec complete."""

import re
import subprocess
import sys

import pytest

import lessons
from labapp.cli import RUN_OPTIONS
from tests.conftest import ROOT

CATALOGUE = ["linear-model", "gradient-descent", "backprop", "linear-regression", "loss-functions",
             "logistic-regression", "multi-dim-input", "dataset-dataloader", "softmax-mnist", "cnn-basics",
             "sequential", "cnn-advanced", "rnn-basics", "rnn-classifier"]


def test_the_catalogue_is_the_course_in_order():
    assert [lesson.id for lesson in lessons.LESSONS] == CATALOGUE
    assert [lesson.number for lesson in lessons.LESSONS] == list(range(1, 15))
    assert lessons.get("2") is lessons.get("gradient-descent")


def test_listing_lessons_does_not_import_torch():
    code = ("import sys, lessons\n"
            "from labapp.cli import main\n"
            "main(['list'])\n"
            "[lesson.defaults() for lesson in lessons.LESSONS]\n"
            "bad = [m for m in ('torch', 'torchvision', 'textual') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


@pytest.mark.parametrize("lesson", [l for l in lessons.LESSONS if l.ready], ids=lambda l: l.id)
def test_a_ready_lesson_is_complete(lesson):
    assert lesson.explanation.zh.strip() and lesson.explanation.en.strip()
    assert re.search(r"[\u4e00-\u9fff]", lesson.explanation.zh), "the Chinese explanation is in Chinese"
    assert lesson.charts, "every lesson charts something"
    names = [p.name for p in lesson.params]
    assert len(names) == len(set(names))
    assert not set(names) & set(RUN_OPTIONS), "a param would shadow a run option"
    for param in lesson.params:
        assert param.help.zh and param.help.en
        assert param.parse(param.format(param.default)) == param.default
    lesson.check(lesson.defaults())
    assert lesson.total(lesson.defaults()) >= 1

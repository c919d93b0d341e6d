"""The lesson catalogue: the course's 14 lessons found and ordered, cheap to list, each spec complete; one file a lesson."""

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lessons
from lessons._changes import section
from labapp.cli import RUN_OPTIONS
from tests.conftest import ROOT, labapp

CATALOGUE = ["linear-model", "gradient-descent", "backprop", "linear-regression", "loss-functions",
             "logistic-regression", "multi-dim-input", "dataset-dataloader", "softmax-mnist", "cnn-basics",
             "sequential", "cnn-advanced", "rnn-basics", "rnn-classifier"]
LESSONS_DIR = ROOT / "lessons"
LESSON_FILES = sorted(p for p in LESSONS_DIR.glob("*.py") if not p.name.startswith("_"))
CLASSIFIERS = {"softmax-mnist", "cnn-basics", "sequential", "cnn-advanced", "rnn-classifier"}


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


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda l: l.id)
def test_a_lesson_is_complete(lesson):
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
    assert lesson.threads is None, "the runner's thread policy chooses"
    if lesson.id in CLASSIFIERS:
        assert lesson.headline == ("test", "accuracy")
    for word, text in lesson.labels.items():
        assert text.en and re.search(r"[\u4e00-\u9fff]", text.zh), f"{word}: no Chinese label"


# -- explanations in text files ----------------------------------------------------------------------

@pytest.mark.parametrize("lesson_id", CATALOGUE)
def test_the_explanations_are_text_files_and_the_chinese_has_no_line_break_spaces(lesson_id):
    zh = (LESSONS_DIR / "text" / f"{lesson_id}.zh.md").read_text(encoding="utf-8")
    assert (LESSONS_DIR / "text" / f"{lesson_id}.en.md").read_text(encoding="utf-8").strip()
    assert lessons.get(lesson_id).explanation("zh") == zh.rstrip() + "\n\n" + section(lesson_id, "zh")  # + API changes
    fenced = False
    for line in zh.splitlines():
        fenced ^= line.startswith("```")
        if fenced or line.startswith("    ") or not line.strip():
            continue
        assert not re.match(r"\s*[。，、；：）！？」』]", line), f"a line starts with closing punctuation: {line}"
        cjk = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
        assert not re.search(f"[{cjk}] [{cjk}]", line), f"a space between two Chinese characters: {line}"
    paragraphs = [p for p in re.split(r"\n\s*\n", zh) if not p.startswith(("    ", "```"))]
    for paragraph in paragraphs:  # one paragraph (or list item) per line: no break between two CJK characters
        lines = paragraph.splitlines()
        for before, after in zip(lines, lines[1:]):
            block = re.compile(r"\s*(- |\d+\. |#|```|\|)|    ")  # a heading, list item, fence or code starts a line
            if not block.match(after) and not re.match(r"#|```|    ", before):
                pytest.fail(f"a paragraph goes on over a line break: {before[-20:]!r} / {after[:20]!r}")


def test_an_explanation_is_read_when_first_shown_and_a_lesson_without_text_files_still_works(tmp_path):
    from labapp.lesson import TextFiles

    stem = tmp_path / "mine"
    text = TextFiles(stem)
    (tmp_path / "mine.zh.md").write_text("后来写的", encoding="utf-8")  # written after: read on first use
    assert text("zh") == "后来写的" and text("en") == ""


# -- one file a lesson -------------------------------------------------------------------------------

def _imports(path: Path) -> set[str]:
    """The modules that `path` imports, by full name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted(LESSONS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_lesson_module_imports_another_lesson(path):
    lesson_modules = {f"lessons.{p.stem}" for p in LESSON_FILES}
    assert not _imports(path) & lesson_modules, "a lesson is one file: shared code lives in lessons/_*.py"


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.name)
def test_a_lesson_module_reads_as_a_program(path):
    source = path.read_text(encoding="utf-8")
    assert 40 <= len(source.splitlines()) <= 250
    tree = ast.parse(source)
    assert len(ast.get_docstring(tree).splitlines()) == 1, "no prose in front of the code: it is in lessons/text/"
    order = [node.targets[0].id if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
             else getattr(node, "name", None) for node in tree.body]
    declared = [order.index(name) for name in ("PARAMS", "LESSON") if name in order]
    assert order.index("train") < min(declared), "model, then training, then the declarations"


def test_labapp_holds_no_dataset_url_or_checksum():
    for path in (ROOT / "labapp").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\b[0-9a-f]{64}\b", source), f"{path}: a sha256"
        assert not re.search(r"https?://[\w.-]+/\S*(\.gz|mnist|data)", source), f"{path}: a dataset URL"


@pytest.fixture
def copied_lesson(tmp_path):
    """A copy of lessons/ in a folder of the test's own, where gradient_descent.py is saved again as zz_copy.py
    under a new id and number; commands run there (cwd first on sys.path) find that copy, not the checkout's."""
    shutil.copytree(LESSONS_DIR, tmp_path / "lessons", ignore=shutil.ignore_patterns("__pycache__"))
    source = (LESSONS_DIR / "gradient_descent.py").read_text(encoding="utf-8")
    source = source.replace('id="gradient-descent"', 'id="my-descent"').replace("number=2,", "number=15,")
    assert 'id="my-descent"' in source and "number=15," in source
    copy = tmp_path / "lessons" / "zz_copy.py"
    copy.write_text(source, encoding="utf-8")
    return copy


def _there(copy: Path) -> dict:
    """How to run a command in the copy's folder: labapp from this checkout, the lessons from the copy."""
    return {"cwd": copy.parent.parent, "env": {"PYTHONPATH": str(ROOT)}}


def test_a_copied_lesson_file_is_listed_runs_and_opens_with_no_other_file_changed(copied_lesson, runs_dir):
    listed = labapp("list", **_there(copied_lesson))
    assert listed.returncode == 0 and listed.stdout.splitlines()[-1].split()[:2] == ["15", "my-descent"]
    assert "gradient-descent" in listed.stdout  # the original is still there
    ran = labapp("run", "my-descent", "--epochs", "3", **_there(copied_lesson))
    assert ran.returncode == 0, ran.stderr
    assert "predict(4) after" in ran.stdout and len(list((runs_dir / "my-descent").iterdir())) == 1
    shown = labapp("show", "my-descent", "--lang", "en", **_there(copied_lesson))  # no text files: no explanation
    assert shown.returncode == 0 and shown.stdout.startswith("15. Gradient descent  (my-descent)")
    opened = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import asyncio
        from labapp.app import LabApp

        async def main():
            app = LabApp(lesson_id="my-descent", lang="en")
            async with app.run_test(size=(100, 30)) as pilot:
                await pilot.pause()
                assert "15. Gradient descent" in str(app.query_one("#title").render()), "not opened"

        asyncio.run(main())
        """)], capture_output=True, text=True, timeout=120, **{**_there(copied_lesson),
                                                                 "env": {**os.environ, "PYTHONPATH": str(ROOT)}})
    assert opened.returncode == 0, opened.stderr[-2000:]


def test_the_registry_refuses_two_lessons_with_one_id(copied_lesson):
    copied_lesson.write_text(copied_lesson.read_text().replace('id="my-descent"', 'id="gradient-descent"'))
    found = subprocess.run([sys.executable, "-c", "import lessons"], capture_output=True, text=True,
                           **{**_there(copied_lesson), "env": {**os.environ, "PYTHONPATH": str(ROOT)}})
    assert "ValueError: lessons gradient-descent and gradient-descent have the same id" in found.stderr

"""What changed since the course was recorded: every lesson's explanation, in zh and en, and its program list them."""

import pytest

import lessons
from labapp import cli
from labapp.program import program_source
from lessons._changes import BY_LESSON, CHANGES, HEADING, NONE, changes, program_comment, torch_version


def test_every_lesson_has_its_list_and_every_change_is_used():
    assert set(BY_LESSON) == {lesson.id for lesson in lessons.LESSONS}
    assert len(lessons.LESSONS) == 14
    used = {key for keys in BY_LESSON.values() for key in keys}
    assert used == set(CHANGES)
    for change in CHANGES.values():
        assert change.why.zh and change.why.en and change.why.zh != change.why.en


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_lessons_explanation_lists_its_api_changes(lesson, lang):
    text = lesson.explanation(lang)
    section = text[text.index(f"## {HEADING(lang)}"):]
    assert text.index(f"## {HEADING(lang)}") > 0  # after the lesson's own words, which are kept
    found = changes(lesson.id)
    if not found:
        assert NONE(lang) in section
    else:
        assert torch_version() in section
        items = [line for line in section.splitlines() if line.startswith("- ")]
        assert items == [f"- `{c.course}` → `{c.today}` ({c.since}): {c.why(lang)}" for c in found]


def test_the_changes_the_issue_names_are_where_they_belong():
    def listed(lesson_id, lang="en"):
        return lessons.get(lesson_id).explanation(lang)

    assert "`nn.MSELoss(size_average=False)` → `nn.MSELoss(reduction='sum')`" in listed("linear-regression")
    assert "`nn.BCELoss(size_average=False)` → `nn.BCELoss(reduction='sum')`" in listed("logistic-regression", "zh")
    assert "`loss.data[0]` → `loss.item()`" in listed("backprop")
    assert "Variable" in listed("backprop") and "Variable" in listed("backprop", "zh")
    assert "seq_lengths.cpu()" in listed("rnn-classifier") and "weights_only=True" in listed("rnn-classifier", "zh")
    assert NONE("zh") in listed("linear-model", "zh") and NONE("en") in listed("gradient-descent")


def test_labapp_show_prints_the_changes(capsys):
    assert cli.main(["show", "rnn-classifier", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert f"## {HEADING('zh')}" in out and "seq_lengths.cpu()" in out


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_each_program_says_the_changes_in_its_header_after_the_docstring(lesson):
    source = program_source(lesson, lesson.defaults())
    comment = program_comment(lesson.id)
    assert comment in source
    assert source.index('"""', 3) < source.index(comment) < source.index("import ")
    for change in changes(lesson.id):
        assert f"# - {change.course}\n#   -> {change.today}  ({change.since})" in comment
    if not changes(lesson.id):
        assert NONE("zh") in comment and NONE("en") in comment
    compile(source, f"{lesson.id}.py", "exec")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_learn_tab_shows_the_changes(lang):
    from textual.widgets import Markdown

    from labapp.app import LabApp
    from tests.test_app import until

    app = LabApp(lesson_id="rnn-classifier", lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.workbench.view is not None)
        await pilot.press("1")
        await until(pilot, lambda: bool(app.query("#learn-text Markdown")))
        source = app.query_one("#learn-text Markdown", Markdown).source
        assert f"## {HEADING(lang)}" in source and "seq_lengths.cpu()" in source

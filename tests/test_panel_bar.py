"""The panel bar's names at any width: every key with a name a person can read, never wider than the bar."""

import pytest

import lessons
from labapp.panel_bar import MIN_NAME, bar_rows, short_name
from labapp.strings import say, width


def names(lesson, lang):
    return [chart.title(lang) for chart in lesson.charts] + [say("results", lang), say("runs", lang)]


def shown_names(rows):
    return [text.strip().split(" ", 1)[1] for row in rows for _, text in row]


def test_short_names_drop_the_closing_parenthesis():
    assert short_name("Training loss (mean per epoch)") == "Training loss"
    assert short_name("训练损失（每轮的平均）") == "训练损失"
    assert short_name("(wx)") == "(wx)" and short_name("Results") == "Results"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("columns", [40, 49, 60, 129])
@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_every_lesson_s_bar_fits_and_every_name_can_be_read(lesson, columns, lang):
    full = names(lesson, lang)
    for current in range(len(full)):
        rows = bar_rows("456789", full, current, columns)
        assert len(rows) <= 2 and all(width("".join(text for _, text in row)) <= columns for row in rows)
        assert [index for row in rows for index, _ in row] == list(range(len(full))), "every key, in order"
        for index, name in enumerate(shown_names(rows)):
            whole = short_name(full[index])
            assert name in (full[index], whole) or (name.endswith("…") and width(name) >= MIN_NAME - 1), name
            assert name.rstrip("…") and full[index].startswith(name.rstrip("…").rstrip()), (name, full[index])


def test_five_panels_at_80x24_read_as_words_not_two_letters():
    lesson = lessons.get("softmax-mnist")  # three charts, results, runs: the bar is 49 columns at 80x24
    rows = bar_rows("456789", names(lesson, "en"), 0, 49)
    assert shown_names(rows)[:2] == ["Training loss", "Test accuracy"] and shown_names(rows)[3:] == ["Results", "Runs"]
    rows = bar_rows("456789", names(lesson, "zh"), 2, 49)
    assert shown_names(rows) == ["训练损失", "测试集准确率", "每 300 个批次的平均损失", "结果", "历史"]

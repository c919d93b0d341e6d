"""What a classifier gets wrong (labapp/confusion.py): counts checked against torch, the identities a
confusion matrix keeps, its text at 80 columns and in a narrow panel, in both languages; and the
workbench's Mistakes panel, one key away at 80x24."""

import random
import re
import subprocess
import sys

import pytest
import torch
from rich.cells import cell_len

from labapp import confusion
from labapp.app import LabApp
from labapp.lesson import IntParam, Lesson, Metric, Text, View, ViewValue
from tests.conftest import COUNTER, ROOT
from tests.test_app import press_run, until

COUNTRIES = ["Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish", "Italian",
             "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish", "Vietnamese"]
# the course's test split: names per country (6,700 in all; 3,136 Russian)
TEST_NAMES = [667, 90, 173, 99, 1223, 93, 242, 68, 78, 237, 331, 32, 47, 25, 3136, 34, 100, 25]
DIGITS = [str(d) for d in range(10)]


def answers(sizes, right_share, seed):
    """(true, predicted, probability) lists: `sizes[k]` answers of class k, about `right_share` of them right."""
    rng = random.Random(seed)
    true = [k for k, n in enumerate(sizes) for _ in range(n)]
    predicted = [t if rng.random() < right_share else rng.randrange(len(sizes)) for t in true]
    return true, predicted, [rng.random() for _ in true]


def oracle(n, true, predicted):
    """The confusion matrix computed by torch: a bincount of true·n + predicted."""
    t, p = torch.tensor(true), torch.tensor(predicted)
    return torch.bincount(t * n + p, minlength=n * n).view(n, n)


# -- the counts --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, size, seed", [(2, 759, 0), (10, 2000, 1), (18, 6700, 2), (3, 1, 3)])
def test_counts_are_torchs_bincount_and_keep_the_sum_and_diagonal_identities(n, size, seed):
    generator = torch.Generator().manual_seed(seed)
    true = torch.randint(0, n, (size,), generator=generator)
    predicted = torch.where(torch.rand(size, generator=generator) < 0.6, true,
                            torch.randint(0, n, (size,), generator=generator))
    matrix = confusion.counts(n, true.tolist(), predicted.tolist())
    expected = oracle(n, true.tolist(), predicted.tolist())
    assert matrix == expected.tolist()
    assert confusion.total(matrix) == size  # every answer counted once
    assert confusion.right(matrix) / size == (predicted == true).sum().item() / size  # the accuracy
    shares = torch.tensor(confusion.row_shares(matrix))
    rows = expected.sum(dim=1, keepdim=True)
    assert torch.allclose(shares, torch.where(rows > 0, expected / rows.clamp(min=1), 0.0).float(), atol=1e-6)
    for k, (right, of) in enumerate(confusion.per_class(matrix)):
        assert (right, of) == (int(((true == k) & (predicted == k)).sum()), int((true == k).sum()))


def test_the_most_confused_pair_is_the_largest_count_off_the_diagonal():
    true, predicted, _ = answers(TEST_NAMES, 0.8, 4)
    matrix = confusion.counts(18, true, predicted)
    off = oracle(18, true, predicted).fill_diagonal_(0)
    t, p, count = confusion.most_confused(matrix)[0]
    assert count == off.max().item() and off[t, p] == count
    pairs = confusion.most_confused(matrix, k=5)
    assert [c for _, _, c in pairs] == sorted(off.flatten().tolist(), reverse=True)[:5]
    assert confusion.most_confused([[5, 0], [0, 7]]) == []  # no mistakes, no pairs


def test_the_gallery_takes_the_mistakes_the_model_was_surest_of():
    true, predicted, probability = answers([50] * 10, 0.7, 5)
    wrong = torch.tensor(true) != torch.tensor(predicted)
    chances = torch.where(wrong, torch.tensor(probability), -1.0)
    expected = chances.topk(8).indices.tolist()
    assert confusion.surest_mistakes(true, predicted, probability) == expected
    value = confusion.summary(DIGITS, true, predicted, probability, example=lambda i: f"#{i}")
    assert [m["example"] for m in value["mistakes"]] == [f"#{i}" for i in expected]
    assert value["wrong"] == int(wrong.sum()) and value["counts"] == oracle(10, true, predicted).tolist()
    assert all(m["true"] != m["predicted"] for m in value["mistakes"])


def test_bad_answers_are_refused_with_the_fields_named():
    with pytest.raises(ValueError, match="true, predicted: 2 true classes but 1 predictions"):
        confusion.counts(3, [0, 1], [0])
    with pytest.raises(ValueError, match="class 5 is not one of the 3 classes 0-2"):
        confusion.counts(3, [0, 5], [0, 1])
    with pytest.raises(ValueError, match="probability: 1 probabilities for 2 answers"):
        confusion.summary(["a", "b"], [0, 1], [0, 1], [0.5], example=str)


def test_abbreviations_are_short_and_all_different():
    two, three = confusion.abbreviations(COUNTRIES, 2), confusion.abbreviations(COUNTRIES, 3)
    assert len(set(two)) == len(set(three)) == 18
    assert max(map(len, two)) == 2 and max(map(len, three)) == 3
    assert two[COUNTRIES.index("Polish")] == "Po" and two[COUNTRIES.index("Portuguese")] == "Pr"
    assert three[:3] == ["Ara", "Chi", "Cze"]
    assert confusion.abbreviations(DIGITS, 2) == DIGITS  # short labels stay as they are


def test_percent_never_rounds_a_mistake_away():
    assert confusion.percent(0.2715, 2) == "27.15%"
    assert confusion.percent(0.9996, 0) == ">99%" and confusion.percent(1.0, 0) == "100%"
    assert confusion.percent(0.00001) == "<0.1%" and confusion.percent(0.0) == "0.0%"


# -- the text --------------------------------------------------------------------------------------------------

def mnist_value(seed=6):
    """A 10-class value with digits as images: a bar whose place depends on the class."""
    true, predicted, probability = answers([200] * 10, 0.85, seed)

    def image(i):
        rows = [[0] * 28 for _ in range(28)]
        for r in range(4, 24):
            for c in range(6 + 2 * true[i], 9 + 2 * true[i]):
                rows[r][c] = 255
        return rows

    return confusion.summary(DIGITS, true, predicted, probability, example=image)


def names_value():
    return confusion.summary(COUNTRIES, *answers(TEST_NAMES, 0.8, 7), example=lambda i: f"Name{i}")


def text_lines(value, lang, width, palette=confusion.PLAIN):
    return [line.plain for line in confusion.render(value, lang, width, palette)]


def matrix_rows(lines, heading, n):
    """The n rows under the first line that starts with `heading`'s header: [label, cells...]."""
    at = next(i for i, line in enumerate(lines) if line.startswith(heading))
    header = next(i for i in range(at + 1, len(lines)) if lines[i].split()[:1] in (["0"], ["Ar"], ["Ara"]))
    return [line.split() for line in lines[header + 1:header + 1 + n]]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("make", [mnist_value, names_value], ids=["digits", "countries"])
def test_every_line_fits_80_columns_and_a_narrow_panel(make, lang):
    value = make()
    for width, palette in ((78, confusion.PLAIN), (78, confusion.ANSI), (46, confusion.ANSI)):
        lines = text_lines(value, lang, width, palette)
        too_wide = [line for line in lines if cell_len(line) > width]
        assert not too_wide, (width, too_wide[:3])


def test_the_printed_counts_sum_to_the_answers_and_their_diagonal_is_the_accuracy():
    value = mnist_value()
    lines = text_lines(value, "en", 78)
    rows = matrix_rows(lines, "Counts", 10)
    assert [row[0] for row in rows] == DIGITS
    counts = [[0 if cell == "·" else int(cell) for cell in row[1:]] for row in rows]
    assert counts == value["counts"]
    total, right = sum(map(sum, counts)), sum(counts[k][k] for k in range(10))
    assert total == 2000
    assert f"{right} of {total} right ({right / total:.2%})" in lines[0]
    shares = matrix_rows(lines, "% of each true class", 10)
    assert [row[-1] for row in shares] == [confusion.percent(r / n) for r, n in confusion.per_class(counts)]
    pair = confusion.most_confused(counts)[0]
    assert lines[2].startswith(f"{pair[0]} → {pair[1]}  {pair[2]} times")


def test_18_countries_fit_80_columns_with_codes_a_legend_and_each_countrys_accuracy():
    value = names_value()
    lines = text_lines(value, "en", 78)
    shares = matrix_rows(lines, "% of each true class", 18)
    codes = [row[0] for row in shares]
    assert len(set(codes)) == 18 and all(len(code) <= 3 for code in codes)
    accuracy = dict(zip(codes, (row[-1] for row in shares)))
    right, of = confusion.per_class(value["counts"])[COUNTRIES.index("Russian")]
    assert accuracy[codes[COUNTRIES.index("Russian")]] == confusion.percent(right / of)
    legend = " ".join(lines)
    assert all(f"{code} {country}" in legend for code, country in zip(codes, COUNTRIES))
    t, p, count = confusion.most_confused(value["counts"])[0]
    assert f"{COUNTRIES[t]} → {COUNTRIES[p]}  {count} times" in "\n".join(lines)
    # 3,136 Russian names: 4-digit counts do not fit 18 columns in 78 without colour; they come in blocks
    counts_at = next(i for i, line in enumerate(lines) if line.startswith("Counts"))
    blocks = [line for line in lines[counts_at:] if line.split()[:1] in (["Ara"], ["Ar"], ["Ira"], ["Ir"])]
    assert len(blocks) >= 2
    gallery = lines[lines.index(next(l for l in lines if l.startswith("The mistakes it was surest of"))) + 2:]
    assert len(gallery) == 8 and all(re.match(r"Name\d+ +\w+ +→ \w+ +\S+%$", line) for line in gallery)


def test_chinese_words_and_row_numbers():
    true, predicted, probability = [0, 0, 1, 1], [1, 1, 1, 1], [0.6, 0.7, 0.8, 0.9]
    value = confusion.summary(["0", "1"], true, predicted, probability, example=lambda i: i + 1)
    zh = "\n".join(text_lines(value, "zh", 78))
    assert "4 个中答对 2 个（50.00%）" in zh and "0 → 1  2 次，占真实为 0 的 100.0%" in zh
    assert "第 2 行  0 → 1   70%" in zh and "准确率" in zh
    en = "\n".join(text_lines(value, "en", 78))
    assert "row 2  0 → 1   70%" in en and "2 of 4 right (50.00%)" in en


def test_digits_are_drawn_with_half_blocks_around_their_ink():
    rows = [[0] * 28 for _ in range(28)]
    for r in range(10, 14):
        for c in range(12, 14):
            rows[r][c] = 255
    picture = confusion.picture(rows)
    assert len(picture) == 28 and picture[10][12] == "f" and picture[0][0] == "0"
    lines = [line.plain for line in confusion.digit_lines(picture, confusion.PLAIN)]
    assert len(lines) == 10 and {len(line) for line in lines} == {20}  # the 20x20 box, two pixels a character
    assert "".join(lines).count("█") == 4  # 4 rows x 2 columns of ink = 4 full blocks
    grey = confusion.digit_lines(picture, confusion.Palette(ink="#ffffff", paper="#000000"))
    styles = {str(span.style) for line in grey for span in line.spans}
    assert "#ffffff on #ffffff" in styles and "#000000 on #000000" in styles


def test_the_headless_text_is_plain_in_a_pipe_and_coloured_on_a_terminal():
    value = mnist_value()
    plain = confusion.ansi(confusion.render(value, "en", 78, confusion.PLAIN), color=False)
    coloured = confusion.ansi(confusion.render(value, "en", 78, confusion.ANSI), color=True)
    assert "\x1b[" not in plain and "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured).splitlines()[0] == plain.splitlines()[0]


def test_the_module_imports_without_torch_or_textual():
    code = "import sys, labapp.confusion\nassert not {'torch', 'textual'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# -- the workbench -----------------------------------------------------------------------------------------

def _classify(hp, run):
    """Two epochs of a made-up 18-country classifier: a new confusion view after each."""
    for epoch in range(1, hp.epochs + 1):
        yield Metric(epoch=epoch, values={"loss": 1 / epoch})
        yield ViewValue("mistakes", confusion.summary(COUNTRIES, *answers(TEST_NAMES, 0.5 + 0.2 * epoch, epoch),
                                                      example=lambda i: f"Name{i}"))


CLASSIFIER = Lesson(
    id="classifier", number=95, title=Text("分类", "Classifier"), explanation=Text("测试用。", "For tests."),
    params=(IntParam(name="epochs", default=2, min=1, help=Text("轮数", "epochs")),),
    views=(View("mistakes", confusion.KIND, Text("错在哪里", "What it gets wrong")),),
    train=_classify, uses_torch=False)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_mistakes_panel_is_one_key_away_at_80x24_and_fits_it(lang):
    app = LabApp(lesson_id="classifier", lang=lang, catalogue=(COUNTER, CLASSIFIER))
    async with app.run_test(size=(80, 24)) as pilot:
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("classifier"))
        view = app.workbench.view
        assert view.panel_names()[1] == ("Mistakes" if lang == "en" else "错在哪里")
        await pilot.press("5")  # results 4, mistakes 5, runs 6
        await until(pilot, lambda: view.mistakes.has_class("-current") and view.mistakes.region.width > 0)
        await until(pilot, lambda: any("Name" in shown.render().plain for shown in view.mistakes.query("#view-mistakes")))
        assert app.focused is view.mistakes  # the arrow keys scroll it
        text = view.mistakes.query_one("#view-mistakes").render().plain.splitlines()
        room = view.mistakes.scrollable_content_region.width
        assert max(map(cell_len, text)) <= room, "no line needs the panel to scroll sideways"
        codes = confusion.abbreviations(COUNTRIES, 2)
        assert any(line.split()[:1] == ["Ru"] and line.rstrip().endswith("%") for line in text)
        assert all(f"{code} {country}" in " ".join(text) for code, country in zip(codes, COUNTRIES))
        await pilot.press("f")  # full screen: drawn again for the width, with 3-letter codes
        await until(pilot, lambda: any(line.startswith("Rus ") for line in
                                       view.mistakes.query_one("#view-mistakes").render().plain.splitlines()))
        await pilot.press("f")
        await press_run(pilot)  # a new run empties the panel until its first epoch
        await until(pilot, lambda: app.bench.active is None)


async def test_the_mistakes_follow_the_theme():
    app = LabApp(lesson_id="classifier", lang="en", catalogue=(COUNTER, CLASSIFIER))
    async with app.run_test(size=(80, 24)) as pilot:
        await press_run(pilot)
        await until(pilot, lambda: app.bench.active is None and app.bench.traces.get("classifier"))
        await pilot.press("5")
        shown = app.workbench.view.mistakes.query_one("#view-mistakes")
        await until(pilot, lambda: "Name" in shown.render().plain)

        def styles():
            return {str(span.style) for span in shown.render().spans}

        dark = styles()
        app.theme = "textual-light"
        await until(pilot, lambda: styles() != dark)  # drawn again in the new theme's colours


def test_prose_never_ends_a_line_with_an_opening_bracket():
    """'2000 个中答对 1700 个（85.00%）' at 160x48's Mistakes panel left '（' at a line's end."""
    from labapp.confusion import OPENING, prose

    for width in range(10, 40):
        lines = [line.plain for line in prose("2000 个中答对 1700 个（85.00%），最常混淆的是《9 → 4》", width)]
        assert not any(line.endswith(tuple(OPENING)) for line in lines), (width, lines)

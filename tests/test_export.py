"""`labapp export RUN --csv/--chart` and `labapp runs --json`, on real runs made by `labapp run`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from labapp.export import CSV_NAME, FIXED_COLUMNS, SVG_NAME, csv_text, export_run
from tests.conftest import ROOT, labapp

SVG = "{http://www.w3.org/2000/svg}svg"


def make_run(runs: Path, *args: str) -> Path:
    """Run `labapp run ARGS` into `runs`; returns the run's folder."""
    done = labapp("run", *args, "--out", str(runs), "--quiet")
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip().splitlines()[-1].removeprefix("run records: "))
    assert (folder / "metrics.jsonl").is_file()
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with two real runs: gradient-descent (x = epoch) and linear-model (x = w)."""
    root = tmp_path_factory.mktemp("runs")
    make_run(root, "gradient-descent", "--epochs", "7", "--lr", "0.05")
    make_run(root, "linear-model", "--variant", "wx+b", "--step", "0.5")
    return root


def run_folder(runs: Path, lesson: str) -> Path:
    """The one run of `lesson` in `runs`."""
    (folder,) = (runs / lesson).iterdir()
    return folder


def metric_records(folder: Path) -> list[dict]:
    """metrics.jsonl's metric records, read independently of labapp."""
    lines = (folder / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [row for row in map(json.loads, lines) if row["kind"] == "metric"]


def assert_csv_matches(csv_path: Path, records: list[dict]) -> None:
    """The CSV has one row per metric record, with the same values (blank where a record has none)."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(records) > 0
    columns = list(rows[0])
    assert columns[:4] == list(FIXED_COLUMNS)
    assert set(columns) == {key for record in records for key in record} - {"kind"}
    for row, record in zip(rows, records):
        for column in columns:
            value = record.get(column)
            if value is None:
                assert row[column] == ""
            elif isinstance(value, str):
                assert row[column] == value
            else:
                assert float(row[column]) == value, (column, row[column], value)


@pytest.mark.parametrize("lesson", ["gradient-descent", "linear-model"])
def test_csv_has_one_row_per_metric_record_with_the_same_values(runs: Path, lesson: str) -> None:
    folder = run_folder(runs, lesson)
    done = labapp("export", str(folder), "--csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(folder / CSV_NAME)
    assert_csv_matches(folder / CSV_NAME, metric_records(folder))


def test_gradient_descent_csv_starts_with_the_course_numbers(runs: Path) -> None:
    with open(run_folder(runs, "gradient-descent") / CSV_NAME, newline="") as f:  # written by the test above
        first = next(csv.DictReader(f))
    # the course: w = 1.0, lr 0.05 on x = 1, 2, 3, y = 2x: cost 14/3 before the first update
    assert (first["epoch"], first["step"], first["split"]) == ("1", "", "train")
    assert float(first["cost"]) == pytest.approx(14 / 3)
    assert float(first["w"]) == pytest.approx(1.0 + 0.05 * 28 / 3)


def test_csv_out_file(runs: Path, tmp_path: Path) -> None:
    folder = run_folder(runs, "linear-model")
    out = tmp_path / "lm.csv"
    done = labapp("export", str(folder), "--csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert_csv_matches(out, metric_records(folder))


def test_csv_leaves_blanks_for_missing_and_non_finite_values_and_skips_a_torn_line(tmp_path: Path) -> None:
    folder = tmp_path / "gradient-descent" / "20240101-000000-abcdef"
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text(
        '{"kind": "metric", "epoch": 1, "step": null, "split": "train", "t": 0.1, "loss": 2.5}\n'
        '{"kind": "view", "view": "result", "t": 0.1, "value": {"w": 1}}\n'
        '{"kind": "metric", "epoch": 1, "step": null, "split": "test", "t": 0.2, "accuracy": 0.75, "loss": null}\n'
        '{"kind": "metric", "epoch": 2, "step": null, "spl', encoding="utf-8")
    rows = list(csv.reader(csv_text(folder).splitlines()))
    assert rows == [["epoch", "step", "split", "t", "loss", "accuracy"],
                    ["1", "", "train", "0.1", "2.5", ""],
                    ["1", "", "test", "0.2", "", "0.75"]]


def parse_svg(path: Path) -> ET.Element:
    """The SVG document's root, parsed as XML."""
    root = ET.parse(path).getroot()
    assert root.tag == SVG
    return root


def svg_words(root: ET.Element) -> str:
    """The text the SVG shows (Rich writes one <text> per run of characters; spaces as &#160;)."""
    return "".join("".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")).replace("\xa0", " ")


def test_chart_writes_a_valid_svg_of_the_lessons_charts(runs: Path) -> None:
    folder = run_folder(runs, "gradient-descent")
    done = labapp("export", str(folder), "--chart", "--lang", "en")
    assert done.returncode == 0, done.stderr
    words = svg_words(parse_svg(folder / SVG_NAME))
    assert "Cost" in words and "Weight w" in words  # the lesson's two charts, titled as in the workbench
    assert "epoch" in words


def test_chart_of_a_chart_against_a_metric(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "lm.svg"
    done = labapp("export", str(run_folder(runs, "linear-model")), "--chart", "--out", str(out), "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "smallest SSE for each w" in svg_words(parse_svg(out))


def test_export_run_writes_both_files_beside_the_run(runs: Path) -> None:
    folder = run_folder(runs, "linear-model")
    written = export_run(folder)
    assert written == [folder / CSV_NAME, folder / SVG_NAME]
    assert_csv_matches(written[0], metric_records(folder))
    parse_svg(written[1])


@pytest.mark.parametrize("args, message", [
    (["/no/such/folder", "--csv"], "is not a folder"),
    ([".", "--chart"], "is not a run folder"),
    (["RUN", "--out", "x.csv"], "--out names one file"),
])
def test_bad_export_is_one_line_and_exit_2(runs: Path, args: list[str], message: str) -> None:
    args = [str(run_folder(runs, "linear-model")) if a == "RUN" else a for a in args]
    done = labapp("export", *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_runs_json_lists_every_run_folder_damaged_ones_included(runs: Path) -> None:
    damaged = runs / "backprop" / "20240101-000000-broken"
    damaged.mkdir(parents=True)
    (damaged / "config.json").write_text("{not json", encoding="utf-8")
    done = labapp("runs", "--json", "--out", str(runs))
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    by_path = {Path(run["path"]): run for run in listed}
    assert set(by_path) == {run_folder(runs, "gradient-descent"), run_folder(runs, "linear-model"), damaged}
    assert by_path[damaged]["status"] == "unreadable"
    finished = by_path[run_folder(runs, "gradient-descent")]
    assert finished["status"] == "finished" and finished["lesson"] == "gradient-descent"
    assert finished["epochs_done"] == 7
    assert finished["final"]["train"]["cost"] == metric_records(run_folder(runs, "gradient-descent"))[-1]["cost"]


def test_runs_json_of_an_empty_folder_is_an_empty_list(tmp_path: Path) -> None:
    done = labapp("runs", "--json", "--out", str(tmp_path / "none"))
    assert done.returncode == 0
    assert json.loads(done.stdout) == []


def test_export_needs_neither_torch_nor_textual(runs: Path) -> None:
    folder = run_folder(runs, "gradient-descent")
    code = ("import sys; from pathlib import Path; from labapp.export import export_run; "
            f"export_run(Path({str(folder)!r})); "
            "print(sorted(m for m in ('torch', 'textual', 'textual_serve') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_chart_of_a_run_whose_lesson_is_gone_or_that_has_no_metrics(tmp_path: Path) -> None:
    gone = tmp_path / "retired-lesson" / "20240101-000000-abcdef"
    gone.mkdir(parents=True)
    (gone / "metrics.jsonl").write_text("".join(
        f'{{"kind": "metric", "epoch": {e}, "step": null, "split": "train", "t": 0.1, "loss": {1 / e}}}\n'
        for e in range(1, 6)), encoding="utf-8")
    assert "loss" in svg_words(parse_svg(export_run(gone)[1]))  # one chart per metric
    empty = tmp_path / "gradient-descent" / "20240101-000000-abcdef"
    empty.mkdir(parents=True)
    (empty / "config.json").write_text('{"lesson": "gradient-descent"}', encoding="utf-8")
    csv_path, svg_path = export_run(empty)
    assert csv_path.read_text() == ",".join(FIXED_COLUMNS) + "\n"
    assert "no metric records" in svg_words(parse_svg(svg_path))

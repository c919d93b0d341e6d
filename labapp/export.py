"""Export a run's records for reports and scripts: its metrics as CSV, its charts as SVG.

Both read only the run folder (config.json for the lesson, metrics.jsonl for the records), so a
stopped, interrupted or half-torn run exports what it recorded. `export_run(folder)` is the one
call the workbench needs: it writes both files into the run's folder and returns their paths.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from labapp.lesson import Chart, Lesson, Metric, Text

CSV_NAME, SVG_NAME = "metrics.csv", "charts.svg"
FIXED_COLUMNS = ("epoch", "step", "split", "t")  # then every metric name, in the order first seen
CHART_WIDTH = 100  # columns, as the headless report at most


class ExportError(Exception):
    """The folder is not a run, or a file cannot be written; str() is the user's one-line message."""


def check_run_folder(folder: Path) -> Path:
    """`folder` if it holds a run's records (config.json or metrics.jsonl), else ExportError."""
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder: name a run folder (`labapp runs` lists them)")
    if not any((folder / name).is_file() for name in ("config.json", "metrics.jsonl")):
        raise ExportError(f"{folder} is not a run folder: it has no config.json or metrics.jsonl "
                          "(`labapp runs` lists run folders)")
    return folder


def metric_rows(folder: Path) -> list[dict[str, Any]]:
    """The metric records of the run's metrics.jsonl (view records left out), in order."""
    from labapp.records import read_metrics

    return [row for row in read_metrics(folder) if row.get("kind") == "metric"]


def metric_names(rows: list[dict[str, Any]]) -> list[str]:
    """Every metric name in `rows`, in the order first seen."""
    names: dict[str, None] = {}
    for row in rows:
        names.update((key, None) for key in row if key != "kind" and key not in FIXED_COLUMNS)
    return list(names)


def _cell(value: Any) -> Any:
    """A CSV cell: blank for a missing or non-finite (null) value, floats in full, other data as JSON."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value  # csv writes str(float), which is repr: it reads back as the same float


def csv_text(folder: Path) -> str:
    """The run's metrics as CSV: epoch, step, split, t, then one column per metric; one row per metric record."""
    rows = metric_rows(folder)
    columns = [*FIXED_COLUMNS, *metric_names(rows)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def run_lesson(folder: Path) -> Lesson | None:
    """The lesson the run in `folder` belongs to (config.json, else the folder's parent), if it still exists."""
    import lessons

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = None
    lesson_id = config.get("lesson") if isinstance(config, dict) else None
    if not isinstance(lesson_id, str):
        lesson_id = folder.parent.name  # runs/<lesson>/<run>
    try:
        return lessons.get(lesson_id)
    except KeyError:
        return None


def _as_metric(row: dict[str, Any]) -> Metric | None:
    """A metrics.jsonl row as the Metric the lesson yielded (non-finite values, written as null, left out)."""
    epoch, step, split = row.get("epoch"), row.get("step"), row.get("split")
    if not isinstance(epoch, int) or not isinstance(split, str):
        return None
    values = {k: v for k, v in row.items()
              if k not in ("kind", *FIXED_COLUMNS) and isinstance(v, (int, float)) and not isinstance(v, bool)}
    return Metric(epoch=epoch, values=values, split=split, step=step if isinstance(step, int) else None)


def _fallback_charts(metrics: list[Metric]) -> tuple[Chart, ...]:
    """One chart per metric name over every split, for a run whose lesson is gone."""
    names = metric_names([dict(m.values) for m in metrics])
    return tuple(Chart(title=Text(name, name), y=(name,), splits=()) for name in names)


def chart_texts(folder: Path, lang: str = "en", color: bool = True) -> list[str]:
    """The run's charts as plotext text (ANSI colours if `color`): the lesson's Charts that have points."""
    from labapp.report import chart_series, plot
    from labapp.traces import downsample

    metrics = [m for m in map(_as_metric, metric_rows(folder)) if m is not None]
    lesson = run_lesson(folder)
    charts = lesson.charts if lesson is not None else _fallback_charts(metrics)
    texts = []
    for chart in charts:
        series = {label: downsample(xs, ys, 2 * CHART_WIDTH)  # braille: two dots a column; a long run stays fast
                  for label, (xs, ys) in chart_series(chart, metrics).items()}
        if any(xs for xs, _ in series.values()):
            texts.append(plot(chart.title(lang), chart.x, series, CHART_WIDTH, color))
    return texts


def svg_text(folder: Path, lang: str = "en") -> str:
    """The run's charts, one under the other, as one SVG document (Rich's terminal-to-SVG export)."""
    from rich.console import Console
    from rich.text import Text as RichText

    console = Console(record=True, width=CHART_WIDTH + 2, file=io.StringIO(), color_system="truecolor",
                      force_terminal=True, legacy_windows=False)
    texts = chart_texts(folder, lang)
    for text in texts:
        console.print(RichText.from_ansi(text))
        console.print()
    if not texts:
        console.print("no metric records to chart")
    return console.export_svg(title=f"labapp {folder.parent.name} {folder.name}")


def write_text_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file and a rename; ExportError if it cannot be written."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as error:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def export_csv(folder: Path, out: Path | None = None) -> Path:
    """Write the run's metrics as CSV to `out` (default metrics.csv in the run folder); returns the path."""
    folder = check_run_folder(Path(folder))
    return write_text_atomic(Path(out) if out else folder / CSV_NAME, csv_text(folder))


def export_chart(folder: Path, out: Path | None = None, lang: str = "en") -> Path:
    """Write the run's charts as SVG to `out` (default charts.svg in the run folder); returns the path."""
    folder = check_run_folder(Path(folder))
    return write_text_atomic(Path(out) if out else folder / SVG_NAME, svg_text(folder, lang))


def export_run(folder: Path, lang: str = "en") -> list[Path]:
    """Export the run in `folder` as metrics.csv and charts.svg beside its records; returns the files written."""
    return [export_csv(folder), export_chart(folder, lang=lang)]

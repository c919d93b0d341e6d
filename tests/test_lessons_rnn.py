"""Lessons 13 and 14: the RNN variants' shapes and "ohlol"; the name classifier on a generated names file.

The classifier's tests train on small generated files (surnames whose endings give their country
away), registered under their checksums for the test's duration, as tests/test_lessons_data.py
does for diabetes. With the course's files at hand (../shared/data), one test also checks an epoch
on the real data.
"""

import csv
import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import lessons
from labapp import confusion, data
from labapp.lesson import ParamError, ViewValue, in_lang
from labapp.records import RunRecorder
from labapp.runner import FINISHED, STOPPED, Run, run_lesson
from lessons import rnn_basics, rnn_classifier
from lessons._data import NAMES_TEST, NAMES_TRAIN
from lessons._names import read_names
from tests.conftest import ROOT, SHARED_DATA, labapp
from tests.data_fixtures import checksum_of, stand_in, stand_in_code
from tests.test_lessons_data import Collect

# -- lesson 13 --------------------------------------------------------------------------------------

SHAPES = {
    "rnncell": [["inputs", "(5, 1, 4)"], ["inputs[t]", "(1, 4)"], ["hidden", "(1, 4)"], ["rnncell(x, h)", "(1, 4)"],
                ["labels", "(5, 1)"]],
    "rnn": [["inputs", "(5, 1, 4)"], ["h0", "(1, 1, 4)"], ["out", "(5, 1, 4)"], ["h_n", "(1, 1, 4)"],
            ["out.view(-1, 4)", "(5, 4)"], ["labels", "(5,)"]],
    "embedding": [["inputs", "(1, 5)"], ["emb(inputs)", "(1, 5, 10)"], ["h0", "(2, 1, 8)"], ["out", "(1, 5, 8)"],
                  ["h_n", "(2, 1, 8)"], ["fc(out).view(-1, 4)", "(5, 4)"], ["labels", "(5,)"]],
}


def basics(seed: int = 0, **texts: str) -> Collect:
    lesson = lessons.get("rnn-basics")
    sink = Collect()
    summary = run_lesson(lesson, lesson.resolve(texts), [sink], seed=seed, device="cpu")
    assert summary.status == FINISHED, summary.message + (summary.traceback or "")
    return sink


@pytest.mark.parametrize("variant", list(SHAPES))
def test_each_variant_shows_the_shapes_that_its_layers_take_and_give(variant):
    sink = basics(variant=variant, epochs="1")
    assert [row[:2] for row in sink.view("shapes")["rows"]] == SHAPES[variant]


@pytest.mark.parametrize("variant, lr", [("rnncell", 0.1), ("rnn", 0.05), ("embedding", 0.05)])
def test_lr_auto_is_the_courses_value_for_the_variant(variant, lr):
    lesson = lessons.get("rnn-basics")
    assert lesson.resolve({"variant": variant})["lr"] is None  # the default reads 'auto'
    assert basics(variant=variant, epochs="1").view("prediction")["lr"] == lr
    assert basics(variant=variant, epochs="1", lr="0.2").view("prediction")["lr"] == 0.2


def test_the_embedding_variant_says_ohlol_by_epoch_15():
    sink = basics(variant="embedding")
    history = sink.view("history")
    assert history["columns"] == ["epoch", "loss", "predicted"]
    assert [row[0] for row in history["rows"]] == list(range(1, 16))
    assert history["rows"][-1][2] == "ohlol"
    assert sink.view("prediction")["predicted"] == "ohlol"
    assert sink.epochs()[-1].values["accuracy"] == 1.0
    assert sink.epochs()[-1].values["loss"] < sink.epochs()[0].values["loss"]


def test_rnn_basics_with_every_default_says_ohlol(runs_dir):
    """issue 12: with no seed given, the lesson's own seed (2) reaches the course's result, recorded as used."""
    assert lessons.get("rnn-basics").seed == 2
    done = labapp("run", "rnn-basics")
    assert done.returncode == 0, done.stderr
    assert "seed 2" in done.stdout.splitlines()[0]
    assert [line.split()[-1] for line in done.stdout.splitlines() if line.strip().startswith("predicted ")] == ["ohlol"]
    [run] = list((runs_dir / "rnn-basics").iterdir())
    assert json.loads((run / "config.json").read_text())["seed"] == 2
    assert basics(seed=0).view("prediction")["predicted"] == "ohlll"  # why the lesson's seed is not 0


def test_rnncell_reaches_ohlol_for_some_seeds_not_all():
    """The course's RNNCell program in 15 epochs: 3 of seeds 0-4 (LESSONS.md, measured)."""
    reached = [basics(seed).view("prediction")["predicted"] == "ohlol" for seed in range(5)]
    assert sum(reached) == 3


def test_the_variants_models_score_every_step():
    import torch

    for variant in SHAPES:
        inputs, labels = rnn_basics.make_data(variant, "cpu")
        model = rnn_basics.make_model(variant)
        if variant == "rnncell":
            out = model(inputs[0], torch.zeros(1, 4))
            assert out.shape == (1, 4) and labels.shape == (5, 1)
        else:
            assert model(inputs).shape == (5, 4) and labels.shape == (5,)


# -- lesson 14 on generated names -------------------------------------------------------------------

ENDINGS = {"Russian": ("ov", "ev", "in", "sky"), "Japanese": ("moto", "mura", "kawa", "shi"),
           "English": ("son", "ton", "ley", "wood")}
STEMS = ("Iva", "Pet", "Naka", "Yama", "Smi", "Wil", "Kuz", "Tana", "Har", "Ba", "Mor", "Sa")


def write_names(path: Path, count: int, seed: int, extra=()) -> None:
    """A names_*.csv.gz like the course's: quoted fields, CRLF, surnames whose ending tells the country."""
    rng = random.Random(seed)
    rows = [(rng.choice(STEMS) + rng.choice("aeiourkt") + rng.choice(ENDINGS[c]), c)
            for c in rng.choices(list(ENDINGS), weights=(5, 2, 3), k=count)]
    with gzip.open(path, "wt", newline="", encoding="utf-8") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([*rows, *extra])


@pytest.fixture(scope="module")
def names_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("names")
    # A non-ASCII surname and one with nothing readable in the training file: mapped and left out.
    write_names(folder / "names_train.csv.gz", 600, seed=1, extra=[("Müller", "English"), ("李", "Russian")])
    write_names(folder / "names_test.csv.gz", 200, seed=2)
    return folder


NAMES = {"NAMES_TRAIN": NAMES_TRAIN, "NAMES_TEST": NAMES_TEST}  # as lessons/_data.py calls them


def _changes(folder: Path) -> dict[str, dict]:
    """For each names file, what makes the declared file match the generated one in `folder`."""
    return {name: checksum_of(folder / dataset.filename) for name, dataset in NAMES.items()}


@pytest.fixture
def names(names_folder, monkeypatch) -> Path:
    """The generated names files, registered under their checksums."""
    for name, changes in _changes(names_folder).items():
        stand_in(monkeypatch, NAMES[name], **changes)
    return names_folder


SMALL = {"hidden_size": "16", "batch_size": "32", "lr": "0.01"}


def classify(folder: Path, *sinks, **texts: str):
    lesson = lessons.get("rnn-classifier")
    sink = Collect()
    run = Run(lesson, lesson.resolve({**SMALL, **texts}), device="cpu", data_dir=str(folder), sinks=[*sinks, sink])
    summary = run.run()
    assert summary.status == FINISHED, summary.message + (summary.traceback or "")
    return run, sink


def test_a_short_training_learns_the_endings(names):
    run, sink = classify(names, epochs="4")
    epochs = [m for m in sink.epochs() if m.split == "train"]
    tests = [m for m in sink.epochs() if m.split == "test"]
    assert [m.epoch for m in epochs] == [m.epoch for m in tests] == [1, 2, 3, 4]
    assert epochs[-1].values["loss"] < epochs[0].values["loss"]
    assert tests[-1].values["accuracy"] > 0.9  # always 'Russian' scores about 50 %
    assert len(sink.steps()) == 4 * 19  # ceil(601 / 32) batches an epoch: Müller is read as Muller, 李 is left out
    seen = sink.view("data")
    assert seen["training names"] == 601 and seen["countries"] == 3
    assert run.kept["epoch"] == 4 and run.kept["countries"] == ["English", "Japanese", "Russian"]
    mistakes = [r.value for r in sink.records if isinstance(r, ViewValue) and r.view == "mistakes"]
    assert len(mistakes) == 4  # after each epoch, on the whole test split
    for value, metric in zip(mistakes, tests):
        assert value["labels"] == ["English", "Japanese", "Russian"] and confusion.total(value["counts"]) == 200
        assert confusion.right(value["counts"]) / 200 == pytest.approx(metric.values["accuracy"])
    # the gallery's names are test names, with the country the file gives them
    test_rows = dict(read_names(names / "names_test.csv.gz"))
    first = mistakes[0]
    assert first["mistakes"] and all(test_rows[m["example"]] == first["labels"][m["true"]] for m in first["mistakes"])


@pytest.mark.parametrize("texts, hidden, cat", [({}, "(4, 32, 16)", "(32, 32)"),
                                                ({"n_layers": "1", "bidirectional": "off"}, "(1, 32, 16)", "(32, 16)")])
def test_the_shapes_follow_layers_and_directions(names, texts, hidden, cat):
    _, sink = classify(names, epochs="1", **texts)
    shapes = dict(in_lang(sink.view("shapes"), "en")["rows"])
    longest = eval(shapes["inputs (batch, seq_len)"])[1]
    assert shapes["input.t() (seq_len, batch)"] == f"({longest}, 32)"
    assert shapes["embedding (seq_len, batch, hidden)"] == f"({longest}, 32, 16)"
    assert shapes["hidden (layers·directions, batch, hidden)"] == hidden
    assert shapes["hidden_cat (batch, directions·hidden)"] == cat
    assert shapes["fc_output (batch, countries)"] == "(32, 3)"
    packed = eval(shapes["packed.data (letters, hidden)"])[0]
    assert 32 * 4 < packed < 32 * longest  # only the real letters are packed, not the padding


def test_predictions_give_the_top_3_and_handle_odd_names(names):
    run, sink = classify(names, epochs="4", predict="Nakamoto, Petrov,Müller,,李")
    rows = in_lang(sink.view("predictions"), "en")["rows"]
    assert sink.view("predictions")["columns"] == ["name", "country", "probability"]
    assert [row[0] for row in rows] == ["Nakamoto", "", "", "Petrov", "", "", "Müller → Muller", "", "",
                                        "(empty)", "李"]
    assert rows[0][1] == "Japanese" and rows[3][1] == "Russian"
    for first in (0, 3, 6):
        shares = [float(row[2].rstrip("%")) for row in rows[first:first + 3]]
        assert shares == sorted(shares, reverse=True) and 99 <= sum(shares) <= 100.1
    assert rows[9][1:] == ["no name given", ""] and rows[10][1:] == ["no Latin letters", ""]
    # The TUI's box answers through the same function, from the kept model.
    assert in_lang(rnn_classifier.LESSON.try_it.predict(run.kept, "Nakamoto"), "en")["rows"] == rows[:3]
    assert in_lang(rnn_classifier.predict(run.kept, ""), "en")["rows"] == [["(empty)", "no name given", ""]]
    assert in_lang(rnn_classifier.predict(run.kept, ""), "zh")["rows"] == [["（空）", "没有输入姓氏", ""]]


def test_an_empty_predict_is_answered_and_none_skips_the_table(names):
    assert in_lang(classify(names, epochs="1", predict="")[1].view("predictions"), "en")["rows"] == [["(empty)", "no name given", ""]]
    _, sink = classify(names, epochs="1")  # the default, none
    assert not [r for r in sink.records if getattr(r, "view", None) == "predictions"]


def test_to_ascii_maps_accents_and_drops_the_rest():
    assert rnn_classifier.to_ascii("Müller") == "Muller"
    assert rnn_classifier.to_ascii("Strauß") == "Strauss"
    assert rnn_classifier.to_ascii(" Søren Łukasz ") == "Soren Lukasz"
    assert rnn_classifier.to_ascii("李") == "" and rnn_classifier.to_ascii("") == ""


def test_load_answers_with_a_runs_checkpoint_without_training(names, runs_dir):
    """issue 16: --save/--load became the checkpoints: every run keeps its last and best epoch in its folder."""
    recorder = RunRecorder(runs_dir)
    run, sink = classify(names, recorder, epochs="2", predict="Yamamura")
    last = recorder.path / "checkpoint-last.pt"
    again, loaded = classify(Path("/nonexistent"), load=str(last), predict="Yamamura")  # no data needed
    assert loaded.epochs() == [] and loaded.view("predictions") == sink.view("predictions")
    assert loaded.view("checkpoint")["trained epochs"] == 2 and again.kept["epoch"] == 2
    tests = {m.epoch: m.values["accuracy"] for m in sink.epochs() if m.split == "test"}
    best = max(tests, key=lambda epoch: (tests[epoch], -epoch))  # the first epoch of the highest accuracy
    _, folder = classify(Path("/nonexistent"), load=str(recorder.path))  # a run folder: its best checkpoint
    assert folder.view("checkpoint")["trained epochs"] == best
    assert folder.view("checkpoint")["its test accuracy"] == f"{tests[best]:.1%}"


def test_load_rejects_a_missing_run_and_a_file_that_is_not_a_checkpoint(tmp_path):
    lesson = lessons.get("rnn-classifier")
    with pytest.raises(ParamError, match="has no checkpoint: give the folder of an rnn-classifier run"):
        lesson.resolve({"load": str(tmp_path / "missing")})
    with pytest.raises(ParamError, match="has no checkpoint"):
        lesson.resolve({"load": str(tmp_path)})  # a folder without one
    bad = tmp_path / "bad.pt"
    bad.write_text("not a model")
    summary = run_lesson(lesson, lesson.resolve({"load": str(bad)}), device="cpu")
    assert summary.status == "failed" and "is not a labapp checkpoint" in summary.message


def test_without_run_records_no_checkpoint_is_kept_and_the_run_still_trains(names):
    run, _ = classify(names, epochs="1")  # no RunRecorder among the sinks: no run folder, nowhere to save
    assert run.checkpoints and run.summary.status == FINISHED


def test_a_stop_mid_epoch_ends_the_run_promptly(names):
    lesson = lessons.get("rnn-classifier")
    sink = Collect(after=25)
    run = Run(lesson, lesson.resolve({**SMALL, "epochs": "1000"}), device="cpu", data_dir=str(names), sinks=[sink])
    run.start()
    assert sink.reached.wait(60)
    run.request_stop()
    assert run.join(5) and run.summary.status == STOPPED


def _command(folder: Path, *args: str) -> list[str]:
    """`labapp ARGS` through a wrapper that registers the generated files' checksums first."""
    code = "import sys\n" + "".join(stand_in_code(name, changes) for name, changes in _changes(folder).items())
    code += "from labapp.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return [sys.executable, "-c", code, *args]


def test_headless_predict_prints_three_countries_per_name(names_folder, runs_dir):
    result = subprocess.run(_command(names_folder, "run", "rnn-classifier", "--epochs", "3", "--hidden-size", "16",
                                     "--batch-size", "32", "--lr", "0.01", "--data-dir", str(names_folder),
                                     "--predict", "Nakamoto,Müller,"),
                            capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "epoch 3/3  test  accuracy" in out and "Top 3 countries" in out
    table = out.split("Top 3 countries\n")[1].split("\n\n")[0].splitlines()
    assert table[0].split() == ["name", "country", "probability"]
    assert table[1].split()[0] == "Nakamoto" and len(table) == 1 + 3 + 3 + 1
    assert all(line.rstrip().endswith("%") for line in table[1:7])
    assert "Müller → Muller" in out and "(empty)" in out and "no name given" in out
    lines = [line.strip() for line in out.splitlines()]
    at = next(i for i, line in enumerate(lines) if line.startswith("% of each true class"))
    rows = {line.split()[0]: line.split()[-1] for line in lines[at + 2:at + 5]}  # under the header line
    assert set(rows) == {"English", "Japanese", "Russian"} and all(v.endswith("%") for v in rows.values())
    assert "Most confused (true → predicted)" in out
    [run_dir] = (runs_dir / "rnn-classifier").iterdir()
    assert (run_dir / "checkpoint-last.pt").is_file() and (run_dir / "checkpoint-best.pt").is_file()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"
    loaded = subprocess.run([sys.executable, "-m", "labapp", "run", "rnn-classifier", "--load",
                             str(run_dir / "checkpoint-last.pt"), "--predict", "Nakamoto", "--no-record"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    answer = loaded.stdout.split("Top 3 countries\n")[1].splitlines()[:4]
    assert [line.split() for line in answer] == [line.split() for line in table[:4]]  # the same model answers


@pytest.mark.skipif(not (SHARED_DATA / "names_train.csv.gz").is_file(), reason="the course's names files are not here")
def test_one_epoch_on_the_course_data_beats_always_russian():
    _, sink = classify(SHARED_DATA, **{"hidden_size": "100", "batch_size": "256", "lr": "0.001"}, epochs="1")
    assert sink.view("data")["always answering the most common"] == {"en": "Russian: 46.8%", "zh": "俄罗斯：46.8%"}
    assert sink.view("data")["training names"] == 13_374 and sink.view("data")["test names"] == 6_700
    accuracy = [m for m in sink.epochs() if m.split == "test"][0].values["accuracy"]
    assert 0.6 < accuracy < 0.75  # 66 % after the first epoch; ≈ 81 % after five
    value = sink.view("mistakes")  # what it gets wrong: 18 countries, each with its accuracy, at 80 columns
    assert len(value["labels"]) == 18 and confusion.total(value["counts"]) == 6_700
    assert confusion.right(value["counts"]) / 6_700 == pytest.approx(accuracy)
    lines = [line.plain for line in confusion.render(value, "en", 78)]
    assert max(len(line) for line in lines) <= 78
    at = next(i for i, line in enumerate(lines) if line.startswith("% of each true class"))
    header = next(i for i in range(at, len(lines)) if lines[i].split()[:1] in (["Ar"], ["Ara"]))
    shares = [line.split() for line in lines[header + 1:header + 19]]
    right = [r / n for r, n in confusion.per_class(value["counts"])]
    assert [row[-1] for row in shares] == [confusion.percent(share) for share in right]
    t, p, count = confusion.most_confused(value["counts"])[0]
    assert lines[2] == f"{value['labels'][t]} → {value['labels'][p]}  {count} times, " \
                       f"{confusion.percent(count / sum(value['counts'][t]))} of true {value['labels'][t]}"

"""The workbench's controller without Textual: forms, runs through the runner, history, messages."""

import subprocess
import sys
import time

import pytest

from labapp.controller import Form, Workbench, ended_message
from labapp.progress import RunProgress
from labapp.lesson import ParamError
from labapp.traces import RunTrace
import lessons
from tests.conftest import COUNTER, ROOT


def test_the_controller_imports_without_textual_or_torch():
    code = ("import sys, labapp.controller, labapp.actions, labapp.strings\n"
            "assert 'textual' not in sys.modules, 'textual'\nassert 'torch' not in sys.modules, 'torch'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def wait_for_end(bench: Workbench, timeout: float = 20) -> RunTrace:
    deadline = time.monotonic() + timeout
    while True:
        ended = bench.poll()
        if ended is not None:
            return ended.trace
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.01)


def test_the_form_checks_fields_and_rules_and_has_a_seed():
    form = Form(lessons.LESSONS[0])  # linear-model: w_min < w_max
    assert form.valid and form.texts["seed"] == "0" and form.seed() == 0
    form.set("seed", "-1")
    assert form.errors["seed"] == "seed: '-1' is out of range: must be between 0 and 4294967295"
    form.set("seed", "42")
    assert form.valid and form.seed() == 42
    form.set("w_min", "5")
    assert not form.errors and "w_min (5) must be less than w_max (4)" in form.rule_error
    assert not form.valid and form.first_error() == form.rule_error
    with pytest.raises(ParamError):
        form.values()
    form.reset()
    assert form.valid and form.texts["w_min"] == "0.0" and form.texts["seed"] == "0"


def test_a_run_starts_through_the_runner_ends_and_is_recorded(runs_dir):
    heard = []
    bench = Workbench((COUNTER,), "en", notify=lambda event, trace: heard.append(event))
    bench.form().set("epochs", "3")
    bench.form().set("seed", "7")
    trace = bench.start()
    assert bench.active is trace and bench.state() in ("starting", "running")
    with pytest.raises(ParamError, match="counter is training: stop it first"):
        bench.start()
    ended = wait_for_end(bench)
    assert ended is trace and trace.status == "finished" and trace.epoch == 3
    assert heard == ["started", "ended"] and bench.active is None and bench.run is None
    assert ended_message(trace, "en") == "finished 3 epochs" and ended_message(trace, "zh") == "完成 3 轮"
    assert trace.run_dir.startswith(str(runs_dir / "counter"))
    [past] = bench.past_runs()
    assert str(past.path) == trace.run_dir and past.status == "finished"
    assert (past.path / "config.json").read_text().count('"seed": 7') == 1
    assert [message.text for message in bench.log] == [f"finished 3 epochs · {trace.run_dir}"]


def test_stop_and_shutdown_end_a_long_run_as_stopped(runs_dir):
    bench = Workbench((COUNTER,), "en")
    bench.form().set("epochs", "10000")
    bench.form().set("sleep", "0.005")
    trace = bench.start()
    while trace.epoch < 3:
        time.sleep(0.01)
    asked = time.monotonic()
    bench.shutdown()
    assert time.monotonic() - asked < 1 and trace.status == "stopped"
    assert wait_for_end(bench) is trace


def test_runs_on_disk_survive_a_restart_and_can_be_overlaid(runs_dir):
    first = Workbench((COUNTER,), "en")
    first.form().set("epochs", "4")
    first.start()
    wait_for_end(first)
    later = Workbench((COUNTER,), "zh")  # a new session: nothing in memory
    [past] = later.past_runs()
    assert later.chart_traces(earlier=True) == []
    assert later.toggle_overlay(past) is True
    [overlay] = later.chart_traces(earlier=True)
    assert overlay.epoch == 4 and overlay.values["epochs"] == 4 and "epochs=4" in overlay.label
    xs, ys = next(iter(overlay.series(COUNTER.charts[0]).values()))
    assert xs == [1, 2, 3, 4] and ys == [0.5, 0.25, 0.125, 0.0625]
    assert later.toggle_overlay(past) is False and later.chart_traces(earlier=True) == []


def test_the_status_line_reads_the_runners_progress_which_advances_inside_an_epoch():
    from labapp.widgets.status import status_parts

    now = [100.0]
    progress = RunProgress.for_lesson(COUNTER, COUNTER.defaults(), clock=lambda: now[0])
    progress.start()
    progress.total, progress.epoch = 4, 1
    progress.batch = (50, 100)
    now[0] = 103.0
    trace = RunTrace(lesson=COUNTER, values=COUNTER.defaults(), number=1, label="", progress=progress)
    assert Workbench((COUNTER,), "en").progress(trace) is progress
    parts = [text for _, text in status_parts("running", trace, progress, "cpu", "en")]
    assert "batch 50/100" in parts and any(text.startswith("0:03") for text in parts)
    assert progress.eta() == pytest.approx(3.0 * (4 - 1.5) / 1.5)
    now[0] = 104.5
    assert progress.elapsed() == 4.5  # the clock moves between records


def test_a_folder_that_cannot_be_written_trains_without_records(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("LABAPP_RUNS_DIR", str(blocked))
    bench = Workbench((COUNTER,), "en")
    trace = bench.start()
    assert "training goes on without run records" in trace.no_records
    assert wait_for_end(bench).status == "finished" and trace.run_dir == ""


def test_saving_goes_next_to_the_latest_run_and_says_where(runs_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bench = Workbench((COUNTER,), "en")
    assert bench.save("a.svg", "<svg/>", "screenshot saved") == f"screenshot saved: {tmp_path / 'a.svg'}"
    bench.start()
    trace = wait_for_end(bench)
    said = bench.save("b.py", "print(1)", "code saved")
    assert said == f"program saved: {trace.run_dir}/b.py" and bench.log[-1].text == said


def test_a_run_of_another_lesson_keeps_its_id_on_a_narrow_status_line():
    from labapp.widgets.status import first_line, status_parts

    progress = RunProgress.for_lesson(COUNTER, COUNTER.defaults())
    progress.start()
    trace = RunTrace(lesson=COUNTER, values=COUNTER.defaults(), number=1, label="", progress=progress)
    elsewhere = first_line(status_parts("running", trace, progress, "cpu", "en", open_lesson="backprop"), 30)
    here = first_line(status_parts("running", trace, progress, "cpu", "en", open_lesson=COUNTER.id), 30)
    assert COUNTER.id in elsewhere and COUNTER.id not in here


def test_a_diverged_run_is_said_to_diverge_at_the_epoch_the_chart_marks():
    progress = RunProgress.for_lesson(COUNTER, COUNTER.defaults())
    progress.start()
    progress.epoch = 79
    progress.finish("diverged", diverged_at=80)
    trace = RunTrace(lesson=COUNTER, values=COUNTER.defaults(), number=1, label="", progress=progress)
    assert ended_message(trace, "en").startswith("diverged at epoch 80")


# -- sweeps: a field lists values, Run runs each combination in turn ----------------------------------

def wait_for_sweep(bench: Workbench, timeout: float = 60) -> list[RunTrace]:
    """Poll until the sweep has ended; every run that ended, in order. Asserts one run at a time."""
    deadline, ended = time.monotonic() + timeout, []
    while bench.sweep is not None or bench.active is not None:
        assert sum(trace.running for trace in bench.traces.get(bench.lesson.id, [])) <= 1, "two runs at once"
        news = bench.poll()
        if news is not None:
            ended.append(news.trace)
        assert time.monotonic() < deadline, "the sweep did not end"
        time.sleep(0.01)
    return ended


def test_a_field_takes_a_list_checked_as_typed_with_the_field_value_and_rule():
    gd = lessons.get("gradient-descent")
    form = Form(gd)
    form.set("lr", "0.001, 0.01, 0.1")
    assert form.valid and form.is_sweep and form.grid.axes["lr"] == (0.001, 0.01, 0.1)
    form.set("lr", "0.001, 0.01,")
    assert form.errors["lr"] == ("lr: item 3 of '0.001, 0.01,' is empty: give values separated by commas, each "
                                 "> 0 and <= 1000")
    form.set("lr", "0.001, -1")
    assert form.errors["lr"].startswith("lr: '-1' is out of range") and "(item 2 of '0.001, -1')" in form.errors["lr"]
    form.set("lr", "0.01")
    form.set("seed", "0,1,x")
    assert form.errors["seed"].startswith("seed: 'x' is not a whole number") and "(item 3 of '0,1,x')" in form.errors["seed"]
    form.set("seed", "0,1,2")
    assert form.valid and form.is_sweep and form.grid.seeds == (0, 1, 2)
    form.set("epochs", ",".join(str(n) for n in range(1, 80)))
    assert not form.valid and form.rule_error.startswith("sweep: 79 x 3 seeds is 237 runs: at most 200")
    form.reset()
    assert form.valid and not form.is_sweep


def test_a_sweep_runs_each_point_in_turn_records_each_and_ranks_them(runs_dir):
    bench = Workbench((lessons.get("gradient-descent"),), "en")
    bench.form().set("lr", "0.001, 0.01, 0.1")
    first = bench.start()
    assert bench.sweep_step() == (1, 3) and first.label == "lr=0.001"
    ended = wait_for_sweep(bench)
    assert [t.label for t in ended] == ["lr=0.001", "lr=0.01", "lr=0.1"] and all(t.status == "finished" for t in ended)
    assert len(bench.past_runs()) == 3 and {str(p.path) for p in bench.past_runs()} == {t.run_dir for t in ended}
    sweep = bench.sweep_of()
    assert [row.varied for row in sweep.rows()] == [(("lr", 0.1),), (("lr", 0.01),), (("lr", 0.001),)]
    assert bench.best_folders() == {ended[2].run_dir}
    assert bench.chart_traces(earlier=False) == ended, "every point's curve, whatever the overlay switch"
    assert bench.log[-1].text == "sweep done: 3 runs; best lr=0.1 (★ in Runs)"
    table = sweep.table("en").splitlines()
    assert table[0] == "sorted by final train cost, lower is better; diverged, failed and stopped runs last"
    assert [line.split()[:2] for line in table[2:]] == [["1", "0.1"], ["2", "0.01"], ["3", "0.001"]]
    assert sweep.table("zh").startswith("按最终的 ")


def test_seeds_repeat_each_point_and_the_table_shows_mean_and_spread(runs_dir):
    bench = Workbench((COUNTER,), "en")
    bench.form().set("epochs", "2,3")
    bench.form().set("seed", "0,1")
    bench.start()
    ended = wait_for_sweep(bench)
    assert [t.label for t in ended] == ["epochs=2 seed=0", "epochs=2 seed=1", "epochs=3 seed=0", "epochs=3 seed=1"]
    text = bench.sweep_of().table("en")
    assert "mean ± std over 2 seeds" in text and "0.125 ± 0" in text and "0.25 ± 0" in text
    assert len(bench.best_folders()) == 2


def test_stopping_a_sweep_keeps_what_finished_and_says_so(runs_dir):
    bench = Workbench((COUNTER,), "en")
    bench.form().set("epochs", "2,9000,10000")
    bench.form().set("sleep", "0.005")
    bench.start()
    deadline = time.monotonic() + 30
    while bench.sweep_step() != (2, 3) or bench.active.epoch < 2:
        bench.poll()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert bench.stop()
    ended = wait_for_sweep(bench)
    assert [t.status for t in ended] == ["stopped"] and len(bench.sweep_of().traces) == 2
    assert bench.log[-1].text == "sweep stopped after 2 of 3 runs (1 finished); Results lists them; best epochs=2 (★ in Runs)"
    assert [p.status for p in bench.past_runs()] == ["stopped", "finished"]
    rows = bench.sweep_of().rows()
    assert [(row.varied, row.status) for row in rows] == [((("epochs", 2),), "finished"), ((("epochs", 9000),), "stopped")]


def test_a_sweeps_chart_names_each_point_once_and_colours_its_seeds_alike(runs_dir):
    from labapp.traces import plan_sweep

    bench = Workbench((COUNTER,), "en")
    bench.form().set("epochs", "2,3,4")
    bench.form().set("seed", "0,1")
    bench.start()
    wait_for_sweep(bench)
    sweep = bench.sweep_of()
    assert sweep.points() == ("epochs=2", "epochs=2", "epochs=3", "epochs=3", "epochs=4", "epochs=4")
    plan = plan_sweep(COUNTER.charts[0], sweep.traces, sweep.points(), "en", 60, 12)
    assert [line.label for line in plan.lines] == ["epochs=2", "", "epochs=3", "", "epochs=4", ""]
    colors = [line.color for line in plan.lines]
    assert colors[0] == colors[1] != colors[2] == colors[3] != colors[4] == colors[5]
    assert [len(line.xs) for line in plan.lines] == [2, 2, 3, 3, 4, 4] and not any(line.faint for line in plan.lines)


def test_step_mode_is_refused_for_a_sweep_with_the_reason(runs_dir):
    bench = Workbench((lessons.get("gradient-descent"),), "en")
    bench.form().set("lr", "0.001, 0.01")
    with pytest.raises(ParamError, match="step mode steps through one run: give one value, not a list, in the form"):
        bench.step()
    assert bench.active is None and bench.sweep is None


# -- what the workbench says and offers (decisions of the controller, checked without Textual) ----------

def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def ends_logged(bench: Workbench, word: str) -> list[str]:
    return [message.text for message in bench.log if word in message.text]


def test_a_run_made_in_step_mode_is_logged_once_when_it_ends(runs_dir):
    bench = Workbench((lessons.get("gradient-descent"),), "en")
    for number in (1, 2, 3):
        bench.step()
        wait_until(lambda: bench.run.gate.held and bench.active.epoch == number)
    assert bench.run_on()
    ended = None
    while ended is None:
        ended = bench.poll()
    trace = ended.trace
    assert trace.status == "finished" and trace.epoch == 100
    assert ended.said == f"finished 100 epochs · {trace.run_dir}"
    assert ends_logged(bench, "finished") == [ended.said], "one line per end, not the runner's and the status line's"


def test_a_stopped_step_run_logs_the_runners_words_whole_and_shows_the_short_line(runs_dir):
    bench = Workbench((lessons.get("gradient-descent"),), "zh")
    bench.step()
    wait_until(lambda: bench.run.gate.held)
    bench.stop()
    wait_until(lambda: bench.run.join(0))
    ended = bench.poll()
    assert ended.said == f"在第 1 轮停止 · {ended.trace.run_dir}"  # the status line: all Chinese but the path
    [line] = [message.text for message in bench.log if "停止" in message.text]
    assert line == f"在第 1 轮停止 — 在第 1 轮停止（单步模式，第 1 次更新之后） · {ended.trace.run_dir}"  # the runner's words, in zh
    assert ended.trace.message == "stopped at epoch 1 in step mode, after update 1"  # as the records keep them


def test_every_end_of_a_sweep_is_logged_the_last_too_then_the_sweep(runs_dir):
    bench = Workbench((COUNTER,), "en")
    bench.form().set("epochs", "2, 3")
    first = bench.start()
    said = []
    while bench.sweep is not None or bench.active is not None:
        ended = bench.poll()
        if ended is not None:
            said.append(ended.said)
        time.sleep(0.01)
    second = bench.sweep_of().traces[1]
    assert said == [f"sweep 1/2 epochs=2: finished 2 epochs · {first.run_dir}", "sweep done: 2 runs; best epochs=3 (★ in Runs)"]
    assert [message.text for message in bench.log] == [
        "sweep of counter: epochs 2, 3; seed 0: 2 runs", said[0], f"sweep 2/2 epochs=3: finished 3 epochs · {second.run_dir}", said[1]]


def test_resume_speaks_the_workbenchs_words_never_the_cli_flags(runs_dir):
    import dataclasses

    keeping = dataclasses.replace(COUNTER, id="keeping", checkpoints=True)  # keeps them, yet saves none
    for lang, no_checkpoints in (("en", "gradient-descent keeps no checkpoints, so its runs cannot be resumed; "
                                        "lessons that can: keeping"),
                                 ("zh", "gradient-descent 不保存检查点，所以它的运行不能继续；能继续的课：keeping")):
        bench = Workbench((lessons.get("gradient-descent"), keeping), lang)
        with pytest.raises(ParamError) as refused:
            bench.resume()
        assert str(refused.value) == no_checkpoints
    bench = Workbench((keeping,), "en", torch_ready=True)
    said = []
    with pytest.raises(ParamError) as refused:
        bench.resume()
    said.append(str(refused.value))
    bench.start()
    wait_until(lambda: bench.poll() is not None)
    [finished] = bench.past_runs()
    with pytest.raises(ParamError) as refused:
        bench.resume()  # the latest run on disk, as `c` with no run highlighted
    said.append(str(refused.value))
    assert said[1] == (f"this run is finished: only a stopped or interrupted run can be resumed ({finished.path}); "
                       "to train for more epochs, raise epochs in the form and run again (r)")
    bench.form().set("epochs", "10000")
    bench.form().set("sleep", "0.005")
    bench.start()
    bench.stop()
    wait_until(lambda: bench.poll() is not None)
    stopped = bench.past_runs()[0]
    assert stopped.status == "stopped"
    bench.lang = "zh"
    with pytest.raises(ParamError) as refused:
        bench.resume(stopped)
    said.append(str(refused.value))
    assert said[2] == f"这次运行没有留下检查点，不能继续（{stopped.path}）；工作台为这些课保存检查点：keeping"
    assert said[0] == "this lesson has no run to resume"
    assert not any("--" in text or "labapp run" in text for text in said)


def test_what_is_allowed_and_offered_follows_the_run_and_the_lesson(runs_dir):
    bench = Workbench((COUNTER, lessons.get("gradient-descent")), "en")
    assert [bench.allows(a) for a in ("run", "step", "stop", "resume")] == [True, True, False, True]
    assert [bench.offers(a) for a in ("run", "step", "stop", "screen.zoom")] == [True, False, False, True]
    bench.form().set("epochs", "0")
    assert not bench.allows("run") and not bench.allows("step"), "an invalid form: Run and Step are not heard"
    bench.form().set("epochs", "10000")
    bench.form().set("sleep", "0.005")
    bench.start()
    assert bench.allows("run") and not bench.offers("run"), "Run is heard (to say the run must stop first), not offered"
    assert bench.offers("stop") and not bench.allows("resume")
    bench.open("gradient-descent")
    assert bench.offers("step") and bench.allows("step")
    bench.shutdown()
    wait_until(lambda: bench.poll() is not None)
    assert bench.offers("run") and not bench.offers("stop")


def test_a_sweep_in_chinese_is_logged_in_chinese(runs_dir):
    bench = Workbench((COUNTER,), "zh")
    bench.form().set("epochs", "2, 3")
    bench.start()
    wait_until(lambda: bench.poll() is not None and bench.sweep is None)
    assert bench.log[0].text == "扫描 counter：epochs 2, 3；种子 0：共 2 次运行"
    assert bench.log[-1].text == "扫描完成：2 次运行；最好的是 epochs=3（历史页标 ★）"

"""The thread policy (labapp/threads.py), on faked machines: affinity sets, cgroup v1 and v2 quota files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labapp.threads import Machine, choose_threads, cpu_ranges, read_machine, wait_quietly


def machine(cpus: int, quota: float | None = None) -> Machine:
    return Machine(cpus=frozenset(range(cpus)), quota=quota, quota_from="cgroup v2" if quota else "")


def both(m: Machine, **options) -> tuple[int, int]:
    """(headless, workbench) thread counts on `m`."""
    return (choose_threads(m, interactive=False, **options).threads,
            choose_threads(m, interactive=True, **options).threads)


def test_sixteen_usable_cpus_give_sixteen_headless_and_fifteen_in_the_workbench():
    assert both(machine(16)) == (16, 15)


def test_an_affinity_of_two_cpus_gives_two_and_one():
    assert both(Machine(cpus=frozenset({0, 1}))) == (2, 1)
    assert choose_threads(Machine(cpus=frozenset({0, 1})), interactive=False).why == \
        "2 usable CPUs (affinity 0-1, no quota); headless uses all"


def test_a_quota_of_four_cpus_on_a_64_cpu_box_gives_four_and_three():
    m = machine(64, quota=4.0)
    assert m.usable == 4
    assert both(m) == (4, 3)
    assert "affinity 0-63, cgroup v2 quota 4 CPUs" in choose_threads(m, interactive=True).why


def test_one_cpu_leaves_the_workbench_one_thread_all_the_same():
    assert both(machine(1)) == (1, 1)


def test_a_fractional_quota_rounds_down_and_never_below_one():
    assert machine(8, quota=1.5).usable == 1
    assert machine(8, quota=2.99).usable == 2
    assert machine(8, quota=0.25).usable == 1


def test_threads_asked_for_are_capped_at_the_usable_cpus_with_a_note():
    choice = choose_threads(machine(2), interactive=False, requested=1000)
    assert choice.threads == 2
    assert choice.note == ("threads: 1000 asked for, but this process has 2 usable CPUs (affinity 0-1, no quota): "
                           "using 2")
    assert choice.why.startswith("1000 asked for, capped at 2 usable CPUs")


def test_threads_asked_for_within_the_usable_cpus_are_used_as_asked_even_in_the_workbench():
    choice = choose_threads(machine(16), interactive=True, requested=16, lesson_limit=1)
    assert (choice.threads, choice.note) == (16, None)


def test_a_lessons_threads_is_an_upper_bound_not_the_choice():
    assert both(machine(16), lesson_limit=4) == (4, 4)
    assert both(machine(2), lesson_limit=4) == (2, 1)
    assert choose_threads(machine(16), interactive=False, lesson_limit=4).why.endswith("at most 4: 4")


def test_cpu_ranges_are_written_as_taskset_writes_them():
    assert cpu_ranges({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert cpu_ranges(set()) == "none"


# -- reading the machine: faked /proc/self and cgroup folders -------------------------------------

def fake_proc(tmp_path: Path, cgroup: str, mountinfo: str) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text(cgroup)
    (proc / "mountinfo").write_text(mountinfo.replace("$ROOT", str(tmp_path)))
    return proc


def write(folder: Path, **files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_dot_", ".")).write_text(text + "\n")


V2_MOUNT = "30 23 0:26 / $ROOT/sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTS = ("31 23 0:28 / $ROOT/sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
             "32 31 0:29 / $ROOT/sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
             "33 31 0:30 / $ROOT/sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n")


def test_cgroup_v2_quota_of_a_container_with_its_own_namespace(tmp_path):
    proc = fake_proc(tmp_path, "0::/\n", V2_MOUNT)
    write(tmp_path / "sys/fs/cgroup", cpu_dot_max="400000 100000")
    m = read_machine(proc, affinity=lambda: range(64))
    assert (m.quota, m.quota_from, m.usable) == (4.0, "cgroup v2", 4)
    assert both(m) == (4, 3)


def test_cgroup_v2_takes_the_smallest_quota_on_the_way_up(tmp_path):
    proc = fake_proc(tmp_path, "0::/kubepods/pod1/box\n", V2_MOUNT)
    write(tmp_path / "sys/fs/cgroup/kubepods/pod1", cpu_dot_max="150000 100000")
    write(tmp_path / "sys/fs/cgroup/kubepods/pod1/box", cpu_dot_max="max 100000")
    m = read_machine(proc, affinity=lambda: range(16))
    assert (m.quota, m.usable) == (1.5, 1)


def test_cgroup_v2_max_is_no_quota(tmp_path):
    proc = fake_proc(tmp_path, "0::/user.slice\n", V2_MOUNT)
    write(tmp_path / "sys/fs/cgroup/user.slice", cpu_dot_max="max 100000")
    m = read_machine(proc, affinity=lambda: {0, 1, 2, 3})
    assert (m.quota, m.quota_from, m.usable) == (None, "", 4)
    assert m.describe() == "4 usable CPUs (affinity 0-3, no quota)"


def test_cgroup_v1_quota_over_period(tmp_path):
    proc = fake_proc(tmp_path, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n", V1_MOUNTS)
    write(tmp_path / "sys/fs/cgroup/cpu,cpuacct/docker/abc",
          cpu_dot_cfs_quota_us="250000", cpu_dot_cfs_period_us="50000")
    m = read_machine(proc, affinity=lambda: range(64))
    assert (m.quota, m.quota_from, m.usable) == (5.0, "cgroup v1", 5)


def test_cgroup_v1_minus_one_is_no_quota(tmp_path):
    proc = fake_proc(tmp_path, "4:cpu,cpuacct:/\n", V1_MOUNTS)
    write(tmp_path / "sys/fs/cgroup/cpu,cpuacct", cpu_dot_cfs_quota_us="-1", cpu_dot_cfs_period_us="100000")
    assert read_machine(proc, affinity=lambda: {0, 1}).usable == 2


def test_cgroup_v1_inside_a_container_whose_mount_root_is_its_own_cgroup(tmp_path):
    mounts = "40 31 0:29 /docker/abc $ROOT/sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
    proc = fake_proc(tmp_path, "3:cpu:/docker/abc\n", mounts)
    write(tmp_path / "sys/fs/cgroup/cpu", cpu_dot_cfs_quota_us="200000", cpu_dot_cfs_period_us="100000")
    assert read_machine(proc, affinity=lambda: range(32)).usable == 2


def test_the_affinity_bounds_a_larger_quota(tmp_path):
    proc = fake_proc(tmp_path, "0::/\n", V2_MOUNT)
    write(tmp_path / "sys/fs/cgroup", cpu_dot_max="800000 100000")
    assert read_machine(proc, affinity=lambda: {3, 4}).usable == 2


@pytest.mark.parametrize("cgroup, mountinfo", [("", ""), ("0::/\n", ""), ("garbage\n", "nonsense - x\n")])
def test_no_readable_cgroup_means_no_quota(tmp_path, cgroup, mountinfo):
    proc = fake_proc(tmp_path, cgroup, mountinfo)
    assert read_machine(proc, affinity=lambda: {0, 1, 2}).usable == 3


def test_no_proc_at_all_means_no_quota(tmp_path):
    assert read_machine(tmp_path / "missing", affinity=lambda: {0}).usable == 1


def test_this_machine_reads_without_error():
    m = read_machine()
    assert 1 <= m.usable <= len(m.cpus)



def test_idle_threads_wait_quietly_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    wait_quietly()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    wait_quietly()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"

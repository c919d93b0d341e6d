"""How many torch threads a run uses: the CPUs this process may really use, read from the machine.

torch's default is one thread per core it sees, which ignores a container's quota (Docker
`--cpus`, Kubernetes limits) and, on some builds, the CPUs a scheduler pinned the process to
(Slurm cpusets, taskset). Too many threads spin and wait on each other; too few leave cores idle.

The usable CPUs are the CPUs of the process's affinity mask, limited by the cgroup's CPU quota
(cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us / cpu.cfs_period_us`, the smallest on the way from the
process's cgroup up to the root). A fractional quota rounds DOWN (1.5 CPUs -> 1, never below 1):
the scheduler throttles a process that runs more threads than its quota allows at once, and a
parallel torch operation then waits for its throttled threads; a spare half CPU is cheaper than
that. `choose_threads` is the policy, the one place that decides; `read_machine` reads its inputs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

PROC_SELF = Path("/proc/self")


@dataclass(frozen=True)
class Machine:
    """What bounds this process's CPUs: the CPUs it may run on, and its cgroup's CPU quota if it has one."""

    cpus: frozenset[int]
    quota: float | None = None  # CPUs' worth of time per period the cgroup allows; None: no quota
    quota_from: str = ""  # where the quota was read, e.g. "cgroup v2 cpu.max"
    affinity_known: bool = True  # False where the system has no affinity (macOS): `cpus` is os.cpu_count()

    @property
    def usable(self) -> int:
        """The CPUs this process can keep busy at once: the affinity's count, capped by the quota rounded down."""
        count = max(1, len(self.cpus))
        if self.quota is None:
            return count
        return max(1, min(count, math.floor(self.quota)))

    def describe(self) -> str:
        """e.g. '2 usable CPUs (affinity 0-1, no quota)'."""
        where = f"affinity {cpu_ranges(self.cpus)}" if self.affinity_known else f"{len(self.cpus)} CPUs seen"
        quota = f"{self.quota_from} quota {self.quota:g} CPUs" if self.quota is not None else "no quota"
        usable = self.usable
        return f"{usable} usable CPU{'' if usable == 1 else 's'} ({where}, {quota})"


@dataclass(frozen=True)
class ThreadChoice:
    """The thread count a run uses, the one-line reason that config.json records, and a note for the user."""

    threads: int
    why: str
    note: str | None = None  # said to the user when the request was not followed as asked


def choose_threads(machine: Machine, *, interactive: bool, requested: int | None = None,
                   lesson_limit: int | None = None) -> ThreadChoice:
    """The policy: headless uses every usable CPU, the workbench leaves one for its UI (at least 1).

    A lesson's own `threads` is an upper bound (a model too small to gain from more), not the choice.
    `requested` (`--threads N`) overrides both, but is capped at the usable CPUs, with a note.
    """
    usable = machine.usable
    if requested is not None:
        if requested <= usable:
            return ThreadChoice(requested, f"{requested} asked for; {machine.describe()}")
        return ThreadChoice(usable, f"{requested} asked for, capped at {machine.describe()}",
                            note=f"threads: {requested} asked for, but this process has {machine.describe()}: "
                                 f"using {usable}")
    if interactive:
        threads = max(1, usable - 1)
        why = f"{machine.describe()}; the workbench leaves one for the UI"
    else:
        threads = usable
        why = f"{machine.describe()}; headless uses all"
    if lesson_limit is not None and lesson_limit < threads:
        threads = lesson_limit
        why += f"; the lesson runs best on at most {lesson_limit}"
    return ThreadChoice(threads, f"{why}: {threads}" if threads != usable else why)


def wait_quietly() -> None:
    """Before torch loads: OpenMP's idle threads sleep instead of spinning, unless the user set OMP_WAIT_POLICY.

    torch's OpenMP pool spins between parallel regions; on cores that other programs share, a
    spinning thread takes the time a working one needs. Measured on this project's 2-core machine
    under load, 10 epochs of dataset-dataloader on two threads took 47-58 s spinning and 2.0-3.1 s
    sleeping (4.2-4.8 s on one thread). OpenMP reads the variable once, when torch loads it.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def read_machine(proc: Path = PROC_SELF,
                 affinity: Callable[[], Iterable[int]] | None = None) -> Machine:
    """This process's affinity and cgroup CPU quota (`proc` and `affinity` are there for tests)."""
    if affinity is not None:
        cpus, known = frozenset(affinity()), True
    elif hasattr(os, "sched_getaffinity"):
        cpus, known = frozenset(os.sched_getaffinity(0)), True
    else:
        cpus, known = frozenset(range(os.cpu_count() or 1)), False
    quota, source = cgroup_quota(proc)
    return Machine(cpus=cpus, quota=quota, quota_from=source, affinity_known=known)


def cgroup_quota(proc: Path = PROC_SELF) -> tuple[float | None, str]:
    """(CPUs, source) of the smallest CPU quota between this process's cgroup and the root; (None, '') if none.

    The cgroup comes from `proc`/cgroup, its folder from `proc`/mountinfo. A cgroup v1 cpu controller
    wins over v2 where both are mounted (a hybrid system), as the kernel applies that one.
    """
    try:
        memberships = _read(proc / "cgroup").splitlines()
        mounts = _cgroup_mounts(_read(proc / "mountinfo"))
    except OSError:
        return None, ""
    v1_path = v2_path = None
    for line in memberships:
        number, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if number == "0" and controllers == "":
            v2_path = path
        elif "cpu" in controllers.split(","):
            v1_path = path
    if v1_path is not None and "v1" in mounts:
        root, mount = mounts["v1"]
        quota, source = _smallest(_folders(mount, root, v1_path), _v1_quota), "cgroup v1"
    elif v2_path is not None and "v2" in mounts:
        root, mount = mounts["v2"]
        quota, source = _smallest(_folders(mount, root, v2_path), _v2_quota), "cgroup v2"
    else:
        return None, ""
    return (quota, source) if quota is not None else (None, "")


def cpu_ranges(cpus: Iterable[int]) -> str:
    """CPU numbers as ranges, the way taskset and Slurm write them: {0, 1, 2, 5} -> '0-2,5'."""
    ranges: list[list[int]] = []
    for cpu in sorted(cpus):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges) or "none"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _cgroup_mounts(mountinfo: str) -> dict[str, tuple[str, Path]]:
    """'v1' (the mount holding the cpu controller) and 'v2': (the mount's root inside the hierarchy, mount point)."""
    mounts: dict[str, tuple[str, Path]] = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        dash = fields.index("-")
        if len(fields) < dash + 4 or len(fields) < 5:
            continue
        root, point = _unescape(fields[3]), Path(_unescape(fields[4]))
        kind, options = fields[dash + 1], fields[dash + 3].split(",")
        if kind == "cgroup2":
            mounts.setdefault("v2", (root, point))
        elif kind == "cgroup" and "cpu" in options:
            mounts.setdefault("v1", (root, point))
    return mounts


def _unescape(field: str) -> str:
    """mountinfo writes a space, tab, newline and backslash in a path as octal escapes (\\040)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _folders(mount: Path, root: str, path: str) -> list[Path]:
    """The process's cgroup folder under `mount`, then each parent up to the mount point.

    Inside a container the process's path often equals the mount's root (cgroup namespaces, or
    Docker's bind mount of its own cgroup), so the folder is the mount point itself.
    """
    root, path = root.rstrip("/"), path.rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    folder = mount / path.lstrip("/")
    if not folder.is_dir():
        folder = mount  # the path is not visible from here (a container without a cgroup namespace)
    folders = [folder]
    while folder != mount and mount in folder.parents:
        folder = folder.parent
        folders.append(folder)
    return folders


def _smallest(folders: list[Path], quota: Callable[[Path], float | None]) -> float | None:
    limits = [q for q in (quota(folder) for folder in folders) if q is not None]
    return min(limits) if limits else None


def _v2_quota(folder: Path) -> float | None:
    """cgroup v2 `cpu.max`: 'QUOTA PERIOD' in microseconds, or 'max PERIOD' for no limit."""
    try:
        quota, *period = _read(folder / "cpu.max").split()
        return int(quota) / int(period[0] if period else 100_000) if quota != "max" else None
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _v1_quota(folder: Path) -> float | None:
    """cgroup v1 `cpu.cfs_quota_us` (-1: no limit) over `cpu.cfs_period_us`."""
    try:
        quota = int(_read(folder / "cpu.cfs_quota_us"))
        period = int(_read(folder / "cpu.cfs_period_us"))
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None

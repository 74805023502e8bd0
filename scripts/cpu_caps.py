"""Cap a process's CPU time with a Linux cgroup (v1 ``cpu`` controller or v2 ``cpu.max``).

``make faults ARGS=--rasa-cores 0.5`` uses it to give each Rasa replica a fixed share of the
machine, as a replica on its own node or with a Kubernetes CPU limit has: on a 2-core machine
shared by the whole cluster, the replicas otherwise compete with the gateways and the load
client for the same cores, and a second replica cannot add capacity that is not there.
Needs root (writes under /sys/fs/cgroup); every process of a replica's process group is moved.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

PERIOD_US = 100_000
ROOT = Path("/sys/fs/cgroup")


def group_pids(pgid: int) -> list[int]:
    """Every process whose process group is ``pgid`` (a replica and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[2]) == pgid:
                    found.append(int(entry.name))
    return found


def _controller() -> tuple[Path, bool]:
    """The folder new cgroups go in, and whether it is cgroup v2."""
    if (ROOT / "cpu" / "cpu.cfs_quota_us").exists():
        return ROOT / "cpu", False
    if (ROOT / "cgroup.controllers").exists():
        return ROOT, True
    raise RuntimeError("no writable cpu cgroup controller under /sys/fs/cgroup")


@contextlib.contextmanager
def capped(groups: dict[str, int], cores: float) -> Iterator[dict[str, list[int]]]:
    """Put each named process group (name -> pgid) in its own cgroup limited to ``cores`` CPUs
    for the duration; the processes go back to the root group afterwards."""
    base, v2 = _controller()
    made: dict[str, Path] = {}
    moved: dict[str, list[int]] = {}
    quota = max(1000, int(cores * PERIOD_US))
    try:
        for name, pgid in groups.items():
            path = base / f"karlstad-cap-{name}-{os.getpid()}"
            path.mkdir(exist_ok=True)
            made[name] = path
            if v2:
                (path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            else:
                (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (path / "cpu.cfs_quota_us").write_text(str(quota))
            moved[name] = []
            for pid in group_pids(pgid):
                with contextlib.suppress(OSError):  # a process that ended meanwhile
                    (path / "cgroup.procs").write_text(str(pid))
                    moved[name].append(pid)
        yield moved
    finally:
        for name, path in made.items():
            for pid in moved.get(name, []):
                with contextlib.suppress(OSError):
                    (base / "cgroup.procs").write_text(str(pid))
            with contextlib.suppress(OSError):
                path.rmdir()

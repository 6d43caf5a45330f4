"""How many threads and processes this machine lets a run start, checked before it starts.

A run that asks for more than the machine allows does not fail halfway through forking (or
take the machine down with it): it is refused with the reason and a way out. The ceilings
come from the machine, read when a run is checked:

- the kernel's ``pid_max`` and ``threads-max`` (every thread takes a pid), less what runs now;
- the pids cgroup's ``pids.max`` less its ``pids.current`` (cgroup v2, or v1's ``pids``);
- ``RLIMIT_NPROC``, which counts the user's threads (not binding for root);
- ``RLIMIT_NOFILE``: the runner holds about two descriptors per worker process (it raises
  its soft limit to the hard one first, so the hard limit is what counts);
- available memory, at a modest cost per process and per thread.

``PID_RESERVE`` pids are always left for the rest of the machine.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..engine import registry
from .config import ConfigError, RunConfig
from .procfs import pid_counters

try:
    import resource
except ImportError:  # not on Windows
    resource = None

PID_RESERVE = 256  # never take the last pids of the machine or the cgroup
FDS_PER_PROCESS = 2  # the runner's end of each worker's pipes (measured: 2)
FDS_BASE = 16  # the runner's own descriptors and the pool's queues (measured: ~6)
MEMORY_PER_PROCESS = 3 << 20  # a forked worker's own pages (copy-on-write keeps it small)
MEMORY_PER_THREAD = 128 << 10  # the touched part of a thread's stack and its state


@dataclass(frozen=True)
class Ceiling:
    """The most threads or processes a run may start, and which limit sets it."""

    count: int
    why: str  # e.g. "kernel.pid_max 32,768"


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _threads_now() -> int:
    """Threads on the whole machine now (0 when it cannot be told)."""
    counters = pid_counters()
    return counters[0] if counters is not None else 0


def _pids_cgroup() -> str | None:
    """The directory of this process's pids cgroup, v2 or v1, if there is one."""
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        hid, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "pids":
            return os.path.join("/sys/fs/cgroup/pids", path.lstrip("/"))
        if hid == "0" and controllers == "":
            candidate = os.path.join("/sys/fs/cgroup", path.lstrip("/"))
            if os.path.exists(os.path.join(candidate, "pids.max")):
                return candidate
    return None


def _memory_available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def ceilings(unit: str) -> list[Ceiling]:
    """Every limit on how many more threads (``unit`` "thread") or worker processes
    (``"process"``) a run may start on this machine now."""
    out = []
    used = _threads_now()
    for name in ("pid_max", "threads-max"):
        value = _read_int(f"/proc/sys/kernel/{name}")
        if value:
            out.append(Ceiling(value - used - PID_RESERVE, f"kernel.{name} {value:,}, "
                                                           f"{used:,} in use"))
    group = _pids_cgroup()
    if group:
        most = _read_int(os.path.join(group, "pids.max"))  # "max" reads as None
        current = _read_int(os.path.join(group, "pids.current")) or 0
        if most:
            out.append(Ceiling(most - current - min(PID_RESERVE, most // 8),
                               f"the cgroup's pids.max {most:,}, {current:,} in use"))
    if resource is not None and os.geteuid() != 0:
        soft = resource.getrlimit(resource.RLIMIT_NPROC)[0]
        if soft != resource.RLIM_INFINITY:
            out.append(Ceiling(soft - min(PID_RESERVE, soft // 8),
                               f"ulimit -u (RLIMIT_NPROC) {soft:,}"))
    if resource is not None and unit == "process":
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY:
            out.append(Ceiling((hard - FDS_BASE) // FDS_PER_PROCESS,
                               f"ulimit -n (RLIMIT_NOFILE) {hard:,}, "
                               f"{FDS_PER_PROCESS} open files per worker process"))
    memory = _memory_available()
    if memory:
        each = MEMORY_PER_PROCESS if unit == "process" else MEMORY_PER_THREAD
        out.append(Ceiling(memory // each, f"{memory / (1 << 30):.1f} GiB of memory available"))
    return out


def concurrency(config: RunConfig, cpus: int) -> tuple[str, int]:
    """What a run starts at once: ("process" or "thread", how many)."""
    info = registry.mode(config.mode)
    workers = info.workers_for(config.tasks, config.workers, cpus)
    if info.pooled:
        workers = min(workers, config.tasks)  # a pool never starts more than it has tasks
    return ("process" if info.in_processes else "thread"), workers


def check_limits(config: RunConfig, cpus: int) -> None:
    """Refuse (ConfigError) a run that would start more threads or processes than this
    machine allows, with the limit and a suggestion. Returns None when it fits."""
    unit, count = concurrency(config, cpus)
    if count <= 1:
        return
    for ceiling in ceilings(unit):
        if count > ceiling.count:
            pooled = registry.mode(config.mode).pooled
            field = "workers" if pooled else "tasks"
            allowed = max(0, ceiling.count)
            if unit == "process":
                hint = ("use fewer --workers" if pooled
                        else "use process-pool, which runs the tasks on a few processes")
            else:
                hint = "use fewer --workers" if pooled else "use thread-pool or asyncio"
            noun = unit + ("es" if unit.endswith("s") else "s")
            raise ConfigError(field, f"{config.mode} would start {count:,} {noun} at once; "
                                     f"this machine allows {allowed:,} ({ceiling.why}): {hint}")

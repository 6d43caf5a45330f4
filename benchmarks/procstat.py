"""Per-thread time from /proc, for the benchmarks that read it themselves."""
from __future__ import annotations

import os


def thread_schedstat(pid: int) -> dict[int, tuple[float, float]]:
    """Seconds on a CPU and seconds waiting for one, per thread of ``pid`` (from each
    thread's schedstat: nanoseconds, exact, where utime and stime are sampled at the
    kernel's tick). Empty when the process is gone."""
    out: dict[int, tuple[float, float]] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait = f.read().split()[:2]
            out[int(tid)] = (int(run) / 1e9, int(wait) / 1e9)
        except (OSError, ValueError):
            pass
    return out

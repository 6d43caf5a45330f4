"""The verdict: a plain reading of how many cores a run kept busy, as data.

``kind`` is for code (the screen picks a style by it, the JSON carries it); ``label`` is the
short word and ``text`` the sentence with its figures. When the run's thread time was
measured (``threadwatch.Breakdown``) it reads that: what the threads or processes that ran
the tasks were doing; else the measured parallelism and what the registry says of the mode
and workload. Never their names. A run on a cluster also says where it ran, from what the
cluster said of itself: ``parallel across 2 workers × 1 thread: 1.9 of 2 cores``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..engine.registry import mode as mode_info
from ..engine.registry import workload as workload_info

#: kind -> label. The kinds a verdict can have.
KINDS = {
    "parallel": "parallel",
    "parallel-no-gil": "parallel threads, no GIL",
    "gil-bound": "GIL-bound",
    "one-at-a-time": "one at a time",
    "about-one-core": "about one core",
    "one-core": "one core",
    "io-wait": "waiting on I/O",
    "idle": "mostly idle",
    "lock-bound": "waiting on a lock",
    "core-wait": "waiting for a core",
}


@dataclass(frozen=True)
class Verdict:
    kind: str
    parallelism: float
    cores: int
    #: What the thread time says, when it was measured: "79 of 80 threads waiting on the GIL".
    detail: str = ""
    #: Where the run went, when on a cluster: "2 workers × 1 thread".
    where: str = ""

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def text(self) -> str:
        """``GIL-bound: 1.00 of 2 cores``, or with a measured breakdown
        ``GIL-bound: 79 of 80 threads waiting on the GIL · 1.0 of 2 cores``; on a cluster
        ``parallel across 2 workers × 1 thread: 1.9 of 2 cores``."""
        if self.where:
            head = f"{self.label} across {self.where}"
            if self.detail:
                return f"{head}: {self.detail} · {self.parallelism:.1f} of {self.cores} cores"
            return f"{head}: {self.parallelism:.1f} of {self.cores} cores"
        if self.detail:
            return f"{self.label}: {self.detail} · {self.parallelism:.1f} of {self.cores} cores"
        return f"{self.label}: {self.parallelism:.2f} of {self.cores} cores"

    def as_json(self) -> dict:
        out = {"kind": self.kind, "text": self.text}
        if self.where:
            out["where"] = self.where
        return out


def verdict_for(parallelism: float, cores: int, workload: str, mode: str,
                gil_enabled: bool | None = True, breakdown=None, where: str = "") -> Verdict:
    """Read effective parallelism against the cores there are.

    Under half a core busy, the run waited (on its sleeps, or it was idle); well over one
    core, it ran in parallel ("parallel threads, no GIL" when tasks that would share one GIL
    ran on a build with the GIL off: the free-threaded lesson). About one core is
    "GIL-bound" only for tasks sharing a GIL that is on: one at a time is what sequential
    and asyncio are, and processes, subinterpreters (each has its own GIL) or threads
    without a GIL held to one core are held by something else, such as a busy machine or a
    short run.

    ``breakdown`` (a ``threadwatch.Breakdown`` that is available): see ``verdict_measured``.
    ``where``: the cluster the run went on, in words (``ClusterState.where``), if any.
    """
    if (breakdown is not None and breakdown.available and breakdown.worker_count > 0
            and breakdown.workers.total_s > 0):
        v = verdict_measured(parallelism, cores, breakdown, gil_enabled)
        return replace(v, where=where) if where else v
    m, w = mode_info(mode), workload_info(workload)
    if parallelism < 0.5:
        kind = "idle" if w.cpu_bound else "io-wait"
    elif parallelism > 1.15:
        kind = "parallel-no-gil" if m.shares_gil and gil_enabled is False else "parallel"
    elif cores <= 1:
        kind = "one-core"
    elif m.one_at_a_time:
        kind = "one-at-a-time"
    elif not m.shares_gil or gil_enabled is False:
        kind = "about-one-core"
    else:
        kind = "gil-bound"
    return Verdict(kind, parallelism, cores, where=where)


#: A state must hold at least this share of the workers' time to be named as the reason.
_REASON_SHARE = 0.25


def verdict_measured(parallelism: float, cores: int, b, gil_enabled: bool | None) -> Verdict:
    """The verdict from where the workers' time went (``b``: a ``threadwatch.Breakdown``).

    Cores busy first: a run that keeps half a core or more busy is never "waiting on I/O",
    whatever its threads do besides. Then the state its workers spent the most time in,
    off a CPU, names the reason, with how many of them were in it on average."""
    shares = b.shares()
    n, units = b.worker_count, b.units()

    def of(state: str) -> str:
        return f"{b.count(state)} of {n} {units}"

    waits = {s: shares[s] for s in ("core_wait", "lock_wait", "io_wait")}
    if not b.lock_split:
        waits.pop("lock_wait")
    top = max(waits, key=waits.get)
    lock_word = "the GIL" if gil_enabled else "a lock"
    if parallelism < 0.5:
        if top == "io_wait" or waits[top] < _REASON_SHARE:
            if shares["running"] > waits[top]:
                return Verdict("idle", parallelism, cores, f"{of('running')} running")
            if n == 1 and b.most_at_once > 1:
                detail = f"{b.most_at_once} tasks at once, their thread sleeping"
            else:
                detail = f"{of('io_wait')} sleeping"
            return Verdict("io-wait", parallelism, cores, detail)
        if top == "lock_wait":
            return Verdict("lock-bound", parallelism, cores, f"{of('lock_wait')} waiting")
        return Verdict("core-wait", parallelism, cores, f"{of('core_wait')} waiting")
    if parallelism > 1.15:
        if waits["core_wait"] >= _REASON_SHARE:
            detail = f"{of('core_wait')} waiting for a core"
        else:
            detail = f"{of('running')} running"
        return Verdict("parallel", parallelism, cores, detail)
    if cores <= 1:
        return Verdict("one-core", parallelism, cores, f"{of('running')} running")
    if b.tasks > 1 and b.most_at_once <= 1:
        return Verdict("one-at-a-time", parallelism, cores,
                       f"1 task ran at a time, {b.tasks - 1} waited their turn")
    if top == "lock_wait" and waits[top] >= _REASON_SHARE:
        kind = "gil-bound" if gil_enabled else "lock-bound"
        return Verdict(kind, parallelism, cores, f"{of('lock_wait')} waiting on {lock_word}")
    if top == "core_wait" and waits[top] >= _REASON_SHARE:
        return Verdict("about-one-core", parallelism, cores,
                       f"{of('core_wait')} waiting for a core")
    if top == "io_wait" and waits[top] >= _REASON_SHARE:
        return Verdict("about-one-core", parallelism, cores, f"{of('io_wait')} sleeping")
    return Verdict("about-one-core", parallelism, cores, f"{of('running')} running")

"""A run's thread time: the probe attached to a run, who did what when, and the breakdown.

``threadtime.ThreadTimeProbe`` measures where the time of every thread of the runner's tree
goes. This module is what a run makes of it:

- ``ThreadWatch`` starts the probe when a run starts and stops it when the run ends (the
  controller does both), and keeps, in the probe's own thread, a ``History``: the seconds
  each thread spent in each state, on a grid of time bins shared by all threads, bounded
  (when a run outgrows the grid, neighbouring bins merge). The timeline draws it.
- ``breakdown`` reads a snapshot against the run's state (``RunState``): the time of all
  the run's threads, and of its *workers* (the threads or processes that ran tasks), over
  the run or over the last interval. The verdict, the JSON, the summary and the screen read
  a ``Breakdown``; none of them reads a mode's name.
- ``task_times``: the figures of each task that owned its thread or process.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from .runstate import RunState
from .threadtime import OFF_CPU, STATES, ZERO, Snapshot, ThreadTimeProbe, Times

#: The order of the four states everywhere a list of them is kept.
STATE_ORDER = STATES  # running, core_wait, lock_wait, io_wait
#: What the screen and the summary call each state (``lock_wait`` under a GIL build).
STATE_WORDS = {"running": "running", "core_wait": "waiting for a core",
               "lock_wait": "waiting on a lock", "io_wait": "sleeping or I/O",
               OFF_CPU: "off CPU"}
SHORT_WORDS = {"running": "running", "core_wait": "core wait", "lock_wait": "lock wait",
               "io_wait": "sleep/io", OFF_CPU: "off CPU"}


def state_word(state: str, gil: bool | None, short: bool = False) -> str:
    """``lock_wait`` is "waiting on the GIL" under a GIL build: there it almost always is."""
    if state == "lock_wait" and gil:
        return "GIL wait" if short else "waiting on the GIL"
    return (SHORT_WORDS if short else STATE_WORDS).get(state, state)


class History:
    """Seconds per state of each thread over time, on bins shared by every thread.

    Time is the probe's (seconds since it started). At most ``max_bins`` bins: when the run
    outgrows them, pairs of bins merge and a bin covers twice the time, so memory stays
    bounded however long the run, and a thread only holds the bins it was measured in."""

    def __init__(self, bin_s: float = 0.5, max_bins: int = 240) -> None:
        self.bin_s = float(bin_s)
        self.max_bins = int(max_bins)
        self.lanes: dict[tuple[int, int], dict[int, list[float]]] = {}
        self.end_s = 0.0  # the latest time measured

    def add(self, key: tuple[int, int], t0: float, t1: float,
            vals: tuple[float, float, float, float]) -> None:
        """Spread ``vals`` (seconds per state) over [t0, t1), in proportion to overlap.
        (Spelt out for speed: it runs for every thread twice a second.)"""
        t0, t1 = max(0.0, t0), max(0.0, t1)
        if t1 <= t0:
            t0 = max(0.0, t1 - 1e-9)
        if t1 > self.end_s:
            self.end_s = t1
        while int(t1 / self.bin_s) >= self.max_bins:
            self._merge()
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = {}
        span = t1 - t0
        v0, v1, v2, v3 = vals
        b = self.bin_s
        i = int(t0 / b)
        while i * b < t1:
            lo, hi = max(t0, i * b), min(t1, (i + 1) * b)
            k = (hi - lo) / span if span > 0 else 1.0
            if k > 0:
                cell = lane.get(i)
                if cell is None:
                    lane[i] = [v0 * k, v1 * k, v2 * k, v3 * k]
                else:
                    cell[0] += v0 * k
                    cell[1] += v1 * k
                    cell[2] += v2 * k
                    cell[3] += v3 * k
            i += 1

    def _merge(self) -> None:
        self.bin_s *= 2
        for key, lane in self.lanes.items():
            merged: dict[int, list[float]] = {}
            for i, cell in lane.items():
                into = merged.get(i // 2)
                if into is None:
                    merged[i // 2] = list(cell)
                else:
                    for s in range(4):
                        into[s] += cell[s]
            self.lanes[key] = merged

    def sums(self, key: tuple[int, int], t0: float, t1: float) -> list[float] | None:
        """Seconds per state of one thread over [t0, t1) (None when never measured)."""
        lane = self.lanes.get(key)
        if not lane:
            return None
        b = self.bin_s
        out = [0.0, 0.0, 0.0, 0.0]
        found = False
        for i in range(max(0, int(t0 / b)), int(t1 / b) + 1):
            cell = lane.get(i)
            if cell is None:
                continue
            lo, hi = max(t0, i * b), min(t1, (i + 1) * b)
            k = (hi - lo) / b if hi > lo else (1.0 if t0 == t1 else 0.0)
            if k <= 0:
                continue
            found = True
            for s in range(4):
                out[s] += cell[s] * k
        return out if found else None


class ThreadWatch:
    """The probe on one run's process tree, and the history it leaves.

    ``start`` and ``stop`` bracket the run; between them the probe's thread reads /proc and
    adds each snapshot to the history (``ingest``, which tests call with scripted snapshots).
    ``offset_s`` turns the probe's time into the run's (seconds since the run's ``t0``)."""

    def __init__(self, root_pid: int | None, *,
                 probe_factory: Callable[..., ThreadTimeProbe] = ThreadTimeProbe,
                 history: History | None = None) -> None:
        self.root_pid = root_pid
        self.history = history or History()
        self.snapshot: Snapshot = Snapshot(available=False, reason="not started")
        self.final = False  # stopped: the snapshot is the run's last word
        self.lock = threading.Lock()  # the history, against readers in other threads
        self._prev: dict[tuple[int, int], tuple[object, tuple, float]] = {}
        self._seq = 0  # the probe's number of the last snapshot ingested
        self._t0_mono: float | None = None
        self._run_t0: float | None = None
        self.probe = (probe_factory(root_pid, on_publish=self.ingest)
                      if root_pid is not None else None)

    def start(self) -> "ThreadWatch":
        if self.probe is not None:
            self._t0_mono = time.monotonic()
            self.probe.start()
            self.snapshot = self.probe.snapshot()
        return self

    def stop(self, tree_cpu_s: float | None = None) -> Snapshot:
        """Stop the probe (its last reading covers the run's tail); idempotent.
        ``tree_cpu_s``: see ``ThreadTimeProbe.stop``."""
        if self.probe is not None and not self.final:
            snap = self.probe.stop(tree_cpu_s)
            with self.lock:
                self.snapshot = snap
        self.final = True
        return self.snapshot

    def set_run_t0(self, t0: float | None) -> None:
        """The run's start on the monotonic clock (``RunStarted.t0``)."""
        self._run_t0 = t0

    @property
    def offset_s(self) -> float:
        """Run time = probe time + this."""
        if self._t0_mono is None or self._run_t0 is None:
            return 0.0
        return self._t0_mono - self._run_t0

    def ingest(self, snap: Snapshot) -> None:
        """Add what each thread did since its last reading to the history."""
        split = snap.lock_split
        with self.lock:
            prev = self._prev
            # Right after the snapshot before it, only the threads whose figures changed
            # need looking at (with a thousand threads, a pass over all of them was a
            # tenth of the probe's cost at each interval).
            fresh = snap._fresh if snap._after and snap._after == self._seq else None
            self._seq = snap._seq
            for th in (snap.threads if fresh is None else fresh):
                key = (th.pid, th.tid)
                old = prev.get(key)
                if old is not None and old[0] is th:
                    continue  # not read again since (ended, or outside the window)
                vals = th.total.four(split)
                t1 = th.updated_s
                if old is None:
                    t0 = max(0.0, t1 - th.covered_s)
                    delta = vals
                else:  # (spelt out: this runs for every thread, twice a second)
                    (a, b, c, d), t0 = old[1], old[2]
                    delta = (max(0.0, vals[0] - a), max(0.0, vals[1] - b),
                             max(0.0, vals[2] - c), max(0.0, vals[3] - d))
                if delta[0] or delta[1] or delta[2] or delta[3]:
                    self.history.add(key, t0, t1, delta)
                prev[key] = (th, vals, t1)
            self.snapshot = snap


# -- what a run's threads did -----------------------------------------------------------------

@dataclass(frozen=True)
class Breakdown:
    """Where a run's thread time went: ``total`` over every thread of the run's tree,
    ``workers`` over the threads or processes that ran tasks (each a ``unit``: "thread" or
    "process"). Over the run (``worker_count``: every worker; above the probe's window the
    shares come from those it read), or (``live``) over the last interval (``worker_count``:
    the workers read in it)."""

    available: bool
    reason: str = ""
    notes: tuple[str, ...] = ()
    lock_split: bool = True
    sampled: bool = False
    live: bool = False
    wall_s: float = 0.0
    total: Times = ZERO
    workers: Times = ZERO
    worker_count: int = 0
    unit: str = "thread"
    tasks: int = 0
    most_at_once: int = 0  # most tasks running at the same time
    threads: int = 0  # threads of the tree (seen over the run, or live now)
    probe_cpu_s: float = 0.0

    def shares(self) -> dict[str, float]:
        """Each state's share of the workers' time (of all threads' when no worker)."""
        times = self.workers if self.workers.total_s > 0 else self.total
        shares = times.shares()
        if not self.lock_split:
            shares["io_wait"] = shares[OFF_CPU]
        return shares

    def count(self, state: str) -> int:
        """How many of the workers were in ``state``, on average."""
        n = self.worker_count
        return max(0, min(n, round(n * self.shares()[state])))

    def units(self, n: int | None = None) -> str:
        n = self.worker_count if n is None else n
        return self.unit + ("es" if self.unit == "process" and n != 1 else
                            "s" if n != 1 else "")

    def as_json(self) -> dict:
        if not self.available:
            return {"running_s": None, "core_wait_s": None, "lock_wait_s": None,
                    "io_wait_s": None, "available": False, "reason": self.reason}
        return times_json(self.total, self.lock_split) | {
            "threads": self.threads, "sampled": self.sampled,
            "probe_cpu_s": round(self.probe_cpu_s, 4), "notes": list(self.notes)}

    def line(self, gil: bool | None) -> str:
        """One line: ``thread time: running 1.0 · GIL wait 78.2 · ...`` (seconds)."""
        if not self.available:
            return f"thread time: not measured ({self.reason})"
        if self.unit == "process":
            # Workers in processes share no GIL: the lock waits of the tree are the
            # runner's pool threads and queues waiting, which "GIL wait" would misname.
            gil = False
        t = self.total
        vals = dict(zip(STATE_ORDER, t.four(self.lock_split)))
        total = t.total_s or 1.0
        parts = []
        for s in STATE_ORDER:
            if s == "lock_wait" and not self.lock_split:
                continue
            word = state_word(OFF_CPU if s == "io_wait" and not self.lock_split else s,
                              gil, short=True)
            parts.append(f"{word} {vals[s]:.1f} s ({100 * vals[s] / total:.0f}%)")
        extra = f" · {self.threads} threads" + (" (sampled)" if self.sampled else "")
        return "thread time: " + " · ".join(parts) + extra


def times_json(t: Times, split: bool = True) -> dict:
    run, core, lock, io = t.four(split)
    out = {"running_s": round(run, 4), "core_wait_s": round(core, 4),
           "lock_wait_s": round(lock, 4) if split else None, "io_wait_s": round(io, 4)}
    if not split:
        out["off_cpu_s"] = round(t.off_cpu_s, 4)
    return out


def _sum(times: list[Times]) -> Times:
    """Many ``Times`` added up into one (not a new one per addition: the app sums a
    thousand workers' every second)."""
    run = core = lock = io = off = 0.0
    for t in times:
        run += t.running_s
        core += t.core_wait_s
        lock += t.lock_wait_s
        io += t.io_wait_s
        off += t.off_cpu_s
    return Times(run, core, lock, io, off)


def worker_unit(state: RunState, runner_pid: int | None,
                pids: set[int] | None = None) -> str:
    """"process" when every task ran in a process of its own tree other than the runner.
    (``pids``: the workers' processes, when the caller has them already.)"""
    if pids is None:
        pids = {pid for pid, _ in list(state.workers)}
    if pids and runner_pid is not None and runner_pid not in pids:
        return "process"
    return "thread"


def most_at_once(state: RunState, now: float | None = None) -> int:
    """The most tasks that ran at the same time (so far)."""
    marks = []
    for t in state.tasks:
        if t.start_s is None:
            continue
        end = t.end_s if t.end_s is not None else (now if now is not None else float("inf"))
        marks.append((t.start_s, 1))
        marks.append((end, -1))
    marks.sort(key=lambda m: (m[0], m[1]))  # an end before a start at the same instant
    most = cur = 0
    for _, d in marks:
        cur += d
        most = max(most, cur)
    return most


def breakdown(snap: Snapshot, state: RunState, runner_pid: int | None, *,
              live: bool = False) -> Breakdown:
    """The run's breakdown from a snapshot: over the run, or ``live`` (the last interval)."""
    if not snap.available:
        return Breakdown(False, reason=snap.reason or "not measured", notes=snap.notes)
    keys = list(state.workers)
    pids = {pid for pid, _ in keys}
    unit = worker_unit(state, runner_pid, pids)
    picked: list[Times] = []
    if unit == "process":
        for pid in pids:
            p = snap.process(pid)
            if p is None or (live and not p.alive):
                continue
            picked.append(p.last if live else p.total)
    else:
        for pid, tid in keys:
            th = snap.thread(pid, tid)
            if th is None or (live and (not th.alive or th.updated_s < snap.wall_s - 1e-6)):
                continue
            picked.append(th.last if live else th.total)
    workers, count = _sum(picked), len(picked)
    if live:
        at_once = state.counts.get("running", 0)
    else:
        at_once = most_at_once(state)
        if count:  # every worker of the run, also those the probe's window never read
            count = len(pids) if unit == "process" else len(keys)
    return Breakdown(
        True, notes=snap.notes, lock_split=snap.lock_split, sampled=snap.sampled, live=live,
        wall_s=snap.interval_s if live else snap.wall_s,
        total=snap.last if live else snap.total, workers=workers, worker_count=count,
        unit=unit, tasks=len(state.tasks), most_at_once=at_once,
        threads=snap.threads_live if live else snap.threads_seen,
        probe_cpu_s=snap.probe_cpu_s)


def task_times(snap: Snapshot, state: RunState, runner_pid: int | None) -> dict[int, Times]:
    """Each task that owned its thread or process: its figures over the run. A task owns a
    process when it is the only task that ran in it (and it is not the runner), a thread
    when it is the only task that ran on it."""
    if not snap.available:
        return {}
    per_worker: dict[tuple[int, int], int] = {}
    per_pid: dict[int, int] = {}
    for t in state.tasks:
        if t.pid is None or t.tid is None:
            continue
        per_worker[(t.pid, t.tid)] = per_worker.get((t.pid, t.tid), 0) + 1
        per_pid[t.pid] = per_pid.get(t.pid, 0) + 1
    out: dict[int, Times] = {}
    for t in state.tasks:
        if t.pid is None or t.tid is None or per_worker[(t.pid, t.tid)] != 1:
            continue
        if t.pid != runner_pid and per_pid[t.pid] == 1:
            p = snap.process(t.pid)
            if p is not None:
                out[t.id] = p.total
                continue
        th = snap.thread(t.pid, t.tid)
        if th is not None:
            out[t.id] = th.total
    return out

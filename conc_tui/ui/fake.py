"""Deterministic stand-ins for the monitor, for tests, screenshots and demos.

``FakeSampler`` has the interface of ``monitor.sampler.Sampler`` and ``FakeSession`` the
interface of ``monitor.session.Session``; neither touches the machine. Both run on a counter
or an injected clock, never the wall clock, so the same calls always give the same screen.
"""
from __future__ import annotations

import heapq
import math
import time
from collections import deque
from typing import Callable, Sequence, Union

from ..engine import PROCESS_MODES
from ..monitor.config import RunConfig
from ..monitor.sampler import HISTORY, Sample, ThreadLoad
from ..monitor.session import _EOF, Session

__all__ = ["FakeSampler", "FakeSession", "PATTERNS", "script_for", "FAKE_PYTHON"]

PATTERNS = ("busy", "gil", "idle", "waves")

#: What the fake runner reports as its interpreter (fixed, so screenshots never change).
FAKE_PYTHON = {"executable": "/usr/bin/python3", "version": "3.12.3",
               "implementation": "CPython", "gil_enabled": True}

FAKE_RUNNER_PID = 41000


def _noise(seed: int, k: int, i: int) -> float:
    """A deterministic pseudo-random number in [0, 1) for sample ``k`` of core ``i``."""
    h = (seed * 1_000_003 + k * 7_919 + i * 104_729 + 12_345) & 0xFFFFFFFF
    h = (h ^ (h >> 16)) * 0x45D9F3B & 0xFFFFFFFF
    h = (h ^ (h >> 16)) * 0x45D9F3B & 0xFFFFFFFF
    h ^= h >> 16
    return h / 2**32


class FakeSampler:
    """Per-core load that follows a pattern, sample by sample, like ``Sampler``.

    patterns: ``busy`` (every core ~95%, processes), ``gil`` (one core ~100% that moves
    around, the others ~5%: threads under the GIL), ``idle`` (~3%), ``waves`` (each core
    rises and falls, out of phase). ``prefill`` takes that many samples at once, so a
    screenshot has a full chart immediately. ``interval`` is the seconds between samples
    that ``Sample.t`` and the CPU figures pretend.
    """

    def __init__(self, cores: int, pattern: str = "busy", *, history: int = HISTORY,
                 seed: int = 0, prefill: int = 0, interval: float = 0.5) -> None:
        if pattern not in PATTERNS:
            raise ValueError(f"unknown pattern {pattern!r} (choose from {', '.join(PATTERNS)})")
        self.cpu_count = max(1, int(cores))
        self.logical_cores = self.cpu_count
        self.pattern = pattern
        self.seed = seed
        self.interval = interval
        self.history: list[deque] = [deque(maxlen=history) for _ in range(self.cpu_count)]
        self.parallelism_history: deque = deque(maxlen=history)
        self.pid: int | None = None
        self.count = 0  # samples taken so far
        self._tree_cpu = 0.0
        for _ in range(prefill):
            self.sample()

    def watch(self, pid: int | None) -> None:
        """Follow ``pid`` (only remembered: the figures come from the pattern)."""
        self.pid = pid

    def loads(self, k: int) -> list[float]:
        """Per-core load (%) of sample ``k``: a pure function of pattern, seed and k."""
        n, seed = self.cpu_count, self.seed
        if self.pattern == "busy":
            return [92.0 + 7.0 * _noise(seed, k, i) for i in range(n)]
        if self.pattern == "idle":
            return [1.0 + 4.0 * _noise(seed, k, i) for i in range(n)]
        if self.pattern == "gil":
            hot = self.hot_core(k)
            return [97.0 + 3.0 * _noise(seed, k, i) if i == hot else 2.0 + 6.0 * _noise(seed, k, i)
                    for i in range(n)]
        # waves: each core a slow sine, shifted by its index, with a little noise
        return [max(0.0, min(100.0, 50.0 + 44.0 * math.sin(2 * math.pi * (k / 40 + i / n))
                             + 6.0 * (_noise(seed, k, i) - 0.5)))
                for i in range(n)]

    def hot_core(self, k: int) -> int:
        """The core the GIL-holding thread runs on at sample ``k`` (pattern ``gil``)."""
        return (k // 20 * 7 + self.seed) % self.cpu_count

    def sample(self) -> Sample:
        k = self.count
        self.count += 1
        per_core = self.loads(k)
        for hist, value in zip(self.history, per_core):
            hist.append(value)
        if self.pattern == "gil":
            par = per_core[self.hot_core(k)] / 100.0
            threads = [ThreadLoad(FAKE_RUNNER_PID + 1 + j, 0.0, par / 8) for j in range(8)]
            procs = 1
        elif self.pattern == "idle":
            par, threads, procs = 0.02, [], 1
        else:
            par = sum(per_core) / 100.0
            threads, procs = [], self.cpu_count + 1
        self._tree_cpu += par * self.interval
        for th in threads:
            th.cpu_s = self._tree_cpu / max(1, len(threads))
        s = Sample(t=k * self.interval, per_core=per_core, tree_cpu_s=self._tree_cpu,
                   parallelism_now=par, processes=procs, threads=threads,
                   runner_share=par if procs == 1 else 0.05)
        self.parallelism_history.append(par)
        return s


# -- a fake session -----------------------------------------------------------------------

def _task_seconds(config: RunConfig, cpu_task_s: float | None) -> tuple[float, float]:
    """CPU seconds and sleeping seconds of one task of ``config`` (one core, no contention)."""
    cpu = cpu_task_s if cpu_task_s is not None else 1.6e-6 * config.n * config.n
    if config.workload == "cpu":
        return cpu, 0.0
    if config.workload == "io":
        return 0.0, config.sleep
    return cpu / 2, config.sleep / 2


def _simulate(cpu: Sequence[float], io: Sequence[float], slots: int, cap: float,
              stagger: float) -> list[tuple[float, float, float]]:
    """(start, cpu_end, end) of every task: ``slots`` run at once, and the tasks in their
    CPU phase share ``cap`` cores equally (processor sharing); task i is ready at i*stagger.
    """
    n = len(cpu)
    start = [0.0] * n
    cpu_end = [0.0] * n
    end = [0.0] * n
    now, served = 0.0, 0.0  # served: CPU seconds each CPU-phase task has had since time 0
    nxt = 0  # next task to start
    free = slots
    on_cpu: list[tuple[float, int]] = []  # (served value at which its CPU phase ends, id)
    asleep: list[tuple[float, int]] = []  # (time its sleep ends, id)
    inf = float("inf")
    while nxt < n or on_cpu or asleep:
        rate = min(1.0, cap / len(on_cpu)) if on_cpu else 0.0
        t_cpu = now + (on_cpu[0][0] - served) / rate if on_cpu else inf
        t_io = asleep[0][0] if asleep else inf
        t_new = max(now, nxt * stagger) if nxt < n and free > 0 else inf
        t = min(t_cpu, t_io, t_new)
        served += (t - now) * rate
        now = t
        if t == t_cpu:
            _, i = heapq.heappop(on_cpu)
            cpu_end[i] = now
            heapq.heappush(asleep, (now + io[i], i))
        elif t == t_io:
            _, i = heapq.heappop(asleep)
            end[i] = now
            free += 1
        else:
            i = nxt
            nxt += 1
            free -= 1
            start[i] = now
            if cpu[i] > 0:
                heapq.heappush(on_cpu, (served + cpu[i], i))
            else:
                cpu_end[i] = now
                heapq.heappush(asleep, (now + io[i], i))
    return list(zip(start, cpu_end, end))


def script_for(config: RunConfig, cpu_count: int, workers: int, *, seed: int = 0,
               cpu_task_s: float | None = None, runner_pid: int = FAKE_RUNNER_PID,
               python: dict | None = None) -> list[dict]:
    """The events a run of ``config`` would plausibly emit, each with its time ``t``.

    Threads share one core (the GIL), processes share ``cpu_count`` cores, pools run
    ``workers`` tasks at a time, asyncio runs CPU phases one after another. A task in
    ``config.fail_tasks`` fails halfway. ``cpu_task_s`` is one task's CPU time on a free core
    (default: grows as n², 0.4 s at n=500).
    """
    mode, tasks = config.mode, config.tasks
    c, s = _task_seconds(config, cpu_task_s)
    fail = set(config.fail_tasks)
    cpu = []
    io = []
    for i in range(tasks):
        jitter = 0.94 + 0.12 * _noise(seed, 0, i)
        part = 0.5 if i in fail else 1.0
        cpu.append(c * jitter * part)
        io.append(s * part)
    process = mode in PROCESS_MODES
    if mode == "asyncio":
        spans, t = [], 0.0
        for i in range(tasks):  # CPU work never awaits: each runs to its first sleep
            spans.append((t, t + cpu[i], t + cpu[i] + io[i]))
            t += cpu[i]
    else:
        slots = {"sequential": 1, "threads": tasks, "processes": tasks}.get(mode, workers)
        cap = float(cpu_count) if process else 1.0
        stagger = 0.002 if process else (0.0005 if mode == "threads" else 0.0)
        spans = _simulate(cpu, io, max(1, slots), cap, stagger)

    def ident(i: int) -> tuple[int, int]:
        if mode == "processes":
            pid = runner_pid + 1 + i
            return pid, pid
        if mode == "process-pool":  # the worker that was free first
            pid = runner_pid + 1 + slot_of[i]
            return pid, pid
        if mode == "threads":
            return runner_pid, runner_pid + 1 + i
        if mode == "thread-pool":
            return runner_pid, runner_pid + 1 + slot_of[i]
        return runner_pid, runner_pid  # sequential, asyncio: the main thread

    # Pools: give each task the worker slot that became free first (by the simulation).
    slot_of: dict[int, int] = {}
    if mode in ("thread-pool", "process-pool"):
        free_at = [(0.0, k) for k in range(max(1, workers))]
        for i in sorted(range(tasks), key=lambda i: (spans[i][0], i)):
            _, k = heapq.heappop(free_at)
            slot_of[i] = k
            heapq.heappush(free_at, (spans[i][2], k))

    events: list[dict] = [{
        "kind": "run-started", "t": 0.0, "mode": mode, "workload": config.workload,
        "tasks": tasks, "n": config.n, "sleep": config.sleep, "workers": workers,
        "pid": runner_pid, "python": dict(python or FAKE_PYTHON), "cpu_count": cpu_count,
        "start_method": "fork" if process else None, "nice": config.nice,
    }]
    wall = 0.0
    for i, (t_start, _, t_end) in enumerate(spans):
        pid, tid = ident(i)
        events.append({"kind": "task-started", "id": i, "pid": pid, "tid": tid,
                       "t": round(t_start, 6)})
        done = {"id": i, "pid": pid, "tid": tid, "t": round(t_end, 6),
                "cpu_s": round(cpu[i] + 0.0004, 6)}
        if i in fail:
            done.update(kind="task-failed",
                        error=f"TaskFailure: task {i} failed on purpose (--fail-task)",
                        traceback="Traceback (most recent call last):\n  ...\n"
                                  f"TaskFailure: task {i} failed on purpose (--fail-task)\n")
        else:
            done["kind"] = "task-done"
        events.append(done)
        wall = max(wall, t_end)
    wall += 0.05 if process else 0.01
    status = "failed" if fail else "ok"
    events.sort(key=lambda e: e["t"])  # stable: a task's start stays before its end
    events.append({"kind": "run-finished", "t": round(wall, 6), "status": status,
                   "wall_s": round(wall, 6),
                   "cpu_s": round(sum(cpu) + 0.02 + (0.01 * tasks if process else 0.0), 6)})
    return events


Script = Union[Sequence[dict], Callable[[RunConfig, int, int], Sequence[dict]], None]


class _FakeProc:
    """What Session needs of a Popen: a pid and a return code."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None


class FakeSession(Session):
    """A Session whose runner is a script of events played on a clock.

    ``clock`` is a callable returning seconds (e.g. ``time.monotonic``); without one the clock
    is manual and moves only with ``advance(dt)`` (``events()`` and ``wait()`` move it to the
    next event themselves). ``script`` is a list of event dicts, each with its run time
    ``t`` (run-finished may give ``wall_s`` instead), or a callable
    ``(config, cpu_count, workers) -> events``; by default ``script_for`` with ``seed``.
    Events are applied by Session's own code, so task states behave exactly as in a real run.
    """

    def __init__(self, config: RunConfig, *, cpu_count: int = 2,
                 clock: Callable[[], float] | None = None, script: Script = None,
                 seed: int = 0) -> None:
        super().__init__(config, cpu_count=cpu_count)
        self._clock = clock
        self._offset = 0.0
        self._seed = seed
        self._script_arg = script
        self._script: list[tuple[float, dict]] = []
        self._next = 0  # index of the next scripted event not yet delivered
        self._t0_clock = 0.0
        self._spans: dict[int, list[float | None]] = {}  # id -> [start, end, fraction at end]
        self._fin_t: float | None = None

    # -- the clock ---------------------------------------------------------------------

    def now(self) -> float:
        """The fake clock, in seconds."""
        return (self._clock() if self._clock is not None else 0.0) + self._offset

    def advance(self, dt: float) -> None:
        """Move the clock forward by ``dt`` seconds."""
        if dt < 0:
            raise ValueError("the clock only moves forward")
        self._offset += dt

    def _run_t(self) -> float:
        return self.now() - self._t0_clock

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> "FakeSession":
        if self._proc is not None:
            raise RuntimeError("a session runs once; make a new one")
        script = self._script_arg
        if script is None:
            events = script_for(self.config, self.cpu_count, self.workers, seed=self._seed)
        elif callable(script):
            events = list(script(self.config, self.cpu_count, self.workers))
        else:
            events = [dict(e) for e in script]
        timed = []
        for e in events:
            ev = dict(e)
            t = ev.get("t", ev.get("wall_s", 0.0))
            timed.append((float(t if t is not None else 0.0), ev))
        timed.sort(key=lambda te: te[0])
        self._script = timed
        self._t0_clock = self.now()
        for t, ev in timed:
            if ev.get("kind") == "run-started":
                ev.setdefault("t0", self._t0_clock)
                self.runner_pid = ev.get("pid", self.runner_pid)
        if self.runner_pid is None:
            self.runner_pid = FAKE_RUNNER_PID
        self._proc = _FakeProc(self.runner_pid)
        self._t_start = self._t0_clock
        return self

    def _pump(self) -> None:
        """Queue every scripted event whose time has come (and the end, after run-finished)."""
        if self._proc is None or self._reaped.is_set():
            return
        now = self._run_t()
        while self._next < len(self._script) and self._script[self._next][0] <= now:
            t, ev = self._script[self._next]
            self._next += 1
            self._deliver(t, ev)
            if ev.get("kind") == "run-finished":
                self._end()
                return

    def _deliver(self, t: float, ev: dict) -> None:
        kind = ev.get("kind")
        if kind == "task-started":
            self._spans[int(ev["id"])] = [t, None, None]
        elif kind in ("task-done", "task-failed"):
            span = self._spans.setdefault(int(ev["id"]), [t, None, None])
            span[1] = t
            span[2] = 1.0 if kind == "task-done" else 0.5
        elif kind == "run-finished":
            self._fin_t = t
        self._queue.put(ev)

    def _end(self, returncode: int = 0) -> None:
        self._proc.returncode = self._returncode = returncode
        self._t_end = self._t0_clock + (self._fin_t if self._fin_t is not None else self._run_t())
        self._queue.put(_EOF)
        self._reaped.set()

    def stop(self, timeout: float = 2.0) -> None:
        """End the run now (status ``cancelled``); tasks still going stay ``running``."""
        if self._proc is None or self._reaped.is_set():
            return
        self._stop_requested = True
        self._pump()
        if self._reaped.is_set():  # it had just finished by itself
            return
        t = self._run_t()
        self._deliver(t, {"kind": "run-finished", "status": "cancelled", "wall_s": round(t, 6),
                          "cpu_s": round(self._cpu_so_far(), 6)})
        self._end(130)

    def wait(self, timeout: float | None = None) -> bool:
        """True once the run has ended. A manual clock is moved to the end (or by ``timeout``)."""
        if self._proc is None:
            return False
        if self._clock is None:
            target = self._script[-1][0] if self._script else 0.0
            step = target - self._run_t()
            if timeout is not None:
                step = min(step, timeout)
            if step > 0:
                self.advance(step)
            self._pump()
            return self._reaped.is_set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._reaped.is_set():
            self._pump()
            if self._reaped.is_set() or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(0.01)
        return self._reaped.is_set()

    # -- events and progress -------------------------------------------------------------

    def poll(self) -> list[dict]:
        self._pump()
        return super().poll()

    def events(self, timeout: float | None = None):
        """Yield events until the run has ended; a manual clock jumps to each next event."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            batch = self.poll()
            yield from batch
            if self.done or self._proc is None:
                return
            if not batch:
                if self._clock is None:
                    if self._next < len(self._script):
                        self.advance(max(0.0, self._script[self._next][0] - self._run_t()))
                    continue
                if deadline is not None and time.monotonic() >= deadline:
                    return
                time.sleep(0.01)

    def progress(self) -> list[float]:
        """Per-task fraction done, linear from start to end (a failed task stops at half)."""
        tasks = self.config.tasks
        out = [0.0] * tasks
        if self._proc is None:
            return out
        now = self._fin_t if self._fin_t is not None and self._reaped.is_set() else self._run_t()
        ends = self._task_ends()
        for i, span in self._spans.items():
            if not 0 <= i < tasks:
                continue
            start, end, final = span
            if end is not None:
                out[i] = final
                continue
            planned_end, final_planned = ends.get(i, (None, 1.0))
            if planned_end is None or planned_end <= start:
                continue
            out[i] = max(0.0, min(1.0, (now - start) / (planned_end - start))) * final_planned
        return out

    def _task_ends(self) -> dict[int, tuple[float, float]]:
        """id -> (scripted end time, fraction reached at that end)."""
        cache = getattr(self, "_ends_cache", None)
        if cache is None:
            cache = {}
            for t, ev in self._script:
                if ev.get("kind") == "task-done":
                    cache[int(ev["id"])] = (t, 1.0)
                elif ev.get("kind") == "task-failed":
                    cache[int(ev["id"])] = (t, 0.5)
            self._ends_cache = cache
        return cache

    def _cpu_so_far(self) -> float:
        """CPU seconds used so far: each task's scripted CPU time times its progress."""
        cpu = {int(ev["id"]): float(ev.get("cpu_s") or 0.0) for _, ev in self._script
               if ev.get("kind") in ("task-done", "task-failed")}
        fractions = self.progress()
        total = 0.0
        for i, c in cpu.items():
            if 0 <= i < len(fractions):
                span = self._spans.get(i)
                done = span is not None and span[1] is not None
                total += c if done else c * fractions[i]
        return total

    def elapsed(self) -> float:
        """Seconds since the run started on the fake clock; final once it ended."""
        if self.finished is not None and "wall_s" in self.finished:
            return float(self.finished["wall_s"])
        if self._proc is None:
            return 0.0
        if self._reaped.is_set() and self._fin_t is not None:
            return self._fin_t
        return max(0.0, self._run_t())

    def _release(self) -> None:  # nothing to release: no pipes, no shared memory
        pass

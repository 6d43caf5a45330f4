"""Scripted stand-ins for a run and for the sampler: tests, screenshots and demos.

``ScriptedSource`` is a run source (``sources.RunSource``) that plays a script of events on a
clock; ``ScriptedSampler`` has the interface of ``sampler.Sampler``. Neither touches the
machine, and both run on a counter or an injected clock, never the wall clock, so the same
calls always give the same screen. ``script_for`` makes a plausible script for any config.
"""
from __future__ import annotations

import heapq
import math
import time
from collections import deque
from typing import Callable, Sequence, Union

from ..engine.protocol import (Event, RunFinished, RunStarted, TaskDone, TaskFailed,
                               TaskStarted, from_dict)
from ..engine.registry import mode as registry_mode
from .config import RunConfig
from .sampler import HISTORY, Sample, ThreadLoad
from .session import Session
from .sources import Capabilities

__all__ = ["ScriptedSampler", "ScriptedSource", "scripted_session", "PATTERNS", "script_for",
           "FAKE_PYTHON"]

PATTERNS = ("busy", "gil", "idle", "waves")

#: What the scripted runner reports as its interpreter (fixed, so screenshots never change).
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


class ScriptedSampler:
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


# -- a scripted run -----------------------------------------------------------------------

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
    # The simulation reads what the registry says of the mode, never its name.
    m = registry_mode(mode)
    process = m.in_processes
    own_unit = not m.pooled and not m.one_at_a_time  # one thread or process per task
    if m.unit == "coroutine":
        spans, t = [], 0.0
        for i in range(tasks):  # CPU work never awaits: each runs to its first sleep
            spans.append((t, t + cpu[i], t + cpu[i] + io[i]))
            t += cpu[i]
    else:
        slots = workers if m.pooled else (1 if m.one_at_a_time else tasks)
        # One GIL for all the tasks holds them to one core; processes, subinterpreters
        # (a GIL each) and a free-threaded build with the GIL off use every core.
        gil_off = (python or FAKE_PYTHON).get("gil_enabled") is False
        cap = float(cpu_count) if (not m.shares_gil or gil_off) else 1.0
        stagger = 0.002 if process else (0.0005 if own_unit else 0.0)
        spans = _simulate(cpu, io, max(1, slots), cap, stagger)

    def ident(i: int) -> tuple[int, int]:
        if m.one_at_a_time:
            return runner_pid, runner_pid  # the main thread
        unit = runner_pid + 1 + (slot_of[i] if m.pooled else i)
        return (unit, unit) if process else (runner_pid, unit)

    # Pools: give each task the worker slot that became free first (by the simulation).
    slot_of: dict[int, int] = {}
    if m.pooled:
        free_at = [(0.0, k) for k in range(max(1, workers))]
        for i in sorted(range(tasks), key=lambda i: (spans[i][0], i)):
            _, k = heapq.heappop(free_at)
            slot_of[i] = k
            heapq.heappush(free_at, (spans[i][2], k))

    events: list[Event] = [RunStarted(
        mode=mode, workload=config.workload, tasks=tasks, n=config.n, sleep=config.sleep,
        workers=workers, pid=runner_pid, python=dict(python or FAKE_PYTHON),
        cpu_count=cpu_count, t0=0.0, start_method="fork" if process else None,
        nice=config.nice, t=0.0)]
    wall = 0.0
    for i, (t_start, _, t_end) in enumerate(spans):
        pid, tid = ident(i)
        events.append(TaskStarted(id=i, pid=pid, tid=tid, t=round(t_start, 6)))
        cpu_s = round(cpu[i] + 0.0004, 6)
        if i in fail:
            error = f"TaskFailure: task {i} failed on purpose (--fail-task)"
            events.append(TaskFailed(
                id=i, pid=pid, tid=tid, t=round(t_end, 6), cpu_s=cpu_s, error=error,
                traceback=f"Traceback (most recent call last):\n  ...\n{error}\n"))
        else:
            events.append(TaskDone(id=i, pid=pid, tid=tid, t=round(t_end, 6), cpu_s=cpu_s))
        wall = max(wall, t_end)
    wall += 0.05 if process else 0.01
    events.sort(key=lambda e: e.t)  # stable: a task's start stays before its end
    events.append(RunFinished(
        status="failed" if fail else "ok", wall_s=round(wall, 6),
        cpu_s=round(sum(cpu) + 0.02 + (0.01 * tasks if process else 0.0), 6)))
    return events


Script = Union[Sequence[Union[Event, dict]], Callable[[RunConfig, int, int], Sequence[Event]], None]


class ScriptedSource:
    """A run source whose runner is a script of events played on a clock.

    ``clock`` is a callable returning seconds (e.g. ``time.monotonic``); without one the clock
    is manual and moves only with ``advance(dt)`` (a ``poll`` that may wait, and ``wait``,
    move it to the next event themselves). ``script`` is a list of events (typed, or dicts
    in the wire format), each with its run time ``t``, or a callable
    ``(config, cpu_count, workers) -> events``; by default ``script_for`` with ``seed``.
    """

    capabilities = Capabilities(progress=True, process_tree=False)

    def __init__(self, config: RunConfig, *, cpu_count: int = 2,
                 clock: Callable[[], float] | None = None, script: Script = None,
                 seed: int = 0) -> None:
        self.config = config
        self.cpu_count = cpu_count
        self.workers = config.effective_workers(cpu_count)
        self.runner_pid: int | None = None
        self._clock = clock
        self._offset = 0.0
        self._seed = seed
        self._script_arg = script
        self._script: list[tuple[float, Event]] = []
        self._next = 0  # index of the next scripted event not yet delivered
        self._t0_clock = 0.0
        self._started = False
        self._ended = False
        self._queue: list[Event] = []
        self._spans: dict[int, list] = {}  # id -> [start, end, fraction at end]
        self._ends: dict[int, tuple[float, float]] = {}  # id -> (scripted end, fraction)
        self._cpu: dict[int, float] = {}  # id -> scripted CPU seconds
        self._fin: RunFinished | None = None

    # -- the clock ---------------------------------------------------------------------

    def now(self) -> float:
        """The source's clock, in seconds."""
        return (self._clock() if self._clock is not None else 0.0) + self._offset

    def advance(self, dt: float) -> None:
        """Move the clock forward by ``dt`` seconds."""
        if dt < 0:
            raise ValueError("the clock only moves forward")
        self._offset += dt

    def _run_t(self) -> float:
        return self.now() - self._t0_clock

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            raise RuntimeError("a source runs once; make a new one")
        script = self._script_arg
        if script is None:
            events = script_for(self.config, self.cpu_count, self.workers, seed=self._seed)
        elif callable(script):
            events = list(script(self.config, self.cpu_count, self.workers))
        else:
            events = [from_dict(e) if isinstance(e, dict) else e for e in script]
        self._t0_clock = self.now()
        timed = []
        for ev in events:
            if isinstance(ev, RunStarted):
                ev.t0 = self._t0_clock
                self.runner_pid = ev.pid
            elif isinstance(ev, TaskDone):
                self._ends[ev.id] = (ev.t, 1.0)
                self._cpu[ev.id] = ev.cpu_s
            elif isinstance(ev, TaskFailed):
                self._ends[ev.id] = (ev.t, 0.5)
                self._cpu[ev.id] = ev.cpu_s or 0.0
            timed.append((float(ev.t or 0.0), ev))
        timed.sort(key=lambda te: te[0])
        self._script = timed
        if self.runner_pid is None:
            self.runner_pid = FAKE_RUNNER_PID
        self._started = True

    def stop(self, timeout: float = 2.0) -> None:
        """End the run now (status ``cancelled``); tasks still going stay ``running``."""
        if not self._started or self._ended:
            return
        self._pump()
        if self._ended:  # it had just finished by itself
            return
        t = round(self._run_t(), 6)
        self._deliver(RunFinished(status="cancelled", wall_s=t,
                                  cpu_s=round(self._cpu_so_far(), 6)))

    def wait(self, timeout: float | None = None) -> bool:
        """True once the run has ended. A manual clock is moved to the end (or by ``timeout``)."""
        if not self._started:
            return False
        if self._clock is None:
            target = self._script[-1][0] if self._script else 0.0
            step = target - self._run_t()
            if timeout is not None:
                step = min(step, timeout)
            if step > 0:
                self.advance(step)
            self._pump()
            return self._ended
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ended:
            self._pump()
            if self._ended or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(0.01)
        return self._ended

    def close(self) -> None:
        self.stop()

    # -- events and progress -------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> list[Event]:
        self._pump()
        if not self._queue and timeout > 0 and not self._ended and self._started:
            if self._clock is None:  # waiting is what moves a manual clock
                if self._next < len(self._script):
                    gap = self._script[self._next][0] - self._run_t()
                    self.advance(max(0.0, min(timeout, gap)))
            else:
                deadline = time.monotonic() + timeout
                while not self._queue and time.monotonic() < deadline:
                    time.sleep(0.01)
                    self._pump()
            self._pump()
        out, self._queue = self._queue, []
        return out

    def _pump(self) -> None:
        """Deliver every scripted event whose time has come."""
        if not self._started or self._ended:
            return
        now = self._run_t()
        while self._next < len(self._script) and self._script[self._next][0] <= now:
            _, ev = self._script[self._next]
            self._next += 1
            self._deliver(ev)
            if self._ended:
                return

    def _deliver(self, ev: Event) -> None:
        if isinstance(ev, TaskStarted):
            self._spans[ev.id] = [ev.t, None, None]
        elif isinstance(ev, (TaskDone, TaskFailed)):
            span = self._spans.setdefault(ev.id, [ev.t, None, None])
            span[1] = ev.t
            span[2] = 1.0 if isinstance(ev, TaskDone) else 0.5
        elif isinstance(ev, RunFinished):
            self._fin = ev
            self._ended = True
        self._queue.append(ev)

    def progress(self) -> list[float] | None:
        """Per-task fraction done, linear from start to end (a failed task stops at half)."""
        tasks = self.config.tasks
        out = [0.0] * tasks
        if not self._started:
            return out
        now = self._fin.wall_s if self._fin is not None else self._run_t()
        for i, (start, end, final) in self._spans.items():
            if not 0 <= i < tasks:
                continue
            if end is not None:
                out[i] = final
                continue
            planned_end, final_planned = self._ends.get(i, (None, 1.0))
            if planned_end is None or planned_end <= start:
                continue
            out[i] = max(0.0, min(1.0, (now - start) / (planned_end - start))) * final_planned
        return out

    def _cpu_so_far(self) -> float:
        """CPU seconds used so far: each task's scripted CPU time times its progress."""
        fractions = self.progress() or []
        total = 0.0
        for i, c in self._cpu.items():
            if 0 <= i < len(fractions):
                span = self._spans.get(i)
                done = span is not None and span[1] is not None
                total += c if done else c * fractions[i]
        return total

    def elapsed(self) -> float:
        """Seconds since the run started on the source's clock; final once it ended."""
        if self._fin is not None:
            return float(self._fin.wall_s)
        if not self._started:
            return 0.0
        return max(0.0, self._run_t())


def scripted_session(config: RunConfig, **kwargs) -> Session:
    """A Session over a ``ScriptedSource(config, **kwargs)``: the app's and the tests' fake run."""
    source = ScriptedSource(config, **kwargs)
    return Session(config, source=source)

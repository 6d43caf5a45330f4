"""Where a thread's time goes: on a CPU, waiting for a CPU, waiting on a lock, other waits.

For every thread of a process tree (a runner and its worker processes) the probe measures,
while a run goes, the seconds spent

    running    on a CPU
    core_wait  runnable, waiting for a CPU (the run queue)
    lock_wait  off a CPU in a futex wait: under a GIL build almost always the GIL
    io_wait    any other off-CPU time: sleeping, I/O, poll, waiting for a child...

How (Linux only, no ptrace, nothing injected into the measured processes):

- ``/proc/PID/task/TID/schedstat`` holds cumulative nanoseconds on a CPU and runnable-but-
  waiting. Those are exact, so running and core_wait are differences of two readings.
- What is left of the wall time between two readings was spent off a CPU.
- ``/proc/PID/task/TID/syscall`` starts with the number of the system call a sleeping thread
  is blocked in ("running" when it is on a CPU or runnable). A GIL waiter wakes every ~5 ms,
  so one reading says little; the probe reads it ``hz`` times a second and splits each
  interval's off-CPU time between lock_wait and io_wait in proportion to the futex and
  other readings in that interval.
- schedstat adds a wait for a CPU only when the CPU is had, so while a thread sits in the
  run queue its wait looks like time off a CPU. Such time is held back (not counted)
  until a reading finds the thread asleep, when nothing can be pending any more.

Cost: files are opened once per thread and re-read with ``os.pread`` (opening each time
costs several times more). Above ``max_threads`` live threads the probe reads a rotating
window of ``max_threads`` of them per interval and scales the sums up by the share of
thread time it covered; the snapshot says so (``sampled``, ``sampled_fraction``). Listing
a process's threads is itself costly at thousands of threads, so the tree is searched at
most every interval, less often when that takes long, and not while no process or thread
began or was reaped on the machine (/proc/loadavg's counters); processes with a few threads
are relisted every tick, so that short-lived threads are seen (one that lives less than
a tick, 0.1 s, can still be missed, and an ending thread loses what it did after its
last reading).

Degrades instead of failing: no /proc, a kernel without schedstat, or no permission gives
``available=False`` and a ``reason``; a machine whose futex number is unknown, or a syscall
file that cannot be read, still gives running, core_wait and off-CPU time, with a note.

Standard library only, and no Textual: the headless CLI and the app use it the same way::

    probe = ThreadTimeProbe(runner_pid)
    probe.start()
    ...
    snap = probe.snapshot()          # immutable; safe to read from any thread
    snap.total.shares()              # {"running": 0.07, "core_wait": 0.01, "lock_wait": 0.9, ...}
    snap.thread(pid, tid)            # per-thread figures, e.g. for a task that owned a thread
    probe.stop()
"""
from __future__ import annotations

import errno
import itertools
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import Callable, Mapping

from .procfs import READ_FLAGS, pid_counters, stat_rest

STATES = ("running", "core_wait", "lock_wait", "io_wait")
#: The state of an off-CPU thread when lock and other waits cannot be told apart.
OFF_CPU = "off_cpu"

#: Syscall samples a second, per thread. 10 Hz gives 5 samples a thread per interval
#: (the split is unbiased at any rate; more samples only make it less noisy). 20 Hz
#: would double the cost: reading a sleeping thread's syscall file alone takes 3-4 us
#: with cold caches, so 80 threads at 20 Hz use ~0.6% of a core before any Python.
DEFAULT_HZ = 10.0
#: schedstat readings a second. It is exact whenever read, so it could be read less
#: often (it is always read at an interval's end and when a thread is seen to exit);
#: but what a thread did between its last reading and its end is lost, and a threads
#: run ends threads by the dozen.
DEFAULT_SCHED_HZ = 5.0
#: Seconds per published snapshot (the live figures are this interval's).
DEFAULT_INTERVAL_S = 0.5
#: Live threads read every tick; above it a rotating window of this many. A thread costs
#: ~5 us a tick with cold caches (measured on 2 cores), so at 10 Hz 128 threads, with
#: the window's files reopened every interval, stay near 1% of a core.
DEFAULT_MAX_THREADS = 128
#: The probe's own CPU it aims at while sampling, share of one core: above 1.5 times
#: this, the window shrinks (to ``MIN_WINDOW`` threads at least); below 0.7 times, it
#: grows; see ``ThreadTimeProbe._adapt``. Half a percent: with a thousand workers the
#: app, its sampler and the probe together should stay near 5% of a core, and a window
#: of 16-30 threads a second still reads each of a thousand sleeping workers' state
#: every half minute or so (their shares are what the verdict reads).
COST_TARGET = 0.005
MIN_WINDOW = 16
#: Due tree searches let pass while nothing began or was reaped on the machine: a worker
#: that has exited but is not reaped yet is found by the search after them (see
#: ``ThreadTimeProbe._machine_moved``).
SEARCH_AT_LEAST = 16

# futex(2) by machine (uname -m). The GIL and Python's locks sleep in futex. 32-bit ABIs
# built with 64-bit time use futex_time64 (422); futex_waitv (449) has one number everywhere.
_FUTEX_BY_MACHINE = {
    "x86_64": (202,), "amd64": (202,),
    "aarch64": (98,), "arm64": (98,), "riscv64": (98,), "loongarch64": (98,),
    "i386": (240, 422), "i486": (240, 422), "i586": (240, 422), "i686": (240, 422),
    "x86": (240, 422),
    "armv6l": (240, 422), "armv7l": (240, 422), "armv8l": (240, 422), "arm": (240, 422),
    "ppc64le": (221,), "ppc64": (221,), "ppc": (221, 422),
    "s390x": (238,),
}
_FUTEX_WAITV = 449

# Errors that mean "this thread or process has ended": its files go away (ENOENT) or
# reading an open one says the task is gone (ESRCH).
_GONE = (errno.ENOENT, errno.ESRCH)
_DENIED = (errno.EACCES, errno.EPERM)


def futex_syscalls(machine: str | None = None) -> frozenset[int] | None:
    """The futex syscall numbers on ``machine`` (default: this one), or None if unknown."""
    machine = (machine or platform.machine()).lower()
    nrs = _FUTEX_BY_MACHINE.get(machine)
    return None if nrs is None else frozenset(nrs + (_FUTEX_WAITV,))


@dataclass(frozen=True)
class Times:
    """Seconds spent in each state. ``off_cpu_s`` is lock_wait_s + io_wait_s, or all the
    off-CPU time when the two cannot be told apart (then both are 0)."""

    running_s: float = 0.0
    core_wait_s: float = 0.0
    lock_wait_s: float = 0.0
    io_wait_s: float = 0.0
    off_cpu_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.running_s + self.core_wait_s + self.off_cpu_s

    def shares(self) -> dict[str, float]:
        """Each state's fraction of the thread time (all 0 when there is none)."""
        total = self.total_s
        names = STATES + (OFF_CPU,)
        if total <= 0:
            return dict.fromkeys(names, 0.0)
        return {name: getattr(self, name + "_s") / total for name in names}

    @property
    def state(self) -> str:
        """The state with the most time ("" when there is no time at all)."""
        if self.total_s <= 0:
            return ""
        split = self.lock_wait_s + self.io_wait_s > 0 or self.off_cpu_s <= 0
        cands = [("running", self.running_s), ("core_wait", self.core_wait_s)]
        if split:
            cands += [("lock_wait", self.lock_wait_s), ("io_wait", self.io_wait_s)]
        else:
            cands.append((OFF_CPU, self.off_cpu_s))
        return max(cands, key=lambda c: c[1])[0]

    def four(self, split: bool = True) -> tuple[float, float, float, float]:
        """running, core_wait, lock_wait, io_wait; without a lock/other split (``split``
        False) lock_wait is 0 and the last is all the off-CPU time."""
        if split:
            return (self.running_s, self.core_wait_s, self.lock_wait_s, self.io_wait_s)
        return (self.running_s, self.core_wait_s, 0.0, self.off_cpu_s)

    @classmethod
    def from_four(cls, four, split: bool = True) -> "Times":
        """The inverse of ``four``."""
        r, c, lock, other = (float(x) for x in four)
        if split:
            return cls(r, c, lock, other, lock + other)
        return cls(r, c, 0.0, 0.0, other)

    def scaled(self, k: float) -> "Times":
        if k == 1.0:
            return self
        return Times(self.running_s * k, self.core_wait_s * k, self.lock_wait_s * k,
                     self.io_wait_s * k, self.off_cpu_s * k)


ZERO = Times()


@dataclass(frozen=True)
class ThreadTimes:
    """One thread. ``total`` covers the time it was measured (all of it unless the probe
    sampled: see ``covered_s``); ``last`` is its last measured interval; ``state`` the
    state it spent most of that interval in; ``updated_s`` when (seconds since start)."""

    pid: int
    tid: int
    alive: bool
    state: str
    total: Times
    last: Times
    covered_s: float
    updated_s: float


@dataclass(frozen=True)
class ProcessTimes:
    """One process of the tree: the sums of its threads (scaled up when sampled)."""

    pid: int
    alive: bool
    threads_seen: int
    threads_live: int
    total: Times
    last: Times


@dataclass(frozen=True)
class Snapshot:
    """Everything the probe knows, as of the end of its last interval. Immutable.

    ``total`` is the whole tree since start, ``last`` the last interval (``interval_s``
    long); both are scaled up to every live thread when the probe sampled. ``states_now``
    counts the live threads measured in the last interval by the state each spent most of
    it in (under sampling, ``last_sampled_fraction`` of the live threads)."""

    available: bool
    reason: str = ""
    notes: tuple[str, ...] = ()
    lock_split: bool = True
    wall_s: float = 0.0
    interval_s: float = 0.0
    total: Times = ZERO
    last: Times = ZERO
    states_now: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    threads_seen: int = 0
    threads_live: int = 0
    processes_live: int = 0
    sampled: bool = False
    sampled_fraction: float = 1.0
    last_sampled_fraction: float = 1.0
    probe_cpu_s: float = 0.0
    threads: tuple[ThreadTimes, ...] = ()
    processes: tuple[ProcessTimes, ...] = ()
    _by_thread: Mapping = field(default_factory=lambda: MappingProxyType({}),
                                repr=False, compare=False)
    _by_pid: Mapping = field(default_factory=lambda: MappingProxyType({}),
                             repr=False, compare=False)
    # For a follower of every snapshot (ThreadWatch.ingest): ``_fresh`` holds the threads
    # of ``threads`` whose figures changed since the probe's snapshot numbered
    # ``_after`` (the one before this, ``_seq``); the others are the same objects.
    _seq: int = field(default=0, repr=False, compare=False)
    _after: int = field(default=0, repr=False, compare=False)
    _fresh: tuple | None = field(default=None, repr=False, compare=False)

    def thread(self, pid: int, tid: int) -> ThreadTimes | None:
        return self._by_thread.get((pid, tid))

    def process(self, pid: int) -> ProcessTimes | None:
        return self._by_pid.get(pid)

    @property
    def cores(self) -> float:
        """CPUs kept busy on average since start: running seconds per wall second."""
        return self.total.running_s / self.wall_s if self.wall_s > 0 else 0.0


class _Track:
    """One thread, as the probe's own thread sees it (mutable; never handed out)."""

    __slots__ = (
        "pid", "tid", "proc", "fd_st", "fd_sc", "new", "alive", "catchup",
        "base_run", "base_wait", "base_t",
        "cur_run", "cur_wait", "cur_off", "cur_span", "n_lock", "n_io",
        "gap_run", "gap_wait", "gap_off", "gap_span", "carry", "last_r",
        "tot", "covered", "ratio", "pub",
    )

    def __init__(self, pid: int, tid: int, proc: "_Proc", new: bool) -> None:
        self.pid, self.tid, self.proc, self.new = pid, tid, proc, new
        self.fd_st = self.fd_sc = -1
        self.alive = True
        self.catchup = False  # next reading spans time outside the window
        self.base_run = self.base_wait = 0
        self.base_t: int | None = None  # no reading yet
        self.cur_run = self.cur_wait = self.cur_off = self.cur_span = 0
        self.n_lock = self.n_io = 0
        self.gap_run = self.gap_wait = self.gap_off = self.gap_span = 0
        # schedstat adds a wait for a CPU only once the CPU is had (and time on a CPU at
        # scheduler ticks). So while a thread waits in the run queue its wait looks like
        # time off a CPU, and the reading after it gets the CPU comes out that much
        # negative. What cannot be counted yet is carried: see _close_interval.
        self.carry = 0
        self.last_r = False  # the last syscall sample said "running" (or runnable)
        self.tot = [0.0, 0.0, 0.0, 0.0, 0.0]  # running, core_wait, lock, io, off (s)
        self.covered = 0.0
        self.ratio = 0.0  # lock share of off-CPU time, from the last interval with readings
        self.pub: ThreadTimes | None = None


class _Proc:
    __slots__ = ("pid", "alive", "tracks", "gone", "seen", "m", "cover", "life_base",
                 "life_n", "life_at", "iv", "iv_n", "iv_cover", "iv_life", "pub", "fd_stat",
                 "listed", "cpu_gap", "ended_since")

    def __init__(self, pid: int, life_at: float = 0.0) -> None:
        self.pid = pid
        self.alive = True
        self.tracks: dict[int, _Track] = {}  # live threads by tid
        self.gone: set[int] = set()  # ended, but still listed (a zombie leader)
        self.seen = 0
        self.m = [0.0] * 5  # measured seconds per state, since start
        self.cover = 0.0  # thread-seconds measured
        # Thread-seconds lived (an estimate, for scaling under sampling): life_base, plus
        # life_n threads for the intervals since life_at (see ThreadTimeProbe._life).
        self.life_base = 0.0
        self.life_n = 0
        self.life_at = life_at
        self.iv = [0.0] * 5  # this interval
        self.iv_n = 0  # threads measured this interval
        self.iv_cover = 0.0  # thread-seconds measured this interval
        self.iv_life = 0.0  # thread-seconds lived this interval
        self.pub: ProcessTimes | None = None
        self.cpu_gap: float | None = None  # its CPU (stat) less its threads' running time
        self.ended_since: list[_Track] = []  # threads ended since the gap was taken
        self.fd_stat = -1  # /proc/PID/task, held open while its threads are relisted
        self.listed = -1  # threads its task directory held when last listed


_PUB, _PID = attrgetter("pub"), attrgetter("pid")
_SEQ = itertools.count(1)  # snapshot numbers, unique across probes


class ThreadTimeProbe:
    """Measures where the time of every thread of ``root_pid``'s process tree goes.

    ``hz``: how often each thread's syscall is sampled (≥10 for a usable lock/io split).
    ``sched_hz``: how often its schedstat is read (≤ hz). ``interval``: seconds per
    published snapshot. ``max_threads``: live threads read every tick; above it, a
    rotating window of that many. ``proc``: the /proc to read (a fake tree in tests).
    ``machine``: picks the futex number (default: this machine's). ``clock``: monotonic
    nanoseconds (tests drive the probe by hand with ``start(background=False)`` and
    ``tick``). ``on_publish(snapshot)`` is called, in the probe's thread, with every
    snapshot an interval's end (or ``stop``) publishes: what keeps a history of the
    snapshots does it there, off the thread that draws, and its cost counts as the
    probe's."""

    def __init__(self, root_pid: int, hz: float = DEFAULT_HZ, *,
                 sched_hz: float = DEFAULT_SCHED_HZ,
                 interval: float = DEFAULT_INTERVAL_S,
                 max_threads: int = DEFAULT_MAX_THREADS,
                 proc: str = "/proc", machine: str | None = None,
                 clock: Callable[[], int] = time.monotonic_ns,
                 on_publish: Callable[[Snapshot], None] | None = None) -> None:
        if hz <= 0 or sched_hz <= 0 or interval <= 0 or max_threads < 1:
            raise ValueError("hz, sched_hz, interval and max_threads must be positive")
        self.root_pid = int(root_pid)
        self.hz = float(hz)
        self.interval = float(interval)
        self.proc = proc.rstrip("/") or "/"
        self._clock = clock
        self._on_publish = on_publish
        self._max_cap = self._cap = self._fd_budget(int(max_threads))
        self._adaptive = False  # the window follows the probe's own CPU (its own thread)
        self._cpu_at_iv = 0.0  # the probe's CPU seconds when the interval began
        self._cost = 0.0  # its CPU, share of a core, smoothed over intervals
        self._machine = (machine or platform.machine()).lower()
        futex = futex_syscalls(self._machine)
        self._futex = frozenset(str(n).encode() for n in futex) if futex else frozenset()
        self._sc = True  # the syscall files can be read (state samples)
        self._split = futex is not None  # ... and a futex can be told from other waits
        self._notes: list[str] = []
        if not self._split:
            self._note(f"futex syscall number unknown on {self._machine}: "
                       "lock and other waits are not told apart")
        self._reason = ""
        self._available = True
        self._lock = threading.Lock()  # start/stop against each other
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._closed = False
        self._procs: dict[int, _Proc] = {}  # processes seen, by pid (latest per pid)
        self._ended_procs: list[_Proc] = []  # earlier holders of a reused pid
        self._ended_pub: list[ThreadTimes] = []  # earlier holders of a reused (pid, tid)
        self._ended_kids: list[_Proc] = []  # processes ended since _settle_reaped
        self._reaped_base: float | None = None  # the root's cutime + cstime at start (s)
        self._reaped_seen = 0.0  # running time measured of processes that have ended
        self._reaped_added = 0.0  # running time _settle_reaped has given them
        self._tree_cpu_s: float | None = None  # see stop()
        self._tracks: dict[tuple[int, int], _Track] = {}  # every thread, latest per key
        self._order: list[_Track] = []  # live threads, the rotation's order
        self._cursor = 0
        self._active: list[_Track] = []  # threads with open files (the window)
        self._sampling = False  # this interval reads a window, not every live thread
        self._ever_sampled = False
        self._seen = 0
        self._t0 = 0
        self._iv_start = 0
        # An interval ends at the first tick at least this long after it began.
        self._iv_ns = self._base_iv_ns = int((self.interval - 0.5 / self.hz) * 1e9)
        self.sched_hz = min(float(sched_hz), self.hz)
        self._sched_ns = int((1.0 / self.sched_hz - 0.5 / self.hz) * 1e9)
        self._next_sched = 0
        self._next_discovery = 0
        self._mark: tuple[int, int] | None = None  # pid_counters at the last search
        self._let_pass = 0  # due searches not made since, the machine unmoved
        self._tree_pids: frozenset[int] = frozenset()  # what the last search found
        # Process state and the stat fields after the parent, read by the last scan.
        self._states: dict[int, tuple[bytes, bytes]] = {}
        self._quiet = 0  # searches in a row that found the same tree
        self._children_ok = True  # /proc/PID/task/TID/children exists
        self._sys_procs = 0  # processes on the system, last counted
        self._tree_threads = 0
        self._multi: list[_Proc] = []  # processes whose threads are relisted every tick
        self._clk_tck = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._cpu_s = 0.0
        # Kept as they change, not summed over every process at every interval: with a
        # thousand processes those passes were most of the probe's cost once its window
        # was small. The tree's sums since start (measured seconds per state, and
        # thread-seconds measured and lived) and of the last interval:
        self._m_all = [0.0] * 5
        self._cover_all = 0.0
        self._life_all = 0.0
        self._iv_all = [0.0] * 5
        self._iv_cover_all = 0.0
        self._iv_life_all = 0.0
        self._live_threads = 0  # threads of live processes
        self._life_clock = 0.0  # seconds of the intervals closed so far
        self._life_rate = 0  # sum of life_n: threads lived a second, as last settled
        self._changed: set[_Proc] = set()  # thread count or liveness changed: see _life
        self._dirty: set[_Proc] = set()  # their ProcessTimes to make anew at _publish
        self._iv_procs: list[_Proc] = []  # processes with figures this interval
        self._processes: tuple[ProcessTimes, ...] = ()  # as last published
        # The published figures of the latest thread of each (pid, tid), in the order
        # the threads were found (None until first measured): see _set_pub.
        self._thread_pub: dict[tuple[int, int], ThreadTimes | None] = {}
        self._unpub = 0  # the Nones there
        self._fresh_keys: dict[tuple[int, int], None] = {}  # changed since the last snapshot
        self._ended_pub_n = 0  # of _ended_pub, in the last snapshot
        self._procs_pub: Mapping[int, ProcessTimes] = MappingProxyType({})
        self._pub = Snapshot(available=False, reason="not started")

    # ---- public -------------------------------------------------------------------------

    def start(self, *, background: bool = True) -> "ThreadTimeProbe":
        """Take the baseline now, then read on a daemon thread (``background=False``: the
        caller calls ``tick`` itself). After start, ``snapshot().available`` is known."""
        with self._lock:
            if self._started:
                raise RuntimeError("a probe starts once")
            self._started = True
            now = self._clock()
            self._t0 = self._iv_start = now
            reason = self._check()
            if reason:
                self._fail(reason)
                return self
            try:
                self._sys_procs = sum(1 for n in os.listdir(self.proc) if n.isdigit())
            except OSError:
                pass
            self._mark = pid_counters(self.proc)
            self._discover(now, first=True)
            if list(self._procs) == [self.root_pid]:  # no child yet: see _settle_reaped
                self._reaped_base = self._stat_cpu(self.root_pid, children=True)
            self._rotate()
            self._read()  # baseline: the first reading of every thread only sets it
            for tr in self._active:  # the samples of each interval are its own ticks'
                tr.n_lock = tr.n_io = 0
            self._publish(now, 0)
            if background:
                self._adaptive = True
                self._thread = threading.Thread(target=self._loop, name="threadtime",
                                                daemon=True)
                self._thread.start()
        return self

    def stop(self, tree_cpu_s: float | None = None) -> Snapshot:
        """End the thread, take one last reading (the tail of the run), close every file.
        Returns the final snapshot. Safe to call twice.

        ``tree_cpu_s``: when the caller has reaped the root already, its CPU time and its
        reaped children's (wait4's rusage). A root that ended before the probe read it
        again took what it ran since with it (all of it, in a run shorter than a tick);
        this says how much (see ``_settle_root``)."""
        with self._lock:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if self._started and self._available and not self._closed:
                try:
                    c0 = time.thread_time()
                    self._read()
                    self._tree_cpu_s = tree_cpu_s
                    self._close_interval(self._clock(), final=True)
                    self._published()
                    self._cpu_s += time.thread_time() - c0
                except Exception as exc:  # never raise out of stop: say why instead
                    self._fail(f"probe failed: {exc!r}")
            self._close_all()
            self._closed = True
        return self._pub

    def snapshot(self) -> Snapshot:
        """The latest figures (immutable; replaced whole at every interval's end)."""
        return self._pub

    def tick(self) -> None:
        """One reading of the window's threads; ends the interval when it is due. The
        background thread calls it ``hz`` times a second."""
        if not self._available or self._closed:
            return
        now = self._clock()
        closing = now - self._iv_start >= self._iv_ns
        sched = closing or now >= self._next_sched
        if sched:
            self._next_sched = now + self._sched_ns
        self._relist()
        self._adopt_children()
        self._read(sched)
        if closing:
            self._close_interval(self._clock())
            self._published()

    def _published(self) -> None:
        if self._on_publish is not None and self._pub.available:
            try:
                self._on_publish(self._pub)
            except Exception as exc:  # the measurement goes on without its follower
                self._on_publish = None
                self._note(f"keeping the history failed: {exc!r}")

    @property
    def open_files(self) -> int:
        """Files the probe holds open now (two per thread of the window, at most)."""
        return sum((t.fd_st >= 0) + (t.fd_sc >= 0) for t in self._active)

    def __enter__(self) -> "ThreadTimeProbe":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- the loop -----------------------------------------------------------------------

    def _loop(self) -> None:
        period = 1.0 / self.hz
        cpu0 = time.thread_time()
        next_t = time.monotonic()
        while True:
            next_t += period
            delay = next_t - time.monotonic()
            if delay < 0:  # fell behind (a loaded machine): skip ticks rather than burst
                next_t = time.monotonic()
                delay = 0.0
            if self._stop.wait(delay):
                break
            try:
                self.tick()
            except Exception as exc:  # a monitor must not take the app down
                self._fail(f"probe failed: {exc!r}")
                break
            # The thread's own CPU, for the snapshot: what watching costs.
            self._cpu_s = time.thread_time() - cpu0
            if self._procs and not any(p.alive for p in self._procs.values()):
                # The whole tree has ended: nothing is left to read. Let go of the files
                # now, even if whoever started the probe never stops it; stop() still
                # takes the last reading's figures. (Never wait for the lock: stop() holds
                # it while it joins this thread, and then closes the files itself.)
                if self._lock.acquire(blocking=False):
                    try:
                        if not self._closed:
                            self._close_all()
                    finally:
                        self._lock.release()
                break
        self._cpu_s = time.thread_time() - cpu0

    # ---- checks and notes ---------------------------------------------------------------

    def _fd_budget(self, max_threads: int) -> int:
        """Two files per thread of the window, from the descriptors still free, keeping a
        quarter of the limit (at most 256) for everything else. (Under ``ulimit -n 64``
        a fixed reserve of 256 left a window of one thread: a run's dozen threads were
        read one an interval, and a sleeping pool was extrapolated from the runner's
        own threads, all waiting on locks.)"""
        try:
            import resource

            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        except (ImportError, OSError, ValueError):
            return max_threads
        if soft == resource.RLIM_INFINITY:
            return max_threads
        try:
            in_use = len(os.listdir("/proc/self/fd"))
        except OSError:
            in_use = 0
        free = soft - in_use - min(256, soft // 4)
        return max(1, min(max_threads, free // 2))

    def _note(self, text: str) -> None:
        if text not in self._notes:  # each said once
            self._notes.append(text)

    def _fail(self, reason: str) -> None:
        if self._available:  # said once: the first reason stands
            self._available = False
            self._reason = reason
        self._close_all()
        self._pub = Snapshot(available=False, reason=self._reason, notes=tuple(self._notes),
                             lock_split=self._split, probe_cpu_s=self._cpu_s)

    def _check(self) -> str:
        """Why the probe cannot work here, or "" when it can."""
        if not os.path.isdir(self.proc):
            return f"no {self.proc}: thread states need Linux's /proc"
        pid = self.root_pid
        base = f"{self.proc}/{pid}/task/{pid}"
        if not os.path.isdir(f"{self.proc}/{pid}"):
            return f"process {pid} not found"
        try:
            with open(f"{base}/schedstat", "rb") as f:
                fields = f.read().split()
            if len(fields) < 2:
                raise ValueError
            int(fields[0]), int(fields[1])
        except FileNotFoundError:
            if not os.path.isdir(f"{self.proc}/{pid}"):
                return f"process {pid} not found"
            return "no per-thread schedstat in /proc (kernel without CONFIG_SCHED_INFO)"
        except ProcessLookupError:
            return f"process {pid} not found"
        except PermissionError:
            return f"no permission to read {base}/schedstat"
        except (OSError, ValueError):
            return f"cannot read {base}/schedstat"
        try:
            with open(f"{base}/syscall", "rb") as f:
                f.read()
        except PermissionError:
            self._no_syscall("no permission to read /proc/PID/task/TID/syscall")
        except FileNotFoundError:
            self._no_syscall("no /proc/PID/task/TID/syscall (kernel without "
                             "CONFIG_HAVE_ARCH_TRACEHOOK)")
        except OSError:
            pass  # the thread may be between states; reads retry every tick
        return ""

    def _no_syscall(self, why: str) -> None:
        if self._sc:
            self._sc = False
            if self._split:
                self._split = False
                self._note(why + ": lock and other waits are not told apart")
            for tr in self._active:
                if tr.fd_sc >= 0:
                    os.close(tr.fd_sc)
                    tr.fd_sc = -1

    # ---- discovery ----------------------------------------------------------------------

    def _discover(self, now: int, first: bool = False) -> None:
        """List the tree's processes and their threads; note new and ended ones."""
        c0 = time.thread_time()
        self._states = {}
        pids = self._tree()
        live = set(pids)
        total = 0
        for pid in pids:
            proc = self._procs.get(pid)
            if (proc is not None and proc.alive and proc.listed > 0
                    and self._listed_count(proc) == proc.listed
                    and not self._zombie(pid)):
                # Known, and as many threads as when last listed: with a thousand worker
                # processes, listing each one's threads was a third of a search.
                total += proc.listed
                continue
            tids = self._list_tids(pid)
            if not tids or self._zombie(pid):
                live.discard(pid)  # gone, or ended and not yet reaped: it runs no more
                continue
            proc = self._procs.get(pid)
            if proc is not None and not proc.alive:  # the pid was reused by a new process
                self._ended_procs.append(proc)
                proc = None
            if proc is None:
                proc = self._procs[pid] = _Proc(pid, self._life_clock)
            total += len(tids)
            proc.listed = len(tids)
            self._sync_threads(proc, tids, first)
        for proc in self._procs.values():
            if proc.alive and proc.pid not in live:
                for tr in list(proc.tracks.values()):
                    self._ended(tr)
                proc.alive = False
                self._changed.add(proc)
                self._dirty.add(proc)
        self._tree_threads = total
        # Relisted every tick: the root (where a threads run starts its threads) and any
        # process with threads to come and go. Thousands of threads take milliseconds
        # to list, so a process with more than the window's worth waits for the search.
        multi = [p for p in self._procs.values() if p.alive
                 and (len(p.tracks) >= 2 or p.pid == self.root_pid)
                 and len(p.tracks) <= self._cap]
        for proc in set(self._multi).difference(multi):
            self._close_stat(proc)
        self._multi = multi
        # Searching the tree takes ~1 ms with 80 threads and ~10 ms with a thousand
        # processes: search less often when it is slow (keeping it under ~0.25% of a
        # core: with a thousand sleeping workers and the window at its least, it was
        # half of all the probe cost), and when the tree has stayed the same (every
        # interval, then every 2nd, then every 4th; and every 8th for a tree too big
        # to read whole, where intervals are longer too). A process found late is still
        # counted from its birth, and threads that end are seen at once by their reads
        # failing.
        pids = frozenset(live)
        most = 3 if self._sampling else 2
        self._quiet = 0 if pids != self._tree_pids else min(self._quiet + 1, most)
        self._tree_pids = pids
        cost = time.thread_time() - c0
        iv_s = max(self.interval, self._iv_ns / 1e9 + 0.5 / self.hz)
        wait_s = max(iv_s * (1 << self._quiet), cost * 400)
        self._next_discovery = now + int(wait_s * 1e9)

    def _machine_moved(self) -> bool:
        """Whether a search of the tree is worth making: a process or thread has begun or
        been reaped somewhere since the last one (the machine's thread count and last pid,
        /proc/loadavg), or ``SEARCH_AT_LEAST`` due searches were let pass. A search of a
        thousand workers was a third of the probe's cost, and found nothing new while they
        slept; one that ends is found at its reaping now, where it waited for its turn.
        (A worker that exited and is not reaped yet is found by the search it is due.)"""
        mark = pid_counters(self.proc)
        if mark is None or mark != self._mark or self._let_pass >= SEARCH_AT_LEAST:
            self._mark, self._let_pass = mark, 0
            return True
        self._let_pass += 1
        return False

    def _list_tids(self, pid: int) -> set[int]:
        try:
            return {int(t) for t in os.listdir(f"{self.proc}/{pid}/task") if t.isdigit()}
        except OSError as exc:
            if exc.errno in _DENIED:
                self._note(f"no permission to list the threads of process {pid}")
            return set()  # gone (or unlistable) since the tree was read

    def _sync_threads(self, proc: _Proc, tids: set[int], first: bool = False) -> list[_Track]:
        """End the threads of ``proc`` missing from ``tids``; add (and return) new ones."""
        for tid in [t for t in proc.tracks if t not in tids]:
            self._ended(proc.tracks[tid])
        proc.gone &= tids  # once unlisted, a tid that comes back is a new thread
        new = []
        for tid in tids:
            if tid not in proc.tracks and tid not in proc.gone:
                tr = _Track(proc.pid, tid, proc, new=not first)
                proc.tracks[tid] = tr
                proc.seen += 1
                self._live_threads += 1
                self._changed.add(proc)
                self._dirty.add(proc)
                self._seen += 1
                self._order.append(tr)
                old = self._tracks.get((proc.pid, tid))
                if old is not None and old.pub is not None:
                    self._ended_pub.append(old.pub)  # the tid was reused
                self._tracks[(proc.pid, tid)] = tr
                if self._thread_pub.get((proc.pid, tid)) is not None or \
                        (proc.pid, tid) not in self._thread_pub:
                    self._unpub += 1
                self._thread_pub[(proc.pid, tid)] = None  # (a place in the order, kept)
                new.append(tr)
        return new

    def _adopt_children(self) -> None:
        """Find the root's new child processes now, not at the next tree search: in a
        short processes run, workers that started and ended between two searches were
        never seen (71 of 81 in a 2.6 s run of 80). The root's few children files are
        read every tick (~1 us each); a new child is read from this tick on, counted from
        its birth. Not when the root has many threads (a threads run, which starts no
        processes): there the search finds what a task may start."""
        root = self._procs.get(self.root_pid)
        if (root is None or not root.alive or not self._children_ok or self._sampling
                or len(root.tracks) > 8):
            return
        base = f"{self.proc}/{self.root_pid}/task/"
        for tid in list(root.tracks):
            try:
                fd = os.open(f"{base}{tid}/children", READ_FLAGS)
            except OSError:
                continue
            try:
                kids = os.read(fd, 65536).split()
            except OSError:
                kids = []
            finally:
                os.close(fd)
            for kid in kids:
                pid = int(kid)
                if pid in self._procs:  # known (an ended one stays listed until reaped;
                    continue           # a pid reused is for the tree search to tell)
                tids = self._list_tids(pid)
                if not tids or len(self._active) + len(tids) > self._cap:
                    continue  # gone already, or no room: the tree search finds it
                proc = self._procs[pid] = _Proc(pid, self._life_clock)
                proc.listed = len(tids)
                for tr in self._sync_threads(proc, tids):
                    if self._open_track(tr):
                        self._active.append(tr)

    def _relist(self) -> None:
        """List again the threads of the root and of each process with more than one
        (see ``_discover``). Threads come and go there (a threads run starts and ends
        dozens a second), and one that lived less than an interval between two tree
        searches would be missed whole. Processes with one thread (process workers) wait
        for the tree search: listing them all every tick would cost more than reading
        them."""
        for proc in self._multi:
            if not proc.alive:
                continue
            # Listing 80 threads costs 25-200 us, counting them under 1 us: list only
            # when the count moved, or a thread was seen to end (another may have begun
            # in the same tick, leaving the count as it was).
            if self._thread_count(proc) == proc.listed:
                continue
            tids = self._list_tids(proc.pid)
            proc.listed = len(tids)
            if not tids:
                continue  # the tree search decides whether the process has ended
            for tr in self._sync_threads(proc, tids):
                # Read it from now on, if the window has room; else it waits its turn.
                if not self._sampling and len(self._active) < self._cap \
                        and self._open_track(tr):
                    self._active.append(tr)

    def _thread_count(self, proc: _Proc, keep_open: bool = True) -> int | None:
        """How many threads ``proc`` has: procfs gives a task directory 2 + threads
        links, and fstat of a directory held open costs under a microsecond (a stat of
        its path, for a process not relisted every tick, about one). None when it cannot
        be read (a filesystem whose directories count no links, as in some test trees,
        then lists every time)."""
        try:
            if not keep_open and proc.fd_stat < 0:
                return os.stat(f"{self.proc}/{proc.pid}/task").st_nlink - 2
            if proc.fd_stat < 0:
                proc.fd_stat = os.open(f"{self.proc}/{proc.pid}/task", READ_FLAGS)
            return os.fstat(proc.fd_stat).st_nlink - 2
        except OSError:
            return None

    def _listed_count(self, proc: _Proc) -> int | None:
        """``_thread_count`` for the tree search: the scan of /proc, when the search made
        one, read each process's thread count already (a stat of a thousand task
        directories was a fifth of a search)."""
        seen = self._states.get(proc.pid)
        if seen is not None:
            try:
                return int(seen[1].split(None, 16)[15])  # stat field 20: num_threads
            except (ValueError, IndexError):
                pass
        return self._thread_count(proc, keep_open=False)

    def _close_stat(self, proc: _Proc) -> None:
        if proc.fd_stat >= 0:
            fd, proc.fd_stat = proc.fd_stat, -1
            try:
                os.close(fd)
            except OSError:
                pass

    def _zombie(self, pid: int) -> bool:
        seen = self._states.get(pid)  # read by this search's scan of /proc, if it was one
        if seen is not None:
            return seen[0] in (b"Z", b"X")
        fields = self._stat(f"{pid}")
        return bool(fields) and fields[0] in (b"Z", b"X")  # (unreadable: the listing decides)

    def _tree(self) -> list[int]:
        """The root and every descendant process (root first); [] when the root is gone.

        Two ways, whichever is cheaper: the children files of every thread of the tree
        (one small read per thread of the tree, and a stat per process to tell whether
        it has ended), or every process's parent and state from /proc/*/stat (one read
        per process on the machine). Measured with one process of 81 threads: 0.07 ms
        against 0.6 ms; with a thousand single-threaded workers the scan reads half as
        many stat files."""
        root = self.root_pid
        if not os.path.isdir(f"{self.proc}/{root}/task"):
            return []
        budget = max(64, self._sys_procs)
        # (A children file is tiny: reading one costs about an eighth of a stat file.)
        if self._children_ok and self._tree_threads / 8 + len(self._tree_pids) <= budget:
            pids = self._tree_by_children(budget)
            if pids is not None:
                return pids
        return self._tree_by_scan()

    def _tree_by_children(self, budget: int) -> list[int] | None:
        """None when the children files are missing, or the tree has more threads than
        ``budget`` (then a scan of /proc is cheaper)."""
        out, queue, seen = [], [self.root_pid], {self.root_pid}
        reads = 0
        while queue:
            pid = queue.pop(0)
            out.append(pid)
            try:
                tids = os.listdir(f"{self.proc}/{pid}/task")
            except OSError:
                continue
            reads += len(tids) / 8 + 1  # (and its stat, to see whether it has ended)
            if reads > budget:
                return None
            for tid in tids:
                try:
                    with open(f"{self.proc}/{pid}/task/{tid}/children", "rb") as f:
                        kids = f.read().split()
                except FileNotFoundError:
                    if tid == str(pid) and os.path.isdir(f"{self.proc}/{pid}/task/{tid}"):
                        self._children_ok = False  # the kernel has no children files
                        return None
                    continue
                except OSError:
                    continue
                for kid in kids:
                    k = int(kid)
                    if k not in seen:
                        seen.add(k)
                        queue.append(k)
        return out

    def _tree_by_scan(self) -> list[int]:
        children: dict[int, list[int]] = {}
        names = [n for n in os.listdir(self.proc) if n.isdigit()]
        self._sys_procs = len(names)
        for name in names:
            rest = self._stat_rest(name)
            if rest is None:
                continue
            try:
                # state, ppid, and the rest (with the thread count: _listed_count)
                fields = rest.split(None, 2)
                ppid = int(fields[1])
                self._states[int(name)] = (fields[0], fields[2] if len(fields) > 2 else b"")
            except (ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(name))
        out, queue = [], [self.root_pid]
        while queue:
            pid = queue.pop(0)
            out.append(pid)
            queue.extend(children.get(pid, ()))
        return out

    def _ended(self, tr: _Track) -> None:
        """A thread has ended: close its files. Its totals stay (published as they are)."""
        if not tr.alive:
            return
        tr.alive = False
        self._close_track(tr)
        if tr.proc.tracks.pop(tr.tid, None) is not None:
            self._live_threads -= 1
        self._changed.add(tr.proc)
        self._dirty.add(tr.proc)
        tr.proc.gone.add(tr.tid)
        tr.proc.listed = -1  # another may have begun as it ended: list them again
        if tr.proc.tracks:  # the process lives on: see _settle_ended
            tr.proc.ended_since.append(tr)
        if not tr.proc.tracks:
            tr.proc.alive = False  # its last thread: the process has ended
            if tr.proc.pid != self.root_pid:
                self._ended_kids.append(tr.proc)  # see _settle_reaped
        if tr.pub is not None:
            p = tr.pub
            self._set_pub(tr, ThreadTimes(tr.pid, tr.tid, False, p.state, p.total, p.last,
                                          p.covered_s, p.updated_s))

    # ---- the window ---------------------------------------------------------------------

    def _rotate(self) -> None:
        """Choose the threads to read next interval and open their files: every live
        thread, or, above the cap, the next ``cap`` of them in turn."""
        self._order = [t for t in self._order if t.alive]
        order, cap = self._order, self._cap
        if len(order) <= cap:
            window = order
            self._sampling = False
            self._cursor = 0
        else:
            self._sampling = self._ever_sampled = True
            start = self._cursor % len(order)
            window = order[start:start + cap]
            if len(window) < cap:
                window += order[:cap - len(window)]
            self._cursor = start + cap
        keep = {id(t) for t in window}
        for tr in self._active:
            if id(tr) not in keep:
                self._close_track(tr)
                if tr.alive and tr.base_t is not None:
                    tr.catchup = True  # next reading spans the time it was not read
        active = []
        for tr in window:
            if tr.fd_st < 0 and not self._open_track(tr):
                continue
            active.append(tr)
        self._active = active

    def _open_track(self, tr: _Track) -> bool:
        path = f"{self.proc}/{tr.pid}/task/{tr.tid}/"
        try:
            tr.fd_st = os.open(path + "schedstat", READ_FLAGS)
        except OSError as exc:
            self._open_failed(tr, exc, "schedstat")
            return False
        if self._sc:
            try:
                tr.fd_sc = os.open(path + "syscall", READ_FLAGS)
            except OSError as exc:
                if exc.errno in _DENIED:
                    self._no_syscall("no permission to read /proc/PID/task/TID/syscall")
                elif exc.errno not in _GONE:
                    self._open_failed(tr, exc, "syscall")
                    return False
        return True

    def _open_failed(self, tr: _Track, exc: OSError, name: str) -> None:
        self._close_track(tr)
        if exc.errno in _GONE:
            self._ended(tr)
        elif exc.errno in (errno.EMFILE, errno.ENFILE):
            self._note("out of file descriptors: some threads were not read")
        elif exc.errno in _DENIED:
            self._note(f"no permission to read {name} of some threads: they are left out")
            self._ended(tr)
        else:
            self._note(f"cannot read {name} of some threads ({exc.strerror})")
            self._ended(tr)

    def _close_track(self, tr: _Track) -> None:
        for attr in ("fd_st", "fd_sc"):
            fd = getattr(tr, attr)
            if fd >= 0:
                setattr(tr, attr, -1)
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _close_all(self) -> None:
        for proc in list(self._procs.values()) + self._ended_procs:
            self._close_stat(proc)
            for tr in proc.tracks.values():
                self._close_track(tr)
        for tr in self._active:
            self._close_track(tr)

    # ---- reading ------------------------------------------------------------------------

    def _read(self, sched: bool = True) -> None:
        """Read the window's threads once: one syscall sample each, and (``sched``) the
        schedstat deltas since their last reading."""
        pread, clock, futex = os.pread, self._clock, self._futex
        for tr in self._active:
            if tr.fd_st < 0:
                continue
            zombie = False
            if tr.fd_sc >= 0:
                try:
                    sc = pread(tr.fd_sc, 64, 0)
                except OSError as exc:
                    if exc.errno in _DENIED:
                        self._no_syscall("no permission to read /proc/PID/task/TID/syscall")
                    elif exc.errno in _GONE:
                        self._ended(tr)
                        continue
                    sc = b""  # EAGAIN and the like: between states; no sample this time
                # "running" = on a CPU or runnable: says nothing about off-CPU time, but
                # see _close_interval for what it says about schedstat's lag.
                if sc:
                    tr.last_r = sc[0] == 114  # b"r"
                if sc and sc[0] != 114:
                    if sc.startswith(b"-1 0x0 0x0"):
                        # No user registers left: it has exited and waits to be reaped.
                        # Its schedstat still reads: take its last figures, then drop it.
                        zombie = True
                    else:
                        sp = sc.find(b" ")
                        if (sc[:sp] if sp > 0 else sc.strip()) in futex:
                            tr.n_lock += 1
                        else:
                            tr.n_io += 1
            # schedstat is exact whenever it is read, so a sleeping thread needs reading
            # less often than the syscall is sampled. But one on a CPU or runnable (or
            # one not sampled) is read every tick: a thread that ends loses what it did
            # since its last reading, and in a short run of many threads that tail was a
            # quarter of their time on a CPU.
            if not (sched or zombie or tr.base_t is None or tr.catchup or tr.last_r
                    or tr.fd_sc < 0):
                continue
            try:
                st = pread(tr.fd_st, 64, 0)
            except OSError as exc:
                self._open_failed(tr, exc, "schedstat")
                continue
            t = clock()
            try:
                fields = st.split()
                run, wait = int(fields[0]), int(fields[1])
            except (ValueError, IndexError):
                continue  # a torn or empty read: the next tick reads it again
            if tr.base_t is None:
                if not tr.new:  # there since start: this reading is its baseline
                    tr.base_run, tr.base_wait, tr.base_t = run, wait, t
                    continue
                # Born after start: count it all, from its birth.
                tr.base_t = self._birth(tr, t, run + wait)
                tr.catchup = True
            d_run = run - tr.base_run
            d_wait = wait - tr.base_wait
            span = t - tr.base_t
            off = span - d_run - d_wait  # may be < 0: see _Track.carry
            if zombie and off > 0:
                # It ran to its exit; what follows is time as a zombie, not a wait.
                off = 0
            tr.base_run, tr.base_wait, tr.base_t = run, wait, t
            if tr.catchup:
                # Time before this window (or before the thread was found) counts in its
                # totals, not in the live interval.
                tr.catchup = False
                tr.gap_run += d_run
                tr.gap_wait += d_wait
                tr.gap_off += off
                tr.gap_span += span
            else:
                tr.cur_run += d_run
                tr.cur_wait += d_wait
                tr.cur_off += off
                tr.cur_span += span
            if zombie:
                self._ended(tr)

    def _birth(self, tr: _Track, now: int, on_cpu_or_queued: int) -> int:
        """When a thread found after start began, on our clock (from /proc stat's start
        time, in clock ticks since boot); without it, assume it never left a CPU."""
        try:
            ticks = int(self._stat(f"{tr.pid}/task/{tr.tid}")[19])  # field 22: starttime
            boot_now = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
            born = now - (boot_now - ticks * 1_000_000_000 // self._clk_tck)
        except (TypeError, ValueError, IndexError, AttributeError):
            born = now - on_cpu_or_queued
        # It cannot predate the probe, nor be later than what it has already run.
        return max(self._t0, min(born, now - on_cpu_or_queued))

    # ---- intervals ----------------------------------------------------------------------

    def _close_interval(self, now: int, final: bool = False) -> None:
        """Split each thread's off-CPU time of the interval, add it up, publish.

        ``final``: the run's tail at stop(), shorter than an interval: it counts in the
        totals, but the live figures stay those of the last whole interval."""
        dt_ns = max(1, now - self._iv_start)
        split = self._split
        if not final:
            for proc in self._iv_procs:  # (only these hold figures of the last interval)
                proc.iv = [0.0] * 5
                proc.iv_n = 0
                proc.iv_cover = 0.0
            self._iv_procs = []
            self._iv_all = [0.0] * 5
            self._iv_cover_all = 0.0
        iv_all = self._iv_all
        m_all = self._m_all
        measured = 0
        counts = dict.fromkeys(STATES, 0)
        if not split:
            counts[OFF_CPU] = 0
        t_s = (now - self._t0) / 1e9
        for tr in self._active:
            if final:  # fold the tail into the totals only
                tr.gap_run += tr.cur_run
                tr.gap_wait += tr.cur_wait
                tr.gap_off += tr.cur_off
                tr.gap_span += tr.cur_span
                tr.cur_run = tr.cur_wait = tr.cur_off = tr.cur_span = 0
            has_cur = tr.cur_span > 0
            # (A thread that ended since the last interval may still hold time back.)
            if not (has_cur or tr.gap_span > 0 or (tr.carry > 0 and not tr.alive)):
                continue
            n = tr.n_lock + tr.n_io
            if n:
                tr.ratio = tr.n_lock / n
            r = tr.ratio if split else 0.0
            proc = tr.proc
            # Off-CPU time so far not counted. While the thread is runnable (its last
            # sample, taken with this reading, said so) part of it may be a run-queue
            # wait schedstat has not added yet: hold it all until a reading finds the
            # thread asleep, when nothing can be pending; or gone (it slept, woke, and
            # ended: the usual end of a thread). A deficit (a wait that arrived after
            # it was counted as off-CPU time) is carried the same way.
            x = tr.carry + tr.cur_off + tr.gap_off
            pending = 0
            if x <= 0 or (tr.alive and tr.last_r and self._sc):
                tr.carry, counted = x, 0
                if final and x > 0:  # no later reading will settle it: most likely the
                    tr.carry, pending = 0, x  # wait for a CPU it was in at the end
            else:
                tr.carry, counted = 0, x
            if has_cur:  # the live figures of this interval, which add up to its length
                off = min(counted, max(0, tr.cur_off)) / 1e9
                lock = off * r if split else 0.0
                run_s = tr.cur_run / 1e9
                wait_s = max(tr.cur_wait / 1e9, tr.cur_span / 1e9 - run_s - off)
                last = Times(run_s, wait_s, lock, off - lock if split else 0.0, off)
                iv = proc.iv
                if not proc.iv_n:
                    self._iv_procs.append(proc)
                for i, x in enumerate((last.running_s, last.core_wait_s, last.lock_wait_s,
                                       last.io_wait_s, off)):
                    iv[i] += x
                    iv_all[i] += x
                proc.iv_n += 1
                proc.iv_cover += tr.cur_span / 1e9
                self._iv_cover_all += tr.cur_span / 1e9
                measured += 1
                state = last.state
                if tr.alive and state:
                    counts[state] += 1
            else:
                last = tr.pub.last if tr.pub is not None else ZERO
                state = last.state
            # The totals: exact on-CPU and run-queue time, and the off-CPU time counted.
            off = counted / 1e9
            lock = off * r if split else 0.0
            add = ((tr.cur_run + tr.gap_run) / 1e9,
                   (tr.cur_wait + tr.gap_wait + pending) / 1e9,
                   lock, off - lock if split else 0.0, off)
            span = (tr.cur_span + tr.gap_span) / 1e9
            tot, m = tr.tot, proc.m
            for i in range(5):
                tot[i] += add[i]
                m[i] += add[i]
                m_all[i] += add[i]
            tr.covered += span
            proc.cover += span
            self._cover_all += span
            self._dirty.add(proc)
            tr.cur_run = tr.cur_wait = tr.cur_off = tr.cur_span = 0
            tr.gap_run = tr.gap_wait = tr.gap_off = tr.gap_span = 0
            tr.n_lock = tr.n_io = 0
            state = state or (tr.pub.state if tr.pub is not None else "")
            self._set_pub(tr, ThreadTimes(tr.pid, tr.tid, tr.alive, state, Times(*tot),
                                          last, tr.covered, t_s))
        if not self._sampling:
            self._settle_ended(t_s)
            if final:
                self._settle_root(t_s)
            self._settle_reaped(t_s)
        # Thread-seconds lived, for scaling up what a window measured (an estimate: the
        # live count at the interval's end stands for the whole interval).
        # Kept per process as a count of threads from a time on (see _life), settled
        # only for processes whose count changed: no pass over every process.
        dt_s = dt_ns / 1e9
        clock = self._life_clock
        for proc in self._changed:
            n = len(proc.tracks) if proc.alive else 0
            proc.life_base += proc.life_n * (clock - proc.life_at)
            proc.life_at = clock
            self._life_rate += n - proc.life_n
            proc.life_n = n
        self._changed = set()
        self._life_clock = clock + dt_s
        self._life_all += self._life_rate * dt_s
        if not final:
            self._iv_life_all = self._life_rate * dt_s
        for proc in self._iv_procs:  # (read only where the interval's figures are)
            if not proc.alive:
                proc.iv_life = 0.0
            elif not final:
                proc.iv_life = proc.life_n * dt_s
        self._iv_start = now
        if final:
            self._publish(now, measured, dt_s, counts, keep_live=self._pub)
            return
        if now >= self._next_discovery and self._machine_moved():
            self._discover(now)
        self._adapt(dt_s)
        self._rotate()
        self._publish(now, measured, dt_s, counts)

    def _adapt(self, dt_s: float) -> None:
        """Keep the probe near ``COST_TARGET`` of a core, whatever the tree's size.

        At 80 threads reading all of them costs under 1%; at a thousand processes the
        reads, the window's reopening and the bookkeeping of every process took over 3%.
        Above the target the window shrinks (fewer threads read an interval, the rest
        scaled up as when sampling); below it, it grows back to ``max_threads``."""
        if not self._adaptive or dt_s <= 0:
            return
        used = (self._cpu_s - self._cpu_at_iv) / dt_s
        self._cpu_at_iv = self._cpu_s
        self._cost = used if not self._cost else 0.7 * self._cost + 0.3 * used
        # Each interval also costs a pass over every process and thread seen (their
        # figures, the history): when sampling, intervals twice as long halve that.
        self._iv_ns = self._base_iv_ns * (2 if self._sampling else 1)
        # Only while sampling already: below ``max_threads`` the probe reads every
        # thread (~0.9% of a core at 80), and a window would cost its reopening too.
        if self._cost > 1.5 * COST_TARGET and self._cap > MIN_WINDOW and self._sampling:
            self._cap = max(MIN_WINDOW, int(self._cap * 0.7))
        elif self._cost < 0.7 * COST_TARGET and self._cap < self._max_cap:
            self._cap = min(self._max_cap, int(self._cap * 1.25) + 1)

    def _settle_ended(self, t_s: float) -> None:
        """Give threads that ended the time on a CPU they had after their last reading.

        A thread that ends takes with it what it ran since it was last read: in a short
        run of 80 threads under the GIL, a quarter of their time on a CPU. Its process
        keeps the sum: /proc/PID/stat's utime + stime count every thread, ended ones too
        (the kernel scales them to the exact run time; to a clock tick). Right after the
        interval's last reading, which read every live thread, what that sum has over
        the running time measured is what ended threads ran unseen (give or take the
        rounding, which is why the gap is compared with the one before)."""
        for proc in self._multi:
            if not proc.alive:
                continue
            cpu = self._stat_cpu(proc.pid)
            if cpu is None:
                continue
            gap = cpu - proc.m[0]
            extra = gap - proc.cpu_gap if proc.cpu_gap is not None else 0.0
            ended, proc.ended_since = proc.ended_since, []
            if extra > 2.0 / self._clk_tck and ended:
                share = extra / len(ended)
                for tr in ended:
                    self._add_running(tr, share, t_s)
                proc.m[0] += extra
                self._m_all[0] += extra
                self._dirty.add(proc)
            proc.cpu_gap = cpu - proc.m[0]

    def _settle_reaped(self, t_s: float) -> None:
        """The same for worker processes: one that ends and is reaped before the next
        tick takes its last moments on a CPU with it, but the root, which reaps it, then
        counts all its time in cutime + cstime. What those have gained since the start,
        less the running time measured of the processes that ended, is what they ran
        unseen; it goes to the processes that ended since the last interval. Only when
        the root had no child when the probe started (else cutime holds time before)."""
        kids, self._ended_kids = self._ended_kids, []
        for proc in kids:
            self._reaped_seen += proc.m[0]
        if self._reaped_base is None:
            return
        cpu = self._stat_cpu(self.root_pid, children=True)
        if cpu is None:
            return
        extra = (cpu - self._reaped_base) - self._reaped_seen - self._reaped_added
        if extra <= 2.0 / self._clk_tck or not kids:
            return  # rounding, or zombies counted here before their parent reaped them
        self._give(kids, extra, t_s)
        self._reaped_added += extra

    def _settle_root(self, t_s: float) -> None:
        """At the end, when the caller reaped the root before ``stop``: what the root and
        its reaped children ran (``tree_cpu_s``) over the running time measured of the
        whole tree is what the processes that ended since their last reading ran unseen:
        it goes to them (the root and its children that ended since the last interval)."""
        cpu = self._tree_cpu_s
        root = self._procs.get(self.root_pid)
        if cpu is None or root is None or root.alive:
            return  # a live root is read, and its children settled, as usual
        extra = cpu - self._m_all[0]  # (the whole tree's measured running time)
        if extra > 2.0 / self._clk_tck:
            self._give([root] + self._ended_kids, extra, t_s)
            self._reaped_added += extra  # (not again by _settle_reaped)

    def _give(self, procs: list[_Proc], extra: float, t_s: float) -> None:
        """Add ``extra`` seconds running to ``procs`` (equal shares, no better being
        known), each share to the threads of the process that were read (or, if none was,
        to its first: a root that ended before its first interval)."""
        share = extra / len(procs)
        threads: dict[int, list[_Track]] = {}
        for tr in self._tracks.values():
            threads.setdefault(id(tr.proc), []).append(tr)
        for proc in procs:
            proc.m[0] += share
            self._m_all[0] += share
            self._dirty.add(proc)
            mine = threads.get(id(proc), [])
            mine = [tr for tr in mine if tr.pub is not None] or mine[:1]
            for tr in mine:
                self._add_running(tr, share / len(mine), t_s, unread_too=True)

    def _add_running(self, tr: _Track, seconds: float, t_s: float,
                     unread_too: bool = False) -> None:
        """Add ``seconds`` running to thread ``tr``'s total and publish it anew; one never
        read is published only if ``unread_too`` (then its first figures are these)."""
        tr.tot[0] += seconds
        p = tr.pub
        if p is not None:
            self._set_pub(tr, ThreadTimes(p.pid, p.tid, p.alive, p.state, Times(*tr.tot),
                                          p.last, p.covered_s, t_s))
        elif unread_too:
            self._set_pub(tr, ThreadTimes(tr.pid, tr.tid, tr.alive, "", Times(*tr.tot),
                                          ZERO, tr.covered or t_s, t_s))

    def _stat_rest(self, path: str) -> bytes | None:
        """``/proc/PATH/stat`` after the command name (see ``procfs.stat_rest``)."""
        return stat_rest(f"{self.proc}/{path}")

    def _stat(self, path: str) -> list[bytes] | None:
        """The fields of ``/proc/PATH/stat`` after the command name, or None."""
        rest = self._stat_rest(path)
        return rest.split() if rest is not None else None

    def _stat_cpu(self, pid: int, children: bool = False) -> float | None:
        """utime + stime (or, ``children``, cutime + cstime) of ``pid`` in seconds."""
        fields = self._stat(f"{pid}")
        i = 13 if children else 11
        try:
            return (int(fields[i]) + int(fields[i + 1])) / self._clk_tck
        except (TypeError, ValueError, IndexError):
            return None

    def _set_pub(self, tr: _Track, pub: ThreadTimes) -> None:
        """Give ``tr`` new published figures (what the next snapshot holds for it, if it
        is still the latest thread of its (pid, tid))."""
        tr.pub = pub
        key = (tr.pid, tr.tid)
        if self._tracks.get(key) is tr:
            if self._thread_pub.get(key) is None:
                self._unpub -= 1
            self._thread_pub[key] = pub
            self._fresh_keys[key] = None

    def _life(self, proc: _Proc) -> float:
        """Thread-seconds ``proc`` lived, as of the last interval's end: each interval
        counts the threads it had at that end (the same estimate for the whole)."""
        return proc.life_base + proc.life_n * (self._life_clock - proc.life_at)

    def _publish(self, now: int, measured: int, dt_s: float = 0.0,
                 counts: dict[str, int] | None = None,
                 keep_live: Snapshot | None = None) -> None:
        split = self._split
        threads: list[ThreadTimes] = list(self._ended_pub)
        if counts is None:
            counts = dict.fromkeys(STATES + (() if split else (OFF_CPU,)), 0)
        # A process's figures are made anew only when something of it changed (its sums,
        # its threads, or it holds an interval's figures, which the next clears): with a
        # thousand processes, making every one at every interval cost 2.5% of a core.
        # (Under sampling a process out of the window keeps its last scaled figures until
        # it is read again, one rotation later; the tree's totals below are always
        # current.)
        dirty, self._dirty = self._dirty, set()
        for proc in dirty:
            live = len(proc.tracks) if proc.alive else 0
            life = self._life(proc)
            k = life / proc.cover if self._ever_sampled and proc.cover > 0 else 1.0
            # Scaled by thread-seconds (lived / measured), as the totals are.
            sampling = self._sampling and proc.iv_cover > 0
            kl = proc.iv_life / proc.iv_cover if sampling else 1.0
            proc.pub = ProcessTimes(proc.pid, proc.alive, proc.seen, live,
                                    Times(*proc.m).scaled(k), Times(*proc.iv).scaled(kl))
            if proc.iv_n > 0:
                self._dirty.add(proc)
        if dirty or not self._processes:
            # (The latest holder of a reused pid is the one looked up by pid.)
            procs = self._ended_procs + list(self._procs.values())
            self._processes = tuple(map(_PUB, procs))
            self._procs_pub = MappingProxyType(dict(zip(map(_PID, procs), self._processes)))
        m_all, cover_all, life_all = self._m_all, self._cover_all, self._life_all
        iv_all, iv_cover, iv_life = self._iv_all, self._iv_cover_all, self._iv_life_all
        live_all = self._live_threads
        # (Kept as the figures change: a pass over a thousand threads was a tenth of an
        # interval's cost.)
        pubs = self._thread_pub
        if self._unpub:
            by_thread = {k: v for k, v in pubs.items() if v is not None}
        else:
            by_thread = pubs.copy()
        threads.extend(by_thread.values())
        fresh_keys, self._fresh_keys = self._fresh_keys, {}
        fresh = self._ended_pub[self._ended_pub_n:]
        self._ended_pub_n = len(self._ended_pub)
        fresh.extend(v for v in map(pubs.get, fresh_keys) if v is not None)
        k_all = life_all / cover_all if self._ever_sampled and cover_all > 0 else 1.0
        kl_all = iv_life / iv_cover if self._sampling and iv_cover > 0 else 1.0
        last = Times(*iv_all).scaled(kl_all)
        last_fraction = measured / live_all if self._sampling and live_all else 1.0
        states_now = MappingProxyType(counts)
        if keep_live is not None and keep_live.available:
            # The run's tail at stop(): the live figures stay the last whole interval's.
            last, dt_s, states_now = keep_live.last, keep_live.interval_s, keep_live.states_now
            last_fraction = keep_live.last_sampled_fraction
        self._pub = Snapshot(
            available=True, notes=tuple(self._notes), lock_split=split,
            wall_s=(now - self._t0) / 1e9, interval_s=dt_s,
            total=Times(*m_all).scaled(k_all), last=last,
            states_now=states_now,
            threads_seen=self._seen, threads_live=live_all,
            processes_live=sum(1 for p in self._procs.values() if p.alive),
            sampled=self._ever_sampled,
            sampled_fraction=min(1.0, cover_all / life_all) if self._ever_sampled
            and life_all > 0 else 1.0,
            last_sampled_fraction=last_fraction,
            probe_cpu_s=self._cpu_s,
            threads=tuple(threads), processes=self._processes,
            _by_thread=MappingProxyType(by_thread), _by_pid=self._procs_pub,
            _seq=next(_SEQ), _after=self._pub._seq, _fresh=tuple(fresh),
        )

"""Samples the machine and the runner with psutil: cores, process tree, threads.

Call ``sample()`` on a timer (1–4 Hz). It never blocks: every figure is a difference
between this reading and the previous one, and the first reading only sets the baseline.
Each Sampler keeps its own baseline (psutil.cpu_percent's is global, shared by all callers).
"""
from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field

import psutil

from ..engine.facts import usable_cpus
from .procfs import READ_FLAGS, pid_counters, stat_fields, stat_rest

HISTORY = 120  # samples kept per core: a minute at 2 Hz
#: Above this many threads in the runner, a sample counts them but does not read each one
#: (a file per thread: 10,000 threads would cost ~0.1 s of CPU per sample).
THREAD_DETAIL = 256
_PROC = "/proc"
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class ThreadLoad:
    tid: int
    cpu_s: float  # CPU seconds so far
    share: float  # fraction of one core over the last interval


@dataclass
class Sample:
    """One reading. Percentages are 0..100; parallelism is in cores (CPU s per wall s)."""

    t: float
    per_core: list[float]
    tree_cpu_s: float = 0.0  # CPU seconds of the runner and all its descendants, so far
    parallelism_now: float = 0.0  # over the last interval
    processes: int = 0  # live processes in the runner's tree
    threads: list[ThreadLoad] = field(default_factory=list)  # the runner's live threads
    #: Cores the runner process itself (all its threads, also those that ended since the
    #: last sample; not its child processes) kept busy over the last interval.
    runner_share: float = 0.0
    #: The runner's live threads; ``threads`` details them only up to THREAD_DETAIL.
    thread_count: int = 0

    @property
    def total(self) -> float:
        return sum(self.per_core) / len(self.per_core) if self.per_core else 0.0


def _busy(a, b) -> float:
    """Percent busy of one core between two cpu_times readings."""
    idle_a = a.idle + getattr(a, "iowait", 0.0)
    idle_b = b.idle + getattr(b, "iowait", 0.0)
    total = sum(b) - sum(a)
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, 100.0 * (1.0 - (idle_b - idle_a) / total)))


class Sampler:
    """Per-core load for the whole machine, and the CPU of one runner's process tree."""

    def __init__(self, history: int = HISTORY) -> None:
        self.cpu_count = usable_cpus()
        self.logical_cores = psutil.cpu_count() or 1
        self.history: list[deque] = [deque(maxlen=history) for _ in range(self.logical_cores)]
        self.parallelism_history: deque = deque(maxlen=history)
        self._last_cores = psutil.cpu_times(percpu=True)
        self._last_t = time.monotonic()
        self._primed = False
        self._root: psutil.Process | None = None
        self._last_tree: float | None = None
        self._last_threads: dict[int, float] = {}
        self._last_own: float | None = None
        self._reader: _TreeReader | None = None

    def close(self) -> None:
        """Let go of the files kept open between samples."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def watch(self, pid: int | None) -> None:
        """Follow the process tree of ``pid`` (a runner), or nothing when None."""
        self.close()
        self._root = None
        self._last_tree = None
        self._last_threads = {}
        self._last_own = None
        if pid is not None:
            try:
                self._root = psutil.Process(pid)
            except psutil.Error:
                self._root = None

    def sample(self) -> Sample:
        now = time.monotonic()
        dt = max(1e-6, now - self._last_t)
        cores = psutil.cpu_times(percpu=True)
        per_core = [_busy(a, b) for a, b in zip(self._last_cores, cores)]
        self._last_cores, self._last_t = cores, now
        if self._primed:
            for hist, value in zip(self.history, per_core):
                hist.append(value)
        self._primed = True  # the first reading spans whatever came before: not history

        s = Sample(t=now, per_core=per_core)
        if self._root is not None:
            tree, procs, own, nthreads = self._tree_cpu()
            if own is not None:
                if self._last_own is not None:
                    s.runner_share = max(0.0, (own - self._last_own) / dt)
                self._last_own = own
            s.processes = procs
            if tree is not None:
                s.tree_cpu_s = tree
                if self._last_tree is not None:
                    s.parallelism_now = max(0.0, (tree - self._last_tree) / dt)
                self._last_tree = tree
            s.thread_count = nthreads
            s.threads = self._threads(dt) if nthreads <= THREAD_DETAIL else []
            if not s.threads:
                self._last_threads = {}
        self.parallelism_history.append(s.parallelism_now)
        return s

    def _tree_cpu(self) -> tuple[float | None, int, float | None, int]:
        """CPU seconds of the runner's tree (itself, live descendants, reaped ones), the
        number of live processes in it, the runner's own CPU seconds and its threads."""
        read = None
        if os.path.isdir(_PROC):
            if self._reader is None or self._reader.root != self._root.pid:
                self.close()
                self._reader = _TreeReader(self._root.pid)
            read = self._reader.read()
        if read is None:
            read = self._tree_from_psutil()
        if read is None:
            return self._last_tree, 0, None, 0
        total, procs, own, nthreads = read
        if self._last_tree is not None and total < self._last_tree:
            total = self._last_tree  # a child was between states; never go backwards
        return total, procs, own, nthreads

    def _tree_from_psutil(self):
        root = self._root
        try:
            with root.oneshot():
                t = root.cpu_times()
                own = t.user + t.system
                total = own + t.children_user + t.children_system
                nthreads = root.num_threads()
            kids = root.children(recursive=True)
        except psutil.Error:
            return None
        for kid in kids:
            try:
                k = kid.cpu_times()
                total += k.user + k.system
            except psutil.Error:
                pass  # ended between listing and reading; its time moves to the parent
        return total, 1 + len(kids), own, nthreads

    def _threads(self, dt: float) -> list[ThreadLoad]:
        try:
            threads = self._root.threads()
        except psutil.Error:
            return []
        out = []
        last = self._last_threads
        self._last_threads = {}
        for th in threads:
            cpu = th.user_time + th.system_time
            self._last_threads[th.id] = cpu
            prev = last.get(th.id)
            share = 0.0 if prev is None else max(0.0, (cpu - prev) / dt)
            out.append(ThreadLoad(th.id, cpu, share))
        return out


def _stat(pid: str) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (field 3 on), or None."""
    rest = stat_rest(f"{_PROC}/{pid}")
    return rest.split() if rest is not None else None


class _TreeReader:
    """The CPU of one process tree from /proc, a sample at a time, keeping each member's
    stat file open between samples.

    Every sample reads each candidate's stat to find the tree (a process's parent can
    change); a member's file is re-read with ``pread`` (2-3 us) instead of opened, read and
    closed (~10 us), which with a thousand workers was most of a sample. At most
    ``max_open`` files are held; the rest are opened each time, as before. /proc is listed
    for new candidates only when the kernel has handed out a pid since the last sample.

    A process found outside the tree is not read again while its pid stays listed: it
    cannot join the tree (a process is only ever re-parented to init or a subreaper, which
    a run does not make), and reading the machine's other processes was a fifth of a
    sample. (A pid ended and reused between two samples would be missed: it takes the
    kernel's pids wrapping around within a second.)"""

    def __init__(self, root: int, max_open: int | None = None) -> None:
        self.root = root
        self.fds: dict[int, int] = {}
        self.max_open = _fd_budget() if max_open is None else max_open
        self.outside: set[int] = set()  # pids seen outside the tree, still listed
        # Each held file's last line, with its parent and CPU ticks (see read).
        self._seen: dict[int, tuple[bytes, int, int]] = {}
        self._last_pid: int | None = None  # as /proc/loadavg gave it at the last read
        self._candidates: set[int] | None = None  # the pids read looked at, less outside

    def close(self) -> None:
        for fd in self.fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()

    def _fields(self, pid: int) -> list[bytes] | None:
        fd = self.fds.get(pid)
        if fd is not None:
            fields = _pread_fields(fd)
            if fields is not None:
                return fields
            del self.fds[pid]  # it ended (ESRCH); the pid may be a new process's now
            os.close(fd)
        if len(self.fds) >= self.max_open:
            return _stat(str(pid))
        # Opened once and kept: a new member is read again at the next sample (a thousand
        # workers starting were each opened twice, once to read and once to keep), and a
        # process outside the tree is closed after this sample and never read again.
        try:
            fd = os.open(f"{_PROC}/{pid}/stat", READ_FLAGS)
        except OSError:
            return None
        fields = _pread_fields(fd)
        if fields is None:
            os.close(fd)
        else:
            self.fds[pid] = fd
        return fields

    def read(self):
        """(CPU s of the tree with its reaped children, live processes in it, the root's
        own CPU s, the root's threads), or None when the root is gone."""
        root = self.root
        mine = self._fields(root)
        if mine is None:
            self.close()
            return None
        # fields from 3: state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14 threads=17
        own = (int(mine[11]) + int(mine[12])) / _TICK
        total = own + (int(mine[13]) + int(mine[14])) / _TICK
        nthreads = int(mine[17])
        last_pid = _last_pid()
        if (last_pid is not None and last_pid == self._last_pid
                and self._candidates is not None):
            # No pid handed out since the last listing: no process is new, so the
            # candidates are the last ones (an ended one fails its read). Listing /proc
            # was a third of a sample with a thousand sleeping workers.
            listed, candidates = None, self._candidates
        else:
            try:
                names = os.listdir(_PROC)
            except OSError:
                return None
            listed = set(map(int, filter(str.isdigit, names)))
            candidates = listed - self.outside - {root}
        self._last_pid = last_pid
        # A loop over the candidates alone: with a thousand workers it is most of a
        # sample, taken every second.
        outside, fds, pread = self.outside, self.fds, os.pread
        parent_of: dict[int, int] = {}
        ticks_of: dict[int, int] = {}
        seen, last = self._seen, {}
        for pid in candidates:
            fd = fds.get(pid)
            data = None
            if fd is not None:
                try:
                    data = pread(fd, 4096, 0)
                except OSError:
                    pass
                if data:
                    known = seen.get(pid)
                    if known is not None and known[0] == data:
                        # The same line as last time (a sleeping worker's never changes):
                        # the same parent and CPU, without parsing it again.
                        last[pid] = known
                        parent_of[pid], ticks_of[pid] = known[1], known[2]
                        continue
            # (state=0 ppid=1 ... utime=11 stime=12: the rest is left unsplit)
            f = stat_fields(data, 13) if data else self._fields(pid)
            if f is None or len(f) < 14:
                continue
            parent_of[pid] = ppid = int(f[1])
            ticks_of[pid] = ticks = int(f[11]) + int(f[12])
            if data:
                last[pid] = (data, ppid, ticks)
        self._seen = last
        children: dict[int, list[int]] = {}
        for pid, ppid in parent_of.items():
            children.setdefault(ppid, []).append(pid)
        members = {root}
        stack, procs, ticks = list(children.get(root, ())), 1, 0
        while stack:
            pid = stack.pop()
            procs += 1
            members.add(pid)
            ticks += ticks_of[pid]
            stack.extend(children.get(pid, ()))
        total += ticks / _TICK
        if listed is not None:
            outside &= listed  # a pid no longer listed has ended: if it comes back, look again
            # (Only when its parent was listed too: one started during the listing may be
            # the child of a new member not yet listed.)
            outside.update(pid for pid, ppid in parent_of.items()
                           if pid not in members and (ppid in listed or ppid == 0))
            self._candidates = set(parent_of) - outside
        else:
            self._candidates = set(parent_of)  # less those that ended
        self._keep_open(members)
        return total, procs, own, nthreads

    def _keep_open(self, members: set[int]) -> None:
        for pid in self.fds.keys() - members:  # ended, or left the tree
            os.close(self.fds.pop(pid))
        for pid in members - self.fds.keys():
            if len(self.fds) < self.max_open:
                try:
                    self.fds[pid] = os.open(f"{_PROC}/{pid}/stat", READ_FLAGS)
                except OSError:
                    pass  # ended since it was read: the next listing drops it


def _last_pid() -> int | None:
    """The last pid the kernel handed out (in this pid namespace), or None."""
    counters = pid_counters(_PROC)
    return counters[1] if counters is not None else None


def _pread_fields(fd: int) -> list[bytes] | None:
    """The fields after the command name in an open stat file, or None once it has ended
    (the fields after the 18th are never used: left unsplit)."""
    try:
        data = os.pread(fd, 4096, 0)
    except OSError:
        return None
    return stat_fields(data, 18) if data else None


def _fd_budget() -> int:
    """Files the reader may hold: well inside the open-file limit."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft != resource.RLIM_INFINITY:
            return max(0, soft // 2 - 128)
    except (ImportError, OSError, ValueError):
        pass
    return 4096

"""A session runs one experiment in a runner process and follows it.

Both the headless CLI and the app drive it the same way::

    session = Session(config)
    session.start()
    while not session.done:
        for event in session.poll():     # or: for event in session.events(): ...
            ...
        fractions = session.progress()   # per-task progress, read from shared memory
    result = session.result()

``start`` and ``poll`` never block; ``stop`` ends the run and everything it started within
about two seconds. Events are parsed on a reader thread and applied to the task table in the
thread that polls, so the caller owns all state.
"""
from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Iterator

from ..engine import progress as progress_map
from ..engine.boot import boot_command
from .config import RunConfig, usable_cpus
from .results import RunResult, TaskResult

STOP_GRACE_S = 1.2  # the runner's own clean stop, before the whole group is killed
_EOF = object()


@dataclass
class TaskState:
    """What is known of one task so far."""

    id: int
    state: str = "waiting"  # waiting, running, done, failed
    pid: int | None = None
    tid: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    cpu_s: float | None = None
    error: str | None = None
    traceback: str | None = None


class Session:
    """One run: start it, poll its events and progress, stop it, get its result."""

    def __init__(self, config: RunConfig, *, cpu_count: int | None = None) -> None:
        self.config = config
        self.cpu_count = cpu_count or usable_cpus()
        self.workers = config.effective_workers(self.cpu_count)
        self.tasks = [TaskState(i) for i in range(config.tasks)]
        self.counts = {"waiting": config.tasks, "running": 0, "done": 0, "failed": 0}
        self.started: dict | None = None  # the run-started event
        self.finished: dict | None = None  # the run-finished event
        self.stderr_tail = ""
        self.runner_pid: int | None = None
        self._proc: subprocess.Popen | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._reader: threading.Thread | None = None
        self._err_reader: threading.Thread | None = None
        self._path: str | None = None
        self._mm = None
        self._view = None
        self._stop_requested = False
        self._t_start = 0.0  # monitor's monotonic time at start()
        self._t_end: float | None = None
        self._rusage_cpu: float | None = None
        self._returncode: int | None = None
        self._reaped = threading.Event()
        self._eof_seen = False

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> "Session":
        """Start the runner; returns at once."""
        if self._proc is not None:
            raise RuntimeError("a session runs once; make a new one")
        cfg = self.config
        self._path, self._mm, self._view = progress_map.create_map(cfg.tasks)
        spec = {
            "mode": cfg.mode, "workload": cfg.workload, "tasks": cfg.tasks, "n": cfg.n,
            "sleep": cfg.sleep, "workers": self.workers, "nice": cfg.nice,
            "fail_tasks": list(cfg.fail_tasks), "progress_path": self._path,
        }
        self._t_start = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                boot_command(cfg.python_executable, spec),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: one signal reaches all
                close_fds=True,
            )
        except OSError:
            progress_map.unlink(self._path)
            raise
        self.runner_pid = self._proc.pid
        self._reader = threading.Thread(target=self._read_events, name="conc-tui-events",
                                        daemon=True)
        self._err_reader = threading.Thread(target=self._read_stderr, name="conc-tui-stderr",
                                            daemon=True)
        # The stderr reader first: the events reader joins it once the runner has exited,
        # which can happen before this thread gets to run again.
        self._err_reader.start()
        self._reader.start()
        return self

    @property
    def running(self) -> bool:
        return self._proc is not None and self.finished is None

    @property
    def done(self) -> bool:
        """True once the run has ended and every event has been applied."""
        return self.finished is not None and self._eof_seen

    def stop(self, timeout: float = 2.0) -> None:
        """End the run (status ``cancelled``) and every process it started; idempotent."""
        proc = self._proc
        if proc is None:
            return
        if not self._reaped.is_set():
            self._stop_requested = True
            try:
                proc.stdin.write(b"stop\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass
            if not self._reaped.wait(min(STOP_GRACE_S, timeout * 0.6)):
                self._kill_group()
            self._reaped.wait(max(0.1, timeout * 0.4))
        if self._reader is not None:
            self._reader.join(0.5)
        self._release()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the runner has exited; True if it has."""
        return self._reaped.wait(timeout)

    def close(self) -> None:
        """Stop if running, and release everything."""
        self.stop()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- events ------------------------------------------------------------------------

    def poll(self) -> list[dict]:
        """Every event that arrived since the last call, applied to the task table."""
        out = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _EOF:
                self._on_eof()
                continue
            self._apply(item)
            out.append(item)
        return out

    def events(self, timeout: float | None = None) -> Iterator[dict]:
        """Yield events as they arrive, until the run has ended (or ``timeout`` passes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            wait = 0.25 if deadline is None else max(0.0, min(0.25, deadline - time.monotonic()))
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    return
                continue
            if item is _EOF:
                self._on_eof()
                continue
            self._apply(item)
            yield item

    def progress(self) -> list[float]:
        """Per-task fraction done (0..1), straight from the shared map."""
        if self._view is not None:
            try:
                return self._view.tolist()[: self.config.tasks]
            except ValueError:  # released meanwhile
                pass
        return [1.0 if t.state in ("done",) else 0.0 for t in self.tasks]

    def elapsed(self) -> float:
        """Seconds since the run started, live while it runs, final once it ended."""
        if self.finished is not None and "wall_s" in self.finished:
            return float(self.finished["wall_s"])
        if self.started is not None:
            return max(0.0, time.monotonic() - float(self.started["t0"]))
        if self._proc is None:
            return 0.0
        end = self._t_end if self._t_end is not None else time.monotonic()
        return max(0.0, end - self._t_start)

    def result(self) -> RunResult:
        """The run summarised (partial while it still runs)."""
        fin = self.finished or {}
        started = self.started or {}
        wall = float(fin.get("wall_s", self.elapsed()))
        cpu = fin.get("cpu_s")
        if cpu is None:
            cpu = self._rusage_cpu
        if cpu is None:
            cpu = sum(t.cpu_s or 0.0 for t in self.tasks)
        status = fin.get("status", "running" if self.finished is None else "failed")
        return RunResult(
            mode=self.config.mode, workload=self.config.workload, tasks=self.config.tasks,
            n=self.config.n, sleep=self.config.sleep, workers=self.workers,
            python=started.get("python") or {"executable": self.config.python_executable},
            cpu_count=int(started.get("cpu_count", self.cpu_count)),
            wall_s=wall, cpu_s=float(cpu), status=status,
            task_results=[TaskResult(t.id, t.state, t.pid, t.tid, t.start_s, t.end_s, t.cpu_s,
                                     t.error) for t in self.tasks],
            error=fin.get("error"),
        )

    # -- inside -------------------------------------------------------------------------

    def _apply(self, ev: dict) -> None:
        kind = ev.get("kind")
        if kind in ("task-started", "task-done", "task-failed"):
            try:
                task = self.tasks[int(ev["id"])]
            except (KeyError, ValueError, IndexError):
                return
            new = {"task-started": "running", "task-done": "done", "task-failed": "failed"}[kind]
            self.counts[task.state] -= 1
            self.counts[new] += 1
            task.state = new
            task.pid = ev.get("pid", task.pid)
            task.tid = ev.get("tid", task.tid)
            if kind == "task-started":
                task.start_s = ev.get("t")
            else:
                task.end_s = ev.get("t")
                task.cpu_s = ev.get("cpu_s")
                if kind == "task-failed":
                    task.error = ev.get("error")
                    task.traceback = ev.get("traceback")
        elif kind == "run-started":
            self.started = ev
            self.cpu_count = int(ev.get("cpu_count") or self.cpu_count)
        elif kind == "run-finished":
            self.finished = ev

    def _on_eof(self) -> None:
        self._eof_seen = True
        if self.finished is None:  # the runner died without saying how it ended
            status = "cancelled" if self._stop_requested else "failed"
            wall = self.elapsed() if self.started is not None else 0.0
            error = None
            if status == "failed":
                error = (self.stderr_tail.strip().splitlines() or
                         [f"runner exited with status {self._returncode}"])[-1]
            self.finished = {"kind": "run-finished", "status": status, "wall_s": wall,
                             "cpu_s": self._rusage_cpu, "error": error, "synthetic": True}

    def _read_events(self) -> None:
        proc = self._proc
        fd = proc.stdout.fileno()
        buf = b""
        unlinked = False
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], 0.25)
            except InterruptedError:
                continue
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    self._push_line(line)
                if not unlinked and b"run-started" in chunk:
                    progress_map.unlink(self._path)  # both sides have it mapped now
                    unlinked = True
            elif self._runner_exited():
                # The runner is gone but a descendant still holds the pipe: end them.
                self._kill_group()
        if buf:
            self._push_line(buf)
        # The runner is gone: its block's name goes too, even if it never said run-started
        # and nobody calls stop() (the monitor keeps its own mapping for progress()).
        progress_map.unlink(self._path)
        self._reap()
        self._queue.put(_EOF)

    def _push_line(self, line: bytes) -> None:
        line = line.strip()
        if not line:
            return
        try:
            ev = json.loads(line)
        except ValueError:
            return
        if isinstance(ev, dict):
            self._queue.put(ev)

    def _read_stderr(self) -> None:
        tail = b""
        for chunk in iter(lambda: self._proc.stderr.read1(4096), b""):
            tail = (tail + chunk)[-8192:]
            self.stderr_tail = tail.decode("utf-8", "replace")

    def _runner_exited(self) -> bool:
        try:
            info = os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _kill_group(self) -> None:
        """SIGKILL the runner's process group, while the runner's pid still holds it."""
        if self._proc is None or self._reaped.is_set():
            return
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self) -> None:
        proc = self._proc
        # Wait without reaping, end stragglers in the group, then reap for rusage.
        try:
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _, status, usage = os.wait4(proc.pid, 0)
            self._rusage_cpu = usage.ru_utime + usage.ru_stime
            self._returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            self._returncode = proc.returncode
        proc.returncode = self._returncode
        self._t_end = time.monotonic()
        if self._err_reader is not None:
            self._err_reader.join(1.0)
        self._reaped.set()

    def _release(self) -> None:
        if self._path is not None:
            progress_map.unlink(self._path)
        for pipe in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            try:
                pipe.close()
            except Exception:
                pass

"""The run source of a real run: a runner process on this machine.

It makes the shared-memory progress file, starts the runner (``RunnerProcess``), turns each
line the runner writes into a typed event (``protocol.parse_line``) on the reader thread, and
hands them out through ``poll``. The runner's own ``run-finished`` is held back until the
runner has exited and been reaped, so that once a caller has seen the end, nothing of the run
is left; a runner that died without saying how it ended gets a ``synthetic`` one, with the
last line of its diagnostics as the reason.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections import deque

from ..engine import progress as progress_map
from ..engine import registry
from ..engine.boot import boot_command
from ..engine.protocol import Event, RunFinished, RunStarted, parse_line
from .config import ConfigError, RunConfig, usable_cpus
from .limits import check_limits
from .runner_process import RunnerProcess
from .sources import Capabilities, StartError


def runner_death(returncode: int | None, stderr_tail: str) -> str:
    """Why a runner ended without reporting the end of its run, in one line."""
    last = (stderr_tail.strip().splitlines() or [""])[-1].strip()
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "?"
        why = f"runner killed by signal {-returncode} ({name})"
        if -returncode == getattr(signal, "SIGBUS", 0):
            why += f": out of shared memory in {progress_map.shm_dir()}?"
        return f"{why}; it said: {last}" if last else why
    return last or f"the runner exited with status {returncode} without finishing the run"


class RunnerSource:
    """Runs ``config`` in a runner process. See ``sources.RunSource`` for the interface."""

    capabilities = Capabilities(progress=True, process_tree=True)

    def __init__(self, config: RunConfig, *, cpu_count: int | None = None) -> None:
        self.config = config
        if config.scheduler is not None:
            # The work runs on a cluster's own workers, not in a process tree here: no
            # sampler can follow it (the result's CPU comes from the tasks themselves).
            self.capabilities = Capabilities(progress=True, process_tree=False,
                                             samples_run=False)
        self.cpu_count = cpu_count or usable_cpus()
        self.workers = config.effective_workers(self.cpu_count)
        self.runner_pid: int | None = None
        self._process: RunnerProcess | None = None
        self._events: deque = deque()
        self._arrived = threading.Condition()
        self._ended = threading.Event()  # the runner is gone and its last event queued
        self._held: RunFinished | None = None  # the runner's run-finished, until it exits
        self._started: RunStarted | None = None
        self._finished: RunFinished | None = None  # once handed to the queue
        self._stop_requested = False
        self._path: str | None = None
        self._mm = None
        self._view = None
        self._t_start = 0.0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("a source runs once; make a new one")
        cfg = self.config
        try:
            check_limits(cfg, self.cpu_count)
        except ConfigError as exc:
            raise StartError(str(exc)) from None
        try:
            self._path, self._mm, self._view = progress_map.create_map(cfg.tasks)
        except OSError as exc:
            raise StartError(f"cannot create the progress map in {progress_map.shm_dir()}: "
                             f"{exc.strerror or exc}") from None
        spec = {
            "mode": cfg.mode, "workload": cfg.workload, "tasks": cfg.tasks, "n": cfg.n,
            "sleep": cfg.sleep, "workers": self.workers, "nice": cfg.nice,
            "fail_tasks": list(cfg.fail_tasks), "progress_path": self._path,
            "gil": cfg.gil,
        }
        if registry.mode(cfg.mode).host == "dask-host":
            # The Dask host needs distributed: conc-tui's own interpreter runs it.
            spec.update(threads_per_worker=cfg.threads_per_worker, scheduler=cfg.scheduler)
            argv = [sys.executable, "-m", "conc_tui.monitor.dask_host", json.dumps(spec)]
        else:
            argv = boot_command(cfg.python_executable, spec)
        self._process = RunnerProcess(argv, on_line=self._on_line, on_exit=self._on_exit)
        self._t_start = time.monotonic()
        try:
            self._process.start()
        except OSError as exc:
            progress_map.unlink(self._path)
            raise StartError(f"cannot start the runner: {exc.strerror or exc}") from None
        self.runner_pid = self._process.pid

    def stop(self, timeout: float = 2.0) -> None:
        if self._process is None:
            return
        if not self._process.reaped:
            self._stop_requested = True
        self._process.stop(timeout)
        self._release()

    def hurry(self) -> None:
        """Kill the runner's whole process group now (a stop that should not wait)."""
        if self._process is not None:
            self._stop_requested = True
            self._process.kill_group()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the runner has exited and the run's last event is queued."""
        return self._process is not None and self._ended.wait(timeout)

    def close(self) -> None:
        self.stop()

    # -- what it hands out ----------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> list[Event]:
        with self._arrived:
            if not self._events and timeout > 0 and self._finished is None:
                self._arrived.wait(timeout)
            out = list(self._events)
            self._events.clear()
        return out

    def progress(self) -> list[float] | None:
        view = self._view
        if view is not None:
            try:
                return view.tolist()[: self.config.tasks]
            except ValueError:  # released meanwhile
                pass
        return None

    def elapsed(self) -> float:
        if self._finished is not None:
            return float(self._finished.wall_s)
        if self._started is not None:
            return max(0.0, time.monotonic() - float(self._started.t0))
        if self._process is None:
            return 0.0
        end = self._process.exited_at or time.monotonic()
        return max(0.0, end - self._t_start)

    @property
    def reaped_cpu_s(self) -> float | None:
        """CPU seconds of the runner and its reaped children, once it has been reaped."""
        proc = self._process
        return proc.rusage_cpu if proc is not None and proc.reaped else None

    @property
    def stderr_tail(self) -> str:
        return self._process.stderr_tail if self._process is not None else ""

    # -- reader thread ---------------------------------------------------------------------

    def _on_line(self, line: bytes) -> None:
        ev = parse_line(line)
        if isinstance(ev, RunStarted):
            self._started = ev
            progress_map.unlink(self._path)  # both sides have it mapped now
        elif isinstance(ev, RunFinished):
            if self._held is None:
                self._held = ev
                self._process.finished_said.set()
            return
        self._push(ev)

    def _on_exit(self) -> None:
        # The runner is gone: its block's name goes too, even if it never said run-started
        # and nobody calls stop() (this side keeps its own mapping for progress()).
        progress_map.unlink(self._path)
        proc = self._process
        fin = self._held
        if fin is None:  # the runner died without saying how the run ended
            status = "cancelled" if self._stop_requested else "failed"
            error = None
            if status == "failed":
                error = runner_death(proc.returncode, proc.stderr_tail)
            wall = self.elapsed() if self._started is not None else 0.0
            fin = RunFinished(status=status, wall_s=wall, cpu_s=proc.rusage_cpu, error=error,
                              synthetic=True)
        elif fin.cpu_s is None:
            fin.cpu_s = proc.rusage_cpu
        with self._arrived:
            self._finished = fin
        self._push(fin)
        self._ended.set()

    def _push(self, ev: Event) -> None:
        with self._arrived:
            self._events.append(ev)
            self._arrived.notify_all()

    def _release(self) -> None:
        if self._path is not None:
            progress_map.unlink(self._path)
        if self._process is not None:
            self._process.close()

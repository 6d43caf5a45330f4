"""A session: one run, from a run source, reduced to its state.

It joins the two halves of the data path: a source (``sources.RunSource``: a runner process,
a script...) hands out typed events; the reducer (``runstate.RunState``) turns them into
task states, counts and spans. Both the headless CLI and the app drive it the same way::

    session = Session(config)            # a runner process, by default
    session.start()
    while not session.done:
        events = session.poll(0.1)      # typed events; session.changed: task ids
        fractions = session.progress()  # per-task progress
    result = session.result()

``start`` and ``poll()`` never block (``poll(timeout)`` waits that long at most for the first
event); ``stop`` ends the run and everything it started within about two seconds. Events are
applied in the thread that polls, so the caller owns all state.
"""
from __future__ import annotations

import time
from typing import Iterator

from ..engine.protocol import Event, RunFinished
from .config import RunConfig
from .results import RunResult, TaskResult
from .runner_source import RunnerSource
from .runstate import RunState, TaskState
from .sources import RunSource

__all__ = ["Session", "TaskState"]


class Session:
    """One run: start it, poll its events and progress, stop it, get its result."""

    def __init__(self, config: RunConfig, *, source: RunSource | None = None) -> None:
        self.config = config
        self.source: RunSource = source if source is not None else RunnerSource(config)
        self.cpu_count = self.source.cpu_count
        self.workers = config.effective_workers(self.cpu_count)
        self.state = RunState(config.tasks)
        self._started = False
        #: Ids of the tasks whose state the last poll changed (the task grid repaints them).
        self.changed: set[int] = set()
        #: What the last poll's events said that is worth a line of its own (a task that
        #: restarted elsewhere, an unreadable line...): the reducer's new warnings.
        self.notes: list[str] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> "Session":
        """Start the run; returns at once. Raises ``sources.StartError`` with the reason."""
        if self._started:
            raise RuntimeError("a session runs once; make a new one")
        self._started = True
        self.source.start()
        return self

    @property
    def runner_pid(self) -> int | None:
        return self.source.runner_pid

    @property
    def running(self) -> bool:
        return self._started and self.state.finished is None

    @property
    def done(self) -> bool:
        """True once the run has ended and every event has been applied."""
        return self.state.finished is not None

    def stop(self, timeout: float = 2.0) -> None:
        """End the run (status ``cancelled``) and every process it started; idempotent."""
        if self._started:
            self.source.stop(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (its last events may still wait for ``poll``)."""
        return self._started and self.source.wait(timeout)

    def close(self) -> None:
        """Stop if running, and release everything."""
        if self._started:
            self.source.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- state ---------------------------------------------------------------------------

    @property
    def tasks(self) -> list[TaskState]:
        return self.state.tasks

    @property
    def counts(self) -> dict[str, int]:
        return self.state.counts

    @property
    def started(self):
        """The run-started event, once it came."""
        return self.state.started

    @property
    def finished(self) -> RunFinished | None:
        return self.state.finished

    def poll(self, timeout: float = 0.0) -> list[Event]:
        """Every event that arrived since the last call (waiting up to ``timeout`` for the
        first), applied to the run's state; ``changed`` then holds the ids of the tasks whose
        state they changed."""
        if not self._started or self.done:
            self.changed, self.notes = set(), []
            return []
        events = self.source.poll(timeout)
        before = len(self.state.warnings)
        self.changed = self.state.apply(events)
        self.notes = self.state.warnings[before:]
        if events and self.state.started is not None:
            self.cpu_count = self.state.started.cpu_count
        return events

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Yield events as they arrive, until the run has ended (or ``timeout`` passes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            wait = 0.25 if deadline is None else max(0.0, min(0.25, deadline - time.monotonic()))
            yield from self.poll(wait)
            if deadline is not None and time.monotonic() >= deadline and not self.done:
                return

    def progress(self) -> list[float]:
        """Per-task fraction done (0..1): live from the source, else from the states."""
        fractions = self.source.progress() if self._started else None
        if fractions is not None:
            return fractions
        return [1.0 if t.state == "done" else 0.0 for t in self.state.tasks]

    def elapsed(self) -> float:
        """Seconds since the run started, live while it runs, final once it ended."""
        if self.state.finished is not None:
            return float(self.state.finished.wall_s)
        return self.source.elapsed() if self._started else 0.0

    def result(self) -> RunResult:
        """The run summarised (partial while it still runs)."""
        fin = self.state.finished
        started = self.state.started
        wall = fin.wall_s if fin is not None else self.elapsed()
        cpu = fin.cpu_s if fin is not None else None
        if cpu is None:
            cpu = sum(t.cpu_s or 0.0 for t in self.state.tasks)
        status = fin.status if fin is not None else "running"
        cluster = self.state.cluster
        return RunResult(
            mode=self.config.mode, workload=self.config.workload, tasks=self.config.tasks,
            n=self.config.n, sleep=self.config.sleep,
            # on a cluster: its workers, whatever --workers said
            workers=len(cluster.workers) if cluster else self.workers,
            python=(started.python if started is not None
                    else {"executable": self.config.python_executable}),
            cpu_count=started.cpu_count if started is not None else self.cpu_count,
            wall_s=float(wall), cpu_s=float(cpu), status=status,
            task_results=[TaskResult(t.id, t.state, t.pid, t.tid, t.start_s, t.end_s, t.cpu_s,
                                     t.error, t.where) for t in self.state.tasks],
            error=fin.error if fin is not None else None,
            cluster=cluster.as_json() if cluster else None,
        )

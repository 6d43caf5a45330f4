"""The one reducer: a run's events in, the run's state out.

``RunState`` is pure: no I/O, no threads, no clock. Feed it the events of a run (typed, from
``engine.protocol``) in the order they arrived and it knows every task's state, the counts,
each task's span (start, end, the process and thread that ran it, and the *worker* - the
n-th distinct thread that ran a task), the run's start and end, the figures of a cluster's
workers when it runs on one, and what it could not read.
The session, the task grid, the results, the event log and the headless output all read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..engine.protocol import (PROTOCOL_VERSION, ClusterWorkers, Event, RunFinished,
                               RunStarted, TaskDone, TaskFailed, TaskStarted, Unreadable)
from .cluster import ClusterState

#: A task's states. ``cancelled``: it was running when the run was stopped (a task that
#: never started stays ``waiting``).
STATES = ("waiting", "running", "done", "failed", "cancelled")
_STATE_OF_EVENT = {TaskStarted: "running", TaskDone: "done", TaskFailed: "failed"}
_RANK = {"waiting": 0, "running": 1, "done": 2, "failed": 2, "cancelled": 2}
MAX_WARNINGS = 50  # kept for the screen; ``unreadable`` still counts them all


@dataclass
class TaskState:
    """What is known of one task so far."""

    id: int
    state: str = "waiting"  # one of STATES
    pid: int | None = None
    tid: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    cpu_s: float | None = None
    error: str | None = None
    traceback: str | None = None
    worker: int | None = None  # index of the (pid, tid) that ran it, in order of first use
    where: str | None = None  # the cluster worker that ran it (Dask), if any
    restarts: int = 0  # started again elsewhere after its worker died (Dask retries)


class RunState:
    """Everything a run's events say, updated one event at a time."""

    def __init__(self, tasks: int) -> None:
        self.tasks = [TaskState(i) for i in range(tasks)]
        self.counts = dict.fromkeys(STATES, 0)
        self.counts["waiting"] = tasks
        self.started: RunStarted | None = None
        self.finished: RunFinished | None = None
        #: (pid, tid) -> worker index: the lanes of a timeline, in order of first use.
        self.workers: dict[tuple[int, int], int] = {}
        #: The cluster's workers and their figures, when the run goes on one (Dask).
        self.cluster = ClusterState()
        self.warnings: list[str] = []
        self.unreadable = 0  # events that could not be read or applied
        self.events_seen = 0

    @property
    def ended(self) -> bool:
        return self.finished is not None

    def apply(self, events: Iterable[Event]) -> set[int]:
        """Apply events in order; returns the ids of the tasks whose state changed."""
        changed: set[int] = set()
        for ev in events:
            self.events_seen += 1
            kind = type(ev)
            new = _STATE_OF_EVENT.get(kind)
            if new is not None:
                if self._apply_task(ev, new):
                    changed.add(ev.id)
            elif kind is RunStarted:
                self.started = ev
                if ev.protocol > PROTOCOL_VERSION:
                    self._warn(f"the runner speaks protocol {ev.protocol}, this reader "
                               f"{PROTOCOL_VERSION}: some of what it says may be missed")
            elif kind is RunFinished:
                if self.finished is None:  # the first word on how it ended stands
                    self.finished = ev
                    if ev.status == "cancelled":
                        changed |= self._cancel_running(ev.t)
            elif kind is ClusterWorkers:
                self.cluster.apply(ev)
            elif kind is Unreadable:
                self.unreadable += 1
                self._warn(f"unreadable event ({ev.reason}): {ev.line}")
        return changed

    def _apply_task(self, ev, new: str) -> bool:
        if not 0 <= ev.id < len(self.tasks):
            self.unreadable += 1
            self._warn(f"{ev.kind} for task {ev.id}, which this run does not have")
            return False
        task = self.tasks[ev.id]
        if new == "running" and task.state == "running" and (ev.pid, ev.tid) != (task.pid,
                                                                                 task.tid):
            # Started again elsewhere: a broken process pool's tasks run again on a new
            # pool, a cluster retries the task of a worker that died. Not an error: the
            # task moves there (back to waiting for a moment, so the counts stay true).
            task.restarts += 1
            self._warn(f"task {ev.id} restarted on {ev.where or f'pid {ev.pid}'} "
                       f"(its worker went away)")
            self.counts["running"] -= 1
            self.counts["waiting"] += 1
            task.state = "waiting"
        if _RANK[new] <= _RANK[task.state]:
            # Out of order or repeated (a task never goes back to running, nor ends twice).
            self._warn(f"{ev.kind} for task {ev.id}, which is already {task.state}")
            return False
        self.counts[task.state] -= 1
        self.counts[new] += 1
        task.state = new
        task.pid, task.tid = ev.pid, ev.tid
        task.worker = self.workers.setdefault((ev.pid, ev.tid), len(self.workers))
        if new == "running":
            task.start_s = ev.t
            task.where = getattr(ev, "where", None) or task.where
        else:
            task.end_s = ev.t
            task.cpu_s = ev.cpu_s
            if new == "failed":
                task.error = ev.error
                task.traceback = ev.traceback
        return True

    def _cancel_running(self, t: float) -> set[int]:
        """The run was stopped: every task still running was cut short, and is cancelled."""
        cut = {task.id for task in self.tasks if task.state == "running"}
        for i in cut:
            self.tasks[i].state = "cancelled"
            self.tasks[i].end_s = t
        self.counts["running"] -= len(cut)
        self.counts["cancelled"] += len(cut)
        return cut

    def _warn(self, text: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(text)

    def states(self) -> list[str]:
        return [t.state for t in self.tasks]

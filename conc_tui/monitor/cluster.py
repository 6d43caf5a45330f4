"""A cluster's workers as a run's ``cluster-workers`` events describe them (Dask).

Pure, like the reducer that holds one (``RunState.cluster``): no I/O, no clock. Each event
gives the figures the scheduler last heard from every worker; this keeps the latest of
each, and over the run the mean CPU of each worker and the cores busy in total, which is
what a run on other machines shows of itself, since nothing here can sample them.
"""
from __future__ import annotations

from dataclasses import dataclass


def _number(value, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


@dataclass
class WorkerFigures:
    """One worker: what it is, what it did last, and over the run so far."""

    name: str
    host: str = ""
    nthreads: int = 1
    memory_limit: int = 0  # bytes; 0: no limit
    cpu: float = 0.0  # % of one core, the last figure (above 100 with several threads busy)
    memory: int = 0  # bytes resident, the last figure
    memory_max: int = 0
    cpu_sum: float = 0.0
    samples: int = 0
    present: bool = True  # in the last event (a worker that died or left is not)

    @property
    def load(self) -> float:
        """How busy its threads are, 0..100 (what a core's cell shows for a core)."""
        return max(0.0, min(100.0, self.cpu / max(1, self.nthreads)))

    @property
    def cpu_mean(self) -> float | None:
        return self.cpu_sum / self.samples if self.samples else None

    def as_json(self) -> dict:
        mean = self.cpu_mean
        return {"name": self.name, "host": self.host, "nthreads": self.nthreads,
                "memory_limit": self.memory_limit, "cpu_last": round(self.cpu, 1),
                "cpu_mean": None if mean is None else round(mean, 1),
                "memory_last": self.memory, "memory_max": self.memory_max,
                "samples": self.samples, "present": self.present}


def where_text(workers: int, threads: list[int]) -> str:
    """``2 workers × 1 thread``; ``3 workers, 5 threads`` when their thread counts differ."""
    w = f"{workers} worker{'s' if workers != 1 else ''}"
    total = sum(threads)
    if len(set(threads)) == 1:
        t = threads[0]
        return f"{w} × {t} thread{'s' if t != 1 else ''}"
    return f"{w}, {total} thread{'s' if total != 1 else ''}"


class ClusterState:
    """The workers of a run's cluster, updated one ``cluster-workers`` event at a time."""

    def __init__(self) -> None:
        self.workers: dict[str, WorkerFigures] = {}  # by name, in order of first sight
        self.events = 0
        self.busy_now: float | None = None  # cores busy at the last event: sum of cpu/100
        self._busy_sum = 0.0

    def __bool__(self) -> bool:
        return bool(self.workers)

    def apply(self, ev) -> bool:
        """Take one event's figures; False (and nothing changed) when it names no worker."""
        rows = [w for w in ev.workers if isinstance(w, dict) and w.get("name") is not None]
        if not rows:
            return False
        for fig in self.workers.values():
            fig.present = False
        busy = 0.0
        for row in rows:
            name = str(row["name"])
            fig = self.workers.get(name)
            if fig is None:
                fig = self.workers[name] = WorkerFigures(name)
            fig.present = True
            fig.host = str(row.get("host") or "")
            fig.nthreads = max(1, int(_number(row.get("nthreads"), 1)))
            fig.memory_limit = int(_number(row.get("memory_limit")))
            fig.cpu = max(0.0, _number(row.get("cpu")))
            fig.memory = int(_number(row.get("memory")))
            fig.memory_max = max(fig.memory_max, fig.memory)
            fig.cpu_sum += fig.cpu
            fig.samples += 1
            busy += fig.cpu / 100
        self.events += 1
        self.busy_now = busy
        self._busy_sum += busy
        return True

    @property
    def present(self) -> list[WorkerFigures]:
        """The workers of the last event, in order of first sight."""
        return [w for w in self.workers.values() if w.present]

    @property
    def threads(self) -> int:
        return sum(w.nthreads for w in self.present)

    @property
    def where(self) -> str:
        """Where the work runs, in words: ``2 workers × 1 thread`` ("" before any event)."""
        now = self.present
        return where_text(len(now), [w.nthreads for w in now]) if now else ""

    @property
    def busy_mean(self) -> float | None:
        """Cores busy on average over the events so far (the workers' own CPU figures)."""
        return self._busy_sum / self.events if self.events else None

    def as_json(self) -> dict:
        mean = self.busy_mean
        return {"where": self.where, "threads": self.threads,
                "cores_busy_mean": None if mean is None else round(mean, 3),
                "samples": self.events,
                "workers": [w.as_json() for w in self.workers.values()]}

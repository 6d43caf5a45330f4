"""A run summarised: the JSON/CSV schema of DESIGN.md, and speedups between runs."""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

from ..engine.registry import workload as workload_info
from .verdict import Verdict, verdict_for


@dataclass
class TaskResult:
    id: int
    status: str  # waiting (never started), done, failed, cancelled (cut short by a stop)
    pid: int | None
    tid: int | None
    start_s: float | None
    end_s: float | None
    cpu_s: float | None
    error: str | None
    where: str | None = None  # the cluster worker that ran it (Dask), else null
    #: Seconds running / waiting for a core / on a lock / other, when the task owned its
    #: thread or process and the thread time was measured (``threadwatch.times_json``).
    thread_time: dict | None = None


@dataclass
class RunResult:
    mode: str
    workload: str
    tasks: int
    n: int
    sleep: float
    workers: int
    python: dict
    cpu_count: int
    wall_s: float
    cpu_s: float
    status: str  # ok, failed, cancelled (running while partial)
    task_results: list[TaskResult] = field(default_factory=list)
    error: str | None = None
    #: Where the run's thread time went (a ``threadwatch.Breakdown``), when it was measured.
    thread_time: object | None = None
    #: The cluster it ran on (Dask): its workers and their figures (``ClusterState.as_json``).
    cluster: dict | None = None

    @property
    def parallelism(self) -> float:
        """Effective parallelism: CPU seconds per wall second, over the whole run."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def failed_ids(self) -> list[int]:
        return [t.id for t in self.task_results if t.status == "failed"]

    def comparable(self, other: "RunResult") -> bool:
        """Same work on the same interpreter, so wall times can be compared."""
        return (self.same_work(other)
                and self.python.get("executable") == other.python.get("executable"))

    def same_work(self, other: "RunResult") -> bool:
        """Same workload and sizes, on whichever interpreter (to set interpreters side by
        side; speedups still need ``comparable``)."""
        same = self.workload == other.workload and self.tasks == other.tasks
        work = workload_info(self.workload)
        if work.uses_n:
            same = same and self.n == other.n
        if work.uses_sleep:
            same = same and self.sleep == other.sleep
        return same

    @property
    def verdict(self) -> Verdict:
        return verdict_for(self.parallelism, self.cpu_count, self.workload, self.mode,
                           self.python.get("gil_enabled"), breakdown=self.thread_time,
                           where=(self.cluster or {}).get("where", ""))

    def as_json(self) -> dict:
        """The result object of DESIGN.md: ``tasks`` is the per-task list."""
        d = {
            "mode": self.mode, "workload": self.workload, "tasks": self.tasks, "n": self.n, "sleep": self.sleep,
            "workers": self.workers, "python": self.python, "cpu_count": self.cpu_count,
            "wall_s": round(self.wall_s, 6), "cpu_s": round(self.cpu_s, 6),
            "parallelism": round(self.parallelism, 4), "status": self.status,
            "verdict": self.verdict.as_json(),
        }
        if self.thread_time is not None:
            d["thread_time"] = self.thread_time.as_json()
        if self.cluster is not None:
            d["cluster"] = self.cluster
        if self.error:
            d["error"] = self.error
        # DESIGN.md's schema names both the task count and the per-task list "tasks";
        # the list wins, the count is its length (and "task_count" keeps it explicit).
        d["task_count"] = self.tasks
        d["tasks"] = [asdict(t) for t in self.task_results]
        return d


def sequential_for(result: RunResult, history: Iterable[RunResult]) -> RunResult | None:
    """The latest successful ``sequential`` run in ``history`` comparable with ``result``."""
    base = None
    for other in history:
        if other.mode == "sequential" and other.status == "ok" and other.comparable(result):
            base = other
    return base


def speedup_for(result: RunResult, history: Iterable[RunResult]) -> float | None:
    """Wall time of the latest comparable ``sequential`` run divided by this run's; None
    for a run that did not finish well (a cancelled run's short wall time is no speed)."""
    if result.status != "ok":
        return None
    base = sequential_for(result, history)
    if base is None or result.wall_s <= 0:
        return None
    return base.wall_s / result.wall_s


def ideal_speedup(sequential: RunResult) -> float:
    """The best speedup any mode could reach for this work on this machine.

    With T tasks each needing c CPU seconds and s seconds of waiting (measured by the
    sequential run: cpu = T*c, wall = T*(c+s)), no mode can finish before the CPU work is
    spread over min(cores, T) cores, nor before one task's own c+s: that bounds the wall.
    cpu gives min(cores, tasks); io gives tasks; mixed lies between.
    """
    tasks = max(1, sequential.tasks)
    cores = max(1, min(sequential.cpu_count, tasks))
    if workload_info(sequential.workload).cpu_bound:
        # Exactly what the README says: the measured CPU time is a little under the wall
        # time even for pure CPU work, which would put the ideal above the cores.
        return float(cores)
    cpu = min(sequential.cpu_s, sequential.wall_s)
    best_wall = max(cpu / cores, sequential.wall_s / tasks)
    return sequential.wall_s / best_wall if best_wall > 0 else float(tasks)


CSV_FIELDS = ["mode", "workload", "tasks", "n", "sleep", "workers", "python", "python_version",
              "gil_enabled", "cpu_count", "wall_s", "cpu_s", "parallelism", "speedup",
              "ideal_speedup", "status", "failed_tasks",
              "running_s", "core_wait_s", "lock_wait_s", "io_wait_s"]
_TIME_FIELDS = ("running_s", "core_wait_s", "lock_wait_s", "io_wait_s")


def csv_rows(results: Sequence[RunResult]) -> list[dict]:
    rows = []
    for r in results:
        sp = speedup_for(r, results)
        seq = sequential_for(r, results)
        tt = r.thread_time.as_json() if r.thread_time is not None else {}
        rows.append({
            **{k: "" if tt.get(k) is None else tt[k] for k in _TIME_FIELDS},
            "mode": r.mode, "workload": r.workload, "tasks": r.tasks, "n": r.n,
            "sleep": r.sleep, "workers": r.workers, "python": r.python.get("executable"),
            "python_version": r.python.get("version"), "gil_enabled": r.python.get("gil_enabled"),
            "cpu_count": r.cpu_count, "wall_s": round(r.wall_s, 4), "cpu_s": round(r.cpu_s, 4),
            "parallelism": round(r.parallelism, 3),
            "speedup": "" if sp is None else round(sp, 3),
            "ideal_speedup": round(ideal_speedup(seq), 3) if seq is not None else "",
            "status": r.status, "failed_tasks": " ".join(map(str, r.failed_ids)),
        })
    return rows


def write_atomic(path: str, text: str) -> None:
    """Write a whole file or nothing: a temporary file beside it, renamed into place."""
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        # A device or pipe (/dev/stdout, /dev/null, a fifo): write into it, never replace it.
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".conc-tui-", dir=directory)
    try:
        # mkstemp makes the file private (0600); the result gets the mode the file it
        # replaces had, or the one a plain open would give it (0666 less the umask).
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    """The process's umask, read without changing it (Linux 4.7+ shows it in
    /proc/self/status; elsewhere it is set and set back at once)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def to_json_text(results: RunResult | Sequence[RunResult]) -> str:
    if isinstance(results, RunResult):
        payload = results.as_json()
    else:
        payload = {"runs": [dict(r.as_json(), speedup=speedup_for(r, results)) for r in results]}
    return json.dumps(payload, indent=2) + "\n"


def to_csv_text(results: Sequence[RunResult]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(csv_rows(results))
    return buf.getvalue()


def check_writable(path: str) -> str | None:
    """Why ``path`` cannot be written, or None when it can (checked before a run starts)."""
    if not os.path.isabs(path):
        try:
            os.getcwd()
        except OSError:
            return "the working directory no longer exists (give an absolute path)"
    directory = os.path.dirname(os.path.abspath(path)) or "."
    name = os.path.basename(path)
    try:
        name_max = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(name)) > name_max:
        return f"the file name is longer than {name_max} bytes"
    if os.path.isdir(path):
        return f"{path} is a directory"
    if not os.path.isdir(directory):
        return f"directory does not exist: {directory}"
    if os.path.exists(path) and not os.path.isfile(path):  # a device or pipe: written in place
        return None if os.access(path, os.W_OK) else f"file is not writable: {path}"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"directory is not writable: {directory}"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"file is not writable: {path}"
    # os.access answers yes to root almost everywhere (/proc, /sys, read-only mounts):
    # make the temporary file write_atomic will make, to know for sure.
    try:
        fd, tmp = tempfile.mkstemp(prefix=".conc-tui-", dir=directory)
    except OSError as exc:
        return f"cannot create a file in {directory}: {exc.strerror or exc}"
    os.close(fd)
    os.unlink(tmp)
    return None

"""The Dask host: a runner for the ``dask`` mode, speaking the same protocol as the engine's.

``RunnerSource`` starts it like the engine's runner (its own process group, events on
stdout, ``stop`` or end of file on stdin, the progress map by path), but under conc-tui's
own interpreter, since it needs ``distributed``. It starts a ``LocalCluster`` of
``workers`` processes × ``threads_per_worker`` threads (its processes are in the host's
group, so the source's group kill reaches them), or connects to ``scheduler``; submits one
task per id (``engine/dask_task.py``, shipped by value, so remote workers need no conc-tui)
and turns the events the tasks send (``subscribe_topic``) into protocol lines, as they come.
A worker that dies has its tasks run again elsewhere by Dask; their second start is passed on
as it is, and the reducer shows the task restarted.

Twice a second it also asks the scheduler for its workers' figures (the metrics each worker
sends with its heartbeat: CPU and memory of its process) and passes them on as a
``cluster-workers`` line: on a remote cluster they are all the monitor can show of the
machines that do the work, and they say how many workers and threads the run had.

    python -m conc_tui.monitor.dask_host CONFIG_JSON
"""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import uuid

from ..engine import events, progress
from ..engine.facts import python_info, usable_cpus
from ..engine.protocol import ClusterWorkers, RunFinished, RunStarted, from_dict
from .tracker import start_outside_group

#: How long the events of finished tasks may take to arrive after their futures end.
SETTLE_S = 3.0
#: Seconds between two looks at the workers' figures: workers send theirs with each
#: heartbeat (every 0.5 s on a small cluster), and the screen draws them once a second.
WORKERS_S = 0.5


def worker_rows(info: dict) -> list[dict]:
    """The ``workers`` of a ``cluster-workers`` event from ``Client.scheduler_info()``."""
    rows = []
    for address, w in (info.get("workers") or {}).items():
        metrics = w.get("metrics") or {}
        name = w.get("name")
        rows.append({"name": str(address if name is None else name),
                     "host": str(w.get("host") or ""), "nthreads": int(w.get("nthreads") or 1),
                     "cpu": float(metrics.get("cpu") or 0.0),
                     "memory": int(metrics.get("memory") or 0),
                     "memory_limit": int(w.get("memory_limit") or 0)})
    return sorted(rows, key=lambda r: r["name"])  # the same order in every line


class Host:
    def __init__(self, cfg: dict) -> None:
        self.cfg = cfg
        self.tasks = int(cfg["tasks"])
        self.view = progress.open_map(cfg["progress_path"], self.tasks)
        self.lock = threading.Lock()
        self.finished = False
        self.ended: set[int] = set()  # ids whose done or failed event arrived
        self.cpu = {}  # id -> CPU seconds its task reported
        self.client = None
        self.cluster = None
        self.futures = []
        self.done = threading.Event()  # the run has ended: no more figures
        # Only this process writes the event pipe, from the client's thread and the
        # figures' thread: one line at a time, also when a big cluster's line passes
        # PIPE_BUF (no longer atomic by itself).
        self.emit_lock = threading.Lock()

    def emit(self, event) -> None:
        with self.emit_lock:
            events.emit(event)

    # -- events from the tasks ---------------------------------------------------------------

    def on_event(self, item) -> None:
        """A task's event (via the scheduler): pass it on as a protocol line."""
        _, record = item
        kind = record.get("kind")
        if kind == "task-progress":
            i = record.get("id")
            if isinstance(i, int) and 0 <= i < self.tasks:
                self.view[i] = float(record.get("fraction", 0.0))
            return
        ev = from_dict(record)
        if kind in ("task-done", "task-failed"):
            with self.lock:
                self.ended.add(record["id"])
                self.cpu[record["id"]] = float(record.get("cpu_s") or 0.0)
            if kind == "task-done":
                self.view[record["id"]] = 1.0
        self.emit(ev)

    def send_workers(self) -> list[dict]:
        """One look at the workers' figures, passed on; returns the rows."""
        rows = worker_rows(self.client.scheduler_info())
        if rows and not self.done.is_set():  # nothing after the run's end
            self.emit(ClusterWorkers(t=round(events.now(), 6), workers=rows))
        return rows

    def watch_workers(self) -> None:
        while not self.done.wait(WORKERS_S):
            try:
                self.send_workers()
            except Exception:  # the client is closing: the run is ending anyway
                return

    # -- the run ------------------------------------------------------------------------------

    def connect(self) -> None:
        from distributed import Client, LocalCluster

        scheduler = self.cfg.get("scheduler")
        if scheduler:
            self.client = Client(scheduler, timeout=self.cfg.get("connect_timeout", 10))
        else:
            self.cluster = LocalCluster(
                n_workers=int(self.cfg["workers"]),
                threads_per_worker=int(self.cfg.get("threads_per_worker") or 1),
                processes=True, dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)

    def run(self) -> int:
        import cloudpickle

        from ..engine import dask_task

        # By value: a remote worker runs the task without conc-tui installed.
        cloudpickle.register_pickle_by_value(sys.modules["conc_tui.engine"])
        topic = "conc-tui-" + uuid.uuid4().hex
        self.client.subscribe_topic(topic, self.on_event)
        t0, t0_wall = time.monotonic(), time.time()
        events.set_clock(t0)
        cfg = self.cfg
        rows = worker_rows(self.client.scheduler_info())
        threads = sum(r["nthreads"] for r in rows) or sum(self.client.nthreads().values())
        if self.cluster is not None:  # on this machine: the cores it has bound the run
            threads = min(threads, usable_cpus()) or threads
        self.emit(RunStarted(
            mode=cfg["mode"], workload=cfg["workload"], tasks=self.tasks, n=int(cfg["n"]),
            sleep=float(cfg["sleep"]), workers=len(rows) or int(cfg["workers"]),
            pid=os.getpid(), python=python_info(), cpu_count=threads, t0=t0,
            nice=int(cfg.get("nice", 0))))
        if rows:
            self.emit(ClusterWorkers(t=round(events.now(), 6), workers=rows))
        threading.Thread(target=self.watch_workers, daemon=True, name="workers").start()
        plan = {k: cfg[k] for k in ("workload", "n", "sleep", "fail_tasks") if k in cfg}
        self.futures = self.client.map(dask_task.run_task, range(self.tasks), plan=plan,
                                       topic=topic, t0_wall=t0_wall, pure=False)
        from distributed import wait

        wait(self.futures)
        failed = sum(f.status != "finished" for f in self.futures)
        # A future can end before its last events arrive through the scheduler.
        deadline = time.monotonic() + SETTLE_S
        while len(self.ended) < self.tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        try:  # a last look: the heartbeats lag, and a short run has had few of them
            self.send_workers()
        except Exception:
            pass  # the figures are a bonus: the run itself has ended well
        self.done.set()
        self.finish("failed" if failed else "ok", errors=self._errors())
        return 1 if failed else 0

    def _errors(self) -> str | None:
        """Why futures failed that their tasks did not report (a worker died, say)."""
        lost = [f for i, f in enumerate(self.futures)
                if f.status == "error" and i not in self.ended]
        if not lost:
            return None
        exc = lost[0].exception()
        return f"{len(lost)} task(s) lost: {type(exc).__name__}: {exc}"

    def finish(self, status: str, error: str | None = None, errors: str | None = None) -> None:
        with self.lock:
            if self.finished:
                return
            self.finished = True
            self.done.set()
            cpu = sum(self.cpu.values())
        self.emit(RunFinished(status=status, wall_s=round(events.now(), 6),
                                cpu_s=round(cpu, 6), error=error or errors))

    def close(self) -> None:
        for thing in (self.client, self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # already closing, or the scheduler is gone
                    pass  # the process group is killed after us anyway

    def cancel(self) -> None:
        """``stop`` or the monitor gone: cancel the run's futures (a remote cluster lives on)
        and end the local cluster, then this process."""
        try:
            if self.client is not None and self.futures:
                self.client.cancel(self.futures)
        except Exception:
            pass  # the client is going down: nothing to cancel any more
        self.finish("cancelled")
        self.close()
        os._exit(130)


def _watch_control(host: Host) -> None:
    buf = b""
    while True:
        try:
            chunk = os.read(0, 256)
        except OSError:
            chunk = b""
        if not chunk or b"stop" in (buf := buf + chunk):
            host.cancel()
            return


def main(argv) -> int:
    cfg = json.loads(argv[0])
    sys.stdout = sys.stderr  # stdout is the event pipe
    host = Host(cfg)
    progress.unlink(cfg["progress_path"])  # mapped: the name can go
    threading.Thread(target=_watch_control, args=(host,), daemon=True, name="control").start()
    if not cfg.get("scheduler"):  # a LocalCluster's semaphores: see tracker.py
        start_outside_group()
    try:
        host.connect()
    except Exception as exc:  # no scheduler there, or the cluster would not start
        events.emit(RunFinished(status="failed", wall_s=0.0,
                                error=f"cannot start or reach the Dask cluster: "
                                      f"{type(exc).__name__}: {exc}"))
        host.close()
        return 1
    try:
        return host.run()
    except Exception as exc:
        host.finish("failed", error=f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        host.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

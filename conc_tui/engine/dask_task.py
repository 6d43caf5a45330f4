"""One task on a Dask worker: run the workload, and say so as it happens.

Dask's own task stream records a task only when it completes; conc-tui wants to see tasks
start, move and end while they run, so the task reports itself: ``log_event`` on the worker
sends each event to the scheduler, and the conc-tui process that submitted the run receives
them through ``subscribe_topic`` (see ``monitor/dask_host.py``). Progress is sent at most
``PROGRESS_HZ`` times a second a task, so that the scheduler is not flooded.

Standard library only at import (``distributed`` is imported inside the task, on the
worker): the submitting side ships this module by value, so a worker needs ``distributed``
and the workload, not conc-tui.
"""
import os
import socket
import threading
import time
import traceback

from . import workloads

PROGRESS_HZ = 10.0


class _Progress(object):
    """The slot array a workload writes (``progress[myid] = fraction``), sent as events."""

    def __init__(self, send):
        self.send = send
        self.last = 0.0

    def __setitem__(self, myid, fraction):
        now = time.monotonic()
        if fraction >= 1.0 or now - self.last >= 1.0 / PROGRESS_HZ:
            self.last = now
            self.send("task-progress", fraction=round(float(fraction), 4))


def run_task(myid, plan, topic, t0_wall):
    """Run task ``myid`` of ``plan`` (the run's settings, a dict) on this worker."""
    from distributed import get_worker

    worker = get_worker()
    pid, tid = os.getpid(), threading.get_native_id()
    where = "%s on %s" % (worker.name, socket.gethostname())

    def send(kind, **fields):
        record = {"kind": kind, "id": myid, "pid": pid, "tid": tid,
                  "t": round(time.time() - t0_wall, 6)}
        record.update(fields)
        worker.log_event(topic, record)

    send("task-started", where=where)
    c0 = time.thread_time()
    try:
        workloads.run_sync(plan["workload"], plan["n"], plan["sleep"], myid, _Progress(send),
                           myid in plan.get("fail_tasks", ()))
    except Exception as exc:
        send("task-failed", cpu_s=round(time.thread_time() - c0, 6),
             error="%s: %s" % (type(exc).__name__, exc),
             traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        raise
    send("task-done", cpu_s=round(time.thread_time() - c0, 6))
    return myid

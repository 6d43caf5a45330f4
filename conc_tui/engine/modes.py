"""The six ways of running the same tasks, as in the article.

Each ``run_<mode>(plan)`` runs every task and returns the number of tasks that failed.
"""
import asyncio
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from . import events, workloads

# Set in the runner, and in each worker process before it runs a task.
_progress = None
_plan = None


class Plan(object):
    """What to run: the validated settings the monitor passed to the runner."""

    def __init__(self, cfg):
        self.mode = cfg["mode"]
        self.workload = cfg["workload"]
        self.tasks = int(cfg["tasks"])
        self.n = int(cfg["n"])
        self.sleep = float(cfg["sleep"])
        self.workers = int(cfg["workers"])
        self.fail = frozenset(int(i) for i in cfg.get("fail_tasks", ()))
        self.progress_path = cfg.get("progress_path")
        self.t0 = 0.0


def _task_record(myid, ok, c0, exc=None):
    pid, tid = events.ident()
    if ok:
        events.emit("task-done", id=myid, pid=pid, tid=tid, t=round(events.now(), 6),
                    cpu_s=round(time.thread_time() - c0, 6))
    else:
        events.emit("task-failed", id=myid, pid=pid, tid=tid, t=round(events.now(), 6),
                    cpu_s=round(time.thread_time() - c0, 6),
                    error="%s: %s" % (type(exc).__name__, exc),
                    traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


def _started(myid):
    pid, tid = events.ident()
    events.emit("task-started", id=myid, pid=pid, tid=tid, t=round(events.now(), 6))


def run_task(myid):
    """Run one task in the calling thread, reporting start and end. True when it succeeded."""
    plan = _plan
    _started(myid)
    c0 = time.thread_time()
    try:
        workloads.run_sync(plan.workload, plan.n, plan.sleep, myid, _progress, myid in plan.fail)
    except Exception as exc:  # a failing task is reported, the others carry on
        _task_record(myid, False, c0, exc)
        return False
    _task_record(myid, True, c0)
    return True


async def run_task_async(myid):
    plan = _plan
    _started(myid)
    c0 = time.thread_time()
    try:
        await workloads.run_async(plan.workload, plan.n, plan.sleep, myid, _progress,
                                  myid in plan.fail)
    except Exception as exc:
        _task_record(myid, False, c0, exc)
        return False
    _task_record(myid, True, c0)
    return True


# -- worker processes ---------------------------------------------------------------------

def _die_with_parent(parent_pid):
    """Ask Linux to kill this worker if the runner dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except Exception:
            pass
    if os.getppid() != parent_pid:
        os._exit(1)


def worker_init(plan, parent_pid):
    """Set up a worker process: default signals, parent-death signal, the progress map."""
    global _plan, _progress
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when work stops
    _die_with_parent(parent_pid)
    _plan = plan
    if _progress is None:  # not inherited by fork: map the file by its name
        from . import progress

        _progress = progress.open_map(plan.progress_path, plan.tasks)
    events.set_clock(plan.t0)


def _process_entry(plan, parent_pid, myid):
    worker_init(plan, parent_pid)
    ok = run_task(myid)
    sys.stdout.flush()
    os._exit(0 if ok else 1)


# -- modes --------------------------------------------------------------------------------

def run_sequential(plan, mp):
    return sum(not run_task(i) for i in range(plan.tasks))


def run_threads(plan, mp):
    results = [None] * plan.tasks

    def body(i):
        results[i] = run_task(i)

    threads = [threading.Thread(target=body, args=(i,), name="task-%d" % i, daemon=True)
               for i in range(plan.tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(not ok for ok in results)


def run_thread_pool(plan, mp):
    with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="pool") as ex:
        return sum(not ok for ok in ex.map(run_task, range(plan.tasks)))


def run_asyncio(plan, mp):
    async def main():
        return await asyncio.gather(*(run_task_async(i) for i in range(plan.tasks)))

    return sum(not ok for ok in asyncio.run(main()))


def run_processes(plan, mp):
    me = os.getpid()
    procs = [mp.Process(target=_process_entry, args=(plan, me, i), name="task-%d" % i)
             for i in range(plan.tasks)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return sum(p.exitcode != 0 for p in procs)


def run_process_pool(plan, mp):
    with ProcessPoolExecutor(max_workers=plan.workers, mp_context=mp, initializer=worker_init,
                             initargs=(plan, os.getpid())) as ex:
        return sum(not ok for ok in ex.map(run_task, range(plan.tasks)))


RUNNERS = {
    "sequential": run_sequential,
    "threads": run_threads,
    "thread-pool": run_thread_pool,
    "asyncio": run_asyncio,
    "processes": run_processes,
    "process-pool": run_process_pool,
}

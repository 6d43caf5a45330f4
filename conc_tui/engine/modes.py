"""The six ways of running the same tasks, as in the article.

Each ``run_<mode>(ctx)`` runs every task of ``ctx.plan`` and returns how many failed. The
registry (``registry.py``) names these functions; the runner calls the one the plan asks for
with a ``TaskContext``, which carries everything a task needs: nothing is read from module
globals set elsewhere.
"""
import asyncio
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from . import events, progress, registry, supervise, workloads


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


def sleepers(plan):
    """How many tasks of ``plan`` can sleep at once: every task, or a pool's workers."""
    if registry.mode(plan.mode).pooled:
        return min(plan.tasks, plan.workers)
    return plan.tasks


class TaskContext(object):
    """A plan, its progress slots and the multiprocessing context: what modes and tasks use.

    It travels to worker processes: under fork it is inherited with the mapped progress
    file; otherwise it is pickled without the mapping, and the worker maps the file by its
    path (``in_worker``).
    """

    def __init__(self, plan, progress_view, mp=None, progress_fd=None):
        self.plan = plan
        self.progress = progress_view
        self.mp = mp
        #: Set when the run is being cancelled: workers dying then is no failure.
        self.stopping = threading.Event()
        #: A descriptor on the progress file, for modes that map it again in this process
        #: after its name is gone (subinterpreters); None for the others.
        self.progress_fd = progress_fd

    def __getstate__(self):
        return {"plan": self.plan}  # a mapping cannot be pickled: the worker maps it again

    def __setstate__(self, state):
        self.plan = state["plan"]
        self.progress = None
        self.mp = None
        self.stopping = None
        self.progress_fd = None

    def in_worker(self, parent_pid):
        """Set up a worker process: default signals, parent-death signal, the progress map."""
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when work stops
        _die_with_parent(parent_pid)
        if self.progress is None:  # not forked: nothing of the runner's state came along
            self.progress = progress.open_map(self.plan.progress_path, self.plan.tasks)
            workloads.pace(sleepers(self.plan))
        events.set_clock(self.plan.t0)

    def run_task(self, myid):
        """Run one task in the calling thread, reporting start and end. True when it succeeded."""
        plan = self.plan
        _started(myid)
        c0 = time.thread_time()
        try:
            workloads.run_sync(plan.workload, plan.n, plan.sleep, myid, self.progress,
                               myid in plan.fail)
        except Exception as exc:  # a failing task is reported, the others carry on
            _ended(myid, c0, exc)
            return False
        _ended(myid, c0)
        return True

    async def run_task_async(self, myid):
        plan = self.plan
        _started(myid)
        c0 = time.thread_time()
        try:
            await workloads.run_async(plan.workload, plan.n, plan.sleep, myid, self.progress,
                                      myid in plan.fail)
        except Exception as exc:
            _ended(myid, c0, exc)
            return False
        _ended(myid, c0)
        return True


def _started(myid):
    events.task_started(myid)


def _ended(myid, c0, exc=None):
    cpu = time.thread_time() - c0
    if exc is None:
        events.task_done(myid, cpu)
    else:
        events.task_failed(myid, cpu, "%s: %s" % (type(exc).__name__, exc), "".join(
            traceback.format_exception(type(exc), exc, exc.__traceback__)))


# -- worker processes ---------------------------------------------------------------------

def _die_with_parent(parent_pid):
    """Ask Linux to kill this worker if the runner dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except Exception:
            pass  # only a safety net: the runner still terminates its workers itself
    if os.getppid() != parent_pid:
        os._exit(1)


def _process_entry(ctx, parent_pid, myid):
    ctx.in_worker(parent_pid)
    ok = ctx.run_task(myid)
    sys.stdout.flush()
    os._exit(0 if ok else 1)


# A process pool pickles every call it sends to a worker, so the context cannot travel with
# each task: the pool's initializer keeps it here, once per worker process, with the
# shared slots that say which task this worker runs (see supervise.py).
_pool_ctx = None
_pool_slots = None


def _pool_init(ctx, parent_pid, slots):
    global _pool_ctx, _pool_slots
    ctx.in_worker(parent_pid)
    _pool_ctx, _pool_slots = ctx, slots


def _pool_task(myid):
    _pool_slots[myid] = os.getpid()
    ok = _pool_ctx.run_task(myid)
    _pool_slots[myid] = supervise.DONE if ok else supervise.FAILED
    return ok


# -- modes --------------------------------------------------------------------------------

def run_sequential(ctx):
    return sum(not ctx.run_task(i) for i in range(ctx.plan.tasks))


def run_threads(ctx):
    results = [None] * ctx.plan.tasks

    def body(i):
        results[i] = ctx.run_task(i)

    threads = [threading.Thread(target=body, args=(i,), name="task-%d" % i, daemon=True)
               for i in range(ctx.plan.tasks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(not ok for ok in results)


def run_thread_pool(ctx):
    with ThreadPoolExecutor(max_workers=ctx.plan.workers, thread_name_prefix="pool") as ex:
        return sum(not ok for ok in ex.map(ctx.run_task, range(ctx.plan.tasks)))


def run_asyncio(ctx):
    async def main():
        return await asyncio.gather(*(ctx.run_task_async(i) for i in range(ctx.plan.tasks)))

    return sum(not ok for ok in asyncio.run(main()))


def run_processes(ctx):
    me = os.getpid()
    procs = []
    try:
        for i in range(ctx.plan.tasks):
            p = ctx.mp.Process(target=_process_entry, args=(ctx, me, i), name="task-%d" % i)
            p.start()
            procs.append(p)
    except OSError as exc:
        # A worker could not start: end those that did, so the run is over (and each of
        # its tasks accounted for) before it reports why.
        supervise.end_workers(procs)
        raise supervise.StartFailed("cannot start worker process %d of %d: %s" % (
            len(procs) + 1, ctx.plan.tasks, exc.strerror or exc)) from None
    failed = 0
    for i, p in enumerate(procs):
        p.join()
        if p.exitcode == 0:
            continue
        failed += 1
        if p.exitcode != 1 and not ctx.stopping.is_set():
            # Killed before it could say how its task ended (exit 1 is a reported failure).
            supervise.report_lost(i, p.pid, p.exitcode)
    return failed


def run_process_pool(ctx):
    slots = ctx.mp.RawArray("q", ctx.plan.tasks)
    return supervise.run_pool(ctx, _pool_init, (ctx, os.getpid(), slots), _pool_task, slots)

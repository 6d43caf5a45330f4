"""Worker processes that start badly or die: what every process-based mode relies on.

Two faults are handled here once, for every mode that runs tasks in worker processes
(``processes``, ``process-pool`` and any later one built on them):

- A worker that cannot be started (too many open files, no pids left) ends the run at once
  with the reason: the workers already started are terminated, not waited for, so the run
  never hangs in a pool's exit.
- A worker that dies (SIGKILL, the OOM killer) fails the task it was running with
  ``worker died: signal 9``. In a pool, where a dead worker breaks the whole executor, the
  tasks it had not finished are re-run on a new pool, and the run goes on.

Which task a pool worker runs is known from a shared array with one slot per task, written
only by the worker running it (``WAITING``, the worker's pid while it runs, ``DONE`` or
``FAILED`` once it has reported its end).
"""
import os
import signal
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from . import events
from .protocol import TaskFailed

WAITING, DONE, FAILED = 0, -1, -2
#: Re-runs of a broken pool in a row that finish nothing before the run gives up.
MAX_FRUITLESS_RESTARTS = 3


def death_reason(exitcode):
    """Why a worker process ended without reporting its task, from its exit code."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "?"
        return "worker died: signal %d (%s)" % (-exitcode, name)
    return "worker died: exit status %s" % exitcode


def report_lost(myid, pid, exitcode):
    """Fail task ``myid``, whose worker ``pid`` died before saying how the task ended."""
    events.emit(TaskFailed(id=myid, pid=pid, tid=pid, t=round(events.now(), 6),
                           error=death_reason(exitcode)))


def end_workers(procs, grace=0.5):
    """Terminate worker processes, then kill those that have not ended within ``grace``."""
    for p in procs:
        try:
            if p.exitcode is None:
                p.terminate()
        except (AttributeError, OSError, ValueError):
            pass  # never started, or already reaped
    for p in procs:
        try:
            p.join(grace)
            if p.exitcode is None:
                p.kill()
                p.join(0.5)
        except (AssertionError, AttributeError, OSError, ValueError):
            pass  # a process that never started cannot be joined


class StartFailed(RuntimeError):
    """Worker processes could not be started; str() says why."""


class _Recording(object):
    """A multiprocessing context that remembers every process it makes, so the pool's
    workers can be ended, and a dead one found, without the executor's private state."""

    def __init__(self, mp, made):
        self._mp = mp
        self._made = made

    def __getattr__(self, name):
        return getattr(self._mp, name)

    def Process(self, *args, **kwargs):
        p = self._mp.Process(*args, **kwargs)
        self._made.append(p)
        return p


def run_pool(ctx, initializer, initargs, task, slots):
    """Run every task of ``ctx.plan`` on a process pool of ``plan.workers``, surviving the
    death of workers. ``task(i)`` runs in a worker after ``initializer(*initargs)`` and
    marks ``slots[i]``. Returns how many tasks failed."""
    plan = ctx.plan
    pending = list(range(plan.tasks))
    fruitless = 0
    while pending:
        made = []
        ex = ProcessPoolExecutor(max_workers=max(1, min(plan.workers, len(pending))),
                                 mp_context=_Recording(ctx.mp, made),
                                 initializer=initializer, initargs=initargs)
        try:
            futures = [ex.submit(task, i) for i in pending]
        except (OSError, BrokenProcessPool) as exc:
            # Starting the workers failed: shut the pool without waiting for the workers
            # that did start (they wait for work that never comes), and say why.
            ex.shutdown(wait=False, cancel_futures=True)
            end_workers(made)
            raise StartFailed("cannot start worker processes: %s" % _why(exc)) from None
        wait(futures)
        broken = any(f.exception() is not None for f in futures)
        ex.shutdown(wait=True)
        if not broken or ctx.stopping.is_set():
            break
        end_workers(made)
        exitcodes = dict((p.pid, p.exitcode) for p in made if p.pid is not None)
        lost = _lost_tasks(pending, slots, exitcodes)
        for i in lost:
            report_lost(i, slots[i], exitcodes.get(slots[i]))
            slots[i] = FAILED
        before = len(pending)
        pending = [i for i in pending if slots[i] >= 0]
        for i in pending:
            slots[i] = WAITING  # cut short when the pool broke: runs again
        fruitless = 0 if len(pending) < before else fruitless + 1
        if fruitless >= MAX_FRUITLESS_RESTARTS:
            raise BrokenProcessPool("the process pool broke %d times in a row without "
                                    "finishing a task" % fruitless)
    return sum(1 for i in range(plan.tasks) if slots[i] == FAILED)


def _lost_tasks(pending, slots, exitcodes):
    """The running tasks whose own worker died, rather than being ended by the broken pool
    (which terminates its other workers with SIGTERM). When every worker ended by SIGTERM,
    the one that was sent it cannot be told apart, so all their running tasks fail."""
    running = [i for i in pending if slots[i] > 0]
    ended_by_pool = -signal.SIGTERM
    if any(code not in (None, 0, ended_by_pool) for code in exitcodes.values()):
        # The dead worker is known; when it was idle, no task is lost at all.
        return [i for i in running if exitcodes.get(slots[i]) not in (None, 0, ended_by_pool)]
    return [i for i in running if exitcodes.get(slots[i]) not in (None, 0)]


def _why(exc):
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__

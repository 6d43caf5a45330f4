"""The work each task does, and the per-task progress it reports.

Progress is one float per task in a shared memory map; a task writes only its own slot,
after every outer iteration, without a lock (DESIGN.md: 34 ns a report, +0.4% end to end).
"""
import time

from . import custom

#: Steps per second of sleep, so that progress of the io workload moves smoothly.
SLEEP_STEPS_PER_S = 20
#: Wake-ups per second that all the sleeping tasks of a run may take together. 1,000
#: processes at 20 steps/s kept 0.7 of a core busy doing nothing but waking, and took
#: that core from whatever draws the screen; with this budget many sleepers step slower.
WAKEUPS_PER_S = 2000
MIN_STEPS_PER_S = 0.5

_steps_per_s = SLEEP_STEPS_PER_S


def pace(sleepers):
    """Set the step rate for a run in which ``sleepers`` tasks can sleep at once."""
    global _steps_per_s
    _steps_per_s = max(MIN_STEPS_PER_S,
                       min(SLEEP_STEPS_PER_S, float(WAKEUPS_PER_S) / max(1, sleepers)))


class TaskFailure(RuntimeError):
    """Raised on purpose inside a task chosen with --fail-task."""


def heavy(n, myid, progress, fail=False):
    """The article's CPU-bound function: x**y for x, y in 1..n-1, reporting progress.

    ``progress`` is a writable sequence of floats (a memoryview over the shared map);
    slot ``myid`` receives the fraction done after each outer iteration.
    """
    total = n - 1
    half = total // 2
    for x in range(1, n):
        for y in range(1, n):
            x**y
        progress[myid] = x / total
        if fail and x >= half:
            raise TaskFailure("task %d failed on purpose (--fail-task)" % myid)


def _steps(seconds):
    return max(1, int(round(seconds * _steps_per_s)))


def sleep_work(seconds, myid, progress, start=0.0, share=1.0, fail=False):
    """Block for ``seconds`` in steps, writing progress from ``start`` to ``start + share``.

    Sleeps until absolute deadlines, so the total is exact however many steps it takes.
    """
    steps = _steps(seconds)
    t0 = time.monotonic()
    for k in range(1, steps + 1):
        delay = t0 + seconds * k / steps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        progress[myid] = start + share * k / steps
        if fail and k * 2 >= steps:
            raise TaskFailure("task %d failed on purpose (--fail-task)" % myid)


async def async_sleep_work(seconds, myid, progress, start=0.0, share=1.0, fail=False):
    """``sleep_work`` for asyncio: awaits, so other coroutines run meanwhile."""
    # Imported here, not with the module: asyncio is ~45 ms of imports, which every
    # subinterpreter of the subinterpreters mode (which never awaits) would pay first.
    import asyncio

    steps = _steps(seconds)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for k in range(1, steps + 1):
        delay = t0 + seconds * k / steps - loop.time()
        await asyncio.sleep(max(0.0, delay))
        progress[myid] = start + share * k / steps
        if fail and k * 2 >= steps:
            raise TaskFailure("task %d failed on purpose (--fail-task)" % myid)


def half_heavy(n, myid, progress):
    """The first half of ``heavy``'s outer loop, reporting progress 0..0.5 (mixed workload)."""
    stop = max(2, (n + 1) // 2)
    for x in range(1, stop):
        for y in range(1, n):
            x**y
        progress[myid] = 0.5 * x / max(1, stop - 1)


def run_sync(workload, n, sleep, myid, progress, fail=False):
    """Run one task's workload in a blocking way (threads, processes, sequential)."""
    if custom.is_custom(workload):
        custom.run(workload, n, myid, progress)
    elif workload == "cpu":
        heavy(n, myid, progress, fail)
    elif workload == "io":
        sleep_work(sleep, myid, progress, fail=fail)
    else:  # mixed
        half_heavy(n, myid, progress)
        sleep_work(sleep / 2, myid, progress, start=0.5, share=0.5, fail=fail)


async def run_async(workload, n, sleep, myid, progress, fail=False):
    """Run one task's workload as a coroutine: CPU parts block the loop, sleeps await (a
    function of the user's runs as it is: it blocks the loop unless it is ``async def``)."""
    if custom.is_custom(workload):
        await custom.run_async(workload, n, myid, progress)
    elif workload == "cpu":
        heavy(n, myid, progress, fail)
    elif workload == "io":
        await async_sleep_work(sleep, myid, progress, fail=fail)
    else:
        half_heavy(n, myid, progress)
        await async_sleep_work(sleep / 2, myid, progress, start=0.5, share=0.5, fail=fail)

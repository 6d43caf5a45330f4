"""Writing events: one line each, straight to the runner's stdout.

Every writer (the runner, its threads, its worker processes) calls ``os.write`` on the
inherited descriptor with one whole line. A pipe write of at most PIPE_BUF bytes is atomic,
so lines from many processes never interleave and no relay thread or queue is needed.
What the lines say is defined in ``protocol.py``.
"""
import os
import threading
import time

from .protocol import TaskDone, TaskFailed, TaskStarted, to_line

EVENT_FD = 1
#: Lines are kept under PIPE_BUF (4096 on Linux), so that each write is atomic.
MAX_LINE = 4000

_t0 = 0.0

# One writer at a time in a process. Atomicity needs no lock (see above), but threads that
# write at once contend for the pipe in the kernel: 10,000 threads ending together spent
# 96 s of system time there and the run took 79 s instead of 22 s. Behind this lock they
# wait asleep, one write each. (Re-entrant: the runner's SIGTERM handler reports the run's
# end from the main thread, which may be inside a write of its own.)
_write_lock = threading.RLock()


def _fresh_lock():
    # A worker forked while another thread of the runner held the lock must not inherit
    # it held: it would never write an event.
    global _write_lock
    _write_lock = threading.RLock()


try:
    os.register_at_fork(after_in_child=_fresh_lock)
except (AttributeError, RuntimeError):
    pass  # no fork here (a subinterpreter refuses the hook, and never forks a worker)


def set_clock(t0):
    """Set the run's start on the monotonic clock (shared by all processes on Linux)."""
    global _t0
    _t0 = t0


def now():
    """Seconds since the run started."""
    return time.monotonic() - _t0


def emit(event):
    """Write one event (a ``protocol`` dataclass) as one line."""
    line = to_line(event)
    if len(line) >= MAX_LINE and getattr(event, "traceback", None):
        over = len(line) - MAX_LINE + 40
        event.traceback = "...\n" + event.traceback[over:]
        line = to_line(event)
    data = (line + "\n").encode("utf-8", "replace")
    try:
        with _write_lock:
            os.write(EVENT_FD, data)
    except (BrokenPipeError, OSError):
        pass  # nobody is listening any more; the control pipe's end stops the run


def ident():
    """(pid, native thread id) of the caller."""
    return os.getpid(), threading.get_native_id()


# -- a task's own events, from the thread (or process) that runs it -------------------------

def task_started(myid):
    pid, tid = ident()
    emit(TaskStarted(id=myid, pid=pid, tid=tid, t=round(now(), 6)))


def task_done(myid, cpu_s):
    pid, tid = ident()
    emit(TaskDone(id=myid, pid=pid, tid=tid, t=round(now(), 6), cpu_s=round(cpu_s, 6)))


def task_failed(myid, cpu_s, error, traceback_text):
    pid, tid = ident()
    emit(TaskFailed(id=myid, pid=pid, tid=tid, t=round(now(), 6), cpu_s=round(cpu_s, 6),
                    error=error, traceback=traceback_text))

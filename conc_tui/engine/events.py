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

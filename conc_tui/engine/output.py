"""What a task prints: captured, bounded, and sent as ``task-output`` events.

The runner's stdout is the event pipe, so nothing a task prints may reach it raw. While the
user's function runs, ``sys.stdout`` is a router that sends each whole line the task prints
as a ``task-output`` event of that task (a context variable says which task runs: one per
thread, and one per asyncio task), at most ``MAX_LINES`` lines of ``MAX_CHARS`` characters a
task; what is printed outside a task goes to the runner's stderr, the diagnostics.
"""
import contextvars
import io
import sys

from . import events
from .protocol import TaskOutput

MAX_LINES = 20
MAX_CHARS = 300

_task = contextvars.ContextVar("conc_tui_task", default=None)


class _Capture(object):
    def __init__(self, myid):
        self.myid = myid
        self.buffer = ""
        self.lines = 0

    def write(self, text):
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.send(line)

    def send(self, line):
        self.lines += 1
        if self.lines > MAX_LINES:
            if self.lines == MAX_LINES + 1:
                self._emit("… (more output not shown)")
            return
        self._emit(line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…")

    def _emit(self, text):
        pid, tid = events.ident()
        events.emit(TaskOutput(id=self.myid, pid=pid, tid=tid, t=round(events.now(), 6),
                               text=text))


class Router(io.TextIOBase):
    """``sys.stdout`` while tasks run: each task's lines to its events, the rest to stderr."""

    def __init__(self, fallback):
        super().__init__()
        self.fallback = fallback

    def writable(self):
        return True

    def write(self, text):
        capture = _task.get()
        if capture is None:
            return self.fallback.write(text)
        capture.write(text)
        return len(text)

    def flush(self):
        self.fallback.flush()


def install():
    """Route this process's stdout (idempotent; worker processes call it too)."""
    if not isinstance(sys.stdout, Router):
        sys.stdout = Router(sys.stderr)


class capture(object):
    """``with capture(myid):`` what the task prints becomes its output events."""

    def __init__(self, myid):
        self.state = _Capture(myid)
        self.token = None

    def __enter__(self):
        install()
        self.token = _task.set(self.state)
        return self.state

    def __exit__(self, *exc):
        if self.state.buffer:  # a last line without its newline
            self.state.send(self.state.buffer)
            self.state.buffer = ""
        _task.reset(self.token)
        return False

"""Following a recording while another conc-tui writes it: the room watches the speaker's run.

``Follower`` reads the lines added to a recording since it last looked (a whole line at a
time: a line still being written waits for its end), into the same structures as a finished
recording. ``FollowedSource`` is one of its runs as a run source: it hands out the run's
events as they are read, with the recorded progress, so the app draws a followed run like a
live one, a moment behind (the recorder flushes every line, ten times a second at most for
progress).
"""
from __future__ import annotations

import os

from ..engine.protocol import Event, RunFinished, RunStarted
from .recording import Recording, RecordingError, RecordingReader, open_for_reading
from .replay import RecordedWatch, config_of
from .sources import Capabilities


class Follower:
    """Reads what was added to a (plain, not .gz) recording since the last ``poll``."""

    def __init__(self, path: str) -> None:
        if path.endswith(".gz"):
            raise RecordingError("a compressed recording cannot be followed while it is "
                                 "written; record to a .jsonl file to follow it")
        self._fh = open_for_reading(path, binary=True)
        self.path = path
        self.reader = RecordingReader(path)
        self._partial = b""
        self._number = 0

    def poll(self) -> bool:
        """Read the whole lines added since the last call; True when there were any."""
        chunk = self._fh.read()
        if not chunk:
            return False
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            self._number += 1
            self.reader.feed(self._number, line.decode("utf-8", "replace"))
        return bool(lines)

    @property
    def started(self) -> bool:
        """The header has been read."""
        return self.reader.header is not None

    def recording(self) -> Recording:
        return self.reader.recording()

    def close(self) -> None:
        self._fh.close()


class FollowedSource:
    """Run ``number`` of a followed recording, as a run source (see ``sources.RunSource``)."""

    capabilities = Capabilities(progress=True, process_tree=False)

    def __init__(self, follower: Follower, number: int, *, cpu_count: int) -> None:
        self.follower = follower
        self.number = number
        self.cpu_count = cpu_count
        self.runner_pid: int | None = None
        self._next_event = 0
        self._next_progress = 0
        self._shown = [0.0] * config_of(self._run).tasks
        self._ended = False
        self._elapsed = 0.0
        self._stopped: RunFinished | None = None
        self._watch: RecordedWatch | None = None

    def thread_watch(self) -> RecordedWatch:
        """The run's thread time as it is read (see ``replay.RecordedSource``)."""
        if self._watch is None:
            self._watch = RecordedWatch(self._run.threads)
        return self._watch

    @property
    def _run(self):
        return self.follower.reader.runs[self.number]

    def start(self) -> None:
        pass  # the run is going (or went) in another process

    def poll(self, timeout: float = 0.0) -> list[Event]:
        if self._ended:
            return []
        self.follower.poll()
        run = self._run
        new = run.events[self._next_event:]
        self._next_event = len(run.events)
        events = []
        for t, ev in new:
            self._elapsed = max(self._elapsed, t)
            if isinstance(ev, RunStarted):
                self.runner_pid = ev.pid
            events.append(ev)
        if run.progress:
            self._elapsed = max(self._elapsed, run.progress[-1][0])
        if self._watch is not None:
            self._watch.advance(self._elapsed)
        if self._stopped is not None:
            events.append(self._stopped)
        if any(isinstance(ev, RunFinished) for ev in events):
            self._ended = True
        return events

    def wait(self, timeout: float | None = None) -> bool:
        return self._ended

    def progress(self) -> list[float] | None:
        frames = self._run.progress
        for _, slots in frames[self._next_progress:]:
            for i, f in slots.items():
                if 0 <= i < len(self._shown):
                    self._shown[i] = f
        self._next_progress = len(frames)
        return list(self._shown)

    def elapsed(self) -> float:
        return self._elapsed

    def stop(self, timeout: float = 2.0) -> None:
        """Stop following this run (the run itself goes on, elsewhere)."""
        if not self._ended and self._stopped is None:
            self._stopped = RunFinished(status="cancelled", wall_s=round(self._elapsed, 6),
                                        error="no longer followed", synthetic=True)

    def close(self) -> None:
        self.stop()


def open_follower(path: str, wait_s: float, sleep=None) -> Follower:
    """A follower of ``path`` once its header is there, waiting up to ``wait_s`` seconds
    for the file to appear (the speaker may start recording after the room opens it)."""
    import time

    sleep = sleep or time.sleep
    deadline = time.monotonic() + wait_s
    while True:
        if os.path.exists(path):
            follower = Follower(path)
            while True:
                follower.poll()
                if follower.started:
                    return follower
                if time.monotonic() >= deadline:
                    follower.close()
                    raise RecordingError(f"{path} has no recording header yet")
                sleep(0.2)
        if time.monotonic() >= deadline:
            raise RecordingError(f"no such file: {path} (waited {wait_s:g} s for it)")
        sleep(0.2)

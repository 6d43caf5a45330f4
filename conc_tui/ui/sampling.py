"""Samples for the screen: taken in a thread worker, drawn when they arrive.

psutil reads a file per process and per thread of the run: 15-40 ms with hundreds of them,
which would hold the screen back if it were read on the app's thread. One sample at a time:
a request while one is being taken is dropped (the next timer tick asks again).
"""
from __future__ import annotations

from .messages import SampleTaken


class SampleFeed:
    def __init__(self, app, ctl, live: bool) -> None:
        self.app = app
        self.ctl = ctl
        self.live = live
        self.taking = False

    def idle_tick(self) -> None:
        """The sample timer between runs; during a run the app's frames pace the samples."""
        if not self.ctl.busy or not self.live:
            self.request()
            self.app.terminal.collect_garbage(idle=not self.ctl.busy)

    def request(self) -> None:
        """Take a sample; without timers (``live=False``, tests) at once, on this thread.
        Each request also checks that the terminal is still there (see ``Terminal.alive``)."""
        if not self.app.terminal.alive():
            self.app.terminal.leave_now(self.app.shutdown)
        if not self.live:
            self.app.sample_tick()
        elif not self.taking:
            self.taking = True
            self.app.run_worker(self._take, thread=True, group="sample", exit_on_error=False)

    def _take(self) -> None:
        try:
            reading = self.ctl.sample()
        finally:
            self.taking = False  # (psutil raised: try again at the next request)
        self.app.post_message(SampleTaken(reading))

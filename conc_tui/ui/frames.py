"""The app's frame clock: one frame a tenth of a second while a run goes, paced to the
elapsed clock, with the 1 Hz sample and the garbage collections placed between frames.

The timer is one-shot, due just after the clock's next tenth of a second, so a late frame
delays the clock a little but never makes it skip a tenth. While a run goes the sample (and
the chart it may redraw) falls halfway between two frames, never just before one, so it
cannot delay the clock; a frame with no sample after it has ~90 ms to spare once it is on
the screen, which is where a full garbage collection goes.
"""
from __future__ import annotations


class FramePacer:
    def __init__(self, app, frame_s: float, sample_s: float) -> None:
        self.app = app
        self.frame_s = frame_s
        self.per_sample = round(sample_s / frame_s)
        self.timer = None

    def schedule(self) -> None:
        """Set the next frame (only while a run goes, and only with the app's timers)."""
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        app = self.app
        if not app.live or app.ctl.session is None:
            return
        delay = self.frame_s - app.ctl.session.elapsed() % self.frame_s + 0.004
        self.timer = app.set_timer(delay, self._frame, name="frame")

    def _frame(self) -> None:
        app = self.app
        self.timer = None
        app.tick()
        if app.ctl.busy and app.frames % self.per_sample == 0:
            app.set_timer(self.frame_s / 2, app.feed.request, name="sample")
        elif app.ctl.busy and app.frames % self.per_sample == self.per_sample // 2:
            app.call_after_refresh(app.terminal.collect_garbage)
        self.schedule()

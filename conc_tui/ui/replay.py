"""The app, driven by a recording: every panel shows what it showed live.

Each recorded run is a ``RecordedSource`` on one ``ReplayClock``; a recording of several
runs (a compare) is replayed as a compare, so the results table and the compare chart fill
as they did. The cores panel draws the recorded samples, on the recorded machine's cores.
Keys: space pauses, ←/→ seek 5 s, +/- change the speed; running, comparing and the controls
are off, with a note that this is a replay.
"""
from __future__ import annotations

from textual.binding import Binding

from ..monitor import RunConfig, StartError
from ..monitor.recording import Recording
from ..monitor.replay import RecordedSampler, RecordedSource, ReplayClock, config_of
from .app import ConcApp

SEEK_S = 5.0


class ReplayApp(ConcApp):
    BINDINGS = [
        Binding("space", "pause", "Pause"),
        Binding("left", "seek(-5)", "−5 s"),
        Binding("right", "seek(5)", "+5 s"),
        Binding("plus,equals_sign", "speed(2)", "Faster"),
        Binding("minus", "speed(0.5)", "Slower"),
    ]

    def __init__(self, recording: Recording, *, speed: float = 1.0, live: bool = True) -> None:
        self.recording = recording
        runs = recording.runs
        start = runs[0].t0 if runs else 0.0
        self.clock_ = ReplayClock(speed, start=start)
        self.cores_ = int(recording.machine.get("usable_cores") or 1)
        self.run_index = -1  # which recorded run plays now
        python = next((ev.python for run in runs for _, ev in run.events
                       if ev.kind == "run-started"), recording.header.get("python"))
        super().__init__(config_of(runs[0]) if runs else RunConfig(),
                         source_factory=self._next_source, live=live, python_info=python,
                         sampler=RecordedSampler(recording.samples, recording.machine,
                                                 self.clock_))

    def _source(self, index: int) -> RecordedSource:
        return RecordedSource(self.recording.runs[index], cpu_count=self.cores_,
                              clock=self.clock_)

    def _next_source(self, config: RunConfig) -> RecordedSource:
        self.run_index += 1
        return self._source(self.run_index)

    def on_mount(self) -> None:
        # Textual calls ConcApp.on_mount as well (after this one): start once it has run.
        self.controls.disabled = True
        self.title = f"conc-tui · replay of {self.recording.path}"
        if self.recording.runs:
            self.call_after_refresh(self._start, lambda: self.ctl.compare(
                [config_of(r) for r in self.recording.runs]))
        if self.recording.truncated:
            self.notify(self.recording.truncated, title="truncated recording", timeout=8)

    def _note(self, what: str = "") -> None:
        state = "paused" if self.clock_.paused else f"{self.clock_.speed:g}×"
        self.status.show(f"replay of {self.recording.path} · {state}{what} — space pauses, "
                         f"←/→ seek {SEEK_S:g} s, +/- speed")

    def _started(self) -> None:
        super()._started()
        self._note()

    # -- what a replay does not do ------------------------------------------------------------

    def _refuse(self) -> None:
        self._note(" · this is a replay: running and the controls are off")
        self.bell()

    def action_run(self) -> None:
        self._refuse()

    def action_compare(self) -> None:
        self._refuse()

    def action_mode(self, index: int) -> None:
        self._refuse()

    def action_cycle_workload(self) -> None:
        self._refuse()

    # -- replay keys ----------------------------------------------------------------------------

    def action_pause(self) -> None:
        self.clock_.toggle_pause()
        self._note()

    def action_speed(self, factor: float) -> None:
        self.clock_.set_speed(self.clock_.speed * factor)
        self._note()

    def action_seek(self, seconds: float) -> None:
        session = self.ctl.session
        if session is None:
            return
        if seconds >= 0:
            self.clock_.seek(seconds)
            return
        # Back: the events past the new time are already applied, so the run starts again
        # from its recording and is played forward at once to the new time.
        target = max(0.0, session.elapsed() + seconds)
        source = self._source(self.run_index)
        try:
            self.ctl.restart(source)
        except StartError:
            return
        source.advance(target)
        self._started()


def run_replay(recording: Recording, speed: float = 1.0) -> int:
    """Replay ``recording`` in the app on this terminal; returns the exit status."""
    app = ReplayApp(recording, speed=speed)
    try:
        app.run()
    finally:
        app.shutdown()
    return int(app.return_code or 0)

"""The app, driven by a recording: every panel shows what it showed live.

``ReplayApp`` replays a finished recording: each recorded run is a ``RecordedSource`` on one
``ReplayClock``, and a recording of several runs (a compare) is replayed as a compare, so the
results table and the compare chart fill as they did. Keys: space pauses, ←/→ seek 5 s, +/-
change the speed. ``FollowApp`` follows a recording that another conc-tui is writing, a
moment behind, and keeps showing it after it ends. In both, the cores panel draws the
recorded samples on the recorded machine's cores, and running, comparing and the controls
are off, with a note that says why.
"""
from __future__ import annotations

from textual.binding import Binding

from ..monitor import RunConfig, StartError
from ..monitor.follow import FollowedSource, Follower
from ..monitor.recording import Recording
from ..monitor.replay import RecordedSampler, RecordedSource, ReplayClock, config_of
from .app import ConcApp

SEEK_S = 5.0


def _first_python(recording: Recording) -> dict | None:
    return next((ev.python for run in recording.runs for _, ev in run.events
                 if ev.kind == "run-started"), recording.header.get("python"))


class _ReadOnly(ConcApp):
    """The app showing runs it did not start: the keys that would start one say why not."""

    what = "a replay"

    def on_mount(self) -> None:
        # Textual calls ConcApp.on_mount as well, after this one.
        self.controls.disabled = True

    def _note(self, what: str = "") -> None:
        self.status.show(self.describe() + what)

    def describe(self) -> str:
        return ""

    def _started(self) -> None:
        super()._started()
        self._note()

    def _refuse(self) -> None:
        self._note(f" · this is {self.what}: running and the controls are off")
        self.bell()

    def action_run(self) -> None:
        self._refuse()

    def action_compare(self) -> None:
        self._refuse()

    def action_mode(self, index: int) -> None:
        self._refuse()

    def action_cycle_workload(self) -> None:
        self._refuse()


class ReplayApp(_ReadOnly):
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
        super().__init__(config_of(runs[0]) if runs else RunConfig(),
                         source_factory=self._next_source, live=live,
                         python_info=_first_python(recording),
                         sampler=RecordedSampler(recording.samples, recording.machine,
                                                 self.clock_))

    def _source(self, index: int) -> RecordedSource:
        return RecordedSource(self.recording.runs[index], cpu_count=self.cores_,
                              clock=self.clock_)

    def _next_source(self, config: RunConfig) -> RecordedSource:
        self.run_index += 1
        return self._source(self.run_index)

    def on_mount(self) -> None:
        # Textual calls the base classes' on_mount as well (after this one): start after.
        self.title = f"conc-tui · replay of {self.recording.path}"
        if self.recording.runs:
            self.call_after_refresh(self._start, lambda: self.ctl.compare(
                [config_of(r) for r in self.recording.runs]))
        if self.recording.truncated:
            self.notify(self.recording.truncated, title="truncated recording", timeout=8)

    def describe(self) -> str:
        state = "paused" if self.clock_.paused else f"{self.clock_.speed:g}×"
        return (f"replay of {self.recording.path} · {state} — space pauses, "
                f"←/→ seek {SEEK_S:g} s, +/- speed")

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


class FollowApp(_ReadOnly):
    """Follows the recording a ``Follower`` reads: each run as it is recorded (the runs
    already recorded are played at once), then keeps showing the last."""

    what = "a followed run"
    POLL_S = 0.25

    def __init__(self, follower: Follower, *, live: bool = True) -> None:
        self.follower = follower
        self.latest = 0.0  # the newest time read from the recording
        recording = follower.recording()
        self.cores_ = int(recording.machine.get("usable_cores") or 1)
        self.run_index = -1
        super().__init__(RunConfig(), source_factory=self._next_source, live=live,
                         python_info=_first_python(recording),
                         sampler=RecordedSampler(follower.reader.samples, recording.machine,
                                                 lambda: self.latest))

    def _next_source(self, config: RunConfig) -> FollowedSource:
        return FollowedSource(self.follower, self.run_index, cpu_count=self.cores_)

    def on_mount(self) -> None:
        self.title = f"conc-tui · following {self.follower.path}"
        self.set_interval(self.POLL_S, self.follow_tick, name="follow")
        self.call_after_refresh(self.follow_tick)

    def describe(self) -> str:
        runs = len(self.follower.reader.runs)
        return (f"following {self.follower.path} · {runs} run{'s' * (runs != 1)} so far — "
                "read-only, a moment behind the run")

    def follow_tick(self) -> None:
        """Read what was added; start showing the next run once the last one has ended."""
        reader = self.follower.reader
        self.follower.poll()
        times = [run.t0 + (run.events[-1][0] if run.events else 0.0)
                 for run in reader.runs.values()] + [s["t"] for s in reader.samples[-1:]]
        self.latest = max([self.latest] + times)
        if not self.ctl.busy and self.run_index + 1 in reader.runs:
            self.run_index += 1
            config = config_of(reader.runs[self.run_index])
            self._start(lambda: self.ctl.run(config))
        elif self.run_index < 0:
            self._note()  # nothing recorded yet: say what it waits for


def run_follow(path: str, wait_s: float = 30.0) -> int:
    """Follow the recording at ``path`` in the app on this terminal (waiting up to
    ``wait_s`` for it to appear); returns the exit status."""
    from ..monitor.follow import open_follower

    follower = open_follower(path, wait_s)
    app = FollowApp(follower)
    try:
        app.run()
    finally:
        app.shutdown()
        follower.close()
    return int(app.return_code or 0)


def run_replay(recording: Recording, speed: float = 1.0) -> int:
    """Replay ``recording`` in the app on this terminal; returns the exit status."""
    app = ReplayApp(recording, speed=speed)
    try:
        app.run()
    finally:
        app.shutdown()
    return int(app.return_code or 0)

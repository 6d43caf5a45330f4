"""Replaying a recording: each recorded run becomes a run source again.

``RecordedSource`` plays a recorded run's events on a ``ReplayClock`` (pause, seek, speed),
with the progress the recording kept; the session, the controller, the app and the headless
summary drive it like any other source, so a replay is drawn by the same code as the live
run was. ``RecordedWatch`` is the recorded thread time as a ``ThreadWatch``: the recorded
snapshots go through the same ``ingest`` into the same history, and the breakdown, the
verdict, the thread view and the timeline read them as they read a live probe's.
"""
from __future__ import annotations

import bisect
import time

from ..engine.protocol import RunFinished
from .config import RunConfig
from .recording import RecordedRun, ThreadLine
from .scripted import ScriptedSource
from .sources import Capabilities
from .threadtime import Snapshot
from .threadwatch import ThreadWatch


class ReplayClock:
    """Seconds of replayed time: runs at ``speed`` times real time, can pause and seek;
    starts at ``start`` (e.g. the first run's time in the recording)."""

    def __init__(self, speed: float = 1.0, clock=time.monotonic, start: float = 0.0) -> None:
        self._clock = clock
        self.speed = speed
        self._base = start  # replayed seconds at the last change
        self._since = clock()  # real time of the last change
        self.paused = False

    def __call__(self) -> float:
        if self.paused:
            return self._base
        return self._base + (self._clock() - self._since) * self.speed

    def _rebase(self) -> None:
        self._base, self._since = self(), self._clock()

    def set_speed(self, speed: float) -> None:
        self._rebase()
        self.speed = max(0.125, min(64.0, speed))

    def toggle_pause(self) -> None:
        self._rebase()
        self.paused = not self.paused

    def seek(self, seconds: float) -> None:
        """Move by ``seconds``, either way (a source that has delivered events past the new
        time must be started again: see ``ui.replay``)."""
        self._rebase()
        self._base = max(0.0, self._base + seconds)


def config_of(run: RecordedRun) -> RunConfig:
    """The RunConfig a recorded run was made with."""
    fields = {k: v for k, v in run.config.items() if k in RunConfig.__dataclass_fields__}
    fields["fail_tasks"] = tuple(fields.get("fail_tasks") or ())
    return RunConfig(**fields)


class RecordedWatch(ThreadWatch):
    """A run's recorded thread-time readings as a ``ThreadWatch`` with no probe: ``advance``
    ingests the readings recorded up to a run time, ``stop`` all of them (the run's last
    word). ``lines`` may grow while it is read (a followed recording)."""

    def __init__(self, lines: list[ThreadLine]) -> None:
        super().__init__(None)
        self.lines = lines
        self.snapshot = Snapshot(available=False, reason="no thread time recorded yet")
        self._next = 0
        self._offset = 0.0

    @property
    def offset_s(self) -> float:
        return self._offset

    def advance(self, run_t: float | None) -> None:
        """Take every reading recorded up to ``run_t`` (None: all of them)."""
        lines = self.lines
        while self._next < len(lines) and (run_t is None or lines[self._next].t <= run_t):
            line = lines[self._next]
            self._next += 1
            self._offset = line.offset_s
            self.ingest(line.snapshot)

    def start(self) -> "RecordedWatch":
        return self

    def stop(self, tree_cpu_s: float | None = None) -> Snapshot:
        # (The recording holds the final figures; a reaped runner has nothing to add.)
        if not self.final:
            self.advance(None)
        self.final = True
        return self.snapshot


class RecordedSource(ScriptedSource):
    """A recorded run as a run source: its events at their recorded times, its recorded
    progress, its recorded machine's core count. ``clock`` None: a manual clock, as in
    ``ScriptedSource`` (``wait`` jumps to the end: the headless summary)."""

    capabilities = Capabilities(progress=True, process_tree=False)

    def __init__(self, run: RecordedRun, *, cpu_count: int, clock=None) -> None:
        script = [ev for _, ev in run.events]
        if run.wall_s is None:
            # Cut while the run went: end it where the recording ends, and say so, so that
            # a replay of a truncated recording ends too.
            last = max([t for t, _ in run.events] + [t for t, _ in run.progress] + [0.0])
            script.append(RunFinished(status="cancelled", wall_s=round(last, 6),
                                      error="the recording ends before this run did",
                                      synthetic=True))
        super().__init__(config_of(run), cpu_count=cpu_count, clock=clock, script=script)
        self.run = run
        self._times = [t for t, _ in run.progress]
        self._frames = [slots for _, slots in run.progress]
        self._shown = [0.0] * self.config.tasks  # the slots as of frame ``_cursor``
        self._cursor = 0
        self._watch: RecordedWatch | None = None

    def thread_watch(self) -> RecordedWatch | None:
        """The run's recorded thread time (None: none was recorded, as in version 1); the
        controller takes it instead of starting a probe, and ``poll`` moves it along."""
        if self._watch is None and self.run.threads:
            self._watch = RecordedWatch(self.run.threads)
        return self._watch

    def poll(self, timeout: float = 0.0):
        events = super().poll(timeout)
        if self._watch is not None and self._started:
            self._watch.advance(self.elapsed())
        return events

    def progress(self) -> list[float] | None:
        """The recorded slots as they stood at the replayed time (time only moves forward,
        so each recorded frame is applied once)."""
        if not self._started:
            return list(self._shown)
        now = self._fin.wall_s if self._fin is not None else self._run_t()
        upto = bisect.bisect_right(self._times, now)
        out = self._shown
        for slots in self._frames[self._cursor:upto]:
            for i, f in slots.items():
                if 0 <= i < len(out):
                    out[i] = f
        self._cursor = max(self._cursor, upto)
        return list(out)


class RecordedSampler:
    """The recorded per-core samples, as a sampler (``sampler.Sampler``'s interface) on the
    replay clock: the cores panel shows the recorded machine, whatever this one is."""

    def __init__(self, samples: list[dict], machine: dict, clock, history: int = 60) -> None:
        from collections import deque

        self.samples = samples
        self.clock = clock
        self.cpu_count = int(machine.get("usable_cores") or 1)
        width = len(samples[0]["per_core"]) if samples else int(
            machine.get("logical_cores") or self.cpu_count)
        self.logical_cores = width
        self.history = [deque(maxlen=history) for _ in range(width)]
        self.parallelism_history = deque(maxlen=history)
        self._times: list[float] = []  # of the samples seen so far (a followed list grows)
        self._next = 0

    def watch(self, pid) -> None:
        pass  # the figures come from the recording

    def sample(self):
        from .sampler import Sample

        self._times.extend(s["t"] for s in self.samples[len(self._times):])
        upto = bisect.bisect_right(self._times, self.clock())
        for rec in self.samples[self._next:upto]:  # each recorded sample into the history once
            for hist, value in zip(self.history, rec["per_core"]):
                hist.append(value)
            self.parallelism_history.append(rec.get("parallelism_now", 0.0))
        self._next = max(self._next, upto)
        if not upto:  # before the first recorded sample: its CPU so far, and idle cores
            first = self.samples[0] if self.samples else {}
            return Sample(t=first.get("t", self.clock()), per_core=[0.0] * self.logical_cores,
                          tree_cpu_s=first.get("tree_cpu_s", 0.0))
        rec = self.samples[upto - 1]
        return Sample(t=rec["t"], per_core=list(rec["per_core"]),
                      tree_cpu_s=rec.get("tree_cpu_s", 0.0),
                      parallelism_now=rec.get("parallelism_now", 0.0),
                      processes=rec.get("processes", 0), runner_share=rec.get("runner_share", 0.0))

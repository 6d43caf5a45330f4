"""The controller: the session's runs, one after another, for the app and the headless CLI.

It owns what a person's session with conc-tui accumulates: every run's result, the queue of
a compare (sequential first), the current run, and the sampler's attachment to the running
process tree together with the baseline that "parallelism over the run" is measured from,
and the thread-time probe's (``threadwatch``): it starts with a run on a process tree of
this machine and stops when the run ends (a replayed run brings the watch of what it
recorded instead), and its figures go into the run's result and the recording.
``conc-tui compare`` and the app's ``c`` drive this same code; the app calls ``poll`` once a
frame, the headless CLI in a loop.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from ..engine.protocol import Event
from ..engine.registry import MODES, compare_order
from .cluster import ClusterState
from .config import RunConfig
from .recording import Recorder
from .results import RunResult, speedup_for
from .runner_source import RunnerSource
from .sampler import Sample, ThreadLoad
from .session import Session
from .sources import RunSource, StartError
from .threadwatch import Breakdown, ThreadWatch, breakdown, task_times, times_json

SourceFactory = Callable[[RunConfig], RunSource]


def compare_configs(base: RunConfig, modes: Iterable[str] = MODES,
                    workloads: Sequence[str] | None = None,
                    pythons: Sequence[str | None] | None = None) -> list[RunConfig]:
    """The runs of a compare: for each interpreter (``pythons``, default: the base's), for
    each workload, every mode in compare order (sequential first on each interpreter, since
    speedups are measured against sequential on the same one)."""
    return [base.replace(python=p, mode=m, workload=w)
            for p in (pythons or [base.python]) for w in (workloads or [base.workload])
            for m in compare_order(modes)]


def runnable(configs: Iterable[RunConfig]) -> tuple[list[RunConfig], list[str]]:
    """The configs whose interpreter can run them, and one line for each mode left out on
    an interpreter (``subinterpreters`` on 3.11), so that a compare runs what it can and
    says what it left out instead of failing."""
    from .config import ConfigError, check_mode_available

    keep, skipped = [], []
    for config in configs:
        refused = config.refusal()
        try:
            check_mode_available(config.mode)  # a package it needs (dask: distributed)
        except ConfigError as exc:
            refused = refused or ("mode", str(exc))
        if refused is None:
            keep.append(config)
            continue
        info = config.interpreter()
        line = (f"{config.mode} left out on Python {info.get('version', '?')} "
                f"({info.get('executable', '?')}): {refused[1]}")
        if line not in skipped:
            skipped.append(line)
    return keep, skipped


@dataclass
class Step:
    """What one ``poll`` brought."""

    events: list[Event] = field(default_factory=list)
    changed: set[int] = field(default_factory=set)  # task ids whose state changed
    notes: list[str] = field(default_factory=list)  # the reducer's new warnings
    finished: RunResult | None = None  # the run that ended in this step
    started: Session | None = None  # the next run of a compare, started in this step
    compare_done: bool = False  # the last run of a compare ended (or the compare stopped)
    error: str | None = None  # the next run of a compare could not start


@dataclass
class Reading:
    """A sample and what the panels draw from it: the live figures of the current run."""

    sample: Sample
    history: list  # copies of the per-core histories
    generation: int  # which attachment of the sampler it was taken under
    now: float | None = None  # cores busy over the last interval, of this run
    run: float | None = None  # cores busy since the run's first sample
    processes: int = 0
    threads: list[ThreadLoad] = field(default_factory=list)
    runner_share: float | None = None
    thread_count: int = 0  # the runner's threads (``threads`` may detail fewer)
    #: The cluster the run goes on (Dask): its workers and their figures.
    cluster: ClusterState | None = None
    #: The same, when its workers are to be drawn in place of this machine's cores: nothing
    #: here samples them (``--scheduler``), so their own figures are all there is.
    workers: ClusterState | None = None


@dataclass
class CompareSummary:
    runs: list[RunResult]  # the compare's successful runs
    fastest: RunResult | None
    speedup: float | None  # of the fastest, against sequential


class Controller:
    """Runs, one at a time, and what they leave behind. Not thread-safe except ``sample``
    and ``stop``, which the app calls from worker threads."""

    def __init__(self, *, source_factory: SourceFactory | None = None, sampler=None,
                 recorder: Recorder | None = None,
                 watch_factory: Callable[[int], ThreadWatch] | None = ThreadWatch) -> None:
        self.source_factory: SourceFactory = source_factory or RunnerSource
        self.sampler = sampler
        #: Makes the thread-time watch of a run's process tree (None: no thread times).
        self.watch_factory = watch_factory
        #: The thread-time watch of the run going now, or of the last one (the timeline
        #: stays after the run), and that run's session (its state: tasks, workers).
        self.watch: ThreadWatch | None = None
        self.shown: Session | None = None
        #: Writes every run, its events, progress, samples and result (``--record``).
        self.recorder = recorder
        self._recording_run = 0
        self.results: list[RunResult] = []
        self.session: Session | None = None
        self.queue: deque[RunConfig] = deque()
        self.comparing = False
        self.compare_total = 0
        self.compare_start = 0  # index in results of the current compare's first run
        self.stopping = False
        self._sampler_lock = threading.Lock()
        self._generation = 0
        self._run_base: tuple[float, float] | None = None  # (t, tree CPU s) of the 1st sample

    @property
    def busy(self) -> bool:
        """A run is going (or stopping)."""
        return self.session is not None

    @property
    def compare_position(self) -> int:
        """Which run of the compare goes now, from 1."""
        return self.compare_total - len(self.queue)

    # -- starting --------------------------------------------------------------------------

    def run(self, config: RunConfig) -> Session:
        """Start one run. Raises StartError (nothing runs) when it cannot start."""
        self.comparing = False
        self.queue.clear()
        return self._start(config)

    def compare(self, configs: Sequence[RunConfig]) -> Session:
        """Start the runs of a compare, one after another (see ``compare_configs``)."""
        if not configs:
            raise StartError("nothing to compare")
        self.queue = deque(configs)
        self.compare_total = len(configs)
        self.compare_start = len(self.results)
        self.comparing = True
        try:
            return self._start(self.queue.popleft())
        except StartError:
            self._end_compare()
            raise

    def _start(self, config: RunConfig, source: RunSource | None = None) -> Session:
        if self.session is not None:
            raise StartError("a run is going already")
        session = Session(config, source=source or self.source_factory(config))
        try:
            session.start()
        except OSError as exc:  # a source that did not turn it into a StartError
            raise StartError(f"could not start the run: {exc.strerror or exc}") from None
        self.session = session
        self.shown = session
        self.stopping = False
        self._attach(session)
        self._watch(session)
        if self.recorder is not None:
            self._recording_run = self.recorder.run_started(
                dict(dataclasses.asdict(config), workers=session.workers))
        return session

    def restart(self, source: RunSource) -> Session:
        """Run the current run's config again from ``source``, in its place (a replay
        seeking back); the rest of a compare stays queued."""
        old = self.session
        if old is None:
            raise StartError("no run to start again")
        old.close()
        self.session = None
        return self._start(old.config, source)

    def _end_compare(self) -> None:
        self.queue.clear()
        self.comparing = False

    # -- following -------------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> Step:
        """Everything since the last poll: the current run's events, and when it ended, its
        result (and the next run of a compare, started)."""
        session = self.session
        step = Step()
        if session is None or self.stopping:  # the stopping thread owns the session
            return step
        step.events = session.poll(timeout)
        step.changed = session.changed
        step.notes = session.notes
        if self.watch is not None and step.events and session.started is not None:
            self.watch.set_run_t0(session.started.t0)
        if self.recorder is not None:
            self.recorder.events(self._recording_run, step.events)
            self.recorder.progress(self._recording_run, session.progress, force=session.done)
            if self.watch is not None and session.started is not None:  # its offset is known
                self.recorder.thread_time(self._recording_run, self.watch.snapshot,
                                          self.watch.offset_s)
        if session.done:
            step.finished = self._finish(session)
            if self.queue and step.finished.status != "cancelled":
                try:
                    step.started = self._start(self.queue.popleft())
                except StartError as exc:
                    step.error = str(exc)
            if step.started is None:
                step.compare_done = self.comparing
                self._end_compare()
        return step

    def _finish(self, session: Session) -> RunResult:
        result = session.result()
        self._thread_times(session, result)
        session.close()  # it has ended: releases pipes and shared memory at once
        self.session = None
        self.stopping = False
        self._attach(None)
        self.results.append(result)
        if self.recorder is not None:
            self.recorder.result(self._recording_run, result.as_json())
        return result

    def begin_stop(self) -> bool:
        """Mark the run as stopping (``poll`` leaves it alone from now on) and drop the rest
        of a compare; False when there is nothing to stop. ``stop`` does the stopping."""
        self.queue.clear()
        if self.session is None:
            return False
        self.stopping = True
        return True

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the current run (and the rest of a compare); blocks up to ``timeout``. The
        cancelled run's result comes with the next ``poll``. Safe from a worker thread."""
        session = self.session
        if not self.begin_stop():
            return
        try:
            session.stop(timeout)
        finally:
            self.stopping = False

    def hurry(self) -> None:
        """Kill the current run's processes now, without waiting for a clean stop (a second
        signal while stopping). Safe from a signal handler; the run ends ``cancelled``."""
        session = self.session
        if session is not None:
            hurry = getattr(session.source, "hurry", None)
            if hurry is not None:
                hurry()

    def shutdown(self) -> None:
        """Stop the run and everything it started, now (blocks up to ~2 s); idempotent."""
        self.queue.clear()
        session, self.session = self.session, None
        if session is not None:
            session.stop()
            session.close()
        self._attach(None)
        close = getattr(self.sampler, "close", None)  # a sampler with a process of its own
        if close is not None:
            close()
        if self.watch is not None:
            self.watch.stop()

    # -- results ---------------------------------------------------------------------------

    @property
    def last_compare(self) -> list[RunResult]:
        return self.results[self.compare_start:]

    def compare_summary(self) -> CompareSummary:
        runs = [r for r in self.last_compare if r.status == "ok"]
        if len(runs) < 2:
            return CompareSummary(runs, None, None)
        best = min(runs, key=lambda r: r.wall_s)
        return CompareSummary(runs, best, speedup_for(best, runs))

    # -- thread time -----------------------------------------------------------------------

    def _watch(self, session: Session) -> None:
        """Start the thread-time probe on the run's tree (on its own thread)."""
        if self.watch is not None:
            self.watch.stop()
        self.watch = None
        recorded = getattr(session.source, "thread_watch", None)
        if recorded is not None:  # a replayed run brings the thread time it recorded
            self.watch = recorded()
            return
        pid = session.runner_pid
        if (self.watch_factory is None or pid is None
                or not session.source.capabilities.process_tree):
            return
        self.watch = self.watch_factory(pid).start()

    def _thread_times(self, session: Session, result: RunResult) -> None:
        """Stop the probe (the run has ended) and put its figures in the result."""
        watch = self.watch
        if watch is None or self.shown is not session:
            return
        # The runner has been reaped by now: its rusage counts what it ran unread.
        snap = watch.stop(getattr(session.source, "reaped_cpu_s", None))
        if self.recorder is not None:
            self.recorder.thread_time(self._recording_run, snap, watch.offset_s, final=True)
        runner = session.started.pid if session.started is not None else session.runner_pid
        result.thread_time = breakdown(snap, session.state, runner)
        split = snap.lock_split
        for tid, times in task_times(snap, session.state, runner).items():
            result.task_results[tid].thread_time = times_json(times, split)

    def live_breakdown(self) -> Breakdown | None:
        """Where the threads' time went over the probe's last interval (the run going now;
        None without a probe). Call it in the thread that polls."""
        session, watch = self.session, self.watch
        if session is None or watch is None or self.shown is not session:
            return None
        runner = session.started.pid if session.started is not None else session.runner_pid
        return breakdown(watch.snapshot, session.state, runner, live=True)

    def run_breakdown(self) -> Breakdown | None:
        """The same over the run so far (or over the last run, once it ended)."""
        session, watch = self.shown, self.watch
        if session is None or watch is None:
            return None
        runner = session.started.pid if session.started is not None else session.runner_pid
        return breakdown(watch.snapshot, session.state, runner)

    # -- sampling --------------------------------------------------------------------------

    def _attach(self, session: Session | None) -> None:
        """Point the sampler at a run's process tree (or at nothing)."""
        if self.sampler is None:
            return
        pid = None
        if session is not None and session.source.capabilities.process_tree:
            pid = session.runner_pid
        with self._sampler_lock:  # not while a sample is being taken
            self.sampler.watch(pid)
            self._generation += 1
            self._run_base = None

    def sample(self) -> Reading:
        """Take a sample (safe from a worker thread) with copies of what the panels draw."""
        with self._sampler_lock:
            sample = self.sampler.sample()
            history = [deque(h, maxlen=h.maxlen) for h in self.sampler.history]
            if self.recorder is not None:
                self.recorder.sample(sample)
            return Reading(sample, history, self._generation)

    def read_run(self, reading: Reading) -> Reading:
        """Fill in the run's live figures, if the reading is of the run going now (not of
        the one before, nor taken while it stops). Call it in the thread that polls."""
        session = self.session
        if (session is None or self.stopping or session.done
                or reading.generation != self._generation):
            return reading
        cluster = session.state.cluster
        reading.cluster = cluster or None
        if not session.source.capabilities.samples_run:  # nothing here samples it...
            if cluster:  # ...but its workers say how busy they are
                reading.workers = cluster
                reading.now, reading.run = cluster.busy_now, cluster.busy_mean
            return reading
        s = reading.sample
        # Over the run so far: CPU seconds of the runner's tree between the first sample of
        # this run and now, per second between them.
        if self._run_base is None:
            self._run_base = (s.t, s.tree_cpu_s)
        else:
            t0, cpu0 = self._run_base
            reading.run = (s.tree_cpu_s - cpu0) / (s.t - t0) if s.t > t0 else None
        reading.now = s.parallelism_now
        reading.processes, reading.threads = s.processes, s.threads
        reading.runner_share = s.runner_share
        reading.thread_count = getattr(s, "thread_count", 0) or len(s.threads)
        return reading

"""Where a run's events come from: one narrow protocol, several sources.

The session, the controller, the app and the headless CLI drive any source the same way.
``RunnerSource`` runs a runner process on this machine (the Dask host is one too),
``ScriptedSource`` plays a script of events on a clock (tests, screenshots, demos),
``RecordedSource`` and ``FollowedSource`` a recording, finished or growing. Keep it narrow.

Two optional members: a source that brings its own thread time (a recording) has
``thread_watch()``, returning a ``ThreadWatch`` the controller uses instead of starting the
thread-time probe on ``runner_pid``; a source that reaps its runner has ``reaped_cpu_s``,
the runner's CPU time with its reaped children's, which the probe's last reading needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..engine.protocol import Event


class StartError(RuntimeError):
    """A run could not start; str() says why, in one line."""


@dataclass(frozen=True)
class Capabilities:
    #: ``progress()`` gives live per-task fractions (else only what events say).
    progress: bool
    #: ``runner_pid`` is a live process tree on this machine that a sampler can read.
    process_tree: bool
    #: The sampler's figures describe this run (false for work on a remote cluster, which
    #: nothing here samples; a scripted or recorded run has a sampler of its own kind).
    samples_run: bool = True


@runtime_checkable
class RunSource(Protocol):
    capabilities: Capabilities
    #: Usable cores of the machine the run happens on.
    cpu_count: int
    #: The runner's pid while it runs here, else None.
    runner_pid: int | None

    def start(self) -> None:
        """Begin the run; returns at once. Raises StartError with the reason."""

    def poll(self, timeout: float = 0.0) -> list[Event]:
        """Every event since the last call, in order; waits up to ``timeout`` for the first
        when there is none. The last event of a run is always a ``RunFinished`` (made up by
        the source, ``synthetic``, when the run ended without saying so)."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (its events may still wait to be polled)."""

    def progress(self) -> list[float] | None:
        """Per-task fraction done (0..1), or None when the source cannot tell."""

    def elapsed(self) -> float:
        """Seconds since the run started; its wall time once it ended."""

    def stop(self, timeout: float = 2.0) -> None:
        """End the run (``cancelled``) and everything it started; blocks; idempotent."""

    def close(self) -> None:
        """Release what the source holds; stops the run first if it still goes."""

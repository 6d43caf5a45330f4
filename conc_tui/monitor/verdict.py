"""The verdict: a plain reading of how many cores a run kept busy, as data.

``kind`` is for code (the screen picks a style by it, the JSON carries it); ``label`` is the
short word and ``text`` the sentence with its figures. It reads the measured parallelism and
what the registry says of the mode and workload, never their names.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.registry import mode as mode_info
from ..engine.registry import workload as workload_info

#: kind -> label. The kinds a verdict can have.
KINDS = {
    "parallel": "parallel",
    "parallel-no-gil": "parallel threads, no GIL",
    "gil-bound": "GIL-bound",
    "one-at-a-time": "one thread at a time",
    "about-one-core": "about one core",
    "one-core": "one core",
    "io-wait": "waiting on I/O",
    "idle": "mostly idle",
}


@dataclass(frozen=True)
class Verdict:
    kind: str
    parallelism: float
    cores: int

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def text(self) -> str:
        """``GIL-bound: 1.00 of 2 cores``."""
        return f"{self.label}: {self.parallelism:.2f} of {self.cores} cores"

    def as_json(self) -> dict:
        return {"kind": self.kind, "text": self.text}


def verdict_for(parallelism: float, cores: int, workload: str, mode: str,
                gil_enabled: bool | None = True) -> Verdict:
    """Read effective parallelism against the cores there are.

    Under half a core busy, the run waited (on its sleeps, or it was idle); well over one
    core, it ran in parallel ("parallel threads, no GIL" when tasks that would share one GIL
    ran on a build with the GIL off: the free-threaded lesson). About one core is
    "GIL-bound" only for tasks sharing a GIL that is on: one at a time is what sequential
    and asyncio are, and processes, subinterpreters (each has its own GIL) or threads
    without a GIL held to one core are held by something else, such as a busy machine or a
    short run.
    """
    m, w = mode_info(mode), workload_info(workload)
    if parallelism < 0.5:
        kind = "idle" if w.cpu_bound else "io-wait"
    elif parallelism > 1.15:
        kind = "parallel-no-gil" if m.shares_gil and gil_enabled is False else "parallel"
    elif cores <= 1:
        kind = "one-core"
    elif m.one_at_a_time:
        kind = "one-at-a-time"
    elif not m.shares_gil or gil_enabled is False:
        kind = "about-one-core"
    else:
        kind = "gil-bound"
    return Verdict(kind, parallelism, cores)

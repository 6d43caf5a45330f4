"""The parallelism panel: how many cores the run really uses, now and over the run.

Effective parallelism is CPU seconds per wall second of the runner's whole process tree.
Threads on CPU work stay near 1.0 under the GIL, processes approach the core count, and
I/O-bound work stays near 0 while it finishes fast.
"""
from __future__ import annotations

import os
from typing import Sequence

from rich.text import Text
from textual.widget import Widget

from ..monitor import ThreadLoad, Verdict, verdict_for
from ..monitor.threadwatch import Breakdown
from .lines import ComponentStyles
from .tasks import bar_text
from .threads import bar_legend

#: The panel's style for each kind of verdict.
VERDICT_STYLE = {"gil-bound": "gil", "one-at-a-time": "gil", "about-one-core": "gil",
                 "one-core": "gil", "parallel": "parallel", "parallel-no-gil": "parallel",
                 "io-wait": "io", "idle": "idle", "lock-bound": "gil", "core-wait": "gil"}


def describe_short(info: dict) -> str:
    gil = info.get("gil_enabled")
    gil_text = "GIL on" if gil else ("GIL off (free-threaded)" if gil is not None else "GIL ?")
    return f"{info.get('implementation', 'Python')} {info.get('version', '?')} · {gil_text}"


class ParallelismPanel(ComponentStyles, Widget):
    """Now / run parallelism against the cores, a verdict, the runner, the interpreter."""

    DEFAULT_CSS = """
    ParallelismPanel {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    ParallelismPanel > .parallelism--label { color: $text-muted; }
    ParallelismPanel > .parallelism--bar { color: $text-accent; background: $panel; }
    ParallelismPanel > .parallelism--gil { color: $text-warning; text-style: bold; }
    ParallelismPanel > .parallelism--parallel { color: $text-success; text-style: bold; }
    ParallelismPanel > .parallelism--io { color: $text-primary; text-style: bold; }
    ParallelismPanel > .parallelism--idle { color: $text-muted; text-style: bold; }
    """

    COMPONENT_CLASSES = {"parallelism--label", "parallelism--bar", "parallelism--gil",
                         "parallelism--parallel", "parallelism--io", "parallelism--idle"}

    BORDER_TITLE = "Parallelism"

    def __init__(self, cores: int, python: dict | None = None, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cores = max(1, cores)
        self.python = python or {}
        self.now: float | None = None
        self.run: float | None = None
        self.mode = ""
        self.workload = "cpu"
        self.finished = False
        self.processes = 0
        self.threads: list[ThreadLoad] = []
        self.runner_share: float | None = None
        self.thread_count = 0
        #: Where the workers' time went (live, then over the run), when it is measured.
        self.breakdown: Breakdown | None = None
        self.final: Verdict | None = None  # the run's verdict, once it ended
        #: The run goes on a cluster (Dask): "2 workers × 1 thread", and the cores its
        #: figures are read against when nothing here samples them (else this machine's).
        self.where = ""
        self.cluster_cores: int | None = None

    def _style(self, name: str):
        return self.component_style(f"parallelism--{name}")

    def start_run(self, mode: str, workload: str) -> None:
        self.mode, self.workload = mode, workload
        self.now = self.run = None
        self.finished = False
        self.processes, self.threads = 0, []
        self.runner_share = None
        self.breakdown = self.final = None
        self.where, self.cluster_cores = "", None
        self.refresh()

    def update_live(self, now: float, run: float | None, processes: int,
                    threads: Sequence[ThreadLoad], runner_share: float | None = None,
                    thread_count: int | None = None,
                    breakdown: Breakdown | None = None, cluster=None) -> None:
        """One sample while a run goes. ``runner_share``: cores the runner process's own
        threads used (also threads that ended since the last sample); ``thread_count``: its
        threads, when ``threads`` does not list them all; ``breakdown``: what the workers
        did in the thread-time probe's last interval; ``cluster``: the run's cluster
        (a ``ClusterState``), when it goes on one."""
        self.now, self.run = now, run
        if cluster:
            self.where = cluster.where
            # No process here: the figures are the workers' own, against their threads.
            self.cluster_cores = cluster.threads if not processes else None
        self.breakdown = breakdown
        self.processes, self.threads = processes, list(threads)
        self.runner_share = runner_share
        self.thread_count = thread_count or len(self.threads)
        self.refresh()

    def finish_run(self, parallelism: float, verdict: Verdict | None = None,
                   breakdown: Breakdown | None = None) -> None:
        """The run ended: its parallelism, and its verdict (the same as the summary's)."""
        self.run = parallelism
        self.final, self.breakdown = verdict, breakdown
        self.now = None  # nothing runs any more
        self.processes, self.threads = 0, []
        self.finished = True
        self.refresh()

    def set_python(self, info: dict) -> None:
        if info and info != self.python:
            self.python = dict(info)
            self.refresh()

    @property
    def verdict(self) -> Verdict | None:
        """The plain reading shown on the panel (None before any run)."""
        if self.finished and self.final is not None:
            return self.final
        value = self.run if self.finished else self.now
        if value is None:
            return None
        return verdict_for(value, self.shown_cores, self.workload, self.mode,
                           self.python.get("gil_enabled"), breakdown=self.breakdown,
                           where=self.where)

    @property
    def shown_cores(self) -> int:
        """The cores the figures are read against: a remote cluster's, else this machine's."""
        return self.cluster_cores or self.cores

    def _figure(self, label: str, value: float | None, width: int) -> Text:
        lab = self._style("label")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{label:<4}", lab)
        if value is None:
            line.append("–", lab)
            return line
        cores = self.shown_cores
        line.append(f"{value:5.2f} of {cores} cores ")
        room = width - line.cell_len
        if room >= 4:
            bar = self._style("bar")
            line.append(bar_text(value / cores, room), bar)
        return line

    def render(self) -> Text:
        width = max(10, self.size.width)
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append_text(self._figure("now", self.now, width))
        out.append("\n")
        out.append_text(self._figure("run", self.run, width))
        out.append("\n")
        verdict = self.verdict
        if verdict is not None and verdict.where and not verdict.detail:
            # The figures are on the lines above: where the run went is the news.
            out.append(f"{verdict.label} across {verdict.where}",
                       self._style(VERDICT_STYLE[verdict.kind]))
        elif verdict is not None and verdict.detail:
            # The measured reason is the line to read: on two lines rather than cut short
            # (the cores are on the lines above).
            text = f"{verdict.label}: {verdict.detail}"
            cut = text.rfind(" ", 0, width + 1) if len(text) > width else -1
            if cut > 0:
                text = text[:cut] + "\n" + text[cut + 1:]
            out.append(text, self._style(VERDICT_STYLE[verdict.kind]))
        elif verdict is not None:
            out.append(verdict.text, self._style(VERDICT_STYLE[verdict.kind]))
        else:
            out.append("measuring…" if self.mode else "no run yet: press r",
                       self._style("idle"))
        out.append("\n")
        lab = self._style("label")
        b = self.breakdown
        if b is not None and b.available and b.worker_count:
            # What the workers do: "80 threads ▒ 79 GIL wait · █ 1 running" (press l)
            out.append(f"{b.worker_count} {b.units()} ", lab)
            out.append_text(bar_legend(b, self.python.get("gil_enabled")))
        elif self.processes:
            shares = [t.share for t in self.threads]
            count = max(self.thread_count, len(shares))
            procs = f"{self.processes} process{'es' if self.processes != 1 else ''}"
            if count and self.processes == 1:  # threads of one process: do they share?
                used = self.runner_share if self.runner_share is not None else sum(shares)
                n = count
                # the longest that fits whole (at 80x24 the panel has 28 columns)
                text = next((t for t in (f"{procs} · {n} threads: {used:.2f} cores",
                                         f"{n} threads: {used:.2f} cores")
                             if len(t) <= width), f"{n} thr: {used:.2f}")
                out.append(text, lab)
            else:
                out.append(f"{procs} in the run", lab)
        elif self.cluster_cores:  # a remote cluster: nothing here to count
            out.append(f"{self.cluster_cores} threads on the cluster", lab)
        else:
            out.append(f"{self.cores} usable cores", lab)
        out.append("\n")
        interpreter = describe_short(self.python)
        out.append(interpreter, lab)
        exe = self.python.get("executable")
        if exe and len(interpreter) + 3 + len(_short_path(exe)) <= width:  # whole, or not
            out.append(f" · {_short_path(exe)}", lab)
        return out


def _short_path(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home != "/" and path.startswith(home + os.sep) else path

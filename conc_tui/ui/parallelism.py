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
from .lines import ComponentStyles
from .tasks import bar_text

#: The panel's style for each kind of verdict.
VERDICT_STYLE = {"gil-bound": "gil", "one-at-a-time": "gil", "about-one-core": "gil",
                 "one-core": "gil", "parallel": "parallel", "parallel-no-gil": "parallel",
                 "io-wait": "io", "idle": "idle"}


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

    def _style(self, name: str):
        return self.component_style(f"parallelism--{name}")

    def start_run(self, mode: str, workload: str) -> None:
        self.mode, self.workload = mode, workload
        self.now = self.run = None
        self.finished = False
        self.processes, self.threads = 0, []
        self.runner_share = None
        self.refresh()

    def update_live(self, now: float, run: float | None, processes: int,
                    threads: Sequence[ThreadLoad], runner_share: float | None = None) -> None:
        """One sample while a run goes. ``runner_share``: cores the runner process's own
        threads used (also threads that ended since the last sample)."""
        self.now, self.run = now, run
        self.processes, self.threads = processes, list(threads)
        self.runner_share = runner_share
        self.refresh()

    def finish_run(self, parallelism: float) -> None:
        self.run = parallelism
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
        value = self.run if self.finished else self.now
        if value is None:
            return None
        return verdict_for(value, self.cores, self.workload, self.mode,
                           self.python.get("gil_enabled"))

    def _figure(self, label: str, value: float | None, width: int) -> Text:
        lab = self._style("label")
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{label:<4}", lab)
        if value is None:
            line.append("–", lab)
            return line
        line.append(f"{value:5.2f} of {self.cores} cores ")
        room = width - line.cell_len
        if room >= 4:
            bar = self._style("bar")
            line.append(bar_text(value / self.cores, room), bar)
        return line

    def render(self) -> Text:
        width = max(10, self.size.width)
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append_text(self._figure("now", self.now, width))
        out.append("\n")
        out.append_text(self._figure("run", self.run, width))
        out.append("\n")
        verdict = self.verdict
        if verdict is not None:
            out.append(verdict.text, self._style(VERDICT_STYLE[verdict.kind]))
        else:
            out.append("measuring…" if self.mode else "no run yet: press r",
                       self._style("idle"))
        out.append("\n")
        lab = self._style("label")
        if self.processes:
            shares = [t.share for t in self.threads]
            procs = f"{self.processes} process{'es' if self.processes != 1 else ''}"
            if shares and self.processes == 1:  # threads of one process: do they share?
                used = self.runner_share if self.runner_share is not None else sum(shares)
                out.append(f"{procs} · {len(shares)} threads: {used:.2f} cores", lab)
            else:
                out.append(f"{procs} in the run", lab)
        else:
            out.append(f"{self.cores} usable cores", lab)
        out.append("\n")
        out.append(describe_short(self.python), lab)
        exe = self.python.get("executable")
        if exe:
            out.append(f" · {_short_path(exe)}", lab)
        return out


def _short_path(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home != "/" and path.startswith(home + os.sep) else path

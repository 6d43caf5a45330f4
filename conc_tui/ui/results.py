"""The results table: every run of this session, with its sizes and its speedup against
sequential.

Two runs must be told apart at every size, so each row carries the run's sizes (tasks, n
where the workload uses it, sleep where it uses it) and every figure its unit. A wide table
gives each its own column; a narrow one (the 80-column screen) folds them into two lines
per run under two-line headers, so nothing is cut.
"""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import DataTable

from ..monitor import workload_info
from ..monitor.results import RunResult, speedup_for

#: (key, header, right-aligned) of the wide table.
COLUMNS = (("run", "#", True), ("mode", "mode", False), ("python", "python", False),
           ("workload", "workload", False),
           ("tasks", "tasks", True), ("n", "n", True), ("sleep", "sleep s", True),
           ("wall", "wall s", True), ("cpu", "CPU s", True), ("par", "parallel", True),
           ("speedup", "speedup", True), ("status", "status", False))
#: The narrow table: (header, the cells it stacks, right-aligned), two lines each.
NARROW = (("mode · workload\ntasks × size", ("what", "size"), False),
          ("py", ("python",), False),
          ("wall s\nCPU s", ("wall", "cpu"), True),
          ("par\n×seq", ("par", "speedup"), True),
          ("status", ("status",), False))
FULL_WIDTH = 100  # below this many columns, the narrow table

_STATUS_STYLE = {"ok": "green", "failed": "bold red", "cancelled": "yellow"}


def sizes_text(result: RunResult) -> str:
    """The run's sizes, with units: ``80 × n=500``, ``80 × 2 s``, ``80 × n=500 · 2 s``."""
    work = workload_info(result.workload)
    parts = ([f"n={result.n}"] if work.uses_n else []) + (
        [f"{result.sleep:g} s"] if work.uses_sleep else [])
    return f"{result.tasks} × " + " · ".join(parts)


def row_cells(index: int, result: RunResult, history: Sequence[RunResult]) -> dict[str, str]:
    """The cells of one result as plain text, keyed like COLUMNS (and ``what``, ``size``)."""
    sp = speedup_for(result, history)
    work = workload_info(result.workload)
    return {
        "run": str(index + 1), "mode": result.mode, "workload": result.workload,
        # the interpreter that ran it, short: runs of a compare --pythons read side by side
        "python": str(result.python.get("version", "?"))
        + ("t" if result.python.get("free_threaded_build") else ""),
        "tasks": str(result.tasks), "n": str(result.n) if work.uses_n else "—",
        "sleep": f"{result.sleep:g}" if work.uses_sleep else "—",
        "wall": f"{result.wall_s:.2f}", "cpu": f"{result.cpu_s:.2f}",
        "par": f"{result.parallelism:.2f}", "speedup": "—" if sp is None else f"{sp:.2f}x",
        "status": result.status,
        "what": f"{result.mode} · {result.workload}", "size": sizes_text(result),
    }


class ResultsTable(DataTable):
    """One row per run, rebuilt whenever a run ends (a later sequential run gives earlier
    runs their speedup)."""

    DEFAULT_CSS = """
    ResultsTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.results: list[RunResult] = []
        self.narrow: bool | None = None  # which table is built (None: none yet)

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        if self._wants_narrow() != self.narrow:
            self._rebuild()

    def set_results(self, results: Sequence[RunResult]) -> None:
        self.results = list(results)
        self._rebuild()

    def _wants_narrow(self) -> bool:
        return bool(self.size.width) and self.size.width < FULL_WIDTH

    def _rebuild(self) -> None:
        narrow = self._wants_narrow()
        if narrow != self.narrow:
            self.clear(columns=True)
            self.header_height = 2 if narrow else 1
            for header, _, right in (NARROW if narrow else
                                     [(h, (k,), r) for k, h, r in COLUMNS]):
                self.add_column(Text(header, justify="right" if right else "left"))
            self.narrow = narrow
        else:
            self.clear()
        for i, result in enumerate(self.results):
            cells = row_cells(i, result, self.results)
            style = _STATUS_STYLE.get(result.status, "")
            row = []
            for _, keys, right in (NARROW if narrow else [(h, (k,), r) for k, h, r in COLUMNS]):
                text = "\n".join(cells[k] for k in keys)
                row.append(Text(text, style=style if keys == ("status",) else "",
                                justify="right" if right else "left"))
            self.add_row(*row, key=str(i), height=2 if narrow else 1)
        if self.results:
            self.move_cursor(row=len(self.results) - 1, animate=False)
            self.scroll_end(animate=False, x_axis=False)

    def rows_text(self) -> list[dict[str, str]]:
        """Every row as plain text by column key (tests)."""
        return [row_cells(i, r, self.results) for i, r in enumerate(self.results)]

"""The results table: every run of this session, with its speedup against sequential."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import DataTable

from ..monitor.results import RunResult, speedup_for

#: (key, header, right-aligned) of the full table; a narrow table keeps NARROW, in that
#: order, with the SHORT headers.
COLUMNS = (("run", "#", True), ("mode", "mode", False), ("python", "python", False),
           ("workload", "workload", False),
           ("tasks", "tasks", True), ("n", "n", True), ("sleep", "sleep", True),
           ("wall", "wall s", True), ("cpu", "CPU s", True), ("par", "parallel", True),
           ("speedup", "speedup", True), ("status", "status", False))
NARROW = ("mode", "python", "wall", "cpu", "par", "speedup", "workload", "status")
SHORT = {"python": "py", "wall": "wall", "cpu": "CPU", "par": "par", "speedup": "×seq",
         "workload": "work"}
FULL_WIDTH = 100  # below this many columns, the narrow set


def row_cells(index: int, result: RunResult, history: Sequence[RunResult],
              narrow: bool = False) -> dict[str, Text]:
    """The cells of one result, keyed like COLUMNS (right-aligned to their header)."""
    sp = speedup_for(result, history)
    status_style = {"ok": "green", "failed": "bold red", "cancelled": "yellow"}.get(
        result.status, "")
    cells = {
        "run": str(index + 1), "mode": result.mode,
        "python": str(result.python.get("version", "?"))
        + ("t" if result.python.get("free_threaded_build") else ""),
        "workload": result.workload,
        "tasks": str(result.tasks), "n": str(result.n), "sleep": f"{result.sleep:g}",
        "wall": f"{result.wall_s:.2f}", "cpu": f"{result.cpu_s:.2f}",
        "par": f"{result.parallelism:.2f}", "speedup": "—" if sp is None else f"{sp:.2f}x",
        "status": result.status,
    }
    out = {}
    for key, header, right in COLUMNS:
        style = status_style if key == "status" else ""
        if narrow:
            header = SHORT.get(key, header)
        text = cells[key].rjust(len(header)) if right else cells[key]
        out[key] = Text(text, style=style, justify="right" if right else "left")
    return out


class ResultsTable(DataTable):
    """One row per run, rebuilt whenever a run ends (a later sequential run gives earlier
    runs their speedup)."""

    DEFAULT_CSS = """
    ResultsTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.results: list[RunResult] = []
        self._columns: tuple[str, ...] = ()

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        if self._wanted_columns() != self._columns:
            self._rebuild()

    def set_results(self, results: Sequence[RunResult]) -> None:
        self.results = list(results)
        self._rebuild()

    def _wanted_columns(self) -> tuple[str, ...]:
        if self.size.width and self.size.width < FULL_WIDTH:
            return NARROW
        return tuple(key for key, _, _ in COLUMNS)

    def _rebuild(self) -> None:
        keys = self._wanted_columns()
        narrow = keys == NARROW
        if keys != self._columns:
            self.clear(columns=True)
            spec = {key: (header, right) for key, header, right in COLUMNS}
            for key in keys:
                header, right = spec[key]
                if narrow:
                    header = SHORT.get(key, header)
                self.add_column(Text(header, justify="right" if right else "left"), key=key)
            self._columns = keys
        else:
            self.clear()
        for i, result in enumerate(self.results):
            cells = row_cells(i, result, self.results, narrow)
            self.add_row(*(cells[k] for k in keys), key=str(i))
        if self.results:
            self.move_cursor(row=len(self.results) - 1, animate=False)
            self.scroll_end(animate=False, x_axis=False)

    def rows_text(self) -> list[dict[str, str]]:
        """Every row as plain text by column key (tests)."""
        return [{k: v.plain.strip() for k, v in row_cells(i, r, self.results).items()}
                for i, r in enumerate(self.results)]

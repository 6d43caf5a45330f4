"""The timeline: one lane per worker, each task a span, coloured by what its worker did.

Pure layout, no Textual and no I/O: the app's timeline view and ``conc-tui run --timeline``
draw the same ``Layout``. A *lane* is a worker of ``RunState`` (a thread or process that
ran tasks, in order of first use). Time runs left to right in columns of equal length from
the run's start; a cell is on where a task of the lane ran, and says the state its worker
spent the most time in during that column (from the ``threadwatch.History``):

- few lanes: each lane gets up to ``MAX_SUB`` rows, and its tasks go to them in turn, so
  tasks one after another on a worker make a staircase and a pool's waves show;
- more lanes than rows: neighbouring lanes share a row (``grouped`` lanes a row), which
  shows the states of all of them summed, so that no lane is dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .runstate import RunState
from .threadwatch import STATE_ORDER, ThreadWatch, state_word

#: A task ran there, but its worker's time was not measured (no probe, or not yet).
TASK = "task"
GLYPHS = {"running": "█", "core_wait": "▓", "lock_wait": "▒", "io_wait": "░", TASK: "─",
          "": " "}
MAX_SUB = 16  # rows a lane may take when there is room


@dataclass
class Row:
    label: str
    cells: list[str] = field(default_factory=list)  # one state (or TASK, or "") a column


@dataclass
class Layout:
    rows: list[Row]
    end_s: float  # the time axis: 0 .. end_s
    column_s: float  # seconds a column
    lanes: int  # workers
    grouped: int = 1  # lanes sharing a row (1: a lane has its own rows)
    unit: str = "thread"
    measured: bool = False  # some cell's state was measured

    @property
    def width(self) -> int:
        return len(self.rows[0].cells) if self.rows else 0

    def counts(self) -> dict[str, int]:
        """Cells in each state (tests, and a check that a picture says what it should)."""
        out: dict[str, int] = {}
        for row in self.rows:
            for c in row.cells:
                if c:
                    out[c] = out.get(c, 0) + 1
        return out


def layout(state: RunState, watch: ThreadWatch | None, end_s: float, columns: int,
           rows: int, *, unit: str = "thread") -> Layout:
    """The timeline of a run (so far) in ``columns`` × at most ``rows`` cells."""
    keys = sorted(list(state.workers.items()), key=lambda kv: kv[1])  # (pid, tid), index
    lanes = len(keys)
    columns, rows = max(1, columns), max(1, rows)
    names = lane_names(state) if lanes <= rows else None
    if names:  # the callers' room was for a lane number: the names take it from the time
        extra = max(len(n) for n in names) - len(str(max(0, lanes - 1)))
        columns = max(min(columns, 10), columns - max(0, extra))
    end_s = max(end_s, 1e-3)
    dt = end_s / columns
    out = Layout([], end_s, dt, lanes, unit=unit)
    if not lanes:
        return out
    per_lane: list[list] = [[] for _ in range(lanes)]
    for t in state.tasks:
        if t.worker is not None and t.start_s is not None and t.worker < lanes:
            per_lane[t.worker].append(t)
    for tasks in per_lane:
        tasks.sort(key=lambda t: t.start_s)
    # Which lanes go to which rows, and which of a lane's tasks to which of its rows.
    plan: list[tuple[str, list[int], list]] = []  # label, lanes, tasks
    if lanes <= rows:
        sub = max(1, min(MAX_SUB, rows // lanes))
        for w in range(lanes):
            tasks = per_lane[w]
            r = max(1, min(sub, len(tasks)))
            for k in range(r):
                label = names[w] if names else str(w)
                plan.append((label if k == 0 else "", [w], tasks[k::r]))
    else:
        g = math.ceil(lanes / rows)
        out.grouped = g
        for first in range(0, lanes, g):
            ws = list(range(first, min(lanes, first + g)))
            label = f"{ws[0]}-{ws[-1]}" if len(ws) > 1 else str(ws[0])
            plan.append((label, ws, [t for w in ws for t in per_lane[w]]))
    sums = _column_sums(watch, [k for k, _ in keys], columns, dt)
    for label, ws, tasks in plan:
        on = [False] * columns
        for t in tasks:
            end = t.end_s if t.end_s is not None else end_s
            a = min(columns - 1, int(t.start_s / dt))
            b = min(columns, max(a + 1, math.ceil(end / dt)))
            for j in range(a, b):
                on[j] = True
        cells = []
        for j in range(columns):
            if not on[j]:
                cells.append("")
                continue
            acc = [0.0, 0.0, 0.0, 0.0]
            for w in ws:
                col = sums[w].get(j) if sums else None
                if col is not None:
                    for s in range(4):
                        acc[s] += col[s]
            if max(acc) > 0:
                cells.append(STATE_ORDER[acc.index(max(acc))])
                out.measured = True
            else:
                cells.append(TASK)
        out.rows.append(Row(label, cells))
    return out


def lane_names(state: RunState) -> list[str] | None:
    """The lanes of a run on a cluster by the worker that ran them (``127.0.0.1:40215``, the
    name in its tasks' ``where`` without the scheme; a worker's threads numbered after it);
    None for a run on this machine, whose lanes are numbered."""
    found: dict[int, str] = {}
    for t in state.tasks:
        if t.worker is not None and t.where and t.worker not in found:
            found[t.worker] = t.where.rsplit(" on ", 1)[0].split("://", 1)[-1]
    if not found:
        return None
    names = [found.get(w, str(w)) for w in range(len(state.workers))]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    if all(c == 1 for c in seen.values()):
        return names
    k: dict[str, int] = {}
    out = []
    for name in names:  # a worker of several threads: a lane each, numbered
        k[name] = k.get(name, 0) + 1
        out.append(f"{name} {k[name]}" if seen[name] > 1 else name)
    return out


def _column_sums(watch: ThreadWatch | None, keys: list, columns: int,
                 dt: float) -> list[dict[int, list[float]]] | None:
    """Per lane, seconds per state in each column (run time), from the history's bins."""
    if watch is None:
        return None
    offset = watch.offset_s
    with watch.lock:
        hist = watch.history
        b = hist.bin_s
        out = []
        for key in keys:
            cols: dict[int, list[float]] = {}
            for i, cell in (hist.lanes.get(key) or {}).items():
                lo, hi = i * b + offset, (i + 1) * b + offset  # the bin, in run time
                j0, j1 = max(0, int(lo / dt)), min(columns - 1, int(hi / dt))
                if j1 < 0 or j0 > columns - 1:
                    continue
                for j in range(j0, j1 + 1):
                    c0, c1 = max(lo, j * dt), min(hi, (j + 1) * dt)
                    k = (c1 - c0) / b if c1 > c0 else 0.0
                    if k <= 0:
                        continue
                    col = cols.get(j)
                    if col is None:
                        col = cols[j] = [0.0, 0.0, 0.0, 0.0]
                    for s in range(4):
                        col[s] += cell[s] * k
            out.append(cols)
    return out


def legend(gil: bool | None, lock_split: bool = True) -> list[tuple[str, str]]:
    """(glyph, words) for each state the timeline can show."""
    items = []
    for s in STATE_ORDER:
        if s == "lock_wait" and not lock_split:
            continue
        word = "off CPU" if s == "io_wait" and not lock_split else state_word(s, gil, short=True)
        items.append((GLYPHS[s], word))
    items.append((GLYPHS[TASK], "task (not measured)"))
    return items


def axis(end_s: float, width: int) -> str:
    """A time axis ``width`` wide: ticks with seconds under them."""
    if width <= 0:
        return ""
    line = [" "] * width
    ticks = max(1, min(width // 12, 8))
    for k in range(ticks + 1):
        j = min(width - 1, round(k * (width - 1) / ticks))
        text = f"{end_s * j / max(1, width - 1):.1f}s"
        at = max(0, min(width - len(text), j - (len(text) - 1 if k == ticks else 0)))
        if all(c == " " for c in line[max(0, at - 1):at + len(text)]):
            line[at:at + len(text)] = text
    return "".join(line)


def text_lines(lay: Layout, gil: bool | None, lock_split: bool = True) -> list[str]:
    """The timeline as plain lines (``conc-tui run --timeline``)."""
    if not lay.rows:
        return ["timeline: no task ran"]
    label_w = max(len(r.label) for r in lay.rows)
    units = lay.unit + ("es" if lay.unit == "process" else "s")
    group = f", {lay.grouped} a row" if lay.grouped > 1 else ""
    head = (f"timeline · {lay.lanes} {units if lay.lanes != 1 else lay.unit}{group} · "
            f"0-{lay.end_s:.1f} s, {lay.column_s:.2f} s a column")
    lines = [head, "  ".join(f"{g} {w}" for g, w in legend(gil, lock_split))]
    for row in lay.rows:
        lines.append(f"{row.label:>{label_w}} " + "".join(GLYPHS[c] for c in row.cells))
    lines.append(" " * (label_w + 1) + axis(lay.end_s, lay.width))
    return lines

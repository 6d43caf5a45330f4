"""The thread view: how many workers are running, waiting for a core, on the GIL, sleeping.

Drawn as Rich text for the parallelism panel (one line) and the timeline screen (large): a
stacked bar whose segments are the workers in each state (now, or on average over the run),
and a strip with one cell per worker thread or process, by the state it is in now. Each
state has its own glyph as well as its colour, so that it reads on a projector and without
colour.
"""
from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ..monitor.threadwatch import STATE_ORDER, Breakdown, state_word
from ..monitor.timeline import GLYPHS, TASK

#: A colour a state, fixed (not the theme's): the same four colours wherever time is drawn.
STATE_STYLES = {
    "running": Style(color="green3", bold=True),
    "core_wait": Style(color="dark_orange"),
    "lock_wait": Style(color="red3"),
    "io_wait": Style(color="dodger_blue1"),
    TASK: Style(color="grey50"),
    "ended": Style(color="grey39"),
    "": Style(),
}


def bar_counts(b: Breakdown) -> dict[str, float]:
    """Workers in each state (fractions of a worker: an average)."""
    shares = b.shares()
    return {s: b.worker_count * shares[s] for s in STATE_ORDER}


def stacked_bar(b: Breakdown, width: int) -> Text:
    """One line ``width`` cells wide: a segment per state, in proportion to its workers."""
    counts = bar_counts(b)
    total = sum(counts.values())
    out = Text(no_wrap=True, overflow="crop")
    if total <= 0 or width <= 0:
        return out
    # Largest remainders, so the segments add up to the width exactly.
    exact = {s: width * c / total for s, c in counts.items()}
    cells = {s: int(v) for s, v in exact.items()}
    for s in sorted(exact, key=lambda s: exact[s] - cells[s], reverse=True)[
            :width - sum(cells.values())]:
        cells[s] += 1
    for s in STATE_ORDER:
        if cells[s]:
            out.append(GLYPHS[s] * cells[s], STATE_STYLES[s])
    return out


def bar_legend(b: Breakdown, gil: bool | None, *, short: bool = True) -> Text:
    """``79 GIL wait · 1 running`` (the states with workers in them, most first)."""
    counts = bar_counts(b)
    out = Text(no_wrap=True, overflow="ellipsis")
    parts = sorted((s for s in STATE_ORDER if round(counts[s]) > 0 or s == "running"),
                   key=lambda s: -counts[s])
    for i, s in enumerate(parts):
        if i:
            out.append(" · ", "dim")
        out.append(f"{GLYPHS[s]} {round(counts[s])} {state_word(s, gil, short=short)}",
                   STATE_STYLES[s])
    return out


def strip(states: list[str], width: int, max_rows: int) -> tuple[list[Text], int]:
    """One cell per worker by its state now, wrapped in ``width``; above ``max_rows`` rows,
    each cell stands for several workers (the state most of them are in). Returns the lines
    and how many workers a cell is."""
    if not states or width <= 0:
        return [], 1
    per = max(1, -(-len(states) // (width * max(1, max_rows))))
    cells = []
    for i in range(0, len(states), per):
        group = states[i:i + per]
        cells.append(max(set(group), key=group.count))
    lines = []
    for i in range(0, len(cells), width):
        line = Text(no_wrap=True, overflow="crop")
        for s in cells[i:i + width]:
            line.append(GLYPHS.get(s, "·") if s != "ended" else "·", STATE_STYLES.get(s, ""))
        lines.append(line)
    return lines, per

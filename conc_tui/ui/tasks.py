"""The tasks panel: one cell per task, its id, a fill for its progress, a colour for its state.

One widget draws every cell with the line API: a frame costs the rows on screen, never the
number of tasks, so 10,000 tasks update as smoothly as 80. The cell format is chosen to fit the
space the panel gets, from the richest to the most compact:

    ids     17 ████▌   the id, then a bar of 2–8 characters filled by eighths
    mini    17▅        the id, then one glyph whose height is the progress
    dense   1200 ▁▃▅█▇▆▅▄▃▂ ▁▁▁▂...   a row label (the first id), then one glyph per task,
                                     in groups of ten; the glyph's height is the progress

When even the dense grid does not fit, the panel scrolls, and during a run it follows the
first unfinished row until the user scrolls it themselves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..monitor import RunState
from .glyphs import BLOCKS, fill, fill_eighths
from .lines import ComponentStyles, ThemeColours

WAITING, RUNNING, DONE, FAILED, CANCELLED = range(5)
STATES = ("waiting", "running", "done", "failed", "cancelled")  # the reducer's, by index
STATE_OF = {name: i for i, name in enumerate(STATES)}
#: Without colour (NO_COLOR) a state must still show: the mark between an id and its bar.
MARKS = ("·", "▸", "✓", "✗", "⊘")
#: A task as one glyph (mini and dense cells); running shows its progress as a height.
FAILED_GLYPH, CANCELLED_GLYPH = "✗", "⊘"
ENDED = (DONE, FAILED, CANCELLED)

#: Bar widths, richest first: a few tasks on a large screen get long bars (24 tasks used 3
#: of 20 rows at 200x60 with bars of 8).
BAR_WIDTHS = (24, 16, 12, 8, 6, 4, 3, 2)
GROUP = 10  # dense cells come in groups of ten, so an id is easy to count to


@dataclass(frozen=True)
class GridLayout:
    """How the cells are laid out: ``rows`` rows of ``per_row`` cells of one ``kind``."""

    kind: str  # ids, mini or dense
    tasks: int
    per_row: int
    rows: int
    digits: int  # width of an id
    bar: int = 0  # ids: bar width
    pitch: int = 1  # lines per row: 2 leaves a blank line under each row, when there is room

    @property
    def cell_w(self) -> int:
        return {"ids": self.digits + 1 + self.bar, "mini": self.digits + 1}.get(self.kind, 1)

    def width(self) -> int:
        """Characters of the widest row."""
        if self.kind in ("ids", "mini"):
            return self.per_row * (self.cell_w + 1) - 1
        groups = math.ceil(self.per_row / GROUP)
        return self.digits + 1 + self.per_row + groups - 1

    def row_of(self, task: int) -> int:
        return task // self.per_row

    @property
    def lines(self) -> int:
        """Lines the rows take, with their spacing."""
        return self.rows * self.pitch - (self.pitch - 1 if self.rows else 0)


def choose_layout(tasks: int, width: int, height: int) -> GridLayout:
    """The richest layout in which every task fits ``width`` x ``height``; else one that
    scrolls (dense, as many per row as fit)."""
    tasks = max(0, tasks)
    digits = len(str(max(0, tasks - 1)))
    width = max(1, width)
    for bar in BAR_WIDTHS:
        cell = digits + 1 + bar
        per_row = max(1, (width + 1) // (cell + 1))
        rows = math.ceil(tasks / per_row) if tasks else 0
        if rows <= height and per_row * (cell + 1) - 1 <= width:
            pitch = 2 if 2 * rows - 1 <= height else 1
            return GridLayout("ids", tasks, per_row, rows, digits, bar, pitch)
    per_row = max(1, (width + 1) // (digits + 2))
    rows = math.ceil(tasks / per_row) if tasks else 0
    if rows <= height:
        return GridLayout("mini", tasks, per_row, rows, digits)
    room = width - digits - 1
    groups = (room + 1) // (GROUP + 1)
    per_row = groups * GROUP if groups else max(1, room)
    rows = math.ceil(tasks / per_row) if tasks else 0
    return GridLayout("dense", tasks, per_row, rows, digits)


def bar_text(fraction: float, width: int) -> str:
    """``fraction`` (0..1) of ``width`` characters, filled by eighths, padded with spaces."""
    return fill(fraction, width).ljust(width)


def _glyph(state: int, level: int) -> str:
    """One character for a task: its progress as a height, ``level`` 0..7 (waiting: a dot)."""
    if state == WAITING:
        return "·"
    if state == DONE:
        return "█"
    if state == FAILED:
        return FAILED_GLYPH
    if state == CANCELLED:
        return CANCELLED_GLYPH
    return BLOCKS[level]


class TaskGrid(ThemeColours, ComponentStyles, ScrollView, can_focus=True):
    """Every task of the run as a cell; the app feeds it events and progress once a frame."""

    DEFAULT_CSS = """
    TaskGrid {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    TaskGrid:focus { border: round $primary; }
    TaskGrid > .task-grid--waiting { color: $text-disabled; }
    TaskGrid > .task-grid--running { color: $text-warning; }
    TaskGrid > .task-grid--done { color: $text-success; }
    TaskGrid > .task-grid--failed { color: $text-error; text-style: bold; }
    TaskGrid > .task-grid--cancelled { color: $text-secondary; text-style: italic; }
    TaskGrid > .task-grid--track { background: $panel; }
    TaskGrid > .task-grid--label { color: $text-muted; }
    """

    COMPONENT_CLASSES = {"task-grid--waiting", "task-grid--running", "task-grid--done",
                         "task-grid--failed", "task-grid--cancelled", "task-grid--track",
                         "task-grid--label"}

    def __init__(self, tasks: int = 0, *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.states: list[int] = []
        self.fractions: list[float] = []
        self.counts = [0] * len(STATES)
        self.layout_info = choose_layout(0, 1, 1)
        self._shown_counts: tuple | None = None
        self.frames = 0  # frames applied (tests, benchmarks)
        self.rows_repainted = 0  # rows repainted by those frames (tests, benchmarks)
        self.rows_built = 0  # rows drawn anew rather than reused (tests, benchmarks)
        self._row_keys: dict[int, tuple] = {}  # row -> what it showed when last painted
        self._row_strips: dict[int, tuple] = {}  # row -> (key, width, scroll x), its strip
        self._first_open = 0
        self._followed_to: int | None = None
        self.reset(tasks)

    # -- data ------------------------------------------------------------------------

    @property
    def tasks(self) -> int:
        return len(self.states)

    def reset(self, tasks: int) -> None:
        """A new run of ``tasks`` tasks, all waiting."""
        self.states = [WAITING] * tasks
        self.fractions = [0.0] * tasks
        self.counts = [tasks] + [0] * (len(STATES) - 1)
        self._first_open = 0  # no task before this one is still waiting or running
        self._followed_to = None  # the scroll row the panel last followed to
        self._relayout()
        self._update_title()
        self.refresh()

    def set_states(self, run: RunState, changed: Iterable[int] | None = None) -> None:
        """Mirror the run's task states: only ``changed`` ids, or every task when None.
        The reducer is the run's (``monitor.RunState``); the grid keeps small integers only
        because its rows are drawn from them."""
        states, tasks = self.states, run.tasks
        ids = range(len(tasks)) if changed is None else changed
        for i in ids:
            if 0 <= i < len(states):
                states[i] = STATE_OF[tasks[i].state]
        self.counts = [run.counts[name] for name in STATES]

    def set_progress(self, fractions: Sequence[float]) -> None:
        """Per-task fraction done, 0..1; a task marked done is drawn full regardless."""
        if len(fractions) == len(self.states):
            self.fractions = list(fractions)

    def update_frame(self, fractions: Sequence[float] | None) -> None:
        """One frame's worth: the progress now (states come with ``set_states``).

        Repaints only the rows on screen in which a cell now looks different: a bar moves
        by an eighth of a character, so most frames touch a few rows, or none.
        """
        if fractions is not None:
            self.set_progress(fractions)
        self._update_title()
        self.frames += 1
        self._follow_the_work()
        self._refresh_changed_rows()

    def _follow_the_work(self) -> None:
        """When the tasks do not fit, keep the first unfinished row in view, so that the
        cells that move are the ones shown; until the user scrolls the panel themselves."""
        lay = self.layout_info
        height = self.size.height
        if lay.rows <= height or height <= 0 or not self.is_mounted:
            return
        top = self.scroll_offset.y
        if self._followed_to is not None and top != self._followed_to:
            return  # scrolled by the user: leave it where they put it
        states, n, i = self.states, len(self.states), self._first_open
        while i < n and states[i] in ENDED:
            i += 1
        self._first_open = i
        row = lay.row_of(min(i, n - 1))
        if not top <= row < top + height - 1:  # the last row on screen is not enough
            target = max(0, min(row, lay.rows - height))
            self.scroll_to(y=target, animate=False, immediate=True, force=True)
            self._followed_to = self.scroll_offset.y
        elif self._followed_to is None:
            self._followed_to = top

    def _row_key(self, row: int, lay: GridLayout) -> tuple:
        """What a row shows, one small integer per cell (``state * 1000 + level``): the rows
        are drawn from these keys alone, so equal keys draw equal lines.

        The level is what the cell's fill shows: eighths of the bar (ids), or the index of
        the glyph (mini, dense); waiting and done cells always look the same (level 0).
        """
        start = row * lay.per_row
        end = min(self.tasks, start + lay.per_row)
        states, fractions = self.states, self.fractions
        if lay.kind == "ids":
            steps = lay.bar * 8
            return tuple(
                s * 1000 + (round(min(1.0, max(0.0, fractions[i])) * steps)
                            if s == RUNNING or s == FAILED or s == CANCELLED else 0)
                for i, s in zip(range(start, end), states[start:end]))
        return tuple(s * 1000 + (max(0, min(7, int(fractions[i] * 8)))
                                 if s == RUNNING else 0)
                     for i, s in zip(range(start, end), states[start:end]))

    def _refresh_changed_rows(self) -> None:
        lay = self.layout_info
        if not self.is_mounted or lay.rows == 0:
            return
        pitch = lay.pitch  # 2 only when every row is on screen (no scrolling)
        top = self.scroll_offset.y // pitch
        bottom = min(lay.rows, top + -(-self.size.height // pitch))
        # Only the rows on screen keep a key: one scrolled into view later is looked at anew.
        old, keys = self._row_keys, {}
        first = last = None
        for row in range(top, bottom):
            key = keys[row] = self._row_key(row, lay)
            if old.get(row) != key:
                if first is None:
                    first = row
                last = row
        self._row_keys = keys
        if first is not None:
            self.rows_repainted += last - first + 1
            self.refresh_lines(first * pitch, (last - first) * pitch + 1)

    def state_of(self, task: int) -> str:
        return STATES[self.states[task]]

    # -- layout ------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._relayout()
        self._shown_counts = None
        self._update_title()

    def _relayout(self) -> None:
        width, height = self.size
        lay = choose_layout(self.tasks, max(1, width), max(1, height))
        if lay.rows > height and width > 1:  # it scrolls: leave room for the scrollbar
            lay = choose_layout(self.tasks, width - 1, max(1, height))
        self.layout_info = lay
        self.virtual_size = Size(lay.width(), lay.lines)
        self._row_keys = {}
        self._row_strips = {}
        self._followed_to = None  # the scroll may move with the layout: follow anew
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._row_keys = {}
        self._row_strips = {}

    def _style(self, name: str) -> Style:
        """``base``, ``label``, a state (``running``…) or a state's bar (``running-bar``)."""
        def make() -> Style:
            if name == "base":
                return self.rich_style
            state, _, bar = name.partition("-")
            under = self.component_style("task-grid--track", on_base=True) if bar \
                else self.rich_style  # a bar: the state's colour on the track
            return under + self.component_style(f"task-grid--{state}")

        return self.memo_style(name, make)

    # -- drawing -----------------------------------------------------------------------

    def _update_title(self) -> None:
        waiting, running, done, failed, cancelled = self.counts
        counts = (self.tasks, *self.counts)
        if counts == self._shown_counts:
            return
        self._shown_counts = counts
        # (count, long name, short name): done and waiting always, the others when any;
        # after a stop no task is running any more, and the title says none is.
        shown = [(done, "done", "done"), (failed, "failed", "failed"),
                 (cancelled, "cancelled", "cancel"), (running, "running", "run"),
                 (waiting, "waiting", "wait")]
        shown = [p for p in shown if p[0] or p[1] in ("done", "waiting")
                 or (p[1] == "running" and not cancelled)]
        title = f"Tasks · {self.tasks}: " + " · ".join(f"{c} {name}" for c, name, _ in shown)
        if len(title) + 8 > self.outer_size.width > 0:
            title = f"{self.tasks} tasks · " + " · ".join(f"{c} {short}" for c, _, short in shown)
        self.border_title = Text(title)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        lay = self.layout_info
        row, gap = divmod(scroll_y + y, lay.pitch)
        if gap or row >= lay.rows or not self.states:
            return Strip.blank(width, self._style("base"))
        # The row as the last frame saw it (so a row is drawn as the frame decided, and its
        # key is computed once); a row scrolled into view is looked at now.
        cells = self._row_keys.get(row)
        if cells is None:
            cells = self._row_keys[row] = self._row_key(row, lay)
        # A repaint of the whole panel (its title changed, it scrolled) rebuilds only the
        # rows whose cells changed since they were last drawn.
        key = (cells, width, scroll_x)
        cached = self._row_strips.get(row)
        if cached is not None and cached[0] == key:
            return cached[1]
        start = row * lay.per_row
        if lay.kind == "dense":
            segments = self._dense_row(start, cells, lay)
            row_w = lay.digits + 1 + len(cells) + (len(cells) - 1) // GROUP
        else:
            segments = self._cells_row(start, cells, lay)
            row_w = len(cells) * (lay.cell_w + 1) - 1
        base = self._style("base")
        if scroll_x == 0 and row_w <= width:  # every glyph is one cell wide: no measuring
            if row_w < width:
                segments.append(Segment(" " * (width - row_w), base))
            strip = Strip(segments, width)
        else:
            strip = Strip(segments, row_w).crop_extend(scroll_x, scroll_x + width, base)
        self._row_strips[row] = (key, strip)
        self.rows_built += 1
        return strip

    def _cells_row(self, start: int, key: tuple, lay: GridLayout) -> list[Segment]:
        """A row of ``ids`` cells (id, then a bar) or ``mini`` cells (id, then one glyph),
        from the row's key."""
        base = self._style("base")
        ids = lay.kind == "ids"
        full = "█" * lay.bar
        marks = MARKS if self.app.no_color else None  # the state in a glyph, not a colour
        out: list[Segment] = []
        for i, cell in enumerate(key, start):
            if i > start:
                out.append(Segment(" ", base))
            state, level = divmod(cell, 1000)
            name = STATES[state]
            if ids:
                label = f"{i:>{lay.digits}}{marks[state] if marks else ' '}"
                bar = full if state == DONE else fill_eighths(level, lay.bar).ljust(lay.bar)
            else:
                label = f"{i:>{lay.digits}}"
                bar = _glyph(state, level)
            out.append(Segment(label, self._style(name)))
            out.append(Segment(bar, self._style(name + "-bar")))
        return out

    def _dense_row(self, start: int, key: tuple, lay: GridLayout) -> list[Segment]:
        """A row label (its first id), then one glyph per cell in groups of ten."""
        base = self._style("base")
        out = [Segment(f"{start:>{lay.digits}} ", self._style("label"))]
        run_text, run_style = [], None
        for k, cell in enumerate(key):
            if k and k % GROUP == 0:
                if run_text:
                    out.append(Segment("".join(run_text), run_style))
                    run_text = []
                out.append(Segment(" ", base))
            state, level = divmod(cell, 1000)
            style = self._style(STATES[state])
            if style is not run_style and run_text:
                out.append(Segment("".join(run_text), run_style))
                run_text = []
            run_style = style
            run_text.append(_glyph(state, level))
        if run_text:
            out.append(Segment("".join(run_text), run_style))
        return out

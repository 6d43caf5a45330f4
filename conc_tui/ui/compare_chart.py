"""The compare chart: each mode's wall time as one labelled bar, then the ideal.

One row per mode, in MODES order (the order a compare runs them in): the mode's name, a bar
drawn in eighths of a character and scaled to the slowest wall time, the wall time and the
speedup against sequential. Then the ideal for this machine, in its own style and named
``ideal``, so it reads without colour too. A title line above says what the bars measure.

The rows are drawn here, line by line, rather than by plotext: its horizontal bars took one
row for some modes and two for others, and left some bars without their label, depending
on the size of the panel. Every row that shows a bar starts with its name, at every size.

Runs of the same work on several interpreters (a compare on 3.11, then one on 3.13) are
grouped by interpreter: a line naming it, then its modes and its ideal, each speedup
against sequential on that interpreter, every bar to one scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..monitor import MODES
from ..monitor.results import RunResult, ideal_speedup
from .glyphs import EIGHTHS, fill_eighths
from .lines import ComponentStyles, ThemeColours, split_spaces

#: Every glyph a bar is drawn with (a full block, then the partial eighths).
BAR_GLYPHS = "█" + EIGHTHS[1:]
#: The narrowest bar worth drawing; below it the speedup column goes first.
MIN_BAR = 8
EMPTY = "no finished runs yet: c runs every mode"

#: One line of the chart: (text, part) pairs; a part names the style it is drawn in.
Line = tuple[tuple[str, str], ...]


def compare_set(results: Sequence[RunResult]) -> tuple[list[RunResult], float | None]:
    """The latest ok run of each mode comparable with the latest run, in MODES order, and
    the ideal wall time (sequential's wall / ideal speedup) when sequential is among them."""
    done = [r for r in results if r.status == "ok"]
    if not done:
        return [], None
    ref = done[-1]
    latest: dict[str, RunResult] = {}
    for r in done:
        if r.comparable(ref) and ref.comparable(r):
            latest[r.mode] = r
    bars = [latest[m] for m in MODES if m in latest]
    seq = latest.get("sequential")
    ideal = seq.wall_s / ideal_speedup(seq) if seq is not None else None
    return bars, ideal


def empty_text(results: Sequence[RunResult]) -> str:
    """What the chart says with no bar: a stopped or failed run is not "no run yet"."""
    if not results or any(r.status == "ok" for r in results):
        return EMPTY
    last = results[-1]
    return f"nothing to compare: the last run ({last.mode}) {last.status}; c runs every mode"


def interpreter_name(info: dict) -> str:
    """``Python 3.13.0``, ``Python 3.13.0t`` (free-threaded, GIL off): a group's heading."""
    name = f"{info.get('implementation') or 'Python'} {info.get('version', '?')}"
    name = name.replace("CPython", "Python")
    if info.get("free_threaded_build"):
        name += "t" if info.get("gil_enabled") is False else "t (GIL on)"
    return name


def compare_groups(results: Sequence[RunResult]) -> list[tuple[str, list[RunResult], float | None]]:
    """The compare set of each interpreter that ran the same work as the latest run, in the
    order they first ran it: (its name, its runs in MODES order, its ideal wall time)."""
    done = [r for r in results if r.status == "ok"]
    if not done:
        return []
    ref = done[-1]
    same_work = [r for r in done if r.same_work(ref) and ref.same_work(r)]
    order: list[str] = []
    for r in same_work:
        exe = r.python.get("executable", "")
        if exe not in order:
            order.append(exe)
    groups = []
    for exe in order:
        bars, ideal = compare_set([r for r in same_work if r.python.get("executable", "") == exe])
        groups.append((interpreter_name(bars[0].python), bars, ideal))
    return groups


def run_set(result: RunResult) -> str:
    """What a compare ran, e.g. ``cpu · 16 tasks · n=300 · 4 cores``."""
    size = {"cpu": f"n={result.n}", "io": f"sleep {result.sleep:g} s",
            "mixed": f"n={result.n}, sleep {result.sleep:g} s"}.get(result.workload, "")
    parts = [result.workload, f"{result.tasks} tasks", size, f"{result.cpu_count} cores"]
    return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class Row:
    """One bar: a mode's (or the ideal's) wall time and its speedup against sequential."""

    label: str
    wall: float
    speedup: float | None
    ideal: bool = False
    heading: bool = False  # an interpreter's name above its group: text, no bar


def chart_rows(bars: Sequence[tuple[str, float]], ideal: float | None) -> list[Row]:
    """The bars in order, then the ideal; speedups when sequential is among the bars."""
    seq = next((wall for mode, wall in bars if mode == "sequential"), None)

    def speedup(wall: float) -> float | None:
        return seq / wall if seq is not None and wall > 0 else None

    rows = [Row(mode, wall, speedup(wall)) for mode, wall in bars]
    if ideal is not None:
        rows.append(Row("ideal", ideal, speedup(ideal), ideal=True))
    return rows


def grouped_rows(groups) -> list[Row]:
    """For each interpreter of ``compare_groups``: a heading row, its bars, its ideal."""
    rows = []
    for name, runs, ideal in groups:
        rows.append(Row(name, 0.0, None, heading=True))
        rows += chart_rows([(r.mode, r.wall_s) for r in runs], ideal)
    return rows


def chart_lines(rows: Sequence[Row], width: int, height: int,
                head: Sequence[Sequence[str]] = ()) -> list[Line]:
    """The chart's lines for a ``width`` x ``height`` view (more lines than ``height`` when
    the rows do not fit: the view scrolls).

    Each row: the name left-aligned to the longest, the bar, the wall time and the speedup,
    in columns. ``head`` are the lines above the rows, most wanted first, each given from
    its most to its least detailed form (the first that fits the width is shown). Every
    row comes first, then as many head lines as there is room for, then a blank line
    between rows when there is room for that too.
    """
    if not rows:
        return [((EMPTY, "title"),)]
    width = max(1, width)
    barred = [r for r in rows if not r.heading] or [Row("", 0.0, None)]
    label_w = max(len(r.label) for r in barred)
    walls = [f"{r.wall:.2f} s" for r in rows]
    wall_w = max(len(w) for r, w in zip(rows, walls) if not r.heading) if barred[0].label else 0
    speedups = ["" if r.speedup is None else f"{r.speedup:.2f}x" for r in rows]
    speed_w = max(map(len, speedups))
    tail = 2 + wall_w + (2 + speed_w if speed_w else 0)
    if speed_w and width - label_w - 1 - tail < MIN_BAR:
        tail, speed_w = 2 + wall_w, 0  # narrow: drop the speedups rather than the bar
    bar_w = max(1, width - label_w - 1 - tail)
    top = max(r.wall for r in barred)

    body: list[Line] = []
    for row, wall, speed in zip(rows, walls, speedups):
        if row.heading:
            body.append(((row.label[:width], "title"),))
            continue
        eighths = round(min(1.0, row.wall / top) * bar_w * 8) if top > 0 else 0
        filled = fill_eighths(max(1, eighths), bar_w) if row.wall > 0 else ""
        text, bar = ("ideal", "ideal-bar") if row.ideal else ("label", "bar")
        line = [(row.label.ljust(label_w) + " ", text), (filled, bar),
                (" " * (bar_w - len(filled)), "track"), ("  " + wall.rjust(wall_w), text)]
        if speed_w:
            line.append(("  " + speed.rjust(speed_w), text))
        body.append(tuple(line))

    n = len(body)
    head = [forms for forms in head if forms][:max(0, height - n)]
    spaced = height >= 2 * n + (len(head) if head else -1)
    out: list[Line] = []
    for forms in head:
        text = next((t for t in forms if len(t) <= width), forms[-1])
        out.append(((text[:width], "title"),))
    for k, line in enumerate(body):
        if spaced and (k or head):
            out.append(())
        out.append(line)
    return out


def bar_of(text: str) -> str:
    """The bar glyphs in a line of text (tests, and anyone reading the screen)."""
    return "".join(ch for ch in text if ch in BAR_GLYPHS)


class CompareChart(ThemeColours, ComponentStyles, ScrollView, can_focus=True):
    """Each mode's wall time, then the ideal; keeps its data and draws its lines from it."""

    DEFAULT_CSS = """
    CompareChart {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
        border-subtitle-color: $text-muted;
    }
    CompareChart > .compare-chart--title { color: $text-muted; }
    CompareChart > .compare-chart--label { }
    CompareChart > .compare-chart--bar { color: $text-primary; }
    CompareChart > .compare-chart--ideal { color: $text-success; text-style: bold; }
    CompareChart > .compare-chart--track { background: $panel; }
    """

    COMPONENT_CLASSES = {"compare-chart--title", "compare-chart--label", "compare-chart--bar",
                         "compare-chart--ideal", "compare-chart--track"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: list[tuple[str, float]] = []
        self.ideal: float | None = None
        self.groups: list = []  # (interpreter, runs, ideal) when several ran the same work
        self.run_set = ""  # what the bars ran, e.g. "cpu · 16 tasks · n=300 · 4 cores"
        self.empty = EMPTY  # what the chart says while it has no bar
        self.lines: list[Line] = []
        self._laid_out_for: tuple | None = None
        self._strips: dict[int, Strip] = {}

    # -- data --------------------------------------------------------------------------

    def set_results(self, results: Sequence[RunResult]) -> None:
        """Show the compare set of ``results`` (see ``compare_set``), grouped by interpreter
        when the same work ran on several (see ``compare_groups``)."""
        groups = compare_groups(results)
        self.groups = groups if len(groups) > 1 else []
        runs, ideal = compare_set(results)
        self.bars = [(r.mode, r.wall_s) for r in runs]
        self.ideal = ideal
        self.run_set = run_set(runs[-1]) if runs else ""
        self.border_subtitle = self.run_set
        self.empty = empty_text(results)
        self._relayout(force=True)

    @property
    def rows(self) -> list[Row]:
        if not self.groups:
            return chart_rows(self.bars, self.ideal)
        return grouped_rows(self.groups)

    def head(self, framed: bool) -> list[tuple[str, ...]]:
        """The lines above the bars (see ``chart_lines``): what a bar measures, then which
        runs these are, unless the border's subtitle says so already."""
        if not self.bars:
            return []
        top = max(r.wall for r in self.rows if not r.heading)
        scale = f"0–{top:.2f} s"
        speed = " · speedup vs sequential" if any(m == "sequential" for m, _ in self.bars) \
            else ""
        head = [(f"wall time, shorter is faster · bars {scale}{speed}",
                 f"wall time · bars {scale}", f"wall s, {scale}")]
        if self.run_set and not framed:
            head.append((self.run_set,))
        return head

    # -- layout ------------------------------------------------------------------------

    @property
    def framed(self) -> bool:
        """The widget has a border (a large screen), whose subtitle names the runs."""
        edge = self.styles.border_bottom[0]
        return bool(edge) and edge not in ("none", "hidden")

    def _relayout(self, force: bool = False) -> None:
        width, height = self.size
        framed = self.framed
        key = (width, height, framed)
        if not force and key == self._laid_out_for:
            return
        self._laid_out_for = key
        rows, head = self.rows, self.head(framed)
        lines = chart_lines(rows, width, height, head)
        if len(lines) > height > 0 and width > 1:  # it scrolls: room for the scrollbar
            lines = chart_lines(rows, width - 1, height, head)
        if not rows:
            lines = [((self.empty, "title"),)]
        self.lines = lines
        self._strips = {}
        if self.virtual_size.height != len(lines):
            self.virtual_size = Size(0, len(lines))
        self.refresh()

    def on_resize(self) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = {}
        if self.is_mounted:
            self._relayout()  # a border may have come or gone with the screen's size

    # -- drawing -----------------------------------------------------------------------

    def _style(self, part: str) -> Style:
        """A part of a line: ``title``, ``label``, ``ideal``, ``track``, or a bar's glyphs
        (``bar``, ``ideal-bar``), drawn on the track so that a part-filled cell is seamless."""
        def make() -> Style:
            if part.endswith("bar"):
                colour = "ideal" if part == "ideal-bar" else "bar"
                return (self.component_style("compare-chart--track", on_base=True)
                        + self.component_style(f"compare-chart--{colour}"))
            return self.component_style(f"compare-chart--{part}", on_base=True)

        return self.memo_style(part, make)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if not 0 <= index < len(self.lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            # spaces in a background-only style, apart from the text even where the text's
            # style is the widget's own (see split_spaces)
            blank = self.memo_style("blank", lambda: Style(bgcolor=self.rich_style.bgcolor))
            segments = [Segment(text, self._style(part))
                        for text, part in self.lines[index] if text]
            strip = self._strips[index] = Strip(split_spaces(segments, blank))
        return strip.crop_extend(0, width, base)

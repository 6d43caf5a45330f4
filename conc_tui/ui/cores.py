"""The cores panel: every core's load now, and over about the last minute.

Up to 16 cores: one plotext line per core over the history, and a bar per core with its
load now (the core's label wears its line's colour, as a legend). Above 16 cores: a compact
grid with one cell per core, so that 64–256 cores all stay visible, and a plotext line of
the mean load when there is room for it.

The grid is drawn with Textual's line API and keeps one strip per row: a new sample
refreshes only the rows in which a cell changed what it shows. Cell formats, from the
richest to the most compact, are chosen to fit the space the panel gets:

    bars    cpu3 ██████▍░░  78%   a bar and a percentage per core
    blocks2  12▆▆                 number and a wide level glyph
    blocks1  12▆                  number and a level glyph
    heat      0 ▁▂█▅▂▁▁▃ ▁▁▂▁...  a row label, then one glyph per core in groups of 8

The glyph's height gives the load (▁ idle … █ full) and its colour the same in four steps,
so the panel still reads without colour (NO_COLOR, monochrome terminals).

A run on a remote cluster (``--scheduler``) is not on this machine's cores: while it goes,
the panel shows the cluster's workers instead, one cell each, labelled by name, with the
CPU and memory their scheduler last heard from them (``monitor.cluster``):

    bars    127.0.0.1:40215 ██████▍░░  78%  312M/12G   CPU of its threads, memory/limit
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from ..monitor.sampler import HISTORY, Sample
from .glyphs import BLOCKS, fill
from .lines import ComponentStyles, ThemeColours, split_spaces
from .plot import Chart

#: Above this many cores the panel shows a grid instead of one line per core.
LINES_MAX = 16

GLYPHS = BLOCKS
LEVELS = ("idle", "low", "mid", "high")

#: Line colours for up to 16 cores: eight hues, then eight more. The bar labels use the same
#: colours, as a legend. One set for dark themes, a deeper one for light themes.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (66, 165, 245), (255, 152, 0), (102, 187, 106), (239, 83, 80),
    (171, 71, 188), (38, 198, 218), (212, 225, 87), (236, 64, 122),
    (144, 202, 249), (255, 204, 128), (165, 214, 167), (239, 154, 154),
    (206, 147, 216), (128, 222, 234), (230, 238, 156), (244, 143, 177),
)
PALETTE_LIGHT: tuple[tuple[int, int, int], ...] = (
    (21, 101, 192), (230, 81, 0), (46, 125, 50), (198, 40, 40),
    (106, 27, 154), (0, 131, 143), (130, 119, 23), (173, 20, 87),
    (69, 90, 100), (191, 54, 12), (85, 139, 47), (136, 14, 79),
    (49, 27, 146), (0, 105, 92), (158, 157, 36), (93, 64, 55),
)


#: plotext markers, one per core line, when there is no colour to tell the lines apart.
NO_COLOR_MARKERS = ("braille", "+", "x", "o", "*", "#", "@", "%")
MARKER_GLYPHS = {"braille": "⣿", **{m: m for m in NO_COLOR_MARKERS[1:]}}


def palette_for(app) -> tuple[tuple[int, int, int], ...]:
    """The line colours that read on the app's current theme."""
    try:
        return PALETTE if app.current_theme.dark else PALETTE_LIGHT
    except Exception:
        return PALETTE


NAME_MAX = 24  # a worker's name is cut to this many characters in its cell
NOTE_W = 10  # a worker's memory note: " 999M/123G"


def short_bytes(n: int) -> str:
    """``48K``, ``312M``, ``1.2G``, ``64G``: at most four characters."""
    for unit, size in (("G", 2**30), ("M", 2**20), ("K", 2**10)):
        if n >= size:
            v = n / size
            return f"{v:.1f}{unit}" if v < 9.95 else f"{min(999, round(v))}{unit}"
    return f"{max(0, n)}B" if n < 1000 else "1K"


def memory_note(worker) -> str:
    """A worker's memory and its limit: ``312M/12G`` (``312M`` without a limit)."""
    used = short_bytes(worker.memory)
    return f"{used}/{short_bytes(worker.memory_limit)}" if worker.memory_limit else used


PLOT_MIN_ROWS = 5  # a line chart smaller than this says nothing
MEAN_MIN_ROWS = 6  # the grid's mean chart appears only with at least this many rows


def level(load: float) -> int:
    """0 idle (<15%), 1 low (<50%), 2 mid (<85%), 3 high."""
    return 0 if load < 15 else 1 if load < 50 else 2 if load < 85 else 3


def glyph(load: float) -> str:
    return GLYPHS[max(0, min(7, int(load * 8 / 100)))]


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` values (0..100) as block glyphs."""
    vals = list(values)[-width:] if width > 0 else []
    return "".join(glyph(v) for v in vals)


@dataclass(frozen=True)
class CellLayout:
    """Where each core's cell goes: ``rows`` rows of ``per_row`` cells of one ``kind``."""

    kind: str  # bars, blocks2, blocks1, heat (heat: grouped by 8 when ``gap``, dense if not)
    cores: int
    per_row: int
    rows: int
    cell_w: int  # width of one cell, without the gap after it
    gap: int
    label_w: int  # characters of the label at the start of a cell / of a heat row
    bar_w: int = 0  # bars only
    prefix: str = ""  # bars: "cpu" before the number, when there is room
    named: bool = False  # cells are labelled by name (a cluster's workers), not number
    extra_w: int = 0  # bars: a note after the percentage (a worker's memory), with its space

    def position(self, i: int) -> tuple[int, int]:
        """(x, y) of the first character of core ``i``'s cell (its glyph, for heat)."""
        row, col = divmod(i, self.per_row)
        if self.kind == "heat":
            return self.label_w + 1 + col + (col // 8 if self.gap else 0), row
        return col * (self.cell_w + self.gap), row

    @property
    def width(self) -> int:
        if self.kind == "heat":
            return self.label_w + 1 + self.per_row + ((self.per_row - 1) // 8 if self.gap else 0)
        return self.per_row * (self.cell_w + self.gap) - self.gap


KINDS = ("bars", "bars-short", "blocks2", "blocks1", "heat", "heat-dense")


def fit_layout(cores: int, width: int, max_rows: int, kinds: Sequence[str] = KINDS, *,
               lines: bool = False, label_w: int = 0, extra_w: int = 0) -> CellLayout | None:
    """The first cell format of ``kinds`` (richest first) whose cells all fit in
    ``width`` x ``max_rows``, with rows balanced; None when none does. ``label_w``: cells
    are labelled by names this wide (bars and blocks only), ``extra_w``: bars end with a
    note this wide."""
    n = max(1, cores)
    if width < 1 or max_rows < 1:
        return None
    digits = label_w or len(str(n - 1))
    named = label_w > 0
    for kind in kinds:
        if named and kind.startswith("heat"):
            continue
        if kind in ("bars", "bars-short"):
            prefix = "cpu" if kind == "bars" and not named else ""
            label_w = digits + len(prefix)
            fixed = label_w + 1 + 1 + 4 + extra_w  # label, space, bar, space, "100%", note
            gap = 3 if lines and prefix else 2
            bar_min = 8 if named else 6 if prefix else 4  # a worker's bar: worth reading
            bar_max = 40 if lines else 12
            per_row_max = min(n, (width + gap) // (fixed + bar_min + gap))
            if per_row_max < 1 or math.ceil(n / per_row_max) > max_rows:
                continue
            rows = math.ceil(n / per_row_max)
            per_row = math.ceil(n / rows)
            bar = min(bar_max, (width + gap) // per_row - gap - fixed)
            return CellLayout("bars", n, per_row, rows, fixed + bar, gap, label_w, bar, prefix,
                              named, extra_w)
        if kind in ("blocks2", "blocks1"):
            cell_w = digits + (2 if kind == "blocks2" else 1)
            per_row_max = min(n, (width + 1) // (cell_w + 1))
            if per_row_max < 1 or math.ceil(n / per_row_max) > max_rows:
                continue
            rows = math.ceil(n / per_row_max)
            return CellLayout(kind, n, math.ceil(n / rows), rows, cell_w, 1, digits,
                              named=named)
        if kind == "heat":  # groups of 8 glyphs, a space between groups
            groups = (width - digits - 1 + 1) // 9
            if groups < 1:
                continue
            per_row_max = min(groups * 8, math.ceil(n / 8) * 8)
            rows = math.ceil(n / per_row_max)
            if rows > max_rows:
                continue
            per_row = math.ceil(math.ceil(n / rows) / 8) * 8
            return CellLayout("heat", n, per_row, math.ceil(n / per_row), 1, 1, digits)
        if kind == "heat-dense":  # one glyph per core, no gaps
            per_row_max = min(n, width - digits - 1)
            if per_row_max < 1 or math.ceil(n / per_row_max) > max_rows:
                continue
            rows = math.ceil(n / per_row_max)
            return CellLayout("heat", n, math.ceil(n / rows), rows, 1, 0, digits)
    return None


def choose_layout(cores: int, width: int, max_rows: int, kinds: Sequence[str] = KINDS, *,
                  lines: bool = False) -> CellLayout:
    """Like ``fit_layout``, but never fails and never drops a core: when nothing fits,
    the densest format is returned anyway, taking more rows than asked."""
    lay = fit_layout(cores, width, max_rows, kinds, lines=lines)
    if lay is None:
        lay = fit_layout(cores, width, 10**9, ("heat-dense",), lines=lines)
    if lay is None:  # narrower than a label: one core per row
        n = max(1, cores)
        lay = CellLayout("heat", n, 1, n, 1, 0, len(str(n - 1)))
    return lay


class CoreCells(ThemeColours, ComponentStyles, Widget):
    """One cell per core, in the layout the panel chose; only changed rows are redrawn.

    Above the cells there may be head rows: a ``summary`` (core count, mean load, cores
    busy, and a sparkline of the mean when ``spark``) and, for heat rows, a ``ruler`` with
    the offset of each group of 8 (core = row label + offset + position in the group).
    """

    COMPONENT_CLASSES = {
        "core-cells--label", "core-cells--empty", "core-cells--summary",
        "core-cells--idle", "core-cells--low", "core-cells--mid", "core-cells--high",
    }

    DEFAULT_CSS = """
    CoreCells {
        height: auto;
    }
    CoreCells > .core-cells--label { color: $text-muted; }
    CoreCells > .core-cells--summary { color: $text-muted; }
    CoreCells > .core-cells--empty { color: $foreground 18%; }
    CoreCells > .core-cells--idle { color: $foreground 45%; }
    CoreCells > .core-cells--low { color: $success; }
    CoreCells > .core-cells--mid { color: $warning; }
    CoreCells > .core-cells--high { color: $error; text-style: bold; }
    /* Without colour (NO_COLOR), shades of the foreground: the busier, the brighter. */
    CoreCells.-mono > .core-cells--idle { color: $foreground 35%; }
    CoreCells.-mono > .core-cells--low { color: $foreground 60%; }
    CoreCells.-mono > .core-cells--mid { color: $foreground 80%; }
    CoreCells.-mono > .core-cells--high { color: $foreground; }
    """

    def __init__(self, cores: int, *, lines: bool, id: str | None = None,
                 labels: list[str] | None = None) -> None:
        super().__init__(id=id)
        self.cores = cores
        self.lines = lines  # label cells with the plot's line colours (a legend)
        self.loads: list[float] = [0.0] * cores
        self.mean_history: Sequence[float] = ()
        #: Names and notes of the cells, when they are a cluster's workers, not cores.
        self.labels = labels
        self.notes: list[str] = [""] * cores
        self.cell_layout: CellLayout | None = None
        self.head: tuple[str, ...] = ()  # head rows above the cells: "summary", "ruler"
        self.spark = False  # a sparkline of the mean in the summary row
        self._keys: list[tuple] = []
        self._strips: dict[int, Strip] = {}
        self._summary_key: tuple | None = None

    # -- layout and data ---------------------------------------------------------------

    def relayout(self, layout: CellLayout, *, head: tuple[str, ...] = (),
                 spark: bool = False) -> int:
        """Use ``layout`` under ``head`` rows; returns the rows it all takes."""
        if (layout, head, spark) != (self.cell_layout, self.head, self.spark):
            self.cell_layout, self.head, self.spark = layout, head, spark
            self._keys = [self._key(v, i) for i, v in enumerate(self.loads)]
            self._strips.clear()
            self._summary_key = None
            self.refresh(layout=True)
        return layout.rows + len(head)

    def set_loads(self, loads: Sequence[float], mean_history: Sequence[float] = (),
                  notes: Sequence[str] | None = None) -> int:
        """New loads (and notes); refreshes only the rows that look different. Returns
        how many."""
        self.loads = list(loads)[: self.cores] + [0.0] * max(0, self.cores - len(loads))
        self.mean_history = mean_history
        if notes is not None:
            self.notes = list(notes)[: self.cores] + [""] * max(0, self.cores - len(notes))
        lay = self.cell_layout
        if lay is None:
            return 0
        top = len(self.head)
        dirty: set[int] = set()
        keys = self._keys
        for i, v in enumerate(self.loads):
            k = self._key(v, i)
            if k != keys[i]:
                keys[i] = k
                dirty.add(top + i // lay.per_row)
        if "summary" in self.head and self._summary_state() != self._summary_key:
            dirty.add(self.head.index("summary"))
        width = self.size.width
        for y in dirty:
            self._strips.pop(y, None)
            self.refresh(Region(0, y, width, 1))
        return len(dirty)

    def _key(self, load: float, i: int) -> tuple:
        lay = self.cell_layout
        if lay is not None and lay.kind == "bars":
            note = self.notes[i] if lay.extra_w and i < len(self.notes) else ""
            return round(load * lay.bar_w * 8 / 100), round(load), level(load), note
        return glyph(load), level(load)

    def cell_name(self, i: int) -> str:
        """Cell ``i``'s label: a worker's name (cut to fit), else the core's number."""
        lay = self.cell_layout
        if lay is not None and lay.named and self.labels is not None and i < len(self.labels):
            text = self.labels[i]
            return text if len(text) <= lay.label_w else text[: lay.label_w - 1] + "…"
        return str(i)

    def _summary_state(self) -> tuple:
        mean = sum(self.loads) / len(self.loads) if self.loads else 0.0
        busy = sum(v >= 85 for v in self.loads)
        spark = sparkline(self.mean_history, self.size.width) if self.spark else ""
        return round(mean), busy, spark

    # -- drawing -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_class(bool(getattr(self.app, "no_color", False)), "-mono")

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._summary_key = None

    def on_resize(self) -> None:
        self._strips.clear()
        self._summary_key = None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        lay = self.cell_layout
        return (lay.rows if lay else 1) + len(self.head)

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            strip = self._build_line(y)
            self._strips[y] = strip
        return strip

    def _style(self, name: str) -> Style:
        return self.component_style(f"core-cells--{name}", partial=False)

    def _label(self, text: str, width: int, style: Style) -> list[Segment]:
        """``text`` right-aligned in ``width``; the padding is a plain segment of its own
        (an SVG export rendered by rsvg would squeeze a padded label to the left)."""
        pad = width - len(text)
        segs = [Segment(" " * pad, self.rich_style)] if pad > 0 else []
        segs.append(Segment(text, style))
        return segs

    def _core_style(self, i: int, label: Style) -> Style:
        """The label style of core ``i``: its plot line's colour in lines mode."""
        if not self.lines:
            return label
        def make() -> Style:
            palette = palette_for(self.app)
            r, g, b = palette[i % len(palette)]
            return label + Style(color=f"rgb({r},{g},{b})", bold=True)

        return self.memo_style(("core", i), make)

    def _build_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        lay = self.cell_layout
        if lay is None:
            return Strip.blank(width, base)
        if y < len(self.head):
            if self.head[y] == "summary":
                return self._summary_line(width)
            return self._ruler_line(width, lay)
        y -= len(self.head)
        if not 0 <= y < lay.rows:
            return Strip.blank(width, base)
        first = y * lay.per_row
        ids = range(first, min(lay.cores, first + lay.per_row))
        segs: list[Segment] = []
        label = self._style("label")
        lv = [self._style(name) for name in LEVELS]
        if lay.kind == "heat":
            segs.extend(self._label(str(first), lay.label_w, label))
            segs.append(Segment(" ", base))
            for col, i in enumerate(ids):
                if lay.gap and col and col % 8 == 0:
                    segs.append(Segment(" ", base))
                v = self.loads[i]
                segs.append(Segment(glyph(v), lv[level(v)]))
        else:
            gap = Segment(" " * lay.gap, base)
            for col, i in enumerate(ids):
                if col:
                    segs.append(gap)
                v = self.loads[i]
                style = lv[level(v)]
                if lay.kind == "bars":
                    segs.extend(self._bar_cell(i, v, lay, label, style))
                else:
                    segs.extend(self._label(self.cell_name(i), lay.label_w,
                                            self._core_style(i, label)))
                    segs.append(Segment(glyph(v) * (2 if lay.kind == "blocks2" else 1), style))
        return Strip(split_spaces(segs, base)).adjust_cell_length(width, base)

    def _bar_cell(self, i: int, v: float, lay: CellLayout, label: Style,
                  style: Style) -> list[Segment]:
        name = self._core_style(i, label)
        if lay.prefix:
            segs = [Segment(f"{lay.prefix}{i}".ljust(lay.label_w), name)]
        elif lay.named:  # names read from the left, like words
            segs = [Segment(self.cell_name(i).ljust(lay.label_w), name)]
        else:
            segs = self._label(str(i), lay.label_w, name)
        filled = fill(v / 100, lay.bar_w)
        pct = str(min(100, round(v))) + "%"
        segs += [Segment(" ", self.rich_style), Segment(filled, style),
                 Segment("░" * (lay.bar_w - len(filled)), self._style("empty")),
                 Segment(" " * (5 - len(pct)), self.rich_style),
                 Segment(pct, style if v >= 15 else label)]
        if lay.extra_w:
            segs.extend(self._label(self.notes[i][: lay.extra_w - 1], lay.extra_w, label))
        return segs

    def _summary_line(self, width: int) -> Strip:
        mean, busy, spark = self._summary_state()
        self._summary_key = (mean, busy, spark)
        text = self._style("summary")
        strong = self._style(LEVELS[level(mean)])
        what = "workers" if self.labels is not None else "cores"
        segs = [Segment(f"{self.cores} {what}  mean ", text), Segment(f"{mean}%", strong),
                Segment(f"  {busy} busy ≥85%", text)]
        used = sum(s.cell_length for s in segs)
        if spark and width - used > 12:
            room = width - used - 10
            segs.append(Segment("  last min ", text))
            segs.append(Segment(spark[-room:], strong))
        return Strip(split_spaces(segs, self.rich_style)).adjust_cell_length(width,
                                                                               self.rich_style)

    def _ruler_line(self, width: int, lay: CellLayout) -> Strip:
        """The offset of each group of 8 heat glyphs, above its first glyph."""
        text = [" "] * width
        for g in range(0, lay.per_row, 8):
            x = lay.label_w + 1 + g + g // 8
            mark = f"+{g}"
            if x + len(mark) <= width:
                text[x:x + len(mark)] = list(mark)
        segs = split_spaces([Segment("".join(text), self._style("label"))], self.rich_style)
        return Strip(segs, width)


class CoresPanel(Widget):
    """Per-core load: lines over time plus bars (≤16 cores), or a grid of every core.

    The app calls ``update_sample`` at 1–2 Hz; the panel keeps the data it was given and
    ``replot`` redraws the chart from it (also on a theme change).
    """

    DEFAULT_CSS = """
    CoresPanel {
        height: 1fr;
        layout: vertical;
        overflow-y: auto;
    }
    CoresPanel > Chart {
        height: 1fr;
    }
    """

    #: plotext marker of the chart lines: braille draws the finest lines in a terminal.
    marker = "braille"
    AXIS_S = 60.0  # seconds the chart's x axis spans, whatever the sample rate
    #: Seconds between chart redraws (sample time); with more than 8 lines, the second one.
    plot_interval = 1.0
    plot_interval_many = 2.0

    def __init__(self, cores: int, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cores = max(1, int(cores))
        self.loads: list[float] = [0.0] * self.cores
        #: While a run goes on a remote cluster: its workers' names (the cells' labels),
        #: their memory notes, and the panel's own history of each one's load.
        self.labels: list[str] | None = None
        self.notes: list[str] = []
        self._names: list[str] | None = None
        self._worker_series: dict[str, deque] = {}
        self._title: str | None = None  # this machine's title, while the workers show
        self._shape: tuple = ("cores", self.cores)
        self.series: list[list[float]] = [[] for _ in range(self.cores)]
        self.window = HISTORY  # points the x axis spans (the history's maxlen)
        self.mean: deque[float] = deque(maxlen=HISTORY)
        self._times: deque[float] = deque(maxlen=8)
        self._last_plot_t: float | None = None
        self.plot_updates = 0  # how often the chart was replotted (tests, benchmarks)

    @property
    def mode(self) -> str:
        """``lines`` (one plot line and bar per core) or ``grid`` (above 16 cores)."""
        return "lines" if self.cores <= LINES_MAX else "grid"

    @property
    def cells(self) -> CoreCells:
        return self.query_one(CoreCells)

    @property
    def plot(self) -> Chart:
        return self.query_one(Chart)

    def compose(self) -> ComposeResult:
        if self.mode == "lines":
            yield Chart(id="cores-plot")
            yield CoreCells(self.cores, lines=True, id="cores-cells", labels=self.labels)
        else:
            yield CoreCells(self.cores, lines=False, id="cores-cells", labels=self.labels)
            yield Chart(id="cores-mean")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())
        self.replot()

    def on_resize(self) -> None:
        self._relayout()

    # -- data ----------------------------------------------------------------------------

    def update_sample(self, sample: Sample, history: Sequence[deque], workers=None) -> None:
        """Show one sample; ``history[i]`` is core i's recent load in % (a bounded deque).
        ``workers`` (a ``monitor.cluster.ClusterState``): a remote cluster's workers, shown
        instead of this machine's cores while its run goes."""
        maxlen = getattr(history[0], "maxlen", None) if history else None
        if maxlen:
            self.window = maxlen
            if self.mean.maxlen != maxlen:
                self.mean = deque(self.mean, maxlen=maxlen)
        if workers:
            per_core, history = self._workers(workers)
            shape: tuple = ("workers", *self.labels)
        else:
            self._leave_workers()
            per_core = list(sample.per_core)
            shape = ("cores", len(per_core))
        if shape != self._shape and per_core:  # another machine, or a cluster: start over
            self._shape = shape
            self.cores = len(per_core)
            self.series = [[] for _ in range(self.cores)]
            self.mean.clear()
            self._last_plot_t = None
            if self.is_mounted:
                self.call_next(self._rebuild)
        self.loads = per_core
        self._times.append(sample.t)
        if self.mode == "lines":
            self.series = [list(h) for h in history[: self.cores]]
        else:
            depth = min((len(h) for h in history), default=0)
            if len(self.mean) + 1 < depth:  # the history came pre-filled: rebuild the mean
                cols = [list(h)[-depth:] for h in history]
                self.mean.clear()
                self.mean.extend(sum(c[j] for c in cols) / len(cols) for j in range(depth))
            else:
                self.mean.append(sum(per_core) / len(per_core) if per_core else 0.0)
        if not self.is_mounted:
            return
        with self.app.batch_update():
            self._update_cells()
            if self._plot_due(sample.t):
                self.replot()

    def _workers(self, cluster) -> tuple[list[float], list[deque]]:
        """The loads of a cluster's workers now, and the history of each kept here (at the
        panel's own pace, so that the chart's time axis holds)."""
        present = cluster.present
        names = [w.name for w in present]
        if self._title is None:
            self._title = str(self.border_title or "")
        self.border_title = f"Cluster · {cluster.where}"
        if names != self._names:  # a new cluster, or a worker came or went
            old = self._worker_series
            self._worker_series = {n: old.get(n) or deque(maxlen=self.window) for n in names}
            self._names = names
            # "tcp://10.0.0.1:40215" (a worker's default name): the scheme says nothing
            self.labels = [n.split("://", 1)[-1] for n in names]
        for w in present:
            self._worker_series[w.name].append(w.load)
        self.notes = [memory_note(w) for w in present]
        return [w.load for w in present], [self._worker_series[n] for n in names]

    def _leave_workers(self) -> None:
        """Back to this machine's cores (the cluster's run ended)."""
        if self.labels is None:
            return
        self.labels, self._names, self.notes, self._worker_series = None, None, [], {}
        if self._title is not None:
            self.border_title, self._title = self._title, None

    async def _rebuild(self) -> None:
        """New children for the new core count, then draw them with the data kept."""
        await self.recompose()
        self._relayout()
        self.replot()

    def _plot_due(self, t: float) -> bool:
        """Whether the chart is due a redraw at sample time ``t``.

        A redraw costs ~15 ms with 2 lines and ~40 ms with 16 (plotext, then the terminal
        output), so the chart moves at ``plot_interval`` while the bars follow every sample.
        """
        if self.plot_shown is False:
            return False
        gap = self.plot_interval_many if self.mode == "lines" and self.cores > 8 \
            else self.plot_interval
        if self._last_plot_t is not None and 0 <= t - self._last_plot_t < gap * 0.9:
            return False
        self._last_plot_t = t
        return True

    @property
    def plot_shown(self) -> bool | None:
        try:
            return bool(self.plot.display)
        except Exception:
            return None

    def _update_cells(self) -> None:
        try:
            cells = self.cells
        except Exception:
            return
        cells.set_loads(self.loads, self.mean, self.notes)

    @property
    def interval(self) -> float:
        """Seconds between samples, as measured (0.5 until two samples came)."""
        ts = list(self._times)
        gaps = sorted(b - a for a, b in zip(ts, ts[1:]) if b > a)
        return gaps[len(gaps) // 2] if gaps else 0.5

    # -- drawing -----------------------------------------------------------------------

    def replot(self) -> None:
        """Clear the chart and draw it again from the data kept here."""
        try:
            plot_widget = self.plot
        except Exception:
            return
        plt = plot_widget.plt
        plt.clear_figure()
        dt = self.interval
        # The axis always spans the same minute: when samples come slower (a busy machine,
        # 10,000 tasks) the history covers more time, and the older part is left out,
        # rather than the axis stretching to "-128s".
        span = self.AXIS_S
        palette = palette_for(self.app)
        # Without colour the lines differ by their marker instead.
        markers = NO_COLOR_MARKERS if self.app.no_color else (self.marker,)

        def points(ys):
            keep = min(len(ys), int(span / dt) + 1 if dt > 0 else len(ys))
            ys = list(ys)[len(ys) - keep:]
            return [-(keep - 1 - j) * dt for j in range(keep)], ys

        if self.mode == "lines":
            if self.app.no_color:  # which marker is which core: the legend colour gave
                names = self.labels or [f"cpu{i}" for i in range(len(self.series))]
                self.border_subtitle = " ".join(
                    f"{names[i]} {MARKER_GLYPHS.get(markers[i % len(markers)], '?')}"
                    for i in range(min(len(names), len(self.series))))
            for i, ys in enumerate(self.series):
                if ys:
                    xs, ys = points(ys)
                    plt.plot(xs, ys, marker=markers[i % len(markers)],
                             color=palette[i % len(palette)])
        else:
            if self.mean:
                xs, ys = points(self.mean)
                plt.plot(xs, ys, marker=markers[0], color=palette[0])
            if plot_widget.size.height >= 9:
                plt.title(f"mean load of {self.cores} {'workers' if self.labels else 'cores'}")
        plt.ylim(0, 100)
        plt.yticks([0, 50, 100])
        plt.xlim(-span, 0)
        plt.xticks([-span, -span / 2, 0], [f"-{span:.0f}s", f"-{span / 2:.0f}s", "now"])
        self.plot_updates += 1
        plot_widget.refresh()

    def _relayout(self) -> None:
        """Share the panel's height between the cells and the chart."""
        try:
            cells, plot = self.cells, self.plot
        except Exception:
            return
        width, height = self.content_size
        if width <= 0 or height <= 0:
            return
        n = self.cores
        named = self._named_layout(width, height)
        if named is not None:
            lay, show_plot = named
            rows = cells.relayout(lay, head=() if self.mode == "lines" else ("summary",))
        elif self.mode == "lines":
            kinds = ("bars", "bars-short", "blocks2", "blocks1", "heat", "heat-dense")
            lay = fit_layout(n, width, height - PLOT_MIN_ROWS, kinds, lines=True)
            if lay is None:
                lay = choose_layout(n, width, height, kinds, lines=True)
            rows = cells.relayout(lay)
            show_plot = height - rows >= 3
        else:
            rich = ("bars", "blocks2", "blocks1")
            chart = height - MEAN_MIN_ROWS
            attempts = [  # (kinds, head rows, leave room for the chart)
                (rich, ("summary",), True),
                (rich, ("summary",), False),
                (("heat",), ("summary", "ruler"), True),
                (("heat",), ("summary",), True),
                (("heat",), ("summary", "ruler"), False),
                (("heat",), ("summary",), False),
                (("heat",), (), False),
                (("heat-dense",), ("summary",), False),
                (("heat-dense",), (), False),
            ]
            for kinds, head, with_chart in attempts:
                room = (chart if with_chart else height) - len(head)
                lay = fit_layout(n, width, room, kinds)
                if lay is not None:
                    break
            else:  # nothing fits: every core still drawn, the panel scrolls
                lay, head, with_chart = choose_layout(n, width, height), (), False
            rows = cells.relayout(lay, head=head, spark=not with_chart)
            show_plot = with_chart
        cells.styles.height = rows
        if plot.display != show_plot:
            plot.display = show_plot
            if show_plot:
                self.replot()
        cells.set_loads(self.loads, self.mean, self.notes)

    def _named_layout(self, width: int, height: int) -> tuple[CellLayout, bool] | None:
        """A cluster's workers, labelled by name: with their memory notes when they fit,
        the chart when there is room (the grid's summary row above the cells). None when
        the names do not fit (the cells are then numbered like cores)."""
        if not self.labels:
            return None
        label_w = min(NAME_MAX, max(len(name) for name in self.labels))
        head = 0 if self.mode == "lines" else 1
        chart = PLOT_MIN_ROWS if self.mode == "lines" else MEAN_MIN_ROWS
        kinds = ("bars", "blocks2", "blocks1")
        for extra_w, room in ((NOTE_W, chart), (0, chart), (NOTE_W, 0), (0, 0)):
            lay = fit_layout(self.cores, width, height - head - room, kinds,
                             lines=self.mode == "lines", label_w=label_w, extra_w=extra_w)
            if lay is not None and (lay.kind == "bars" or not extra_w):
                return lay, height - head - lay.rows >= (3 if self.mode == "lines" else chart)
        return None

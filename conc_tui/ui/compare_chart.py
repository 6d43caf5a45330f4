"""The compare chart: wall time of each mode beside the ideal for this machine.

A textual-plotext bar chart when there is room for one bar per row; on a small screen (80x24)
plotext would merge bars, so the same figures are drawn as plain text bars instead.
"""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget

from ..monitor import MODES
from ..monitor.results import RunResult, ideal_speedup
from .plot import Chart
from .tasks import bar_text

BAR = (66, 165, 245)
IDEAL = (102, 187, 106)
BAR_LIGHT = (21, 101, 192)
IDEAL_LIGHT = (46, 125, 50)


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


class CompareBars(Widget):
    """The chart as text: one line per mode, then the ideal."""

    DEFAULT_CSS = """
    CompareBars {
        height: 1fr;
        padding: 0 1;
        text-wrap: nowrap;
        overflow-y: auto;
    }
    CompareBars > .compare-bars--bar { color: $text-primary; }
    CompareBars > .compare-bars--ideal { color: $text-success; }
    CompareBars > .compare-bars--title { color: $text-muted; }
    """

    COMPONENT_CLASSES = {"compare-bars--bar", "compare-bars--ideal", "compare-bars--title"}

    def __init__(self, chart: "CompareChart", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chart = chart

    def render(self) -> Text:
        chart = self.chart
        out = Text(no_wrap=True)
        rows = list(chart.bars) + ([("ideal", chart.ideal)] if chart.ideal is not None else [])
        if not rows:
            return Text("no finished runs yet: c runs every mode",
                        self.get_component_rich_style("compare-bars--title", partial=True))
        width = self.size.width
        label_w = max(len(m) for m, _ in rows)
        room = max(4, width - label_w - 9)
        top = max(w for _, w in rows) or 1.0
        if self.size.height > len(rows) and chart.titles:
            fitting = [t for t in chart.titles if len(t) <= width] or [chart.titles[-1]]
            out.append(fitting[0] + "\n",
                       self.get_component_rich_style("compare-bars--title", partial=True))
        for k, (mode, wall) in enumerate(rows):
            kind = "ideal" if mode == "ideal" and k == len(rows) - 1 else "bar"
            style = self.get_component_rich_style(f"compare-bars--{kind}", partial=True)
            out.append(f"{mode:>{label_w}} {wall:6.2f}s ")
            out.append(bar_text(wall / top, room).rstrip(), style)
            if k < len(rows) - 1:
                out.append("\n")
        return out


class CompareChart(Widget):
    """Each mode's wall time, then the ideal; keeps its data and redraws from it."""

    DEFAULT_CSS = """
    CompareChart { layout: vertical; }
    CompareChart > Chart { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: list[tuple[str, float]] = []
        self.ideal: float | None = None
        self.titles: tuple[str, ...] = ()  # from the most to the least detailed

    def compose(self) -> ComposeResult:
        yield Chart(id="compare-plot")
        yield CompareBars(self, id="compare-bars")

    @property
    def plot(self) -> Chart:
        return self.query_one("#compare-plot", Chart)

    @property
    def text_bars(self) -> CompareBars:
        return self.query_one("#compare-bars", CompareBars)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    def set_results(self, results: Sequence[RunResult]) -> None:
        runs, ideal = compare_set(results)
        self.bars = [(r.mode, r.wall_s) for r in runs]
        self.ideal = ideal
        if runs:
            r = runs[-1]
            size = {"cpu": f"n={r.n}", "io": f"sleep {r.sleep:g} s",
                    "mixed": f"n={r.n}, sleep {r.sleep:g} s"}.get(r.workload, "")
            self.titles = (
                f"wall time (s), lower is better · {r.workload} · {r.tasks} tasks · {size} · "
                f"{r.cpu_count} cores",
                f"wall s · {r.workload} · {r.tasks} tasks · {size}",
                "wall time (s)",
            )
        else:
            self.titles = ()
        self.replot()

    @property
    def uses_plotext(self) -> bool:
        """True when the plotext chart has a row for every bar (else the text bars show)."""
        rows = len(self.bars) + (self.ideal is not None)
        return self.size.height >= rows + 6 and self.size.width >= 40

    def replot(self) -> None:
        """Draw the chart again from the data kept here."""
        if not self.is_mounted:
            return
        use_plot = self.uses_plotext or not self.bars
        plot, text = self.plot, self.text_bars
        if plot.display != use_plot:
            plot.display = use_plot
        if text.display == use_plot:
            text.display = not use_plot
        if use_plot:
            self._plot(plot)
        else:
            text.refresh()

    def _plot(self, widget: Chart) -> None:
        plt = widget.plt
        plt.clear_figure()
        dark = getattr(getattr(self.app, "current_theme", None), "dark", True)
        bar, ideal = (BAR, IDEAL) if dark else (BAR_LIGHT, IDEAL_LIGHT)
        if not self.bars:
            plt.title("no finished runs yet: c runs every mode")
            widget.refresh()
            return
        n = len(self.bars)
        positions = list(range(n + 1, 1, -1))  # the first mode on top, the ideal at the bottom
        label_w = max(len(mode) for mode, _ in self.bars + [("ideal", 0.0)])
        labels = [f"{mode:>{label_w}} {wall:6.2f}s" for mode, wall in self.bars]
        plt.bar(positions, [w for _, w in self.bars], orientation="horizontal", color=bar,
                width=0.6)
        if self.ideal is not None:
            plt.bar([1], [self.ideal], orientation="horizontal", color=ideal, width=0.6)
            positions.append(1)
            labels.append(f"{'ideal':>{label_w}} {self.ideal:6.2f}s")
        plt.yticks(positions, labels)
        plt.ylim(0.4, n + 1.6)
        top = max([w for _, w in self.bars] + [self.ideal or 0.0])
        plt.xlim(0, top * 1.05 if top > 0 else 1)
        height, width = self.size.height, self.size.width
        if height >= 8:
            # plotext drops a title wider than the canvas (the width left of the labels)
            room = width - (label_w + 9) - 4
            fitting = [t for t in self.titles if len(t) <= room]
            if fitting:
                plt.title(fitting[0])
        widget.refresh()

"""The compare chart: wall time of each mode beside the ideal for this machine (plotext)."""
from __future__ import annotations

from typing import Sequence

from textual_plotext import PlotextPlot

from ..engine import MODES
from ..monitor.results import RunResult, ideal_speedup

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


class CompareChart(PlotextPlot):
    """Horizontal bars: each mode's wall time, then the ideal. Keeps its data; replots."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: list[tuple[str, float]] = []
        self.ideal: float | None = None
        self.titles: tuple[str, ...] = ()  # from the most to the least detailed

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

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        dark = getattr(getattr(self.app, "current_theme", None), "dark", True)
        bar, ideal = (BAR, IDEAL) if dark else (BAR_LIGHT, IDEAL_LIGHT)
        if not self.bars:
            plt.title("no finished runs yet: c runs every mode")
            self.refresh()
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
        if self.size.height >= 8:
            # plotext drops a title wider than the canvas (the width left of the labels)
            room = self.size.width - (label_w + 9) - 4
            fitting = [t for t in self.titles if len(t) <= room]
            if fitting:
                plt.title(fitting[0])
        self.refresh()

"""The scaling chart: speedup against workers, beside the ideal line and Amdahl's fit.

A textual-plotext line chart (``plot.Chart``): the measured speedups as points joined by a
line, the ideal (speedup = workers) and the fitted Amdahl curve, with the usable cores
marked, so that on a machine with few cores the curve is seen to flatten past them.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from ..monitor import RunResult
from ..monitor.scaling import Scaling, amdahl
from .plot import Chart


class ScaleChart(Widget):
    DEFAULT_CSS = """
    ScaleChart { height: 1fr; }
    ScaleChart > Static { height: auto; padding: 0 1; color: $text-muted; }
    ScaleChart > Chart { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sweep: Scaling | None = None

    def compose(self) -> ComposeResult:
        yield Static("x sweeps the worker count of a pooled mode: speedup against workers",
                     id="scale-caption")
        yield Chart(id="scale-plot")

    def set_results(self, results: list[RunResult], cores: int) -> None:
        """Draw the sweep made of ``results`` (one run per worker count)."""
        self.sweep = Scaling(list(results))
        rows = [r for r in self.sweep.rows() if r["speedup"] is not None]
        fit = self.sweep.fit()
        caption = "no finished one-worker run to measure speedups against"
        plot = self.query_one(Chart)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        if rows:
            workers = [r["workers"] for r in rows]
            top = max(workers)
            grid = sorted(set(workers) | {top})
            plt.plot(grid, grid, label="ideal", color="green")
            if fit is not None:
                fine = [1 + k * (top - 1) / 40 for k in range(41)]
                plt.plot(fine, [amdahl(fit.serial_fraction, p) for p in fine],
                         label=f"Amdahl, serial {fit.serial_fraction:.0%}", color="orange")
            plt.plot(workers, [r["speedup"] for r in rows], label="measured", marker="●",
                     color="blue")
            plt.vline(cores, color="gray")
            plt.xlabel("workers")
            plt.ylabel("speedup")
            first = self.sweep.results[0]
            caption = (f"{first.mode} · {first.workload} · {first.tasks} tasks · "
                       f"{cores} usable cores (the grey line)")
            if fit is not None:
                most = ("no limit" if fit.max_speedup == float("inf")
                        else f"at most {fit.max_speedup:.1f}x")
                caption += f" · Amdahl: {most} (fit error {fit.rmse:.2f})"
        self.query_one("#scale-caption", Static).update(caption)
        plot.refresh()

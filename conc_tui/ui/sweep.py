"""The scaling sweep (key ``x``): the same tasks at 1, 2, 4 … workers, and how far they scale.

The runs go through the controller one after another, as a compare's do
(``Controller.compare`` with ``monitor.scaling.scale_configs``, at ``default_workers`` of the
usable cores, as ``conc-tui scale`` runs them). ``Sweep`` keeps which runs of the session are
the sweep's and says which one goes; ``SweepView`` draws speedup against workers with
plotext: the measured points, the ideal (speedup = workers) and Amdahl's law fitted to them
(``monitor.scaling.Scaling``), with the serial fraction and the most it predicts in the title
and the line above. The chart stays after the sweep, for study, until the next one.
"""
from __future__ import annotations

import math
from typing import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from ..monitor import MODE_LIST, MODES, Controller, RunConfig, RunResult, mode_info
from ..monitor.scaling import Scaling, amdahl, default_workers, scale_configs
from .cores import palette_for
from .plot import Chart
from .texts import size_text

EMPTY = "no sweep yet: x runs the chosen pooled mode at 1, 2, 4 … workers"


def pooled_modes() -> str:
    """``3 thread-pool, 6 process-pool…``: the modes a sweep can vary, by their keys."""
    return ", ".join(f"{MODES.index(m.name) + 1} {m.name}" for m in MODE_LIST if m.pooled)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def fit_text(sweep: Scaling, short: bool = False) -> str:
    """What Amdahl's law makes of the runs: the serial fraction and the most it allows."""
    fit = sweep.fit()
    if fit is None:
        return "" if short else "no fit yet: it needs the 1-worker run and one more"
    if short:
        return f"serial {fit.serial_fraction:.0%} · {fit.most_text()}"
    return fit.text()


class Sweep:
    """Which runs of the session are the sweep's, and what to say of them (no Textual)."""

    def __init__(self) -> None:
        self.active = False  # its runs are going
        self.counts: list[int] = []  # the worker counts, in the order they run
        self.start = 0  # index in the session's results of its first run
        self.config: RunConfig | None = None

    @staticmethod
    def refusal(mode: str) -> str | None:
        """Why ``mode`` cannot be swept (its worker count means nothing), or None."""
        if mode_info(mode).pooled:
            return None
        return (f"x sweeps a pool's size, and {mode} has no pool: pick a pooled mode "
                f"({pooled_modes()})")

    def begin(self, config: RunConfig, cores: int, done: int) -> list[RunConfig]:
        """The sweep's runs of ``config`` on ``cores`` usable cores; ``done``: how many
        results the session has before it."""
        self.counts = default_workers(cores)
        self.start, self.config, self.active = done, config, True
        return scale_configs(config, self.counts)

    def end(self) -> bool:
        """The sweep's runs are over (done or stopped); True if a sweep was going."""
        was, self.active = self.active, False
        return was

    def results(self, results: Sequence[RunResult]) -> list[RunResult]:
        return list(results[self.start:self.start + len(self.counts)]) if self.counts else []

    def scaling(self, results: Sequence[RunResult]) -> Scaling:
        return Scaling(self.results(results))

    def running_text(self, cfg: RunConfig, ctl: Controller) -> str | None:
        """The status line while one of its runs goes (None when no sweep goes)."""
        if not self.active:
            return None
        return (f"sweep {ctl.compare_position}/{len(self.counts)}: {cfg.mode} · "
                f"{plural(cfg.workers or 0, 'worker')} · {cfg.workload} · {cfg.tasks} × "
                f"{size_text(cfg)} — s stops")

    def progress_text(self, ctl: Controller) -> str:
        """Above the chart while it runs: which worker count, k of n."""
        workers = ctl.session.config.workers if ctl.session is not None else None
        return (f"sweep {ctl.compare_position} of {len(self.counts)}: "
                f"{plural(workers or 0, 'worker')} running… — s stops")

    def caption(self, results: Sequence[RunResult]) -> str:
        """Above the chart once the sweep is over: what ran, and how well the fit fits."""
        cfg = self.config
        if cfg is None:
            return EMPTY
        runs = [r for r in self.results(results) if r.status == "ok"]
        cores = f" · {runs[0].cpu_count} usable cores" if runs else ""
        fit = self.scaling(results).fit()
        err = f" · fit ±{fit.rmse:.2f}x" if fit is not None else ""
        return (f"{cfg.mode} · {cfg.workload} · {cfg.tasks} × {size_text(cfg)}{cores}{err}"
                f" — X shows it again")

    def finished_text(self, results: Sequence[RunResult]) -> str:
        runs = self.results(results)
        sweep = Scaling(runs)
        ok = [r for r in runs if r.status == "ok"]
        head = ("sweep done" if len(ok) == len(self.counts) else
                f"sweep ended after {len(ok)} of {len(self.counts)} worker counts")
        return f"{head}: {fit_text(sweep)} — z gives the tasks their room back"


class SweepView(Vertical, can_focus=False):
    """Speedup against workers: measured, ideal and Amdahl's fit, with a line above."""

    DEFAULT_CSS = """
    SweepView { height: 1fr; padding: 0 1; }
    SweepView > #sweep-caption { height: 1; color: $text-muted; text-wrap: nowrap;
                                 text-overflow: ellipsis; }
    SweepView > Chart { height: 1fr; }
    """

    #: plotext marker of the lines: braille draws the finest lines in a terminal (the
    #: screenshots use "hd", which rsvg-convert lays out one glyph a cell).
    marker = "braille"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.counts: list[int] = []  # the worker counts the sweep runs
        self.sweep = Scaling([])  # its finished runs
        self.caption = EMPTY
        self.replots = 0  # how often the chart was drawn (tests)

    def compose(self) -> ComposeResult:
        yield Static(self.caption, id="sweep-caption", markup=False)
        yield Chart(id="sweep-chart")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.replot())
        self.replot()

    def on_resize(self) -> None:
        self.call_after_refresh(self.replot)  # the title's form depends on the width

    @property
    def chart(self) -> Chart:
        return self.query_one(Chart)

    def show(self, counts: Sequence[int], sweep: Scaling, caption: str) -> None:
        """Draw ``sweep``'s runs of the planned worker ``counts``, with ``caption`` above."""
        self.counts, self.sweep = list(counts), sweep
        self.set_caption(caption)
        self.replot()

    def set_caption(self, caption: str) -> None:
        if caption != self.caption:
            self.caption = caption
            self.query_one("#sweep-caption", Static).update(caption)

    def points(self) -> list[tuple[int, float]]:
        """(workers, speedup) of each finished run that has one."""
        return [(row["workers"], row["speedup"]) for row in self.sweep.rows()
                if row["speedup"] is not None]

    def replot(self) -> None:
        """Clear the chart and draw it again from the data kept here."""
        chart = self.chart
        plt = chart.plt
        plt.clear_figure()
        top = max(self.counts or [1])
        if len(self.counts) > 1:
            colour = not self.app.no_color
            palette = palette_for(self.app)
            lines = self.marker
            xs = [1 + (top - 1) * k / 60 for k in range(61)]
            plt.plot(xs, xs, marker=lines if colour else ".", label="ideal",
                     color=palette[2] if colour else None)
            fit = self.sweep.fit()
            if fit is not None:
                plt.plot(xs, [amdahl(fit.serial_fraction, x) for x in xs],
                         marker=lines if colour else "*", label="Amdahl fit",
                         color=palette[1] if colour else None)
            points = self.points()
            if points:
                px, py = [p for p, _ in points], [v for _, v in points]
                plt.plot(px, py, marker=lines if colour else "o", label="measured",
                         color=palette[0] if colour else None)
                plt.scatter(px, py, marker="●" if colour else "o",
                            color=palette[0] if colour else None)
            # plotext leaves out a title wider than the chart: the longest form that fits
            short = fit_text(self.sweep, short=True)
            forms = [f"speedup vs workers · {short}", f"speedup · {short}", short] if short \
                else ["speedup vs workers"]
            room = chart.size.width - 4
            plt.title(next((t for t in forms if len(t) <= room), forms[-1]))
            highest = max([top] + [v for _, v in points])
            plt.ylim(0, highest * 1.05)
            step = max(1, math.ceil(highest / 6))  # whole speedups, a few of them
            plt.yticks(list(range(0, int(highest) + 1, step)))
            plt.xlim(1 - 0.04 * top, top * 1.04)  # room for the points at either end
            plt.xticks(self.counts, [str(c) for c in self.counts])
            plt.xlabel("workers")
        self.replots += 1
        chart.refresh()

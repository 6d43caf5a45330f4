"""How far a run scales: the same tasks at several worker counts, and Amdahl's law fitted.

Amdahl's law: with a serial fraction ``s`` of the work, ``p`` workers give a speedup of
``1 / (s + (1 - s) / p)``, and no number of workers more than ``1 / s``. Written as
``1/S - 1/p = s * (1 - 1/p)`` it is a line through the origin in ``x = 1 - 1/p``, so the
least-squares ``s`` is ``sum(x*y) / sum(x*x)``, clamped to [0, 1].

On a machine with fewer cores than workers, the cores cap the speedup too; the fit reads
that cap as serial work (it cannot tell them apart), which is why the table shows the
usable cores beside it.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Sequence

from .config import RunConfig
from .results import RunResult


def default_workers(cores: int) -> list[int]:
    """1, 2, 4 ... up to twice the usable cores (and that number itself)."""
    top = max(2, 2 * cores)
    out, p = [], 1
    while p < top:
        out.append(p)
        p *= 2
    out.append(top)
    return out


def scale_configs(base: RunConfig, workers: Sequence[int]) -> list[RunConfig]:
    return [base.replace(workers=w) for w in workers]


def amdahl(s: float, p: float) -> float:
    """The speedup Amdahl's law gives ``p`` workers with serial fraction ``s``."""
    return 1.0 / (s + (1.0 - s) / p)


@dataclass(frozen=True)
class Fit:
    serial_fraction: float
    max_speedup: float  # 1 / s: the most any number of workers can give (inf when s = 0)
    rmse: float  # root mean square of measured minus fitted speedup

    def most_text(self) -> str:
        return "no limit" if math.isinf(self.max_speedup) else f"at most {self.max_speedup:.1f}x"

    def text(self) -> str:
        """What the fit says, in one sentence (the summary's and the app's)."""
        return (f"serial fraction {self.serial_fraction:.1%} → {self.most_text()} with any "
                f"number of workers (fit ±{self.rmse:.2f}x)")


def fit_amdahl(points: Sequence[tuple[float, float]]) -> Fit | None:
    """Fit ``s`` to (workers, speedup) points; None without a point beyond one worker."""
    pts = [(p, sp) for p, sp in points if p > 1 and sp > 0]
    if not pts:
        return None
    sxx = sum((1 - 1 / p) ** 2 for p, _ in pts)
    sxy = sum((1 - 1 / p) * (1 / sp - 1 / p) for p, sp in pts)
    s = min(1.0, max(0.0, sxy / sxx))
    rmse = math.sqrt(sum((sp - amdahl(s, p)) ** 2 for p, sp in points) / len(points))
    return Fit(s, (1 / s) if s > 0 else math.inf, rmse)


@dataclass
class Scaling:
    """A sweep's runs, with speedup and efficiency against the one-worker run."""

    results: list[RunResult]

    @property
    def base(self) -> RunResult | None:
        return next((r for r in self.results if r.workers == 1 and r.status == "ok"), None)

    def rows(self) -> list[dict]:
        base, fit = self.base, self.fit()
        rows = []
        for r in self.results:
            ok = base is not None and r.status == "ok" and r.wall_s > 0
            speedup = base.wall_s / r.wall_s if ok else None
            rows.append({
                "workers": r.workers, "wall_s": round(r.wall_s, 4), "cpu_s": round(r.cpu_s, 4),
                "parallelism": round(r.parallelism, 3),
                "speedup": None if speedup is None else round(speedup, 3),
                "efficiency": None if speedup is None else round(speedup / r.workers, 3),
                "amdahl": None if fit is None else round(amdahl(fit.serial_fraction,
                                                                r.workers), 3),
                "status": r.status,
            })
        return rows

    def fit(self) -> Fit | None:
        base = self.base
        if base is None:
            return None
        return fit_amdahl([(r.workers, base.wall_s / r.wall_s) for r in self.results
                           if r.status == "ok" and r.wall_s > 0])

    def as_json(self) -> dict:
        fit, first = self.fit(), self.results[0] if self.results else None
        out = {"rows": self.rows(),
               "serial_fraction": None if fit is None else round(fit.serial_fraction, 4),
               "max_speedup": (None if fit is None or math.isinf(fit.max_speedup)
                               else round(fit.max_speedup, 3)),
               "fit_rmse": None if fit is None else round(fit.rmse, 4)}
        if first is not None:
            out.update(mode=first.mode, workload=first.workload, tasks=first.tasks, n=first.n,
                       sleep=first.sleep, cpu_count=first.cpu_count, python=first.python)
        return out

    def json_text(self) -> str:
        return json.dumps(self.as_json(), indent=2) + "\n"

    def csv_text(self) -> str:
        buf = io.StringIO()
        rows = self.rows()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["workers"])
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()

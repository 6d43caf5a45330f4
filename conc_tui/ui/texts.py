"""The status line's sentences: what is ready, what runs, how it ended."""
from __future__ import annotations

from ..monitor import Controller, RunConfig, RunResult, workload_info
from .clock import format_elapsed


def size_text(cfg: RunConfig) -> str:
    return workload_info(cfg.workload).label(cfg.n, cfg.sleep)


def ready_text(cfg: RunConfig | None) -> str:
    if cfg is None:
        return "ready"
    return (f"ready: r runs {cfg.mode} · {cfg.workload} · {cfg.tasks} × {size_text(cfg)}"
            f" — c compares every mode — ? help")


def running_text(cfg: RunConfig, ctl: Controller) -> str:
    head = f"running {cfg.mode} · {cfg.workload} · {cfg.tasks} × {size_text(cfg)}"
    if ctl.comparing:
        head = f"compare {ctl.compare_position}/{ctl.compare_total}: {head}"
    return f"{head} — s stops"


def finished_text(result: RunResult, ctl: Controller, comparing: bool) -> str:
    if comparing:
        summary = ctl.compare_summary()
        if summary.fastest is not None:
            best = summary.fastest
            vs = f", {summary.speedup:.2f}x sequential" if summary.speedup is not None else ""
            return (f"compare done: {len(summary.runs)} modes — fastest {best.mode} "
                    f"{best.wall_s:.2f} s{vs} — g shows the chart, t the table")
    what = "compare" if comparing else result.mode
    text = f"{what}: {result.status} after {format_elapsed(result.wall_s)}"
    if result.error:  # why the run itself failed comes first: it matters more than a verdict
        return f"{text} — {result.error}"
    text += f" — {result.verdict.text}"
    if result.failed_ids:
        text += f" — {len(result.failed_ids)} task(s) failed"
    return text

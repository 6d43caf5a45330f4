"""The status line's sentences: what is ready, what runs, how it ended."""
from __future__ import annotations

from ..monitor import Controller, RunConfig, RunResult, workload_info
from .clock import format_elapsed


def size_text(cfg: RunConfig) -> str:
    return workload_info(cfg.workload).label(cfg.n, cfg.sleep)


def ready_text(cfg: RunConfig | None, checking: str | None = None) -> str:
    if checking:  # your own function, typed in the field: its check is out
        return f"checking {checking}… (it is loaded under the chosen python)"
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
            return (f"compare done: fastest {best.mode} {best.wall_s:.2f} s{vs} — "
                    f"{len(summary.runs)} modes — g shows the chart, t the table")
    what = "compare" if comparing else result.mode
    text = f"{what}: {result.status} after {format_elapsed(result.wall_s)}"
    if result.error:  # why the run itself failed comes first: it matters more than a verdict
        return f"{text} — {result.error}"
    text += f" — {result.verdict.text}"
    if result.failed_ids:
        text += f" — {len(result.failed_ids)} task(s) failed"
    return text


def refusal(action: str, ctl: Controller) -> str | None:
    """Why a key cannot act now, or None when it can: a key that does nothing says why
    rather than doing nothing, or changing the controls under a run that keeps its own."""
    if action in ("run", "compare", "sweep") and ctl.busy:
        key = {"run": "r", "compare": "c", "sweep": "x"}[action]
        return f"a run is going: press {key} again once it ends (s stops it)"
    if action == "stop":
        if not ctl.busy:
            return "nothing to stop: no run is going (r runs, c compares)"
        if ctl.stopping:
            return "stopping already…"
    if action in ("mode", "workload") and ctl.busy:
        return (f"the run keeps its {action}: pick another once it ends "
                f"(s stops it)")
    return None

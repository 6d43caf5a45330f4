"""Snapshots of the live app on deterministic data: a fake session on a manual clock and a
fake sampler, injected through ``build_app`` with no timers running.

Taken with Textual 8.2.8 (pinned in pyproject's test extra); after a deliberate UI change or a
Textual upgrade, look at the report and regenerate with
``pytest tests/test_app_snapshots.py --snapshot-update``.
"""
from __future__ import annotations

from conc_tui.monitor import RunConfig
from conc_tui.ui.app import build_app
from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource


def make_app(config: RunConfig, cores: int = 2, pattern: str = "gil"):
    made: list[ScriptedSource] = []

    def factory(cfg: RunConfig) -> ScriptedSource:
        made.append(ScriptedSource(cfg, cpu_count=cores))
        return made[-1]

    app = build_app(config, source_factory=factory,
                    sampler=ScriptedSampler(cores, pattern, prefill=120), live=False,
                    python_info=FAKE_PYTHON)
    return app, made


def mid_run(seconds: float, key: str = "r", step: float = 0.5):
    """run_before: press ``key``, then ``seconds`` of the fake clock in frames and samples."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.press(key)
        t = 0.0
        while t < seconds and app.running:
            app.session.source.advance(step)
            app.tick()
            app.sample_tick()
            t += step
        await pilot.pause()

    return run_before


def test_threads_mid_run_120x40(snap_compare):
    app, _ = make_app(RunConfig(mode="threads", tasks=80, n=500))
    assert snap_compare(app, terminal_size=(120, 40), run_before=mid_run(12.0))


def test_threads_mid_run_80x24(snap_compare):
    app, _ = make_app(RunConfig(mode="threads", tasks=80, n=500))
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_run(12.0))


def test_processes_mid_run_120x40(snap_compare):
    app, _ = make_app(RunConfig(mode="processes", tasks=80, n=500, fail_tasks=(17,)),
                      pattern="busy")
    assert snap_compare(app, terminal_size=(120, 40), run_before=mid_run(10.0))


def test_compare_finished_120x40(snap_compare):
    app, _ = make_app(RunConfig(mode="threads", tasks=16, n=300), cores=4, pattern="busy")
    assert snap_compare(app, terminal_size=(120, 40), run_before=mid_run(600.0, key="c"))


def test_compare_finished_80x24(snap_compare):
    """Too short for a plotext bar per mode: the same figures as text bars."""
    app, _ = make_app(RunConfig(mode="threads", tasks=16, n=300), cores=4, pattern="busy")
    assert snap_compare(app, terminal_size=(80, 24), run_before=mid_run(600.0, key="c"))


def test_compare_finished_200x60(snap_compare):
    app, _ = make_app(RunConfig(mode="threads", tasks=16, n=300), cores=4, pattern="busy")
    assert snap_compare(app, terminal_size=(200, 60), run_before=mid_run(600.0, key="c"))


def test_sixty_four_cores_120x40(snap_compare):
    app, _ = make_app(RunConfig(mode="process-pool", tasks=200, n=500), cores=64,
                      pattern="waves")
    assert snap_compare(app, terminal_size=(120, 40), run_before=mid_run(0.8, step=0.2))


def test_invalid_input_80x24(snap_compare):
    app, _ = make_app(RunConfig())

    async def run_before(pilot) -> None:
        box = pilot.app.query_one("#controls #tasks")
        box.value = "0"
        await pilot.press("r")  # refused: says why and focuses the input
        await pilot.press("escape")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_help_80x24(snap_compare):
    app, _ = make_app(RunConfig())
    assert snap_compare(app, terminal_size=(80, 24), press=["question_mark"])


def test_too_small_40x12(snap_compare):
    """Below 80x24: one sentence instead of collapsed panels."""
    app, _ = make_app(RunConfig())
    assert snap_compare(app, terminal_size=(40, 12))


def test_few_tasks_mid_run_200x60(snap_compare):
    """A few tasks on a large screen: long bars, a line between rows; Events gets room."""
    app, _ = make_app(RunConfig(mode="threads", tasks=24, n=500))
    assert snap_compare(app, terminal_size=(200, 60), run_before=mid_run(6.0))


def test_stopped_run_120x40(snap_compare):
    """After s: the running tasks are cancelled, and the title counts none as running."""
    app, _ = make_app(RunConfig(mode="threads", tasks=80, n=500))
    run = mid_run(6.0)

    async def run_before(pilot) -> None:
        await run(pilot)
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if not pilot.app.running:
                break
        await pilot.press("e")

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_no_color_stopped_80x24(snap_compare, monkeypatch):
    """Without colour the task states differ by a mark, the cores' lines by a marker."""
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(RunConfig(mode="threads", tasks=30, n=500, fail_tasks=(3,)))
    run = mid_run(5.0)

    async def run_before(pilot) -> None:
        await run(pilot)
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if not pilot.app.running:
                break

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_results_80x24(snap_compare):
    """The narrow results table: each run's sizes and units, two lines per run."""
    app, _ = make_app(RunConfig(mode="threads", tasks=16, n=300), cores=4, pattern="busy")
    run = mid_run(600.0, key="c")

    async def run_before(pilot) -> None:
        await run(pilot)
        await pilot.press("t")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

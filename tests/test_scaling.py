"""Amdahl's law fitted to a sweep, on synthetic data with a known serial fraction."""
from __future__ import annotations

import json
import math

import pytest

from conc_tui.monitor import RunResult
from conc_tui.monitor.scaling import Scaling, amdahl, default_workers, fit_amdahl


@pytest.mark.parametrize("s", [0.0, 0.05, 0.25, 0.6, 1.0])
def test_the_fit_recovers_a_known_serial_fraction(s):
    points = [(p, amdahl(s, p)) for p in (1, 2, 4, 8, 16)]
    fit = fit_amdahl(points)
    assert fit.serial_fraction == pytest.approx(s, abs=1e-9)
    assert fit.rmse == pytest.approx(0.0, abs=1e-9)
    assert fit.max_speedup == (math.inf if s == 0 else pytest.approx(1 / s))


def test_noise_shows_in_the_fit_error_and_the_fraction_stays_in_range():
    points = [(1, 1.0), (2, 1.9), (4, 3.1), (8, 2.0)]  # a machine with few cores
    fit = fit_amdahl(points)
    assert 0 < fit.serial_fraction < 1 and fit.rmse > 0.2
    assert fit_amdahl([(2, 5.0), (4, 10.0)]).serial_fraction == 0.0  # superlinear: clamped
    assert fit_amdahl([(1, 1.0)]) is None


def test_default_worker_counts_go_to_twice_the_cores():
    assert default_workers(2) == [1, 2, 4]
    assert default_workers(3) == [1, 2, 4, 6]
    assert default_workers(1) == [1, 2]


def _result(workers, wall, status="ok"):
    return RunResult(mode="process-pool", workload="cpu", tasks=8, n=300, sleep=0.0,
                     workers=workers, python={"executable": "py"}, cpu_count=2,
                     wall_s=wall, cpu_s=wall * min(workers, 2), status=status)


def test_a_sweep_gives_rows_speedups_and_a_fit():
    sweep = Scaling([_result(1, 4.0), _result(2, 2.1), _result(4, 2.05)])
    rows = sweep.rows()
    assert [r["workers"] for r in rows] == [1, 2, 4]
    assert rows[0]["speedup"] == 1.0 and rows[0]["efficiency"] == 1.0
    assert rows[1]["speedup"] == pytest.approx(4 / 2.1, abs=1e-3)
    assert rows[2]["efficiency"] == pytest.approx(4 / 2.05 / 4, abs=1e-3)
    d = sweep.as_json()
    assert 0 < d["serial_fraction"] < 1 and d["rows"] == rows and d["mode"] == "process-pool"
    assert sweep.csv_text().splitlines()[0].startswith("workers,wall_s")


def test_without_a_one_worker_run_there_is_no_speedup():
    sweep = Scaling([_result(1, 4.0, status="cancelled"), _result(2, 2.0)])
    assert [r["speedup"] for r in sweep.rows()] == [None, None]
    assert sweep.as_json()["serial_fraction"] is None


def test_scale_runs_each_worker_count_and_fits(tmp_path):
    from helpers import run_cli

    out = run_cli("scale", "--mode", "process-pool", "--workers", "1,2,4", "--tasks", "4",
                  "--n", "60", "--json", str(tmp_path / "s.json"), "--csv",
                  str(tmp_path / "s.csv"), timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads((tmp_path / "s.json").read_text())
    assert [r["workers"] for r in d["rows"]] == [1, 2, 4]
    assert all(r["status"] == "ok" for r in d["rows"])
    assert 0 <= d["serial_fraction"] <= 1 and d["rows"][0]["speedup"] == 1.0
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 4
    header = out.stdout.splitlines()[1]
    assert "speedup" in header and "efficiency" in header  # whole words when piped
    assert "Amdahl's law: serial fraction" in out.stdout


def test_scale_refuses_a_mode_with_no_pool():
    from helpers import run_cli

    out = run_cli("scale", "--mode", "threads")
    assert out.returncode == 2 and "choose a pooled mode" in out.stderr


# -- the app's sweep (key x) ----------------------------------------------------------------

def _fake_app(config, made):
    from conc_tui.monitor import RunConfig  # noqa: F401
    from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource
    from conc_tui.ui.app import build_app

    def factory(cfg):
        made.append(ScriptedSource(cfg, cpu_count=2))
        return made[-1]

    return build_app(config, source_factory=factory, sampler=ScriptedSampler(2, "gil"),
                     live=False, python_info=FAKE_PYTHON)


async def _play(pilot, app, made, until, limit: int = 2000) -> None:
    """Move the fake clock on, a frame at a time, until ``until()``."""
    for _ in range(limit):
        if until():
            return
        made[-1].advance(0.25)
        app.tick()
        await pilot.pause()
    raise AssertionError("never reached")


def _chart_text(app) -> str:
    chart = app.sweep_view.chart
    return "\n".join(chart.render_line(y).text for y in range(chart.size.height))


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_x_sweeps_the_pool_and_draws_speedup_against_workers(size):
    from conc_tui.monitor import RunConfig

    made = []
    app = _fake_app(RunConfig(mode="process-pool", tasks=8, n=300), made)
    async with app.run_test(size=size) as pilot:
        await pilot.press("x")
        assert [s.config.workers for s in made] == [1]
        assert app.status.shown.startswith("sweep 1/3: process-pool · 1 worker ·")
        assert app.visible_view == "sweep" and app.sweep_view.region.area > 0
        await _play(pilot, app, made, lambda: len(made) == 2)
        # progress: which worker count runs, k of n, in the status line and above the chart
        assert app.status.shown.startswith("sweep 2/3: process-pool · 2 workers ·")
        assert app.sweep_view.caption.startswith("sweep 2 of 3: 2 workers running")
        assert app.sweep_view.points() == [(1, 1.0)]
        await _play(pilot, app, made, lambda: not app.running)
        await pilot.pause()
        assert [s.config.workers for s in made] == default_workers(2) == [1, 2, 4]
        points = dict(app.sweep_view.points())
        assert sorted(points) == [1, 2, 4]  # a point for each worker count
        # two cores: 2 workers nearly double the speed, 4 add next to nothing
        assert points[2] > 1.6 and points[4] < points[2] * 1.15
        fit = app.sweep_view.sweep.fit()
        assert 0 < fit.serial_fraction < 1
        assert app.status.shown.startswith("sweep done: serial fraction")
        assert f"at most {fit.max_speedup:.1f}x" in app.status.shown
        text = _chart_text(app)  # plotext drew it: title, legend, axis
        assert "speedup" in text and "· serial " in text and "workers" in text
        for label in ("ideal", "Amdahl fit", "measured"):
            assert label in text, label
        assert app.visible_view == "sweep" and app.sweep_view.region.area > 0
        await pilot.press("e", "X")  # X brings the chart back; it stays for study
        assert app.visible_view == "sweep" and dict(app.sweep_view.points()) == points


async def test_s_stops_a_sweep_and_keeps_what_it_measured():
    from conc_tui.monitor import RunConfig

    made = []
    app = _fake_app(RunConfig(mode="process-pool", tasks=8, n=300), made)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("x")
        await _play(pilot, app, made, lambda: len(made) == 2)
        made[-1].advance(0.3)
        app.tick()
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert not app.running and len(made) == 2  # the 4-worker run never started
        assert [r.status for r in app.results] == ["ok", "cancelled"]
        assert not app.sweep.active
        assert app.status.shown.startswith("sweep ended after 1 of 3 worker counts")
        assert app.sweep_view.points() == [(1, 1.0)]
        await pilot.press("r")  # the app is itself again: r runs once
        assert len(made) == 3 and made[-1].config.workers is None


async def test_x_in_a_mode_without_a_pool_says_so_and_runs_nothing():
    from conc_tui.monitor import RunConfig

    made = []
    app = _fake_app(RunConfig(mode="threads", tasks=4, n=300), made)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("x")
        assert made == [] and not app.running
        shown = app.status.shown
        assert "x sweeps a pool's size, and threads has no pool" in shown
        assert "process-pool" in shown
        await pilot.press("r", "x")  # and while a run goes, x says why it waits
        assert len(made) == 1 and "press x again once it ends" in app.status.shown


async def test_a_real_sweep_through_the_app():
    """The real runner at 1, 2 and 4 workers: a point for each, drawn by the app's timer."""
    import time

    from conc_tui.monitor import RunConfig
    from conc_tui.monitor.runner_source import RunnerSource
    from conc_tui.monitor.scripted import ScriptedSampler
    from conc_tui.ui.app import build_app

    app = build_app(RunConfig(mode="process-pool", tasks=4, n=60), source_factory=RunnerSource,
                    sampler=ScriptedSampler(2, "gil"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("x")
        deadline = time.monotonic() + 120
        while (app.running or len(app.results) < 3) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert [(r.workers, r.status) for r in app.results] == [(1, "ok"), (2, "ok"),
                                                                 (4, "ok")]
        assert [p for p, _ in app.sweep_view.points()] == [1, 2, 4]
        assert app.status.shown.startswith("sweep done")

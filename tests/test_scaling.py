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

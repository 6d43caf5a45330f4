"""Beyond the article: the subinterpreters mode through the runner, free-threaded builds,
interpreters by name (``--python 3.13``, ``conc-tui pythons``) and ``compare --pythons``.

Runs that need another interpreter use the pyenv versions present and are skipped, with
the reason, for versions that are not installed. No free-threaded build can be installed
on the machines this was written on: its logic is tested with scripted events, and for
real only when ``python3.13t``/``python3.14t`` is found.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import time

import pytest

from conc_tui.engine.boot import boot_command
from conc_tui.monitor import (ConfigError, Interpreter, RunConfig, Session, find_pythons,
                              runnable, suggest_for, verdict_for)
from conc_tui.monitor.results import RunResult, TaskResult
from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSource, script_for
from helpers import (PYENV, descendants, my_children, of_kind, proc_handles, pyenv_pythons,
                     pyenv_version, run_cli, run_session, shm_files, shm_leftovers, wait_gone,
                     wire)

PY311 = (pyenv_pythons(["3.11.*"]) or [None])[0]


def pyenv_param(*patterns: str):
    """Parametrize over pyenv interpreters, skipping (with the reason) those not installed."""
    params = []
    for pattern in patterns:
        found = pyenv_pythons([pattern])
        params.append(pytest.param(found[0] if found else None, id=pattern.rstrip(".*"),
                                   marks=pytest.mark.skipif(
                                       not found, reason=f"no Python {pattern} in {PYENV}")))
    return pytest.mark.parametrize("python", params)


def free_threaded_pythons() -> list[str]:
    found = [shutil.which(name) for name in ("python3.13t", "python3.14t")]
    found += pyenv_pythons(["3.13*t", "3.14*t"])
    return [p for p in found if p]


# -- the mode, for real ------------------------------------------------------------------

@pyenv_param("3.12.*", "3.13.*")
def test_subinterpreters_run_every_task_once_in_one_process_on_several_threads(python):
    before = shm_files()
    config = RunConfig(mode="subinterpreters", workload="cpu", tasks=8, n=120, python=python)
    session, evs, fractions, result = run_session(config, timeout=90)
    assert result.status == "ok", session.stderr_tail
    assert sorted(e["id"] for e in of_kind(evs, "task-started")) == list(range(8))
    assert sorted(e["id"] for e in of_kind(evs, "task-done")) == list(range(8))
    ends = of_kind(evs, "task-done")
    assert {e["pid"] for e in ends} == {session.runner_pid}  # one process
    tids = {e["tid"] for e in ends}
    assert 2 <= len(tids) <= evs[0]["workers"]  # a pool of threads, one interpreter each
    assert session.runner_pid not in tids
    assert fractions == pytest.approx([1.0] * 8)  # progress reached the monitor
    assert result.python["version"] == pyenv_version(python)
    assert result.verdict.kind != "gil-bound"  # each subinterpreter has its own GIL
    assert not shm_leftovers(before)


@pyenv_param("3.12.*", "3.13.*")
def test_a_failing_task_inside_a_subinterpreter_is_reported_with_its_error(python):
    config = RunConfig(mode="subinterpreters", workload="cpu", tasks=4, n=40,
                       fail_tasks=(1,), python=python)
    session, evs, _, result = run_session(config, timeout=90)
    failed = of_kind(evs, "task-failed")
    assert [e["id"] for e in failed] == [1]
    assert failed[0]["error"].startswith("TaskFailure: ") and "on purpose" in failed[0]["error"]
    assert "Traceback" in failed[0]["traceback"] and "workloads.py" in failed[0]["traceback"]
    assert sorted(e["id"] for e in of_kind(evs, "task-done")) == [0, 2, 3]
    assert result.status == "failed" and result.failed_ids == [1]


@pyenv_param("3.13.*")
def test_stop_mid_run_leaves_nothing_behind(python):
    children, shm = my_children(), shm_files()
    session = Session(RunConfig(mode="subinterpreters", workload="io", tasks=8, sleep=30,
                                workers=2, python=python)).start()
    try:
        started = []
        for ev in wire(session.events(timeout=60)):
            if ev["kind"] == "task-started":
                started.append(ev["id"])
                if len(started) == 2:
                    break
        assert len(started) == 2
        watched = proc_handles({session.runner_pid} | {p.pid for p in descendants(session.runner_pid)})
        t0 = time.monotonic()
        session.stop()
        assert time.monotonic() - t0 < 5
        assert wait_gone(watched, 2.0) == []
        assert my_children() - children == set()
        assert shm_leftovers(shm) == set()
        session.poll()
        result = session.result()
        assert result.status == "cancelled"
        # a task cut short by the stop is cancelled, one never started is still waiting
        assert {t.status for t in result.task_results} <= {"cancelled", "waiting"}
    finally:
        session.close()


# -- refused before anything runs ----------------------------------------------------------

@pytest.mark.skipif(PY311 is None, reason=f"no Python 3.11 in {PYENV}")
def test_subinterpreters_on_311_are_refused_in_one_line(tmp_path):
    out = tmp_path / "f.json"
    p = run_cli("run", "--mode", "subinterpreters", "--python", "3.11", "--workload", "cpu",
                "--tasks", "16", "--n", "400", "--json", str(out))
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "subinterpreters need CPython 3.12 or newer; this is 3.11" in lines[0]
    assert p.stdout == "" and not out.exists()


def test_the_refusal_comes_from_the_registry():
    config = RunConfig(mode="subinterpreters", python=PY311) if PY311 else None
    if sys.version_info < (3, 12):
        why = RunConfig(mode="subinterpreters").refusal()
        assert why == ("mode", "subinterpreters need CPython 3.12 or newer; this is "
                               f"{sys.version_info[0]}.{sys.version_info[1]}")
        with pytest.raises(ConfigError):
            RunConfig(mode="subinterpreters").validated()
    if config is not None:
        assert config.refusal()[0] == "mode"
    assert RunConfig(mode="threads").refusal() is None


def test_gil_off_is_refused_on_a_build_with_a_gil():
    if RunConfig().interpreter().get("free_threaded_build"):
        pytest.skip("this interpreter is a free-threaded build")
    why = RunConfig(gil="off").refusal()
    assert why[0] == "gil" and "free-threaded" in why[1]
    assert RunConfig(gil="on").refusal() is None
    p = run_cli("run", "--gil", "off", "--tasks", "1", "--n", "10")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    p = run_cli("run", "--gil", "maybe", "--tasks", "1", "--n", "10")
    assert p.returncode == 2 and "gil must be on or off" in p.stderr


def test_gil_reaches_the_runner_as_an_x_option():
    argv = boot_command("/py", {"gil": "off"})
    assert argv[:3] == ["/py", "-X", "gil=0"]
    assert boot_command("/py", {"gil": "on"})[1:3] == ["-X", "gil=1"]
    assert boot_command("/py", {"gil": None})[1] == "-c"


@pytest.mark.parametrize("python", free_threaded_pythons() or [pytest.param(
    None, marks=pytest.mark.skip(reason="no python3.13t or python3.14t on PATH or in pyenv "
                                        "(none can be installed here)"))])
def test_a_free_threaded_build_runs_threads_without_the_gil(python):
    _, evs, _, off = run_session(RunConfig(mode="threads", tasks=4, n=200, python=python,
                                           gil="off"))
    assert evs[0]["python"]["free_threaded_build"] is True
    assert evs[0]["python"]["gil_enabled"] is False
    _, evs, _, on = run_session(RunConfig(mode="threads", tasks=4, n=200, python=python,
                                          gil="on"))
    assert evs[0]["python"]["gil_enabled"] is True
    assert on.verdict.kind != "parallel-no-gil"


# -- the verdict, from scripted events -----------------------------------------------------

def test_verdict_for_threads_without_a_gil_and_for_subinterpreters():
    v = verdict_for(1.95, 2, "cpu", "threads", gil_enabled=False)
    assert v.text == "parallel threads, no GIL: 1.95 of 2 cores"
    assert verdict_for(1.95, 2, "cpu", "threads", gil_enabled=True).kind == "parallel"
    assert verdict_for(1.0, 2, "cpu", "threads", gil_enabled=True).kind == "gil-bound"
    # A GIL each: about one core busy is held back by something else, not by a GIL.
    assert verdict_for(1.0, 2, "cpu", "subinterpreters").kind == "about-one-core"
    assert verdict_for(1.9, 2, "cpu", "subinterpreters").kind == "parallel"


def test_scripted_free_threaded_threads_fill_the_cores_and_say_so():
    free = dict(FAKE_PYTHON, version="3.13.0", gil_enabled=False, free_threaded_build=True)
    config = RunConfig(mode="threads", workload="cpu", tasks=8, n=300)
    source = ScriptedSource(config, cpu_count=2, script=lambda cfg, cpus, workers: script_for(
        cfg, cpus, workers, python=free))
    session = Session(config, source=source).start()
    while not session.done:
        source.advance(0.5)
        session.poll()
    result = session.result()
    assert result.parallelism > 1.6
    assert result.verdict.text.startswith("parallel threads, no GIL: ")
    assert result.as_json()["verdict"]["kind"] == "parallel-no-gil"


# -- interpreters by name ------------------------------------------------------------------

def test_pythons_lists_the_pyenv_interpreters(tmp_path):
    versions = sorted(d for d in os.listdir(PYENV)) if os.path.isdir(PYENV) else []
    if not versions:
        pytest.skip(f"no pyenv interpreters under {PYENV}")
    out = tmp_path / "p.json"
    p = run_cli("pythons", "--json", str(out))
    assert p.returncode == 0, p.stderr
    rows = json.loads(out.read_text())["pythons"]
    by_path = {r["path"]: r for r in rows}
    for version in versions:
        pyenv_rows = [r for r in rows if r["path"].startswith(f"{PYENV}/{version}/")]
        assert len(pyenv_rows) == 1, (version, by_path)
        row = pyenv_rows[0]
        assert row["version"] == version and row["source"] == "pyenv"
        assert version in p.stdout
        old = tuple(map(int, version.split(".")[:2])) < (3, 9)
        assert row["usable"] is (not old)  # too old to run the runner: marked
        assert row["subinterpreters"] is (tuple(map(int, version.split(".")[:2])) >= (3, 12))
    assert "too old" in p.stdout or all(r["usable"] for r in rows)


@pyenv_param("3.13.*")
def test_python_takes_a_version(python, tmp_path):
    out = tmp_path / "r.json"
    p = run_cli("run", "--python", "3.13", "--tasks", "2", "--n", "30", "--json", str(out))
    assert p.returncode == 0, p.stderr
    assert json.loads(out.read_text())["python"]["version"].startswith("3.13")
    p = run_cli("run", "--python", "3.99", "--tasks", "2")
    assert p.returncode == 2 and "no Python 3.99 found" in p.stderr and "Traceback" not in p.stderr


def test_suggest_for_names_the_newest_that_can_run_the_mode():
    def interp(version, ft=False, usable=True):
        vi = tuple(int(x) for x in version.split("."))
        return Interpreter(path=f"/p/{version}{'t' * ft}", version=version, version_info=vi,
                           implementation="CPython", gil_enabled=not ft,
                           free_threaded_build=ft, source="PATH", usable=usable)

    found = [interp("3.11.7"), interp("3.12.1"), interp("3.13.0"), interp("3.14.0", ft=True)]
    assert suggest_for("subinterpreters", found) == "3.13"
    assert suggest_for("subinterpreters", found[:1]) is None


# -- side by side ----------------------------------------------------------------------------

@pytest.mark.skipif(PY311 is None or not pyenv_pythons(["3.13.*"]),
                    reason=f"needs Python 3.11 and 3.13 in {PYENV}")
def test_compare_pythons_gives_rows_for_both(tmp_path):
    js, cs = tmp_path / "c.json", tmp_path / "c.csv"
    p = run_cli("compare", "--pythons", "3.11", "3.13", "--modes", "sequential", "threads",
                "subinterpreters", "--workloads", "cpu", "--tasks", "4", "--n", "60",
                "--json", str(js), "--csv", str(cs), timeout=120)
    assert p.returncode == 0, p.stderr
    runs = json.loads(js.read_text())["runs"]
    got = [(r["python"]["version"][:4], r["mode"]) for r in runs]
    assert got == [("3.11", "sequential"), ("3.11", "threads"),
                   ("3.13", "sequential"), ("3.13", "threads"), ("3.13", "subinterpreters")]
    # speedups against sequential on the same interpreter
    for r in runs:
        seq = next(s for s in runs if s["mode"] == "sequential"
                   and s["python"]["executable"] == r["python"]["executable"])
        assert r["speedup"] == pytest.approx(seq["wall_s"] / r["wall_s"], rel=1e-3)
    rows = list(csv.DictReader(io.StringIO(cs.read_text())))
    assert [row["python_version"][:4] for row in rows] == [g[0] for g in got]
    # what was left out is said, in one line
    left_out = [line for line in p.stderr.splitlines() if "left out" in line]
    assert len(left_out) == 1 and "subinterpreters" in left_out[0] and "3.11" in left_out[0]
    # one table, with the interpreter on every row
    table = [line for line in p.stdout.splitlines() if line.strip().startswith("3.1")]
    assert len(table) == 5


def test_runnable_leaves_out_what_the_interpreter_cannot_run():
    base = RunConfig(tasks=2, n=20)
    here = sys.version_info[:2]
    configs, skipped = runnable([base.replace(mode=m) for m in
                                 ("sequential", "threads", "subinterpreters")])
    if here >= (3, 12):
        assert len(configs) == 3 and skipped == []
    else:
        assert [c.mode for c in configs] == ["sequential", "threads"]
        assert len(skipped) == 1 and skipped[0].startswith("subinterpreters left out on ")


def _result(mode, wall, python):
    return RunResult(mode=mode, workload="cpu", tasks=4, n=100, sleep=0.0, workers=2,
                     python=python, cpu_count=2, wall_s=wall, cpu_s=wall, status="ok",
                     task_results=[TaskResult(i, "done", 1, 1, 0, wall, wall / 4, None)
                                   for i in range(4)])


def test_the_compare_chart_groups_bars_by_interpreter():
    from conc_tui.ui.compare_chart import chart_lines, compare_groups, grouped_rows

    py11 = dict(FAKE_PYTHON, executable="/p/3.11", version="3.11.7")
    py13 = dict(FAKE_PYTHON, executable="/p/3.13", version="3.13.0")
    results = [_result("sequential", 2.0, py11), _result("threads", 2.1, py11),
               _result("sequential", 1.8, py13), _result("threads", 1.9, py13),
               _result("subinterpreters", 1.0, py13)]
    assert len(compare_groups(results[:2])) == 1  # one interpreter: the chart as before
    groups = compare_groups(results)
    assert [name for name, _, _ in groups] == ["Python 3.11.7", "Python 3.13.0"]
    assert [[r.mode for r in runs] for _, runs, _ in groups] == [
        ["sequential", "threads"], ["sequential", "threads", "subinterpreters"]]
    text = ["".join(t for t, _ in line) for line in chart_lines(grouped_rows(groups), 80, 40)]
    assert [line for line in text if line.startswith("Python 3.")] == [
        "Python 3.11.7", "Python 3.13.0"]
    sub = next(line for line in text if line.startswith("subinterpreters"))
    assert sub.rstrip().endswith(f"{1.8 / 1.0:.2f}x")  # against sequential on 3.13
    ideals = [line for line in text if line.startswith("ideal")]
    assert len(ideals) == 2  # one per interpreter


# -- the app's interpreter control ----------------------------------------------------------

@pytest.mark.skipif(PY311 is None or not pyenv_pythons(["3.13.*"]),
                    reason=f"needs Python 3.11 and 3.13 in {PYENV}")
async def test_the_app_picks_an_interpreter_beside_the_mode():
    from conc_tui.monitor.scripted import ScriptedSampler
    from conc_tui.ui.app import build_app
    from conc_tui.ui.interpreters import InterpreterSelect

    wanted = {os.path.realpath(p): p for p in (PY311, pyenv_pythons(["3.13.*"])[0])}
    found = [i for i in find_pythons(path_env="") if os.path.realpath(i.path) in wanted]
    assert len(found) == 2
    v311, v313 = pyenv_version(PY311), pyenv_version(pyenv_pythons(["3.13.*"])[0])
    app = build_app(RunConfig(tasks=4, n=100), source_factory=ScriptedSource,
                    sampler=ScriptedSampler(2, "gil", prefill=10), live=False,
                    python_info=FAKE_PYTHON)
    async with app.run_test(size=(120, 40)) as pilot:
        select = app.query_one("#python", InterpreterSelect)
        assert select.python is None  # the app's own interpreter, until one is picked
        select.fill(found)
        await pilot.pause()
        options = {str(label).split()[0]: value for label, value in select._options}
        assert {v311, v313} <= set(options)
        py311, py313 = options[v311], options[v313]
        app.controls.mode = "subinterpreters"
        select.value = py311
        await pilot.pause()
        assert "subinterpreters need CPython 3.12" in app.controls.errors()["mode"]
        await pilot.press("r")
        assert not app.running and app.status.shown.startswith("✗ ")
        select.value = py313
        await pilot.pause()
        assert app.controls.errors() == {}
        assert app.controls.config(app.config).python == py313


async def test_the_interpreter_search_waits_until_no_run_goes(monkeypatch):
    """Its probes would take CPU from a run's start (``--run``): it starts once none goes."""
    from textual.app import App

    from conc_tui.ui.interpreters import InterpreterSelect

    monkeypatch.setattr(InterpreterSelect, "WAIT_S", 0.05)
    calls = []
    found = [Interpreter(path="/p/3.13", version="3.13.0", version_info=(3, 13, 0),
                         implementation="CPython", gil_enabled=True,
                         free_threaded_build=False, source="pyenv", usable=False,
                         reason="too old")]  # not usable: no probe of a made-up path

    def finder():
        calls.append(1)
        return found

    class Host(App):
        busy = True

        def compose(self):
            yield InterpreterSelect(RunConfig(), info=FAKE_PYTHON, finder=finder,
                                    busy=lambda: self.busy, id="python")

    app = Host()
    async with app.run_test() as pilot:
        await pilot.pause(0.4)
        assert calls == []  # a run goes: no search yet
        app.busy = False
        select = app.query_one(InterpreterSelect)
        for _ in range(100):
            if select.found:
                break
            await pilot.pause(0.05)
        assert calls == [1] and select.found == found
        await pilot.pause(0.3)
        assert calls == [1]  # once

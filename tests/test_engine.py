"""The engine through the real Session: every mode and workload, the asyncio lesson,
failing tasks, and the runner under other interpreters."""
from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from conc_tui.engine.registry import MODE_LIST, MODES, WORKLOADS
from conc_tui.monitor import RunConfig, Session
from conc_tui.monitor import mode_info
from helpers import (wire, collect, is_process_mode, of_kind, pyenv_pythons, pyenv_version, run_session,
                     python_for, shm_files, shm_leftovers, usable_cpus)

TINY = dict(tasks=4, n=60, sleep=0.05)


def check_run_started(ev: dict, config: RunConfig, runner_pid: int) -> None:
    for key in ("mode", "workload", "tasks", "n", "sleep", "workers", "pid", "python",
                "cpu_count"):
        assert key in ev, f"run-started lacks {key}: {ev}"
    assert ev["mode"] == config.mode
    assert ev["workload"] == config.workload
    assert ev["tasks"] == config.tasks
    assert ev["n"] == config.n
    assert ev["sleep"] == pytest.approx(config.sleep)
    assert ev["pid"] == runner_pid
    assert ev["cpu_count"] == usable_cpus()
    assert ev["workers"] == config.effective_workers(usable_cpus())
    py = ev["python"]
    assert set(py) >= {"executable", "version", "implementation", "gil_enabled"}
    assert isinstance(py["gil_enabled"], bool)
    assert py["implementation"] == "CPython"


def check_tasks(evs: list[dict], tasks: int) -> None:
    """Every id started once and done once, started before done, nothing else per task."""
    started = [e["id"] for e in of_kind(evs, "task-started")]
    done = [e["id"] for e in of_kind(evs, "task-done")]
    assert sorted(started) == list(range(tasks)), started
    assert sorted(done) == list(range(tasks)), done
    assert of_kind(evs, "task-failed") == []
    index = {(e["kind"], e.get("id")): i for i, e in enumerate(evs)}
    for i in range(tasks):
        assert index[("task-started", i)] < index[("task-done", i)]


# The engine's modes: those its runner runs (a Dask run is the Dask host's: test_dask.py).
RUNNER_MODES = [m.name for m in MODE_LIST if m.host == "runner"]


@pytest.mark.parametrize("workload", WORKLOADS)
@pytest.mark.parametrize("mode", RUNNER_MODES)
def test_mode_and_workload(mode, workload):
    config = RunConfig(mode=mode, workload=workload, python=python_for(mode), **TINY)
    before = shm_files()
    session, evs, fractions, result = run_session(config, timeout=60)

    assert evs[0]["kind"] == "run-started"
    assert evs[-1]["kind"] == "run-finished"
    assert len(of_kind(evs, "run-started")) == 1 and len(of_kind(evs, "run-finished")) == 1
    runner = session.runner_pid
    check_run_started(evs[0], config, runner)
    check_tasks(evs, config.tasks)
    fin = evs[-1]
    assert fin["status"] == "ok", session.stderr_tail
    wall = fin["wall_s"]
    assert 0 < wall < 30

    # Where the tasks ran: the lesson of each mode.
    ends = of_kind(evs, "task-done")
    pids = {e["pid"] for e in ends}
    tids = {e["tid"] for e in ends}
    workers = evs[0]["workers"]
    if is_process_mode(mode):
        assert runner not in pids
        if mode == "processes":
            assert len(pids) == config.tasks  # one process per task
        else:
            assert 1 <= len(pids) <= workers
        for e in ends:  # each worker runs its task in its main thread
            assert e["tid"] == e["pid"]
    else:
        assert pids == {runner}
        if mode == "threads":
            assert len(tids) == config.tasks  # one thread per task
            assert runner not in tids
        elif mode_info(mode).pooled:  # thread-pool, subinterpreters: a pool of threads
            assert 1 <= len(tids) <= workers
            assert runner not in tids
        else:  # sequential, asyncio: the runner's main thread (its tid is its pid)
            assert tids == {runner}

    # Times: relative to the run's start, ordered, within the run.
    starts = {e["id"]: e["t"] for e in of_kind(evs, "task-started")}
    for e in ends:
        assert 0 <= starts[e["id"]] <= e["t"] <= wall + 1e-6, (starts[e["id"]], e["t"], wall)
        assert e["cpu_s"] >= 0
    if workload != "cpu":  # each task slept at least its share
        slept = config.sleep if workload == "io" else config.sleep / 2
        for e in ends:
            assert e["t"] - starts[e["id"]] >= slept * 0.9

    # Progress ends at 1.0 for every task.
    assert len(fractions) == config.tasks
    assert fractions == pytest.approx([1.0] * config.tasks)

    # The result mirrors the events.
    assert result.status == "ok"
    assert [t.status for t in result.task_results] == ["done"] * config.tasks
    assert result.wall_s == pytest.approx(wall)
    assert result.cpu_s >= 0
    assert not shm_leftovers(before)
    assert not os.path.exists(session.source._path)


def test_pool_workers_option_limits_the_pool():
    for mode in [m.name for m in MODE_LIST if m.pooled]:
        config = RunConfig(mode=mode, workload="io", tasks=6, n=30, sleep=0.05, workers=2,
                           python=python_for(mode))
        session, evs, fractions, result = run_session(config)
        assert evs[0]["workers"] == 2
        ends = of_kind(evs, "task-done")
        key = "pid" if mode == "process-pool" else "tid"
        assert 1 <= len({e[key] for e in ends}) <= 2
        assert result.workers == 2


def intervals(evs):
    starts = {e["id"]: e["t"] for e in of_kind(evs, "task-started")}
    return sorted((starts[e["id"]], e["t"]) for e in of_kind(evs, "task-done"))


def test_asyncio_cpu_runs_one_after_another_io_overlaps():
    # cpu: nothing awaits, so each coroutine runs to its end before the next starts.
    _, cpu_evs, _, cpu = run_session(RunConfig(mode="asyncio", workload="cpu", tasks=4, n=100))
    assert cpu.status == "ok"
    spans = intervals(cpu_evs)
    assert len(spans) == 4
    for (s0, e0), (s1, e1) in zip(spans, spans[1:]):
        assert s1 >= e0, f"cpu coroutines overlapped: {spans}"

    # io: every coroutine is waiting at once; all start before any ends.
    _, io_evs, _, io = run_session(RunConfig(mode="asyncio", workload="io", tasks=4,
                                             sleep=0.3))
    assert io.status == "ok"
    spans = intervals(io_evs)
    assert max(s for s, _ in spans) < min(e for _, e in spans), f"io did not overlap: {spans}"
    # ... so the run takes about one sleep, not four.
    assert io.wall_s < 4 * 0.3 * 0.75


@pytest.mark.parametrize("mode", RUNNER_MODES)
def test_failing_task_is_reported_and_the_others_finish(mode):
    config = RunConfig(mode=mode, workload="cpu", tasks=4, n=40, fail_tasks=(2,),
                       python=python_for(mode))
    session, evs, _, result = run_session(config)
    failed = of_kind(evs, "task-failed")
    assert [e["id"] for e in failed] == [2]
    assert "TaskFailure" in failed[0]["error"] and "on purpose" in failed[0]["error"]
    assert "Traceback" in failed[0]["traceback"]
    assert sorted(e["id"] for e in of_kind(evs, "task-done")) == [0, 1, 3]
    assert sorted(e["id"] for e in of_kind(evs, "task-started")) == [0, 1, 2, 3]
    assert evs[-1]["kind"] == "run-finished" and evs[-1]["status"] == "failed"
    assert result.status == "failed"
    assert result.failed_ids == [2]
    assert result.task_results[2].error == failed[0]["error"]
    assert [t.status for t in result.task_results] == ["done", "done", "failed", "done"]
    assert session.counts == {"waiting": 0, "running": 0, "done": 3, "failed": 1, "cancelled": 0}


@pytest.mark.parametrize("workload", ["io", "mixed"])
def test_failing_task_in_sleeping_workloads(workload):
    config = RunConfig(mode="threads", workload=workload, tasks=3, n=30, sleep=0.1,
                       fail_tasks=(0, 1))
    _, evs, _, result = run_session(config)
    assert sorted(e["id"] for e in of_kind(evs, "task-failed")) == [0, 1]
    assert [e["id"] for e in of_kind(evs, "task-done")] == [2]
    assert result.status == "failed"


def test_runner_lowers_its_priority_and_workers_inherit_it():
    base = os.nice(0)
    config = RunConfig(mode="processes", workload="io", tasks=2, sleep=0.5, nice=7)
    session = Session(config).start()
    try:
        pids = set()
        for ev in session.events(timeout=30):
            if ev.kind == "task-started":
                pids.add(ev.pid)
            if len(pids) == 2:
                break
        assert len(pids) == 2
        expected = min(19, base + 7)
        assert psutil.Process(session.runner_pid).nice() == expected
        for pid in pids:
            assert psutil.Process(pid).nice() == expected
        collect(session)
        assert session.result().status == "ok"
        assert session.started.nice == 7
    finally:
        session.close()


# -- the runner under other interpreters ---------------------------------------------------

OTHER_PYTHONS = ["3.9*", "3.10*", "3.12*", "3.13*"]


def _other_python_params():
    params = []
    for pattern in OTHER_PYTHONS:
        found = pyenv_pythons([pattern])
        if found:
            params.append(pytest.param(found[0], id=pyenv_version(found[0])))
        else:
            params.append(pytest.param(None, id=pattern,
                                       marks=pytest.mark.skip(
                                           reason=f"no pyenv Python {pattern} installed")))
    return params


@pytest.mark.parametrize("python", _other_python_params())
def test_runner_under_another_interpreter(python):
    version = pyenv_version(python)
    for mode in ("threads", "process-pool"):
        config = RunConfig(mode=mode, workload="cpu", tasks=3, n=40, python=python)
        session, evs, fractions, result = run_session(config)
        assert result.status == "ok", session.stderr_tail
        info = evs[0]["python"]
        assert info["version"] == version
        assert info["gil_enabled"] is True  # regular (not free-threaded) builds
        assert os.path.realpath(info["executable"]) == os.path.realpath(python)
        assert sorted(e["id"] for e in of_kind(evs, "task-done")) == [0, 1, 2]
        assert fractions == pytest.approx([1.0] * 3)
        assert result.python["version"] == version


def test_runner_imports_only_the_standard_library():
    """The runner must start under any interpreter: the engine imports no third-party code."""
    code = ("import sys; import conc_tui.engine.runner, conc_tui.engine.modes, "
            "conc_tui.engine.workloads, conc_tui.engine.boot; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('psutil', 'textual', 'rich', 'plotext', 'textual_plotext')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         cwd=root, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_worker_forked_while_another_thread_writes_an_event_still_writes_its_own(
        monkeypatch):
    # Event writes in a process go one at a time (thousands of threads writing at once
    # spent a minute contending for the pipe in the kernel); a worker forked while another
    # thread of the runner held that turn must not inherit it held.
    import threading
    import time

    from conc_tui.engine import events

    r, w = os.pipe()
    monkeypatch.setattr(events, "EVENT_FD", w)
    held, release = threading.Event(), threading.Event()

    def writer_mid_write():
        with events._write_lock:
            held.set()
            release.wait(10)

    t = threading.Thread(target=writer_mid_write)
    t.start()
    try:
        assert held.wait(5)
        pid = os.fork()
        if pid == 0:  # the worker
            events.task_done(7, 0.0)
            os._exit(0)
        deadline = time.monotonic() + 10
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the forked worker never wrote its event")
            time.sleep(0.05)
        line = os.read(r, 4096)
        assert b'"kind":"task-done"' in line and b'"id":7' in line
    finally:
        release.set()
        t.join()
        os.close(r)
        os.close(w)

"""The monitor's Session (stopping, the monitor's death) and its results (speedup, files)."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conc_tui.monitor import RunConfig, RunResult, Session, TaskResult, ideal_speedup, speedup_for
from conc_tui.monitor.results import (CSV_FIELDS, check_writable, to_csv_text, to_json_text,
                                      write_atomic)
from helpers import (wire, collect, descendants, my_children, of_kind, proc_handles,
                     run_session, shm_files, shm_leftovers, wait_for, wait_gone)

# n=1200 is ~10 s of CPU per task on this kind of machine: far longer than any test waits.
LONG_N = 1200


_OPEN: list[Session] = []


@pytest.fixture(autouse=True)
def _close_sessions():
    """Whatever a test asserts, every session it started is closed (nothing outlives it)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def started(config: RunConfig) -> Session:
    session = Session(config).start()
    _OPEN.append(session)
    return session


def _start_long(mode: str, tasks: int = 4) -> tuple[Session, list[dict], set[int]]:
    """Start a long cpu run and wait until every task (or every pool worker) is working."""
    session = started(RunConfig(mode=mode, workload="cpu", tasks=tasks, n=LONG_N))
    evs, pids = [], set()
    want = min(tasks, session.workers) if mode.endswith("pool") else tasks
    if mode == "asyncio" or mode == "sequential":
        want = 1
    for ev in wire(session.events(timeout=30)):
        evs.append(ev)
        if ev["kind"] == "task-started":
            pids.add(ev["pid"])
            if len(of_kind(evs, "task-started")) >= want:
                break
    assert len(of_kind(evs, "task-started")) >= want, evs
    return session, evs, pids


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["processes", "process-pool", "threads", "asyncio"])
def test_stop_ends_everything_quickly(mode):
    children_before = my_children()
    shm_before = shm_files()
    session, evs, pids = _start_long(mode)
    runner = session.runner_pid
    watched = proc_handles(pids | {runner} | {p.pid for p in descendants(runner)})
    assert any(p.pid == runner for p in watched)
    if mode.startswith("process"):
        assert len(watched) >= 1 + min(4, session.workers)

    t0 = time.monotonic()
    session.stop()
    took = time.monotonic() - t0
    assert took < 2.5, f"stop() took {took:.2f} s"
    evs += wire(session.poll())

    assert wait_gone(watched, 0.5) == [], "processes of the run outlived stop()"
    assert my_children() - children_before == set()
    assert not os.path.exists(session.source._path)
    assert shm_leftovers(shm_before) == set()

    result = session.result()
    assert result.status == "cancelled"
    assert session.done
    # Nothing finished: the work was far from done. Tasks cut short show as running.
    assert {t.status for t in result.task_results} <= {"cancelled", "waiting"}
    assert result.wall_s > 0
    session.stop()  # idempotent
    session.close()


@pytest.mark.slow
def test_stop_is_always_reported_as_cancelled():
    """Regression: the runner's main thread saw the terminated workers exit with an error and
    could report the run as ``failed`` before the stopping thread reported ``cancelled``."""
    statuses = []
    for _ in range(5):
        session, _, _ = _start_long("processes", tasks=2)
        session.stop()
        session.poll()
        statuses.append(session.result().status)
        session.close()
    assert statuses == ["cancelled"] * 5


def test_runner_reports_cancelled_when_its_main_thread_finishes_first(monkeypatch):
    """The same race, made deterministic: the main thread reports first during a cancel."""
    from conc_tui.engine import events, modes, runner

    seen = []
    monkeypatch.setattr(events, "emit", lambda ev: seen.append((ev.kind, ev.status)))
    plan = modes.Plan(dict(mode="processes", workload="cpu", tasks=2, n=10, sleep=0,
                           workers=2))
    run = runner.Run(plan)
    run.cancelling = True  # what cancel() sets before it terminates any worker
    assert run.finish("failed") is True
    assert run.finish("cancelled") is False
    assert seen == [("run-finished", "cancelled")]


def test_stop_before_any_event_and_after_the_end():
    # Stopped at once: the runner may not even have said run-started.
    session = started(RunConfig(mode="processes", workload="io", tasks=2, sleep=5))
    runner = proc_handles([session.runner_pid])
    t0 = time.monotonic()
    session.stop()
    assert time.monotonic() - t0 < 2.5
    session.poll()
    assert session.result().status == "cancelled"
    assert wait_gone(runner, 0.5) == []
    assert not os.path.exists(session.source._path)

    # Stopped after it ended: nothing changes.
    session, evs, fractions, result = run_session(RunConfig(mode="threads", tasks=2, n=30))
    session.stop()
    assert session.result().status == "ok"


def test_a_session_runs_once():
    session = started(RunConfig(mode="sequential", tasks=1, n=10))
    with pytest.raises(RuntimeError):
        session.start()
    collect(session)
    session.close()


@pytest.mark.slow
def test_progress_moves_while_running():
    session = started(RunConfig(mode="threads", workload="io", tasks=3, sleep=1.0))
    try:
        seen = wait_for(lambda: [f for f in session.progress() if 0 < f < 1], timeout=20)
        assert seen, session.progress()
        assert all(0.0 <= f <= 1.0 for f in session.progress())
        assert session.running and not session.done
        partial = session.result()
        assert partial.status == "running"
        assert 0 < session.elapsed() < 30
        collect(session)
        assert session.progress() == pytest.approx([1.0] * 3)
    finally:
        session.close()


def test_runner_that_cannot_start_fails_cleanly(tmp_path):
    """A broken interpreter: the run ends as failed with the runner's error, no hang."""
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'boom: not really python' >&2\nexit 3\n")
    fake.chmod(0o755)
    shm_before = shm_files()
    session = Session(RunConfig(mode="threads", tasks=2, n=10, python=str(fake))).start()
    try:
        collect(session, timeout=20)
        result = session.result()
        assert result.status == "failed"
        assert "boom" in (result.error or "")
        # The block is gone once the runner is, even before anyone calls close().
        assert not os.path.exists(session.source._path)
    finally:
        session.close()
    assert shm_leftovers(shm_before) == set()


def test_a_runner_that_exits_at_once_never_hangs_the_session(tmp_path, monkeypatch):
    """Regression: the events reader joined the stderr reader before it was started when the
    runner exited at once (seen under load), so the session never ended."""
    import threading

    real_thread = threading.Thread

    class LateStderrReader(real_thread):  # the starting thread is descheduled in between
        def start(self):
            if self.name == "conc-tui-stderr":
                time.sleep(0.5)
            super().start()

    monkeypatch.setattr(threading, "Thread", LateStderrReader)
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    session = Session(RunConfig(mode="threads", tasks=2, n=10, python=str(fake))).start()
    try:
        list(wire(session.events(timeout=5)))
        assert session.done, "the session never saw its runner end"
        assert session.result().status == "failed"
        assert "status 3" in session.result().error
    finally:
        session.close()


MONITOR_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from conc_tui.monitor import RunConfig, Session
    mode = sys.argv[1]
    s = Session(RunConfig(mode=mode, workload="cpu", tasks=4, n=%d)).start()
    want = 4 if mode == "processes" else s.workers
    pids = set()
    for ev in s.events(timeout=30):
        if ev.kind == "task-started":
            pids.add(ev.pid)
            if len(pids) >= want:
                break
    print(json.dumps({"runner": s.runner_pid, "pids": sorted(pids), "shm": s.source._path}),
          flush=True)
    time.sleep(120)
""" % LONG_N)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["processes", "process-pool"])
def test_runner_and_workers_end_when_the_monitor_is_killed(mode):
    shm_before = shm_files()
    monitor = subprocess.Popen([sys.executable, "-c", MONITOR_SCRIPT, mode],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = monitor.stdout.readline()
        assert line, monitor.stderr.read()
        info = json.loads(line)
        runner = info["runner"]
        watched = proc_handles(set(info["pids"]) | {runner}
                               | {p.pid for p in descendants(runner)})
        assert len(watched) >= 3, info  # the runner and at least two workers
        assert all(p.pid != runner for p in proc_handles(info["pids"]))

        monitor.send_signal(signal.SIGKILL)
        monitor.wait(10)
        left = wait_gone(watched, 3.0)
        assert left == [], f"still running 3 s after the monitor died: {left}"
        assert not os.path.exists(info["shm"])
        assert shm_leftovers(shm_before) == set()
    finally:
        if monitor.poll() is None:
            monitor.kill()
            monitor.wait(10)


# -- results -------------------------------------------------------------------------------

PY = {"executable": "/usr/bin/python3", "version": "3.11.7", "implementation": "CPython",
      "gil_enabled": True}


def result(mode="sequential", workload="cpu", tasks=4, n=100, sleep=1.0, wall=4.0, cpu=4.0,
           status="ok", python=None, cpu_count=2, task_results=None) -> RunResult:
    return RunResult(mode=mode, workload=workload, tasks=tasks, n=n, sleep=sleep, workers=1,
                     python=dict(python or PY), cpu_count=cpu_count, wall_s=wall, cpu_s=cpu,
                     status=status, task_results=task_results or [])


def test_speedup_uses_the_latest_comparable_sequential():
    old = result(wall=8.0)
    new = result(wall=4.0)
    run = result(mode="processes", wall=2.0)
    assert speedup_for(run, [old, new, run]) == pytest.approx(2.0)
    assert speedup_for(run, [new, old, run]) == pytest.approx(4.0)
    # Sequential is 1.0 against itself.
    assert speedup_for(new, [new]) == pytest.approx(1.0)


@pytest.mark.parametrize("change", [
    dict(tasks=8), dict(n=200), dict(workload="io"), dict(status="failed"),
    dict(status="cancelled"), dict(mode="threads"),
    dict(python=dict(PY, executable="/opt/python3.13t")),
])
def test_speedup_ignores_runs_that_are_not_comparable(change):
    base = result(wall=4.0, **change)
    run = result(mode="processes", wall=2.0)
    assert speedup_for(run, [base, run]) is None


def test_speedup_what_counts_as_the_same_work():
    # cpu ignores sleep; io ignores n; mixed needs both.
    assert speedup_for(result(mode="threads", wall=2.0, sleep=9.0),
                       [result(wall=4.0, sleep=1.0)]) == pytest.approx(2.0)
    assert speedup_for(result(mode="threads", workload="io", wall=1.0, n=999),
                       [result(workload="io", wall=4.0, n=5)]) == pytest.approx(4.0)
    assert speedup_for(result(mode="threads", workload="io", wall=1.0, sleep=2.0),
                       [result(workload="io", wall=4.0, sleep=1.0)]) is None
    assert speedup_for(result(mode="threads", workload="mixed", wall=1.0, n=999),
                       [result(workload="mixed", wall=4.0)]) is None
    assert speedup_for(result(mode="threads", workload="mixed", wall=1.0, sleep=3.0),
                       [result(workload="mixed", wall=4.0)]) is None
    assert speedup_for(result(mode="threads", workload="mixed", wall=1.0),
                       [result(workload="mixed", wall=4.0)]) == pytest.approx(4.0)
    assert speedup_for(result(mode="threads", wall=0.0), [result()]) is None


@pytest.mark.parametrize("tasks,cores,expected", [(8, 2, 2.0), (1, 2, 1.0), (3, 4, 3.0),
                                                  (80, 64, 64.0)])
def test_ideal_speedup_for_pure_cpu_is_min_of_cores_and_tasks(tasks, cores, expected):
    seq = result(tasks=tasks, cpu_count=cores, wall=tasks * 0.5, cpu=tasks * 0.5)
    assert ideal_speedup(seq) == pytest.approx(expected)
    # a real sequential run measures a little less CPU than wall: still min(cores, tasks)
    seq = result(tasks=tasks, cpu_count=cores, wall=tasks * 0.5, cpu=tasks * 0.45)
    assert ideal_speedup(seq) == expected


@pytest.mark.parametrize("tasks,cores", [(8, 2), (80, 2), (3, 64)])
def test_ideal_speedup_for_pure_io_is_the_task_count(tasks, cores):
    seq = result(workload="io", tasks=tasks, cpu_count=cores, wall=tasks * 2.0, cpu=0.0)
    assert ideal_speedup(seq) == pytest.approx(tasks)


def test_ideal_speedup_for_mixed_lies_between():
    # 8 tasks, each 1 s CPU + 1 s sleep, 2 cores: the CPU alone needs 4 s of 16.
    seq = result(workload="mixed", tasks=8, cpu_count=2, wall=16.0, cpu=8.0)
    assert 2.0 < ideal_speedup(seq) < 8.0
    assert ideal_speedup(seq) == pytest.approx(4.0)


def _tasks():
    return [TaskResult(0, "done", 10, 11, 0.0, 1.0, 0.9, None),
            TaskResult(1, "failed", 10, 12, 0.1, 0.5, 0.4, "TaskFailure: boom")]


def test_json_schema_of_one_result():
    r = result(mode="threads", wall=2.0, cpu=1.0, status="failed", task_results=_tasks())
    d = json.loads(to_json_text(r))
    assert set(d) >= {"mode", "workload", "tasks", "task_count", "n", "sleep", "workers",
                      "python", "cpu_count", "wall_s", "cpu_s", "parallelism", "status"}
    assert d["task_count"] == 4
    assert d["parallelism"] == pytest.approx(0.5)
    assert [set(t) for t in d["tasks"]] == [{"id", "status", "pid", "tid", "start_s", "end_s",
                                             "cpu_s", "error", "where", "thread_time"}] * 2
    assert d["tasks"][1]["error"] == "TaskFailure: boom"


def test_csv_rows_have_speedups():
    runs = [result(wall=4.0), result(mode="processes", wall=2.0, cpu=4.0),
            result(workload="io", mode="threads", wall=1.0, cpu=0.0)]
    rows = list(csv.DictReader(io.StringIO(to_csv_text(runs))))
    assert list(rows[0]) == CSV_FIELDS
    assert float(rows[0]["speedup"]) == pytest.approx(1.0)
    assert float(rows[1]["speedup"]) == pytest.approx(2.0)
    assert float(rows[1]["ideal_speedup"]) == pytest.approx(2.0)
    assert rows[2]["speedup"] == "" and rows[2]["ideal_speedup"] == ""


def _temp_files(directory):
    return [p for p in os.listdir(directory) if p.startswith(".conc-tui-")]


def test_write_atomic_replaces_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    write_atomic(str(target), "new content\n")
    assert target.read_text() == "new content\n"
    assert _temp_files(tmp_path) == []


def test_write_atomic_gives_the_mode_a_plain_open_would(tmp_path):
    """A saved result is not private: 0666 less the umask, or the mode of the file it
    replaces (the temporary file it is renamed from is made 0600)."""
    old = os.umask(0o027)
    try:
        fresh = tmp_path / "fresh.json"
        write_atomic(str(fresh), "{}\n")
        assert fresh.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
    kept = tmp_path / "kept.json"
    kept.write_text("old")
    kept.chmod(0o604)
    write_atomic(str(kept), "new\n")
    assert kept.stat().st_mode & 0o777 == 0o604


def test_write_atomic_on_error_keeps_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(str(target), object())  # fails while writing
    assert target.read_text() == "old"
    assert _temp_files(tmp_path) == []

    directory = tmp_path / "a-directory"
    directory.mkdir()
    with pytest.raises(OSError):
        write_atomic(str(directory), "text")  # fails at the rename
    assert directory.is_dir()
    assert _temp_files(tmp_path) == []


def test_check_writable(tmp_path):
    assert check_writable(str(tmp_path / "ok.json")) is None
    assert "does not exist" in check_writable(str(tmp_path / "missing" / "x.json"))
    assert "directory" in check_writable(str(tmp_path))
    assert check_writable("/proc/conc-tui-test.json") is not None  # no file can be made there
    assert _temp_files(tmp_path) == []


def test_write_atomic_writes_into_a_pipe_and_never_replaces_it(tmp_path):
    """``--json /dev/stdout`` (or /dev/null) must write into it, not rename a file over it."""
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()), daemon=True)
    reader.start()
    assert check_writable(str(fifo)) is None
    write_atomic(str(fifo), '{"ok": true}\n')
    reader.join(5)
    assert got == ['{"ok": true}\n']
    assert not fifo.is_file() and fifo.exists()  # still the pipe
    assert _temp_files(tmp_path) == []


@pytest.mark.slow
def test_workers_end_when_the_runner_is_killed():
    """The runner itself dies by SIGKILL: its workers follow (parent-death signal), and the
    session ends as failed, with no block left behind."""
    shm_before = shm_files()
    session, evs, pids = _start_long("processes")
    try:
        workers = proc_handles(pids)
        assert len(workers) == 4
        os.kill(session.runner_pid, signal.SIGKILL)
        assert wait_gone(workers, 3.0) == []
        collect(session, timeout=10)
        assert session.result().status == "failed"
        assert shm_leftovers(shm_before) == set()
    finally:
        session.close()

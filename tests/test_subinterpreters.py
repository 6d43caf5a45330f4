"""The subinterpreter backend, run for real under the pyenv 3.12 and 3.13 present.

Each test runs a small script under that interpreter (the engine is standard library only,
so it needs nothing installed there) and reads one JSON line back. Versions that are not
installed are skipped, with the reason.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import conc_tui

PACKAGE_PARENT = str(Path(conc_tui.__file__).resolve().parent.parent)
PYENV_VERSIONS = Path(os.path.expanduser(os.environ.get("PYENV_ROOT") or "~/.pyenv")) / "versions"


def pyenv_python(minor: int) -> str | None:
    found = sorted(glob.glob(str(PYENV_VERSIONS / f"3.{minor}.*" / "bin" / "python3")))
    return found[-1] if found else None


def with_python(*minors: int):
    """Parametrize over pyenv 3.<minor> interpreters, skipping those not installed."""
    params = []
    for minor in minors:
        exe = pyenv_python(minor)
        params.append(pytest.param(exe, id=f"3.{minor}", marks=pytest.mark.skipif(
            exe is None, reason=f"no pyenv Python 3.{minor} under {PYENV_VERSIONS}")))
    return pytest.mark.parametrize("python", params)


PRELUDE = f"""
import json, os, sys, threading, time
sys.path.insert(0, {PACKAGE_PARENT!r})
from conc_tui.engine import events, progress
from conc_tui.engine import subinterpreters as si

def events_to(path):
    events.EVENT_FD = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    events.set_clock(time.monotonic())

def read_events(path):
    with open(path) as f:
        return [json.loads(line) for line in f]

def finish(**out):
    out.update(pid=os.getpid(), main_tid=threading.get_native_id(),
               threads_alive=threading.active_count(),
               subinterpreters_alive=si.live_subinterpreters(),
               modules_asyncio="asyncio" in sys.modules)
    sys.stdout.write(json.dumps(out) + "\\n")
"""


def run_script(python: str, body: str, tmp_path: Path, timeout: float = 90,
               stderr: str = "") -> dict:
    """Run PRELUDE + body under ``python``: exit status 0, ``stderr`` exactly, and one
    JSON line on stdout, returned."""
    script = tmp_path / "script.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    proc = subprocess.run([python, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=timeout, cwd=str(tmp_path))
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr == stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


@with_python(12, 13)
def test_tasks_run_in_two_worker_threads_and_reach_the_progress_map(python, tmp_path):
    out = run_script(python, """
        log = os.path.join(sys.argv[1], "events.jsonl")
        events_to(log)
        path, mm, view = progress.create_map(6)
        # as the runner does before a mode starts: mapped, then the name removed
        mine = progress.open_map(path, 6)
        progress.unlink(path)
        outcome = si.run_workload(range(6), 2, "cpu", 200, 0.0, path, 6,
                                  **si.event_callbacks())
        finish(outcome=list(outcome), progress=list(view), events=read_events(log),
               api=si.api_name(), reason=si.unavailable_reason(),
               path_gone=not os.path.exists(path))
    """, tmp_path)
    assert out["reason"] is None
    assert out["api"] == ("_xxsubinterpreters" if "3.12" in python else "_interpreters")
    assert out["outcome"] == [6, 0, 0]
    assert out["path_gone"]
    evs = out["events"]
    started = [e["id"] for e in evs if e["kind"] == "task-started"]
    done = [e["id"] for e in evs if e["kind"] == "task-done"]
    assert sorted(started) == list(range(6)) and sorted(done) == list(range(6))
    assert not [e for e in evs if e["kind"] == "task-failed"]
    assert {e["pid"] for e in evs} == {out["pid"]}  # one process
    tids = {e["tid"] for e in evs}
    assert len(tids) == 2 and out["main_tid"] not in tids  # the two worker threads
    for e in evs:  # a task starts and ends in the same thread
        if e["kind"] == "task-done":
            start = next(s for s in evs if s["kind"] == "task-started" and s["id"] == e["id"])
            assert start["tid"] == e["tid"] and start["t"] <= e["t"]
            assert e["cpu_s"] > 0
    assert out["progress"] == [1.0] * 6
    assert out["threads_alive"] == 1 and out["subinterpreters_alive"] == 0


@with_python(12, 13)
def test_tasks_map_the_progress_file_from_a_descriptor_without_a_name(python, tmp_path):
    out = run_script(python, """
        path, mm, view = progress.create_map(4)
        fd = os.open(path, os.O_RDWR)  # as the runner keeps one for this mode
        progress.unlink(path)
        outcome = si.run_workload(range(4), 2, "cpu", 60, 0.0, "/nonexistent", 4,
                                  progress_fd=fd)
        os.close(fd)
        finish(outcome=list(outcome), progress=list(view))
    """, tmp_path)
    assert out["outcome"] == [4, 0, 0]
    assert out["progress"] == [1.0] * 4
    assert out["subinterpreters_alive"] == 0


@with_python(12, 13)
def test_an_error_inside_comes_out_with_its_type_message_and_traceback(python, tmp_path):
    out = run_script(python, """
        log = os.path.join(sys.argv[1], "events.jsonl")
        events_to(log)
        path, mm, view = progress.create_map(4)
        outcome = si.run_workload(range(4), 2, "cpu", 60, 0.0, path, 4, fail=[2],
                                  **si.event_callbacks())
        progress.unlink(path)
        failed = []
        def on_failed(myid, cpu_s, err):
            failed.append([myid, err.type_name, err.message, err.traceback, str(err),
                           threading.get_native_id()])
        script = "def f(x):\\n    raise KeyError('no %s here' % x)\\nf(7)\\n"
        raised = si.run_tasks([10, 11], 1, lambda i: script if i == 10 else "x = 1",
                              on_failed=on_failed)
        with si.Subinterpreter() as interp:
            interp.exec("state = 41")
            interp.exec("state += 1")
            try:
                interp.exec("assert state == 42; import sys; sys.exit(3)")
                direct = None
            except si.SubinterpreterError as exc:
                direct = [exc.type_name, exc.message]
            with si.Subinterpreter() as other:  # another interpreter: its own __main__
                try:
                    other.exec("state")
                    isolated = None
                except si.SubinterpreterError as exc:
                    isolated = exc.type_name
        finish(outcome=list(outcome), progress=list(view), events=read_events(log),
               failed=failed, raised=list(raised), direct=direct, isolated=isolated)
    """, tmp_path)
    assert out["outcome"] == [3, 1, 0]
    bad = [e for e in out["events"] if e["kind"] == "task-failed"]
    assert len(bad) == 1 and bad[0]["id"] == 2
    assert bad[0]["error"] == "TaskFailure: task 2 failed on purpose (--fail-task)"
    assert "in heavy" in bad[0]["traceback"] and "workloads.py" in bad[0]["traceback"]
    assert bad[0]["traceback"].startswith("Traceback (most recent call last):")
    assert "__conc_run__" not in bad[0]["traceback"]
    assert sorted(e["id"] for e in out["events"] if e["kind"] == "task-done") == [0, 1, 3]
    assert out["progress"][2] == pytest.approx(0.5, abs=0.05)  # it failed halfway
    assert [out["progress"][i] for i in (0, 1, 3)] == [1.0, 1.0, 1.0]

    assert out["raised"] == [1, 1, 0]
    [(myid, type_name, message, tb, text, tid)] = out["failed"]
    assert (myid, type_name, message) == (10, "KeyError", "'no 7 here'")
    assert text == "KeyError: 'no 7 here'"
    assert 'File "<task>", line 3, in <module>' in tb and 'File "<task>", line 2, in f' in tb
    assert tid != out["main_tid"]
    assert out["direct"] == ["SystemExit", "3"]  # state persisted between execs: 41 + 1
    assert out["isolated"] == "NameError"
    assert out["threads_alive"] == 1 and out["subinterpreters_alive"] == 0


@with_python(12, 13)
def test_stop_between_tasks_returns_and_leaves_nothing_behind(python, tmp_path):
    out = run_script(python, """
        path, mm, view = progress.create_map(40)
        stop = threading.Event()
        started = []
        def on_started(myid):
            started.append(myid)
            if len(started) == 3:
                stop.set()
        t0 = time.monotonic()
        outcome = si.run_workload(range(40), 2, "cpu", 150, 0.0, path, 40, stop=stop,
                                  on_started=on_started)
        elapsed = time.monotonic() - t0
        progress.unlink(path)
        finish(outcome=list(outcome), started=started, elapsed=elapsed,
               untouched=sum(1 for x in view if x == 0.0),
               worker_threads=[t.name for t in threading.enumerate()
                               if t is not threading.main_thread()])
    """, tmp_path)
    done, failed, not_run = out["outcome"]
    assert failed == 0 and done == len(out["started"])
    assert 3 <= done <= 4  # the tasks running when it was set finish; no new one starts
    assert not_run == 40 - done and out["untouched"] == not_run
    assert out["elapsed"] < 30  # far from the 40 tasks' worth
    assert out["worker_threads"] == [] and out["threads_alive"] == 1
    assert out["subinterpreters_alive"] == 0


@with_python(12, 13)
def test_what_a_task_prints_stays_off_the_event_pipe(python, tmp_path):
    """The runner's fd 1 carries events; a workload task sends print() to stderr."""
    out = run_script(python, """
        path, mm, view = progress.create_map(2)
        with si.Subinterpreter() as interp:
            source, names = si.workload_script(1, "cpu", 20, 0.0, path, 2)
            interp.exec(source, names)
            interp.exec("print('noise from a task')")
        progress.unlink(path)
        finish(progress=list(view))
    """, tmp_path, stderr="noise from a task\n")
    assert out["progress"] == [0.0, 1.0]


@with_python(12, 13)
def test_an_error_outside_the_tasks_is_raised_after_cleaning_up(python, tmp_path):
    out = run_script(python, """
        seen = []
        def on_done(myid, cpu_s):
            seen.append(myid)
            raise ValueError("callback broke on %d" % myid)
        try:
            si.run_tasks(range(20), 2, lambda i: "x = %d" % i, on_done=on_done)
            error = None
        except ValueError as exc:
            error = str(exc)
        finish(error=error, seen=len(seen))
    """, tmp_path)
    assert out["error"] is not None and out["error"].startswith("callback broke on ")
    assert 1 <= out["seen"] <= 2  # each worker stopped at its first error
    assert out["threads_alive"] == 1 and out["subinterpreters_alive"] == 0


@with_python(12, 13)
def test_process_exits_cleanly_when_only_subinterpreters_import_asyncio(python, tmp_path):
    """3.12.1 aborts at exit if an own-GIL subinterpreter imports _asyncio first; the
    module imports it in the main interpreter before creating one."""
    out = run_script(python, """
        assert "asyncio" not in sys.modules
        si.run_tasks([0, 1], 2, lambda i: "import asyncio")
        finish()
    """, tmp_path)  # run_script checks exit status 0 and an empty stderr
    assert out["subinterpreters_alive"] == 0


@with_python(9, 10, 11)
def test_older_pythons_import_the_module_and_are_refused(python, tmp_path):
    out = run_script(python, """
        reason = si.unavailable_reason()
        try:
            si.run_tasks([0], 1, lambda i: "pass")
            refused = None
        except RuntimeError as exc:
            refused = str(exc)
        finish(reason=reason, refused=refused, api=si.api_name())
    """, tmp_path)
    assert "3.12" in out["reason"] and "--python" in out["reason"]
    assert out["refused"] == out["reason"] and out["api"] is None


def test_the_module_reports_availability_as_a_script():
    from conc_tui.engine import subinterpreters

    module = Path(PACKAGE_PARENT) / "conc_tui" / "engine" / "subinterpreters.py"
    proc = subprocess.run([sys.executable, str(module)], capture_output=True, text=True,
                          timeout=60)
    info = json.loads(proc.stdout)
    reason = subinterpreters.unavailable_reason()
    assert info == {"available": reason is None, "reason": reason,
                    "api": subinterpreters.api_name()}
    if sys.version_info < (3, 12):
        assert "3.12" in info["reason"]

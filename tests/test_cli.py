"""The headless CLI, through the real ``conc-tui`` executable: run, compare, signals,
bad input."""
from __future__ import annotations

import csv
import glob
import json
import os
import platform
import re
import signal
import time

import pytest

from conc_tui.monitor import MODES, WORKLOADS
from helpers import (PARALLELISM, PYENV, descendants, done_ids, popen_cli,
                     proc_handles, pyenv_pythons, pyenv_version, run_cli, shm_files,
                     shm_leftovers, usable_cpus, wait_for, wait_gone)

RESULT_KEYS = {"mode", "workload", "tasks", "task_count", "n", "sleep", "workers", "python",
               "cpu_count", "wall_s", "cpu_s", "parallelism", "status"}
TASK_KEYS = {"id", "status", "pid", "tid", "start_s", "end_s", "cpu_s", "error", "where",
             "thread_time"}


def check_result_json(d: dict, *, mode: str, workload: str, tasks: int, n: int, sleep: float,
                      status: str) -> None:
    assert set(d) >= RESULT_KEYS, set(d)
    assert (d["mode"], d["workload"], d["task_count"], d["n"]) == (mode, workload, tasks, n)
    assert d["sleep"] == pytest.approx(sleep)
    assert d["status"] == status
    assert d["cpu_count"] == usable_cpus()
    assert set(d["python"]) >= {"executable", "version", "implementation", "gil_enabled"}
    assert isinstance(d["workers"], int) and d["workers"] >= 1
    assert d["wall_s"] > 0 and d["cpu_s"] >= 0
    assert d["parallelism"] == pytest.approx(d["cpu_s"] / d["wall_s"], rel=1e-2, abs=1e-3)
    assert isinstance(d["tasks"], list) and len(d["tasks"]) == tasks
    assert [t["id"] for t in d["tasks"]] == list(range(tasks))
    for t in d["tasks"]:
        assert set(t) == TASK_KEYS


# -- run -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode,workload", [("processes", "cpu"), ("threads", "cpu"),
                                           ("asyncio", "io"), ("process-pool", "mixed")])
def test_run_prints_done_lines_and_a_summary_and_writes_json(tmp_path, mode, workload):
    out = tmp_path / "result.json"
    tasks, n, sleep = 5, 60, 0.05
    p = run_cli("run", "--mode", mode, "--workload", workload, "--tasks", str(tasks),
                "--n", str(n), "--sleep", str(sleep), "--json", str(out))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    assert sorted(done_ids(p.stdout)) == list(range(tasks))
    m = PARALLELISM.search(p.stdout)
    assert m, p.stdout
    assert int(m.group(2)) == usable_cpus()
    assert f"CPython {platform.python_version()}" in p.stdout
    assert re.search(r"interpreter: CPython \S+ \(GIL (enabled|disabled)\) \S+", p.stdout)
    assert re.search(r"wall \d+\.\d\d s +CPU \d+\.\d\d s", p.stdout)

    d = json.loads(out.read_text())
    check_result_json(d, mode=mode, workload=workload, tasks=tasks, n=n, sleep=sleep,
                      status="ok")
    assert float(m.group(1)) == pytest.approx(d["parallelism"], abs=0.006)
    for t in d["tasks"]:
        assert t["status"] == "done" and t["error"] is None
        assert 0 <= t["start_s"] <= t["end_s"] <= d["wall_s"] + 1e-6
        assert t["cpu_s"] >= 0
    pids = {t["pid"] for t in d["tasks"]}
    if mode == "processes":
        assert len(pids) == tasks
    elif mode in ("threads", "asyncio"):
        assert len(pids) == 1
    assert [f for f in os.listdir(tmp_path) if f != "result.json"] == []  # no temp file


def test_run_quiet_without_a_terminal_prints_no_task_lines(tmp_path):
    p = run_cli("run", "--mode", "threads", "--tasks", "4", "--n", "40", "--quiet")
    assert p.returncode == 0, p.stderr
    assert done_ids(p.stdout) == []
    assert "is done" not in p.stdout
    assert PARALLELISM.search(p.stdout)
    assert "tasks: 4 done" in p.stdout


def test_run_with_a_failing_task(tmp_path):
    out = tmp_path / "r.json"
    p = run_cli("run", "--mode", "processes", "--tasks", "4", "--n", "60", "--fail-task", "1",
                "--json", str(out))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    assert sorted(done_ids(p.stdout)) == [0, 2, 3]
    assert re.search(r"^1 failed: TaskFailure: task 1 failed on purpose", p.stdout, re.M)
    assert re.search(r"^processes · cpu · 4 tasks .*· failed$", p.stdout, re.M)  # summary
    assert "tasks: 3 done, 1 failed (1)" in p.stdout
    d = json.loads(out.read_text())
    check_result_json(d, mode="processes", workload="cpu", tasks=4, n=60, sleep=2.0,
                      status="failed")
    assert [t["status"] for t in d["tasks"]] == ["done", "failed", "done", "done"]
    assert "TaskFailure" in d["tasks"][1]["error"]


def test_run_json_to_stdout_writes_into_the_pipe():
    p = run_cli("run", "--mode", "sequential", "--tasks", "2", "--n", "20",
                "--json", "/dev/stdout")
    assert p.returncode == 0, p.stderr
    # The file comes before the summary: printing cannot keep the result from being saved.
    start = p.stdout.index("\n{") + 1
    d, end = json.JSONDecoder().raw_decode(p.stdout, start)
    assert d["status"] == "ok" and d["mode"] == "sequential"
    assert "effective parallelism" in p.stdout[end:]


def _wait_until_working(cli, mode: str, tasks: int):
    """Wait until the CLI's runner is doing the work; returns psutil handles of the run."""
    def ready():
        kids = descendants(cli.pid)
        if not kids:
            return None
        runner = kids[0]
        try:
            if mode == "processes":
                return kids if len(kids) >= 1 + tasks else None
            return kids if runner.num_threads() >= 1 + tasks else None
        except Exception:
            return None

    kids = wait_for(ready, timeout=30)
    assert kids, f"the run did not get going: {cli.poll()}"
    time.sleep(0.2)
    return proc_handles([k.pid for k in kids] + [k.pid for k in descendants(cli.pid)])


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_run_interrupted(tmp_path, mode, sig, code):
    out = tmp_path / "r.json"
    shm_before = shm_files()
    cli = popen_cli("run", "--mode", mode, "--tasks", "4", "--n", "1200", "--json", str(out))
    try:
        watched = _wait_until_working(cli, mode, 4)
        os.killpg(cli.pid, sig)  # what Ctrl+C does to the foreground job
        t0 = time.monotonic()
        stdout, stderr = cli.communicate(timeout=15)
        took = time.monotonic() - t0
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    assert cli.returncode == code, stdout + stderr
    assert took < 3.0, f"exit took {took:.2f} s"
    assert "Traceback" not in stderr, stderr
    assert wait_gone(watched, 0.5) == [], "processes of the run outlived the CLI"
    assert shm_leftovers(shm_before) == set()
    assert "cancelled" in stdout
    assert PARALLELISM.search(stdout)
    d = json.loads(out.read_text())
    assert d["status"] == "cancelled"
    assert len(d["tasks"]) == 4
    assert all(t["status"] in ("cancelled", "waiting") for t in d["tasks"])


@pytest.mark.slow
def test_compare_interrupted_keeps_what_ran(tmp_path):
    json_path, csv_path = tmp_path / "c.json", tmp_path / "c.csv"
    shm_before = shm_files()
    cli = popen_cli("compare", "--modes", "sequential", "threads", "--workloads", "cpu",
                    "--tasks", "2", "--n", "1200", "--json", str(json_path), "--csv",
                    str(csv_path))
    try:
        watched = _wait_until_working(cli, "sequential", 0)
        os.killpg(cli.pid, signal.SIGINT)
        stdout, stderr = cli.communicate(timeout=15)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    assert cli.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert wait_gone(watched, 0.5) == []
    assert shm_leftovers(shm_before) == set()
    rows = ROW.findall(stdout)
    assert [(r[0], r[1], r[7]) for r in rows] == [("sequential", "cpu", "cancelled")], stdout
    runs = json.loads(json_path.read_text())["runs"]
    assert [(r["mode"], r["status"]) for r in runs] == [("sequential", "cancelled")]
    assert [r["status"] for r in csv.DictReader(csv_path.open())] == ["cancelled"]


# -- compare -------------------------------------------------------------------------------

# mode, workload, wall s, CPU s, parallel, speedup, ideal, status
ROW = re.compile(r"^\s*(%s)\s+(%s)\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s+(\d+\.\d\d)"
                 r"\s+(\S+)\s+(\S+)\s+(\w+)"
                 % ("|".join(map(re.escape, MODES)), "|".join(WORKLOADS)), re.M)


@pytest.mark.slow
def test_compare_table_csv_and_json(tmp_path):
    csv_path, json_path = tmp_path / "c.csv", tmp_path / "c.json"
    modes = ["threads", "sequential", "process-pool"]
    workloads = ["cpu", "io"]
    p = run_cli("compare", "--modes", *modes, "--workloads", *workloads, "--tasks", "3",
                "--n", "60", "--sleep", "0.05", "--csv", str(csv_path), "--json",
                str(json_path))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    rows = ROW.findall(p.stdout)
    expected = [(m, w) for w in workloads for m in ["sequential", "threads", "process-pool"]]
    assert [(r[0], r[1]) for r in rows] == expected, p.stdout
    for r in rows:
        assert r[7] == "ok"
        if r[0] == "sequential":
            assert r[5] == "1.00x"
        assert re.fullmatch(r"\d+\.\d\dx", r[5]) and re.fullmatch(r"\d+\.\d\dx", r[6])
    assert f"{usable_cpus()} usable cores" in p.stdout

    table = list(csv.DictReader(csv_path.open()))
    assert [(r["mode"], r["workload"]) for r in table] == expected
    assert {"speedup", "ideal_speedup", "wall_s", "cpu_s", "parallelism"} <= set(table[0])
    for r in table:
        assert float(r["speedup"]) > 0 and float(r["ideal_speedup"]) > 0
        if r["mode"] == "sequential":
            assert float(r["speedup"]) == pytest.approx(1.0)
        if r["workload"] == "io":
            assert float(r["ideal_speedup"]) == pytest.approx(3.0, rel=0.1)

    runs = json.loads(json_path.read_text())["runs"]
    assert [(r["mode"], r["workload"]) for r in runs] == expected
    for r in runs:
        assert set(r) >= RESULT_KEYS | {"speedup"}
        seq = next(s for s in runs if s["mode"] == "sequential" and s["workload"] == r["workload"])
        assert r["speedup"] == pytest.approx(seq["wall_s"] / r["wall_s"], rel=0.02)
    assert sorted(os.listdir(tmp_path)) == ["c.csv", "c.json"]


# -- bad input -----------------------------------------------------------------------------

def _old_pythons():
    olds = []
    for path in sorted(glob.glob(os.path.join(PYENV, "*", "bin", "python"))):
        version = pyenv_version(path)
        parts = version.split(".")
        try:
            if (int(parts[0]), int(parts[1])) < (3, 9):
                olds.append(pytest.param(["run", "--python", path], id="python-" + version))
        except (ValueError, IndexError):
            continue
    if not any("3.8" in p.id for p in olds):
        olds.append(pytest.param(["run", "--python", "python3.8"], id="python-3.8",
                                 marks=pytest.mark.skip(reason="no Python 3.8 in pyenv")))
    return olds


BAD = [
    pytest.param(["run", "--mode", "bogus"], id="unknown-mode"),
    pytest.param(["run", "--workload", "bogus"], id="unknown-workload"),
    pytest.param(["run", "--tasks", "0"], id="tasks-0"),
    pytest.param(["run", "--tasks", "-1"], id="tasks-negative"),
    pytest.param(["run", "--tasks", "abc"], id="tasks-abc"),
    pytest.param(["run", "--tasks", "1.5"], id="tasks-float"),
    pytest.param(["run", "--n", "1"], id="n-1"),
    pytest.param(["run", "--sleep", "-1"], id="sleep-negative"),
    pytest.param(["run", "--sleep", "nan"], id="sleep-nan"),
    pytest.param(["run", "--sleep", "inf"], id="sleep-inf"),
    pytest.param(["run", "--sleep", "soon"], id="sleep-word"),
    pytest.param(["run", "--workers", "0"], id="workers-0"),
    pytest.param(["run", "--nice", "20"], id="nice-20"),
    pytest.param(["run", "--json", "{missing}/r.json"], id="json-missing-dir"),
    pytest.param(["run", "--json", "{dir}"], id="json-is-a-directory"),
    pytest.param(["run", "--json", "/proc/conc-tui-test.json"], id="json-unwritable"),
    pytest.param(["run", "--json", "{readonly}/r.json"], id="json-readonly-dir"),
    pytest.param(["compare", "--json", "{missing}/c.json"], id="compare-json-missing-dir"),
    pytest.param(["compare", "--csv", "{missing}/c.csv"], id="csv-missing-dir"),
    pytest.param(["compare", "--csv", "{dir}"], id="csv-is-a-directory"),
    pytest.param(["compare", "--csv", "/proc/conc-tui-test.csv"], id="csv-unwritable"),
    pytest.param(["compare", "--csv", "{readonly}/c.csv"], id="csv-readonly-dir"),
    pytest.param(["run", "--python", "/nonexistent/python3"], id="python-missing"),
    pytest.param(["run", "--python", "/bin/true"], id="python-true"),
    pytest.param(["run", "--python", "/bin/echo"], id="python-echo"),
    pytest.param(["run", "--python", "{dir}"], id="python-directory"),
    pytest.param(["run", "--tasks", "3", "--fail-task", "3"], id="fail-task-out-of-range"),
    pytest.param(["run", "--fail-task", "-1"], id="fail-task-negative"),
    pytest.param(["run", "--fail-task", "x"], id="fail-task-word"),
    pytest.param(["run", "--bogus"], id="unknown-option"),
    pytest.param(["--bogus"], id="unknown-top-option"),
    pytest.param(["bogus"], id="unknown-command"),
    pytest.param(["compare", "--modes", "threads", "bogus"], id="compare-unknown-mode"),
    pytest.param(["compare", "--workloads", "bogus"], id="compare-unknown-workload"),
    pytest.param(["compare", "--tasks", "0"], id="compare-tasks-0"),
] + _old_pythons()


@pytest.mark.parametrize("args", BAD)
def test_bad_input_is_refused_before_anything_runs(tmp_path, args):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    if any("{readonly}" in a for a in args) and os.geteuid() == 0:
        pytest.skip("root may write into a read-only directory; /proc covers the case")
    args = [a.format(missing=tmp_path / "missing", dir=tmp_path, readonly=readonly)
            for a in args]
    before = set(os.listdir(tmp_path))
    p = run_cli(*args, timeout=30)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "error:" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) <= 8, p.stderr
    assert p.stdout == ""  # nothing ran, nothing printed
    assert set(os.listdir(tmp_path)) == before  # nothing written


def test_options_before_the_subcommand_are_kept(tmp_path):
    """Regression: "conc-tui --tasks 2 run" silently ran the default 80 x heavy(500)."""
    out = tmp_path / "r.json"
    p = run_cli("--tasks", "2", "--n", "20", "--mode", "processes", "--sleep", "0.5", "run",
                "--sleep", "0.1", "--json", str(out), timeout=60)
    assert p.returncode == 0, p.stderr
    d = json.loads(out.read_text())
    assert (d["mode"], d["task_count"], d["n"], d["sleep"]) == ("processes", 2, 20, 0.1)
    # Defaults still apply when nothing is given anywhere.
    from conc_tui.cli import build_parser

    args = build_parser().parse_args(["run"])
    assert (args.mode, args.workload, args.tasks, args.n, args.sleep, args.workers,
            args.python, args.nice) == ("threads", "cpu", 80, 500, 2.0, None, None, 19)
    args = build_parser().parse_args(["--tasks", "3", "compare", "--n", "40"])
    assert (args.tasks, args.n, args.sleep) == (3, 40, 2.0)


def test_no_command_without_a_terminal_points_to_run():
    p = run_cli()
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "conc-tui run" in lines[0]
    assert "Traceback" not in p.stderr
    assert p.stdout == ""


def test_the_app_on_a_terminal_it_cannot_drive_points_to_run():
    """TERM=dumb: a terminal, but one Textual cannot move the cursor on."""
    import pty
    import subprocess

    from helpers import CLI_ENV, conc_tui_command

    leader, follower = pty.openpty()
    try:
        p = subprocess.run(conc_tui_command(), stdin=follower, stdout=follower,
                           stderr=subprocess.PIPE, text=True, timeout=60,
                           env=dict(CLI_ENV, TERM="dumb"))
    finally:
        os.close(follower)
        os.close(leader)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "TERM=dumb" in lines[0] and "conc-tui run" in lines[0]


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["run", "--help"],
                                  ["compare", "--help"]])
def test_version_and_help(args):
    p = run_cli(*args)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    if args == ["--version"]:
        from conc_tui import __version__

        assert __version__ in p.stdout
    else:
        assert "usage: conc-tui" in p.stdout
        for word in (MODES if args != ["compare", "--help"] else ["--modes", "--csv"]):
            assert word in p.stdout


def test_python_dash_m_works():
    import subprocess
    import sys

    p = subprocess.run([sys.executable, "-m", "conc_tui", "--version"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0 and "conc-tui" in p.stdout


# -- --python ------------------------------------------------------------------------------

def test_run_with_another_interpreter(tmp_path):
    found = pyenv_pythons(["3.9*", "3.10*", "3.12*", "3.13*"])
    if not found:
        pytest.skip("no other CPython 3.9+ in pyenv")
    python = found[0]
    out = tmp_path / "r.json"
    p = run_cli("run", "--python", python, "--mode", "processes", "--tasks", "3", "--n", "40",
                "--json", str(out))
    assert p.returncode == 0, p.stdout + p.stderr
    version = pyenv_version(python)
    assert f"CPython {version} (GIL enabled)" in p.stdout
    d = json.loads(out.read_text())
    assert d["python"]["version"] == version and d["python"]["gil_enabled"] is True
    assert [t["status"] for t in d["tasks"]] == ["done"] * 3

"""Hard faults: workers that die or cannot start, outputs that break, signals that repeat,
runs the machine cannot hold. Each ends, says why, keeps its file and leaves nothing."""
from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from rich.console import Console

from conc_tui import headless
from conc_tui.engine import progress as progress_map
from conc_tui.engine.protocol import RunFinished, TaskFailed, TaskStarted
from conc_tui.monitor import ConfigError, RunConfig, RunResult, StartError, check_limits
from conc_tui.monitor import limits
from conc_tui.monitor.results import speedup_for
from conc_tui.monitor.runner_source import RunnerSource, runner_death
from conc_tui.monitor.runstate import RunState
from helpers import (CLI_ENV, conc_tui_command, descendants, popen_cli, proc_handles,
                     run_cli, shm_files, shm_leftovers, wait_for, wait_gone)


def _workers(cli_pid: int, want: int, timeout: float = 20) -> list[psutil.Process]:
    """The worker processes under the CLI's runner (its children), once ``want`` run."""
    def found():
        kids = [w for runner in descendants(cli_pid) if runner.ppid() == cli_pid
                for w in _children(runner)]
        return kids if len(kids) >= want else None

    kids = wait_for(found, timeout)
    assert kids, "the workers did not start"
    return kids


def _children(p: psutil.Process) -> list[psutil.Process]:
    try:
        return p.children()
    except psutil.Error:
        return []


def _wait_task_running(cli_pid: int, want: int) -> list[psutil.Process]:
    workers = _workers(cli_pid, want)
    time.sleep(0.5)  # each has reported its task-started
    return workers


# -- workers that die ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["process-pool", "processes"])
def test_a_killed_worker_fails_its_task_and_the_run_finishes(tmp_path, mode):
    out = tmp_path / "r.json"
    shm_before = shm_files()
    cli = popen_cli("run", "--mode", mode, "--workers", "2", "--workload", "io",
                    "--sleep", "1.5", "--tasks", "6", "-q", "--json", str(out))
    try:
        workers = _wait_task_running(cli.pid, 2)
        victim = workers[0].pid
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = cli.communicate(timeout=40)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    assert "Traceback" not in stderr, stderr
    assert cli.returncode == 1, stdout + stderr
    d = json.loads(out.read_text())
    assert d["status"] == "failed"
    failed = [t for t in d["tasks"] if t["status"] == "failed"]
    assert len(failed) == 1, d["tasks"]
    assert failed[0]["error"].startswith("worker died: signal 9"), failed[0]
    assert failed[0]["pid"] == victim
    assert [t["status"] for t in d["tasks"]].count("done") == 5, d["tasks"]
    assert all(t["end_s"] <= d["wall_s"] for t in d["tasks"] if t["end_s"] is not None)
    assert "1 failed" in stdout
    assert shm_leftovers(shm_before) == set()


def test_a_worker_that_cannot_start_ends_the_run_at_once_with_the_reason(tmp_path):
    """Starting the third worker fails (as with no descriptors or pids left): the run ends
    within 2 s, says why, and the workers that did start are gone (every mode built on
    worker processes: one per task, and a pool)."""
    script = textwrap.dedent("""
        import json, os, sys, time
        from conc_tui.engine import modes, supervise
        import multiprocessing as mpm

        class Failing:
            def __init__(self, mp):
                self.mp, self.made = mp, []
            def __getattr__(self, name):
                return getattr(self.mp, name)
            def Process(self, *a, **k):
                p = self.mp.Process(*a, **k)
                if len(self.made) == 2:
                    def start():
                        raise OSError(24, "Too many open files")
                    p.start = start
                self.made.append(p)
                return p

        out = {}
        for mode in ("processes", "process-pool"):
            mp = Failing(mpm.get_context("fork"))
            plan = modes.Plan(dict(mode=mode, workload="io", tasks=6, n=10, sleep=30,
                                   workers=4))
            ctx = modes.TaskContext(plan, memoryview(bytearray(8 * 6)).cast("d"), mp)
            t0 = time.monotonic()
            try:
                getattr(modes, "run_" + mode.replace("-", "_"))(ctx)
                why = None
            except supervise.StartFailed as exc:
                why = str(exc)
            alive = [p.pid for p in mp.made[:2] if p.is_alive()]
            out[mode] = dict(why=why, took=time.monotonic() - t0, alive=alive)
        sys.stderr.write(json.dumps(out) + "\\n")
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stderr.strip().splitlines()[-1])
    for mode, seen in out.items():
        assert seen["why"] and "Too many open files" in seen["why"], (mode, seen)
        assert seen["took"] < 10, (mode, seen)  # not the 30 s the tasks would sleep
        assert seen["alive"] == [], (mode, seen)


def test_a_pool_that_cannot_start_under_a_low_fd_limit_ends_with_the_reason(tmp_path):
    """The issue's reproduction, with a hard limit the check lets through: the runner's
    soft limit is what runs out, and the run ends at once with the reason."""
    out = tmp_path / "r.json"
    # The runner raises its soft limit to the hard one, so lower the hard one for the
    # runner only: through a wrapper interpreter that lowers both, then execs Python.
    wrapper = tmp_path / "python-lowfd"
    wrapper.write_text(f"#!/bin/sh\nulimit -n 40\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    t0 = time.monotonic()
    p = run_cli("run", "--mode", "process-pool", "--workers", "30", "--workload", "io",
                "--sleep", "1", "--tasks", "60", "-q", "--python", str(wrapper),
                "--json", str(out), timeout=60)
    took = time.monotonic() - t0
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == 1, p.stdout + p.stderr
    assert took < 10
    d = json.loads(out.read_text())
    assert d["status"] == "failed"
    assert "Too many open files" in d["error"]
    assert "Too many open files" in p.stdout


def test_thread_time_under_a_low_fd_limit_still_reads_every_thread(tmp_path):
    """Under ``ulimit -n 64`` the probe's window was one thread: a pool of sleepers was
    extrapolated from the runner's own threads and came out 93% lock wait."""
    import resource

    def low_fd_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    out = tmp_path / "r.json"
    p = run_cli("run", "--mode", "process-pool", "--workers", "60", "--workload", "io",
                "--sleep", "1", "--tasks", "8", "-q", "--json", str(out), timeout=60,
                preexec_fn=low_fd_limit)
    assert p.returncode == 0, p.stdout + p.stderr
    tt = json.loads(out.read_text())["thread_time"]
    assert tt["sampled"] is False
    assert tt["io_wait_s"] > 2 * tt["lock_wait_s"], tt


def test_a_killed_runner_says_so():
    src = RunnerSource(RunConfig(mode="threads", workload="io", tasks=2, sleep=30))
    src.start()
    try:
        assert wait_for(lambda: src.progress() is not None and src._started is not None, 20)
        os.kill(src.runner_pid, signal.SIGKILL)
        assert src.wait(10)
        events = src.poll(1.0)
    finally:
        src.close()
    fin = [e for e in events if isinstance(e, RunFinished)]
    assert fin and fin[0].status == "failed"
    assert "killed by signal 9 (SIGKILL)" in fin[0].error


def test_runner_death_reasons():
    assert runner_death(-9, "") == "runner killed by signal 9 (SIGKILL)"
    assert "out of shared memory" in runner_death(-7, "")
    assert runner_death(1, "Traceback...\nOSError: boom\n") == "OSError: boom"
    assert "status 3" in runner_death(3, "")


def test_a_task_run_again_on_a_new_worker_is_running_once():
    state = RunState(2)
    state.apply([TaskStarted(id=0, pid=10, tid=10, t=0.1)])
    changed = state.apply([TaskStarted(id=0, pid=11, tid=11, t=0.5)])
    assert changed == {0}
    assert state.counts == {"waiting": 1, "running": 1, "done": 0, "failed": 0, "cancelled": 0}
    assert (state.tasks[0].pid, state.tasks[0].start_s) == (11, 0.5)
    assert state.tasks[0].restarts == 1  # said once, as a note: "task 0 restarted on pid 11"
    assert len(state.warnings) == 1 and "task 0 restarted on pid 11" in state.warnings[0]
    state.apply([TaskFailed(id=1, pid=12, tid=12, t=0.6, error="worker died: signal 9")])
    assert state.tasks[1].state == "failed"


# -- runs that cannot start ----------------------------------------------------------------

def test_no_room_for_the_progress_map_is_a_start_error(monkeypatch):
    before = shm_files()

    def full(fd, offset, size):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    src = RunnerSource(RunConfig(tasks=4, n=50))
    with pytest.raises(StartError, match="No space left on device"):
        src.start()
    assert src.runner_pid is None
    assert shm_leftovers(before, grace=0.1) == set()


def test_no_thread_for_the_readers_is_a_start_error(monkeypatch):
    import threading

    real_start = threading.Thread.start

    def refuse(self):
        if self.name.startswith("conc-tui-"):
            raise RuntimeError("can't start new thread")
        return real_start(self)

    before = shm_files()
    monkeypatch.setattr(threading.Thread, "start", refuse)
    src = RunnerSource(RunConfig(mode="threads", workload="io", tasks=2, sleep=30))
    with pytest.raises(StartError, match="can't start new thread"):
        src.start()
    monkeypatch.undo()
    runner = src._process._proc
    assert runner.returncode is not None, "the runner was left running"
    assert shm_leftovers(before, grace=0.5) == set()


# -- limits --------------------------------------------------------------------------------

def test_a_run_the_machine_cannot_hold_is_refused_before_any_fork():
    t0 = time.monotonic()
    p = run_cli("run", "--tasks", "100000", "--mode", "processes")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "use process-pool" in p.stderr
    assert "Traceback" not in p.stderr
    assert p.stdout == ""
    assert time.monotonic() - t0 < 30


def test_limits_accept_a_thousand_processes_and_refuse_beyond_the_machine(monkeypatch):
    check_limits(RunConfig(mode="processes", tasks=1000), 2)  # pid_max 32,768 machines
    check_limits(RunConfig(mode="process-pool", tasks=8, workers=4096), 2)  # 8 workers
    monkeypatch.setattr(limits, "_read_int",
                        lambda path: 4000 if path.endswith("pid_max") else None)
    monkeypatch.setattr(limits, "_threads_now", lambda: 100)
    with pytest.raises(ConfigError, match=r"allows 3,644 \(kernel.pid_max 4,000") as info:
        check_limits(RunConfig(mode="processes", tasks=5000), 2)
    assert info.value.field == "tasks"
    with pytest.raises(ConfigError, match="use fewer --workers") as info:
        check_limits(RunConfig(mode="thread-pool", tasks=10000, workers=4096), 2)
    assert info.value.field == "workers"
    check_limits(RunConfig(mode="asyncio", tasks=100000), 2)  # one thread, whatever the tasks


def test_limits_read_a_pids_cgroup(monkeypatch, tmp_path):
    (tmp_path / "pids.max").write_text("500\n")
    (tmp_path / "pids.current").write_text("100\n")
    monkeypatch.setattr(limits, "_pids_cgroup", lambda: str(tmp_path))
    with pytest.raises(ConfigError, match="pids.max 500, 100 in use"):
        check_limits(RunConfig(mode="processes", tasks=600), 2)


# -- outputs -------------------------------------------------------------------------------

def _shell(cmd: str, tmp_path, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    exe = " ".join(conc_tui_command())
    return subprocess.run(["bash", "-c", cmd.replace("conc-tui", exe)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout,
                          env=env or CLI_ENV, stdin=subprocess.DEVNULL)


def test_a_closed_pipe_does_not_lose_the_json(tmp_path):
    p = _shell("conc-tui run --tasks 30 --n 50 --json r.json | head -2; "
               "echo \"status ${PIPESTATUS[0]}\"", tmp_path)
    assert "Traceback" not in p.stderr and p.stderr == "", p.stderr
    assert "status 0" in p.stdout
    assert json.loads((tmp_path / "r.json").read_text())["status"] == "ok"


def test_compare_into_a_closed_pipe_writes_both_files(tmp_path):
    p = _shell("conc-tui compare --modes sequential threads --workloads cpu --tasks 4 --n 50 "
               "--json c.json --csv c.csv | true", tmp_path)
    assert "Traceback" not in p.stderr, p.stderr
    assert len(json.loads((tmp_path / "c.json").read_text())["runs"]) == 2
    assert (tmp_path / "c.csv").read_text().count("\n") == 3


def test_a_full_stdout_says_so_and_keeps_the_json(tmp_path):
    p = _shell("conc-tui run -q --tasks 4 --n 50 --json f.json > /dev/full", tmp_path)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr
    assert "cannot write to stdout: No space left on device" in p.stderr
    assert json.loads((tmp_path / "f.json").read_text())["status"] == "ok"


def test_an_ascii_stdout_still_gets_the_summary_and_the_json(tmp_path):
    env = dict(CLI_ENV, PYTHONIOENCODING="ascii")
    p = _shell("conc-tui run -q --tasks 4 --n 50 --json a.json", tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert "threads ? cpu ? 4 tasks" in p.stdout
    assert json.loads((tmp_path / "a.json").read_text())["status"] == "ok"


def test_runner_text_is_never_markup():
    buf = io.StringIO()
    out = Console(file=buf, width=200, color_system=None)
    result = RunResult(mode="threads", workload="cpu", tasks=1, n=10, sleep=1.0, workers=1,
                       python={"executable": "[/dev/shm/x]"}, cpu_count=2, wall_s=1.0,
                       cpu_s=0.5, status="failed", error="OSError: [/dev/shm/x] [bold]")
    headless.print_summary(out, result)
    assert "OSError: [/dev/shm/x] [bold]" in buf.getvalue()


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGHUP])
def test_a_second_signal_hurries_the_stop_and_the_json_is_still_written(tmp_path, second):
    out = tmp_path / "r.json"
    shm_before = shm_files()
    cli = popen_cli("run", "--mode", "processes", "--workload", "io", "--sleep", "30",
                    "--tasks", "20", "-q", "--json", str(out))
    try:
        watched = proc_handles(p.pid for p in _workers(cli.pid, 20))
        os.kill(cli.pid, signal.SIGINT)
        time.sleep(0.3)
        os.kill(cli.pid, second)
        time.sleep(0.2)
        os.kill(cli.pid, signal.SIGTERM)
        stdout, stderr = cli.communicate(timeout=15)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    assert cli.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr, stderr
    assert "cancelled" in stdout
    assert json.loads(out.read_text())["status"] == "cancelled"
    assert wait_gone(watched, 2.0) == []
    assert shm_leftovers(shm_before) == set()


def test_compare_with_the_same_file_twice_is_refused(tmp_path):
    p = run_cli("compare", "--json", str(tmp_path / "x"), "--csv", str(tmp_path / "x"))
    assert p.returncode == 2
    assert "same file" in p.stderr


def test_a_file_name_too_long_is_refused_before_the_run(tmp_path):
    p = run_cli("run", "--tasks", "2", "--json", str(tmp_path / ("a" * 300)))
    assert p.returncode == 2
    assert "longer than" in p.stderr
    assert p.stdout == ""


def test_a_relative_path_in_a_deleted_directory_is_refused(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    p = _shell(f"cd {gone} && rmdir {gone} && conc-tui run --tasks 2 --json r.json", tmp_path)
    assert p.returncode == 2, p.stderr
    assert "working directory no longer exists" in p.stderr
    assert "Traceback" not in p.stderr


def test_a_cancelled_or_failed_run_has_no_speedup():
    def result(mode, status, wall):
        return RunResult(mode=mode, workload="cpu", tasks=4, n=10, sleep=1.0, workers=1,
                         python={"executable": "p"}, cpu_count=2, wall_s=wall, cpu_s=0.1,
                         status=status)

    seq = result("sequential", "ok", 0.3)
    assert speedup_for(result("threads", "cancelled", 0.0008), [seq]) is None
    assert speedup_for(result("threads", "failed", 0.1), [seq]) is None
    assert speedup_for(result("threads", "ok", 0.1), [seq]) == pytest.approx(3.0)


# -- headless output fits where it goes ----------------------------------------------------

def test_piped_compare_is_plain_full_width_with_whole_headers(tmp_path):
    p = _shell("conc-tui compare --tasks 4 --n 50 --sleep 0.05 | cat", tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    header = next(line for line in lines if line.startswith("mode"))
    assert header.split() == ["mode", "workload", "wall", "s", "CPU", "s", "parallel",
                              "speedup", "ideal", "status"]
    assert all(line == line.rstrip() and line for line in lines), lines


def test_the_summary_names_sleep_only_for_workloads_that_sleep(tmp_path):
    cpu = run_cli("run", "--tasks", "2", "--n", "50")
    io_ = run_cli("run", "--tasks", "2", "--workload", "io", "--sleep", "0.05")
    assert "sleep=" not in cpu.stdout and "n=50" in cpu.stdout
    assert "sleep=0.05 s" in io_.stdout


def _pids_cgroup_dir() -> str | None:
    """A place to make a pids cgroup (v1 or v2), when this process may."""
    for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(base, "cgroup.procs")) and os.access(base, os.W_OK):
            if base == "/sys/fs/cgroup" and not os.path.exists(
                    os.path.join(base, "cgroup.controllers")):
                continue
            return base
    return None


def test_a_real_pids_cgroup_limit_refuses_a_big_pool(tmp_path):
    base = _pids_cgroup_dir()
    if base is None:
        pytest.skip("no writable pids cgroup here (needs root and the pids controller)")
    group = os.path.join(base, f"conc-tui-test-{os.getpid()}")
    try:
        os.mkdir(group)
        with open(os.path.join(group, "pids.max"), "w") as fh:
            fh.write("60")
    except OSError as exc:
        pytest.skip(f"cannot make a pids cgroup: {exc}")

    def join():
        with open(os.path.join(group, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))

    try:
        p = run_cli("run", "--mode", "process-pool", "--workers", "4096", "--tasks", "4096",
                    "--workload", "io", "--sleep", "1", preexec_fn=join)
    finally:
        os.rmdir(group)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "pids.max 60" in p.stderr and "use fewer --workers" in p.stderr


def test_sleepers_share_the_wakeups():
    from conc_tui.engine import workloads

    try:
        workloads.pace(80)
        assert workloads._steps(2.0) == 40  # 20 steps a second, as ever
        workloads.pace(1000)
        assert workloads._steps(2.0) == 4
        workloads.pace(100_000)
        assert workloads._steps(2.0) == 1
    finally:
        workloads.pace(1)


def test_the_sampling_process_follows_a_tree_and_leaves_nothing():
    from conc_tui.monitor import SamplerProcess

    kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    sampler = SamplerProcess(history=4)
    try:
        sampler.watch(os.getpid())
        sampler.sample()
        s = sampler.sample()
        child = sampler.pid
        assert child is not None and psutil.pid_exists(child)
        assert s.processes >= 3  # this process, the sleeper, the sampler itself
        assert s.thread_count >= 1
        assert len(sampler.history[0]) == 1  # the first reading is only the baseline
    finally:
        sampler.close()
        kid.kill()
        kid.wait()
    assert wait_gone(proc_handles([child]), 2.0) == []
    assert sampler.sample().per_core  # after close: sampled in this process


def test_the_sampler_counts_many_threads_without_reading_each():
    import threading

    from conc_tui.monitor.sampler import THREAD_DETAIL, Sampler

    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait) for _ in range(THREAD_DETAIL + 20)]
    for t in threads:
        t.start()
    try:
        sampler = Sampler(history=2)
        sampler.watch(os.getpid())
        s = sampler.sample()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert s.thread_count > THREAD_DETAIL
    assert s.threads == []


def test_a_full_dev_shm_is_refused_with_the_reason(tmp_path):
    """In a private mount namespace, /dev/shm is a full 4 KiB tmpfs (root only)."""
    import shutil

    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) for a private /dev/shm")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    exe = " ".join(conc_tui_command())
    script = ("mount -t tmpfs -o size=4k tmpfs /dev/shm && "
              "dd if=/dev/zero of=/dev/shm/fill bs=4k count=1 2>/dev/null; "
              f"{exe} run --tasks 80 --n 50 --json {tmp_path}/r.json")
    p = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                       timeout=60, env=CLI_ENV, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "cannot create the progress map in /dev/shm: No space left on device" in p.stderr
    assert "Traceback" not in p.stderr
    assert p.stdout == ""

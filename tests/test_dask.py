"""The dask mode: a LocalCluster, a separately started scheduler and workers, stops, kills."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from conc_tui.monitor import RunConfig, Session
from conc_tui.monitor.config import ConfigError, check_mode_available
from helpers import CLI_ENV, popen_cli, run_cli

pytest.importorskip("distributed", reason="the dask extra is not installed")


TAG = "CONC_TUI_TEST_DASK"


@pytest.fixture
def tag(monkeypatch) -> str:
    """A mark in the environment that every process the test starts inherits (the
    processes a kill orphans too), so that only the test's own Dask processes are looked
    at, not another program's multiprocessing children."""
    value = uuid.uuid4().hex
    monkeypatch.setenv(TAG, value)
    return value


def dask_processes(tag: str) -> list[psutil.Process]:
    """Every Dask host, scheduler, nanny or worker process started with ``tag``."""
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if not ("conc_tui.monitor.dask_host" in cmd or "spawn_main" in cmd
                or "distributed.cli" in cmd or "dask scheduler" in cmd):
            continue
        try:
            if p.environ().get(TAG) == tag:
                out.append(p)
        except psutil.Error:
            pass  # ended since it was listed
    return out


def gone_within(tag: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not [p for p in dask_processes(tag) if p.is_running()
                and p.status() != psutil.STATUS_ZOMBIE]:
            return True
        time.sleep(0.2)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_local_cluster_runs_every_task_live_with_worker_names(tmp_path, tag):
    session = Session(RunConfig(mode="dask", workload="io", tasks=6, sleep=0.6,
                                workers=2)).start()
    seen_progress = set()
    kinds = []
    try:
        while not session.done:
            kinds += [ev.kind for ev in session.poll(0.05)]
            seen_progress.update(round(f, 1) for f in session.progress() if 0 < f < 1)
    finally:
        session.close()
    result = session.result()
    assert result.status == "ok"
    assert [t.status for t in result.task_results] == ["done"] * 6
    assert kinds.count("task-started") == 6 and kinds.count("task-done") == 6
    assert len({t.where for t in result.task_results}) == 2  # two workers, by name
    assert seen_progress, "progress never moved between 0 and 1"
    assert gone_within(tag, 5)


def test_the_cli_run_writes_worker_names_and_a_dead_address_is_refused(tmp_path):
    out = run_cli("run", "--mode", "dask", "--workers", "2", "--tasks", "4", "--n", "100",
                  "--json", str(tmp_path / "f.json"), timeout=120)
    assert out.returncode == 0, out.stderr
    d = json.loads((tmp_path / "f.json").read_text())
    assert [t["status"] for t in d["tasks"]] == ["done"] * 4 and all(t["where"] for t in d["tasks"])
    assert d["verdict"]["text"].split(":")[0].endswith(" across 2 workers × 1 thread")
    assert [w["name"] for w in d["cluster"]["workers"]] == ["0", "1"]
    t0 = time.monotonic()
    dead = run_cli("run", "--mode", "dask", "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert dead.returncode == 2 and "no Dask scheduler answers" in dead.stderr
    assert time.monotonic() - t0 < 15
    assert len(dead.stderr.strip().splitlines()) == 1  # one line, no usage block


def test_a_separately_started_scheduler_and_two_workers(tmp_path):
    port = free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port),
                               "--dashboard-address", ":0", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker",
                 f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(f"tcp://127.0.0.1:{port}", timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        out = run_cli("run", "--mode", "dask", "--scheduler", f"tcp://127.0.0.1:{port}",
                      "--tasks", "4", "--n", "100", "--json", str(tmp_path / "r.json"),
                      timeout=120)
        assert out.returncode == 0, out.stderr
        d = json.loads((tmp_path / "r.json").read_text())
        assert [t["status"] for t in d["tasks"]] == ["done"] * 4
        assert len({t["where"] for t in d["tasks"]}) == 2
        # The workers' own figures, by name: the same names as the tasks', each with its
        # CPU and memory as the scheduler heard them.
        workers = d["cluster"]["workers"]
        assert {w["name"] for w in workers} == {t["where"].split(" on ")[0] for t in d["tasks"]}
        assert len(workers) == 2 and d["workers"] == 2
        for w in workers:
            assert w["samples"] >= 1 and w["cpu_mean"] is not None and w["memory_max"] > 0
            assert w["nthreads"] == 1 and w["present"]
        assert " across 2 workers × 1 thread: " in d["verdict"]["text"]
        assert f"verdict: {d['verdict']['text']}" in out.stdout
        assert all(p.poll() is None for p in procs)  # the cluster is not ours to end
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_stopping_or_killing_conc_tui_leaves_no_dask_process(how, tag):
    cli = popen_cli("run", "--mode", "dask", "--workers", "2", "--workload", "io",
                    "--sleep", "30", "--tasks", "4", env=dict(CLI_ENV, **{TAG: tag}))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(dask_processes(tag)) < 3:
            time.sleep(0.2)
        assert len(dask_processes(tag)) >= 3, "the cluster did not come up"
        time.sleep(1.0)
        tree = psutil.Process(cli.pid).children(recursive=True)
        # The nannies' queues hold named semaphores, files in /dev/shm (twelve for two
        # workers), which only multiprocessing's resource tracker unlinks after a kill.
        sems = semaphores_of(tree)
        assert sems, "the cluster's semaphores were not found"
        cli.send_signal(getattr(signal, how))
        cli.wait(15)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert gone_within(tag, 5), f"Dask processes left after {how}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
            [f for f in sems if os.path.exists(f)] or alive(tree)):
        time.sleep(0.2)
    assert not [f for f in sems if os.path.exists(f)], f"semaphores left after {how}"
    assert not alive(tree), f"processes left after {how}: {alive(tree)}"


def semaphores_of(procs) -> set[str]:
    found = set()
    for p in procs:
        try:
            with open(f"/proc/{p.pid}/maps") as f:
                found.update(line.split()[5] for line in f
                             if "/dev/shm/sem." in line and not line.rstrip().endswith(")"))
        except OSError:
            pass
    return found


def alive(procs) -> list[str]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(" ".join(p.cmdline())[:80])
        except psutil.Error:
            pass
    return out


def test_a_killed_worker_has_its_task_run_elsewhere(tag):
    session = Session(RunConfig(mode="dask", workload="io", tasks=4, sleep=2.0,
                                workers=2)).start()
    notes = []
    try:
        while not session.done and session.counts["running"] < 2:
            session.poll(0.05)
        victim = session.tasks[[t.state for t in session.tasks].index("running")]
        psutil.Process(victim.pid).kill()
        while not session.done:
            session.poll(0.1)
            notes += session.notes
    finally:
        session.close()
    result = session.result()
    assert result.status == "ok", result.error
    assert [t.status for t in result.task_results] == ["done"] * 4
    assert session.tasks[victim.id].restarts >= 1
    assert any(f"task {victim.id} restarted" in note for note in notes)
    assert gone_within(tag, 5)


def test_without_dask_the_mode_says_how_to_install_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'conc-tui\[dask\]'"):
        check_mode_available("dask")

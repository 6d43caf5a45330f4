"""The sampler, watching real runs: per-core load, the runner's tree CPU, its threads."""
from __future__ import annotations

import time

import psutil

from conc_tui.monitor import RunConfig, Sampler, Session
from helpers import wait_for


def watch_run(config: RunConfig, interval: float = 0.05, timeout: float = 60):
    """Run ``config`` while sampling it; returns (session, samples)."""
    sampler = Sampler()
    session = Session(config).start()
    try:
        sampler.watch(session.runner_pid)
        samples = [sampler.sample()]
        deadline = time.monotonic() + timeout
        while not session.done and time.monotonic() < deadline:
            time.sleep(interval)
            samples.append(sampler.sample())
            session.poll()
        assert session.done
    finally:
        session.close()
    return session, samples


def check_common(samples):
    cores = psutil.cpu_count()
    assert samples[0].parallelism_now == 0.0  # the first reading is only a baseline
    for s in samples:
        assert len(s.per_core) == cores
        assert all(0.0 <= v <= 100.0 for v in s.per_core), s.per_core
        assert 0.0 <= s.total <= 100.0
        assert s.parallelism_now >= 0.0
    trees = [s.tree_cpu_s for s in samples if s.tree_cpu_s > 0]
    assert trees, "never read the runner's CPU"
    assert trees == sorted(trees), "tree CPU went backwards"
    assert trees[-1] > trees[0], "tree CPU did not grow"
    assert any(s.parallelism_now > 0 for s in samples[1:])


def test_sampler_follows_a_processes_run():
    session, samples = watch_run(RunConfig(mode="processes", workload="cpu", tasks=2, n=400))
    assert session.result().status == "ok"
    assert len(samples) >= 3
    check_common(samples)
    # At some point the tree held the runner and its worker processes.
    assert max(s.processes for s in samples) >= 2


def test_sampler_follows_a_threads_run():
    session, samples = watch_run(RunConfig(mode="threads", workload="mixed", tasks=3, n=300,
                                           sleep=0.4))
    assert session.result().status == "ok"
    check_common(samples)
    during = [s for s in samples if s.threads]
    assert during, "never saw the runner's threads"
    # While the tasks run, the runner has its main thread, its control thread and the tasks.
    assert max(len(s.threads) for s in during) >= 3 + 1
    for s in during:
        for th in s.threads:
            assert th.tid > 0 and th.cpu_s >= 0 and th.share >= 0
    assert any(th.share > 0 for s in during[1:] for th in s.threads)


def test_sampler_without_a_run():
    sampler = Sampler()
    first = sampler.sample()
    time.sleep(0.05)
    second = sampler.sample()
    for s in (first, second):
        assert len(s.per_core) == psutil.cpu_count()
        assert s.tree_cpu_s == 0 and s.processes == 0 and s.threads == []
        assert s.parallelism_now == 0
    # The first reading spans everything since the sampler was made (app start-up, say):
    # it is a baseline, not history.
    assert len(sampler.history[0]) == 1
    assert list(sampler.history[0]) == [second.per_core[0]]
    # Watching a process that has gone is not an error.
    sampler.watch(2 ** 22 + 12345)
    assert sampler.sample().processes == 0


def test_tree_cpu_counts_worker_processes():
    """The CPU of worker processes is in the tree total, not just the runner's own."""
    session, samples = watch_run(RunConfig(mode="processes", workload="cpu", tasks=2, n=400),
                                 interval=0.02)
    result = session.result()
    tasks_cpu = sum(t.cpu_s or 0 for t in result.task_results)
    assert tasks_cpu > 0.05
    # The tasks' CPU was all spent in worker processes; the tree total saw most of it.
    assert samples[-1].tree_cpu_s >= 0.5 * tasks_cpu


def test_the_tree_reader_keeps_its_members_files_open_and_lets_go_when_they_end():
    # With a thousand workers, re-reading each member's stat with pread instead of
    # opening it every sample is most of a sample's cost: the figures must not change.
    import os
    import subprocess
    import sys

    from conc_tui.monitor.sampler import _TreeReader

    code = ("import os, time\n"
            "for _ in range(3):\n"
            "    if os.fork() == 0:\n"
            "        t = time.process_time() + 0.2\n"
            "        while time.process_time() < t: pass\n"
            "        time.sleep(60); os._exit(0)\n"
            "print('ok', flush=True)\n"
            "time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child.stdout.readline()
        kept, fresh = _TreeReader(child.pid), _TreeReader(child.pid, max_open=0)
        kept.read()
        assert sorted(kept.fds) == sorted([child.pid] + [p.pid for p in
                                           psutil.Process(child.pid).children()])
        deadline = time.monotonic() + 20  # until the workers' 0.2 s of CPU each are in
        while fresh.read()[0] < 0.55 and time.monotonic() < deadline:
            time.sleep(0.1)
        a, b = kept.read(), fresh.read()
        assert a[1] == b[1] == 4  # the root and its three workers
        assert abs(a[0] - b[0]) < 0.05 and a[0] >= 0.5
        assert fresh.fds == {}
        held = list(kept.fds.values())
        for kid in psutil.Process(child.pid).children():
            kid.kill()
        child.kill()
        child.wait()
        assert kept.read() is None  # the root is gone
        assert kept.fds == {}
        for fd in held:  # every file it held is closed
            try:
                os.fstat(fd)
            except OSError:
                continue
            assert not os.readlink(f"/proc/self/fd/{fd}").startswith("/proc/")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def test_the_tree_reader_reads_no_process_outside_the_tree_twice_yet_finds_new_members():
    # Reading the machine's other processes every sample was a fifth of a sample's cost;
    # a process outside the tree cannot join it, but a new worker must still be found.
    import os
    import subprocess
    import sys

    from conc_tui.monitor.sampler import _TreeReader

    code = ("import os, sys, time\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline()\n"
            "if os.fork() == 0:\n"
            "    time.sleep(60); os._exit(0)\n"
            "print('forked', flush=True)\n"
            "time.sleep(60)\n")
    root = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        root.stdout.readline()
        reader = _TreeReader(root.pid)
        assert reader.read()[1] == 1
        assert os.getpid() in reader.outside  # this test's process: not of the tree
        looked_at: list[int] = []
        fields = reader._fields
        reader._fields = lambda pid: looked_at.append(pid) or fields(pid)
        root.stdin.write("go\n")
        root.stdin.flush()
        root.stdout.readline()
        assert reader.read()[1] == 2  # the new worker is found
        kid = psutil.Process(root.pid).children()[0].pid
        assert kid in looked_at and root.pid in looked_at
        assert os.getpid() not in looked_at
    finally:
        os.killpg(root.pid, 9)
        root.wait()


def test_the_tree_reader_lists_proc_only_when_a_pid_was_handed_out(monkeypatch):
    # With a thousand sleeping workers, listing /proc was a third of a sample: while the
    # kernel hands out no pid no process can be new, and an ended member fails its read.
    import os
    import subprocess

    from conc_tui.monitor import sampler
    from conc_tui.monitor.sampler import _TreeReader

    root = subprocess.Popen(["bash", "-c", "sleep 60 & sleep 60 & wait"],
                            start_new_session=True)
    try:
        assert wait_for(lambda: len(psutil.Process(root.pid).children()) == 2, 10)
        monkeypatch.setattr(sampler, "_last_pid", lambda: 1)
        reader = _TreeReader(root.pid)
        assert reader.read()[1] == 3

        kid = psutil.Process(root.pid).children()[0]
        kid.kill()
        assert wait_for(lambda: not os.path.exists(f"/proc/{kid.pid}"), 10)  # reaped by bash
        listings = []
        real_listdir = os.listdir
        monkeypatch.setattr(sampler.os, "listdir",
                            lambda path=".": listings.append(path) or real_listdir(path))
        assert reader.read()[1] == 2  # the ended one is gone, without a listing
        assert listings == []

        monkeypatch.setattr(sampler, "_last_pid", lambda: 2)  # a pid was handed out
        assert reader.read()[1] == 2
        assert listings == ["/proc"]
    finally:
        os.killpg(root.pid, 9)
        root.wait()

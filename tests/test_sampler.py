"""The sampler, watching real runs: per-core load, the runner's tree CPU, its threads."""
from __future__ import annotations

import time

import psutil

from conc_tui.monitor import RunConfig, Sampler, Session


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

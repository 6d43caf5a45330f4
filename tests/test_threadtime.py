"""Where a thread's time goes: the probe on real child processes and on a fake /proc.

The real cases are the article's lesson in miniature: threads on CPU work wait for the GIL
(a futex), sleeping threads wait elsewhere, and more CPU-bound processes than cores wait
for a core. Bounds are loose on purpose: CI has two shared cores.
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from conc_tui.monitor import threadtime
from conc_tui.monitor.threadtime import (
    OFF_CPU, Snapshot, ThreadTimeProbe, Times, futex_syscalls,
)

_SELF_TASK = f"/proc/self/task/{threading.get_native_id()}"
real_proc = pytest.mark.skipif(
    not os.path.exists(f"{_SELF_TASK}/schedstat"),
    reason="needs Linux /proc with per-thread schedstat")
known_futex = pytest.mark.skipif(
    futex_syscalls() is None, reason="futex syscall number unknown on this machine")

CPU_LOOP = """
import time
def spin(limit=8.0):
    # Pure-Python CPU work; the limit only guards against a child outliving its test.
    t = time.monotonic(); x = 0
    while time.monotonic() - t < limit:
        x += 1
"""


def spawn(code: str) -> tuple[subprocess.Popen, list[str]]:
    """Start ``python -c code``; it prints one line ("go ...") once it is set up."""
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                             stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline().split()
    assert line and line[0] == "go", "the child did not start"
    return child, line[1:]


def end(child: subprocess.Popen) -> None:
    child.kill()
    child.wait(5)
    child.stdout.close()


def watch(code: str, seconds: float = 1.3, until: str | None = None
          ) -> tuple[Snapshot, subprocess.Popen, list[str]]:
    """Probe a child for ``seconds``; or, with ``until``, until it prints that line (or
    closes its output: "EOF"), then 0.3 s more."""
    child, words = spawn(code)
    try:
        probe = ThreadTimeProbe(child.pid).start()
        if until is None:
            time.sleep(seconds)
        else:
            while True:
                line = child.stdout.readline()
                if not line or line.strip() == until:
                    break
            time.sleep(0.3)
        snap = probe.stop()
    finally:
        end(child)
    assert snap.available, snap.reason
    return snap, child, words


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def fds_into(path: str) -> list[str]:
    """This process's open files under ``path`` (exact, whatever else the test session
    opens or closes meanwhile in other threads)."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith(path):
            out.append(target)
    return out


def check_consistent(snap: Snapshot) -> None:
    """Every thread's time adds up to about the wall time it was watched."""
    for th in snap.threads:
        t = th.total
        assert min(t.running_s, t.core_wait_s, t.lock_wait_s, t.io_wait_s) >= 0
        if snap.lock_split:
            assert t.off_cpu_s == pytest.approx(t.lock_wait_s + t.io_wait_s, abs=1e-9)
        if th.alive:
            assert t.total_s == pytest.approx(th.covered_s, abs=0.05)
            assert th.covered_s <= snap.wall_s + 0.05


# ---- real processes ---------------------------------------------------------------------

@real_proc
@known_futex
def test_gil_bound_threads_wait_on_the_lock():
    snap, child, _ = watch(CPU_LOOP + """
import threading
threads = [threading.Thread(target=spin) for _ in range(4)]
for t in threads:
    t.start()
print("go", flush=True)
for t in threads:
    t.join()
""")
    shares = snap.total.shares()
    t = snap.total
    assert snap.threads_seen == 5 and snap.processes_live == 1
    assert snap.lock_split and not snap.sampled
    # One thread runs Python at a time: the others (and main, in join) wait on a futex.
    # So about one core's worth wants a CPU: running, or queued when the machine is busy.
    # (Waiters woken by the GIL's 5 ms timeout queue too, so "wants" may exceed one.)
    wants = (t.running_s + t.core_wait_s) / snap.wall_s
    assert wants >= 0.5, wants
    assert 0.2 <= snap.cores <= 1.5, snap.cores
    assert shares["io_wait"] < 0.1, shares
    # On a quiet machine the lock is most of the time (~80%). On a busy one waiting for
    # a core takes a share, but of the time not queued for a core the lock is most.
    assert shares["lock_wait"] >= 0.25, shares
    assert t.lock_wait_s >= 0.6 * (t.total_s - t.core_wait_s), shares
    assert snap.wall_s == pytest.approx(1.3, abs=0.4)
    assert snap.total.total_s == pytest.approx(5 * snap.wall_s, rel=0.1)
    assert sum(snap.states_now.values()) == 5
    proc = snap.process(child.pid)
    assert proc is not None and proc.total == snap.total
    check_consistent(snap)


@real_proc
def test_sleeping_threads_wait_on_io():
    snap, child, _ = watch("""
import threading, time
threads = [threading.Thread(target=time.sleep, args=(8,), daemon=True) for _ in range(3)]
for t in threads:
    t.start()
print("go", flush=True)
time.sleep(8)
""")
    shares = snap.total.shares()
    assert snap.threads_seen == 4
    assert snap.cores < 0.1, snap.cores
    if snap.lock_split:
        assert shares["io_wait"] >= 0.8, shares
        assert snap.states_now["io_wait"] == 4
    assert shares["off_cpu"] >= 0.8, shares
    check_consistent(snap)


@real_proc
def test_processes_wait_for_a_core():
    cores = len(os.sched_getaffinity(0))
    n = min(16, max(4, 2 * cores))  # twice as many CPU-bound processes as cores
    snap, child, _ = watch(CPU_LOOP + f"""
import multiprocessing
if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=spin, daemon=True) for _ in range({n})]
    for p in procs:
        p.start()
    print("go", flush=True)
    for p in procs:
        p.join()
""")
    shares = snap.total.shares()
    assert snap.processes_live == n + 1, snap.processes_live
    assert len(snap.processes) == n + 1
    # Each worker gets about half a core: the other half it waits in the run queue.
    assert 0.1 <= snap.cores <= cores + 0.2, snap.cores  # (less when the machine is busy)
    assert shares["core_wait"] >= 0.15, shares
    assert shares["lock_wait"] < 0.1, shares
    workers = [p for p in snap.processes if p.pid != child.pid]
    assert all(p.total.running_s > 0 for p in workers)
    assert all(p.threads_seen == 1 for p in workers)
    check_consistent(snap)


@real_proc
def test_a_thread_that_ends_keeps_its_time():
    snap, child, words = watch("""
import threading, time
def burn():
    print("go", threading.get_native_id(), flush=True)
    while time.thread_time() < 0.35:   # 0.35 s on a CPU, then it ends
        pass
t = threading.Thread(target=burn)
t.start()
t.join()
print("ended", flush=True)
time.sleep(8)
""", until="ended")
    tid = int(words[0])
    th = snap.thread(child.pid, tid)
    assert th is not None and not th.alive
    assert th.total.running_s >= 0.25, th
    assert snap.threads_seen == 2 and snap.threads_live == 1
    assert snap.total.running_s >= th.total.running_s
    main = snap.thread(child.pid, child.pid)
    assert main is not None and main.alive


@real_proc
def test_a_tree_that_ends_keeps_its_time():
    snap, child, _ = watch("""
import time
print("go", flush=True)
while time.process_time() < 0.3:   # 0.3 s on a CPU, then it ends
    pass
""", until="EOF")
    assert snap.available  # its end is no error
    assert snap.threads_live == 0 and snap.processes_live == 0
    assert snap.threads_seen == 1
    assert snap.total.running_s >= 0.2
    assert not snap.threads[0].alive


@real_proc
def test_a_root_reaped_before_it_was_read_again_counts_from_its_rusage():
    # A runner that ends within the probe's first tick (a tiny run) took all it ran with
    # it; the caller, who reaped it, knows how much. No background ticks: deterministic.
    def run(pass_rusage):
        child = subprocess.Popen([sys.executable, "-c", "import time\n"
                                  "while time.process_time() < 0.15: pass"])
        probe = ThreadTimeProbe(child.pid).start(background=False)
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0
        cpu = usage.ru_utime + usage.ru_stime
        return cpu, probe.stop(cpu if pass_rusage else None)

    cpu, snap = run(True)
    assert snap.total.running_s == pytest.approx(cpu, abs=0.005)
    assert len(snap.threads) == 1 and snap.threads[0].total.running_s == snap.total.running_s
    assert snap.process(snap.threads[0].pid).total.running_s == snap.total.running_s
    _, unread = run(False)
    assert unread.total.running_s == 0.0  # what the fix is for


@real_proc
def test_short_lived_threads_are_seen():
    # A thread every 0.15 s, each living 0.3 s: a search of the tree every 0.5 s alone
    # would miss about half of them.
    snap, child, _ = watch("""
import threading, time
print("go", flush=True)
threads = []
for _ in range(10):
    threads.append(threading.Thread(target=time.sleep, args=(0.3,)))
    threads[-1].start()
    time.sleep(0.15)
for t in threads:
    t.join()
print("ended", flush=True)
time.sleep(8)
""", until="ended")
    assert snap.threads_seen >= 9, snap.threads_seen  # main and 8 of the 10, at least
    assert snap.threads_live == 1
    ended = [t for t in snap.threads if not t.alive]
    assert all(t.total.total_s > 0.1 for t in ended), ended
    if snap.lock_split:
        assert all(t.total.io_wait_s >= 0.8 * t.total.total_s for t in ended), ended


@real_proc
def test_stop_closes_every_file_and_ends_the_thread():
    child, _ = spawn("""
import threading, time
for _ in range(20):
    threading.Thread(target=time.sleep, args=(8,), daemon=True).start()
print("go", flush=True)
time.sleep(8)
""")
    try:
        before = fd_count()
        probe = ThreadTimeProbe(child.pid, hz=50).start()
        time.sleep(0.3)
        assert probe.open_files >= 21  # files stay open between readings
        assert fd_count() >= before + 21
        assert any(t.name == "threadtime" for t in threading.enumerate())
        probe.stop()
        assert fds_into(f"/proc/{child.pid}/") == []
        assert probe.open_files == 0
        assert not any(t.name == "threadtime" for t in threading.enumerate())
        probe.stop()  # twice is harmless
        assert probe.snapshot().threads_seen == 21
    finally:
        end(child)


def test_snapshot_before_start_says_so():
    snap = ThreadTimeProbe(1).snapshot()
    assert not snap.available and snap.reason == "not started"


# ---- a fake /proc -----------------------------------------------------------------------

ROOT = 4242


def fake_proc(tmp_path, tids, schedstat=True):
    """A /proc with one process ``ROOT`` and the given threads, all in futex waits."""
    proc = tmp_path / "proc"
    (proc / str(ROOT)).mkdir(parents=True)
    (proc / str(ROOT) / "stat").write_text(f"{ROOT} (py thon) S 1 {ROOT} 1 0\n")
    for tid in tids:
        d = proc / str(ROOT) / "task" / str(tid)
        d.mkdir(parents=True)
        if schedstat:
            (d / "schedstat").write_text("0 0 0\n")
        (d / "syscall").write_text("202 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8\n")
    return proc


class FakeClock:
    def __init__(self):
        self.ns = 1_000_000_000

    def __call__(self):
        return self.ns

    def advance(self, seconds):
        self.ns += int(seconds * 1e9)


def test_no_proc_or_no_schedstat_is_unavailable(tmp_path):
    snap = ThreadTimeProbe(ROOT, proc=str(tmp_path / "nothing")).start().snapshot()
    assert not snap.available and "/proc" in snap.reason

    proc = fake_proc(tmp_path, [ROOT], schedstat=False)
    probe = ThreadTimeProbe(ROOT, proc=str(proc), machine="x86_64").start()
    snap = probe.snapshot()
    assert not snap.available and "schedstat" in snap.reason
    assert probe.open_files == 0
    probe.tick()  # does nothing, raises nothing
    assert probe.stop().reason == snap.reason  # said once, and it stands

    snap = ThreadTimeProbe(ROOT + 1, proc=str(proc)).start().snapshot()
    assert not snap.available and "not found" in snap.reason


def _ticks(probe, clock, n):
    """``n`` ticks of the probe, 50 ms of its clock apart."""
    for _ in range(n):
        clock.advance(0.05)
        probe.tick()


def _set(proc, tid, name, text):
    # Rewrite in place: the probe holds the file open, as it would a /proc file.
    with open(proc / str(ROOT) / "task" / str(tid) / name, "r+") as f:
        f.write(text)
        f.truncate()


@pytest.mark.parametrize("machine", ["x86_64", "vax"])
def test_off_cpu_time_is_split_by_the_syscall_samples(tmp_path, machine):
    proc = fake_proc(tmp_path, [ROOT])
    clock = FakeClock()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, proc=str(proc), machine=machine,
                            clock=clock)
    probe.start(background=False)
    run = wait = 0
    for i in range(20):  # 1 s: each 50 ms tick, 30 ms on a CPU, 10 ms queued, 10 ms off
        clock.advance(0.05)
        run, wait = run + 30_000_000, wait + 10_000_000
        _set(proc, ROOT, "schedstat", f"{run} {wait} {i}\n")
        # Half the samples in a futex (202 on x86-64), half in clock_nanosleep.
        _set(proc, ROOT, "syscall", "202 0x1 0x2\n" if i % 2 else "230 0x1 0x2\n")
        probe.tick()
    snap = probe.stop()
    t = snap.thread(ROOT, ROOT).total
    assert snap.wall_s == pytest.approx(1.0)
    assert t.running_s == pytest.approx(0.6)
    assert t.core_wait_s == pytest.approx(0.2)
    assert t.off_cpu_s == pytest.approx(0.2)
    if machine == "x86_64":
        assert snap.lock_split and snap.notes == ()
        assert t.lock_wait_s == pytest.approx(0.1)
        assert t.io_wait_s == pytest.approx(0.1)
        assert snap.states_now == {"running": 1, "core_wait": 0, "lock_wait": 0, "io_wait": 0}
    else:  # no futex number known: off-CPU time is still there, just not split
        assert not snap.lock_split and "vax" in snap.notes[0]
        assert t.lock_wait_s == t.io_wait_s == 0.0
        assert snap.states_now[OFF_CPU] == 0 and snap.states_now["running"] == 1
    assert snap.total == t and snap.interval_s == pytest.approx(0.5)
    assert snap.last.running_s == pytest.approx(0.3)
    assert snap.cores == pytest.approx(0.6)


def test_a_wait_for_a_core_is_not_taken_for_time_off_cpu(tmp_path):
    # schedstat adds a run-queue wait only when the thread gets a CPU: until then the
    # wait looks like time off a CPU. While samples say "running" it must not count.
    proc = fake_proc(tmp_path, [ROOT])
    clock = FakeClock()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, proc=str(proc), machine="x86_64",
                            clock=clock)
    probe.start(background=False)
    _set(proc, ROOT, "syscall", "running\n")
    run = wait = 0
    for i in range(1, 21):  # two intervals
        clock.advance(0.05)
        run += 10_000_000  # 10 ms a tick on a CPU
        if i in (9, 19):
            wait += 400_000_000  # the waits for a core arrive, late
        _set(proc, ROOT, "schedstat", f"{run} {wait} {i}\n")
        probe.tick()
    snap = probe.snapshot()
    t = snap.thread(ROOT, ROOT)
    assert t.total.running_s == pytest.approx(0.2)
    assert t.total.core_wait_s == pytest.approx(0.8)
    assert t.total.off_cpu_s == pytest.approx(0.0, abs=1e-9)
    assert t.last == Times(0.1, 0.4, 0.0, 0.0, 0.0) and t.state == "core_wait"
    # Still waiting when the probe stops: no later reading can settle it, and a thread
    # that says "running" but is not on a CPU is waiting for one.
    clock.advance(0.3)
    run += 10_000_000
    _set(proc, ROOT, "schedstat", f"{run} {wait} 21\n")
    snap = probe.stop()
    t = snap.thread(ROOT, ROOT)
    assert t.total.core_wait_s == pytest.approx(1.09)
    assert t.total.off_cpu_s == pytest.approx(0.0, abs=1e-9)


def test_an_exited_thread_ends_without_a_zombie_wait(tmp_path):
    proc = fake_proc(tmp_path, [ROOT, ROOT + 1])
    clock = FakeClock()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, proc=str(proc), machine="x86_64",
                            clock=clock)
    probe.start(background=False)
    clock.advance(0.05)
    _set(proc, ROOT + 1, "schedstat", "50000000 0 1\n")
    _set(proc, ROOT + 1, "syscall", "running\n")
    probe.tick()
    # It exits and waits to be reaped: no user registers left.
    _set(proc, ROOT + 1, "syscall", "-1 0x0 0x0\n")
    _ticks(probe, clock, 9)
    snap = probe.stop()
    t = snap.thread(ROOT, ROOT + 1)
    assert not t.alive
    assert t.total == Times(0.05, 0.0, 0.0, 0.0, 0.0)
    assert snap.threads_live == 1 and snap.threads_seen == 2


def test_thousands_of_threads_are_sampled_in_turn(tmp_path):
    tids = [ROOT] + list(range(ROOT + 1, ROOT + 1000))
    proc = fake_proc(tmp_path, tids)
    clock = FakeClock()
    # Earlier tests may leave objects that hold files (a session's shared memory) for the
    # garbage collector, which this test's thousands of objects would set off midway.
    gc.collect()
    before = fd_count()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, max_threads=40, proc=str(proc),
                            machine="x86_64", clock=clock)
    probe.start(background=False)
    most = 0
    for _ in range(60):  # 3 s, six intervals
        clock.advance(0.05)
        probe.tick()
        most = max(most, fd_count() - before)
        assert probe.open_files <= 80
    assert most <= 80, most  # two files per thread of the window, never 2,000
    snap = probe.snapshot()
    assert snap.threads_seen == 1000 and snap.threads_live == 1000
    assert snap.sampled and 0 < snap.sampled_fraction < 0.1
    assert snap.last_sampled_fraction == pytest.approx(40 / 1000)
    # Every fake thread sits in a futex the whole time: the estimate scales the few
    # measured up to all of them, 1,000 threads x 3 s.
    assert snap.wall_s == pytest.approx(3.0)
    assert snap.total.lock_wait_s == pytest.approx(1000 * 3.0, rel=0.05)
    assert snap.last.lock_wait_s == pytest.approx(1000 * 0.5, rel=0.05)
    measured = sum(t.total.total_s for t in snap.threads)
    assert 0 < measured < snap.total.total_s / 10
    # The window moved on: six intervals read six different groups of 40.
    read = [t for t in snap.threads if t.covered_s > 0]
    assert len(read) >= 200
    assert snap.states_now["lock_wait"] == 40
    probe.stop()
    assert fds_into(str(proc)) == [] and probe.open_files == 0


def test_times_shares_and_state():
    t = Times(running_s=1.0, core_wait_s=0.5, lock_wait_s=2.0, io_wait_s=0.5, off_cpu_s=2.5)
    assert t.total_s == 4.0
    assert t.shares()["lock_wait"] == 0.5 and t.state == "lock_wait"
    assert Times().shares()["running"] == 0.0 and Times().state == ""
    assert Times(off_cpu_s=1.0).state == OFF_CPU
    assert futex_syscalls("x86_64") >= {202} and futex_syscalls("aarch64") >= {98}
    assert futex_syscalls("vax") is None


@real_proc
def test_a_probe_never_stopped_lets_go_of_its_files_when_the_tree_ends():
    before = fd_count()
    child, _ = spawn(CPU_LOOP + """
import threading
threads = [threading.Thread(target=spin, args=(0.6,)) for _ in range(3)]
for t in threads:
    t.start()
print("go", flush=True)
for t in threads:
    t.join()
""")
    probe = ThreadTimeProbe(child.pid).start()
    child.wait(30)  # the whole tree ends; nobody calls stop()
    child.stdout.close()
    deadline = time.monotonic() + 10
    while probe.open_files and time.monotonic() < deadline:
        time.sleep(0.05)
    assert probe.open_files == 0 and fd_count() <= before
    snap = probe.stop()  # still has the run's figures
    assert snap.available and snap.total.total_s > 0


def test_threads_are_listed_again_only_when_their_count_moves(tmp_path, monkeypatch):
    # Listing a task directory costs 25-200 us at 80 threads, ten times a second; its
    # link count (2 + threads, on procfs as in this fake tree) costs under 1 us.
    proc = fake_proc(tmp_path, [ROOT, ROOT + 1])
    if os.stat(proc / str(ROOT) / "task").st_nlink != 4:
        pytest.skip("this filesystem does not count a directory's links")
    listed = []
    real = os.listdir
    monkeypatch.setattr(threadtime.os, "listdir",
                        lambda p: listed.append(p) or real(p))
    clock = FakeClock()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, proc=str(proc), machine="x86_64",
                            clock=clock)
    probe.start(background=False)
    listed.clear()
    _ticks(probe, clock, 5)  # within one interval: no tree search, and nothing changed
    assert not [p for p in listed if p.endswith("/task")], listed
    d = proc / str(ROOT) / "task" / str(ROOT + 2)  # a thread begins
    d.mkdir()
    (d / "schedstat").write_text("0 0 0\n")
    (d / "syscall").write_text("202 0x1\n")
    clock.advance(0.05)
    probe.tick()
    assert [p for p in listed if p.endswith("/task")]
    assert probe.open_files == 6  # found at once, read from this tick on
    probe.stop()


def test_the_window_shrinks_while_the_probe_costs_too_much(tmp_path):
    proc = fake_proc(tmp_path, [ROOT])
    probe = ThreadTimeProbe(ROOT, max_threads=128, proc=str(proc), machine="x86_64")
    probe._adaptive = True  # as on its own thread, where it measures its own CPU
    probe._cpu_s += 0.025
    probe._adapt(0.5)  # reading every thread (not sampling): the window stays whole
    assert probe._cap == 128
    probe._sampling = True  # more live threads than the window: the window may shrink
    caps = []
    for _ in range(12):  # 5% of a core, each 0.5 s interval
        probe._cpu_s += 0.025
        probe._adapt(0.5)
        caps.append(probe._cap)
    assert caps == sorted(caps, reverse=True) and caps[-1] == threadtime.MIN_WINDOW
    for _ in range(30):  # then next to nothing: back to the whole window
        probe._cpu_s += 0.0005
        probe._adapt(0.5)
    assert probe._cap == 128


def _stat_line(pid, utime=0, cutime=0):
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    # utime stime cutime cstime ... (clock ticks)
    return f"{pid} (py thon) S 1 {pid} {pid} 0 -1 0 0 0 0 0 {utime} 0 {cutime} 0 20 0 1 0\n"


def _write(path, text):
    with open(path, "r+" if os.path.exists(path) else "w") as f:
        f.write(text)
        f.truncate()


def test_what_a_thread_ran_after_its_last_reading_comes_back_from_its_process(tmp_path):
    # A thread that ends takes what it ran since its last reading with it; its process's
    # utime + stime keep it (ended threads included), and the probe gives it back.
    tick = os.sysconf("SC_CLK_TCK")
    proc = fake_proc(tmp_path, [ROOT, ROOT + 1])
    if os.stat(proc / str(ROOT) / "task").st_nlink != 4:
        pytest.skip("this filesystem does not count a directory's links")
    stat = proc / str(ROOT) / "stat"
    _write(stat, _stat_line(ROOT))
    clock = FakeClock()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, proc=str(proc), machine="x86_64",
                            clock=clock)
    probe.start(background=False)
    for i in range(1, 11):  # 0.5 s: the thread runs 20 ms a tick, and is read
        clock.advance(0.05)
        _set(proc, ROOT + 1, "schedstat", f"{i * 20_000_000} 0 {i}\n")
        _set(proc, ROOT + 1, "syscall", "running\n")
        _write(stat, _stat_line(ROOT, utime=round(i * 0.02 * tick)))
        probe.tick()
    # It runs 0.3 s more, unread, and ends.
    _write(stat, _stat_line(ROOT, utime=round(0.5 * tick)))
    for name in ("schedstat", "syscall"):
        os.unlink(proc / str(ROOT) / "task" / str(ROOT + 1) / name)
    os.rmdir(proc / str(ROOT) / "task" / str(ROOT + 1))
    _ticks(probe, clock, 10)
    snap = probe.stop()
    t = snap.thread(ROOT, ROOT + 1)
    assert not t.alive
    assert t.total.running_s == pytest.approx(0.5, abs=2 / tick)
    assert snap.total.running_s == pytest.approx(0.5, abs=2 / tick)


def test_what_a_reaped_worker_ran_unseen_comes_back_from_its_parent(tmp_path):
    # A worker process that ends and is reaped between two readings: its parent's
    # cutime + cstime hold all its time.
    tick = os.sysconf("SC_CLK_TCK")
    kid = ROOT + 100
    proc = fake_proc(tmp_path, [ROOT])
    root_stat = proc / str(ROOT) / "stat"
    _write(root_stat, _stat_line(ROOT))
    children = proc / str(ROOT) / "task" / str(ROOT) / "children"
    children.write_text("")
    clock = FakeClock()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, proc=str(proc), machine="x86_64",
                            clock=clock)
    probe.start(background=False)
    # A worker starts: found at the next tick through the root's children file.
    d = proc / str(kid) / "task" / str(kid)
    d.mkdir(parents=True)
    (proc / str(kid) / "stat").write_text(_stat_line(kid))
    (d / "schedstat").write_text("0 0 0\n")
    (d / "syscall").write_text("running\n")
    (d / "children").write_text("")
    _write(children, f"{kid} ")
    for i in range(1, 11):  # it runs 20 ms a tick, read
        clock.advance(0.05)
        _set_path = d / "schedstat"
        _write(_set_path, f"{i * 20_000_000} 0 {i}\n")
        probe.tick()
    assert probe.snapshot().thread(kid, kid) is not None
    # 0.3 s more unread, then it ends and is reaped: its parent counts 0.5 s.
    _write(children, "")
    _write(root_stat, _stat_line(ROOT, cutime=round(0.5 * tick)))
    for name in ("schedstat", "syscall", "children"):
        os.unlink(d / name)
    os.rmdir(d)
    os.rmdir(proc / str(kid) / "task")
    os.unlink(proc / str(kid) / "stat")
    os.rmdir(proc / str(kid))
    _ticks(probe, clock, 20)
    snap = probe.stop()
    assert snap.process(kid) is not None and not snap.process(kid).alive
    assert snap.process(kid).total.running_s == pytest.approx(0.5, abs=2 / tick)
    assert snap.thread(kid, kid).total.running_s == pytest.approx(0.5, abs=2 / tick)


def test_the_tree_is_searched_again_only_when_the_machine_moved(tmp_path):
    # A search of a thousand sleeping workers finds nothing new and was a third of the
    # probe's cost: while no process or thread began or was reaped anywhere (the counters
    # in /proc/loadavg), due searches are let pass, up to SEARCH_AT_LEAST of them.
    from conc_tui.monitor import threadtime

    proc = fake_proc(tmp_path, [ROOT])
    loadavg = proc / "loadavg"
    loadavg.write_text("0.00 0.00 0.00 1/100 5000\n")
    clock = FakeClock()
    probe = ThreadTimeProbe(ROOT, hz=20, interval=0.5, proc=str(proc), machine="x86_64",
                            clock=clock)
    probe.start(background=False)
    searches = []
    real = probe._discover
    probe._discover = lambda now, first=False: searches.append(now) or real(now, first)
    _ticks(probe, clock, 10 * 4)  # 4 intervals: a search would be due by now
    assert searches == []
    loadavg.write_text("0.00 0.00 0.00 1/101 5001\n")  # a thread began somewhere
    _ticks(probe, clock, 10)
    assert len(searches) == 1
    # Unmoved, a due search waits SEARCH_AT_LEAST intervals at most.
    _ticks(probe, clock, 10 * (threadtime.SEARCH_AT_LEAST + 8))
    assert len(searches) == 2
    probe.stop()

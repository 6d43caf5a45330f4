"""Where the time of a run's threads goes: the probe beside independent readings, and what
the probe itself costs.

1. For threads/cpu, processes/cpu and threads/io (80 tasks each) it runs the real runner
   through the monitor's Controller, which attaches the thread-time probe to the runner as
   the app and `conc-tui run` do (with its history), and beside it:

     reader  a separate process with its own, plainer method: psutil finds the threads,
             each thread's schedstat is read (open/read, no pread) at its first and last
             sighting, and its state letter and wchan are sampled at 10 Hz over the whole
             run; a thread's off-CPU time is split by its futex share of the sleeping
             samples (wchan "futex*"), once, over its whole life.
     perf    (root with perf installed; --no-perf to skip) `perf sched record` of the
             whole machine, summed per thread of the run by `perf sched timehist`: run
             time, scheduling delay (= core wait) and wait time (= off CPU) straight from
             the scheduler's tracepoints. It cannot tell a lock from other waits.

   It prints each state's share of the thread time, cores = running s / wall s, and the
   run's verdict (what the app, the summary and the JSON say).

2. The probe's own CPU (its thread's CPU time over wall time, with default settings, and
   the history the app keeps, as a run has them) while it watches a child with 80, 1,000
   and 10,000 sleeping threads.

3. Finding the runner's worker processes: the children files of every thread of the tree
   against a scan of every /proc/PID/stat against psutil's children(recursive=True).

Run it on a quiet machine; every reading here sees the whole machine's load.

    python benchmarks/thread_states.py [--tasks 80] [--n 300] [--no-perf] [--quick]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

STATES = ("running", "core_wait", "lock_wait", "io_wait")


# ---- the independent reader (runs as its own process: --reader PID) ----------------------

def reader_main(root: int) -> None:
    """Follow ``root``'s tree until it ends (or SIGTERM); print the totals as JSON."""
    import psutil

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    tck = os.sysconf("SC_CLK_TCK")
    mono_to_boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.monotonic_ns()
    t0 = time.monotonic_ns()
    first, last = {}, {}
    samples = collections.defaultdict(lambda: [0, 0])  # futex, other (sleeping samples)
    try:
        top = psutil.Process(root)
    except psutil.Error:
        print(json.dumps({"error": "root gone"}))
        return
    first_pass = True
    while not stopping:
        try:
            procs = [top] + top.children(recursive=True)
        except psutil.Error:
            break  # the runner has ended
        for proc in procs:
            try:
                tids = [t.id for t in proc.threads()]
            except psutil.Error:
                continue
            for tid in tids:
                base = f"/proc/{proc.pid}/task/{tid}"
                try:
                    with open(f"{base}/schedstat") as f:
                        run, wait = (int(x) for x in f.read().split()[:2])
                    now = time.monotonic_ns()
                    with open(f"{base}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    with open(f"{base}/wchan") as f:
                        wchan = f.read()
                except (OSError, IndexError, ValueError):
                    continue
                state = fields[0]
                if state in ("Z", "X"):
                    continue  # ended; its last sighting stands
                key = (proc.pid, tid)
                if key not in first:
                    if first_pass:
                        first[key] = (run, wait, now)
                    else:  # born during the run: count from its birth
                        born = int(fields[19]) * 1_000_000_000 // tck - mono_to_boot
                        first[key] = (0, 0, max(t0, min(born, now - run - wait)))
                last[key] = (run, wait, now)
                if state != "R":
                    samples[key][0 if "futex" in wchan else 1] += 1
        first_pass = False
        time.sleep(0.1)
    tot = dict.fromkeys(STATES, 0.0)
    for key, (run1, wait1, t1) in last.items():
        run0, wait0, t_0 = first[key]
        run, wait = (run1 - run0) / 1e9, (wait1 - wait0) / 1e9
        off = max(0.0, (t1 - t_0) / 1e9 - run - wait)
        futex, other = samples[key]
        lock = off * futex / (futex + other) if futex + other else 0.0
        tot["running"] += run
        tot["core_wait"] += wait
        tot["lock_wait"] += lock
        tot["io_wait"] += off - lock
    ends = [t for *_, t in last.values()]
    wall = (max(ends) - t0) / 1e9 if ends else 0.0
    print(json.dumps({"totals": tot, "wall_s": wall, "threads": len(last)}))


# ---- perf sched ---------------------------------------------------------------------------

def perf_start(path: str):
    if not shutil.which("perf") or os.geteuid() != 0:
        return None
    proc = subprocess.Popen(["perf", "sched", "record", "-a", "-o", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # perf takes a moment to set up its buffers
    if proc.poll() is not None:
        return None
    return proc


_TIMEHIST = re.compile(
    r"\[(\d+)(?:/\d+)?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\S)\s*$")


def perf_totals(proc, path: str, tids: set[int]) -> dict | None:
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    try:
        out = subprocess.run(["perf", "sched", "timehist", "--state", "-i", path],
                             capture_output=True, text=True, timeout=300).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    # One line per slice on a CPU: "wait time" is the whole time off a CPU before it (from
    # switch-out to switch-in), "sch delay" the part of it from wake-up to switch-in, and
    # the state is the one the thread left this slice in, i.e. the state of the *next*
    # line's wait. Preempted (R): all of the wait was for a core.
    tot = {"running": 0.0, "core_wait": 0.0, "off_cpu": 0.0}
    prev_state: dict[int, str] = {}
    for line in out.splitlines():
        m = _TIMEHIST.search(line)
        if not m or int(m.group(1)) not in tids:
            continue
        tid = int(m.group(1))
        wait, delay, run = (float(x) / 1e3 for x in m.group(2, 3, 4))
        tot["running"] += run
        if prev_state.get(tid) == "R":
            tot["core_wait"] += max(wait, delay)
        else:
            tot["core_wait"] += delay
            tot["off_cpu"] += max(0.0, wait - delay)
        prev_state[tid] = m.group(5)
    return tot


# ---- part 1: three runs --------------------------------------------------------------------

def shares(tot: dict) -> dict:
    total = sum(tot.values())
    return {k: (v / total if total else 0.0) for k, v in tot.items()}


def discovery_costs(probe, root: int, reps: int = 5) -> dict:
    """Mean ms (CPU of this thread) of three ways to find the tree's processes."""
    import psutil

    def timed(fn):
        c0 = time.thread_time()
        for _ in range(reps):
            found = fn()
        return 1e3 * (time.thread_time() - c0) / reps, len(found or ())

    top = psutil.Process(root)
    return {
        "children files": timed(lambda: probe._tree_by_children(10 ** 9)),
        "/proc/*/stat scan": timed(probe._tree_by_scan),
        "psutil children()": timed(lambda: [top] + top.children(recursive=True)),
    }


def one_run(mode: str, workload: str, tasks: int, n: int, sleep: float, use_perf: bool,
            tmp: str) -> dict:
    from conc_tui.monitor import Controller, RunConfig

    perf_path = os.path.join(tmp, f"perf-{mode}-{workload}.data")
    perf = perf_start(perf_path) if use_perf else None
    ctl = Controller()
    session = ctl.run(RunConfig(mode=mode, workload=workload, tasks=tasks, n=n, sleep=sleep))
    watch = ctl.watch
    probe = watch.probe
    reader = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--reader",
                               str(session.runner_pid)], stdout=subprocess.PIPE, text=True)
    disc, mid = None, None
    t0 = time.monotonic()
    try:
        while ctl.busy:
            ctl.poll(0.1)
            if disc is None and time.monotonic() - t0 > 1.5 and ctl.busy:
                mid = probe.snapshot()
                disc = discovery_costs(probe, session.runner_pid)
    finally:
        ctl.shutdown()
    snap = watch.stop()
    try:
        out, _ = reader.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        reader.terminate()
        out, _ = reader.communicate()
    ref = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    tids = {t.tid for t in snap.threads}
    perf_tot = perf_totals(perf, perf_path, tids) if perf else None
    result = ctl.results[-1]
    return {"mode": mode, "workload": workload, "snap": snap, "mid": mid, "ref": ref,
            "perf": perf_tot, "disc": disc, "wall_s": result.wall_s,
            "parallelism": result.parallelism, "verdict": result.verdict.text}


def print_runs(runs: list[dict]) -> None:
    print("\n1. Share of thread time by state, probe vs independent readings "
          "(cores = running s / wall s)")
    head = f"{'run':<16} {'source':<8} {'running':>8} {'core wt':>8} {'lock wt':>8} " \
           f"{'io wt':>8} {'off cpu':>8} {'cores':>6} {'threads':>7}"
    print(head)
    print("-" * len(head))
    for r in runs:
        name = f"{r['mode']}/{r['workload']}"
        s = r["snap"]
        sh = s.total.shares()
        print(f"{name:<16} {'probe':<8} {sh['running']:>8.3f} {sh['core_wait']:>8.3f} "
              f"{sh['lock_wait']:>8.3f} {sh['io_wait']:>8.3f} {sh['off_cpu']:>8.3f} "
              f"{s.cores:>6.2f} {s.threads_seen:>7}")
        if r["ref"].get("totals"):
            t = r["ref"]["totals"]
            sh = shares(t)
            off = sh["lock_wait"] + sh["io_wait"]
            cores = t["running"] / r["ref"]["wall_s"] if r["ref"]["wall_s"] else 0.0
            print(f"{'':<16} {'reader':<8} {sh['running']:>8.3f} {sh['core_wait']:>8.3f} "
                  f"{sh['lock_wait']:>8.3f} {sh['io_wait']:>8.3f} {off:>8.3f} {cores:>6.2f} "
                  f"{r['ref']['threads']:>7}")
        if r["perf"]:
            sh = shares(r["perf"])
            cores = r["perf"]["running"] / r["wall_s"] if r["wall_s"] else 0.0
            print(f"{'':<16} {'perf':<8} {sh['running']:>8.3f} {sh['core_wait']:>8.3f} "
                  f"{'-':>8} {'-':>8} {sh['off_cpu']:>8.3f} {cores:>6.2f} {'':>7}")
        print(f"{'':<16} {'run':<8} wall {r['wall_s']:.2f} s, conc-tui's parallelism "
              f"{r['parallelism']:.2f}; probe CPU {100 * s.probe_cpu_s / s.wall_s:.2f}% "
              f"of a core" + (", sampled" if s.sampled else ""))
        print(f"{'':<16} {'verdict':<8} {r['verdict']}")
        if r["mid"] is not None:
            m = r["mid"]
            now = ", ".join(f"{k} {v}" for k, v in m.states_now.items())
            print(f"{'':<16} {'live':<8} at {m.wall_s:.1f} s: {now}")


# ---- part 2: the probe's own cost -------------------------------------------------------

SLEEPERS = """
import sys, threading, time
threading.stack_size(65536)
for _ in range(int(sys.argv[1]) - 1):
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
print("go", flush=True)
time.sleep(3600)
"""


def probe_cost(n: int, seconds: float) -> dict:
    from conc_tui.monitor.threadwatch import ThreadWatch

    child = subprocess.Popen([sys.executable, "-c", SLEEPERS, str(n)],
                             stdout=subprocess.PIPE, text=True)
    try:
        child.stdout.readline()
        c0 = time.thread_time()
        watch = ThreadWatch(child.pid).start()  # the probe, and the history kept from it
        probe = watch.probe
        start_ms = 1e3 * (time.thread_time() - c0)
        most = 0
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            time.sleep(0.25)
            most = max(most, probe.open_files)
        snap = probe.snapshot()
        probe.stop()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    return {"n": n, "cpu_pct": 100 * snap.probe_cpu_s / snap.wall_s, "start_ms": start_ms,
            "files": most, "seen": snap.threads_seen, "sampled": snap.sampled,
            "fraction": snap.sampled_fraction,
            "io_per_s": snap.total.io_wait_s / snap.wall_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--tasks", type=int, default=80)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--sleep", type=float, default=2.0)
    ap.add_argument("--no-perf", action="store_true", help="skip perf sched")
    ap.add_argument("--quick", action="store_true", help="shorter cost measurements")
    args = ap.parse_args()
    if args.reader:
        reader_main(args.reader)
        return

    import psutil

    print(f"# {platform.node()} · {len(os.sched_getaffinity(0))} cores · "
          f"Python {platform.python_version()} · {platform.machine()} · "
          f"load {os.getloadavg()[0]:.2f} · {args.tasks} tasks · n={args.n} · "
          f"sleep={args.sleep} s · psutil {psutil.__version__}")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode, workload in (("threads", "cpu"), ("processes", "cpu"), ("threads", "io")):
            runs.append(one_run(mode, workload, args.tasks, args.n, args.sleep,
                                not args.no_perf, tmp))
    print_runs(runs)

    seconds = 3.0 if args.quick else 8.0
    from conc_tui.monitor import threadtime as tt

    print(f"\n2. The probe's own CPU, watching a child of N sleeping threads for {seconds:g} s "
          f"(defaults: syscall {tt.DEFAULT_HZ:g} Hz, schedstat {tt.DEFAULT_SCHED_HZ:g} Hz, "
          f"window {tt.DEFAULT_MAX_THREADS})")
    print(f"{'threads':>8} {'CPU %':>7} {'start ms':>9} {'files':>6} {'sampled':>8} "
          f"{'covered':>8} {'io thread-s/s':>14}")
    for n in (80, 1000, 10000):
        c = probe_cost(n, seconds)
        print(f"{c['n']:>8} {c['cpu_pct']:>7.2f} {c['start_ms']:>9.1f} {c['files']:>6} "
              f"{str(c['sampled']):>8} {c['fraction']:>8.3f} {c['io_per_s']:>14.0f}")

    print("\n3. Finding the tree's processes, mid-run (ms of CPU per search, processes found)")
    for r in runs:
        if r["disc"]:
            cells = "   ".join(f"{k} {ms:.2f} ms ({found})" for k, (ms, found) in
                               r["disc"].items())
            print(f"{r['mode'] + '/' + r['workload']:<16} {cells}")


if __name__ == "__main__":
    main()

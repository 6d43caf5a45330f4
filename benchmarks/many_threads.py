"""Thousands of threads that sleep and end together: does the runner add to their wall time?

    .venv/bin/python benchmarks/many_threads.py [--tasks 10000] [--sleep 20] [--repeat 2]

Runs ``conc-tui run --mode threads --workload io --tasks N --sleep S -q`` (the headless CLI,
its thread-time probe included) and reports each run's wall time against the sleep, and
the CPU of the whole command (user and system, from the kernel's accounting of the
children). A plain Python script starting the same threads ends in about S + 2 s; so
should conc-tui. (Before the runner wrote events one at a time in a process, 10,000 threads
ending together contended for the event pipe in the kernel: 38-87 s for a 20 s sleep.)
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--sleep", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    conc_tui = os.path.join(os.path.dirname(sys.executable), "conc-tui")
    argv = [conc_tui, "run", "--mode", "threads", "--workload", "io", "--tasks",
            str(a.tasks), "--sleep", str(a.sleep), "-q"]
    print(f"# {os.cpu_count()} cores · load avg {os.getloadavg()[0]:.1f} · {' '.join(argv[1:])}")
    print(f"{'run':>4} {'wall s':>8} {'over sleep':>10} {'user s':>7} {'sys s':>7}")
    for i in range(a.repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"{i + 1:>4} {wall:8.2f} {wall - a.sleep:10.2f} "
              f"{after.ru_utime - before.ru_utime:7.2f} {after.ru_stime - before.ru_stime:7.2f}",
              flush=True)


if __name__ == "__main__":
    main()

"""Overhead of `conc-tui run` against the bare article script, mode by mode.

In one run, alternating which goes first, it times the whole command (process start to
exit, as a user waits for it) of

    .venv/bin/python benchmarks/article.py MODE TASKS N
    conc-tui run --mode MODE --tasks TASKS --n N --json FILE

and prints per mode the median wall time of each and their ratio. Both commands' CPU time
comes from the kernel (os.wait4 rusage of the whole process tree), and conc-tui's own
reported wall/CPU is set beside the external figures, so the table also shows whether what
conc-tui prints agrees with an independent measurement.

    .venv/bin/python benchmarks/overhead.py [--tasks 80] [--n 500] [--repeat 3] [--modes ...]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd):
    """Wall seconds and CPU seconds (user+sys of the command and everything it waited for)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd!r} failed ({proc.returncode}): {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=80)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", nargs="+", default=["sequential", "threads", "processes"])
    ap.add_argument("--conc-tui", default=os.path.join(os.path.dirname(sys.executable), "conc-tui"),
                    help="the conc-tui command to measure (default: beside this python)")
    args = ap.parse_args()

    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
          f"{args.tasks} tasks · n={args.n} · median of {args.repeat}", flush=True)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        for rep in range(args.repeat):
            for mode in args.modes:
                bare = [sys.executable, os.path.join(HERE, "article.py"), mode,
                        str(args.tasks), str(args.n)]
                tool = [args.conc_tui, "run", "--mode", mode, "--tasks", str(args.tasks),
                        "--n", str(args.n), "--json", out]
                order = [("bare", bare), ("tool", tool)]
                if rep % 2:
                    order.reverse()
                r = rows.setdefault(mode, {"bare": [], "tool": [], "bare_cpu": [],
                                           "tool_cpu": [], "rep_wall": [], "rep_cpu": []})
                for name, cmd in order:
                    wall, cpu = timed(cmd)
                    r[name].append(wall)
                    r[name + "_cpu"].append(cpu)
                    if name == "tool":
                        with open(out) as fh:
                            res = json.load(fh)
                        r["rep_wall"].append(res["wall_s"])
                        r["rep_cpu"].append(res["cpu_s"])
                    print(f"  run {rep + 1} {mode:<11} {name}: wall {wall:7.2f} s  cpu {cpu:7.2f} s",
                          flush=True)

    print()
    print(f"{'mode':<11} {'bare s':>8} {'conc-tui s':>11} {'ratio':>6}   "
          f"{'reported wall':>13} {'reported CPU':>12} {'kernel CPU':>10} {'CPU agree':>9}")
    worst = 0.0
    for mode, r in rows.items():
        b, t = statistics.median(r["bare"]), statistics.median(r["tool"])
        ratio = t / b
        worst = max(worst, ratio)
        rep_cpu, ker_cpu = statistics.median(r["rep_cpu"]), statistics.median(r["tool_cpu"])
        print(f"{mode:<11} {b:8.2f} {t:11.2f} {ratio:6.3f}   {statistics.median(r['rep_wall']):13.2f} "
              f"{rep_cpu:12.2f} {ker_cpu:10.2f} {rep_cpu / ker_cpu:9.3f}")
    print(f"\nworst ratio {worst:.3f} (target <= 1.03)")


if __name__ == "__main__":
    main()

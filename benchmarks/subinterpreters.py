"""Subinterpreters against threads and sequential, on each interpreter given.

    .venv/bin/python benchmarks/subinterpreters.py [--pythons 3.12 3.13] [--tasks 16]
        [--n 400] [--repeat 3]

Runs ``conc-tui run --json`` for sequential, threads and subinterpreters on each
interpreter, alternating, ``--repeat`` times, and prints the median wall time, CPU time
and effective parallelism of each, with the machine's load average before and after (run
it on a quiet machine: these are figures, not tests).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("sequential", "threads", "subinterpreters")


def conc_tui() -> list[str]:
    script = Path(sys.executable).parent / "conc-tui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "conc_tui"]


def one(python: str, mode: str, tasks: int, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        proc = subprocess.run(conc_tui() + ["run", "--quiet", "--mode", mode, "--python", python,
                                            "--tasks", str(tasks), "--n", str(n),
                                            "--json", out],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{mode} on {python}: exit {proc.returncode}: {proc.stderr.strip()}")
        return json.loads(Path(out).read_text())


def where_time_went(python: str, mode: str, tasks: int, n: int) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from conc_tui.monitor import RunConfig, Session, resolve_python
    from procstat import thread_schedstat

    exe = resolve_python(python)
    session = Session(RunConfig(mode=mode, workload="cpu", tasks=tasks, n=n, python=exe)).start()
    first: dict = {}
    last: dict = {}
    try:
        while not session.done:
            session.poll(0.05)
            now = time.monotonic()
            if session.runner_pid:
                for tid, v in thread_schedstat(session.runner_pid).items():
                    first.setdefault(tid, (now, v))
                    last[tid] = (now, v)
        result = session.result()
    finally:
        session.close()
    run = wait = span = 0.0
    for tid in {t.tid for t in result.task_results} & set(first):
        (t0, (r0, w0)), (t1, (r1, w1)) = first[tid], last[tid]
        run, wait, span = run + r1 - r0, wait + w1 - w0, span + t1 - t0
    if span <= 0:
        return f"{python:<8} {mode:<16} (too short to sample)"
    off = max(0.0, span - run - wait)
    return (f"{python:<8} {mode:<16} on a CPU {run / span:4.0%}   waiting for a CPU "
            f"{wait / span:4.0%}   off a CPU (a lock: the GIL) {off / span:4.0%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pythons", nargs="+", default=["3.12", "3.13"])
    ap.add_argument("--tasks", type=int, default=16)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    runs: dict = {}
    for _ in range(args.repeat):
        for python in args.pythons:
            for mode in MODES:
                runs.setdefault((python, mode), []).append(one(python, mode, args.tasks, args.n))
    print(f"{args.tasks} tasks x heavy({args.n}), median of {args.repeat}")
    print(f"{'python':<8} {'mode':<16} {'wall s':>7} {'CPU s':>7} {'parallel':>9} "
          f"{'range':>11}  version")
    for (python, mode), rs in runs.items():
        par = [r["parallelism"] for r in rs]
        print(f"{python:<8} {mode:<16} {statistics.median(r['wall_s'] for r in rs):7.2f} "
              f"{statistics.median(r['cpu_s'] for r in rs):7.2f} {statistics.median(par):9.2f} "
              f"{min(par):5.2f}-{max(par):<5.2f}  {rs[0]['python']['version']} "
              f"({rs[0]['cpu_count']} cores)")
    print(f"load average after: {os.getloadavg()}")
    if os.path.isdir("/proc/self/task"):
        print("where the worker threads' time went (schedstat, 20 Hz):")
        for python in args.pythons:
            for mode in MODES[1:]:
                print(where_time_went(python, mode, args.tasks, args.n))


if __name__ == "__main__":
    main()

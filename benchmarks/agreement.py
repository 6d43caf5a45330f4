"""Do conc-tui's figures agree with independent tools? (/usr/bin/time and mpstat)

For each mode it runs `conc-tui run --json` under GNU time while `mpstat 1` samples the
machine, then sets side by side:
  wall      conc-tui's wall_s            vs  time's elapsed (the whole command)
  CPU       conc-tui's cpu_s             vs  time's user+sys (the whole command)
  cores     conc-tui's parallelism       vs  mpstat's busy cores (sum of %usr+%sys+... / 100)
                                             averaged over the seconds the run covered
Needs /usr/bin/time (Debian: time) and mpstat (Debian: sysstat). Run it on a quiet machine:
mpstat sees everything that runs, not only conc-tui.

    .venv/bin/python benchmarks/agreement.py [--tasks 80] [--n 500] [--modes threads processes ...]
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=80)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--modes", nargs="+",
                    default=["sequential", "threads", "asyncio", "processes", "process-pool"])
    ap.add_argument("--conc-tui", default=os.path.join(os.path.dirname(sys.executable), "conc-tui"))
    args = ap.parse_args()
    for tool in ("/usr/bin/time", "mpstat"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (Debian packages: time, sysstat)")

    cores = len(os.sched_getaffinity(0))
    print(f"# {platform.node()} · {cores} cores · Python {platform.python_version()} · "
          f"{args.tasks} tasks · n={args.n}")
    print(f"{'mode':<13} {'wall':>6} {'time':>6} {'Δ%':>5}   {'CPU':>6} {'time':>6} {'Δ%':>5}"
          f"   {'cores':>5} {'mpstat':>6} {'Δ':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            out, tfile = os.path.join(tmp, "r.json"), os.path.join(tmp, "time.txt")
            mp = subprocess.Popen(["mpstat", "-u", "1"], stdout=subprocess.PIPE, text=True,
                                  env=dict(os.environ, LC_ALL="C", S_TIME_FORMAT="ISO"))
            samples = []
            time.sleep(1.5)
            t0 = time.monotonic()
            subprocess.run(["/usr/bin/time", "-f", "%e %U %S", "-o", tfile, args.conc_tui, "run",
                            "--mode", mode, "--tasks", str(args.tasks), "--n", str(args.n),
                            "--json", out], stdout=subprocess.DEVNULL, check=True)
            t_end = time.monotonic() - t0
            time.sleep(1.2)
            mp.terminate()
            text = mp.communicate()[0]
            # mpstat prints one line a second; we count them from its first sample line.
            lines = [ln.split() for ln in text.splitlines() if ln[:2].isdigit() and "all" in ln]
            # Its first data line is 1 s after it started; we started the run 1.5 s after it.
            for i, cols in enumerate(lines):
                idle = float(cols[-1])
                samples.append((i + 1 - 1.5, (100.0 - idle) / 100.0 * cores))
            with open(out) as fh:
                res = json.load(fh)
            with open(tfile) as fh:
                e, u, s = map(float, fh.read().split()[-3:])
            busy = [v for ts, v in samples if 1.0 <= ts <= t_end - 0.2]
            mcores = sum(busy) / len(busy) if busy else float("nan")
            print(f"{mode:<13} {res['wall_s']:6.2f} {e:6.2f} {100 * (e - res['wall_s']) / e:5.1f}"
                  f"   {res['cpu_s']:6.2f} {u + s:6.2f} {100 * (u + s - res['cpu_s']) / (u + s):5.1f}"
                  f"   {res['parallelism']:5.2f} {mcores:6.2f} {mcores - res['parallelism']:5.2f}",
                  flush=True)
    print("\nΔ% for wall and CPU includes starting conc-tui itself (~0.15 s), which its own"
          " figures leave out; mpstat counts the whole machine.")


if __name__ == "__main__":
    main()

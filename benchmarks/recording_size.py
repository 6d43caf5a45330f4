"""How big recordings get: the article's 80-thread run, and a 10,000-task run.

Runs ``conc-tui run --record`` for real (the sizes depend on how long the runs take, since
progress is written at most ten times a second), then reads each recording back and replays
its summary. Budgets: the article's run (~25 s) in at most 2 MB, 10,000 tasks in at most 20 MB.
"threads" is the part of the plain recording that is thread time (its ``threads`` lines).

    .venv/bin/python benchmarks/recording_size.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONC_TUI = str(Path(sys.executable).parent / "conc-tui")

RUNS = {
    "article: threads, cpu, 80 x heavy(500)": ["--mode", "threads", "--tasks", "80", "--n", "500"],
    "10,000 tasks: thread-pool, io 0.2 s, 500 workers": [
        "--mode", "thread-pool", "--workload", "io", "--tasks", "10000", "--sleep", "0.2",
        "--workers", "500"],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="n=200 instead of 500 for the article")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'run':52} {'wall s':>7} {'lines':>7} {'size':>9} {'threads':>9} "
              f"{'.gz size':>9}")
        for k, (name, argv) in enumerate(RUNS.items()):
            if args.quick:
                argv = [("200" if a == "500" else a) for a in argv]
            for suffix in ("jsonl", "jsonl.gz"):
                path = os.path.join(tmp, f"r{k}.{suffix}")
                t0 = time.monotonic()
                subprocess.run([CONC_TUI, "run", "-q", "--record", path, *argv], check=True,
                               stdout=subprocess.DEVNULL)
                wall = time.monotonic() - t0
                size = os.path.getsize(path)
                if suffix == "jsonl":
                    plain, lines = size, sum(1 for _ in open(path))
                    plain_wall = wall
                    # of which thread time (version 2): its "threads" lines
                    with open(path, "rb") as fh:
                        threads = sum(len(ln) for ln in fh if ln.startswith(b'{"type":"threads"'))
                else:
                    gz = size
                replay = subprocess.run([CONC_TUI, "replay", path, "--summary"],
                                        capture_output=True, text=True)
                assert replay.returncode == 0, replay.stderr
            print(f"{name:52} {plain_wall:7.1f} {lines:7d} {plain / 1e6:8.2f}M "
                  f"{threads / 1e6:8.2f}M {gz / 1e6:8.2f}M")


if __name__ == "__main__":
    main()

"""Regenerate every screenshot in this folder from real runs of the app.

    /work/venv/bin/python screenshots/make.py            # all shots (about 2 minutes)
    /work/venv/bin/python screenshots/make.py --quick    # smaller runs, for a quick look
    /work/venv/bin/python screenshots/make.py threads compare   # only some shots

Each shot builds the app with ``build_app`` and drives it headlessly at 120x40 with Textual's
Pilot: a real ``RunnerSource`` (the real runner and workload) and the real ``Sampler``, except the
64-core shot, which injects ``ScriptedSampler(64, ...)`` and a ``ScriptedSource`` on the wall clock
(this machine has 2 cores). The script waits for the moment that shows each shot's point,
saves Textual's SVG, and converts it to PNG with ``rsvg-convert`` (librsvg2-bin).

Shots:
  threads      80 threads of heavy(n), ~40% through: every task crawls, ~1 core busy in total
  processes    80 processes of heavy(n), mid-run: both cores full
  asyncio-io   80 coroutines sleeping, mid-run: no core busy, "waiting on I/O"
  compare      after `c` (every mode, cpu workload, small sizes): the Compare tab's chart
  results      the same finished compare: the Results table (speedup vs sequential)
  cores-64     the compact grid of 64 cores (fake sampler), a pool of 32 workers mid-run
  subinterpreters  threads on Python 3.11 to the end, then 3.13 and subinterpreters picked
               in the controls and run: the cores chart shows one core, then both; the
               Results tab lists the threads run

The core charts are drawn with plotext's "hd" marker (quarter blocks) instead of braille:
rsvg-convert lays braille glyphs out wider than a cell with the fonts installed here.
After the shots, the script checks that no runner process and no /dev/shm/conc-tui-* map of
its runs is left behind, and exits 1 if one is.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repo's conc_tui, installed or not

from conc_tui.monitor import RunConfig  # noqa: E402
from conc_tui.monitor.runner_source import RunnerSource  # noqa: E402
from conc_tui.ui.app import build_app  # noqa: E402
from conc_tui.ui.cores import CoresPanel  # noqa: E402
from conc_tui.monitor.scripted import ScriptedSampler, ScriptedSource, script_for  # noqa: E402
from conc_tui.monitor import python_info as local_python  # noqa: E402

SIZE = (120, 40)


@dataclass
class Tracker:
    """Every session the shots started, to check afterwards that nothing is left."""

    sessions: list = field(default_factory=list)
    pids: set = field(default_factory=set)

    def factory(self, config: RunConfig) -> RunnerSource:
        s = RunnerSource(config)
        self.sessions.append(s)
        return s

    def note_pids(self) -> None:
        """Remember the runners and their children while they live."""
        for s in self.sessions:
            if s.runner_pid is None:
                continue
            self.pids.add(s.runner_pid)
            try:
                self.pids.update(c.pid for c in psutil.Process(s.runner_pid).children(True))
            except psutil.Error:
                pass

    def leftovers(self) -> list[str]:
        out = []
        for s in self.sessions:
            path = getattr(s, "_path", None)
            if path and os.path.exists(path):
                out.append(f"shared memory left: {path}")
        for pid in sorted(self.pids):
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"process left: {pid} {' '.join(p.cmdline())[:100]}")
            except psutil.Error:
                pass
        for kid in psutil.Process().children(recursive=True):
            try:
                if kid.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"child left: {kid.pid} {' '.join(kid.cmdline())[:100]}")
            except psutil.Error:
                pass
        return out


def mean_progress(app) -> float:
    s = app.session
    if s is None:
        return 0.0
    p = s.progress()
    return sum(p) / len(p) if p else 0.0


def counts(app) -> dict:
    s = app.session
    return dict(s.counts) if s is not None else {}


async def wait_for(pilot, what: str, cond: Callable[[], bool], timeout: float,
                   tracker: Tracker | None = None) -> None:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{what}: not reached in {timeout:.0f} s")
        if tracker is not None:
            tracker.note_pids()
        await pilot.pause(0.05)


async def replotted(pilot) -> None:
    """Wait for the cores chart's next redraw (1 Hz), so it shows the moment too."""
    app = pilot.app
    before = app.cores.plot_updates
    await wait_for(pilot, "cores chart redrawn", lambda: app.cores.plot_updates > before, 5)
    await pilot.pause(0.05)


def save(app, name: str, log: list[str]) -> None:
    svg = os.path.join(HERE, f"{name}.svg")
    png = os.path.join(HERE, f"{name}.png")
    tmp = app.save_screenshot(filename=f".{name}.svg.tmp", path=HERE)
    os.replace(tmp, svg)
    subprocess.run(["rsvg-convert", "-o", png, svg], check=True)
    log.append(f"{name}: {os.path.relpath(svg)} + .png")


def wait_quiet(name: str, log: list[str], limit: float = 25.0, timeout: float = 120.0) -> None:
    """Wait (up to ``timeout``) until the machine is nearly idle: a real run shares the cores
    with whatever else runs, and the shot would show that load as the run's."""
    t0 = time.monotonic()
    while True:
        busy = psutil.cpu_percent(interval=1.0)
        if busy <= limit:
            return
        if time.monotonic() - t0 > timeout:
            log.append(f"{name}: WARNING the machine was {busy:.0f}% busy before the shot "
                       f"(other work): its cores and figures include that load")
            return
        print(f"{name}: waiting for a quiet machine ({busy:.0f}% busy)", flush=True)


async def shoot(name: str, config: RunConfig, moment: Callable[[object], Awaitable[None]],
                tracker: Tracker, log: list[str], *, sampler=None, source_factory=None,
                lead_in: float = 0.0, key: str = "r", python_info=None,
                mid_run: bool = True) -> None:
    if source_factory is None:  # a real run: it should have the machine to itself
        wait_quiet(name, log)
    app = build_app(config, source_factory=source_factory or tracker.factory,
                    sampler=sampler, python_info=python_info)
    async with app.run_test(size=SIZE) as pilot:
        try:
            await pilot.pause(lead_in)  # a few idle samples before the run, for contrast
            await pilot.press(key)
            await moment(pilot)
            await pilot.pause(0.15)  # let the last frame land
            tracker.note_pids()
            if mid_run and not app.running:
                raise RuntimeError(f"{name}: the run ended before the moment of the shot "
                                   "(the machine was faster than expected?)")
            save(app, name, log)
        finally:
            app.shutdown()  # stops the run and everything it started (blocks up to ~2 s)
            await pilot.pause(0.1)


# -- the shots ------------------------------------------------------------------------------

def shot_threads(quick: bool):
    n = 400 if quick else 500
    cfg = RunConfig(mode="threads", workload="cpu", tasks=80, n=n)

    async def moment(pilot):
        app = pilot.app
        # ~40% of the work done, and long enough in that the core history shows ~1 core
        await wait_for(pilot, "threads 40%",
                       lambda: mean_progress(app) >= 0.4 and app.session.elapsed() >= (
                           3 if quick else 8), 180)
        await replotted(pilot)

    return cfg, moment


def shot_processes(quick: bool):
    n = 400 if quick else 500
    cfg = RunConfig(mode="processes", workload="cpu", tasks=80, n=n)

    async def moment(pilot):
        app = pilot.app
        await wait_for(pilot, "processes mid-run",
                       lambda: app.session is not None and app.session.elapsed() >= (
                           2 if quick else 5) and mean_progress(app) >= 0.5, 180)
        await replotted(pilot)

    return cfg, moment


def shot_asyncio(quick: bool):
    cfg = RunConfig(mode="asyncio", workload="io", tasks=80, sleep=3.0 if quick else 4.0)

    async def moment(pilot):
        app = pilot.app
        await wait_for(pilot, "asyncio mid-run",
                       lambda: app.session is not None and app.session.elapsed() >= (
                           1.6 if quick else 2.4), 60)

    return cfg, moment


def compare_config(quick: bool) -> RunConfig:
    return RunConfig(mode="threads", workload="cpu", tasks=16 if quick else 24,
                     n=250 if quick else 400)


def compare_done(app) -> bool:
    return not app.running and not app.ctl.comparing and len(app.results) >= 6


async def compare_moment(pilot):
    app = pilot.app
    await wait_for(pilot, "compare finished", lambda: compare_done(app), 300)
    await pilot.pause(0.5)
    app.action_view("compare")
    await pilot.pause(0.3)


async def shot_cores64(tracker: Tracker, log: list[str], quick: bool) -> None:
    cores = 64
    # 32 workers on the fake 64 cores, whose "waves" pattern keeps about half of them busy:
    # the grid shows every load level, and the figures agree with each other
    cfg = RunConfig(mode="process-pool", workload="cpu", tasks=256, n=1100, workers=32)
    info = local_python()

    def factory(config: RunConfig) -> ScriptedSource:
        return ScriptedSource(config, cpu_count=cores, clock=time.monotonic,
                              script=lambda c, cpu, w: script_for(c, cpu, w, python=info))

    async def moment(pilot):
        app = pilot.app
        # in the third wave of 32 (~2 s each): two waves done, the third filling up
        await wait_for(pilot, "64 cores mid-run",
                       lambda: app.session is not None and app.session.elapsed() >= 5.0, 60)

    class PoolSampler(ScriptedSampler):
        """The fake's process count is one per core; the pool here has 32 workers."""

        def sample(self):
            s = super().sample()
            s.processes = cfg.workers + 1
            return s

    await shoot("cores-64", cfg, moment, tracker, log, source_factory=factory,
                sampler=PoolSampler(cores, "waves", prefill=120), python_info=info)


async def shot_subinterpreters(tracker: Tracker, log: list[str], quick: bool) -> None:
    from conc_tui.monitor import resolve_python

    py311, py313 = resolve_python("3.11"), resolve_python("3.13")
    cfg = RunConfig(mode="threads", workload="cpu", tasks=16 if quick else 24,
                    n=400 if quick else 600, python=py311)
    wait_quiet("subinterpreters", log)
    app = build_app(cfg, source_factory=tracker.factory)
    async with app.run_test(size=SIZE) as pilot:
        try:
            await pilot.pause(2.0)
            await pilot.press("r")
            await wait_for(pilot, "threads on 3.11 finished",
                           lambda: not app.running and len(app.results) >= 1, 300, tracker)
            select = app.controls.interpreter
            await wait_for(pilot, "interpreters found", lambda: bool(select.found), 60)
            real = os.path.realpath(py313)
            select.value = next(path for _, path in select._options
                                if os.path.realpath(path) == real)
            app.controls.mode = "subinterpreters"  # what a person picks with the keys
            await pilot.pause(0.3)
            await pilot.press("r")
            await wait_for(pilot, "subinterpreters mid-run",
                           lambda: app.session is not None and mean_progress(app) >= 0.5
                           and app.session.elapsed() >= 3, 300, tracker)
            await pilot.press("t")  # the threads run on 3.11, beside the live one
            await replotted(pilot)
            save(app, "subinterpreters", log)
        finally:
            app.shutdown()
            await pilot.pause(0.1)


async def main_async(args) -> int:
    tracker = Tracker()
    log: list[str] = []
    want = set(args.shots) if args.shots else None

    def wanted(name: str) -> bool:
        return want is None or name in want

    async def compare_and_results() -> None:
        wait_quiet("compare", log)
        app = build_app(compare_config(args.quick), source_factory=tracker.factory)
        async with app.run_test(size=SIZE) as pilot:
            try:
                await pilot.pause(0.5)
                await pilot.press("c")
                await compare_moment(pilot)
                tracker.note_pids()
                if wanted("compare"):
                    save(app, "compare", log)
                if wanted("results"):
                    await pilot.press("t")
                    await pilot.pause(0.3)
                    save(app, "results", log)
            finally:
                app.shutdown()
                await pilot.pause(0.1)

    jobs = []
    for name, make, lead_in in (("threads", shot_threads, 2.0),
                                ("processes", shot_processes, 2.0),
                                ("asyncio-io", shot_asyncio, 3.0)):
        if wanted(name):
            cfg, moment = make(args.quick)
            jobs.append((name, lambda n=name, c=cfg, m=moment, li=lead_in:
                         shoot(n, c, m, tracker, log, lead_in=li)))
    if wanted("compare") or wanted("results"):
        jobs.append(("compare", compare_and_results))
    if wanted("cores-64"):
        jobs.append(("cores-64", lambda: shot_cores64(tracker, log, args.quick)))
    if wanted("subinterpreters"):
        jobs.append(("subinterpreters", lambda: shot_subinterpreters(tracker, log, args.quick)))

    t0 = time.monotonic()
    failed = []
    for name, job in jobs:
        try:
            await job()
        except Exception as exc:  # one shot failing leaves the others to be taken
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"{name}: FAILED: {exc}", file=sys.stderr, flush=True)
    await asyncio.sleep(0.3)
    left = tracker.leftovers()
    for line in log:
        print(line)
    shots = sum(1 for line in log if "WARNING" not in line)
    print(f"{shots} shot(s) in {time.monotonic() - t0:.0f} s")
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    if left:
        print("LEFT BEHIND:\n  " + "\n  ".join(left), file=sys.stderr)
    else:
        print("clean: no runner process or /dev/shm map of these runs left")
    return 1 if failed or left else 0


def main() -> int:
    names = ["threads", "processes", "asyncio-io", "compare", "results", "cores-64",
             "subinterpreters"]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shots", nargs="*", metavar="SHOT",
                    help=f"only these shots ({', '.join(names)}); default: all")
    ap.add_argument("--quick", action="store_true", help="smaller runs (a quick look)")
    ap.add_argument("--marker", default="hd",
                    help='plotext marker for the core charts (default "hd"; "braille" as in '
                         'a terminal)')
    args = ap.parse_args()
    unknown = [s for s in args.shots if s not in names]
    if unknown:
        ap.error(f"unknown shot(s) {', '.join(unknown)} (choose from {', '.join(names)})")
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert is needed (apt-get install librsvg2-bin)", file=sys.stderr)
        return 2
    CoresPanel.marker = args.marker  # a class setting, for this process only
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())

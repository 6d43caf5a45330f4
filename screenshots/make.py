"""Regenerate every screenshot in this folder from real runs of the app.

    .venv/bin/python screenshots/make.py            # all shots (about 2 minutes)
    .venv/bin/python screenshots/make.py --quick    # smaller runs, for a quick look
    .venv/bin/python screenshots/make.py threads compare   # only some shots

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
  replay-64    `conc-tui replay` of a 64-core recording (made with the scripted source)
  dask-cluster the dask mode on a scheduler and two workers started apart (--scheduler),
               mid-run: the cores panel shows the two workers (their CPU and memory)
  dask-cluster-timeline  the same run a moment later, in the timeline (key l): a lane per
               worker, filling
  browser      `conc-tui serve` in headless Chromium, the threads run going (PNG only)
  timeline-threads, timeline-processes, timeline-process-pool, timeline-asyncio-cpu
               a finished run's timeline (key l): the thread view and a lane per worker
  sweep        `x` on process-pool (16 tasks of heavy(n)) at 1, 2, 4 workers: speedup against
               workers beside the ideal and Amdahl's fit; two cores flatten it past 2
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
import signal
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
from conc_tui.ui.sweep import SweepView  # noqa: E402
from conc_tui.ui.timeline import TimelineScreen, TimelineView  # noqa: E402
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


#: The timeline shots: name -> (mode, workload, tasks, n). Each is taken once the run has
#: ended, so its whole timeline shows (it stays after the run).
TIMELINES = {
    "timeline-threads": ("threads", "cpu", 80, 500),
    "timeline-processes": ("processes", "cpu", 80, 400),
    "timeline-process-pool": ("process-pool", "cpu", 16, 400),
    "timeline-asyncio-cpu": ("asyncio", "cpu", 16, 400),
}


def shot_timeline(name: str, quick: bool):
    mode, workload, tasks, n = TIMELINES[name]
    cfg = RunConfig(mode=mode, workload=workload, tasks=tasks, n=n - 100 if quick else n)

    def drawn(app) -> bool:
        if not isinstance(app.screen, TimelineScreen):
            return False
        picture = app.screen.query_one(TimelineView).picture
        return picture is not None and picture.title.endswith("done")

    async def moment(pilot):
        app = pilot.app
        await wait_for(pilot, f"{mode} finished", lambda: not app.running and app.results, 300)
        await pilot.press("l")
        await wait_for(pilot, "timeline drawn", lambda: drawn(app), 20)
        await pilot.pause(0.2)

    return cfg, moment


def shot_sweep(quick: bool):
    # At nice 0, not the default 19: the speedups are the shot's point, and on a shared
    # machine other work at a higher priority would take the cores from a run at 19.
    cfg = RunConfig(mode="process-pool", workload="cpu", tasks=16, n=300 if quick else 400,
                    nice=0)

    async def moment(pilot):
        app = pilot.app
        await wait_for(pilot, "sweep finished",
                       lambda: not app.running and len(app.results) >= 3, 300)
        await pilot.pause(0.5)
        # what it measured, to judge the shot by (other load on the machine shows here)
        print("sweep: speedups " + ", ".join(f"{w} workers {s:.2f}x"
                                             for w, s in app.sweep_view.points()), flush=True)

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


async def shot_replay64(log: list[str], quick: bool) -> None:
    """A replay of a 64-core recording (made here with the scripted source and sampler, on a
    manual clock): the app draws the recorded machine's 64 cores on this 2-core one."""
    import tempfile

    from conc_tui.monitor import Controller
    from conc_tui.monitor.recording import Recorder, read_recording
    from conc_tui.ui.replay import ReplayApp

    cores = 64
    cfg = RunConfig(mode="process-pool", workload="cpu", tasks=256, n=1100, workers=32)
    info = local_python()
    clock = [0.0]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "server-64-cores.jsonl")
        recorder = Recorder(path, clock=lambda: clock[0],
                            machine={"usable_cores": cores, "logical_cores": cores,
                                     "cpu_model": "a 64-core server", "platform": "Linux"})
        ctl = Controller(
            source_factory=lambda c: ScriptedSource(
                c, cpu_count=cores, clock=lambda: clock[0],
                script=lambda c2, cpu, w: script_for(c2, cpu, w, python=info)),
            sampler=ScriptedSampler(cores, "waves", interval=1.0), recorder=recorder)
        ctl.run(cfg)
        while ctl.busy:
            clock[0] += 0.1
            ctl.poll()
            if round(clock[0] * 10) % 10 == 0:
                ctl.sample()
        recorder.close()
        recording = read_recording(path)
        recording.path = os.path.basename(path)  # as the user would name it
        app = ReplayApp(recording, speed=2)
        async with app.run_test(size=SIZE) as pilot:
            try:
                await wait_for(pilot, "replay mid-run",
                               lambda: app.session is not None and app.session.elapsed() >= 5.0,
                               60)
                await replotted(pilot)
                save(app, "replay-64", log)
            finally:
                app.shutdown()
                await pilot.pause(0.1)


async def shot_dask(tracker: Tracker, log: list[str], quick: bool) -> None:
    """The dask mode against a cluster started apart from conc-tui: ``dask scheduler`` and
    two ``dask worker`` processes on this machine, reached with --scheduler."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cluster = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                 "--host", "127.0.0.1", "--port", str(port),
                                 "--no-dashboard"], **quiet)]
    try:
        time.sleep(3)
        cluster += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker",
                                      address, "--nthreads", "1", "--no-dashboard"], **quiet)
                    for _ in range(2)]
        from distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        cfg = RunConfig(mode="dask", workload="cpu", tasks=128, n=300 if quick else 450,
                        workers=2, scheduler=address)

        def timeline_drawn(app) -> bool:
            if not isinstance(app.screen, TimelineScreen):
                return False
            picture = app.screen.query_one(TimelineView).picture
            return picture is not None and sum(1 for r in picture.lay.rows if r.label) == 2

        async def moment(pilot):
            app = pilot.app
            # a few seconds in, so that the workers' chart has a history to draw
            await wait_for(pilot, "dask mid-run",
                           lambda: app.session is not None and app.session.counts["done"] >= 8
                           and app.session.elapsed() >= (4 if quick else 6), 120)
            await replotted(pilot)
            await pilot.pause(0.15)
            if not app.cores.labels:
                raise RuntimeError("dask-cluster: the cores panel does not show the workers")
            save(app, "dask-cluster", log)
            await pilot.pause(1.0)  # the lanes a little further on
            await pilot.press("l")
            await wait_for(pilot, "timeline drawn", lambda: timeline_drawn(app), 20)
            await pilot.pause(0.2)

        await shoot("dask-cluster-timeline", cfg, moment, tracker, log, lead_in=2.0)
    finally:
        for p in cluster:
            p.terminate()
        for p in cluster:
            p.wait(15)


def shot_browser(log: list[str], quick: bool) -> None:
    """``conc-tui serve`` in headless Chromium (Debian's chromium, driven by playwright),
    mid-run of the article's threads experiment."""
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "conc_tui", "serve", "--port", str(port),
                               "--tasks", "40", "--n", "300" if quick else "400"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for _ in range(100):
                try:
                    page.goto(f"http://127.0.0.1:{port}/")
                    break
                except Exception:  # not listening yet
                    time.sleep(0.2)
            page.wait_for_selector("body.-first-byte", timeout=30_000)
            time.sleep(2.0)
            page.click(".textual-terminal")
            page.keyboard.press("r")
            time.sleep(5.0)
            page.screenshot(path=os.path.join(HERE, "browser.png"))
            log.append("browser: screenshots/browser.png")
            page.close()
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(10)


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
    for name in TIMELINES:
        if wanted(name):
            cfg, moment = shot_timeline(name, args.quick)
            jobs.append((name, lambda n=name, c=cfg, m=moment:
                         shoot(n, c, m, tracker, log, lead_in=0.5, mid_run=False)))
    if wanted("compare") or wanted("results"):
        jobs.append(("compare", compare_and_results))
    if wanted("sweep"):
        cfg, moment = shot_sweep(args.quick)
        jobs.append(("sweep", lambda c=cfg, m=moment: shoot("sweep", c, m, tracker, log,
                                                           lead_in=1.0, key="x",
                                                           mid_run=False)))
    if wanted("cores-64"):
        jobs.append(("cores-64", lambda: shot_cores64(tracker, log, args.quick)))
    if wanted("replay-64"):
        jobs.append(("replay-64", lambda: shot_replay64(log, args.quick)))
    if wanted("dask-cluster") or wanted("dask-cluster-timeline"):
        jobs.append(("dask-cluster", lambda: shot_dask(tracker, log, args.quick)))
    if wanted("browser"):
        async def browser_job() -> None:
            wait_quiet("browser", log)
            await asyncio.get_running_loop().run_in_executor(None, shot_browser, log,
                                                             args.quick)
        jobs.append(("browser", browser_job))
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
    names = ["threads", "processes", "asyncio-io", "compare", "results", "sweep", "cores-64",
             "replay-64", "dask-cluster", "dask-cluster-timeline", "browser", "subinterpreters",
             *TIMELINES]
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
    SweepView.marker = args.marker
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())

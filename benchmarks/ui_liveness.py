"""Is the live app live? Measured from outside, in a pseudo-terminal, during real runs.

    .venv/bin/python benchmarks/ui_liveness.py [--size 120x40] [--skip-10k] [--keys 12]
        [--big] [--only SCENARIO] [--launch N [--no-runs]]

Needs ``pyte`` (a terminal emulator in pure Python: ``pip install pyte``), which is not one of
conc-tui's dependencies.

For each scenario the script starts the real app, ``conc-tui ... --run``, as the only process
of a new pseudo-terminal of the given size (TERM=xterm-256color). One thread reads what the
app writes and stamps each read with the time it arrived; another feeds it to a pyte screen
and looks at the screen after each read, so a change is timed at the read that brought it
(no sampling interval, and a slow parse never shifts a time):

- clock: the text of the elapsed clock ("elapsed 12.3 s"). Every time the shown value
  changes, the arrival time is recorded; the intervals between changes while the run goes
  are the screen's heartbeat (ideal 100 ms; target: none over 150 ms). "skips" counts
  changes by more than a tenth. The clock values at which an interval was over 150 ms are
  listed.
- keys: during the run, every ~1.5 s, it presses ``t`` (the Results view, whose header
  shows "×seq") or ``e`` (back to Events) and times until the screen shows the change
  (target: 150 ms).
- app CPU: the app process's own user+system CPU seconds (psutil, without its children:
  the runner and its workers are children) over the run, per wall second, in % of one core
  (target: 5% at 120x40 during the 80-thread run); "no keys" leaves out the 0.5 s after
  each key press (a view switch re-lays out the whole screen). The same by phase, read
  off the Tasks panel's title: starting (until no task waits), running (until the first
  task is done) and ending (until the status says the run is over: the tasks ending, and
  the finished run's views drawn); "starting and running" is the run before any task ended.
- clean exit: after the run it presses ``q`` and checks that the app has exited, that no
  process of its runs is alive, and that the runs' /dev/shm/conc-tui-* maps are gone.
- context: the run's CPU (app + its children), this script's own CPU, the rest of the
  machine's CPU use ("other work": another program competing for the 2 cores explains
  stalls), and CPU time stolen by a VM host.

Scenarios: the article's experiment, ``--mode threads --tasks 80 --n 500`` (80 CPU-bound
threads under the GIL), and 10,000 tasks, ``--mode thread-pool --workload io --tasks 10000
--workers 500 --sleep 1``: 20 waves of 500 sleeping threads, so ~500 cells change state
and 500 events arrive every second for ~20 s while 500 more cells fill.
"""
from __future__ import annotations

import argparse
import fcntl
import glob
import json
import os
import platform
import pty
import queue
import re
import select
import shutil
import signal
import struct
import sys
import termios
import threading
import time

try:
    import pyte
except ImportError:  # pragma: no cover
    sys.exit("this benchmark needs pyte: pip install pyte")
import psutil

CLOCK = re.compile(r"elapsed\s+((?:\d+:)?\d+(?::\d\d)?\.\d)( s)?")
TARGET_MS = 150.0

SCENARIOS = {
    "threads-80": ["--mode", "threads", "--workload", "cpu", "--tasks", "80", "--n", "500"],
    "pool-10k": ["--mode", "thread-pool", "--workload", "io", "--tasks", "10000",
                 "--workers", "500", "--sleep", "1"],
    # big machines: 1,000 worker processes at once (starting, then running; the command
    # the figures were asked for), 10,000 threads
    "procs-1k": ["--mode", "processes", "--workload", "io", "--tasks", "1000",
                 "--sleep", "60"],
    "threads-10k": ["--mode", "threads", "--workload", "io", "--tasks", "10000",
                    "--sleep", "20"],
}
#: Scenarios left out unless asked for by --only or --big (each takes a minute or more).
BIG = ("procs-1k", "threads-10k")
#: The app's own sampling process counts with the app (its CPU is the app's cost).
SAMPLER_MARK = "conc_tui.monitor.sampler_process"
#: "First frame": the Cores panel's title is on the screen.
FIRST_FRAME = re.compile(r"Cores · \d+")


def seconds(text: str) -> float:
    """'12.3' -> 12.3, '1:02.3' -> 62.3, '1:02:03.4' -> 3723.4"""
    parts = text.split(":")
    total = 0.0
    for p in parts[:-1]:
        total = total * 60 + int(p)
    return total * 60 + float(parts[-1]) if len(parts) > 1 else float(parts[-1])


class Terminal:
    """The app in a pseudo-terminal, its output fed to a pyte screen by a reader thread."""

    def __init__(self, argv: list[str], cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.lock = threading.Lock()
        self.clock_changes: list[tuple[float, str]] = []  # (time of read, clock text)
        self.clock_row: int | None = None
        self.pending = None  # (predicate, event, [t_seen])
        self.finished_at: float | None = None  # when the status first said the run ended
        self.first_frame_at: float | None = None  # when the Cores panel's title showed
        self.feed_max = 0.0  # longest time spent feeding one read into pyte (our lag)
        self.bytes = 0
        self.reads = 0
        env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor",
                   COLUMNS=str(cols), LINES=str(rows))
        env.pop("NO_COLOR", None)
        env.pop("TEXTUAL", None)
        pid, fd = pty.fork()
        if pid == 0:  # the child: the app, on the new terminal
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.exit_status: int | None = None
        self.closed = threading.Event()
        self.chunks: queue.SimpleQueue = queue.SimpleQueue()
        self.lag_max = 0.0  # longest time from a read to its parse (how far pyte fell behind)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.parser = threading.Thread(target=self._parse, daemon=True)
        self.reader.start()
        self.parser.start()

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> None:
        """Only read and timestamp: the parsing (pyte, tens of ms for a full repaint) runs in
        another thread, so a slow parse never delays the time at which bytes arrived."""
        while True:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.5)
                if not r:
                    continue
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the app has closed the terminal
                break
            if not data:
                break
            self.chunks.put((time.perf_counter(), data))
        self.chunks.put(None)

    def _parse(self) -> None:
        """Feed each chunk to pyte and look at the screen, with the chunk's arrival time."""
        while True:
            item = self.chunks.get()
            if item is None:
                break
            t, data = item
            t0 = time.perf_counter()
            with self.lock:
                self.bytes += len(data)
                self.reads += 1
                self.stream.feed(data)
                self._look(t)
            t1 = time.perf_counter()
            self.feed_max = max(self.feed_max, t1 - t0)
            self.lag_max = max(self.lag_max, t1 - t)
        self.closed.set()

    def row(self, y: int) -> str:
        line = self.screen.buffer[y]
        return "".join(line[x].data for x in range(self.cols))

    def text(self) -> str:
        return "\n".join(self.row(y) for y in range(self.rows))

    def _look(self, t: float) -> None:
        clock = None
        if self.clock_row is not None:
            m = CLOCK.search(self.row(self.clock_row))
            clock = m.group(1) if m else None
        if clock is None:
            for y in range(self.rows):
                m = CLOCK.search(self.row(y))
                if m:
                    self.clock_row, clock = y, m.group(1)
                    break
        if clock is not None and (not self.clock_changes or self.clock_changes[-1][1] != clock):
            self.clock_changes.append((t, clock))
        if self.finished_at is None and finished(self):
            self.finished_at = t
        if self.first_frame_at is None and FIRST_FRAME.search(self.text()):
            self.first_frame_at = t
        pending = self.pending
        if pending is not None and not pending[1].is_set() and pending[0](self):
            pending[2].append(t)
            pending[1].set()

    # -- writing -----------------------------------------------------------------------------

    def send(self, data: bytes) -> float:
        t = time.perf_counter()
        os.write(self.fd, data)
        return t

    def press(self, key: bytes, predicate, timeout: float = 3.0) -> float | None:
        """Press ``key``; seconds until ``predicate(self)`` held, or None on timeout."""
        done, seen = threading.Event(), []
        with self.lock:
            if predicate(self):
                return 0.0
            self.pending = (predicate, done, seen)
        t0 = self.send(key)
        ok = done.wait(timeout)
        with self.lock:
            self.pending = None
        return (seen[0] - t0) if ok and seen else None

    def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return True
            if self.closed.is_set():
                return False
            time.sleep(0.02)
        return False

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exit_status = os.waitstatus_to_exitcode(status)
                return True
            time.sleep(0.02)
        return False

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def status_row(term: Terminal) -> str:
    y = term.clock_row if term.clock_row is not None else 2
    return term.row(y)


def running(term: Terminal) -> bool:
    return "running " in status_row(term) or "stopping" in status_row(term)


def finished(term: Terminal) -> bool:
    return re.search(r"\b(ok|failed|cancelled) after\b", status_row(term)) is not None


TASK_COUNTS = re.compile(r"(\d+) done · (\d+) running · (\d+) waiting")


def task_counts(term: Terminal) -> tuple[int, int, int] | None:
    """(done, running, waiting) from the Tasks panel's title."""
    m = TASK_COUNTS.search(term.text())
    return tuple(int(g) for g in m.groups()) if m else None


def results_shown(term: Terminal) -> bool:
    return "×seq" in term.text()


def own_cpu(app: psutil.Process) -> float:
    """CPU seconds of the app and of its own sampling process (not of its runs)."""
    return sum(app.cpu_times()[:2]) + sampler_cpu(app)


def main_thread_cpu(app: psutil.Process) -> float:
    """CPU seconds of the app's main thread: Textual's loop, drawing, the frames (the
    rest of the app's CPU is its other threads: the thread-time probe, sample takers,
    the run's event reader)."""
    try:
        return next((t.user_time + t.system_time for t in app.threads() if t.id == app.pid),
                    0.0)
    except psutil.Error:
        return 0.0


def sampler_cpu(app: psutil.Process) -> float:
    """CPU seconds of the app's own sampling process."""
    total = 0.0
    try:
        kids = app.children()
    except psutil.Error:
        kids = []
    for kid in kids:
        try:
            if any(SAMPLER_MARK in arg for arg in kid.cmdline()):
                total += sum(kid.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def launch_time(conc_tui: str, args: list[str], cols: int, rows: int,
                timeout: float = 20.0) -> float | None:
    """Seconds from starting the app to its first frame (the Cores panel's title)."""
    t0 = time.perf_counter()
    term = Terminal([conc_tui, *args], cols, rows)
    try:
        seen = term.wait_for(lambda t: FIRST_FRAME.search(t.text()) is not None, timeout)
        if not seen:
            return None
        # the time of the read that brought it, not of our polling
        return term.first_frame_at - t0 if term.first_frame_at else None
    finally:
        term.send(b"q")
        if not term.wait_exit(5.0):
            term.kill()
        try:
            os.close(term.fd)
        except OSError:
            pass


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, not idle or iowait)."""
    t = psutil.cpu_times()
    # guest time is already in user; steal is time the VM's host took, not ours
    return (sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0)
            - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


class Tree:
    """The app's descendants and its runs' shared-memory maps, seen while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.pids: set[int] = set()
        self.maps: set[str] = set()
        self.most = 0

    def look(self) -> None:
        try:
            kids = psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return
        self.most = max(self.most, len(kids))
        for k in kids:
            if k.pid in self.pids:
                continue
            self.pids.add(k.pid)
            try:
                cmd = k.cmdline()
            except psutil.Error:
                continue
            for arg in cmd:
                if "progress_path" in arg:
                    try:
                        self.maps.add(json.loads(arg)["progress_path"])
                    except (ValueError, KeyError, TypeError):
                        pass

    def left(self) -> list[str]:
        out = []
        for pid in sorted(self.pids | {self.pid}):
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    out.append(f"pid {pid} alive")
            except psutil.Error:
                pass
        out += [f"{m} left" for m in sorted(self.maps) if os.path.exists(m)]
        return out


def run_scenario(name: str, args: list[str], conc_tui: str, cols: int, rows: int,
                 keys: int, timeout: float) -> dict:
    argv = [conc_tui, *args, "--run"]
    shm_before = set(glob.glob("/dev/shm/conc-tui-*"))
    term = Terminal(argv, cols, rows)
    tree = Tree(term.pid)
    app = psutil.Process(term.pid)
    out = {"name": name, "command": " ".join(["conc-tui", *args, "--run"])}
    try:
        if not term.wait_for(running, 30):
            raise RuntimeError(f"{name}: the run did not start; screen:\n{term.text()}")
        t_start = time.perf_counter()
        cpu0 = own_cpu(app)
        sampler0 = sampler_cpu(app)
        main0 = main_thread_cpu(app)
        tree0 = sum(app.cpu_times()[:4])
        me0 = sum(psutil.Process().cpu_times()[:2])
        busy0 = machine_busy()
        steal0 = getattr(psutil.cpu_times(), "steal", 0.0)
        marks: dict[str, tuple[float, float]] = {}  # phase -> (when it began, app CPU then)
        # keys, spread over the run, while watching the process tree
        lat: list[float] = []
        misses = 0
        key_wall = key_cpu = 0.0  # wall and app CPU seconds from each key to 0.5 s after
        next_key = time.monotonic() + 1.5
        k = 0
        while term.finished_at is None:
            if time.perf_counter() - t_start > timeout:
                raise RuntimeError(f"{name}: the run did not finish in {timeout:.0f} s")
            if term.closed.is_set():
                raise RuntimeError(f"{name}: the app exited during the run")
            tree.look()
            with term.lock:
                going = running(term)
                counts = task_counts(term)
            if counts is not None:  # the phases: starting, running, ending
                done, _, waiting = counts
                if "all_started" not in marks and waiting == 0:
                    marks["all_started"] = (time.perf_counter(), own_cpu(app))
                if "first_done" not in marks and done > 0:
                    marks["first_done"] = (time.perf_counter(), own_cpu(app))
                    marks.setdefault("all_started", marks["first_done"])  # none ran alone
            if k < keys and time.monotonic() >= next_key and going:
                show = k % 2 == 0
                w0, c0 = time.perf_counter(), own_cpu(app)
                got = term.press(b"t" if show else b"e",
                                 results_shown if show else (lambda t: not results_shown(t)))
                if got is None:
                    misses += 1
                else:
                    lat.append(got)
                time.sleep(0.5)  # the view switch re-lays out the screen: count it to the key
                key_wall += time.perf_counter() - w0
                key_cpu += own_cpu(app) - c0
                k += 1
                next_key = time.monotonic() + 1.0
            time.sleep(0.1)
        t_end = time.perf_counter()
        cpu1 = own_cpu(app)
        sampler1 = sampler_cpu(app)
        main1 = main_thread_cpu(app)
        time.sleep(0.2)  # the runner is reaped by now; its CPU is in the app's children times
        tree1 = sum(app.cpu_times()[:4])
        me1 = sum(psutil.Process().cpu_times()[:2])
        busy1 = machine_busy()
        steal1 = getattr(psutil.cpu_times(), "steal", 0.0)
        # CPU by phase: starting (until no task waits), running (until one is done), ending
        bounds = [("start", (t_start, cpu0))]
        bounds += [(k, marks[k]) for k in ("all_started", "first_done") if k in marks]
        bounds.append(("end", (t_end, cpu1)))
        names = {"start": "starting", "all_started": "running", "first_done": "ending"}
        out["phases"] = [
            {"phase": names[a[0]], "s": b[1][0] - a[1][0],
             "app_cpu_pct": 100 * (b[1][1] - a[1][1]) / (b[1][0] - a[1][0])
             if b[1][0] > a[1][0] else float("nan")}
            for a, b in zip(bounds, bounds[1:])]
        if "first_done" in marks:  # the run before any task ended: starting and running
            t1, c1 = marks["first_done"]
            out["app_cpu_before_end_pct"] = 100 * (c1 - cpu0) / (t1 - t_start)
        # the heartbeat while the run went: from its first tick to the "... after" status
        # (the frame that shows it also sets the clock to the final wall time: not a tick)
        with term.lock:
            ticks = [(t, seconds(v)) for t, v in term.clock_changes
                     if t < term.finished_at and seconds(v) > 0]
        gaps = [(b[0] - a[0]) * 1000 for a, b in zip(ticks, ticks[1:])]
        out["ticks"] = [(round(t - t_start, 4), v) for t, v in ticks]
        out["long_gaps"] = [(round(a[1], 1), round((b[0] - a[0]) * 1000))
                            for a, b in zip(ticks, ticks[1:]) if (b[0] - a[0]) * 1000 > TARGET_MS]
        skips = sum(1 for a, b in zip(ticks, ticks[1:]) if b[1] - a[1] > 0.15)
        wall = t_end - t_start
        out.update(
            wall_s=wall, clock_changes=len(ticks), gap_p50=pct(gaps, 50), gap_p99=pct(gaps, 99),
            gap_max=max(gaps) if gaps else float("nan"),
            over_150=sum(1 for g in gaps if g > TARGET_MS), skips=skips,
            key_n=len(lat), key_made=k, key_misses=misses,
            key_p50=pct([x * 1000 for x in lat], 50),
            key_max=max(lat) * 1000 if lat else float("nan"),
            app_cpu_pct=100 * (cpu1 - cpu0) / wall if wall > 0 else float("nan"),
            app_cpu_nokeys_pct=100 * (cpu1 - cpu0 - key_cpu) / (wall - key_wall)
            if wall > key_wall else float("nan"),
            sampler_cpu_pct=100 * (sampler1 - sampler0) / wall if wall > 0 else float("nan"),
            main_cpu_pct=100 * (main1 - main0) / wall if wall > 0 else float("nan"),
            processes_seen=tree.most, feed_max_ms=term.feed_max * 1000,
            lag_max_ms=term.lag_max * 1000,
            run_cores=(tree1 - tree0) / wall if wall > 0 else float("nan"),
            other_cores=max(0.0, (busy1 - busy0) - (tree1 - tree0) - (me1 - me0)) / wall
            if wall > 0 else float("nan"),
            steal_cores=(steal1 - steal0) / wall if wall > 0 else float("nan"),
            bench_cpu_pct=100 * (me1 - me0) / wall if wall > 0 else float("nan"),
            bytes_per_s=term.bytes / wall if wall > 0 else 0,
        )
        # quit, and check that nothing is left
        tree.look()
        t_q = term.send(b"q")
        exited = term.wait_exit(5.0)
        out["quit_s"] = time.perf_counter() - t_q if exited else None
        out["exit_status"] = term.exit_status
        time.sleep(0.3)
        left = tree.left()
        new_maps = set(glob.glob("/dev/shm/conc-tui-*")) - shm_before
        # maps that appeared meanwhile but were not named by this app's runners belong to
        # some other conc-tui on the machine: shown, not counted
        out["other_maps"] = sorted(m for m in new_maps - tree.maps if os.path.exists(m))
        out["left"] = left
        out["clean"] = exited and not left
    finally:
        if term.exit_status is None:
            term.kill()
        try:
            os.close(term.fd)
        except OSError:
            pass
    return out


def fmt(v, spec=".0f") -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and v != v:
        return "—"
    return format(v, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="120x40", help="terminal COLSxROWS (default 120x40)")
    ap.add_argument("--keys", type=int, default=12, help="key presses per run (default 12)")
    ap.add_argument("--skip-10k", action="store_true", help="only the 80-thread run")
    ap.add_argument("--only", choices=list(SCENARIOS), help="one scenario")
    ap.add_argument("--big", action="store_true",
                    help="also the big-machine scenarios: " + ", ".join(BIG))
    ap.add_argument("--launch", type=int, default=0, metavar="N",
                    help="also time the first frame N times, idle and with --run")
    ap.add_argument("--no-runs", action="store_true", help="no scenario (with --launch)")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds a run may take")
    ap.add_argument("--conc-tui", default=os.path.join(os.path.dirname(sys.executable), "conc-tui"),
                    help="the conc-tui command (default: beside this python)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    a = ap.parse_args()
    cols, rows = (int(x) for x in a.size.lower().split("x"))
    conc_tui = shutil.which(a.conc_tui) or a.conc_tui

    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    tv = ver("textual")
    load = os.getloadavg()
    print(f"# {platform.node()} · {psutil.cpu_count()} cores · {psutil.virtual_memory().total / 2**30:.0f} GB"
          f" · Python {platform.python_version()} · Textual {tv} · pyte {ver('pyte')}"
          f" · terminal {cols}x{rows} · load avg {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
          flush=True)
    names = [a.only] if a.only else [n for n in SCENARIOS if not (a.skip_10k and n == "pool-10k")
                                     and (a.big or n not in BIG)]
    if a.no_runs:
        names = []
    if a.launch:
        for label, args in (("idle", []), ("--run", ["--run"])):
            times = [launch_time(conc_tui, args, cols, rows) for _ in range(a.launch)]
            got = sorted(t for t in times if t is not None)
            print(f"  first frame, {label}: " + ", ".join(f"{t:.2f}" for t in got)
                  + f" s (median {pct(got, 50):.2f}, max {max(got):.2f})"
                  + (f", {len(times) - len(got)} never" if len(got) < len(times) else ""),
                  flush=True)
            time.sleep(1.0)  # the article's run of the last one has been stopped by q
    results = []
    for name in names:
        print(f"  {name}: conc-tui {' '.join(SCENARIOS[name])} --run …", flush=True)
        r = run_scenario(name, SCENARIOS[name], conc_tui, cols, rows, a.keys, a.timeout)
        results.append(r)
    print()
    head = (f"{'scenario':<11} {'wall s':>6} {'ticks':>5} {'p50 ms':>6} {'p99 ms':>6} "
            f"{'max ms':>6} {'>150':>4} {'skips':>5} {'key p50':>7} {'key max':>7} "
            f"{'app CPU':>7} {'no keys':>7} {'clean':>5}")
    print(head)
    print("-" * len(head))
    for r in results:
        keys = f"{fmt(r['key_max'])}" + (f" ({r['key_misses']} miss)" if r["key_misses"] else "")
        print(f"{r['name']:<11} {r['wall_s']:6.1f} {r['clock_changes']:5d} {fmt(r['gap_p50']):>6} "
              f"{fmt(r['gap_p99']):>6} {fmt(r['gap_max']):>6} {r['over_150']:4d} {r['skips']:5d} "
              f"{fmt(r['key_p50']):>7} {keys:>7} {fmt(r['app_cpu_pct'], '.1f') + '%':>7} "
              f"{fmt(r['app_cpu_nokeys_pct'], '.1f') + '%':>7} "
              f"{'yes' if r['clean'] else 'NO':>5}")
    print()
    print("ticks: changes of the shown clock while the run went; p50/p99/max: interval between "
          "them (ideal 100 ms,\ntarget max 150 ms); >150: intervals over 150 ms; skips: changes "
          "by more than 0.1 s; key: t/e\n(Results/Events view) until the screen shows it "
          f"({a.keys} presses, target 150 ms); app CPU: the app process alone,\n"
          "% of one core over the run, with its own sampling process (target 5% at 120x40); no keys: the same without the 0.5 s "
          "after each\nkey (a view switch re-lays out the screen); clean: after q the app and every "
          "process of its run\nexited and no /dev/shm/conc-tui-* map of it is left.")
    for r in results:
        extra = (f"  {r['name']}: {r['key_made']} key presses, {r['key_n']} answered · quit took {fmt(r['quit_s'], '.2f')} s · up to "
                 f"{r['processes_seen']} processes under the app · of the app's CPU, its "
                 f"main thread {r['main_cpu_pct']:.1f}%, other threads "
                 f"{r['app_cpu_pct'] - r['main_cpu_pct'] - r['sampler_cpu_pct']:.1f}%, "
                 f"sampling process {r['sampler_cpu_pct']:.1f}% · app wrote "
                 f"{r['bytes_per_s'] / 1024:.0f} KiB/s\n    app + run {r['run_cores']:.2f} cores · "
                 f"this benchmark {r['bench_cpu_pct']:.0f}% · other work on the machine "
                 f"{r['other_cores']:.2f} cores · stolen by the VM host "
                 f"{r['steal_cores']:.2f} cores\n    pyte at most {r['lag_max_ms']:.0f} ms behind "
                 f"(arrival times are taken before parsing)")
        print(extra)
        if r.get("phases"):
            print("    app CPU by phase: " + " · ".join(
                f"{p['phase']} {p['s']:.1f} s {fmt(p['app_cpu_pct'], '.1f')}%"
                for p in r["phases"])
                + (f" · starting and running {r['app_cpu_before_end_pct']:.1f}%"
                   if "app_cpu_before_end_pct" in r else ""))
        if r["long_gaps"]:
            print("    over 150 ms, after the clock showed: " + ", ".join(
                f"{v:.1f} s ({ms} ms)" for v, ms in r["long_gaps"]))
        for item in r["left"]:
            print(f"    LEFT: {item}")
        if r.get("other_maps"):
            print(f"    (other programs' maps seen meanwhile: {len(r['other_maps'])})")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0 if all(r["clean"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

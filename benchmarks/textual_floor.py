"""What a 10 Hz clock costs in Textual, before conc-tui draws anything of a run.

    .venv/bin/python benchmarks/textual_floor.py [--seconds 15] [--size 120x40]

Side by side, each as the only process of a pseudo-terminal of the given size (its output
read and thrown away as fast as it comes, TERM=xterm-256color):

- ``bare``: a Textual app of four widgets (a few lines of text, a one-line clock, a tall
  text, the footer) whose clock is set and refreshed ten times a second: what any Textual
  app pays for a screen that changes at 10 Hz.
- ``quiet run``: conc-tui drawing a run in which nothing happens but the clock: 4 tasks
  that sleep (``--mode threads --workload io --tasks 4 --sleep 60 --run``); its sampling
  process is counted with it.
- ``procs-1k``: the same with 1,000 sleeping worker processes
  (``--mode processes --workload io --tasks 1000 --sleep 60 --run``).

CPU is read from each thread's /proc schedstat (nanoseconds on a CPU; utime and stime are
sampled at the kernel's tick, which a 10 Hz timer can fall between), over ``--seconds``
once the app has been up for 8 s (conc-tui's run has started by then).
"""
from __future__ import annotations

import argparse
import os
import platform
import pty
import select
import struct
import sys
import fcntl
import termios
import threading
import time

from procstat import thread_schedstat

BARE_APP = r'''
import time
from rich.segment import Segment
from textual.app import App
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Static

class Clock(Widget):
    DEFAULT_CSS = "Clock { height: 1; width: 19; }"
    text = "elapsed 0.0 s"
    def render_line(self, y):
        w = self.size.width
        return Strip([Segment(self.text.rjust(w))], w)

class Bare(App):
    BINDINGS = [("q", "quit", "Quit"), ("r", "noop", "Run"), ("c", "noop", "Compare")]
    def compose(self):
        yield Static("controls\n" * 3)
        yield Clock()
        yield Static("panels\n" * 30)
        yield Footer()
    def on_mount(self):
        self.t0 = time.monotonic()
        self.set_interval(0.1, self.tick)
    def tick(self):
        clock = self.query_one(Clock)
        clock.text = f"elapsed {time.monotonic() - self.t0:.1f} s"
        clock.refresh()
    def action_noop(self):
        pass

Bare().run()
'''


def spawn(argv: list[str], cols: int, rows: int) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:
        env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
        env.pop("NO_COLOR", None)
        os.execve(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return pid, fd


def drain(fd: int, stop: threading.Event) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                if not os.read(fd, 65536):
                    return
            except OSError:
                return


def on_cpu(pid: int) -> dict[str, float]:
    """Seconds on a CPU per thread of ``pid`` (main thread as "main"), and of its sampling
    process (a child running conc_tui.monitor.sampler_process) as "sampler"."""
    out = {("main" if tid == pid else f"thread {tid}"): run
           for tid, (run, _) in thread_schedstat(pid).items()}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                ppid = int(f.read().rpartition(b")")[2].split()[1])
            if ppid != pid:
                continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if b"sampler_process" not in f.read():
                    continue
            with open(f"/proc/{name}/schedstat") as f:
                out["sampler"] = int(f.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue
    return out


def measure(name: str, argv: list[str], cols: int, rows: int, seconds: float) -> dict:
    pid, fd = spawn(argv, cols, rows)
    stop = threading.Event()
    reader = threading.Thread(target=drain, args=(fd, stop), daemon=True)
    reader.start()
    try:
        time.sleep(8.0)
        a = on_cpu(pid)
        time.sleep(seconds)
        b = on_cpu(pid)
    finally:
        os.write(fd, b"q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        stop.set()
        reader.join(1)
        os.close(fd)
    used = {k: b[k] - a.get(k, 0.0) for k in b}
    main = used.get("main", 0.0)
    sampler = used.get("sampler", 0.0)
    threads = sum(v for k, v in used.items() if k.startswith("thread "))
    return {"name": name, "main": 100 * main / seconds, "threads": 100 * threads / seconds,
            "sampler": 100 * sampler / seconds,
            "total": 100 * (main + threads + sampler) / seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--size", default="120x40")
    ap.add_argument("--no-big", action="store_true", help="leave out procs-1k")
    a = ap.parse_args()
    cols, rows = (int(x) for x in a.size.split("x"))
    here = os.path.dirname(sys.executable)
    conc_tui = os.path.join(here, "conc-tui")
    bare = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"textual_floor_{os.getpid()}.py")
    with open(bare, "w") as f:
        f.write(BARE_APP)
    cases = [("bare Textual, 10 Hz clock", [sys.executable, bare]),
             ("conc-tui, quiet run", [conc_tui, "--mode", "threads", "--workload", "io",
                                      "--tasks", "4", "--sleep", "60", "--run"])]
    if not a.no_big:
        cases.append(("conc-tui, procs-1k", [conc_tui, "--mode", "processes", "--workload",
                                             "io", "--tasks", "1000", "--sleep", "60",
                                             "--run"]))
    import textual
    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
          f" · Textual {textual.__version__} · terminal {cols}x{rows} · "
          f"load avg {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'case':<28} {'main':>7} {'threads':>8} {'sampler':>8} {'total':>7}  (% of a core)")
    try:
        for name, argv in cases:
            r = measure(name, argv, cols, rows, a.seconds)
            print(f"{name:<28} {r['main']:6.2f}% {r['threads']:7.2f}% {r['sampler']:7.2f}% "
                  f"{r['total']:6.2f}%", flush=True)
    finally:
        os.unlink(bare)


if __name__ == "__main__":
    main()

"""The sampler in a process of its own, so that reading /proc never holds the app's GIL.

With 1,000 worker processes a sample reads a file per process; done on a thread of the app
it competed with drawing for the GIL and the screen stalled for hundreds of milliseconds.
``SamplerProcess`` has the interface of ``Sampler`` (``watch``, ``sample``, ``history``,
``cpu_count``, ``logical_cores``) and asks a child process for each sample over a pipe: the
app's thread only waits on the pipe (which releases the GIL) and reads one short JSON line.

The child is started at the first sample, not before the first frame; it ends when its
stdin closes (the app exited, whatever the way). Should it be unavailable or fail, the
sampler carries on in-process (``Sampler``), so the screen never goes without samples.

    python -m conc_tui.monitor.sampler_process     the child: "watch PID" / "watch -" /
                                                   "sample" in, one JSON sample per "sample"
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from collections import deque

from ..engine.facts import usable_cpus
from .sampler import HISTORY, Sample, Sampler, ThreadLoad

#: How long a sample may take before the child is given up for the in-process sampler.
REPLY_TIMEOUT_S = 5.0


class SamplerProcess:
    """A ``Sampler`` whose readings are taken in a child process."""

    def __init__(self, history: int = HISTORY) -> None:
        import psutil

        self.cpu_count = usable_cpus()
        self.logical_cores = psutil.cpu_count() or 1
        self.history: list[deque] = [deque(maxlen=history) for _ in range(self.logical_cores)]
        self.parallelism_history: deque = deque(maxlen=history)
        self._history_len = history
        self._proc: subprocess.Popen | None = None
        self._watching: int | None = None
        self._local: Sampler | None = None  # when the child is not available
        self._lock = threading.Lock()
        self._buf = b""
        self._closed = False
        self.pid: int | None = None  # the child's, while it runs

    # -- the Sampler interface -------------------------------------------------------------

    def watch(self, pid: int | None) -> None:
        with self._lock:
            self._watching = pid
            if self._local is not None:
                self._local.watch(pid)
            elif self._proc is not None:
                self._send(f"watch {pid if pid is not None else '-'}\n")

    def sample(self) -> Sample:
        with self._lock:
            if self._local is None and self._closed:
                self._fall_back()
            if self._local is None:
                reply = self._ask()
                if reply is not None:
                    return self._keep(reply)
                self._fall_back()
            s = self._local.sample()
        return s

    def close(self) -> None:
        """End the child (idempotent); a later sample is taken in-process."""
        with self._lock:
            self._closed = True
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(1.0)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            proc.stdout.close()
            self.pid = None

    # -- the pipe --------------------------------------------------------------------------

    def _start(self) -> bool:
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "conc_tui.monitor.sampler_process"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                close_fds=True)
        except OSError:
            return False
        self.pid = self._proc.pid
        if self._watching is not None:
            self._send(f"watch {self._watching}\n")
        return True

    def _send(self, text: str) -> bool:
        try:
            self._proc.stdin.write(text.encode())
            self._proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def _ask(self) -> dict | None:
        if self._proc is None and not self._start():
            return None
        if not self._send("sample\n"):
            return None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buf:
            ready, _, _ = select.select([fd], [], [], REPLY_TIMEOUT_S)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            return None

    def _fall_back(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            proc.stdin.close()
            proc.stdout.close()
        self.pid = None
        self._local = Sampler(history=self._history_len)
        self._local.history = self.history  # keep what was drawn so far
        self._local.parallelism_history = self.parallelism_history
        self._local.watch(self._watching)

    def _keep(self, reply: dict) -> Sample:
        s = Sample(t=reply["t"], per_core=reply["per_core"], tree_cpu_s=reply["tree_cpu_s"],
                   parallelism_now=reply["parallelism_now"], processes=reply["procs"],
                   threads=[ThreadLoad(*t) for t in reply["thread_loads"]],
                   runner_share=reply["runner_share"], thread_count=reply["thread_count"])
        if reply["primed"]:
            for hist, value in zip(self.history, s.per_core):
                hist.append(value)
        self.parallelism_history.append(s.parallelism_now)
        return s


def _serve() -> int:
    """The child: answer "sample" with one JSON line, follow "watch"; end at EOF."""
    sampler = Sampler(history=2)
    primed = False
    out = sys.stdout.buffer
    for raw in sys.stdin.buffer:
        words = raw.split()
        if not words:
            continue
        if words[0] == b"watch" and len(words) == 2:
            sampler.watch(None if words[1] == b"-" else int(words[1]))
        elif words[0] == b"sample":
            s = sampler.sample()
            reply = {
                "t": s.t, "per_core": s.per_core, "tree_cpu_s": s.tree_cpu_s,
                "parallelism_now": s.parallelism_now, "procs": s.processes,
                "thread_loads": [[t.tid, t.cpu_s, t.share] for t in s.threads],
                "runner_share": s.runner_share, "thread_count": s.thread_count,
                "primed": primed,
            }
            primed = True
            out.write(json.dumps(reply).encode() + b"\n")
            out.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(_serve())
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(0)

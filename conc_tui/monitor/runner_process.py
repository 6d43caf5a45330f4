"""The runner as an operating-system process: start it, read its lines, end it, reap it.

Only process plumbing lives here (Popen, pipes, the process group, rusage); what the lines
mean is ``RunnerSource``'s business. The runner is started in its own process group so that
one signal reaches it and every worker it started.

    fd 0  a pipe to the runner: ``stop`` asks it to cancel; its end means we are gone
    fd 1  the event lines
    fd 2  diagnostics: the last 8 KiB are kept for error messages
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from typing import Callable

STOP_GRACE_S = 1.2  # the runner's own clean stop, before the whole group is killed
#: After the runner has said the run finished, how long it may take to exit before its
#: group is killed (a pool whose worker could not start can wait for ever in its exit).
EXIT_GRACE_S = 2.0
#: After a read, the reader lets lines gather this long before the next one. 1,000 workers
#: starting each write a line; read one by one they cost ~10x the CPU of reading them in a
#: few batches, and no reader needs them sooner (each line carries the time it was written,
#: and the screen takes them ten times a second, its task cells every third time). At 20 ms
#: the reader still took 0.6-0.7% of a core while 1,000 workers started; at 50 ms, 0.4%.
GATHER_S = 0.05


class RunnerProcess:
    """One runner process. ``on_line`` is called on a reader thread for each line it writes
    to stdout; ``on_exit`` once, after the process has been reaped."""

    def __init__(self, argv: list[str], *, on_line: Callable[[bytes], None],
                 on_exit: Callable[[], None]) -> None:
        self.argv = argv
        self.on_line = on_line
        self.on_exit = on_exit
        self.pid: int | None = None
        self.returncode: int | None = None
        self.rusage_cpu: float | None = None  # CPU s of the runner and its reaped children
        self.stderr_tail = ""
        self.exited_at: float | None = None  # monotonic
        self.finished_said = threading.Event()  # set by the owner when run-finished arrived
        self._said_at: float | None = None  # when the reader first saw finished_said
        self._proc: subprocess.Popen | None = None
        self._reaped = threading.Event()
        self._reader: threading.Thread | None = None
        self._err_reader: threading.Thread | None = None

    def start(self) -> None:
        """Start the runner and its reader threads; raises OSError if it cannot start."""
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: one signal reaches all
            close_fds=True,
        )
        self.pid = self._proc.pid
        self._reader = threading.Thread(target=self._read_stdout, name="conc-tui-events",
                                        daemon=True)
        self._err_reader = threading.Thread(target=self._read_stderr, name="conc-tui-stderr",
                                            daemon=True)
        # The stderr reader first: the stdout reader joins it once the runner has exited,
        # which can happen before this thread gets to run again.
        try:
            self._err_reader.start()
            self._reader.start()
        except RuntimeError as exc:  # no thread left to read it (a pid or memory limit)
            self._abandon()
            raise OSError(f"cannot start a thread to read the runner: {exc}") from None

    def _abandon(self) -> None:
        """End and reap a runner whose readers could not start; nothing is left behind."""
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._proc.wait()
        self.returncode = self._proc.returncode
        self.close()
        self._reaped.set()

    @property
    def reaped(self) -> bool:
        return self._reaped.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the runner has exited and been reaped; True if it has."""
        return self._reaped.wait(timeout)

    def request_stop(self) -> None:
        """Ask the runner to cancel (it terminates its workers and reports ``cancelled``)."""
        try:
            self._proc.stdin.write(b"stop\n")
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # it is gone already: the reader notices

    def stop(self, timeout: float = 2.0) -> None:
        """Ask, then kill the group if it has not ended in time; blocks up to ``timeout``."""
        if self._proc is None:
            return
        if not self._reaped.is_set():
            self.request_stop()
            if not self._reaped.wait(min(STOP_GRACE_S, timeout * 0.6)):
                self.kill_group()
            self._reaped.wait(max(0.1, timeout * 0.4))
        if self._reader is not None and self._reader.ident is not None:
            self._reader.join(0.5)

    def kill_group(self) -> None:
        """SIGKILL the runner's process group, while the runner's pid still holds it."""
        if self._proc is None or self._reaped.is_set():
            return
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        if self._proc is None:
            return
        for pipe in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass

    # -- reader threads ------------------------------------------------------------------

    def _read_stdout(self) -> None:
        fd = self._proc.stdout.fileno()
        buf = b""
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], 0.25)
            except InterruptedError:
                continue
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if line.strip():
                        self.on_line(line)
                if len(chunk) < 65536:
                    time.sleep(GATHER_S)
            elif self._runner_exited():
                # The runner is gone but a descendant still holds the pipe: end them.
                self.kill_group()
            elif self._overstaying():
                self.kill_group()
        if buf.strip():
            self.on_line(buf)
        self._reap()
        self.on_exit()

    def _overstaying(self) -> bool:
        """The run has finished, but the runner has not exited in EXIT_GRACE_S."""
        if not self.finished_said.is_set():
            return False
        if self._said_at is None:
            self._said_at = time.monotonic()
        return time.monotonic() - self._said_at > EXIT_GRACE_S

    def _read_stderr(self) -> None:
        tail = b""
        for chunk in iter(lambda: self._proc.stderr.read1(4096), b""):
            tail = (tail + chunk)[-8192:]
            self.stderr_tail = tail.decode("utf-8", "replace")

    def _runner_exited(self) -> bool:
        try:
            info = os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _reap(self) -> None:
        proc = self._proc
        # Wait without reaping, end stragglers in the group, then reap for rusage.
        try:
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _, status, usage = os.wait4(proc.pid, 0)
            self.rusage_cpu = usage.ru_utime + usage.ru_stime
            self.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            self.returncode = proc.returncode
        proc.returncode = self.returncode
        self.exited_at = time.monotonic()
        if self._err_reader is not None and self._err_reader.ident is not None:
            self._err_reader.join(1.0)
        self._reaped.set()

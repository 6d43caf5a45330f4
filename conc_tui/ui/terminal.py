"""What the app does for the terminal it runs in, apart from drawing.

- Garbage collection: the app makes Python's full collections itself, between frames, so
  that none lands inside one (a full pass over Textual's objects took 70-140 ms, a visible
  stall of the clock; after ``gc.freeze`` the remaining passes take 20-40 ms).
- Signals: SIGHUP (the terminal closed) and SIGTERM end the app, which stops the run.
- Hang-up: a terminal that closed while SIGHUP was ignored for us is noticed by asking it
  for its attributes, and the process leaves at once (nothing can be drawn or restored any
  more, and Textual's output thread dies on the first write to a hung-up terminal).
"""
from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import time
from typing import Callable

try:
    import termios
except ImportError:  # not on Windows
    termios = None

SIGHUP = getattr(signal, "SIGHUP", None)


class Terminal:
    """Garbage collection, signals and hang-up for one app. ``on_signal(sig)`` is called on
    the event loop for SIGHUP and SIGTERM."""

    GC_S = 20.0  # seconds between full garbage collections while a run goes

    def __init__(self, on_signal: Callable[[int], None]) -> None:
        self.on_signal = on_signal
        self._signals: list[int] = []
        self._tty_fd: int | None = None
        self._gc_threshold: tuple[int, int, int] | None = None  # while the app collects
        self._last_gc = 0.0
        self._run_frozen = False  # objects frozen by passes during a run, not yet thawed

    def install(self, *, headless: bool) -> None:
        """Take over full collections, signals, and watch the terminal (unless headless)."""
        # Everything built so far lives as long as the app: keep it out of full passes.
        gc.collect()
        gc.freeze()
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(self._gc_threshold[0], self._gc_threshold[1], 1_000_000)
        self._last_gc = time.monotonic()
        self._install_signal_handlers()
        self._tty_fd = None if headless else _terminal_fd()

    def uninstall(self) -> None:
        """Give back the collector's settings and the signals; idempotent."""
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
            gc.unfreeze()
            self._gc_threshold = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            for sig in self._signals:
                try:
                    loop.remove_signal_handler(sig)
                except (ValueError, RuntimeError):
                    pass  # the loop is closing: nothing to give back
        self._signals = []

    def collect_garbage(self, force: bool = False, idle: bool = False) -> None:
        """A full collection if one is due (or ``force``), once the app has taken them over;
        call it only where a pause of ~40 ms shows nowhere. ``idle``: no run is going.

        What survives a collection is frozen, so that the next one goes over what came
        since, not again over every task, track and line of a run of thousands (a pass
        every 20 s had been a sixteenth of the drawing thread's time at 10,000 tasks, and
        the pass as a run ends, over all of them, ~25 ms). Cycles among what was frozen
        during runs are freed by the first due pass between runs, which unfreezes first."""
        if self._gc_threshold is None:
            return
        if not force and time.monotonic() - self._last_gc < self.GC_S:
            return
        if idle and self._run_frozen:
            gc.unfreeze()
            self._run_frozen = False
        gc.collect()
        gc.freeze()
        self._run_frozen = self._run_frozen or not idle
        self._last_gc = time.monotonic()

    def alive(self) -> bool:
        """False once our terminal has hung up (a shell with ``trap '' HUP`` can keep the
        SIGHUP from us, and the app would run on, drawing into nothing)."""
        fd = self._tty_fd
        if fd is None:
            return True
        try:
            termios.tcgetattr(fd)
        except termios.error:
            return False
        except (OSError, ValueError):
            return True
        return True

    @staticmethod
    def leave_now(cleanup: Callable[[], None]) -> None:
        """The terminal is gone: clean up (stop the run), then leave without drawing."""
        cleanup()
        os._exit(128 + (SIGHUP or 1))

    def _install_signal_handlers(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for sig in (SIGHUP, signal.SIGTERM):
            if sig is None:
                continue
            try:
                loop.add_signal_handler(sig, self.on_signal, sig)
                self._signals.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or no such signal here: the default stays


def _terminal_fd() -> int | None:
    """The file descriptor of our terminal, to notice when it hangs up."""
    if termios is None:
        return None
    for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            continue
        if os.isatty(fd):
            return fd
    return None

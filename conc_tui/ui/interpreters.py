"""The interpreter control: which Python runs the work, beside the mode.

It starts with the one interpreter the app was given (so the first frame waits for
nothing), and a thread worker asks every interpreter on PATH, in pyenv and in uv what it is
(``monitor.find_pythons``, about a second for ten of them) and fills the list with those
that can run the work. The search waits while a run goes (``--run``): its ten processes
would take CPU from the run's first second and lower the parallelism it measures. Each is named by its version (``3.13.0``, ``3.13.0t`` for a
free-threaded build), as ``--python`` takes it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Sequence

from textual import work
from textual.message import Message
from textual.widgets import Select

from ..monitor import ConfigError, Interpreter, check_python, find_pythons
from ..monitor.config import RunConfig


def version_name(info: dict) -> str:
    """``3.13.0``, ``3.13.0t`` (a free-threaded build): an interpreter as the list shows it."""
    return str(info.get("version", "?")) + ("t" if info.get("free_threaded_build") else "")


def options_for(found: Sequence[Interpreter], current: str, current_name: str) -> list:
    """(label, path) for every usable interpreter, newest last, and always the current one
    (in place of the one it is, e.g. a virtualenv's python); a version found twice is told
    apart by where it was found."""
    usable = [i for i in found if i.usable]
    names = [i.name for i in usable]
    real = os.path.realpath(current)
    options = [(i.name if names.count(i.name) == 1 else f"{i.name} {i.source}",
                current if os.path.realpath(i.path) == real else i.path) for i in usable]
    if current not in [path for _, path in options]:
        options.insert(0, (current_name, current))
    return options


class InterpreterSelect(Select):
    """The interpreter ``config`` runs on, then every usable one found (see the module)."""

    @dataclass
    class Found(Message):
        """The interpreters a search found (posted from the worker thread)."""

        interpreters: list

    #: Seconds between two looks at whether the search may start (no run going).
    WAIT_S = 0.5

    def __init__(self, config: RunConfig, *, search: bool = True, info: dict | None = None,
                 finder: Callable[[], list] = find_pythons,
                 busy: Callable[[], bool] = lambda: False, id: str | None = None) -> None:
        self.default = config.python  # None: the interpreter conc-tui itself runs on
        self.current = config.python_executable
        info = info or config.interpreter()
        self.current_name = version_name(info) if info.get("version") else self.current
        super().__init__([(self.current_name, self.current)], value=self.current,
                         allow_blank=False, compact=True, id=id,
                         tooltip="the Python that runs the work (conc-tui pythons lists "
                                 "them all): subinterpreters need 3.12+, a build with a "
                                 "t is free-threaded")
        self.search = search
        self.finder = finder
        self.busy = busy
        self.found: list = []
        self._waiting = None  # the timer that waits for no run to be going

    def on_mount(self) -> None:
        if self.search:
            # After the first frame (and an autorun's start), then once no run goes.
            self._waiting = self.set_interval(self.WAIT_S, self._find_when_idle)

    def _find_when_idle(self) -> None:
        if self.busy():
            return
        self._waiting.stop()
        self._find()

    @work(thread=True, exit_on_error=False, group="pythons")
    def _find(self) -> None:
        found = self.finder()
        for interp in found:  # ask now, off the app's thread, what a run will check
            if interp.usable:
                try:
                    check_python(interp.path)
                except ConfigError:
                    pass  # it answered the search; the run will say what is wrong
        self.post_message(self.Found(found))

    def on_interpreter_select_found(self, message: Found) -> None:
        message.stop()
        self.fill(message.interpreters)

    def fill(self, found: Sequence[Interpreter]) -> None:
        """List ``found`` (keeping the interpreter chosen now)."""
        chosen = self.value
        self.found = list(found)
        options = options_for(found, self.current, self.current_name)
        with self.prevent(Select.Changed):
            self.set_options(options)
            paths = [path for _, path in options]
            self.value = chosen if chosen in paths else self.current

    @property
    def python(self) -> str | None:
        """What ``RunConfig.python`` takes: None while the default is chosen."""
        value = str(self.value)
        if value == self.current:
            return self.default
        return value

"""Shared helpers for the engine, session, CLI and sampler tests.

Everything here drives the real thing: a Session that starts a real runner process, or the
real ``conc-tui`` executable in a subprocess. Sizes are tiny; bounds on time are generous.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conc_tui.engine.progress import shm_dir
from conc_tui.engine.protocol import to_dict
from conc_tui.monitor import RunConfig, Session, mode_info

# -- the executable ------------------------------------------------------------------------


def conc_tui_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m conc_tui``."""
    script = Path(sys.executable).parent / "conc-tui"
    if script.exists():
        return [str(script)]
    found = shutil.which("conc-tui")
    if found:
        return [found]
    return [sys.executable, "-m", "conc_tui"]


CLI_ENV = dict(os.environ, NO_COLOR="1", COLUMNS="120", TERM="dumb")
CLI_ENV.pop("FORCE_COLOR", None)


def run_cli(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Run ``conc-tui ARGS`` with stdin, stdout and stderr not terminals."""
    kwargs.setdefault("env", CLI_ENV)
    return subprocess.run(conc_tui_command() + list(args), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, **kwargs)


def popen_cli(*args: str, **kwargs) -> subprocess.Popen:
    """Start ``conc-tui ARGS`` in its own session (as a shell job would be), output piped."""
    kwargs.setdefault("env", CLI_ENV)
    return subprocess.Popen(conc_tui_command() + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True, **kwargs)


DONE_LINE = re.compile(r"^(\d+) is done\b", re.M)
PARALLELISM = re.compile(r"effective parallelism (\d+\.\d\d) of (\d+) cores")


def done_ids(stdout: str) -> list[int]:
    return [int(m) for m in DONE_LINE.findall(stdout)]


# -- the machine ---------------------------------------------------------------------------


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def shm_files() -> set[str]:
    """Every conc-tui progress block currently named in shared memory."""
    return set(glob.glob(os.path.join(shm_dir(), "conc-tui-*")))


def shm_leftovers(before: set[str], grace: float = 1.0) -> set[str]:
    """Blocks that appeared since ``before`` and are still there after ``grace`` seconds.

    Other runs on a shared machine may create (and at once remove) their own blocks, so a
    new name only counts as a leftover if it outlives the grace period.
    """
    new = shm_files() - before
    deadline = time.monotonic() + grace
    while new and time.monotonic() < deadline:
        time.sleep(0.05)
        new = {p for p in new if os.path.exists(p)}
    return new


def my_children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def is_alive(proc: psutil.Process) -> bool:
    """Running and not a zombie (a zombie has ended; only its exit status is left)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(procs, timeout: float) -> list[psutil.Process]:
    """Wait until every process has ended; returns those still alive after ``timeout``."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if is_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if is_alive(p)]
    return alive


def proc_handles(pids) -> list[psutil.Process]:
    """psutil handles for ``pids`` that exist now (they remember their start time, so a
    recycled pid is not mistaken for the same process)."""
    out = []
    for pid in set(pids):
        try:
            out.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    return out


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def wait_for(predicate, timeout: float, interval: float = 0.05):
    """Poll ``predicate`` until it returns something true; returns it (or the last value)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


# -- sessions ------------------------------------------------------------------------------


def wire(events):
    """Typed events as the dicts of the wire format, for assertions on every field; lazy,
    so that a loop over a live session can stop early."""
    return (to_dict(e) for e in events)


def collect(session: Session, timeout: float = 60) -> list[dict]:
    """Every event of a started session, until it has ended."""
    evs = list(wire(session.events(timeout=timeout)))
    assert session.done, f"run did not end within {timeout} s: {session.counts}"
    return evs


def run_session(config: RunConfig, timeout: float = 60):
    """Run ``config`` to its end; returns (session, events, progress at the end, result)."""
    session = Session(config)
    session.start()
    try:
        evs = collect(session, timeout)
        fractions = session.progress()
        result = session.result()
    finally:
        session.close()
    return session, evs, fractions, result


def of_kind(evs: list[dict], kind: str) -> list[dict]:
    return [e for e in evs if e.get("kind") == kind]


def is_process_mode(mode: str) -> bool:
    return mode_info(mode).in_processes


# -- other interpreters --------------------------------------------------------------------

PYENV = "/root/.pyenv/versions"


def pyenv_pythons(patterns) -> list[str]:
    """Interpreters from pyenv matching ``patterns`` (version globs), first match each."""
    found = []
    for pattern in patterns:
        hits = sorted(glob.glob(os.path.join(PYENV, pattern, "bin", "python3")))
        hits = hits or sorted(glob.glob(os.path.join(PYENV, pattern, "bin", "python")))
        if hits:
            found.append(hits[0])
    return found


def pyenv_version(path: str) -> str:
    """The version pyenv installed at ``path`` (its directory name, e.g. 3.12.1)."""
    return Path(path).parent.parent.name


def python_for(mode: str) -> str | None:
    """The interpreter a test of ``mode`` runs under: None (this one) when it can run the
    mode, else the newest pyenv interpreter that can; skips, saying why, when none can."""
    import platform

    here = (platform.python_implementation(), sys.version_info[:2])
    if mode_info(mode).refusal(*here) is None:
        return None
    found = glob.glob(os.path.join(PYENV, "3.*", "bin", "python3"))
    for path in sorted(found, key=_version_key, reverse=True):
        if mode_info(mode).refusal("CPython", _version_key(path)[:2]) is None:
            return path
    pytest.skip(f"{mode} cannot run on Python {here[1][0]}.{here[1][1]} and no pyenv "
                f"interpreter under {PYENV} can run it")


def _version_key(path: str) -> tuple:
    return tuple(int(p) for p in pyenv_version(path).split(".")[:3] if p.isdigit())


def runnable_modes() -> list[str]:
    """The modes this interpreter can run, in registry order: what the app's compare runs
    (subinterpreters are left out on Python 3.11)."""
    from conc_tui.monitor import MODES

    return [m for m in MODES if RunConfig(mode=m).refusal() is None]

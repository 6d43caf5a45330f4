"""What a run is made of, and the checks that refuse bad values before anything starts."""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from ..engine import boot, facts, registry
from ..engine.facts import usable_cpus

MIN_PYTHON = (3, 9)
MAX_TASKS = 100_000
DEFAULT_NICE = 19


class ConfigError(ValueError):
    """A value that cannot make a run; ``field`` names the setting, str() says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# -- one parser per field: used by the CLI and by the app's inputs alike -------------------

def parse_mode(text: str) -> str:
    try:
        return registry.mode(text).name
    except KeyError:
        raise ConfigError("mode", f"unknown mode {text!r} "
                                  f"(choose from {', '.join(registry.MODES)})") from None


def parse_workload(text: str) -> str:
    try:
        return registry.workload(text).name
    except KeyError:
        raise ConfigError("workload", f"unknown workload {text!r} (choose from "
                                      f"{', '.join(registry.WORKLOADS)}, or your own "
                                      "MODULE:FUNCTION or file.py:FUNCTION)") from None


def _int(field_name: str, text: str | int) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise ConfigError(field_name, f"{field_name} must be a whole number, not {text!r}") from None


def parse_tasks(text: str | int) -> int:
    value = _int("tasks", text)
    if not 1 <= value <= MAX_TASKS:
        raise ConfigError("tasks", f"tasks must be between 1 and {MAX_TASKS:,}, not {value}")
    return value


def parse_n(text: str | int) -> int:
    value = _int("n", text)
    if not 2 <= value <= 100_000:
        raise ConfigError("n", f"n must be between 2 and 100000, not {value}")
    return value


def parse_sleep(text: str | float) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ConfigError("sleep", f"sleep must be a number of seconds, not {text!r}") from None
    if not value >= 0 or value > 3600:  # also refuses nan
        raise ConfigError("sleep", f"sleep must be between 0 and 3600 seconds, not {text}")
    return value


def parse_workers(text: str | int | None) -> int | None:
    if text is None or str(text).strip() in ("", "auto"):
        return None
    value = _int("workers", text)
    if not 1 <= value <= 4096:
        raise ConfigError("workers", f"workers must be between 1 and 4096, not {value}")
    return value


def parse_nice(text: str | int) -> int:
    value = _int("nice", text)
    if not 0 <= value <= 19:
        raise ConfigError("nice", f"nice must be between 0 and 19, not {value}")
    return value


def parse_threads_per_worker(text: str | int) -> int:
    value = _int("threads_per_worker", text)
    if not 1 <= value <= 256:
        raise ConfigError("threads_per_worker",
                          f"threads per worker must be between 1 and 256, not {value}")
    return value


def parse_gil(text: str | None) -> str | None:
    """``on``, ``off``, or None (leave the interpreter's default)."""
    if text is None or str(text).strip() in ("", "auto", "default"):
        return None
    value = str(text).strip().lower()
    if value not in ("on", "off"):
        raise ConfigError("gil", f"gil must be on or off, not {text!r}")
    return value


PARSERS = {
    "mode": parse_mode,
    "workload": parse_workload,
    "tasks": parse_tasks,
    "n": parse_n,
    "sleep": parse_sleep,
    "workers": parse_workers,
    "nice": parse_nice,
    "threads_per_worker": parse_threads_per_worker,
    "gil": parse_gil,
}


PROBE_TIMEOUT_S = 20.0


def _run_probe(argv: list[str], what: str, timeout: float) -> str:
    """Run a probe in its own process group; its stdout. A hang is killed, group and all,
    and said as a time-out (ConfigError for ``what``)."""
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as exc:
        raise ConfigError(what, f"{argv[0]} could not be started: {exc.strerror or exc}") from None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass  # it ended by itself meanwhile
        proc.communicate()
        raise ConfigError(what, f"{argv[0]} did not answer within {timeout:g} s "
                                "(timed out; it was stopped)") from None
    return out


def probe_python(path: str, timeout: float = PROBE_TIMEOUT_S) -> dict:
    """Ask an interpreter what it is, by running the engine's facts module under it.

    Returns ``facts.probe()`` of that interpreter (executable, version, version_info,
    implementation, gil_enabled, free_threaded_build, cpu_count), whatever its version.
    Raises ConfigError when it cannot be run, does not answer as Python, or hangs (then it
    and everything it started are killed).
    """
    exe = shutil.which(path) if os.sep not in path else path
    if not exe or not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        raise ConfigError("python", f"interpreter not found or not executable: {path}")
    out = _run_probe([exe, facts.__file__], "python", timeout)
    try:
        info = json.loads(out.strip().splitlines()[-1])
        info["version_info"] = tuple(info["version_info"])
    except (ValueError, IndexError, KeyError, TypeError):
        raise ConfigError("python", f"{path} did not run as a Python interpreter") from None
    return info


def check_workload(python: str, spec: str, timeout: float = PROBE_TIMEOUT_S) -> dict:
    """Load the user's function the way the runner will, under the runner's interpreter,
    before anything runs: how it will be called, or ConfigError saying why it cannot be."""
    out = _run_probe(boot.module_command(python, "custom", [spec]), "workload", timeout)
    try:
        answer = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise ConfigError("workload", f"{spec}: loading it failed without saying why") from None
    if not answer.get("ok"):
        raise ConfigError("workload", answer.get("error") or f"{spec} cannot be run")
    return answer


@functools.lru_cache(maxsize=32)
def check_python(path: str) -> dict:
    """The interpreter at ``path`` as the runner will report it (``facts.python_info``).

    Raises ConfigError when it cannot be run or is older than 3.9.
    """
    info = probe_python(path)
    if info["version_info"] < MIN_PYTHON:
        raise ConfigError("python", f"{path} is Python {info['version']}; "
                                    f"conc-tui needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer")
    return {k: v for k, v in info.items() if k not in ("version_info", "cpu_count")}


def check_mode_available(name: str) -> None:
    """A mode that needs a package conc-tui's interpreter does not have says how to get it."""
    import importlib.util

    mode = registry.mode(name)
    if mode.requires and importlib.util.find_spec(mode.requires) is None:
        raise ConfigError("mode", f"the {name} mode needs {mode.requires}, which is not "
                                  f"installed: {mode.install}")


def mode_available(name: str) -> bool:
    try:
        check_mode_available(name)
    except ConfigError:
        return False
    return True


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Something must answer at a --scheduler address before a run starts (a dead address
    is one line and exit 2, within the time-out)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else "tcp://" + address)
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or not parts.port:
        raise ConfigError("scheduler", f"--scheduler takes tcp://HOST:PORT, not {address!r}")
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError("scheduler", f"no Dask scheduler answers at {address}: "
                                       f"{exc.strerror or exc}") from None
def version_of(info: dict) -> tuple[int, int]:
    """(major, minor) of an interpreter's facts (``version`` "3.13.0" -> (3, 13))."""
    try:
        major, minor = str(info.get("version", "")).split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return (0, 0)


def mode_refusal(mode: str, info: dict) -> str | None:
    """Why the interpreter described by ``info`` (its facts) cannot run ``mode``, or None."""
    return registry.mode(mode).refusal(str(info.get("implementation", "")), version_of(info))


def gil_refusal(gil: str | None, info: dict) -> str | None:
    """Why ``--gil`` cannot be honoured by that interpreter, or None.

    Only a free-threaded build (Py_GIL_DISABLED: 3.13t, 3.14t) can run without the GIL;
    ``--gil on`` asks for what every other build does anyway.
    """
    if gil == "off" and not info.get("free_threaded_build"):
        return (f"--gil off needs a free-threaded build (such as 3.13t); "
                f"{info.get('implementation', 'Python')} {info.get('version', '?')} "
                f"always has a GIL")
    return None


@dataclass(frozen=True)
class RunConfig:
    """One experiment: which mode runs which workload, how many tasks, how big."""

    mode: str = "threads"
    workload: str = "cpu"
    tasks: int = 80
    n: int = 500
    sleep: float = 2.0
    workers: int | None = None  # None: usable cores (pools); one per task otherwise
    python: str | None = None  # None: the interpreter conc-tui itself runs on
    nice: int = DEFAULT_NICE
    fail_tasks: tuple[int, ...] = field(default_factory=tuple)
    threads_per_worker: int = 1  # dask: threads in each worker process
    scheduler: str | None = None  # dask: tcp://HOST:PORT of a running cluster (else a local one)
    gil: str | None = None  # "on" or "off" on a free-threaded build; None: its default

    def validated(self) -> "RunConfig":
        """Return the config with every field checked; raises ConfigError."""
        for name, parse in PARSERS.items():
            parse(getattr(self, name))
        for task in self.fail_tasks:
            if not 0 <= task < self.tasks:
                raise ConfigError("fail_tasks",
                                  f"--fail-task {task} is not a task id (0..{self.tasks - 1})")
        refused = self.refusal()
        if refused is not None:
            raise ConfigError(*refused)
        if registry.workload(self.workload).custom:
            check_workload(self.python_executable, self.workload)
        check_mode_available(self.mode)
        if self.scheduler is not None:
            check_scheduler(self.scheduler)
        return self

    def refusal(self) -> tuple[str, str] | None:
        """(field, why) when the interpreter cannot run this mode or honour ``gil``, else
        None; raises ConfigError when the interpreter itself cannot be used."""
        info = facts.python_info() if self.python is None else check_python(self.python)
        for name, why in (("mode", mode_refusal(self.mode, info)),
                          ("gil", gil_refusal(self.gil, info))):
            if why:
                return name, why
        return None

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    @property
    def python_executable(self) -> str:
        return self.python or sys.executable

    def effective_workers(self, cpus: int | None = None) -> int:
        """Workers the mode really uses: pools default to usable cores, others one per task."""
        return registry.mode(self.mode).workers_for(self.tasks, self.workers,
                                                     cpus or usable_cpus())

    def interpreter(self) -> dict:
        """The interpreter the run will use, as the screen shows it before the run starts."""
        if self.python is None:
            return facts.python_info()
        try:
            return check_python(self.python)
        except ConfigError:
            return {"executable": self.python}

    def sizes_key(self) -> tuple:
        """What makes two runs comparable for a speedup: same work, same interpreter."""
        return (self.workload, self.tasks, self.n, self.sleep, self.python_executable)

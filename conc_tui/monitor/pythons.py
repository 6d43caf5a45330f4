"""Interpreters by name: every Python on PATH, in pyenv and in uv, and the one a name means.

``--python`` takes a path, a command on PATH, or a version (``3.13``, ``3.13t`` for a
free-threaded build, ``3.12.1``, ``python3.12``). ``find_pythons`` lists what this machine
has; ``resolve_python`` turns a name into one executable, or says in one line what was looked
for and what exists.

Every answer comes from the interpreter itself: each candidate runs the engine's facts module
(``config.probe_python``), all of them at once in a thread pool, so listing ten interpreters
takes about as long as asking one. Where to look (PATH, the pyenv and uv directories) can be
passed in, so that tests can build a fake machine in a temporary directory.
"""
from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .config import MIN_PYTHON, ConfigError, probe_python

#: Where interpreters are looked for, in this order (also the order among equal versions).
SOURCES = ("PATH", "pyenv", "uv")
#: Seconds one interpreter may take to say what it is; a slower one is listed as timed out.
DEFAULT_TIMEOUT_S = 10.0
#: Interpreters probed at once.
MAX_PROBES = 16
#: Subinterpreters with their own GIL (the ``subinterpreters`` mode) arrived in CPython 3.12.
SUBINTERPRETERS_SINCE = (3, 12)

# python, python3, python3t, python3.13, python3.13t: not python3-config, python3.13-gdb.py.
_EXE_NAME = re.compile(r"^python(?:3(?:\.\d+)?t?)?$")
# A version asked for: 3, 3.13, 3.13t, 3.12.1, python3.12, python3.13t.
_VERSION_SPEC = re.compile(r"^(python)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(t)?$")
_VERSION_TEXT = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")
_MIN_TEXT = "%d.%d" % MIN_PYTHON


@dataclass(frozen=True)
class Interpreter:
    """One interpreter found, as it described itself (or why it could not)."""

    path: str
    version: str  # "3.13.0", "" when the probe failed
    version_info: tuple  # (3, 13, 0), () when the probe failed
    implementation: str  # "CPython", "PyPy", "" when the probe failed
    gil_enabled: bool | None
    free_threaded_build: bool | None
    source: str  # "PATH", "pyenv" or "uv"
    usable: bool  # can run the runner: 3.9 or newer, and it answered
    reason: str | None = None  # why not usable: too old, or the probe's error

    @property
    def name(self) -> str:
        """The version as ``--python`` takes it: ``3.13.0``, or ``3.13.0t`` when free-threaded."""
        return self.version + ("t" if self.free_threaded_build else "")

    @property
    def subinterpreters(self) -> bool:
        """True when the version has subinterpreters with their own GIL (CPython 3.12+)."""
        return (self.implementation == "CPython"
                and tuple(self.version_info[:2]) >= SUBINTERPRETERS_SINCE)


# -- where to look -------------------------------------------------------------------------

def default_pyenv_root() -> str:
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def default_uv_dir() -> str:
    """uv's managed pythons: $UV_PYTHON_INSTALL_DIR, else $XDG_DATA_HOME/uv/python."""
    explicit = os.environ.get("UV_PYTHON_INSTALL_DIR")
    if explicit:
        return explicit
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data, "uv", "python")


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _names_in(directory: str) -> list[str]:
    """Interpreter names in a directory, versioned names (python3.13) before generic ones."""
    try:
        names = [n for n in os.listdir(directory) if _EXE_NAME.match(n)]
    except OSError:
        return []
    return sorted(names, key=lambda n: ("." not in n, n))


def _inside(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def candidates(*, path_env: str | None = None, pyenv_root: str | None = None,
               uv_dir: str | None = None) -> list[tuple[str, str]]:
    """(path, source) of every interpreter file to ask, without asking: PATH, pyenv, uv.

    pyenv's own directories on PATH (its shims) are skipped: the shims only forward to the
    versions scanned directly, and a shim for a version that is not selected fails.
    """
    path_env = os.environ.get("PATH", os.defpath) if path_env is None else path_env
    pyenv_root = default_pyenv_root() if pyenv_root is None else pyenv_root
    uv_dir = default_uv_dir() if uv_dir is None else uv_dir
    found = []
    for directory in path_env.split(os.pathsep):
        if not directory or _inside(directory, pyenv_root):
            continue
        found += [(os.path.join(directory, n), "PATH") for n in _names_in(directory)]
    for root, source in ((os.path.join(pyenv_root, "versions"), "pyenv"), (uv_dir, "uv")):
        try:
            installs = sorted(os.listdir(root))
        except OSError:
            continue
        for install in installs:
            bindir = os.path.join(root, install, "bin")
            found += [(os.path.join(bindir, n), source) for n in _names_in(bindir)]
    return [(p, s) for p, s in found if _is_executable(p)]


# -- asking them ---------------------------------------------------------------------------

def _version_info(info: dict) -> tuple:
    """(major, minor, micro) from the version text ("3.13.0rc1" -> (3, 13, 0))."""
    m = _VERSION_TEXT.match(str(info.get("version", "")))
    if m:
        return tuple(int(g or 0) for g in m.groups())
    return tuple(info.get("version_info") or ())


def _interpreter(path: str, source: str, timeout: float) -> tuple[Interpreter, str | None]:
    """Probe one candidate; returns it and the real path of the executable it reported."""
    try:
        info = probe_python(path, timeout)
    except ConfigError as exc:
        return Interpreter(path=path, version="", version_info=(), implementation="",
                           gil_enabled=None, free_threaded_build=None, source=source,
                           usable=False, reason=str(exc)), None
    vinfo = _version_info(info)
    usable = vinfo[:2] >= MIN_PYTHON
    reason = None if usable else f"too old: conc-tui needs Python {_MIN_TEXT} or newer"
    exe = info.get("executable") or ""
    interp = Interpreter(
        path=path, version=str(info.get("version", "")), version_info=vinfo,
        implementation=str(info.get("implementation", "")),
        gil_enabled=info.get("gil_enabled"), free_threaded_build=info.get("free_threaded_build"),
        source=source, usable=usable, reason=reason)
    return interp, (os.path.realpath(exe) if exe else None)


def _sort_key(interp: Interpreter):
    return (not interp.version_info, interp.version_info, SOURCES.index(interp.source),
            interp.path)


def find_pythons(*, path_env: str | None = None, pyenv_root: str | None = None,
                 uv_dir: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S) -> list[Interpreter]:
    """Every interpreter on PATH, in pyenv and in uv, each once, asked what it is.

    The same file reached twice (a symlink, a PATH entry into pyenv) is listed once, under
    the first place it was found (PATH, then pyenv, then uv); so is a wrapper that reports an
    interpreter already listed. One that cannot be run, does not answer as Python or hangs
    longer than ``timeout`` seconds (it is then killed) is listed as not usable, with the
    reason. Sorted by version (those that did not answer last), then by source.
    """
    unique, seen = [], set()
    for path, source in candidates(path_env=path_env, pyenv_root=pyenv_root, uv_dir=uv_dir):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append((path, source))
    if not unique:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PROBES, len(unique)),
                            thread_name_prefix="conc-tui-probe") as pool:
        answers = list(pool.map(lambda c: _interpreter(c[0], c[1], timeout), unique))
    out, reported = [], set()
    for interp, exe in answers:  # in the order found, so the first place wins
        if exe is not None:
            if exe in reported:
                continue
            reported.add(exe)
        out.append(interp)
    return sorted(out, key=_sort_key)


# -- a name to one interpreter -------------------------------------------------------------

def parse_version_spec(spec: str):
    """``(numbers, free_threaded, from_command)`` for a version spec, else None.

    ``3.13`` -> ((3, 13), False, False); ``3.13t`` -> ((3, 13), True, False);
    ``python3.12`` -> ((3, 12), False, True). ``python3`` and ``python`` are commands.
    """
    m = _VERSION_SPEC.match(spec)
    if not m:
        return None
    prefix, major, minor, micro, t = m.groups()
    if prefix and minor is None:
        return None  # python3, python3t: the command on PATH
    numbers = tuple(int(g) for g in (major, minor, micro) if g is not None)
    return numbers, bool(t), bool(prefix)


def _describe(numbers: tuple, free_threaded: bool) -> str:
    text = ".".join(str(n) for n in numbers)
    return f"free-threaded Python {text}t" if free_threaded else f"Python {text}"


def _found_text(interps: list[Interpreter], limit: int = 15) -> str:
    names = []
    for i in interps:
        if i.version and i.name not in names:
            names.append(i.name)
    if not names:
        return "found none"
    if len(names) > limit:
        names = names[:limit - 3] + ["…"] + names[-2:]
    return "found: " + ", ".join(names)


def _checked(path: str, spec: str, timeout: float) -> str:
    info = probe_python(path, timeout)
    if tuple(info["version_info"][:2]) < MIN_PYTHON:
        raise ConfigError("python", f"{spec} is Python {info['version']}, too old: "
                                    f"conc-tui needs Python {_MIN_TEXT} or newer")
    return path


def best_match(interpreters: list[Interpreter], numbers: tuple,
               free_threaded: bool) -> tuple[Interpreter | None, list[Interpreter]]:
    """The interpreter a version means, and every one of that version (usable or not).

    The newest patch wins; for ``3.13`` a GIL build is preferred, ``3.13t`` needs a
    free-threaded build; among equals the first source (PATH, pyenv, uv).
    """
    matches = [i for i in interpreters
               if i.version_info and tuple(i.version_info[:len(numbers)]) == numbers]
    if free_threaded:
        matches = [i for i in matches if i.free_threaded_build]
    usable = [i for i in matches if i.usable]
    if not free_threaded:
        usable = [i for i in usable if not i.free_threaded_build] or usable
    if not usable:
        return None, matches
    best = max(usable, key=lambda i: (i.version_info, -SOURCES.index(i.source)))
    return best, matches


def resolve_python(spec: str, *, path_env: str | None = None, pyenv_root: str | None = None,
                   uv_dir: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                   interpreters: list[Interpreter] | None = None) -> str:
    """The executable ``--python SPEC`` means; raises ConfigError("python", one line).

    SPEC is a path (``/usr/bin/python3``, ``~/py/bin/python``), a command on PATH
    (``python3``, ``pypy3``) or a version (``3.13``, ``3.13t``, ``3.12.1``, ``python3.12``;
    the last is also tried as a command when no such version is found). Interpreters older
    than 3.9 are refused with their version. ``interpreters`` skips the search (a list from
    ``find_pythons``).
    """
    spec = (spec or "").strip()
    if not spec:
        raise ConfigError("python", "--python needs a path, a command or a version "
                                    "such as 3.13; try `conc-tui pythons`")
    path_env = os.environ.get("PATH", os.defpath) if path_env is None else path_env
    if os.sep in spec or (os.altsep and os.altsep in spec) or spec.startswith("~"):
        return _checked(os.path.abspath(os.path.expanduser(spec)), spec, timeout)
    wanted = parse_version_spec(spec)
    if wanted is None:
        exe = shutil.which(spec, path=path_env)
        if exe is None:
            raise ConfigError("python", f"no command {spec!r} on PATH; give a path or a "
                                        "version such as 3.13 (try `conc-tui pythons`)")
        return _checked(os.path.abspath(exe), spec, timeout)
    numbers, free_threaded, from_command = wanted
    if interpreters is None:
        interpreters = find_pythons(path_env=path_env, pyenv_root=pyenv_root, uv_dir=uv_dir,
                                    timeout=timeout)
    best, matches = best_match(interpreters, numbers, free_threaded)
    if best is not None:
        return best.path
    if from_command:  # python3.12 as a plain command, e.g. a directory not searched
        exe = shutil.which(spec, path=path_env)
        if exe is not None:
            return _checked(os.path.abspath(exe), spec, timeout)
    if matches:
        newest = max(matches, key=lambda i: i.version_info)
        raise ConfigError("python", f"{spec}: Python {newest.name} ({newest.path}) is too old: "
                                    f"conc-tui needs Python {_MIN_TEXT} or newer")
    raise ConfigError("python", f"no {_describe(numbers, free_threaded)} found on PATH, in "
                                f"pyenv or uv ({_found_text(interpreters)}); "
                                "try `conc-tui pythons`")


def suggest_for(mode: str, interpreters: list[Interpreter] | None = None) -> str | None:
    """The version to offer a person whose interpreter cannot run ``mode``: the newest
    usable GIL build found that can (``3.13``), or None when there is none."""
    from ..engine.registry import mode as mode_info

    entry = mode_info(mode)
    if interpreters is None:
        interpreters = find_pythons()
    able = [i for i in interpreters if i.usable and not i.free_threaded_build
            and entry.refusal(i.implementation, tuple(i.version_info[:2])) is None]
    if not able:
        return None
    best = max(able, key=lambda i: i.version_info)
    return "%d.%d" % tuple(best.version_info[:2])


# -- for the table and JSON ----------------------------------------------------------------

def build_text(interp: Interpreter) -> str:
    """``GIL``, ``free-threaded``, ``free-threaded, GIL on`` (re-enabled), or ``?``."""
    if interp.free_threaded_build is None:
        return "?"
    if not interp.free_threaded_build:
        return "GIL"
    return "free-threaded, GIL on" if interp.gil_enabled else "free-threaded"


def pythons_rows(interpreters: list[Interpreter]) -> list[dict]:
    """One dict per interpreter, JSON-ready, in the order given: what ``conc-tui pythons``
    shows (``version``, ``build``, ``source``, ``path``, ``status``) and the raw facts."""
    rows = []
    for i in interpreters:
        rows.append({
            "version": i.version or "?",
            "name": i.name or "?",
            "implementation": i.implementation or "?",
            "build": build_text(i),
            "gil_enabled": i.gil_enabled,
            "free_threaded_build": i.free_threaded_build,
            "subinterpreters": i.subinterpreters,
            "source": i.source,
            "path": i.path,
            "usable": i.usable,
            "reason": i.reason,
            "status": "ok" if i.usable else (i.reason or "not usable"),
        })
    return rows

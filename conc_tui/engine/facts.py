"""Facts about this machine and this interpreter: the one home for them.

The runner reports them in ``run-started``; the monitor asks another interpreter for them by
running this file as a script (``python facts.py`` prints them as one JSON line), so the
answer always comes from the interpreter that will run the work, never from a guess.

Standard library only, and no syntax newer than Python 2.7: probing an interpreter that is
too old must still print its version, so that the monitor can say "too old" instead of
"not a Python interpreter".
"""
import json
import os
import platform
import sys
import sysconfig


def free_threaded_build():
    """True when this build can run without the GIL (CPython 3.13t, 3.14t: Py_GIL_DISABLED)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled():
    """True when the GIL is on right now.

    A free-threaded build can still run with the GIL (``PYTHON_GIL=1``, or an extension
    module that does not declare itself safe turns it back on when imported), so this asks
    the running interpreter rather than its build.
    """
    check = getattr(sys, "_is_gil_enabled", None)
    if check is not None:
        return bool(check())
    return not free_threaded_build()


def python_info():
    """The interpreter, as the runner reports it and the screen shows it."""
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "gil_enabled": gil_enabled(),
        "free_threaded_build": free_threaded_build(),
    }


def usable_cpus():
    """Cores this process may run on (its affinity): the ceiling of any parallelism."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = getattr(os, "cpu_count", None)  # not on Python 2
        return (count() if count else None) or 1


def probe():
    """What ``python facts.py`` prints: python_info, the version as numbers, the cores."""
    info = python_info()
    info["version_info"] = list(sys.version_info[:2])
    info["cpu_count"] = usable_cpus()
    return info


if __name__ == "__main__":
    sys.stdout.write(json.dumps(probe()) + "\n")

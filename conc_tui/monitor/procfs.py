"""Reading a process's stat file from Linux's /proc, the cheap way.

The sampler and the thread-time probe read one for every process of a big tree, and of
the machine when they look for the tree: ``os.open`` and ``os.read`` cost half of what a
buffered file object does.
"""
from __future__ import annotations

import os

#: How every /proc file here is opened: read-only, and never inherited by a child (the
#: sampler and the probe keep hundreds open while the runner starts its workers).
READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def stat_rest(directory: str) -> bytes | None:
    """``DIRECTORY/stat`` (``/proc/PID`` or ``/proc/PID/task/TID``) after the command
    name: the state first, then the other fields; None when it cannot be read. (The name
    may hold spaces and ")": what follows the last one.)"""
    try:
        fd = os.open(f"{directory}/stat", READ_FLAGS)
    except OSError:
        return None
    try:
        return os.read(fd, 4096).rpartition(b")")[2]
    except OSError:
        return None
    finally:
        os.close(fd)


def stat_fields(data: bytes, maxsplit: int = -1) -> list[bytes]:
    """A stat line's fields after the command name (the state first), the last
    ``maxsplit``-th holding the rest unsplit."""
    return data.rpartition(b")")[2].split(None, maxsplit)


def pid_counters(proc: str = "/proc") -> tuple[int, int] | None:
    """(threads on the machine, the last pid handed out) from ``PROC/loadavg``'s 4th and
    5th fields ("2/1234 5678"), or None. While both stay the same, no process or thread
    has begun, and none has been reaped, anywhere in this pid namespace."""
    try:
        fd = os.open(f"{proc}/loadavg", READ_FLAGS)
    except OSError:
        return None
    try:
        fields = os.read(fd, 256).split()
        return int(fields[3].split(b"/")[1]), int(fields[4])
    except (OSError, IndexError, ValueError):
        return None
    finally:
        os.close(fd)

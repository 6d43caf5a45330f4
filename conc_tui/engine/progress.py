"""The per-task progress array: one float64 per task in a memory-mapped file.

The monitor creates the file (in /dev/shm on Linux) and the runner maps it. The name is
removed as soon as both have it mapped, so no block outlives the processes that use it,
whatever way they end.
"""
import mmap
import os
import tempfile

SLOT = 8


def shm_dir():
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def create_map(tasks, prefix="conc-tui-"):
    """Create and map a zeroed progress file; returns (path, mmap, memoryview of doubles)."""
    fd, path = tempfile.mkstemp(prefix=prefix, dir=shm_dir())
    try:
        size = max(1, tasks) * SLOT
        # Reserve the pages now: a sparse file on a full /dev/shm maps fine and then kills
        # whoever first touches a page with SIGBUS. Reserved, it fails here, with a reason.
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(fd, 0, size)
        else:
            os.ftruncate(fd, size)
        mm = mmap.mmap(fd, size)
    except BaseException:
        os.close(fd)
        unlink(path)
        raise
    os.close(fd)
    return path, mm, memoryview(mm).cast("d")


def open_map(path, tasks):
    """Map an existing progress file; returns a writable memoryview of ``tasks`` doubles."""
    fd = os.open(path, os.O_RDWR)
    try:
        mm = mmap.mmap(fd, max(1, tasks) * SLOT)
    finally:
        os.close(fd)
    return memoryview(mm).cast("d")


def open_fd(fd, tasks):
    """Map the progress file open on descriptor ``fd`` (which stays the caller's to close);
    returns a writable memoryview of ``tasks`` doubles. How a subinterpreter maps it: an
    int crosses between interpreters, and the file needs no name any more."""
    mm = mmap.mmap(fd, max(1, tasks) * SLOT)  # mmap keeps its own duplicate of fd
    return memoryview(mm).cast("d")


def unlink(path):
    try:
        os.unlink(path)
    except (FileNotFoundError, TypeError):
        pass

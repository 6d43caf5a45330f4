"""multiprocessing's resource tracker, started outside the run's process group.

A ``LocalCluster`` starts its nannies with the "spawn" method, and each nanny's queues hold
named POSIX semaphores: files in /dev/shm. Their names are registered with multiprocessing's
resource tracker, a helper process that unlinks whatever is still registered when every
process holding its pipe has gone. But conc-tui ends a run by killing the host's process
group, and the tracker, started in that group, died with it: every stop, Ctrl+C or kill of
a Dask run left twelve ``/dev/shm/sem.mp-*`` files behind.

``start_outside_group`` starts the tracker in a session of its own before the cluster
exists, so the group kill spares it: it sees its pipe close as the run's processes die,
unlinks what they left, and exits (within milliseconds; nothing else keeps it alive).
"""
from __future__ import annotations

import os
import subprocess
import sys

_started: list = []


def start_outside_group() -> int | None:
    """Start this process's resource tracker in a new session; its pid, or None when one
    was already running or it could not be done (then multiprocessing starts its own, in
    our group, as before)."""
    try:
        from multiprocessing import resource_tracker, spawn, util

        tracker = resource_tracker._resource_tracker
        # ``_fd``/``_pid`` are what ``ensure_running`` checks (3.8 to 3.13): set, it uses
        # the tracker it finds there.
        if getattr(tracker, "_fd", None) is not None or not hasattr(tracker, "_pid"):
            return None
        r, w = os.pipe()
        try:
            args = [spawn.get_executable(), *util._args_from_interpreter_flags(), "-c",
                    f"from multiprocessing.resource_tracker import main; main({r})"]
            proc = subprocess.Popen(args, pass_fds=(r,), start_new_session=True,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            os.close(w)
            raise
        finally:
            os.close(r)
        tracker._fd, tracker._pid = w, proc.pid  # spawn hands ``w`` to each worker
        _started.append(proc)  # never waited for: it outlives this process by design
        return proc.pid
    except Exception:  # private API moved: fall back to multiprocessing's own tracker
        return None


if __name__ == "__main__":  # pragma: no cover - a manual check
    print(start_outside_group(), file=sys.stderr)

"""The runner: the child process that runs one experiment and reports it as events.

Started by the monitor as ``python -c BOOT CONFIG_JSON`` with:
  fd 0  a pipe from the monitor: ``stop`` asks to cancel; end of file means the monitor died;
  fd 1  the event pipe (one JSON line per event, see events.py);
  fd 2  diagnostics, kept by the monitor for error messages.
The runner lowers its priority (workers inherit it) so that whatever draws stays fluid.
"""
import importlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time

from . import custom, events, modes, progress, registry, workloads
from .supervise import StartFailed
from .facts import python_info, usable_cpus
from .protocol import RunFinished, RunStarted

try:
    import resource
except ImportError:  # not on Windows
    resource = None


def cpu_seconds():
    """CPU seconds of this process and of every child it has waited for."""
    if resource is None:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class Run(object):
    def __init__(self, plan):
        self.plan = plan
        self.lock = threading.Lock()
        self.finished = False
        self.cancelling = False
        self.cpu0 = 0.0
        self.ctx = None
        self.pid = os.getpid()

    def finish(self, status, error=None):
        """Report the end of the run exactly once. False when it was already reported."""
        with self.lock:
            if self.finished:
                return False
            self.finished = True
        if self.cancelling:
            # The main thread saw the workers we are terminating die (a pool ends its run
            # early, with no failure of its own, once its workers are gone): that is the cancel.
            status = "cancelled"
        wall = events.now()
        events.emit(RunFinished(status=status, wall_s=round(wall, 6),
                                cpu_s=round(cpu_seconds() - self.cpu0, 6), error=error))
        return True

    def cancel(self):
        """Stop every worker process, report the run as cancelled, and end the runner."""
        if os.getpid() != self.pid:
            # A worker forked with this handler, terminated before it set its own: it must
            # not report the run's end on the event pipe it shares with the runner.
            os._exit(128 + signal.SIGTERM)
        self.cancelling = True  # before any worker dies, so their deaths are no failure
        if self.ctx is not None:
            self.ctx.stopping.set()
        for child in multiprocessing.active_children():
            try:
                child.terminate()
            except Exception:
                pass
        deadline = time.monotonic() + 0.5
        for child in multiprocessing.active_children():
            child.join(max(0.0, deadline - time.monotonic()))
        for child in multiprocessing.active_children():
            try:
                child.kill()
                child.join(0.2)
            except Exception:
                pass
        self.finish("cancelled")
        progress.unlink(self.plan.progress_path)
        os._exit(130)


def nice_session(nice):
    """Lower the priority of this runner's whole session, not only of its processes.

    Under Linux's autogroup scheduling (on by default in many distributions) the CPU is
    shared between sessions first, and a nice value counts only inside its session. The
    runner starts a session of its own, so at nice 19 its thousand workers still took as
    much CPU as the screen's whole session; the session's own nice fixes that.
    """
    try:
        with open("/proc/self/autogroup", "w") as fh:
            fh.write(str(nice))
    except (OSError, ValueError):
        pass  # no autogroup here (or not Linux): the process nice is all there is


def watch_control(run):
    """Read fd 0: ``stop`` or end of file (the monitor is gone) cancels the run."""
    buf = b""
    while True:
        try:
            chunk = os.read(0, 256)
        except InterruptedError:
            continue
        except OSError:
            chunk = b""
        if not chunk:
            run.cancel()
            return
        buf += chunk
        if b"stop" in buf:
            run.cancel()
            return


def main(argv):
    cfg = json.loads(argv[0])
    plan = modes.Plan(cfg)
    nice = int(cfg.get("nice", 0))
    if nice and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:
            pass
        nice_session(nice)
    if resource is not None:
        # Every worker process holds descriptors here: use all the hard limit allows (the
        # monitor checked the run against it before starting it).
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if soft != hard:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (OSError, ValueError):
            pass
    # stdout is the event pipe: nothing else may write to it.
    sys.stdout = sys.stderr

    mode = registry.mode(plan.mode)
    module, _, function = mode.entry.partition(":")
    run_mode = getattr(importlib.import_module("." + module, __package__), function)
    mp = start_method = None
    if mode.in_processes:
        methods = multiprocessing.get_all_start_methods()
        mp = multiprocessing.get_context("fork" if "fork" in methods else methods[0])
        start_method = mp.get_start_method()

    # Forked workers inherit the pace; others set it again in TaskContext.in_worker.
    workloads.pace(modes.sleepers(plan))
    # Subinterpreters map the file again, in this process, once its name is gone: they
    # get a descriptor on it (an int crosses between interpreters; the process's end closes it).
    keep_fd = os.open(plan.progress_path, os.O_RDWR) if mode.unit == "subinterpreter" else None
    ctx = modes.TaskContext(plan, progress.open_map(plan.progress_path, plan.tasks), mp,
                            progress_fd=keep_fd)
    # Forked workers inherit the mapping, so the name can go now; other start methods
    # open it by name in each worker, and the name goes when the run ends.
    if start_method in (None, "fork"):
        progress.unlink(plan.progress_path)

    run = Run(plan)
    run.ctx = ctx
    run.cpu0 = cpu_seconds()
    plan.t0 = time.monotonic()
    events.set_clock(plan.t0)
    signal.signal(signal.SIGTERM, lambda *_: run.cancel())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=watch_control, args=(run,), name="control", daemon=True).start()

    # python_info() asks whether the GIL is on now, after the mode and the workload are
    # imported: on a free-threaded build an extension module can turn it back on. A user's
    # function is imported here for that reason (forked workers then inherit it too).
    load_error = None
    if custom.is_custom(plan.workload):
        try:
            custom.load(plan.workload)
        except custom.SpecError as exc:  # checked before the run; the file changed since
            load_error = str(exc)
    events.emit(RunStarted(mode=plan.mode, workload=plan.workload, tasks=plan.tasks,
                           n=plan.n, sleep=plan.sleep, workers=plan.workers, pid=os.getpid(),
                           python=python_info(), cpu_count=usable_cpus(), t0=plan.t0,
                           start_method=start_method, nice=nice))
    if load_error is not None:
        run.finish("failed", error=load_error)
        return 1
    try:
        failed = run_mode(ctx)
    except StartFailed as exc:  # already a one-line reason
        run.finish("failed", error=str(exc))
        return 1
    except BaseException as exc:  # the run itself broke: say so, then end
        import traceback

        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        run.finish("failed", error="%s: %s" % (type(exc).__name__, exc))
        return 1
    finally:
        progress.unlink(plan.progress_path)
    run.finish("failed" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

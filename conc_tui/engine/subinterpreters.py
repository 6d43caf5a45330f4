"""Subinterpreters with their own GIL: the machinery of the ``subinterpreters`` mode.

Each worker is an OS thread that owns one subinterpreter (created once, reused for its
tasks, destroyed at the end). A subinterpreter has its own GIL, so the workers run Python in
parallel inside one process: measured here, two threads each running heavy(400) in its own
subinterpreter kept 1.8-2.0 cores busy on CPython 3.12.1 and 3.13.0, against 1.0 for the
shared-GIL ("legacy") configuration.

This module is the one place that knows the three ways CPython offers them:

* 3.14+: the public ``concurrent.interpreters`` (PEP 734);
* 3.13: the low-level ``_interpreters`` (``create()`` defaults to the "isolated" config,
  whose ``gil`` is ``"own"``);
* 3.12: the low-level ``_xxsubinterpreters`` (``create(isolated=True)``, also the default,
  gives an own-GIL interpreter; ``isolated=False`` shares the main GIL).

Objects cannot cross between interpreters, so a task is a source string; inside the
subinterpreter it puts the package's parent directory on ``sys.path``, imports the workload
by name, maps the progress file (once per interpreter: by the descriptor the runner keeps
on it, or by path) and runs the task. Started, done and failed are reported from the worker
thread around the call: the subinterpreter runs in that same OS thread, so the thread id and
the thread CPU time are the task's.

Standard library only; importable on Python 3.9+, where ``unavailable_reason()`` says why
the mode cannot run.
"""
import collections
import contextlib
import json
import os
import platform
import re
import sys
import threading
import time

MIN_VERSION = (3, 12)
#: The directory that holds the ``conc_tui`` package, put on a subinterpreter's sys.path.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# -- the three APIs, and nothing else version-dependent below this section ----------------


class _Api312(object):
    """CPython 3.12: ``_xxsubinterpreters``."""

    name = "_xxsubinterpreters"
    _primed = False
    _prime_lock = threading.Lock()

    def __init__(self, module):
        self.m = module

    def _prime(self):
        # CPython 3.12.1 aborts at exit ("free(): invalid pointer") when an own-GIL
        # subinterpreter is the first to import _asyncio (conc_tui.engine.workloads imports
        # asyncio). Imported once in the main interpreter first, it does not: measured.
        with self._prime_lock:
            if not _Api312._primed:
                import asyncio  # noqa: F401
                _Api312._primed = True

    def create(self):
        self._prime()
        return self.m.create(isolated=True)

    def run(self, handle, source, shared):
        try:
            self.m.run_string(handle, source, shared)
        except self.m.RunFailedError as exc:
            # The message is "<class 'ValueError'>: boom".
            text = str(exc)
            match = re.match(r"<class '([^']*)'>: ?(.*)\Z", text, re.S)
            if match:
                return match.group(1).rsplit(".", 1)[-1], match.group(2)
            return "Exception", text
        return None

    def destroy(self, handle):
        self.m.destroy(handle)

    def count(self):
        return len(self.m.list_all())


class _Api313(object):
    """CPython 3.13: ``_interpreters``; ``exec`` returns None or a snapshot of the error."""

    name = "_interpreters"

    def __init__(self, module):
        self.m = module

    def create(self):
        return self.m.create("isolated")

    def run(self, handle, source, shared):
        failure = self.m.exec(handle, source, shared)
        if failure is None:
            return None
        return getattr(failure.type, "__name__", "Exception"), failure.msg

    def destroy(self, handle):
        self.m.destroy(handle)

    def count(self):
        return len(self.m.list_all())


class _Api314(object):
    """CPython 3.14+: the public ``concurrent.interpreters`` (PEP 734).

    Written from its documentation: no 3.14 can be installed where this was built, so this
    path has not been run. Kept to the documented calls: create(), prepare_main(), exec()
    raising ExecutionFailed with ``excinfo`` (type, msg), close(), list_all().
    """

    name = "concurrent.interpreters"

    def __init__(self, module):
        self.m = module

    def create(self):
        return self.m.create()  # isolated, with its own GIL, by default

    def run(self, handle, source, shared):
        handle.prepare_main(shared)
        try:
            handle.exec(source)
        except self.m.ExecutionFailed as exc:
            info = exc.excinfo
            return getattr(info.type, "__name__", "Exception"), info.msg
        return None

    def destroy(self, handle):
        handle.close()

    def count(self):
        return len(self.m.list_all())


def _load_api():
    """The API of this interpreter, or None; the only place that imports one."""
    if platform.python_implementation() != "CPython" or sys.version_info < MIN_VERSION:
        return None
    try:
        if sys.version_info >= (3, 14):
            from concurrent import interpreters

            return _Api314(interpreters)
        if sys.version_info >= (3, 13):
            import _interpreters

            return _Api313(_interpreters)
        import _xxsubinterpreters

        return _Api312(_xxsubinterpreters)
    except ImportError:
        return None


_API = _load_api()


def api_name():
    """The module this interpreter's subinterpreters come from, or None."""
    return _API.name if _API is not None else None


def unavailable_reason():
    """None when this interpreter can run the subinterpreters mode, else why not (one line)."""
    this = "%s %s" % (platform.python_implementation(), platform.python_version())
    if platform.python_implementation() != "CPython" or sys.version_info < MIN_VERSION:
        return ("subinterpreters need CPython %d.%d or newer; this is %s "
                "— try --python 3.13" % (MIN_VERSION + (this,)))
    if _API is None:
        return "this %s was built without its subinterpreter module" % this
    return None


def live_subinterpreters():
    """How many subinterpreters exist in this process now (the main one not counted)."""
    return _API.count() - 1 if _API is not None else 0


# -- one subinterpreter --------------------------------------------------------------------

_MARK = "conc-tui-error:"

# Defined once in each subinterpreter's __main__: runs a task's source there (compiled once
# per distinct source) and turns an exception into one string (type, message, traceback
# text) that every API hands back intact. A task then costs one tiny exec: measured, the
# whole wrapper compiled per task cost 60-65 us more.
_SETUP = """\
def __conc_run__(source, _codes={}):
    code = _codes.get(source)
    if code is None:
        if len(_codes) > 64:
            _codes.clear()
        code = _codes[source] = compile(source, "<task>", "exec")
    try:
        exec(code, globals())
    except BaseException as exc:
        import json, traceback
        report = json.dumps({
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(
                type(exc), exc, exc.__traceback__.tb_next)),
        })
        del exc
        raise RuntimeError(%r + report) from None
""" % _MARK
_CALL = "__conc_run__(__conc_source__)"


class SubinterpreterError(Exception):
    """An exception raised by code running in a subinterpreter, as seen from outside.

    The exception itself cannot cross; ``type_name``, ``message`` and ``traceback`` (the
    formatted traceback text) do. ``str()`` is ``"ValueError: boom"``.
    """

    def __init__(self, type_name, message, traceback=""):
        Exception.__init__(self, "%s: %s" % (type_name, message))
        self.type_name = type_name
        self.message = message
        self.traceback = traceback


def _error(type_name, message):
    at = message.find(_MARK)
    if at >= 0:
        try:
            report = json.loads(message[at + len(_MARK):])
            return SubinterpreterError(report["type"], report["message"], report["traceback"])
        except (ValueError, KeyError, TypeError):
            pass
    return SubinterpreterError(type_name, message)


class Subinterpreter(object):
    """A subinterpreter with its own GIL: create, ``exec`` source strings, ``close``.

    ``exec`` runs in the calling OS thread, in the subinterpreter's ``__main__`` (so names a
    task defines stay for the next task) and raises SubinterpreterError when the code
    raises. Use from one thread at a time; close it from the thread that created it.
    """

    def __init__(self):
        if _API is None:
            raise RuntimeError(unavailable_reason())
        self._handle = _API.create()
        self.closed = False
        try:
            failure = _API.run(self._handle, _SETUP, None)
            if failure is not None:
                raise _error(*failure)
        except BaseException:
            self.close()
            raise

    def exec(self, source, shared=None):
        """Run ``source``; ``shared`` binds str, bytes, int or None values in ``__main__``."""
        if self.closed:
            raise RuntimeError("this subinterpreter is closed")
        names = dict(shared or {})
        names["__conc_source__"] = source
        failure = _API.run(self._handle, _CALL, names)
        if failure is not None:
            raise _error(*failure)

    def close(self):
        """Destroy the subinterpreter (again: nothing)."""
        if not self.closed:
            self.closed = True
            _API.destroy(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- a pool of workers, each with its own subinterpreter -----------------------------------

#: What ``run_tasks`` did: tasks that succeeded, that raised, that never started (stopped).
Outcome = collections.namedtuple("Outcome", "done failed not_run")


def run_tasks(task_ids, workers, script_for_task, on_started=None, on_done=None,
              on_failed=None, stop=None, shared=None):
    """Run every task's script in a pool of ``workers`` threads, one subinterpreter each.

    ``script_for_task(id)`` gives the source a task runs, or ``(source, names)`` with
    names to bind in ``__main__`` first (str, bytes, int or None: what every version can
    share); ``shared`` is bound for every task. The callbacks run in the worker
    thread, around the task: ``on_started(id)``, then ``on_done(id, cpu_s)`` or
    ``on_failed(id, cpu_s, error)`` with a SubinterpreterError; ``cpu_s`` is the task's
    own thread CPU time. Setting ``stop`` (a threading.Event) ends the run after the tasks
    running now: no new task starts. Every subinterpreter is destroyed and every worker
    thread joined before this returns (also when interrupted: it then re-raises). An error
    outside the tasks (a callback, creating an interpreter) stops the others and is raised
    here. Returns an Outcome.
    """
    if _API is None:
        raise RuntimeError(unavailable_reason())
    ids = list(task_ids)
    stop = stop if stop is not None else threading.Event()
    halt = threading.Event()  # set on an error outside the tasks, or an interrupt
    pending = collections.deque(ids)
    lock = threading.Lock()
    counts = {"done": 0, "failed": 0}
    errors = []

    def next_task():
        with lock:
            if stop.is_set() or halt.is_set() or not pending:
                return None
            return pending.popleft()

    def work():
        interp = None
        try:
            interp = Subinterpreter()
            while True:
                myid = next_task()
                if myid is None:
                    return
                script = script_for_task(myid)
                names = dict(shared or {})
                if isinstance(script, tuple):
                    script, more = script
                    names.update(more)
                if on_started is not None:
                    on_started(myid)
                c0 = time.thread_time()
                try:
                    interp.exec(script, names)
                except SubinterpreterError as exc:
                    cpu = time.thread_time() - c0
                    with lock:
                        counts["failed"] += 1
                    if on_failed is not None:
                        on_failed(myid, cpu, exc)
                else:
                    cpu = time.thread_time() - c0
                    with lock:
                        counts["done"] += 1
                    if on_done is not None:
                        on_done(myid, cpu)
        except BaseException as exc:  # not a task's error: stop everything, raise it later
            with lock:
                errors.append(exc)
            halt.set()
        finally:
            if interp is not None:
                try:
                    interp.close()
                except BaseException as exc:
                    with lock:
                        errors.append(exc)

    threads = [threading.Thread(target=work, name="subinterpreter-%d" % k)
               for k in range(min(max(1, int(workers)), len(ids)))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    except BaseException:
        halt.set()  # the workers finish the task they run, then end
        for t in threads:
            if t.ident is not None:
                t.join()
        raise
    if errors:
        raise errors[0]
    return Outcome(counts["done"], counts["failed"], len(ids) - counts["done"] - counts["failed"])


# -- the conc-tui workload in a subinterpreter ---------------------------------------------

# One source for every task of a run (so it is compiled once per subinterpreter); the
# task's id and whether it fails on purpose arrive as names.
_TASK = """\
try:
    _conc_views
except NameError:
    import sys
    sys.stdout = sys.stderr  # fd 1 is the runner's event pipe: nothing else may write to it
    if {parent!r} not in sys.path:
        sys.path.insert(0, {parent!r})
    from conc_tui.engine import progress as _conc_progress, workloads as _conc_workloads
    _conc_views = {{}}
_conc_view = _conc_views.get({mapping!r})
if _conc_view is None:
    _conc_view = _conc_views[{mapping!r}] = _conc_progress.{mapping}
_conc_workloads.run_sync({workload!r}, {n!r}, {sleep!r}, conc_task_id, _conc_view,
                         bool(conc_task_fails))
"""


def workload_script(myid, workload, n, sleep, progress_path, tasks, fail=False,
                    progress_fd=None):
    """One task for ``run_tasks``: ``(source, names)`` running the workload by name.

    Inside the subinterpreter it imports the workload from this package and maps the
    progress file (by its descriptor ``progress_fd`` when given, else by path), both once
    per subinterpreter (kept in its ``__main__``), then runs ``workloads.run_sync`` for task
    ``myid``, which writes its progress slot.
    """
    if progress_fd is not None:
        mapping = "open_fd(%d, %d)" % (int(progress_fd), int(tasks))
    else:
        mapping = "open_map(%r, %d)" % (progress_path, int(tasks))
    source = _TASK.format(parent=PACKAGE_PARENT, mapping=mapping,
                          workload=workload, n=int(n), sleep=float(sleep))
    return source, {"conc_task_id": int(myid), "conc_task_fails": int(bool(fail))}


def _proc_fd_dir():
    return "/proc/self/fd" if os.path.isdir("/proc/self/fd") else None


def _reopen(path):
    """A new descriptor on the progress file, even after its name was removed."""
    try:
        return os.open(path, os.O_RDWR)
    except FileNotFoundError:
        fds = _proc_fd_dir()
        if fds is None:
            raise
    # The runner maps the file and removes its name before the mode starts, but each
    # mapping keeps a descriptor: find one by the name it had.
    for entry in os.listdir(fds):
        try:
            target = os.readlink(os.path.join(fds, entry))
        except OSError:
            continue
        if target in (path, path + " (deleted)"):
            return os.open(os.path.join(fds, entry), os.O_RDWR)
    raise FileNotFoundError("progress file %s is gone and not open in this process" % path)


@contextlib.contextmanager
def progress_channel(path):
    """A path to the progress file that subinterpreters can open for as long as this lasts.

    The monitor removes the file's name as soon as the runner has started, which is before
    any subinterpreter exists; so on Linux this holds a descriptor and yields
    ``/proc/self/fd/N``, which opens the same file, named or not. Elsewhere it yields the
    path itself.
    """
    fd = _reopen(path)
    try:
        yield ("%s/%d" % (_proc_fd_dir(), fd)) if _proc_fd_dir() else path
    finally:
        os.close(fd)


def run_workload(task_ids, workers, workload, n, sleep, progress_path, tasks, fail=(),
                 stop=None, on_started=None, on_done=None, on_failed=None, progress_fd=None):
    """Run conc-tui tasks (``workloads.run_sync``) in subinterpreters; returns an Outcome.

    ``progress_path`` is the progress file (its name may already be removed, see
    ``progress_channel``), or ``progress_fd`` a descriptor open on it in this process (the
    runner's: then no path is needed); ``tasks`` its number of slots; ``fail`` the ids that
    raise on purpose. The callbacks and ``stop`` are as in ``run_tasks``;
    ``event_callbacks()`` gives the ones that write the run's events.
    """
    fail = frozenset(int(i) for i in fail)
    if progress_fd is not None:
        def script(myid):
            return workload_script(myid, workload, n, sleep, None, tasks, myid in fail,
                                   progress_fd=progress_fd)

        return run_tasks(task_ids, workers, script, on_started=on_started, on_done=on_done,
                         on_failed=on_failed, stop=stop)
    with progress_channel(progress_path) as reachable:
        def script(myid):
            return workload_script(myid, workload, n, sleep, reachable, tasks, myid in fail)

        return run_tasks(task_ids, workers, script, on_started=on_started, on_done=on_done,
                         on_failed=on_failed, stop=stop)


def event_callbacks():
    """``on_started``, ``on_done`` and ``on_failed`` that write task events (events.py)."""
    from . import events

    def on_failed(myid, cpu_s, error):
        events.task_failed(myid, cpu_s, str(error), error.traceback)

    return {"on_started": events.task_started, "on_done": events.task_done,
            "on_failed": on_failed}


def run(ctx):
    """The ``subinterpreters`` mode (registry entry): every task of ``ctx.plan`` in a pool
    of ``plan.workers`` threads, each with its own subinterpreter; returns how many failed.

    Tasks a stop kept from starting are not failures: the runner reports the run as
    cancelled and ends the process, subinterpreters and all.
    """
    reason = unavailable_reason()
    if reason is not None:  # the monitor refuses this before the runner starts
        raise RuntimeError(reason)
    plan = ctx.plan
    return run_workload(range(plan.tasks), plan.workers, plan.workload, plan.n, plan.sleep,
                        plan.progress_path, plan.tasks, fail=plan.fail,
                        progress_fd=ctx.progress_fd, **event_callbacks()).failed


if __name__ == "__main__":
    # ``python subinterpreters.py``: can this interpreter run the mode? One JSON line.
    reason = unavailable_reason()
    sys.stdout.write(json.dumps({"available": reason is None, "reason": reason,
                                 "api": api_name()}) + "\n")

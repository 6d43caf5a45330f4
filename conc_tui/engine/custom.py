"""The user's own workload: ``MODULE:FUNCTION`` or ``path/to/file.py:FUNCTION``.

The call contract (the README says it too):

- a function of two or more positional parameters is called ``f(n, myid)``, as the
  article's ``heavy(n, myid)`` is;
- a function of one positional parameter is called ``f(myid)``;
- a function that declares a ``progress`` parameter also gets ``progress=callable``, which
  takes the fraction done (0..1) and feeds the task's cell like the built-in workloads.

The function is loaded in the runner's interpreter (whatever ``--python`` names), never the
app's, and needs nothing of conc-tui. Before a run starts, the monitor runs this file as a
module under that interpreter (``boot.module_command(python, "custom", [SPEC])``): it prints
one JSON line saying
how the function will be called, or why it cannot be (no such file or module, a syntax
error with file and line, no such attribute, not callable, a signature it cannot call).

Standard library only, Python 3.9 syntax.
"""
import importlib
import importlib.util
import inspect
import json
import os
import sys

from . import output

_loaded = {}  # spec -> (function, how): once per process


class SpecError(ValueError):
    """A workload spec that cannot be run; str() says why, in one line."""


class TaskExit(RuntimeError):
    """The user's function called sys.exit(): that ends its task (failed), not the runner."""


def is_custom(spec):
    """``x:y`` names a user's function; the built-in workloads have no colon."""
    return isinstance(spec, str) and ":" in spec


def _load_module(target):
    if target.endswith(".py") or os.sep in target:
        path = os.path.abspath(target)
        if not os.path.isfile(path):
            raise SpecError("no such file: %s" % target)
        name = "conc_tui_user_" + os.path.splitext(os.path.basename(path))[0]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(loader_spec)
        # Registered before it runs, so that pickling by reference (process pools) and
        # a subinterpreter can find it by its name.
        sys.modules[name] = module
        directory = os.path.dirname(path)
        if directory not in sys.path:
            sys.path.insert(0, directory)  # its own imports, as "python file.py" would
        try:
            loader_spec.loader.exec_module(module)
        except SyntaxError as exc:
            del sys.modules[name]
            raise SpecError("syntax error in %s, line %s: %s"
                            % (target, exc.lineno, exc.msg)) from None
        except Exception as exc:
            del sys.modules[name]
            raise SpecError("%s failed to import: %s: %s"
                            % (target, type(exc).__name__, exc)) from None
        return module
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a module beside where conc-tui was started
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name and target.split(".")[0] == exc.name.split(".")[0]:
            raise SpecError("no such module: %s" % target) from None
        raise SpecError("%s failed to import: %s" % (target, exc)) from None
    except SyntaxError as exc:
        raise SpecError("syntax error in %s, line %s: %s"
                        % (exc.filename or target, exc.lineno, exc.msg)) from None
    except Exception as exc:
        raise SpecError("%s failed to import: %s: %s"
                        % (target, type(exc).__name__, exc)) from None


def how_to_call(function):
    """("n, myid" | "myid", takes_progress), or SpecError when the signature does not fit."""
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError):
        raise SpecError("cannot read the signature of %r" % (function,)) from None
    params = list(sig.parameters.values())
    takes_progress = any(p.name == "progress" and p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                              p.KEYWORD_ONLY) for p in params)
    positional = [p for p in params if p.name != "progress"
                  and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    others = [p for p in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty
              and p.name != "progress"]
    if others:
        raise SpecError("%s needs keyword argument(s) %s, which conc-tui cannot give"
                        % (function.__name__, ", ".join(p.name for p in others)))
    if len(required) > 2:
        raise SpecError("%s needs %d arguments; conc-tui gives (n, myid) or (myid)"
                        % (function.__name__, len(required)))
    if len(positional) >= 2 or varargs:
        return "n, myid", takes_progress
    if len(positional) == 1:
        return "myid", takes_progress
    raise SpecError("%s takes no argument; conc-tui gives it the task id (myid)"
                    % function.__name__)


def load(spec):
    """The function a spec names and how to call it; SpecError with the reason."""
    if spec in _loaded:
        return _loaded[spec]
    target, _, attr = spec.rpartition(":")
    if not target or not attr:
        raise SpecError("a workload of your own is MODULE:FUNCTION or path/to/file.py:FUNCTION,"
                        " not %r" % spec)
    module = _load_module(target)
    function = module
    for part in attr.split("."):
        if not hasattr(function, part):
            raise SpecError("%s has no attribute %r" % (target, attr))
        function = getattr(function, part)
    if not callable(function):
        raise SpecError("%s:%s is not callable" % (target, attr))
    _loaded[spec] = result = (function,) + how_to_call(function)
    return result


def _prepared(spec, n, myid, progress):
    """The function, its arguments and keyword arguments for task ``myid``."""
    function, call, takes_progress = load(spec)
    kwargs = {}
    if takes_progress:
        def report(fraction):
            progress[myid] = min(1.0, max(0.0, float(fraction)))
        kwargs["progress"] = report
    return function, ((n, myid) if call == "n, myid" else (myid,)), kwargs


def run(spec, n, myid, progress):
    """Run one task of the user's function; ``progress`` is the run's slot array."""
    function, args, kwargs = _prepared(spec, n, myid, progress)
    try:
        with output.capture(myid):
            result = function(*args, **kwargs)
            if inspect.isawaitable(result):  # an async def outside asyncio: run it to its end
                import asyncio

                asyncio.run(result)
    except SystemExit as exc:
        raise TaskExit("the task called sys.exit(%r)" % (exc.code,)) from None
    progress[myid] = 1.0


async def run_async(spec, n, myid, progress):
    """``run`` for the asyncio mode: an ``async def`` is awaited on the running loop; any
    other function runs as it is, blocking the loop, which is the lesson."""
    function, args, kwargs = _prepared(spec, n, myid, progress)
    try:
        with output.capture(myid):
            result = function(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
    except SystemExit as exc:
        raise TaskExit("the task called sys.exit(%r)" % (exc.code,)) from None
    progress[myid] = 1.0


def probe(spec):
    """What the probe prints: how the function will be called, or why it cannot be."""
    try:
        _, call, takes_progress = load(spec)
    except SpecError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "call": call, "progress": takes_progress}


def main(argv):
    """The probe: ``main([SPEC])`` prints one JSON line (see ``probe``)."""
    sys.stdout.write(json.dumps(probe(argv[0])) + "\n")
    return 0

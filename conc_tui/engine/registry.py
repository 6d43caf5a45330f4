"""Every mode and workload conc-tui knows, as data: the one list the rest reads.

The command line's choices and help, the app's mode keys and help screen, the checks on a
config, the verdict and the results all read these entries. Adding a mode means adding an
entry here and writing its ``run`` function (see ``modes.py``); nothing else names modes.

Standard library only, Python 3.9 syntax, and importing it imports no mode's code: the
monitor reads the registry in the app's process, the runner imports ``entry`` when it runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple


@dataclass(frozen=True)
class Mode:
    name: str
    help: str  # one line, for --help and the help screen
    #: What runs one task: "thread", "process", "coroutine" or "subinterpreter".
    unit: str
    #: True when --workers sets the pool size (default: usable cores).
    pooled: bool
    #: True when the tasks take turns on one thread by design (sequential, asyncio): one
    #: core's worth of work is what the mode is, not a lock holding it back.
    one_at_a_time: bool
    #: "module:function" in conc_tui.engine: ``function(ctx)`` runs every task of the plan
    #: and returns how many failed. Imported only in the runner.
    entry: str
    #: The oldest interpreter that can run the mode, as (major, minor).
    min_python: Tuple[int, int] = (3, 9)
    #: What runs the plan: "runner" (engine/runner.py, under --python, standard library
    #: only) or "dask-host" (monitor/dask_host.py, under conc-tui's own interpreter).
    host: str = "runner"
    #: A package the mode needs in conc-tui's interpreter, and how to get it.
    requires: Optional[str] = None
    install: Optional[str] = None
    #: The one implementation that can run the mode (None: any).
    implementation: Optional[str] = None
    #: True when every task runs under one GIL (the runner's), so that on a GIL build
    #: about one core busy is the GIL holding them back. Processes and subinterpreters
    #: each have their own GIL.
    shares_gil: bool = True

    def refusal(self, implementation: str, version: Tuple[int, int]) -> Optional[str]:
        """Why an interpreter cannot run the mode (one line, without advice), or None."""
        if (self.implementation not in (None, implementation)
                or tuple(version[:2]) < self.min_python):
            return "%s need%s %s %d.%d or newer; this is %s%d.%d" % (
                self.name, "" if self.name.endswith("s") else "s",
                self.implementation or "Python", self.min_python[0], self.min_python[1],
                "" if implementation == "CPython" else implementation + " ",
                version[0], version[1])
        return None

    @property
    def in_processes(self) -> bool:
        """Tasks run in worker processes: their CPU counts in the runner's process tree."""
        return self.unit == "process"

    def workers_for(self, tasks: int, workers: Optional[int], cpus: int) -> int:
        """How many threads or processes the mode really runs its tasks on."""
        if self.pooled:
            return workers or cpus
        if self.one_at_a_time:
            return 1
        return tasks


@dataclass(frozen=True)
class Workload:
    name: str
    help: str
    uses_n: bool  # --n sizes it
    uses_sleep: bool  # --sleep sizes it
    cpu_bound: bool  # all of its time is CPU work (no waiting on purpose)
    custom: bool = False  # the user's own function, MODULE:FUNCTION or file.py:FUNCTION

    def label(self, n: int, sleep: float) -> str:
        """What one task runs, as the screen says it: ``heavy(500)``, ``sleep(2 s)``."""
        if self.custom:
            return "%s(n=%d)" % (self.name.rpartition(":")[2], n)
        if self.uses_n and self.uses_sleep:
            return "½ heavy(%d), then sleep(%g s)" % (n, sleep / 2)
        if self.uses_n:
            return "heavy(%d)" % n
        return "sleep(%g s)" % sleep


MODE_LIST = (
    Mode("sequential", "a plain loop: one task after another, one core",
         unit="thread", pooled=False, one_at_a_time=True, entry="modes:run_sequential"),
    Mode("threads", "one threading.Thread per task; under the GIL only one runs Python at a time",
         unit="thread", pooled=False, one_at_a_time=False, entry="modes:run_threads"),
    Mode("thread-pool", "a ThreadPoolExecutor with --workers threads (default: usable cores)",
         unit="thread", pooled=True, one_at_a_time=False, entry="modes:run_thread_pool"),
    Mode("asyncio", "one coroutine per task, gathered; CPU work never awaits, so they run in turn",
         unit="coroutine", pooled=False, one_at_a_time=True, entry="modes:run_asyncio"),
    Mode("processes", "one multiprocessing.Process per task: every core can work",
         unit="process", pooled=False, one_at_a_time=False, entry="modes:run_processes",
         shares_gil=False),
    Mode("process-pool", "a ProcessPoolExecutor with --workers processes (default: usable cores)",
         unit="process", pooled=True, one_at_a_time=False, entry="modes:run_process_pool",
         shares_gil=False),
    Mode("subinterpreters", "--workers threads, each with a subinterpreter that has its own "
                            "GIL (CPython 3.12+)",
         unit="subinterpreter", pooled=True, one_at_a_time=False,
         entry="subinterpreters:run", min_python=(3, 12), implementation="CPython",
         shares_gil=False),
    Mode("dask", "a Dask cluster: a LocalCluster of --workers processes, or --scheduler's",
         unit="process", pooled=True, one_at_a_time=False, entry="dask_host", host="dask-host",
         requires="distributed", install="pip install 'conc-tui[dask]'", shares_gil=False),
)

WORKLOAD_LIST = (
    Workload("cpu", "the article's heavy(n, id): x**y for x, y in 1..n-1",
             uses_n=True, uses_sleep=False, cpu_bound=True),
    Workload("io", "sleeps --sleep seconds in small steps (asyncio mode awaits asyncio.sleep)",
             uses_n=False, uses_sleep=True, cpu_bound=False),
    Workload("mixed", "half the CPU work, then half the sleep",
             uses_n=True, uses_sleep=True, cpu_bound=False),
)

MODES = tuple(m.name for m in MODE_LIST)
WORKLOADS = tuple(w.name for w in WORKLOAD_LIST)
_MODES = {m.name: m for m in MODE_LIST}
_WORKLOADS = {w.name: w for w in WORKLOAD_LIST}


def mode(name: str) -> Mode:
    """The entry of mode ``name``; KeyError for an unknown one."""
    return _MODES[name]


def workload(name: str) -> Workload:
    """The entry of workload ``name``; KeyError for an unknown one. ``MODULE:FUNCTION`` and
    ``file.py:FUNCTION`` name the user's own function (see custom.py): an entry made for it,
    which says nothing of what it does (the verdict reads the measurement)."""
    if ":" in name:
        return Workload(name, "your own function", uses_n=True, uses_sleep=False,
                        cpu_bound=False, custom=True)
    return _WORKLOADS[name]


def compare_order(modes=MODES) -> list:
    """The order runs are compared in: sequential first (every speedup is measured against
    it), then the others as given, each once."""
    out = []
    for name in sorted(modes, key=lambda m: m != "sequential"):
        if name not in out:
            out.append(name)
    return out

"""The monitor: starts runs, reads their events and progress, samples the machine.

Knows psutil, never Textual: the headless CLI and the app drive the same objects, and reach
the engine only through here.

    config.py          what a run is made of, and the checks that refuse bad values
    sources.py         the run-source protocol: where a run's events come from
    runner_source.py   the source of a real run (runner_process.py: the OS process)
    scripted.py        a scripted source and sampler, for tests, screenshots and demos
    runstate.py        the one reducer: events in, task states, counts and spans out
    session.py         one run: a source and its reduced state
    controller.py      the runs of a session, compare, and the sampler's attachment
    sampler.py         per-core load and the run's process tree, from psutil and /proc
    sampler_process.py the sampler in a process of its own, off the app's GIL
    results.py         a run summarised, speedups, JSON and CSV
    verdict.py         the plain reading of a run's parallelism
    recording.py       recordings: written as runs go, read back
    replay.py          a recorded run as a run source, and its samples as a sampler
    trace.py           a recording as a Chrome Trace Event file (Perfetto)
    pythons.py         interpreters by name: PATH, pyenv and uv, and what a version means
    limits.py          how many threads and processes the machine lets a run start
"""
from ..engine.facts import python_info
from ..engine.protocol import (PROTOCOL_VERSION, Event, RunFinished, RunStarted, TaskDone,
                               TaskFailed, TaskOutput, TaskStarted, Unreadable)
from ..engine.registry import MODE_LIST, MODES, WORKLOAD_LIST, WORKLOADS, compare_order
from ..engine.registry import mode as mode_info
from ..engine.registry import workload as workload_info
from .config import ConfigError, RunConfig, check_python, usable_cpus
from .controller import Controller, Reading, Step, compare_configs, runnable
from .limits import check_limits
from .pythons import (Interpreter, find_pythons, pythons_rows, resolve_python,
                      suggest_for)
from .results import RunResult, TaskResult, ideal_speedup, speedup_for
from .runstate import RunState, TaskState
from .sampler import Sample, Sampler, ThreadLoad
from .sampler_process import SamplerProcess
from .session import Session
from .sources import Capabilities, RunSource, StartError
from .verdict import Verdict, verdict_for

__all__ = [
    "python_info", "PROTOCOL_VERSION", "Event", "RunFinished", "RunStarted", "TaskDone",
    "TaskFailed", "TaskOutput", "TaskStarted", "Unreadable",
    "MODE_LIST", "MODES", "WORKLOAD_LIST", "WORKLOADS", "compare_order", "mode_info",
    "workload_info",
    "ConfigError", "RunConfig", "check_python", "usable_cpus",
    "Interpreter", "find_pythons", "pythons_rows", "resolve_python", "suggest_for",
    "Controller", "Reading", "Step", "compare_configs", "runnable", "check_limits",
    "RunResult", "TaskResult", "ideal_speedup", "speedup_for",
    "RunState", "TaskState", "Sample", "Sampler", "SamplerProcess", "ThreadLoad", "Session",
    "Capabilities", "RunSource", "StartError", "Verdict", "verdict_for",
]

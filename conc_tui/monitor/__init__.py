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
import importlib

# Each name, and the module (and attribute) it comes from. They are imported when first
# asked for, not with the package: the sampling process (``python -m
# conc_tui.monitor.sampler_process``) needs the sampler alone, and importing every module
# here cost it 85 ms of CPU at the start of each run's first sample.
_FROM = {
    "python_info": ("..engine.facts", "python_info"),
    **{name: ("..engine.protocol", name) for name in (
        "PROTOCOL_VERSION", "Event", "RunFinished", "RunStarted", "TaskDone", "TaskFailed",
        "TaskOutput", "TaskStarted", "Unreadable")},
    **{name: ("..engine.registry", name) for name in (
        "MODE_LIST", "MODES", "WORKLOAD_LIST", "WORKLOADS", "compare_order")},
    "mode_info": ("..engine.registry", "mode"),
    "workload_info": ("..engine.registry", "workload"),
    **{name: (".config", name) for name in (
        "ConfigError", "RunConfig", "check_python", "usable_cpus")},
    **{name: (".controller", name) for name in (
        "Controller", "Reading", "Step", "compare_configs", "runnable")},
    "check_limits": (".limits", "check_limits"),
    **{name: (".pythons", name) for name in (
        "Interpreter", "find_pythons", "pythons_rows", "resolve_python", "suggest_for")},
    **{name: (".results", name) for name in (
        "RunResult", "TaskResult", "ideal_speedup", "speedup_for")},
    "RunState": (".runstate", "RunState"),
    "TaskState": (".runstate", "TaskState"),
    **{name: (".sampler", name) for name in ("Sample", "Sampler", "ThreadLoad")},
    "SamplerProcess": (".sampler_process", "SamplerProcess"),
    "Session": (".session", "Session"),
    **{name: (".sources", name) for name in ("Capabilities", "RunSource", "StartError")},
    "Verdict": (".verdict", "Verdict"),
    "verdict_for": (".verdict", "verdict_for"),
}

__all__ = list(_FROM)


def __getattr__(name: str):
    try:
        module, attr = _FROM[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), attr)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FROM))

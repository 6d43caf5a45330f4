"""The monitor: starts runs, reads their events and progress, samples the machine.

Knows psutil, never Textual: the headless CLI and the app drive the same objects.
"""
from .config import ConfigError, RunConfig, check_python, usable_cpus
from .results import RunResult, TaskResult, ideal_speedup, speedup_for
from .sampler import Sample, Sampler
from .session import Session, TaskState

__all__ = [
    "ConfigError", "RunConfig", "check_python", "usable_cpus",
    "RunResult", "TaskResult", "ideal_speedup", "speedup_for",
    "Sample", "Sampler", "Session", "TaskState",
]

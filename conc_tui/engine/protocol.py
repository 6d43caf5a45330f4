"""The runner -> monitor protocol: every event, every field, defined once.

A run is a stream of JSON objects, one per line, each with a ``kind``:

    run-started   once, first: what runs, on which interpreter and machine
    task-started  a task began (in process/thread ``pid``/``tid``)
    task-done     a task ended well: the article's "17 is done"
    task-failed   a task raised: its error and traceback
    task-output   a line a task printed (the user's own function)
    cluster-workers  a cluster's workers as its scheduler last heard of them (Dask)
    run-finished  once, last: how the run ended, its wall and CPU time

``t`` is seconds since the run started, on the monotonic clock that all the run's processes
share on Linux. The runner writes events with ``to_line``; the monitor (and anything that
replays a stream) reads them with ``parse_line``, which never raises: a line it cannot read
becomes an ``Unreadable`` event, which the reducer counts and the screen shows as a warning.
Newer fields are ignored by older readers; ``run-started`` carries ``protocol`` so that a
reader can say when it meets a stream newer than itself.

Standard library only, Python 3.9 syntax: the runner imports this under any interpreter.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Dict, Optional, Union

#: Bumped when a field changes meaning or a required field is added.
PROTOCOL_VERSION = 1


@dataclass
class RunStarted:
    mode: str
    workload: str
    tasks: int
    n: int
    sleep: float
    workers: int  # threads or processes the mode runs its tasks on
    pid: int  # the runner's process id
    python: dict  # facts.python_info() of the interpreter running the work
    cpu_count: int  # usable cores of the runner (its CPU affinity)
    t0: float  # the run's start, on the shared monotonic clock
    start_method: Optional[str] = None  # multiprocessing's, in process modes
    nice: int = 0  # the niceness the runner set for itself and its workers
    protocol: int = PROTOCOL_VERSION
    t: float = 0.0
    kind = "run-started"


@dataclass
class TaskStarted:
    id: int
    pid: int
    tid: int  # native thread id
    t: float
    #: Where it runs when that is not this machine's runner: a Dask worker ("name on host").
    where: Optional[str] = None
    kind = "task-started"


@dataclass
class TaskDone:
    id: int
    pid: int
    tid: int
    t: float
    cpu_s: float  # CPU time of the task's own thread while it ran
    kind = "task-done"


@dataclass
class TaskFailed:
    id: int
    pid: int
    tid: int
    t: float
    error: str  # "Type: message"
    cpu_s: Optional[float] = None
    traceback: Optional[str] = None
    kind = "task-failed"


@dataclass
class TaskOutput:
    """A line the task printed (the user's own function; bounded: see output.py)."""

    id: int
    pid: int
    tid: int
    t: float
    text: str
    kind = "task-output"


@dataclass
class ClusterWorkers:
    """The workers of the cluster a run goes on, with the figures their scheduler last
    heard from them (Dask: each worker's heartbeat metrics). Sent a couple of times a second
    by the Dask host: the work may run on other machines, which nothing here can sample.

    ``workers``: one dict a worker, ``{name, host, nthreads, cpu, memory, memory_limit}``:
    ``cpu`` is the worker process's CPU in percent of one core (above 100 with several
    busy threads), ``memory`` its resident bytes, ``memory_limit`` bytes (0: none)."""

    t: float
    workers: list
    kind = "cluster-workers"


@dataclass
class RunFinished:
    status: str  # ok, failed, cancelled
    wall_s: float
    cpu_s: Optional[float] = None  # the runner's and its waited-for children's CPU time
    error: Optional[str] = None  # why the run failed, when it says
    #: Made by the monitor, not sent: the runner ended without saying how.
    synthetic: bool = False
    t: Optional[float] = None  # = wall_s
    kind = "run-finished"

    def __post_init__(self):
        if self.t is None:
            self.t = self.wall_s


@dataclass
class Unreadable:
    """Not sent by anyone: what ``parse_line`` makes of a line it cannot read."""

    line: str
    reason: str
    t: Optional[float] = None
    kind = "unreadable"


Event = Union[RunStarted, TaskStarted, TaskDone, TaskFailed, TaskOutput, ClusterWorkers,
              RunFinished, Unreadable]
TaskEvent = Union[TaskStarted, TaskDone, TaskFailed]

KINDS: Dict[str, type] = {cls.kind: cls for cls in
                          (RunStarted, TaskStarted, TaskDone, TaskFailed, TaskOutput,
                           ClusterWorkers, RunFinished)}

# What each field must be, checked when a line is read (bool is not a number here).
_NUMBER = (int, float)
_TYPES = {"int": int, "float": _NUMBER, "str": str, "dict": dict, "list": list, "bool": bool,
          "Optional[str]": (str, type(None)), "Optional[float]": _NUMBER + (type(None),)}


def _check(want, value):
    if want is None:
        return True
    if isinstance(value, bool) and want is not bool:
        return False
    return isinstance(value, want)


# Each kind's fields as (name, type wanted, required), worked out once: a 10,000-task run
# reads 20,000 lines, and asking ``dataclasses.fields`` per field made each line 8 us.
_SCHEMA = {kind: [(f.name, _TYPES.get(f.type),
                   f.default is dataclasses.MISSING
                   and f.default_factory is dataclasses.MISSING)
                  for f in dataclasses.fields(cls)]
           for kind, cls in KINDS.items()}


def to_dict(event):
    """The event as the JSON object on the wire: ``kind`` first, then its fields."""
    out = {"kind": event.kind}
    out.update(dataclasses.asdict(event))
    return out


def to_line(event):
    """One line of the stream (no newline), compact."""
    return json.dumps(to_dict(event), separators=(",", ":"))


def from_dict(obj):
    """A typed event from a decoded JSON object, or ``Unreadable`` saying why not."""
    if not isinstance(obj, dict):
        return Unreadable(_clip(obj), "not a JSON object")
    kind = obj.get("kind")
    cls = KINDS.get(kind)
    if cls is None:
        return Unreadable(_clip(obj), "unknown event kind %r" % (kind,))
    values = {}
    for name, want, required in _SCHEMA[kind]:
        if name in obj:
            value = obj[name]
            if not _check(want, value):
                return Unreadable(_clip(obj), "%s: bad %s %r" % (kind, name, value))
            values[name] = value
        elif required:
            return Unreadable(_clip(obj), "%s without %s" % (kind, name))
    return cls(**values)


def parse_line(line):
    """Read one line of the stream (bytes or str). Never raises."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    text = line.strip()
    try:
        obj = json.loads(text)
    except ValueError:
        return Unreadable(_clip(text), "not JSON")
    return from_dict(obj)


def _clip(obj, limit=200):
    text = obj if isinstance(obj, str) else json.dumps(obj, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["PROTOCOL_VERSION", "RunStarted", "TaskStarted", "TaskDone", "TaskFailed",
           "TaskOutput", "ClusterWorkers", "RunFinished", "Unreadable", "Event", "TaskEvent",
           "KINDS", "to_dict", "to_line", "from_dict", "parse_line"]

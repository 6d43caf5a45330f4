"""Recordings: a session's runs written as they happen, to replay, study and export.

A recording is JSON Lines (gzip-compressed when the file name ends in ``.gz``). The first
line is a header; every other line has a ``type`` and a time ``t`` (seconds since the
recording began, on the monotonic clock):

    {"type": "header", "format": "conc-tui-recording", "version": 1, "conc_tui": "0.1.0",
     "machine": {"usable_cores", "logical_cores", "cpu_model", "platform"}, "python": {...}}
    {"type": "run", "t", "run": 0, "config": {mode, workload, tasks, n, sleep, workers, ...}}
    {"type": "event", "t", "run": 0, "event": {the event as on the wire (engine/protocol.py)}}
    {"type": "progress", "t", "run": 0, "slots": {"17": 0.5, ...}}   only the slots that moved
    {"type": "sample", "t", "per_core": [...], "parallelism_now", "tree_cpu_s", "processes",
     "threads", "runner_share"}
    {"type": "threads", "t", "run": 0, "w", "iv", "off", "tot", "last", "now", "seen", "live",
     "procs", "cpu", "th": [[pid, tid, alive, state, covered_s, updated_s, 4 totals, 4 last],
     ...], "pr": [[pid, alive, seen, live, 4 totals, 4 last], ...]}   thread time (version 2)
    {"type": "result", "t", "run": 0, "result": {the JSON result of the run}}

It is written into the file itself (a file already there is replaced), one line at a time,
each flushed as it is written (never through a temporary file and a rename), so another
process can follow it while it grows and
a run killed midway leaves a recording that is valid up to its last complete line. That is
the one deliberate exception to "no half-written file". Progress is throttled (``PROGRESS_S``)
and quantised (``PROGRESS_STEP``), so the article's 80-thread run stays well under 2 MB.

A ``threads`` line is one of the thread-time probe's snapshots (``threadtime.Snapshot``), as
the screen used it: ``w`` the probe's time, ``iv`` its last interval, ``off`` what turns the
probe's time into the run's; ``tot``/``last`` the whole tree's seconds over the run and the
last interval, and per thread (``th``) and process (``pr``) the same, four seconds each
(running, core_wait, lock_wait, io_wait; without a lock/other split, ``"split": false``, the
last one is all the off-CPU time). A line carries only the threads and processes whose
figures changed since the run's previous line, and lines come at most every ``THREADS_S``
(the probe's own interval): the article's 80-thread run adds ~6 KB a second (measured).
``"end": true`` marks the run's last reading; ``"na"`` (with no figures) says why nothing
was measured. A recording of version 1 has no such lines: its replay has no thread time,
as before.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import platform
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Iterator

from .. import __version__
from ..engine.facts import python_info, usable_cpus
from ..engine.protocol import Event, RunFinished, from_dict, to_dict
from .threadtime import OFF_CPU, STATES, ProcessTimes, Snapshot, ThreadTimes, Times

FORMAT = "conc-tui-recording"
VERSION = 2  # 2: thread-time lines
READS = (1, 2)  # version 1 is version 2 without thread time
PROGRESS_S = 0.1  # at most ten progress lines a second
PROGRESS_STEP = 1 / 64  # a slot is written again once it moved this much (or ended)
#: Thread-time lines at most this often (probe seconds): the probe publishes every 0.5 s;
#: the slack lets each of its snapshots through despite jitter, and no more.
THREADS_S = 0.45


class RecordingError(ValueError):
    """A file that cannot be read as a recording; str() says why, in one line."""


def machine_info() -> dict:
    return {"usable_cores": usable_cpus(), "logical_cores": os.cpu_count() or 1,
            "cpu_model": _cpu_model(), "platform": platform.platform()}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass  # not Linux: the platform module's answer is the best there is
    return platform.processor() or platform.machine()


def _open_new(path: str) -> IO[str]:
    """A new recording at ``path`` (an older one there is replaced, as --json replaces its
    file), written in place: a follower opens the very file that grows."""
    if path.endswith(".gz"):
        # Each flush ends a deflate block, so whatever was flushed can be read back.
        return io.TextIOWrapper(gzip.open(path, "wb"), encoding="utf-8", newline="\n")
    return open(path, "w", encoding="utf-8", newline="\n")


class Recorder:
    """Writes one recording. Thread-safe: the app records samples from a worker thread."""

    def __init__(self, path: str, *, machine: dict | None = None,
                 clock=time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self._t0 = clock()
        self._lock = threading.Lock()
        self._fh = _open_new(path)
        self._runs = 0
        self._last_progress: list[float] = []
        self._last_progress_t = -1.0
        self._threads = ThreadTimeEncoder()
        self.lines = 0
        self._write({"type": "header", "format": FORMAT, "version": VERSION,
                     "conc_tui": __version__, "machine": machine or machine_info(),
                     "python": python_info()})

    def now(self) -> float:
        return round(self.clock() - self._t0, 6)

    def _write(self, obj: dict) -> None:
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        with self._lock:
            if self._fh is None:
                return
            self._fh.write(line)
            self._fh.flush()  # line by line: a follower, or a crash, sees whole lines
            self.lines += 1

    def run_started(self, config: dict) -> int:
        """A new run begins; returns its number in the recording."""
        run = self._runs
        self._runs += 1
        self._last_progress = [0.0] * int(config.get("tasks", 0))
        self._last_progress_t = -1.0
        self._threads = ThreadTimeEncoder()  # a run's first line has all its threads
        self._write({"type": "run", "t": self.now(), "run": run, "config": config})
        return run

    def events(self, run: int, events: list[Event]) -> None:
        t = self.now()
        for ev in events:
            self._write({"type": "event", "t": t, "run": run, "event": to_dict(ev)})

    def progress(self, run: int, read, force: bool = False) -> None:
        """The slots that moved by PROGRESS_STEP since they were last written, at most every
        PROGRESS_S (``force``: now, e.g. at the end of a run). ``read()`` gives the fractions
        (or None); it is called only when a line is due, since reading them costs a pass
        over every task."""
        t = self.now()
        if not force and t - self._last_progress_t < PROGRESS_S:
            return
        fractions = read()
        if fractions is None:
            return
        last = self._last_progress
        if len(last) != len(fractions):
            last = self._last_progress = [0.0] * len(fractions)
        moved = {}
        for i, f in enumerate(fractions):
            if abs(f - last[i]) >= PROGRESS_STEP or (f >= 1.0 > last[i]):
                moved[str(i)] = round(f, 3)
                last[i] = f
        self._last_progress_t = t
        if moved:
            self._write({"type": "progress", "t": t, "run": run, "slots": moved})

    def sample(self, sample) -> None:
        self._write({"type": "sample", "t": self.now(),
                     "per_core": [round(v, 1) for v in sample.per_core],
                     "parallelism_now": round(sample.parallelism_now, 4),
                     "tree_cpu_s": round(sample.tree_cpu_s, 4), "processes": sample.processes,
                     "threads": len(sample.threads),
                     "runner_share": round(sample.runner_share, 4)})

    def thread_time(self, run: int, snap: Snapshot, offset_s: float,
                    final: bool = False) -> None:
        """The thread-time probe's snapshot, when it is new and ``THREADS_S`` has passed
        since the last line (``final``: the run's last reading, always)."""
        line = self._threads.line(snap, offset_s, final)
        if line is not None:
            self._write({"type": "threads", "t": self.now(), "run": run, **line})

    def result(self, run: int, result_json: dict) -> None:
        self._write({"type": "result", "t": self.now(), "run": run, "result": result_json})

    def close(self) -> None:
        with self._lock:
            fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()


# -- reading ------------------------------------------------------------------------------

@dataclass
class RecordedRun:
    number: int
    config: dict
    t0: float  # when the run began, in the recording's time
    events: list[tuple[float, Event]] = field(default_factory=list)  # (t since run start, ev)
    progress: list[tuple[float, dict[int, float]]] = field(default_factory=list)
    #: The thread-time readings (version 2), in order: ``ThreadLine``s.
    threads: list["ThreadLine"] = field(default_factory=list)
    result: dict | None = None
    _decoder: "ThreadTimeDecoder" = field(default_factory=lambda: ThreadTimeDecoder(),
                                          repr=False, compare=False)

    @property
    def wall_s(self) -> float | None:
        for _, ev in reversed(self.events):
            if isinstance(ev, RunFinished):
                return ev.wall_s
        return None


@dataclass
class Recording:
    path: str
    header: dict
    runs: list[RecordedRun]
    samples: list[dict]  # each with its recording time "t"
    truncated: str | None = None  # why the end was cut, when it was

    @property
    def machine(self) -> dict:
        return self.header.get("machine", {})

    def note(self) -> str | None:
        return self.truncated


def open_for_reading(path: str, binary: bool = False) -> IO:
    """The recording file, open; RecordingError saying why it cannot be."""
    try:
        if binary:
            return open(path, "rb")
        opener = gzip.open if path.endswith(".gz") else open
        return opener(path, "rt", encoding="utf-8", errors="replace", newline="\n")
    except FileNotFoundError:
        raise RecordingError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise RecordingError(f"{path} is a directory") from None
    except PermissionError:
        raise RecordingError(f"cannot read {path}: permission denied") from None


def _lines(path: str) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, whether it ended with a newline)."""
    try:
        with open_for_reading(path) as fh:
            for number, line in enumerate(fh, 1):
                yield number, line.rstrip("\n"), line.endswith("\n")
    except IsADirectoryError:  # opening a directory can succeed; reading it cannot
        raise RecordingError(f"{path} is a directory") from None
    except (OSError, EOFError) as exc:  # a gzip cut short, or not gzip at all
        if isinstance(exc, gzip.BadGzipFile):
            raise RecordingError(f"{path} is not a gzip file") from None
        raise _Truncated(str(exc) or type(exc).__name__) from None


class _Truncated(Exception):
    pass


class RecordingReader:
    """Reads a recording line by line: all at once (``read_recording``), or as it grows
    (``follow.Follower``). Raises RecordingError for what is not a recording."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.header: dict | None = None
        self.runs: dict[int, RecordedRun] = {}
        self.samples: list[dict] = []
        self.truncated: str | None = None

    def feed(self, number: int, text: str, whole: bool = True) -> bool:
        """Take line ``number``; False when it is a torn last line (the reading stops)."""
        if not text.strip():
            return True
        try:
            obj = json.loads(text)
        except ValueError:
            if not whole:  # the last line, cut while it was written
                self.truncated = f"the last line ({number}) is incomplete and was left out"
                return False
            if self.header is None:
                raise RecordingError(f"{self.path} is not a conc-tui recording "
                                     f"(line {number} is not JSON)") from None
            raise RecordingError(f"{self.path}: line {number} is corrupt (not JSON)") from None
        if self.header is None:
            if not isinstance(obj, dict) or obj.get("format") != FORMAT:
                raise RecordingError(f"{self.path} is not a conc-tui recording")
            if obj.get("version") not in READS:
                raise RecordingError(f"{self.path} is a recording of version "
                                     f"{obj.get('version')}; this conc-tui reads versions "
                                     f"{', '.join(map(str, READS))}")
            self.header = obj
            return True
        _take(self.path, number, obj, self.runs, self.samples)
        return True

    def recording(self) -> Recording:
        if self.header is None:
            raise RecordingError(f"{self.path} is empty: not a conc-tui recording")
        return Recording(self.path, self.header, [self.runs[k] for k in sorted(self.runs)],
                         self.samples, self.truncated)


def read_recording(path: str) -> Recording:
    """Read a whole recording. Raises RecordingError (one line, with the line number) for a
    file that is not a recording, an unknown version or a corrupt line; a torn last line or
    a compressed stream cut short is a truncated recording, read up to where it ends."""
    reader = RecordingReader(path)
    lines = _lines(path)
    while True:
        try:
            number, text, whole = next(lines)
        except StopIteration:
            break
        except _Truncated as exc:
            reader.truncated = f"the recording ends early ({exc})"
            break
        if not reader.feed(number, text, whole):
            break
    rec = reader.recording()
    if rec.truncated is None:
        # Cut at a line's end (or its recorder killed): whole lines, but a run that never
        # ended. Said as for a torn line, so that a replay says why the run stops there.
        cut = next((run.number for run in rec.runs if run.wall_s is None), None)
        if cut is not None:
            rec.truncated = f"the recording ends before run {cut} did"
    return rec


def _take(path: str, number: int, obj, runs: dict, samples: list) -> None:
    if not isinstance(obj, dict) or "type" not in obj:
        raise RecordingError(f"{path}: line {number} is corrupt (no type)")
    kind, t = obj["type"], obj.get("t")
    try:
        if kind == "sample":
            samples.append(obj)
            return
        k = int(obj["run"])
        if kind == "run":
            runs[k] = RecordedRun(k, dict(obj["config"]), float(t))
            return
        run = runs[k]
        if kind == "event":
            ev = from_dict(obj["event"])
            # The runner's own time where the event has one (exact); else when it arrived.
            at = ev.t if getattr(ev, "t", None) is not None else float(t) - run.t0
            run.events.append((round(at, 6), ev))
        elif kind == "progress":
            run.progress.append((round(float(t) - run.t0, 6),
                                 {int(i): float(f) for i, f in obj["slots"].items()}))
        elif kind == "threads":
            run.threads.append(ThreadLine(round(float(t) - run.t0, 6), float(obj["off"]),
                                          run._decoder.feed(obj), bool(obj.get("end"))))
        elif kind == "result":
            run.result = obj["result"]
        # other types: written by a newer conc-tui, not needed to replay
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise RecordingError(f"{path}: line {number} is corrupt ({kind} line)") from None


# -- thread time: a probe's snapshot as a line, and back -------------------------------------

_STATE_NAMES = STATES + (OFF_CPU,)
_STATE_CODES = {s: i for i, s in enumerate(_STATE_NAMES)}  # "" (no time yet): -1


def _n(x: float, digits: int = 4) -> float | int:
    """``x`` rounded, written without ".0" when whole (many figures are 0)."""
    r = round(x, digits)
    return r if r % 1 else int(r)


def _four(t: Times, split: bool) -> list:
    """running, core_wait, lock_wait, io_wait, rounded (see ``Times.four``)."""
    return [_n(x) for x in t.four(split)]


class ThreadTimeEncoder:
    """One run's snapshots as ``threads`` lines: each with what changed since the last."""

    def __init__(self) -> None:
        self._threads: dict[tuple[int, int], tuple[ThreadTimes, list]] = {}
        self._procs: dict[int, tuple[ProcessTimes, list]] = {}
        self._snap: Snapshot | None = None
        self._w: float | None = None
        self._na: str | None = None
        self._notes: tuple[str, ...] = ()

    def line(self, snap: Snapshot, offset_s: float, final: bool = False) -> dict | None:
        """The line for ``snap`` (without type, t, run), or None when it is not due."""
        if snap is self._snap:
            return None
        if not snap.available:
            if snap.reason == self._na:
                return None
            self._snap, self._na = snap, snap.reason
            return {"off": round(offset_s, 6), "na": snap.reason or "not measured",
                    "notes": list(snap.notes)}
        if not final and self._w is not None and snap.wall_s - self._w < THREADS_S:
            return None
        self._snap, self._w = snap, snap.wall_s
        split = snap.lock_split
        out: dict = {"off": round(offset_s, 6), "w": _n(snap.wall_s), "iv": _n(snap.interval_s),
                     "tot": _four(snap.total, split), "last": _four(snap.last, split),
                     "now": [snap.states_now.get(s, 0) for s in _STATE_NAMES],
                     "seen": snap.threads_seen, "live": snap.threads_live,
                     "procs": snap.processes_live, "cpu": _n(snap.probe_cpu_s)}
        if not split:
            out["split"] = False
        if snap.sampled or snap.last_sampled_fraction < 1.0:
            out["sampled"] = [int(snap.sampled), _n(snap.sampled_fraction),
                              _n(snap.last_sampled_fraction)]
        if snap.notes != self._notes:
            out["notes"] = list(snap.notes)
            self._notes = snap.notes
        rows = []
        for th in snap.threads:
            key = (th.pid, th.tid)
            old = self._threads.get(key)
            if old is not None and old[0] is th:
                continue  # not read again since the last line
            row = [th.pid, th.tid, int(th.alive), _STATE_CODES.get(th.state, -1),
                   _n(th.covered_s), _n(th.updated_s), *_four(th.total, split),
                   *_four(th.last, split)]
            self._threads[key] = (th, row)
            if old is None or old[1] != row:
                rows.append(row)
        out["th"] = rows
        rows = []
        for p in snap.processes:
            old = self._procs.get(p.pid)
            if old is not None and old[0] is p:
                continue
            row = [p.pid, int(p.alive), p.threads_seen, p.threads_live,
                   *_four(p.total, split), *_four(p.last, split)]
            self._procs[p.pid] = (p, row)
            if old is None or old[1] != row:
                rows.append(row)
        out["pr"] = rows
        if final:
            out["end"] = True
        return out


class ThreadTimeDecoder:
    """A run's ``threads`` lines, in order, back into snapshots (each line adds to what the
    lines before it said)."""

    def __init__(self) -> None:
        self._threads: dict[tuple[int, int], ThreadTimes] = {}
        self._procs: dict[int, ProcessTimes] = {}
        self._notes: tuple[str, ...] = ()

    def feed(self, obj: dict) -> Snapshot:
        from types import MappingProxyType

        if "na" in obj:
            return Snapshot(available=False, reason=str(obj["na"]),
                            notes=tuple(map(str, obj.get("notes") or ())))
        split = bool(obj.get("split", True))
        four = Times.from_four
        for row in obj["th"]:
            code = int(row[3])
            th = ThreadTimes(int(row[0]), int(row[1]), bool(row[2]),
                             _STATE_NAMES[code] if 0 <= code < len(_STATE_NAMES) else "",
                             four(row[6:10], split), four(row[10:14], split),
                             float(row[4]), float(row[5]))
            self._threads[(th.pid, th.tid)] = th
        for row in obj["pr"]:
            p = ProcessTimes(int(row[0]), bool(row[1]), int(row[2]), int(row[3]),
                             four(row[4:8], split), four(row[8:12], split))
            self._procs[p.pid] = p
        if "notes" in obj:
            self._notes = tuple(map(str, obj["notes"]))
        now = dict(zip(_STATE_NAMES, (int(x) for x in obj["now"])))
        if split:
            now.pop(OFF_CPU, None)
        ever, frac, last_frac = obj.get("sampled") or (0, 1.0, 1.0)
        return Snapshot(
            available=True, notes=self._notes, lock_split=split, wall_s=float(obj["w"]),
            interval_s=float(obj["iv"]), total=four(obj["tot"], split),
            last=four(obj["last"], split), states_now=MappingProxyType(now),
            threads_seen=int(obj["seen"]), threads_live=int(obj["live"]),
            processes_live=int(obj["procs"]), sampled=bool(ever),
            sampled_fraction=float(frac), last_sampled_fraction=float(last_frac),
            probe_cpu_s=float(obj["cpu"]), threads=tuple(self._threads.values()),
            processes=tuple(self._procs.values()),
            _by_thread=MappingProxyType(dict(self._threads)),
            _by_pid=MappingProxyType(dict(self._procs)))


@dataclass(frozen=True)
class ThreadLine:
    """One recorded thread-time reading: when (run time), the probe-to-run offset, the
    snapshot as it stood, and whether it was the run's last."""

    t: float
    offset_s: float
    snapshot: Snapshot
    end: bool = False


__all__ = ["FORMAT", "VERSION", "Recorder", "Recording", "RecordedRun", "RecordingError",
           "RecordingReader", "ThreadLine", "ThreadTimeDecoder", "ThreadTimeEncoder",
           "read_recording", "machine_info"]

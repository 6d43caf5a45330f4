"""A recording as a Chrome Trace Event file, which Perfetto and chrome://tracing open.

Each run is a trace "process" (named by its mode and workload); each worker of the run (a
thread or process that ran tasks) has its own named track, and a task is an ``X`` span on
its worker's track, with the article's "17 is done" as an instant at its end. A worker that
ran overlapping tasks (asyncio: every coroutine on the main thread) gets one track per
overlap level, so that no two spans on a track partly overlap. Per-core load and the run's
busy cores are counter tracks, and where the thread time was recorded so is each run's
"threads by state": how many of its threads were running, waiting for a core, waiting on
the GIL (a lock) and sleeping or in I/O, on average over each of the probe's intervals.
Track ids are small integers: Perfetto drops 64-bit ones. Times are microseconds since the
recording began.
"""
from __future__ import annotations

import csv
import io
import json

from .recording import RecordedRun, Recording
from .runstate import RunState
from .threadwatch import STATE_ORDER, state_word

MACHINE_PID = 1  # the counters of the whole machine


def _us(seconds: float) -> int:
    return int(round(seconds * 1_000_000))


def _lanes(spans: list[tuple[float, float, int]]) -> dict[int, int]:
    """Task id -> track level within one worker, so that spans on a level never overlap:
    each span goes on the first level whose last span ended before it starts."""
    ends: list[float] = []
    level_of = {}
    for start, end, task in sorted(spans):
        for level, last in enumerate(ends):
            if last <= start:
                ends[level] = end
                break
        else:
            level = len(ends)
            ends.append(end)
        level_of[task] = level
    return level_of


def trace_events(rec: Recording) -> list[dict]:
    out: list[dict] = [
        {"ph": "M", "name": "process_name", "pid": MACHINE_PID, "tid": 0,
         "args": {"name": f"machine · {rec.machine.get('usable_cores', '?')} cores"}},
    ]
    for s in rec.samples:
        ts = _us(s["t"])
        out.append({"ph": "C", "name": "core load %", "pid": MACHINE_PID, "tid": 0, "ts": ts,
                    "args": {f"cpu{i}": v for i, v in enumerate(s.get("per_core", []))}})
        out.append({"ph": "C", "name": "cores busy (run)", "pid": MACHINE_PID, "tid": 0,
                    "ts": ts, "args": {"cores": s.get("parallelism_now", 0.0)}})
    for run in rec.runs:
        pid = MACHINE_PID + 1 + run.number
        state = RunState(int(run.config.get("tasks", 0)))
        state.apply(ev for _, ev in run.events)
        started = state.started
        title = (f"run {run.number}: {run.config.get('mode')} · {run.config.get('workload')}"
                 f" · {run.config.get('tasks')} tasks")
        out.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                    "args": {"name": title}})
        out.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0,
                    "args": {"sort_index": pid}})
        end_of_run = state.finished.wall_s if state.finished else max(
            [t.end_s or t.start_s or 0.0 for t in state.tasks] or [0.0])
        by_worker: dict[int, list] = {}
        for task in state.tasks:
            if task.start_s is None or task.worker is None:
                continue
            end = task.end_s if task.end_s is not None else end_of_run
            by_worker.setdefault(task.worker, []).append((task.start_s, end, task.id))
        tid = 0
        tracks: dict[tuple[int, int], int] = {}
        for worker in sorted(by_worker):
            levels = _lanes(by_worker[worker])
            wpid, wtid = next(key for key, w in state.workers.items() if w == worker)
            for level in sorted(set(levels.values())):
                tid += 1
                tracks[(worker, level)] = tid
                name = f"worker {worker} · pid {wpid} thread {wtid}"
                if level:
                    name += f" · overlap {level}"
                out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                            "args": {"name": name}})
                out.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid,
                            "args": {"sort_index": tid}})
            for start, end, task_id in by_worker[worker]:
                task = state.tasks[task_id]
                track = tracks[(worker, levels[task_id])]
                ts = _us(run.t0 + start)
                out.append({"ph": "X", "name": f"task {task_id}", "cat": task.state,
                            "pid": pid, "tid": track, "ts": ts,
                            "dur": max(1, _us(run.t0 + end) - ts),
                            "args": {"id": task_id, "status": task.state, "pid": task.pid,
                                     "tid": task.tid, "cpu_s": task.cpu_s,
                                     "error": task.error}})
                if task.state in ("done", "failed"):
                    label = f"{task_id} is done" if task.state == "done" else f"{task_id} failed"
                    out.append({"ph": "i", "s": "t", "name": label, "pid": pid,
                                "tid": track, "ts": _us(run.t0 + end)})
        out.extend(_thread_counters(run, pid, end_of_run,
                                    started.python.get("gil_enabled") if started else None))
        if started is not None:
            out.append({"ph": "M", "name": "process_labels", "pid": pid, "tid": 0,
                        "args": {"labels": f"{started.python.get('implementation', '')} "
                                           f"{started.python.get('version', '')}"}})
    return out


THREAD_COUNTER = "threads by state"


def _thread_counters(run: RecordedRun, pid: int, end_of_run: float,
                     gil: bool | None) -> list[dict]:
    """The run's "threads by state" counter: at the start of each recorded interval of the
    probe, the threads in each state over it (seconds in the state / the interval's length:
    an average, so 79 GIL waiters read 79 however often they woke); 0 from the run's end."""
    out: list[dict] = []
    last_ts = -1
    words: list[str] = []
    for line in run.threads:
        snap = line.snapshot
        if not snap.available or snap.interval_s <= 0 or line.end:
            continue  # the last reading's live figures repeat the last whole interval's
        split = snap.lock_split
        words = [state_word("off_cpu" if s == "io_wait" and not split else s, gil)
                 for s in STATE_ORDER]
        ts = max(0, _us(run.t0 + snap.wall_s - snap.interval_s + line.offset_s))
        if ts <= last_ts:
            continue
        last_ts = ts
        vals = snap.last.four(split)
        out.append({"ph": "C", "name": THREAD_COUNTER, "pid": pid, "tid": 0, "ts": ts,
                    "args": {w: round(v / snap.interval_s, 2) for w, v, s in
                             zip(words, vals, STATE_ORDER) if split or s != "lock_wait"}})
    end = _us(run.t0 + end_of_run)
    if out and end > last_ts:
        out.append({"ph": "C", "name": THREAD_COUNTER, "pid": pid, "tid": 0, "ts": end,
                    "args": dict.fromkeys(out[-1]["args"], 0)})
    return out


def to_trace_json(rec: Recording) -> str:
    """The whole trace file: events, and the runs' settings as metadata."""
    meta = {"conc_tui": rec.header.get("conc_tui"), "machine": rec.machine,
            "runs": [dict(run.config, number=run.number) for run in rec.runs]}
    return json.dumps({"traceEvents": trace_events(rec), "displayTimeUnit": "ms",
                       "otherData": meta}) + "\n"


TASK_CSV_FIELDS = ["run", "mode", "workload", "tasks", "n", "sleep", "workers", "id", "status",
                   "pid", "tid", "worker", "start_s", "end_s", "cpu_s", "error",
                   "running_s", "core_wait_s", "lock_wait_s", "io_wait_s"]
_TIME_FIELDS = ("running_s", "core_wait_s", "lock_wait_s", "io_wait_s")


def _task_times(run) -> dict[int, dict]:
    """Each task's thread time, from the run's recorded result (where it was measured)."""
    tasks = (run.result or {}).get("tasks") or []
    return {t.get("id"): t.get("thread_time") or {} for t in tasks if isinstance(t, dict)}


def tasks_csv(rec: Recording) -> str:
    """One row per task of every run of the recording."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=TASK_CSV_FIELDS)
    writer.writeheader()
    for run in rec.runs:
        state = RunState(int(run.config.get("tasks", 0)))
        state.apply(ev for _, ev in run.events)
        times = _task_times(run)
        for t in state.tasks:
            tt = times.get(t.id, {})
            writer.writerow({"run": run.number, **{k: run.config.get(k) for k in (
                "mode", "workload", "tasks", "n", "sleep", "workers")},
                **{k: tt.get(k) for k in _TIME_FIELDS},
                "id": t.id, "status": t.state, "pid": t.pid, "tid": t.tid,
                "worker": t.worker, "start_s": t.start_s, "end_s": t.end_s,
                "cpu_s": t.cpu_s, "error": t.error})
    return buf.getvalue()


"""The protocol and the reducer, on lists of events: no process is started."""
from __future__ import annotations

import pytest

from conc_tui.engine import protocol
from conc_tui.monitor import (RunConfig, RunFinished, RunStarted, RunState, TaskDone,
                              TaskFailed, TaskStarted, Unreadable)
from conc_tui.monitor.scripted import script_for


def started(**kw):
    base = dict(mode="threads", workload="cpu", tasks=3, n=10, sleep=0.0, workers=3, pid=10,
                python={"gil_enabled": True}, cpu_count=2, t0=100.0)
    base.update(kw)
    return RunStarted(**base)


# -- protocol -------------------------------------------------------------------------------

@pytest.mark.parametrize("event", [
    started(start_method="fork", nice=19),
    TaskStarted(id=1, pid=10, tid=11, t=0.5),
    TaskDone(id=1, pid=10, tid=11, t=1.5, cpu_s=0.9),
    TaskFailed(id=2, pid=10, tid=12, t=2.0, error="ValueError: x", cpu_s=0.1, traceback="tb"),
    RunFinished(status="ok", wall_s=3.0, cpu_s=2.0),
])
def test_every_event_survives_the_wire(event):
    line = protocol.to_line(event)
    assert "\n" not in line
    assert protocol.parse_line(line.encode()) == event


def test_run_started_carries_the_protocol_version():
    assert protocol.to_dict(started())["protocol"] == protocol.PROTOCOL_VERSION


@pytest.mark.parametrize("line, reason", [
    (b"not json at all", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"kind": "task-teleported", "id": 1}', "unknown event kind"),
    (b'{"kind": "task-done", "id": 1, "pid": 2, "tid": 3, "t": 1.0}', "without cpu_s"),
    (b'{"kind": "task-done", "id": "one", "pid": 2, "tid": 3, "t": 1.0, "cpu_s": 0}', "bad id"),
    (b'{"kind": "task-started", "id": true, "pid": 2, "tid": 3, "t": 1.0}', "bad id"),
    (b'\xff\xfe{', "not JSON"),
])
def test_a_bad_line_becomes_unreadable_never_an_exception(line, reason):
    ev = protocol.parse_line(line)
    assert isinstance(ev, Unreadable)
    assert reason in ev.reason


def test_fields_a_newer_runner_adds_are_ignored():
    ev = protocol.parse_line(b'{"kind": "task-started", "id": 0, "pid": 1, "tid": 2, "t": 0,'
                             b' "numa_node": 3}')
    assert ev == TaskStarted(id=0, pid=1, tid=2, t=0)


# -- the reducer ------------------------------------------------------------------------------

def test_states_counts_spans_and_changed_ids():
    run = RunState(3)
    assert run.counts == {"waiting": 3, "running": 0, "done": 0, "failed": 0, "cancelled": 0}
    assert run.apply([started(), TaskStarted(id=0, pid=10, tid=11, t=0.1),
                      TaskStarted(id=1, pid=10, tid=12, t=0.2)]) == {0, 1}
    assert run.started.mode == "threads" and not run.ended
    assert run.counts == {"waiting": 1, "running": 2, "done": 0, "failed": 0, "cancelled": 0}
    assert run.apply([TaskDone(id=0, pid=10, tid=11, t=1.0, cpu_s=0.8),
                      TaskFailed(id=1, pid=10, tid=12, t=1.2, error="E: x", cpu_s=0.5,
                                 traceback="tb")]) == {0, 1}
    assert run.apply([]) == set()
    t0, t1, t2 = run.tasks
    assert (t0.state, t0.start_s, t0.end_s, t0.cpu_s, t0.pid, t0.tid) == ("done", 0.1, 1.0, 0.8,
                                                                          10, 11)
    assert (t1.state, t1.error, t1.traceback) == ("failed", "E: x", "tb")
    assert t2.state == "waiting" and t2.start_s is None
    assert run.counts == {"waiting": 1, "running": 0, "done": 1, "failed": 1, "cancelled": 0}
    run.apply([RunFinished(status="failed", wall_s=1.3)])
    assert run.ended and run.finished.status == "failed"


def test_workers_are_the_distinct_threads_in_order_of_first_use():
    run = RunState(4)
    run.apply([TaskStarted(id=0, pid=5, tid=50, t=0), TaskStarted(id=1, pid=5, tid=51, t=0),
               TaskDone(id=0, pid=5, tid=50, t=1, cpu_s=1),
               TaskStarted(id=2, pid=5, tid=50, t=1),  # a pool thread takes the next task
               TaskStarted(id=3, pid=6, tid=50, t=1)])  # same tid, other process: other lane
    assert [t.worker for t in run.tasks] == [0, 1, 0, 2]
    assert run.workers == {(5, 50): 0, (5, 51): 1, (6, 50): 2}


def test_out_of_order_repeated_and_foreign_events_are_warned_not_applied():
    run = RunState(2)
    run.apply([TaskStarted(id=0, pid=1, tid=1, t=0), TaskDone(id=0, pid=1, tid=1, t=1, cpu_s=1)])
    changed = run.apply([TaskDone(id=0, pid=1, tid=1, t=2, cpu_s=1),   # twice
                         TaskStarted(id=0, pid=1, tid=1, t=3),           # back to running
                         TaskStarted(id=7, pid=1, tid=1, t=3),           # not a task of this run
                         Unreadable(line="garbage", reason="not JSON")])
    assert changed == set()
    assert run.tasks[0].state == "done" and run.tasks[0].end_s == 1
    assert run.counts == {"waiting": 1, "running": 0, "done": 1, "failed": 0, "cancelled": 0}
    assert run.unreadable == 2  # task 7 and the garbage line
    assert len(run.warnings) == 4 and "task 7" in run.warnings[2]


def test_a_newer_protocol_is_warned_about():
    run = RunState(1)
    run.apply([started(protocol=protocol.PROTOCOL_VERSION + 1)])
    assert run.started is not None and "protocol" in run.warnings[0]


def test_the_first_run_finished_stands():
    run = RunState(1)
    run.apply([RunFinished(status="cancelled", wall_s=1.0),
               RunFinished(status="failed", wall_s=2.0, synthetic=True)])
    assert run.finished.status == "cancelled"


@pytest.mark.parametrize("mode", ["threads", "process-pool", "asyncio"])
def test_a_whole_scripted_run_reduces_to_every_task_done(mode):
    cfg = RunConfig(mode=mode, tasks=12, n=100)
    events = script_for(cfg, cpu_count=2, workers=cfg.effective_workers(2))
    run = RunState(12)
    changed = run.apply(events)
    assert changed == set(range(12))
    assert run.counts["done"] == 12 and run.ended and run.unreadable == 0
    assert all(t.start_s <= t.end_s for t in run.tasks)
    lanes = len(run.workers)
    assert lanes == {"threads": 12, "process-pool": 2, "asyncio": 1}[mode]


def test_a_stop_turns_the_running_tasks_cancelled_and_leaves_the_waiting():
    run = RunState(3)
    run.apply([started(), TaskStarted(id=0, pid=1, tid=1, t=0.1),
               TaskStarted(id=1, pid=1, tid=2, t=0.2),
               TaskDone(id=0, pid=1, tid=1, t=0.5, cpu_s=0.4)])
    changed = run.apply([RunFinished(status="cancelled", wall_s=1.0)])
    assert changed == {1}
    assert run.states() == ["done", "cancelled", "waiting"]
    assert run.tasks[1].end_s == 1.0
    assert run.counts == {"waiting": 1, "running": 0, "done": 1, "failed": 0, "cancelled": 1}

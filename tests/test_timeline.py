"""Thread time of a run: the verdict from the breakdown, the history, the timeline's layout.

Scripted snapshots (no probe, no clock) drive everything but the last tests, which make a
few small real runs with loose bounds (two shared cores).
"""
from __future__ import annotations

import json
from types import MappingProxyType

import pytest

from conc_tui.engine.protocol import RunStarted, TaskDone, TaskStarted
from conc_tui.monitor import RunConfig
from conc_tui.monitor.runstate import RunState
from conc_tui.monitor.threadtime import ProcessTimes, Snapshot, ThreadTimes, Times
from conc_tui.monitor.threadwatch import (Breakdown, History, ThreadWatch, breakdown,
                                          most_at_once, task_times)
from conc_tui.monitor.timeline import GLYPHS, TASK, layout, text_lines
from conc_tui.monitor.verdict import verdict_for
from tests.helpers import run_cli

RUNNER = 100


def times(run=0.0, core=0.0, lock=0.0, io=0.0) -> Times:
    return Times(run, core, lock, io, lock + io)


def snapshot(threads: dict, wall: float, *, procs: dict | None = None,
             interval: float = 0.5) -> Snapshot:
    """``threads``: (pid, tid) -> (total Times, last Times, alive, updated_s)."""
    tts = {k: ThreadTimes(k[0], k[1], v[2], v[1].state, v[0], v[1],
                          v[0].total_s, v[3]) for k, v in threads.items()}
    procs = procs or {}
    pts = {pid: ProcessTimes(pid, v[2], 1, 1 if v[2] else 0, v[0], v[1])
           for pid, v in procs.items()}
    total = Times(*(sum(getattr(t.total, f) for t in tts.values()) for f in
                    ("running_s", "core_wait_s", "lock_wait_s", "io_wait_s", "off_cpu_s")))
    return Snapshot(available=True, wall_s=wall, interval_s=interval, total=total,
                    last=total, threads_seen=len(tts), threads_live=len(tts),
                    threads=tuple(tts.values()), processes=tuple(pts.values()),
                    _by_thread=MappingProxyType(tts), _by_pid=MappingProxyType(pts))


def run_state(spans: list[tuple[int, int, float, float | None]]) -> RunState:
    """A reduced run: one (pid, tid, start, end) a task, in task order."""
    state = RunState(len(spans))
    events = [RunStarted(t=0.0, mode="x", workload="cpu", tasks=len(spans), n=1, sleep=0,
                         workers=1, pid=RUNNER, python={}, cpu_count=2, t0=0.0)]
    for i, (pid, tid, start, end) in enumerate(spans):
        events.append(TaskStarted(id=i, pid=pid, tid=tid, t=start))
    for i, (pid, tid, start, end) in enumerate(spans):
        if end is not None:
            events.append(TaskDone(id=i, pid=pid, tid=tid, t=end, cpu_s=0.1))
    events.sort(key=lambda e: e.t)
    state.apply(events)
    return state


def gil_run(n: int = 80, wall: float = 20.0):
    """n threads of the runner, all the run long, one running at a time."""
    spans = [(RUNNER, 1000 + i, 0.0, wall) for i in range(n)]
    each = times(run=wall / n, lock=wall * (n - 1) / n)
    threads = {(RUNNER, 1000 + i): (each, each, True, wall) for i in range(n)}
    return run_state(spans), snapshot(threads, wall)


# -- the verdict from the breakdown ------------------------------------------------------------

def test_gil_bound_threads_say_how_many_wait_on_the_gil():
    state, snap = gil_run()
    b = breakdown(snap, state, RUNNER)
    assert (b.unit, b.worker_count, b.most_at_once) == ("thread", 80, 80)
    v = verdict_for(1.0, 2, "cpu", "threads", True, breakdown=b)
    assert v.kind == "gil-bound"
    assert v.text == "GIL-bound: 79 of 80 threads waiting on the GIL · 1.0 of 2 cores"
    # Without a GIL the same futex waits are some other lock.
    assert verdict_for(1.0, 2, "cpu", "threads", False, breakdown=b).kind == "lock-bound"


def test_processes_waiting_for_a_core():
    n, wall = 80, 10.0
    spans = [(2000 + i, 2000 + i, 0.0, wall) for i in range(n)]
    each = times(run=wall * 2 / n, core=wall * (n - 2) / n)
    threads = {(2000 + i, 2000 + i): (each, each, True, wall) for i in range(n)}
    procs = {2000 + i: (each, each, True) for i in range(n)}
    b = breakdown(snapshot(threads, wall, procs=procs), run_state(spans), RUNNER)
    assert (b.unit, b.worker_count) == ("process", 80)
    v = verdict_for(2.0, 2, "cpu", "processes", True, breakdown=b)
    assert v.text == "parallel: 78 of 80 processes waiting for a core · 2.0 of 2 cores"


def test_sleeping_threads_are_waiting_on_io_only_with_the_cores_idle():
    n, wall = 80, 2.0
    spans = [(RUNNER, 1000 + i, 0.0, wall) for i in range(n)]
    each = times(run=0.001, io=wall - 0.001)
    threads = {(RUNNER, 1000 + i): (each, each, True, wall) for i in range(n)}
    b = breakdown(snapshot(threads, wall), run_state(spans), RUNNER)
    v = verdict_for(0.01, 2, "io", "threads", True, breakdown=b)
    assert v.text == "waiting on I/O: 80 of 80 threads sleeping · 0.0 of 2 cores"
    # The same shares while the run keeps a core busy (thread bookkeeping): never I/O.
    for busy in (0.5, 1.0):
        assert verdict_for(busy, 2, "io", "thread-pool", True, breakdown=b).kind != "io-wait"


def test_one_task_at_a_time_is_read_from_the_spans_not_the_mode():
    wall = 16.0
    spans = [(RUNNER, RUNNER, float(i), float(i + 1)) for i in range(16)]
    main = times(run=wall)
    b = breakdown(snapshot({(RUNNER, RUNNER): (main, main, True, wall)}, wall),
                  run_state(spans), RUNNER)
    assert b.most_at_once == 1 and b.worker_count == 1
    for mode in ("asyncio", "threads", "no-such-mode"):
        v = verdict_for(1.0, 2, "cpu", mode, True, breakdown=b)
        assert v.kind == "one-at-a-time", mode
        assert v.text.startswith("one at a time: 1 task ran at a time, 15 waited")


def test_without_a_breakdown_the_verdict_reads_the_parallelism():
    assert verdict_for(1.0, 2, "cpu", "threads", True).text == "GIL-bound: 1.00 of 2 cores"
    gone = Breakdown(False, reason="no /proc")
    assert verdict_for(1.0, 2, "cpu", "threads", True, breakdown=gone).kind == "gil-bound"


def test_most_at_once_counts_overlapping_spans():
    state = run_state([(1, 1, 0.0, 2.0), (1, 2, 1.0, 3.0), (1, 3, 2.0, 4.0), (1, 4, 5, None)])
    assert most_at_once(state) == 2


# -- per task ------------------------------------------------------------------------------

def test_a_task_that_owned_its_thread_or_process_gets_its_figures():
    # tasks 0, 1 on their own threads; 2 and 3 share one (a pool); 4 owns process 3000
    state = run_state([(RUNNER, 11, 0, 1), (RUNNER, 12, 0, 1), (RUNNER, 13, 0, 1),
                       (RUNNER, 13, 1, 2), (3000, 3000, 0, 1)])
    a, b, pool = times(run=1.0), times(lock=1.0), times(io=2.0)
    proc = times(run=0.5, core=0.5)
    snap = snapshot({(RUNNER, 11): (a, a, False, 1), (RUNNER, 12): (b, b, False, 1),
                     (RUNNER, 13): (pool, pool, False, 2),
                     (3000, 3000): (times(run=0.4), times(), False, 1)}, 2.0,
                    procs={3000: (proc, proc, False)})
    got = task_times(snap, state, RUNNER)
    assert got == {0: a, 1: b, 4: proc}


# -- history and timeline ------------------------------------------------------------------

def test_history_stays_bounded_and_keeps_the_sums():
    h = History(bin_s=0.5, max_bins=8)
    for i in range(100):
        h.add((1, 1), i * 0.5, (i + 1) * 0.5, (0.5, 0.0, 0.0, 0.0))
    assert len(h.lanes[(1, 1)]) <= 8
    assert h.bin_s >= 50.0 / 8
    assert sum(h.sums((1, 1), 0, h.bin_s * 8)) == pytest.approx(50.0)
    assert h.sums((9, 9), 0, 1) is None


def test_the_watch_adds_what_each_thread_did_since_its_last_reading():
    w = ThreadWatch(None)
    key = (RUNNER, 7)
    for k, (tot, t) in enumerate([(times(run=0.5), 0.5), (times(run=0.5, lock=0.5), 1.0),
                                  (times(run=0.5, lock=1.5), 2.0)]):
        w.ingest(snapshot({key: (tot, tot, True, t)}, t))
    assert w.history.sums(key, 0, 0.5)[0] == pytest.approx(0.5)
    assert w.history.sums(key, 0.5, 1.0)[2] == pytest.approx(0.5)
    assert sum(w.history.sums(key, 1.0, 2.0)) == pytest.approx(1.0)


def watched(state, threads_by_time: dict, wall: float) -> ThreadWatch:
    """A watch whose history has ``threads_by_time``: key -> state for the whole run."""
    w = ThreadWatch(None)
    slot = {"running": 0, "core_wait": 1, "lock_wait": 2, "io_wait": 3}
    for key, st in threads_by_time.items():
        vals = [0.0] * 4
        vals[slot[st]] = wall
        w.history.add(key, 0.0, wall, tuple(vals))
    return w


def test_threads_timeline_groups_lanes_and_shows_the_gil():
    state, _ = gil_run(80, 20.0)
    w = watched(state, {k: "lock_wait" for k in state.workers}, 20.0)
    lay = layout(state, w, 20.0, 60, 20)
    assert lay.lanes == 80 and lay.grouped == 4 and len(lay.rows) == 20
    assert lay.rows[-1].label == "76-79"  # every lane has a row: none dropped
    assert set(lay.counts()) == {"lock_wait"}


def test_pool_waves_and_asyncio_staircase():
    # process-pool, 2 workers, 8 tasks of 1 s in waves of two
    spans = [(3000 + i % 2, 3000 + i % 2, float(i // 2), float(i // 2 + 1)) for i in range(8)]
    state = run_state(spans)
    w = watched(state, {k: "running" for k in state.workers}, 4.0)
    lay = layout(state, w, 4.0, 40, 20)
    assert lay.lanes == 2 and lay.grouped == 1
    assert len(lay.rows) == 8  # each lane's 4 tasks on rows of their own: a staircase
    assert [r.cells.index("running") for r in lay.rows[:4]] == [0, 10, 20, 30]
    assert set(lay.counts()) == {"running"}
    # asyncio, cpu: one lane, 16 tasks one after another
    state = run_state([(RUNNER, RUNNER, float(i), float(i + 1)) for i in range(16)])
    lay = layout(state, None, 16.0, 32, 30)
    firsts = [r.cells.index(TASK) for r in lay.rows]
    assert lay.lanes == 1 and firsts == sorted(firsts) and len(set(firsts)) == 16
    lines = text_lines(lay, True)
    assert lines[0].startswith("timeline · 1 thread · 0-16.0 s")
    assert GLYPHS[TASK] in lines[2]


def test_ten_thousand_tasks_on_a_thousand_workers_lay_out_in_rows():
    spans = [(RUNNER, 5000 + i % 1000, i * 0.001, i * 0.001 + 0.01) for i in range(10000)]
    state = run_state(spans)
    w = watched(state, {k: "io_wait" for k in state.workers}, 11.0)
    lay = layout(state, w, 11.0, 100, 30)
    assert lay.lanes == 1000 and len(lay.rows) <= 30
    assert lay.rows[-1].label.endswith("-999")
    assert lay.counts().get("io_wait", 0) > 0


# -- real runs ------------------------------------------------------------------------------

def test_run_json_has_thread_time_and_the_summary_the_breakdown(tmp_path):
    out = tmp_path / "r.json"
    proc = run_cli("run", "--mode", "threads", "--workload", "io", "--tasks", "6",
                   "--sleep", "1", "-q", "--timeline", "--json", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr
    d = json.loads(out.read_text())
    tt = d["thread_time"]
    assert set(tt) >= {"running_s", "core_wait_s", "lock_wait_s", "io_wait_s"}
    total = tt["running_s"] + tt["core_wait_s"] + tt["lock_wait_s"] + tt["io_wait_s"]
    assert total > 0 and tt["io_wait_s"] / total > 0.5, tt
    assert d["verdict"]["kind"] == "io-wait"
    assert all(set(t["thread_time"]) >= {"running_s", "io_wait_s"} for t in d["tasks"])
    assert "thread time: running" in proc.stdout
    assert f"verdict: {d['verdict']['text']}" in proc.stdout
    assert "timeline · 6 threads" in proc.stdout
    assert GLYPHS["io_wait"] * 5 in proc.stdout


def test_the_timeline_key_opens_and_closes_the_view():
    from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource
    from conc_tui.ui.app import build_app
    from conc_tui.ui.timeline import TimelineScreen, TimelineView

    app = build_app(RunConfig(mode="process-pool", tasks=8, n=300),
                    source_factory=lambda c: ScriptedSource(c, cpu_count=2),
                    sampler=ScriptedSampler(2, "busy"), live=False, python_info=FAKE_PYTHON)

    async def go():
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("r")
            for _ in range(40):
                if not app.running:
                    break
                app.session.source.advance(0.5)
                app.tick()
            await pilot.press("l")
            assert isinstance(app.screen, TimelineScreen)
            for _ in range(50):
                await pilot.pause(0.05)
                if app.screen.query_one(TimelineView).picture is not None:
                    break
            picture = app.screen.query_one(TimelineView).picture
            assert picture is not None and picture.lay.lanes >= 1
            assert "not measured" in picture.note  # a scripted run has no process tree
            await pilot.press("l")
            assert not isinstance(app.screen, TimelineScreen)

    import asyncio
    asyncio.run(go())


def test_an_unmeasured_run_says_why_in_its_json_and_summary_line():
    b = breakdown(Snapshot(available=False, reason="no /proc: thread states need Linux's /proc"),
                  run_state([(1, 1, 0, 1)]), RUNNER)
    d = b.as_json()
    assert d["running_s"] is None and d["lock_wait_s"] is None and not d["available"]
    assert "no /proc" in d["reason"] and "no /proc" in b.line(True)


def test_the_summary_line_names_lock_waits_the_gil_only_where_workers_share_one():
    # In a processes run the tree's lock waits are the runner's pool threads and queues:
    # each worker has a GIL of its own, so "GIL wait" would misname them.
    times = Times(1.0, 2.0, 3.0, 0.5, 3.5)
    threads = Breakdown(True, total=times, workers=times, worker_count=4, unit="thread")
    processes = Breakdown(True, total=times, workers=times, worker_count=4, unit="process")
    assert "GIL wait 3.0 s" in threads.line(True)
    assert "lock wait 3.0 s" in processes.line(True) and "GIL" not in processes.line(True)
    assert "lock wait 3.0 s" in threads.line(False)  # a free-threaded build has no GIL

"""Record, replay, export: a recording replays to the live run's result, in the app and
headless; the trace is valid; bad and truncated files are handled."""
from __future__ import annotations

import gzip
import json
import time
from dataclasses import astuple
from types import MappingProxyType

import pytest

from conc_tui.monitor import Controller, RunConfig
from conc_tui.monitor.recording import Recorder, RecordingError, read_recording
from conc_tui.monitor.replay import RecordedSource, config_of
from conc_tui.monitor.scripted import ScriptedSampler, ScriptedSource
from conc_tui.monitor.sources import Capabilities
from conc_tui.monitor.threadtime import Snapshot, ThreadTimes, Times
from conc_tui.monitor.threadwatch import ThreadWatch
from conc_tui.monitor.trace import trace_events
from helpers import run_cli


class GilProbe:
    """Stands in for the thread-time probe of a scripted run: at each ``publish`` (the
    probe's interval), of the run's tasks going then, on average one ran and the others
    waited on the GIL; threads whose tasks ended keep their figures, as with the probe."""

    def __init__(self, root_pid, on_publish, clock):
        self.on_publish, self.clock = on_publish, clock
        self.snap = Snapshot(available=False, reason="not started")
        self.threads: dict = {}
        self.wall = 0.0
        self.keys: list = []

    def start(self):
        return self

    def snapshot(self):
        return self.snap

    def publish(self, keys=None):
        keys = self.keys if keys is None else keys
        self.keys = keys
        now = self.clock()
        dt, self.wall = now - self.wall, now
        for key, th in list(self.threads.items()):
            if key not in keys and th.alive:
                self.threads[key] = ThreadTimes(*key, False, th.state, th.total, th.last,
                                                th.covered_s, th.updated_s)
        n = len(keys)
        for key in keys:
            last = Times(dt / n, 0.0, dt * (n - 1) / n, 0.0, dt * (n - 1) / n)
            old = self.threads.get(key)
            tot = last if old is None else Times(*(a + b for a, b in zip(
                astuple(old.total), astuple(last))))
            self.threads[key] = ThreadTimes(*key, True, last.state, tot, last,
                                            tot.total_s, now)
        ths = tuple(self.threads.values())
        total, last = (Times(*(sum(astuple(getattr(t, f))[i] for t in ths) for i in range(5)))
                       for f in ("total", "last"))
        live = sum(t.alive for t in ths)
        self.snap = Snapshot(
            available=True, wall_s=now, interval_s=dt, total=total, last=last,
            states_now=MappingProxyType({"running": 1 if n else 0, "core_wait": 0,
                                         "lock_wait": max(0, n - 1), "io_wait": 0}),
            threads_seen=len(ths), threads_live=live, processes_live=1, threads=ths,
            _by_thread=MappingProxyType(dict(self.threads)))
        self.on_publish(self.snap)

    def stop(self, tree_cpu_s=None):
        self.publish()  # the run's tail, as the real probe's stop() reads it
        return self.snap


class ScriptedWatch(ThreadWatch):
    offset_s = 0.0  # the probe's time is the scripted run's time


def scripted_recording(path, configs, cores=2, sampler=None, threads=False):
    """Record a session of scripted runs (a manual clock: no waiting) into ``path``;
    ``threads``: with thread time, from a ``GilProbe`` twice a second."""
    clock = [0.0]
    recorder = Recorder(str(path), clock=lambda: clock[0],
                        machine={"usable_cores": cores, "logical_cores": cores,
                                 "cpu_model": "test", "platform": "test"})

    class Source(ScriptedSource):  # a run with a process tree: the controller watches it
        capabilities = Capabilities(progress=True, process_tree=threads)

    def watch(pid):
        return ScriptedWatch(pid, probe_factory=lambda p, on_publish: GilProbe(
            p, on_publish, lambda: clock[0]))

    ctl = Controller(source_factory=lambda cfg: Source(cfg, cpu_count=cores,
                                                       clock=lambda: clock[0]),
                     sampler=sampler, recorder=recorder, watch_factory=watch)
    ctl.compare(configs) if len(configs) > 1 else ctl.run(configs[0])
    while ctl.busy:
        clock[0] += 0.05
        ctl.poll()
        if sampler is not None and round(clock[0] * 20) % 10 == 0:
            ctl.sample()
        if threads and ctl.busy and round(clock[0] * 20) % 10 == 0:
            state = ctl.session.state
            ctl.watch.probe.publish([(t.pid, t.tid) for t in state.tasks
                                     if t.state == "running"])
    recorder.close()
    return ctl.results


def test_a_real_run_replays_to_the_same_result(tmp_path):
    rec, out = tmp_path / "r.jsonl", tmp_path / "s.json"
    live = run_cli("run", "--mode", "process-pool", "--tasks", "6", "--n", "120", "--record",
                   str(rec), "--json", str(tmp_path / "live.json"))
    assert live.returncode == 0, live.stderr
    replay = run_cli("replay", str(rec), "--summary", "--json", str(out))
    assert replay.returncode == 0, replay.stderr
    a = json.loads((tmp_path / "live.json").read_text())
    b = json.loads(out.read_text())
    assert [t["id"] for t in b["tasks"] if t["status"] == "done"] == list(range(6))
    assert [t["status"] for t in a["tasks"]] == [t["status"] for t in b["tasks"]]
    assert b["wall_s"] == pytest.approx(a["wall_s"], abs=1e-6)
    assert b["cpu_s"] == pytest.approx(a["cpu_s"], abs=1e-6)
    assert "process-pool · cpu · 6 tasks" in replay.stdout
    lines = [json.loads(line) for line in rec.read_text().splitlines()]
    assert lines[0]["type"] == "header" and lines[0]["machine"]["usable_cores"] >= 1
    assert {"run", "event", "progress", "sample", "threads", "result"} <= {
        ln["type"] for ln in lines}
    # The thread time was measured, recorded, and replays to the same figures and verdict.
    assert a["thread_time"]["running_s"] > 0, a["thread_time"]
    assert b["thread_time"] == a["thread_time"]
    assert b["verdict"] == a["verdict"]
    assert [t["thread_time"] for t in b["tasks"]] == [t["thread_time"] for t in a["tasks"]]
    assert "thread time: running" in replay.stdout
    # ... through the same history the timeline draws.
    recording = read_recording(str(rec))
    ctl = replay_controller(recording)
    assert ctl.watch.history.lanes and ctl.watch.history.end_s > 0
    assert ctl.results[0].as_json()["thread_time"] == a["thread_time"]


def replay_controller(recording, upto=None):
    """A controller that replays the recording's runs on a manual clock: to their ends, or
    (``upto``) the first run to that time, still going."""
    cores = int(recording.machine.get("usable_cores") or 1)
    sources = iter([RecordedSource(run, cpu_count=cores) for run in recording.runs])
    ctl = Controller(source_factory=lambda config: next(sources), watch_factory=None)
    for run in recording.runs:
        ctl.run(config_of(run))
        if upto is not None:
            ctl.session.source.advance(upto)
            ctl.poll()
            return ctl
        while ctl.busy:
            ctl.session.wait()
            ctl.poll()
    return ctl


async def test_recorded_thread_time_replays_into_the_thread_view(tmp_path):
    from conc_tui.ui.replay import ReplayApp
    from conc_tui.ui.timeline import TimelineScreen, TimelineView

    path = tmp_path / "r.jsonl"
    live = scripted_recording(path, [RunConfig(mode="threads", tasks=8, n=300)], threads=True)
    assert live[0].thread_time.available and live[0].verdict.kind == "gil-bound"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    threads = [ln for ln in lines if ln["type"] == "threads"]
    assert threads and threads[-1].get("end") and lines[0]["version"] == 2
    # a thread's row is written again only when its figures changed
    rows = [tuple(r[:2]) for ln in threads for r in ln.get("th", ())]
    assert len(rows) < 8 * len(threads)

    # Halfway: the live figures the thread view draws, from the readings recorded so far.
    ctl = replay_controller(read_recording(str(path)), upto=1.0)
    now = ctl.live_breakdown()
    assert ctl.busy and now is not None and now.worker_count == 8
    assert now.count("lock_wait") == 7 and now.count("running") == 1
    assert ctl.watch.history.end_s <= 1.0 + 1e-6

    app = ReplayApp(read_recording(str(path)), speed=16)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        while not app.results and time.monotonic() < deadline:
            await pilot.pause(0.1)
        result = app.results[0]
        assert result.as_json()["thread_time"] == live[0].as_json()["thread_time"]
        assert result.verdict == live[0].verdict
        panel = str(app.parallelism.render())
        assert "8 threads" in panel and "7 GIL wait" in panel, panel
        await pilot.press("l")
        assert isinstance(app.screen, TimelineScreen)
        view = app.screen.query_one(TimelineView)
        while view.picture is None and time.monotonic() < deadline:
            await pilot.pause(0.05)
        picture = view.picture
        assert picture.run is not None and picture.run.worker_count == 8
        assert picture.lay.measured and picture.lay.counts().get("lock_wait", 0) > 0
        assert "GIL-bound" in picture.verdict and not picture.note


def test_the_trace_counts_threads_by_state(tmp_path):
    path = tmp_path / "r.jsonl"
    scripted_recording(path, [RunConfig(mode="threads", tasks=8, n=300)], threads=True)
    out = run_cli("export", str(path), "--trace", str(tmp_path / "t.json"))
    assert out.returncode == 0, out.stderr
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    counters = [e for e in events if e["ph"] == "C" and e["name"] == "threads by state"]
    assert len(counters) >= 3
    run_pid = next(e["pid"] for e in events if e["ph"] == "X")
    assert {e["pid"] for e in counters} == {run_pid}
    stamps = [e["ts"] for e in counters]
    assert all(isinstance(ts, int) and ts >= 0 for ts in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert set(counters[0]["args"]) == {"running", "waiting for a core", "waiting on the GIL",
                                        "sleeping or I/O"}
    first = counters[0]["args"]  # all 8 threads going: 7 wait on the GIL, 1 runs
    assert first["waiting on the GIL"] == pytest.approx(7, abs=0.01)
    assert first["running"] == pytest.approx(1, abs=0.01)
    assert all(v >= 0 for e in counters for v in e["args"].values())
    assert set(counters[-1]["args"].values()) == {0}  # nothing after the run
    spans = [e for e in events if e["ph"] == "X"]
    assert counters[-1]["ts"] >= max(e["ts"] + e["dur"] for e in spans) - 1


def test_a_version_1_recording_replays_without_thread_time(tmp_path):
    path = tmp_path / "r.jsonl"
    scripted_recording(path, [RunConfig(mode="threads", tasks=8, n=300)], threads=True)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines[0]["version"] = 1
    old = tmp_path / "old.jsonl"
    old.write_text("".join(json.dumps(ln) + "\n" for ln in lines if ln["type"] != "threads"))
    for name, measured in (("r.jsonl", True), ("old.jsonl", False)):
        out = run_cli("replay", str(tmp_path / name), "--summary", "--json",
                      str(tmp_path / f"{name}.json"))
        assert out.returncode == 0, out.stderr
        d = json.loads((tmp_path / f"{name}.json").read_text())
        assert [t["status"] for t in d["tasks"]] == ["done"] * 8
        assert ("thread_time" in d) is measured
        # measured: "GIL-bound: 7 of 8 threads waiting on the GIL · 1.0 of 2 cores";
        # else the parallelism alone: "GIL-bound: 1.00 of 2 cores"
        assert d["verdict"]["kind"] == "gil-bound"
        assert ("waiting on the GIL" in d["verdict"]["text"]) is measured
    assert replay_controller(read_recording(str(old))).watch is None


def test_a_compare_recording_replays_every_run(tmp_path):
    path = tmp_path / "c.jsonl"
    configs = [RunConfig(mode=m, tasks=5, n=200) for m in ("sequential", "threads", "processes")]
    results = scripted_recording(path, configs)
    rec = read_recording(str(path))
    assert [r.config["mode"] for r in rec.runs] == ["sequential", "threads", "processes"]
    out = run_cli("replay", str(path), "--summary", "--json", str(tmp_path / "s.json"))
    assert out.returncode == 0, out.stderr
    runs = json.loads((tmp_path / "s.json").read_text())["runs"]
    assert [r["wall_s"] for r in runs] == pytest.approx([r.wall_s for r in results])


def test_gzip_recordings_are_written_and_read(tmp_path):
    path = tmp_path / "r.jsonl.gz"
    scripted_recording(path, [RunConfig(mode="threads", tasks=4, n=100)])
    with gzip.open(path, "rt") as fh:
        assert json.loads(fh.readline())["format"] == "conc-tui-recording"
    rec = read_recording(str(path))
    assert rec.runs[0].result["status"] == "ok" and rec.truncated is None


def test_the_trace_is_valid_and_has_a_span_per_task(tmp_path):
    path = tmp_path / "c.jsonl"
    configs = [RunConfig(mode=m, workload="mixed", tasks=6, n=200, sleep=0.2, workers=2)
               for m in ("sequential", "asyncio", "process-pool")]
    scripted_recording(path, configs, sampler=ScriptedSampler(2, "busy"))
    out = run_cli("export", str(path), "--trace", str(tmp_path / "t.json"), "--csv",
                  str(tmp_path / "t.csv"))
    assert out.returncode == 0, out.stderr
    trace = json.loads((tmp_path / "t.json").read_text())
    events = trace["traceEvents"]
    spans = [e for e in events if e["ph"] == "X"]
    assert len(spans) == 18  # one per task of the three runs
    assert all({"ts", "dur", "pid", "tid"} <= set(e) and e["dur"] > 0 for e in spans)
    assert all(e["tid"] < 2**31 and e["pid"] < 2**31 for e in events)
    named = {(e["pid"], e["tid"]) for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {(e["pid"], e["tid"]) for e in spans} <= named
    by_track: dict = {}
    for e in spans:
        by_track.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for track in by_track.values():  # no partial overlap on a track
        track.sort()
        assert all(b[0] >= a[1] for a, b in zip(track, track[1:]))
    # asyncio overlaps its tasks (their sleeps) on one thread: they get tracks of their own
    assert any("overlap" in e["args"]["name"] for e in events if e["name"] == "thread_name")
    assert any(e["ph"] == "C" for e in events)  # per-core counters
    assert sum(1 for e in events if e["ph"] == "i" and e["name"].endswith("is done")) == 18
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 1 + 18


def test_a_recording_cut_in_half_replays_with_a_note(tmp_path):
    path = tmp_path / "r.jsonl"
    scripted_recording(path, [RunConfig(mode="threads", tasks=8, n=300)])
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: len(data) // 2])
    rec = read_recording(str(cut))
    assert rec.truncated and "incomplete" in rec.truncated
    out = run_cli("replay", str(cut), "--summary")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "note:" in out.stderr and "cancelled" in out.stdout
    # cut at a line's end: whole lines, but the run never ends, and that is said too
    lines = data.splitlines(keepends=True)
    cut.write_bytes(b"".join(lines[: len(lines) // 2]))
    assert "ends before run 0" in read_recording(str(cut)).truncated
    out = run_cli("replay", str(cut), "--summary")
    assert out.returncode == 1 and "note: the recording ends before run 0" in out.stderr


@pytest.mark.parametrize("content, words", [
    (b"garbage\n", "not a conc-tui recording"),
    (b'{"format": "something else"}\n', "not a conc-tui recording"),
    (b'{"format": "conc-tui-recording", "version": 99}\n', "version 99"),
    (b"", "empty"),
])
def test_bad_files_exit_2_with_one_line(tmp_path, content, words):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    out = run_cli("replay", str(path), "--summary")
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.splitlines()) == 1, out.stderr  # the one line, no usage


def test_a_corrupt_line_is_named_by_its_number(tmp_path):
    path = tmp_path / "r.jsonl"
    scripted_recording(path, [RunConfig(mode="threads", tasks=3, n=100)])
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = "{this is not json\n"
    path.write_text("".join(lines))
    with pytest.raises(RecordingError, match="line 4"):
        read_recording(str(path))
    for args in (("replay", str(path), "--summary"), ("export", str(path), "--trace", "t.json")):
        out = run_cli(*args, cwd=tmp_path)
        assert out.returncode == 2 and "line 4" in out.stderr
    assert run_cli("replay", str(tmp_path / "missing.jsonl")).returncode == 2


def test_a_recording_is_appended_line_by_line_while_it_runs(tmp_path):
    """Another process can follow it: every line is whole and on disk as soon as written."""
    path = tmp_path / "r.jsonl"
    recorder = Recorder(str(path))
    recorder.run_started({"mode": "threads", "workload": "cpu", "tasks": 1, "n": 10,
                          "sleep": 0.0})
    assert len(path.read_text().splitlines()) == 2  # header and run, flushed
    recorder.close()


async def test_replay_in_the_app_shows_the_recorded_machine(tmp_path):
    from conc_tui.ui.replay import ReplayApp

    path = tmp_path / "r.jsonl"
    scripted_recording(path, [RunConfig(mode="process-pool", tasks=12, n=200, workers=4)],
                       cores=64, sampler=ScriptedSampler(64, "waves"))
    app = ReplayApp(read_recording(str(path)), speed=16)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30
        while not app.results and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert app.results and app.results[0].status == "ok"
        assert [app.grid.state_of(i) for i in range(12)] == ["done"] * 12
        assert "64 usable" in str(app.cores.border_title)
        await pilot.press("r")  # refused, with a note
        assert "replay" in app.status.shown and not app.running

"""Record, replay, export: a recording replays to the live run's result, in the app and
headless; the trace is valid; bad and truncated files are handled."""
from __future__ import annotations

import gzip
import json
import time

import pytest

from conc_tui.monitor import Controller, RunConfig
from conc_tui.monitor.recording import Recorder, RecordingError, read_recording
from conc_tui.monitor.scripted import ScriptedSampler, ScriptedSource
from conc_tui.monitor.trace import trace_events
from helpers import run_cli


def scripted_recording(path, configs, cores=2, sampler=None):
    """Record a session of scripted runs (a manual clock: no waiting) into ``path``."""
    clock = [0.0]
    recorder = Recorder(str(path), clock=lambda: clock[0],
                        machine={"usable_cores": cores, "logical_cores": cores,
                                 "cpu_model": "test", "platform": "test"})
    ctl = Controller(source_factory=lambda cfg: ScriptedSource(cfg, cpu_count=cores,
                                                               clock=lambda: clock[0]),
                     sampler=sampler, recorder=recorder)
    ctl.compare(configs) if len(configs) > 1 else ctl.run(configs[0])
    while ctl.busy:
        clock[0] += 0.05
        ctl.poll()
        if sampler is not None and round(clock[0] * 20) % 10 == 0:
            ctl.sample()
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
    assert {"run", "event", "progress", "sample", "result"} <= {ln["type"] for ln in lines}


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

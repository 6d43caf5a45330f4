"""A cluster's workers on screen and in the results: the ``cluster-workers`` event, its
reduction, the verdict that says where a run went, and the cores panel showing the workers.
On scripted events; the real clusters are test_dask.py's."""
from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from conc_tui.headless import print_summary
from conc_tui.monitor import Capabilities, Controller, RunConfig, RunState, verdict_for
from conc_tui.engine.protocol import ClusterWorkers, Unreadable, parse_line, to_line
from conc_tui.monitor.scripted import ScriptedSampler, ScriptedSource
from conc_tui.ui.cores import CoresPanel, memory_note, short_bytes

from test_cores import PanelApp, cell_lines

GiB, MiB = 2**30, 2**20


def workers_event(t: float, *cpus: float, memory: int = 300 * MiB, names=("w-a", "w-b"),
                  nthreads: int = 1) -> ClusterWorkers:
    return ClusterWorkers(t=t, workers=[
        {"name": name, "host": "10.0.0.%d" % (i + 1), "nthreads": nthreads, "cpu": cpu,
         "memory": memory, "memory_limit": 4 * GiB}
        for i, (name, cpu) in enumerate(zip(names, cpus))])


def test_the_event_travels_as_one_line_and_a_bad_one_is_refused():
    ev = workers_event(1.5, 97.0, 12.5)
    back = parse_line(to_line(ev))
    assert back == ev and back.kind == "cluster-workers"
    bad = parse_line('{"kind": "cluster-workers", "t": 1.0, "workers": {"w-a": 1}}')
    assert isinstance(bad, Unreadable) and "workers" in bad.reason


def test_the_reducer_keeps_each_workers_figures_and_the_cores_busy():
    state = RunState(2)
    assert not state.cluster and state.cluster.where == ""
    state.apply([workers_event(0.5, 100.0, 80.0), workers_event(1.0, 60.0, 100.0)])
    c = state.cluster
    assert [w.name for w in c.present] == ["w-a", "w-b"]
    assert c.where == "2 workers × 1 thread" and c.threads == 2
    assert c.busy_now == pytest.approx(1.6)  # 60% + 100% of a core
    assert c.busy_mean == pytest.approx((1.8 + 1.6) / 2)
    assert c.workers["w-a"].cpu_mean == pytest.approx(80.0)
    # A worker that went away stays in the figures, no longer present; a row without a
    # name is not a worker.
    state.apply([ClusterWorkers(t=1.5, workers=[
        {"name": "w-b", "cpu": 250.0, "nthreads": 4, "memory": 1}, {"cpu": 5.0}])])
    assert [w.name for w in c.present] == ["w-b"] and not c.workers["w-a"].present
    assert c.where == "1 worker × 4 threads" and c.workers["w-b"].load == pytest.approx(62.5)
    js = c.as_json()
    assert [w["name"] for w in js["workers"]] == ["w-a", "w-b"]
    assert js["workers"][0]["present"] is False and js["workers"][1]["cpu_last"] == 250.0
    assert js["workers"][1]["memory_max"] == 300 * MiB
    assert state.unreadable == 0


def test_the_verdict_says_where_a_cluster_run_went():
    v = verdict_for(1.9, 2, "cpu", "dask", True, where="2 workers × 1 thread")
    assert v.text == "parallel across 2 workers × 1 thread: 1.9 of 2 cores"
    assert v.as_json() == {"kind": "parallel", "text": v.text, "where": "2 workers × 1 thread"}
    assert verdict_for(0.1, 4, "io", "dask", where="4 workers × 1 thread").text == (
        "waiting on I/O across 4 workers × 1 thread: 0.1 of 4 cores")
    assert "across" not in verdict_for(1.9, 2, "cpu", "processes").text


def remote_script(tasks: int = 2) -> list:
    """A dask run on a cluster of two workers: the run, the workers' figures, the tasks."""
    script = [{"kind": "run-started", "t": 0.0, "pid": 7, "cpu_count": 2, "python": {},
               "mode": "dask", "workload": "cpu", "tasks": tasks, "n": 10, "sleep": 0.0,
               "workers": 2, "t0": 0.0},
              workers_event(0.1, 2.0, 3.0)]
    for i in range(tasks):
        script.append({"kind": "task-started", "id": i, "pid": 10 + i, "tid": 20 + i,
                       "t": 0.2, "where": f"w-{'ab'[i % 2]} on host"})
    script.append(workers_event(1.0, 95.0, 96.0))
    for i in range(tasks):
        script.append({"kind": "task-done", "id": i, "pid": 10 + i, "tid": 20 + i,
                       "t": 1.9, "cpu_s": 1.7})
    script.append({"kind": "run-finished", "status": "ok", "wall_s": 2.0, "cpu_s": 3.8})
    return script


def test_a_remote_run_reads_its_live_figures_and_its_result_from_the_workers():
    config = RunConfig(mode="dask", workload="cpu", tasks=2, n=10, scheduler="tcp://h:1")

    def remote(cfg):
        source = ScriptedSource(cfg, script=remote_script())
        source.capabilities = Capabilities(progress=True, process_tree=False,
                                           samples_run=False)
        return source

    ctl = Controller(source_factory=remote, sampler=ScriptedSampler(2, "idle"),
                     watch_factory=None)
    session = ctl.run(config)
    session.source.advance(1.2)
    ctl.poll()
    reading = ctl.read_run(ctl.sample())
    # This machine's idle cores say nothing of the run: the workers' own figures do.
    assert reading.workers is session.state.cluster and reading.cluster is reading.workers
    assert reading.now == pytest.approx(1.91)
    assert reading.run == pytest.approx((0.05 + 1.91) / 2)
    session.source.advance(1.0)
    step = ctl.poll()
    result = step.finished
    assert result is not None and result.workers == 2
    assert result.verdict.text == "parallel across 2 workers × 1 thread: 1.9 of 2 cores"
    js = result.as_json()
    assert js["verdict"]["text"] == result.verdict.text
    assert [w["name"] for w in js["cluster"]["workers"]] == ["w-a", "w-b"]
    assert js["cluster"]["workers"][1]["cpu_mean"] == pytest.approx(49.5)
    out = io.StringIO()
    print_summary(Console(file=out, width=200), result)
    assert f"verdict: {result.verdict.text}" in out.getvalue()
    assert "w-b cpu 50% mem 300 MiB" in out.getvalue()
    ctl.shutdown()


def test_a_local_run_keeps_this_machines_cores():
    """On a LocalCluster the workers are local processes, sampled here like any run's."""
    config = RunConfig(mode="dask", workload="cpu", tasks=2, n=10)
    ctl = Controller(source_factory=lambda cfg: ScriptedSource(cfg, script=remote_script()),
                     sampler=ScriptedSampler(2, "busy"), watch_factory=None)
    session = ctl.run(config)
    session.source.advance(1.2)
    ctl.poll()
    ctl.read_run(ctl.sample())
    reading = ctl.read_run(ctl.sample())
    assert reading.workers is None and reading.cluster is session.state.cluster
    assert reading.now == pytest.approx(reading.sample.parallelism_now)
    ctl.shutdown()


def test_memory_notes_stay_short():
    assert [short_bytes(n) for n in (0, 48 * 1024, 312 * MiB, int(1.24 * GiB), 64 * GiB)] == [
        "0B", "48K", "312M", "1.2G", "64G"]
    state = RunState(1)
    state.apply([workers_event(0.1, 10.0)])
    assert memory_note(state.cluster.workers["w-a"]) == "300M/4.0G"


async def test_the_cores_panel_shows_a_remote_clusters_workers_then_this_machine_again():
    app = PanelApp(2, rows=14)
    names = ("tcp://10.0.0.1:40215", "tcp://10.0.0.2:40216", "tcp://10.0.0.3:40217")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.query_one(CoresPanel)
        panel.border_title = "Cores · 2 usable of 2"
        state = RunState(1)
        for k in range(3):
            state.apply([workers_event(k, 90.0, 40.0, 5.0, names=names)])
            panel.update_sample(app.sampler.sample(), app.sampler.history, state.cluster)
            await pilot.pause()
        await pilot.pause()
        text = "\n".join(cell_lines(panel.cells))
        assert panel.cells.cell_layout.named and panel.cells.cell_layout.kind == "bars"
        for name, pct in zip(names, ("90%", "40%", "5%")):  # named without the scheme
            label = re.escape(name[len("tcp://"):])
            assert re.search(rf"(^|  ){label} [^ ]+ +{pct} 300M/4\.0G", text, re.M), text
        assert panel.border_title.startswith("Cluster · 3 workers × 1 thread")
        assert [len(s) for s in panel.series] == [3, 3, 3]  # its own history of each
        # The run ended: this machine's cores, with their own history and title.
        app.feed()
        await pilot.pause()
        await pilot.pause()
        assert panel.cores == 2 and not panel.cells.cell_layout.named
        assert panel.border_title == "Cores · 2 usable of 2"
        assert cell_lines(panel.cells)[0].lstrip().startswith("cpu0")


def test_the_timeline_names_a_clusters_lanes_by_worker():
    from conc_tui.monitor.timeline import layout, lane_names
    from conc_tui.engine.protocol import from_dict

    state = RunState(4)
    state.apply([from_dict(e) for e in remote_script(4)[2:6]])  # four tasks started
    # a lane a thread: the threads of one worker are numbered after its name
    assert lane_names(state) == ["w-a 1", "w-b 1", "w-a 2", "w-b 2"]
    state = RunState(3)
    starts = [{"kind": "task-started", "id": i, "pid": 10 + i % 2, "tid": 20 + i % 2,
               "t": 0.1 * i, "where": f"tcp://10.0.0.{i % 2 + 1}:40215 on h{i % 2}"}
              for i in range(3)]
    state.apply([from_dict(e) for e in starts])
    lay = layout(state, None, 1.0, 60, 20)
    labels = [r.label for r in lay.rows if r.label]
    assert labels == ["10.0.0.1:40215", "10.0.0.2:40215"]
    assert lay.width == 60 - (len(labels[0]) - 1)  # the names' room comes from the time axis
    local = RunState(1)
    local.apply([from_dict({"kind": "task-started", "id": 0, "pid": 1, "tid": 2, "t": 0.0})])
    assert lane_names(local) is None and layout(local, None, 1.0, 60, 20).rows[0].label == "0"

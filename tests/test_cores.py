"""The cores panel on fake samples, and the fakes themselves (sampler and session)."""
from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from conc_tui.monitor import MODES, mode_info
from conc_tui.monitor import RunConfig, RunResult, Session
from conc_tui.ui.cores import GLYPHS, LINES_MAX, CoreCells, CoresPanel, choose_layout
from conc_tui.monitor.scripted import scripted_session, PATTERNS, ScriptedSampler, ScriptedSource


class PanelApp(App):
    """The panel where the app puts it: ~70% of the width, a band of rows at the top."""

    CSS = """
    #top { height: 14; }
    #cores { width: 70%; border: round $primary; }
    #side { width: 1fr; }
    """

    def __init__(self, cores: int, rows: int = 14, pattern: str = "waves") -> None:
        super().__init__()
        self.cores = cores
        self.rows = rows
        self.sampler = ScriptedSampler(cores, pattern, prefill=119)

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield CoresPanel(self.cores, id="cores")
            yield Static("side", id="side")
        yield Static("rest")

    def on_mount(self) -> None:
        self.query_one("#top").styles.height = self.rows

    def feed(self) -> None:
        self.query_one(CoresPanel).update_sample(self.sampler.sample(), self.sampler.history)


def cell_lines(cells: CoreCells) -> list[str]:
    """The text of the cell rows, without the head rows."""
    lay = cells.cell_layout
    top = len(cells.head)
    return [cells.render_line(top + y).text for y in range(lay.rows)]


def svg_text(svg: str) -> str:
    parts = re.findall(r">([^<]*)</text>", svg)
    return " ".join(p.replace("&#160;", " ") for p in parts)


SIZES = [((120, 40), 14), ((80, 24), 9)]


@pytest.mark.parametrize("size,rows", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("cores", [2, 8, 16, 64, 128, 256])
async def test_every_core_is_on_screen(cores, size, rows):
    app = PanelApp(cores, rows)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.feed()
        await pilot.pause()
        panel = app.query_one(CoresPanel)
        cells = panel.cells
        lay = cells.cell_layout
        assert panel.mode == ("lines" if cores <= LINES_MAX else "grid")
        assert lay is not None and lay.cores == cores

        # Every cell has its own place, inside the widget, and the widget is not clipped.
        places = {lay.position(i) for i in range(cores)}
        assert len(places) == cores
        assert all(x < cells.size.width and y < lay.rows for x, y in places)
        assert lay.width <= cells.size.width
        assert cells.size.height == lay.rows + len(cells.head)
        assert panel.content_region.contains_region(cells.region)

        lines = cell_lines(cells)
        if lay.kind == "heat":
            # One glyph per core; row labels are the first core of each row.
            assert sum(ch in GLYPHS for line in lines for ch in line) == cores
            assert [int(line.split()[0]) for line in lines] == \
                [r * lay.per_row for r in range(lay.rows)]
        else:
            labels = []
            for line in lines:
                labels += [int(m) for m in re.findall(r"(?:cpu)?(\d+)(?=[ " + GLYPHS + "])",
                                                      line)]
            shown = sorted(set(labels) & set(range(cores)))
            assert shown == list(range(cores))
            # ... and they really are on the screen.
            text = svg_text(app.export_screenshot())
            for i in range(cores):
                assert re.search(rf"(?<!\d){i}(?!\d)", text), i

        if panel.mode == "lines":
            assert panel.plot.display  # the per-core lines
            assert panel.plot.size.height >= 3
        else:
            assert lay.kind in ("bars", "blocks2", "blocks1", "heat")


async def test_grid_shows_numbered_cells_for_64_and_heat_rows_for_256():
    for cores, kinds in [(64, {"blocks2", "blocks1", "bars"}), (256, {"heat"})]:
        app = PanelApp(cores)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.feed()
            await pilot.pause()
            panel = app.query_one(CoresPanel)
            assert panel.cells.cell_layout.kind in kinds
            assert panel.plot.display  # room is left for the mean chart at 120x40


async def test_mode_switches_above_16_cores():
    assert CoresPanel(16).mode == "lines"
    assert CoresPanel(17).mode == "grid"
    app = PanelApp(17)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.feed()
        await pilot.pause()
        panel = app.query_one(CoresPanel)
        assert panel.plot.id == "cores-mean"
        assert "summary" in panel.cells.head


async def test_only_changed_rows_are_redrawn():
    app = PanelApp(64, pattern="busy")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.feed()
        await pilot.pause()
        cells = app.query_one(CoresPanel).cells
        loads = list(cells.loads)
        assert cells.set_loads(loads, cells.mean_history) == 0
        loads[5] = 3.0  # one core goes idle: its row and the summary (mean) change
        assert cells.set_loads(loads, cells.mean_history) == 2


@pytest.mark.parametrize("cores,samples,replots", [(2, 4, 2), (16, 8, 2), (64, 4, 2)])
async def test_chart_keeps_its_data_and_redraws_at_its_own_pace(cores, samples, replots):
    """The chart redraws once a second (every 2 s above 8 lines); the cells every sample."""
    app = PanelApp(cores)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panel = app.query_one(CoresPanel)
        before = panel.plot_updates
        for _ in range(samples):  # at 2 Hz
            app.feed()
            assert [round(v, 6) for v in panel.cells.loads] == \
                [round(h[-1], 6) for h in app.sampler.history]
        await pilot.pause()
        assert panel.plot_updates - before == replots
        if panel.mode == "lines":
            assert len(panel.series) == cores and len(panel.series[0]) == 120
        else:
            assert len(panel.mean) == 120
        panel.replot()  # from the kept data, e.g. on a theme change
        assert panel.plot_updates - before == replots + 1


async def test_theme_change_replots_and_no_color_uses_shades(monkeypatch):
    app = PanelApp(2)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.feed()
        panel = app.query_one(CoresPanel)
        before = panel.plot_updates
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        assert panel.plot_updates > before
        assert not panel.cells.has_class("-mono")
    monkeypatch.setenv("NO_COLOR", "1")
    app = PanelApp(64)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.query_one(CoresPanel).cells.has_class("-mono")


async def test_a_sample_with_another_core_count_rebuilds_the_panel():
    app = PanelApp(4)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        other = ScriptedSampler(32, "busy", prefill=3)
        panel = app.query_one(CoresPanel)
        panel.update_sample(other.sample(), other.history)
        await pilot.pause()
        await pilot.pause()
        assert panel.mode == "grid"
        assert panel.cells.cell_layout.cores == 32


def test_layout_never_drops_a_core():
    for cores in (1, 2, 16, 17, 64, 100, 128, 256, 1024):
        for width in (8, 20, 40, 60, 84, 140):
            for rows in (1, 3, 8, 12, 30):
                lay = choose_layout(cores, width, rows)
                assert lay.per_row * lay.rows >= cores
                assert lay.width <= max(width, lay.label_w + 2)
                assert len({lay.position(i) for i in range(cores)}) == cores


# -- ScriptedSampler ------------------------------------------------------------------------

def test_fake_sampler_is_deterministic():
    a = ScriptedSampler(8, "waves", seed=3, prefill=10)
    b = ScriptedSampler(8, "waves", seed=3, prefill=10)
    assert [list(h) for h in a.history] == [list(h) for h in b.history]
    sa, sb = a.sample(), b.sample()
    assert sa == sb
    assert ScriptedSampler(8, "waves", seed=4).sample().per_core != \
        ScriptedSampler(8, "waves", seed=3).sample().per_core


@pytest.mark.parametrize("pattern", PATTERNS)
def test_fake_sampler_interface_and_patterns(pattern):
    s = ScriptedSampler(16, pattern, history=50, prefill=60)
    assert s.cpu_count == s.logical_cores == 16
    assert len(s.history) == 16 and all(len(h) == 50 and h.maxlen == 50 for h in s.history)
    assert len(s.parallelism_history) == 50
    s.watch(1234)
    prev = s.sample()
    samples = [s.sample() for _ in range(40)]
    for x in samples:
        assert len(x.per_core) == 16 and all(0 <= v <= 100 for v in x.per_core)
        assert x.t > prev.t and x.tree_cpu_s >= prev.tree_cpu_s
        prev = x
    mean = sum(x.total for x in samples) / len(samples)
    par = sum(x.parallelism_now for x in samples) / len(samples)
    if pattern == "busy":
        assert mean > 90 and par > 14
    elif pattern == "idle":
        assert mean < 6 and par < 0.1
    elif pattern == "gil":
        for x in samples:
            assert sum(v > 90 for v in x.per_core) == 1
            assert sum(v < 10 for v in x.per_core) == 15
        assert 0.9 < par <= 1.0
        hot = {max(range(16), key=x.per_core.__getitem__) for x in samples}
        assert len(hot) > 1  # the busy core moves around
    else:
        assert 30 < mean < 70
        assert min(min(x.per_core) for x in samples) < 15
        assert max(max(x.per_core) for x in samples) > 85


def test_fake_sampler_refuses_unknown_patterns():
    with pytest.raises(ValueError):
        ScriptedSampler(4, "spiky")


# -- ScriptedSource ------------------------------------------------------------------------

def run_all(session: Session) -> list:
    session.start()
    return list(session.events())


@pytest.mark.parametrize("workload", ["cpu", "io", "mixed"])
@pytest.mark.parametrize("mode", MODES)
def test_fake_session_events(mode, workload):
    cfg = RunConfig(mode=mode, workload=workload, tasks=12, n=200, sleep=0.5)
    s = scripted_session(cfg, cpu_count=4)
    events = run_all(s)
    kinds = [e.kind for e in events]
    assert kinds[0] == "run-started" and kinds[-1] == "run-finished"
    started = sorted(e.id for e in events if e.kind == "task-started")
    ended = sorted(e.id for e in events if e.kind in ("task-done", "task-failed"))
    assert started == ended == list(range(12))
    assert s.done and not s.running
    assert s.counts == {"waiting": 0, "running": 0, "done": 12, "failed": 0, "cancelled": 0}

    runner = s.runner_pid
    pids = {t.pid for t in s.tasks}
    tids = {t.tid for t in s.tasks}
    if mode == "processes":
        assert len(pids) == 12 and runner not in pids
    elif mode_info(mode).in_processes:  # a pool of processes (process-pool, dask)
        assert 1 < len(pids) <= s.workers and runner not in pids
    else:
        assert pids == {runner}
        if mode == "threads":
            assert len(tids) == 12 and runner not in tids
        elif mode_info(mode).pooled:  # thread-pool, subinterpreters: a pool of threads
            assert 1 < len(tids) <= s.workers
        else:
            assert tids == {runner}

    r = s.result()
    assert isinstance(r, RunResult)
    assert r.status == "ok" and r.mode == mode and r.tasks == 12 and r.cpu_count == 4
    assert r.wall_s == pytest.approx(s.finished.wall_s) == pytest.approx(s.elapsed())
    assert all(t.status == "done" and 0 <= t.start_s <= t.end_s <= r.wall_s
               for t in r.task_results)
    assert s.progress() == [1.0] * 12
    if workload == "cpu":
        cores = 1 if mode_info(mode).shares_gil else 4  # a GIL each: every core
        assert r.parallelism == pytest.approx(cores, rel=0.15)


def test_fake_session_follows_its_clock_and_fails_tasks():
    cfg = RunConfig(mode="threads", workload="cpu", tasks=10, n=500, fail_tasks=(3,))
    s = scripted_session(cfg).start()
    assert isinstance(s.source, ScriptedSource)  # the real session, reducer and all
    s.poll()
    assert s.started.mode == "threads" and s.elapsed() == 0.0
    assert s.running and not s.done
    last = s.progress()
    for _ in range(8):  # 2 s of a ~4 s run
        s.source.advance(0.25)
        s.poll()
        now = s.progress()
        assert all(b >= a for a, b in zip(last, now))
        last = now
    # Under the GIL all ten crawl together: none done yet, each about halfway.
    assert s.counts["done"] == 0 and s.counts["waiting"] == 0
    assert 0.3 < sum(last) / 10 < 0.7
    assert s.wait()
    s.poll()
    r = s.result()
    assert r.status == "failed" and r.failed_ids == [3]
    assert s.tasks[3].error.startswith("TaskFailure")
    assert s.counts == {"waiting": 0, "running": 0, "done": 9, "failed": 1, "cancelled": 0}


def test_fake_session_stop_cancels_and_keeps_running_tasks():
    cfg = RunConfig(mode="process-pool", workload="cpu", tasks=20, n=500)
    ticks = [100.0]
    with scripted_session(cfg, cpu_count=2, clock=lambda: ticks[0]) as s:
        s.start()
        ticks[0] += 1.0
        s.poll()
        assert s.counts["done"] > 0 and s.counts["running"] == 2
        s.stop()
        s.stop()  # idempotent
        s.poll()
        assert s.done and s.finished.status == "cancelled"
        r = s.result()
        assert r.status == "cancelled" and r.wall_s == pytest.approx(1.0)
        assert {t.status for t in r.task_results} == {"done", "cancelled", "waiting"}
        ticks[0] += 10
        assert s.poll() == []  # nothing after the end
    with pytest.raises(RuntimeError):
        s.start()


def test_fake_session_plays_a_given_script():
    script = [
        {"kind": "run-started", "t": 0.0, "pid": 7, "cpu_count": 2, "python": {},
         "mode": "threads", "workload": "cpu", "tasks": 1, "n": 10, "sleep": 0.0,
         "workers": 1, "t0": 0.0},
        {"kind": "task-started", "id": 0, "pid": 7, "tid": 8, "t": 0.1},
        {"kind": "task-done", "id": 0, "pid": 7, "tid": 8, "t": 1.1, "cpu_s": 1.0},
        {"kind": "run-finished", "status": "ok", "wall_s": 1.2, "cpu_s": 1.0},
    ]
    s = scripted_session(RunConfig(tasks=1), script=script).start()
    assert s.runner_pid == 7
    s.source.advance(0.6)
    s.poll()
    assert s.progress() == [pytest.approx(0.5)]
    s.source.advance(1.0)
    assert [e.kind for e in s.poll()] == ["task-done", "run-finished"]
    assert s.done and s.result().wall_s == 1.2 and s.result().status == "ok"


async def test_the_chart_axis_spans_one_minute_however_slow_the_samples(monkeypatch):
    """During a 10,000-task run the samples came every 2 s and the axis read -128s."""
    app = PanelApp(2)
    app.sampler = ScriptedSampler(2, "waves", prefill=119, interval=2.0)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(4):
            app.feed()
        panel = app.query_one(CoresPanel)
        panel.replot()
        await pilot.pause()
        text = svg_text(app.export_screenshot())
        assert "-60s" in text and "-30s" in text
        assert "-120s" not in text and "-238s" not in text


async def test_without_colour_each_core_line_has_its_own_marker(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = PanelApp(2)
    async with app.run_test(size=(120, 40)) as pilot:
        app.feed()
        panel = app.query_one(CoresPanel)
        plt = panel.plot.plt
        markers = []
        drawn = plt.plot

        def plot(*args, **kwargs):
            markers.append(kwargs.get("marker"))
            return drawn(*args, **kwargs)

        monkeypatch.setattr(plt, "plot", plot)
        panel.replot()
        await pilot.pause()
        assert len(markers) == 2 and markers[0] != markers[1]
        assert "cpu1 +" in str(panel.border_subtitle)  # the legend says which is which

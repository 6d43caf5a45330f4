"""What a frame draws, and that the cheap ways of drawing it show exactly the same thing.

The app repaints ten times a second during a run, so its widgets keep their lines and redo only
what changed: the chart decodes plotext's output once per redraw, the task grid rebuilds only
rows whose cells changed, and Python's full garbage collections wait for a gap between frames.
Each shortcut is checked against the plain way here (the event log's, which changes its virtual
size only in chunks, is with the other event log tests in test_app.py).
"""
from __future__ import annotations

import pytest
from rich.style import Style
from textual.app import App
from textual.filter import ANSIToTruecolor, Monochrome
from textual.widget import Widget

from conc_tui.monitor import RunConfig
from conc_tui.ui.app import build_app
from conc_tui.ui.cores import CoresPanel
from conc_tui.monitor import RunState, TaskDone, TaskStarted
from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource
from conc_tui.ui.plot import Chart, decode_line
from conc_tui.ui.tasks import DONE, RUNNING, TaskGrid


def cells(strip) -> list[tuple]:
    """Each cell of a strip as (character, foreground, background, bold); a space's
    foreground does not show, so it is left out."""
    out = []
    for seg in strip:
        style = seg.style or Style()
        fg = style.color.triplet if style.color else None
        bg = style.bgcolor.triplet if style.bgcolor else None
        for ch in seg.text:
            out.append((ch, None if ch == " " else fg, bg, bool(style.bold)))
    return out


class PanelApp(App):
    def __init__(self, cores: int) -> None:
        super().__init__()
        self.sampler = ScriptedSampler(cores, "waves", prefill=60)

    def compose(self):
        yield CoresPanel(len(self.sampler.history), id="cores")

    def feed(self) -> None:
        self.query_one(CoresPanel).update_sample(self.sampler.sample(), self.sampler.history)


@pytest.mark.parametrize("cores,size", [(2, (120, 40)), (64, (120, 40)), (8, (80, 24))])
async def test_chart_shows_what_textual_plotext_itself_draws(cores, size):
    app = PanelApp(cores)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.feed()
        await pilot.pause()
        chart = app.query_one(Chart)
        assert chart.size.height >= 5
        ours = [chart.render_line(y) for y in range(chart.size.height)]
        theirs = [Widget.render_line(chart, y) for y in range(chart.size.height)]  # via render()
        assert not chart._fallback
        assert [s.cell_length for s in ours] == [s.cell_length for s in theirs]
        assert [cells(s) for s in ours] == [cells(s) for s in theirs]
        assert any(ch not in " " for s in ours for ch, *_ in cells(s))  # not a blank chart


async def test_chart_is_built_once_per_redraw_not_per_repaint():
    app = PanelApp(2)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chart = app.query_one(Chart)
        builds = chart.builds
        for y in range(chart.size.height):  # a repaint (e.g. the panel's cells changed)
            chart.render_line(y)
        assert chart.builds == builds
        app.query_one(CoresPanel).replot()
        await pilot.pause()
        assert chart.builds == builds + 1


def test_plotext_escapes_decode_and_unknown_ones_are_refused():
    base = Style()
    line = "\x1b[48;2;30;30;30m  \x1b[38;2;255;152;0m\x1b[1m⢴⣠\x1b[0m x\x1b[38;5;196my"
    segs = decode_line(line, base, {})
    assert "".join(s.text for s in segs) == "  ⢴⣠ xy"
    by_text = {s.text: s.style for s in segs}
    assert by_text["⢴⣠"].color.triplet == (255, 152, 0) and by_text["⢴⣠"].bold
    assert by_text["⢴⣠"].bgcolor.triplet == (30, 30, 30)
    assert by_text["  "].color is None  # spaces: background only, a segment of their own
    assert by_text["y"].color.number == 196
    assert decode_line("\x1b[5mblink", base, {}) is None  # not plotext's: left to the library


async def test_chart_falls_back_to_the_library_on_an_unknown_escape(monkeypatch):
    app = PanelApp(2)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chart = app.query_one(Chart)
        monkeypatch.setattr(chart._plot, "build", lambda: "\x1b[5mblinking\x1b[0m")
        chart.refresh()
        line = chart.render_line(0)
        assert chart._fallback and "blinking" in line.text


def fake_app(tasks: int = 80):
    return build_app(RunConfig(mode="threads", tasks=tasks, n=300),
                     source_factory=lambda cfg: ScriptedSource(cfg, cpu_count=2),
                     sampler=ScriptedSampler(2, "gil", prefill=10), live=False,
                     python_info=FAKE_PYTHON)


async def test_task_rows_are_rebuilt_only_when_their_cells_change():
    app = fake_app()
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.query_one(TaskGrid)
        grid.states = [RUNNING] * grid.tasks
        grid.update_frame([0.5] * grid.tasks)
        await pilot.pause()
        rows = grid.layout_info.rows
        built = grid.rows_built
        grid.refresh()  # the whole panel, e.g. its title changed
        await pilot.pause()
        assert grid.rows_built == built  # every row reused
        run = RunState(grid.tasks)
        run.apply([TaskStarted(id=i, pid=1, tid=2, t=0.0) for i in range(grid.tasks)]
                  + [TaskDone(id=0, pid=1, tid=2, t=1.0, cpu_s=1.0)])
        grid.set_states(run, {0})  # one cell of row 0
        grid.update_frame(None)
        await pilot.pause()
        assert grid.rows_built == built + 1 and grid.state_of(0) == "done"
        assert rows > 1


async def test_task_rows_show_each_glyph_step_in_every_layout():
    """A row's key is what it shows: a change of glyph always repaints it."""
    app = fake_app(tasks=1000)  # mini or dense cells: one glyph per task
    async with app.run_test(size=(120, 40)) as pilot:
        grid = app.query_one(TaskGrid)
        assert grid.layout_info.kind in ("mini", "dense")
        grid.states = [RUNNING] * grid.tasks
        grid.update_frame([0.24] * grid.tasks)
        await pilot.pause()
        before = grid.render_line(0).text
        grid.update_frame([0.26] * grid.tasks)  # glyph 1 -> 2 (int(f * 8))
        await pilot.pause()
        after = grid.render_line(0).text
        assert before != after and "▃" in after and "▃" not in before
        grid.states = [DONE] * grid.tasks
        grid.update_frame(None)
        await pilot.pause()
        assert "▃" not in grid.render_line(0).text


async def test_own_line_widgets_skip_only_the_ansi_conversion(monkeypatch):
    app = fake_app()
    async with app.run_test(size=(120, 40)):
        assert any(isinstance(f, ANSIToTruecolor) for f in app.get_line_filters())
        for widget in (app.grid, app.event_log, app.clock, app.cores.cells):
            assert not any(isinstance(f, ANSIToTruecolor) for f in widget.get_line_filters())
    monkeypatch.setenv("NO_COLOR", "1")
    app = fake_app()
    async with app.run_test(size=(120, 40)):
        for widget in (app.grid, app.event_log, app.clock, app.cores.cells):
            assert any(isinstance(f, Monochrome) for f in widget.get_line_filters())


async def test_full_garbage_collections_are_made_where_the_clock_cannot_see_them(monkeypatch):
    """A full pass takes 20-40 ms: the app makes them itself between frames, not Python at
    any allocation; the collector's settings are restored when the app ends."""
    import gc

    before = gc.get_threshold()
    app = build_app(RunConfig(mode="threads", tasks=8, n=300),
                    source_factory=lambda cfg: ScriptedSource(cfg, cpu_count=2),
                    sampler=ScriptedSampler(2, "gil", prefill=10), live=True,
                    python_info=FAKE_PYTHON)
    collected = []
    async with app.run_test(size=(120, 40)):
        assert gc.get_threshold()[:2] == before[:2]
        assert gc.get_threshold()[2] >= 1_000_000  # no automatic full passes
        monkeypatch.setattr(gc, "collect", lambda *a: collected.append("collect") or 0)
        monkeypatch.setattr(gc, "freeze", lambda: collected.append("freeze"))
        monkeypatch.setattr(gc, "unfreeze", lambda: collected.append("unfreeze"))
        app.terminal._last_gc = 0.0
        app.terminal.collect_garbage()
        app.terminal.collect_garbage()  # not due again for GC_S seconds
        # what survived is set aside: the next pass during the run skips it
        assert collected == ["collect", "freeze"]
        app.terminal.collect_garbage(force=True)  # the run ended: the clock stands still
        assert collected == ["collect", "freeze"] * 2
        del collected[:]
        app.terminal._last_gc = 0.0
        app.terminal.collect_garbage(idle=True)  # between runs: over what runs set aside
        assert collected == ["unfreeze", "collect", "freeze"]
        app.terminal.collect_garbage(force=True, idle=True)  # nothing new was set aside
        assert collected == ["unfreeze", "collect", "freeze", "collect", "freeze"]
        monkeypatch.undo()
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0  # given back with the thresholds


class SlowSampler(ScriptedSampler):
    """A sampler that takes 0.2 s a sample (like psutil with hundreds of processes)."""

    def __init__(self, *args, **kwargs) -> None:
        self.threads: list[str] = []
        super().__init__(*args, **kwargs)

    def sample(self):
        import threading
        import time

        self.threads.append(threading.current_thread().name)
        time.sleep(0.2)
        return super().sample()


async def test_samples_are_taken_off_the_screen_thread_and_drawn_when_they_arrive():
    import asyncio
    import threading

    sampler = SlowSampler(2, "waves", prefill=5)
    app = build_app(RunConfig(mode="threads", tasks=8, n=300),
                    source_factory=lambda cfg: ScriptedSource(cfg, cpu_count=2),
                    sampler=sampler, live=True, python_info=FAKE_PYTHON)
    async with app.run_test(size=(120, 40)) as pilot:
        cells = app.cores.cells
        taken = len(sampler.threads)  # the baseline at mount is taken in place
        before = list(cells.loads)
        await asyncio.sleep(2.5)  # the idle sample timer: once a second
        await pilot.pause()
        later = sampler.threads[taken:]
        assert len(later) >= 2
        assert all(name != threading.main_thread().name for name in later)
        assert list(cells.loads) != before  # and what they saw was drawn

"""The compare chart: one labelled bar per mode, in the order of the results, then the
ideal, at every size; read from what the screen shows, not from the widget's data."""
from __future__ import annotations

import pytest
from textual.app import App

from helpers import runnable_modes
from conc_tui.monitor import RunConfig
from conc_tui.monitor.results import RunResult
from conc_tui.ui.app import ConcApp, build_app
from conc_tui.ui.compare_chart import (BAR_GLYPHS, CompareChart, Row, bar_of, chart_lines,
                                       chart_rows)
from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource

#: The modes a compare runs here: those this interpreter can run.
MODES = runnable_modes()
SIZES = [(80, 24), (100, 30), (120, 40), (160, 48), (200, 60)]


def fake_app() -> ConcApp:
    """The app on fake sessions (4 cores, 8 tasks of heavy(300)) and a fake sampler."""
    return build_app(RunConfig(tasks=8, n=300),
                     source_factory=lambda cfg: ScriptedSource(cfg, cpu_count=4),
                     sampler=ScriptedSampler(4, "busy", prefill=10), live=False,
                     python_info=FAKE_PYTHON)


async def compare(app: ConcApp, pilot) -> None:
    """Press c and move the fake clocks until every mode has run."""
    await pilot.press("c")
    for _ in range(10_000):
        if not app.running:
            break
        app.session.source.advance(0.5)
        app.tick()
    assert not app.running and len(app.results) == len(MODES)
    await pilot.pause()


def screen_lines(app: App, widget) -> list[str]:
    """The text the screen shows in ``widget``'s content region, one string per row."""
    strips = app.screen._compositor.render_strips()
    region = widget.content_region
    return [strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)]


def bar_rows(lines: list[str]) -> list[str]:
    return [line for line in lines if any(ch in BAR_GLYPHS for ch in line)]


def label_of(line: str) -> str:
    return line.split(" ", 1)[0]


@pytest.mark.parametrize("size", SIZES)
async def test_every_bar_row_starts_with_its_mode_in_results_order(size):
    app = fake_app()
    async with app.run_test(size=size) as pilot:
        await compare(app, pilot)
        chart = app.chart
        assert chart.region.height > 0, "the chart is on screen after a compare"
        lines = screen_lines(app, chart)
        rows = bar_rows(lines)
        labels = [label_of(line) for line in rows]
        # no bar row without its label: every one starts with a mode's name or "ideal"
        for line in rows:
            assert line.startswith(tuple(MODES) + ("ideal",)), (size, line)
        # one row per mode, in the order of the results, then the ideal
        assert labels == [r.mode for r in app.results] + ["ideal"], (size, lines)
        assert len(rows) <= chart.size.height  # 6 modes fit from 80x24 up: nothing scrolls
        # the figures on each row are the results' own
        walls = dict(chart.bars, ideal=chart.ideal)
        seq = walls["sequential"]
        for line in rows:
            wall = walls[label_of(line)]
            assert f"{wall:.2f} s" in line and line.rstrip().endswith(f"{seq / wall:.2f}x")
        # the bars are to scale: the slowest fills its column, the others in proportion
        widths = [len(bar_of(line)) for line in rows]
        top = max(walls.values())
        longest = max(widths)
        for line, w in zip(rows, widths):
            assert abs(w - walls[label_of(line)] / top * longest) <= 1.01, (size, line)
        # the names are one column, and the bars start at the same column
        starts = {min(line.index(ch) for ch in BAR_GLYPHS if ch in line) for line in rows}
        assert len(starts) == 1
        # a line above the bars says what they measure, when there is a row for it (the
        # bars come first: with more modes than rows, the chart scrolls without it)
        if chart.size.height > len(rows):
            assert "wall" in lines[0] and not bar_of(lines[0])


async def test_the_run_set_is_named_and_the_ideal_is_drawn_in_its_own_style():
    app = fake_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await compare(app, pilot)
        chart = app.chart
        assert str(chart.border_subtitle) == "cpu · 8 tasks · n=300 · 4 cores"
        strips = [chart.render_line(y) for y in range(chart.size.height)]
        styles = {}
        for strip in strips:
            text = strip.text
            glyphs = [seg.style for seg in strip if seg.text and seg.text[0] in BAR_GLYPHS]
            if glyphs:
                styles[label_of(text)] = glyphs[0]
        assert set(styles) == set(MODES) | {"ideal"}
        assert len({styles[m] for m in MODES}) == 1
        assert styles["ideal"].color != styles["sequential"].color


async def test_without_colour_the_ideal_row_still_reads_apart(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await compare(app, pilot)
        rows = bar_rows(screen_lines(app, app.chart))
        assert [label_of(line) for line in rows][-1] == "ideal"
        strips = [app.chart.render_line(y) for y in range(app.chart.size.height)]
        ideal = next(s for s in strips if s.text.startswith("ideal"))
        assert all(seg.style.bold for seg in ideal if seg.text.strip())


async def test_the_run_set_shows_above_the_bars_when_the_chart_has_no_border():
    app = fake_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await compare(app, pilot)
        lines = screen_lines(app, app.chart)
        assert any(line.startswith("cpu · 8 tasks · n=300") for line in lines[:2]), lines


async def test_before_any_run_the_chart_says_how_to_fill_it():
    app = fake_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("g")
        await pilot.pause()
        lines = screen_lines(app, app.chart)
        assert lines[0].startswith("no finished runs yet")
        assert not bar_rows(lines)


async def test_a_cancelled_run_is_not_no_run_yet():
    app = fake_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        app.session.source.advance(0.5)
        app.tick()
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if not app.running:
                break
        await pilot.press("g")
        await pilot.pause()
        lines = screen_lines(app, app.chart)
        assert "cancelled" in lines[0] and "no finished runs yet" not in lines[0]
        assert not bar_rows(lines)


def result(mode: str, wall: float, **kw) -> RunResult:
    fields = dict(workload="cpu", tasks=8, n=300, sleep=2.0, workers=4,
                  python={"executable": "/usr/bin/python3"}, cpu_count=4, cpu_s=wall,
                  status="ok")
    fields.update(kw)
    return RunResult(mode=mode, wall_s=wall, **fields)


class ChartApp(App):
    CSS = "CompareChart { height: 4; }"

    def compose(self):
        yield CompareChart()


async def test_a_chart_shorter_than_its_rows_scrolls_and_keeps_every_label():
    app = ChartApp()
    async with app.run_test(size=(60, 10)) as pilot:
        chart = app.query_one(CompareChart)
        chart.set_results([result("sequential", 2.0, cpu_s=2.0), result("threads", 2.1),
                           result("asyncio", 2.0), result("processes", 0.6)])
        await pilot.pause()
        assert chart.virtual_size.height == 5  # 4 modes and the ideal; no title, no gaps
        seen = []
        for top in range(2):
            chart.scroll_to(y=top * 4, animate=False, immediate=True)
            await pilot.pause()
            lines = [chart.render_line(y).text for y in range(chart.size.height)]
            seen += [label_of(line) for line in bar_rows(lines)]
            assert all(line.startswith(label_of(line)) for line in bar_rows(lines))
        assert seen[:4] == ["sequential", "threads", "asyncio", "processes"]
        assert seen[-1] == "ideal"


def test_narrow_rows_give_up_the_speedup_before_the_bar():
    rows = chart_rows([("sequential", 6.0), ("processes", 3.0)], ideal=3.0)
    assert rows[-1] == Row("ideal", 3.0, 2.0, ideal=True)
    wide = ["".join(t for t, _ in line) for line in chart_lines(rows, 40, 3)]
    assert wide[0].startswith("sequential ") and wide[0].endswith("6.00 s  1.00x")
    narrow = ["".join(t for t, _ in line) for line in chart_lines(rows, 26, 3)]
    assert all(line.endswith(" s") for line in narrow)
    assert all(len(bar_of(line)) >= 1 for line in narrow)
    assert all(len(line) == 26 for line in narrow)


def test_without_sequential_there_is_no_speedup_and_no_ideal():
    rows = chart_rows([("threads", 2.0), ("processes", 1.0)], ideal=None)
    lines = ["".join(t for t, _ in line) for line in chart_lines(rows, 40, 10)]
    assert [label_of(line) for line in bar_rows(lines)] == ["threads", "processes"]
    assert not any(line.rstrip().endswith("x") for line in lines)


def test_a_tiny_wall_time_still_gets_a_visible_bar():
    rows = chart_rows([("sequential", 100.0), ("asyncio", 0.001)], ideal=None)
    lines = ["".join(t for t, _ in line) for line in chart_lines(rows, 40, 2)]
    assert bar_of(lines[1]) == "▏"

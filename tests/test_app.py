"""The live app: keys → state with Pilot on a fake session, and one real run end to end.

The fake session (``conc_tui.ui.fake.ScriptedSource``) plays a scripted run on a manual clock;
these tests move the clock and draw frames themselves (``live=False``), so nothing depends on
timing. Only the last test starts a real runner.
"""
from __future__ import annotations

import threading
import time

import psutil
import pytest
from textual.app import App
from textual.widgets import Input, Static

from conc_tui.monitor import MODES, WORKLOADS
from conc_tui.monitor import RunConfig, TaskDone, TaskFailed
from conc_tui.monitor.runner_source import RunnerSource
from conc_tui.monitor.config import PARSERS, ConfigError
from conc_tui.monitor import compare_order
from conc_tui.ui.app import ConcApp, build_app
from conc_tui.ui.clock import format_elapsed
from conc_tui.ui.events import CHUNK, EventLog, event_line
from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource
from conc_tui.ui.help import HelpScreen
from conc_tui.ui.tasks import choose_layout
from helpers import runnable_modes

SIZE = (120, 40)


class Sessions:
    """A session factory that keeps every ScriptedSource it made."""

    def __init__(self, cpu_count: int = 2) -> None:
        self.cpu_count = cpu_count
        self.made: list[ScriptedSource] = []

    def __call__(self, config: RunConfig) -> ScriptedSource:
        session = ScriptedSource(config, cpu_count=self.cpu_count)
        self.made.append(session)
        return session

    @property
    def last(self) -> ScriptedSource:
        return self.made[-1]


def fake_app(config: RunConfig | None = None, cores: int = 2,
             pattern: str = "gil") -> tuple[ConcApp, Sessions]:
    sessions = Sessions(cores)
    app = build_app(config or RunConfig(tasks=20, n=300), source_factory=sessions,
                    sampler=ScriptedSampler(cores, pattern, prefill=10), live=False,
                    python_info=FAKE_PYTHON)
    return app, sessions


def play(app: ConcApp, sessions: Sessions, seconds: float, step: float = 0.25) -> None:
    """Move the fake clock ``seconds`` forward, drawing a frame every ``step``."""
    t = 0.0
    while t < seconds:
        sessions.last.advance(step)
        app.tick()
        app.sample_tick()
        t += step


def play_to_end(app: ConcApp, sessions: Sessions, limit: int = 10_000) -> None:
    """Frames until no run is going (a compare runs every mode in turn)."""
    for _ in range(limit):
        if not app.running:
            return
        sessions.last.advance(0.5)
        app.tick()
    raise AssertionError("the run never ended")


# -- keys → state ---------------------------------------------------------------------------

async def test_number_keys_pick_the_mode():
    app, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        for i, mode in enumerate(MODES):
            await pilot.press(str(i + 1))
            assert app.controls.mode == mode
            if mode in runnable_modes():
                assert f"r runs {mode} ·" in app.status.shown
            else:  # subinterpreters on 3.11: said at once, with the reason
                assert app.status.shown.startswith(f"✗ {mode} need")
        assert app.session is None  # picking a mode does not start anything


async def test_w_cycles_the_workload():
    app, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        seen = [app.controls.workload]
        for _ in WORKLOADS:
            await pilot.press("w")
            seen.append(app.controls.workload)
        assert seen == ["cpu", "io", "mixed", "cpu"]


@pytest.mark.parametrize("field, text", [("tasks", "0"), ("tasks", "100001"), ("n", "1"),
                                         ("sleep", "1..5"), ("workers", "0")])
async def test_invalid_input_is_refused_with_the_cli_reason(field, text):
    with pytest.raises(ConfigError) as refused:
        PARSERS[field](text)
    app, sessions = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        box = app.query_one(f"#controls #{field}", Input)
        box.focus()
        box.value = ""
        await pilot.press(*text)
        await pilot.pause()
        assert box.value == text
        assert box.has_class("-invalid")
        assert app.status.error == str(refused.value)  # the reason, where it was typed
        assert app.status.shown.startswith("✗ ")

        await pilot.press("escape")  # leave the input; the keys are the app's again
        assert not isinstance(app.focused, Input)
        await pilot.press("r")
        await pilot.pause()
        assert app.session is None and sessions.made == []  # no run started
        assert app.status.error == f"cannot run: {refused.value}"
        assert app.focused is box  # back to the value to fix

        await pilot.press("escape", "c")
        await pilot.pause()
        assert sessions.made == []  # compare refuses too


async def test_letters_in_a_number_field_are_the_apps_keys():
    """r typed into the tasks field ran the experiment rather than making it "0r"; after a
    refused run the field has the focus with nothing selected, so c does not replace it."""
    app, sessions = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        box = app.query_one("#controls #tasks", Input)
        box.focus()
        box.value = ""
        await pilot.press("0")
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert box.value == "0"  # r did not type
        assert sessions.made == [] and app.status.error.startswith("cannot run")
        assert app.focused is box and box.selected_text == ""
        await pilot.press("c", "w")
        await pilot.pause()
        assert box.value == "0" and sessions.made == []  # c compared (refused), w cycled
        assert app.controls.workload == "io"
        await pilot.press("backspace", "6", "r")
        await pilot.pause()
        assert app.session is not None and app.session.config.tasks == 6


async def test_escape_leaves_a_field_and_tab_starts_at_the_controls():
    app, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused is None  # every key is the app's
        order = []
        for _ in range(10):
            await pilot.press("tab")
            order.append(app.focused.id)
        assert order == ["mode", "python", "workload", "own", "tasks", "n", "sleep", "workers",
                         "task-grid", "view-tabs"]
        app.query_one("#controls #n", Input).focus()
        await pilot.press("escape")
        assert app.focused is None


async def test_focus_shows_without_colour_on_controls_and_panels():
    """A focused Select only changed its background 234 -> 235: now the field's name is
    reversed, and a focused panel's edge turns heavy (a glyph, not only a colour)."""
    app, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        field = app.query_one("#controls #mode").parent
        assert field.has_class("-focused")
        assert "reverse" in str(field.query_one("Label").styles.text_style)
        await pilot.press("tab")
        assert not field.has_class("-focused")
        app.grid.focus()
        await pilot.pause()
        assert app.grid.styles.border_top[0] == "heavy"


async def test_keys_that_cannot_act_now_say_why_and_change_nothing():
    app, sessions = fake_app(RunConfig(mode="threads", tasks=8, n=300))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        assert "nothing to stop" in app.status.shown
        await pilot.press("r")
        play(app, sessions, 1.0)
        await pilot.press("5", "w")
        assert app.controls.mode == "threads" and app.controls.workload == "cpu"
        assert "keeps its workload" in app.status.shown
        await pilot.press("r")
        assert "a run is going" in app.status.shown and len(sessions.made) == 1
        assert app.session.config.mode == "threads"


async def test_stop_shows_the_running_tasks_cancelled():
    app, sessions = fake_app(RunConfig(mode="threads", tasks=30, n=300))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        play(app, sessions, 1.0)
        running = [i for i in range(30) if app.grid.state_of(i) == "running"]
        waiting = [i for i in range(30) if app.grid.state_of(i) == "waiting"]
        assert running
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause(0.05)
            if not app.running:
                break
        assert not app.running and app.results[-1].status == "cancelled"
        assert [app.grid.state_of(i) for i in running] == ["cancelled"] * len(running)
        assert all(app.grid.state_of(i) == "waiting" for i in waiting)
        title = str(app.grid.border_title)
        assert "run" not in title.replace("Tasks", "")  # no task counted as running
        assert f"{len(running)} cancel" in title
        statuses = {t.status for t in app.results[-1].task_results}
        assert "running" not in statuses and "cancelled" in statuses


async def test_help_scrolls_by_keys_at_once():
    app, _ = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        scroll = app.screen.query_one("VerticalScroll")
        assert scroll.max_scroll_y > 0
        await pilot.press("down")
        assert scroll.scroll_y == 1
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("home")
        await pilot.pause()
        assert scroll.scroll_y == 0


async def test_a_text_field_types_letters_and_shows_ctrl_keys_to_run():
    """A field where letters type (e.g. a future file.py:function control): r types, and
    ctrl+r, which the footer then shows, runs."""
    app, sessions = fake_app(RunConfig(tasks=4, n=300))
    async with app.run_test(size=SIZE) as pilot:
        free = Input(id="free")
        await app.mount(free, before=app.query_one("#bar"))
        def shown(key: str) -> bool:
            binding = app.active_bindings.get(key)
            return binding is not None and binding.enabled

        assert not shown("ctrl+r")  # hidden where r is a key
        free.focus()
        await pilot.press("r", "c")
        assert free.value == "rc" and sessions.made == []
        assert shown("ctrl+r")  # the footer shows ^r Run now
        await pilot.press("ctrl+r")
        assert len(sessions.made) == 1 and app.running
        await pilot.press("escape")
        assert app.focused is None


async def test_too_small_says_so_and_starts_nothing_unseen():
    app, sessions = fake_app()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        cover = app.query_one("TooSmall")
        assert cover.region.area > 0 and app.query_one("#main").region.area == 0
        text = str(cover.render())
        assert "too small" in text and "needs 80x24, this is 40x12" in text
        await pilot.press("r", "c")
        assert sessions.made == []
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.query_one("TooSmall").region.area == 0
        await pilot.press("r")
        assert len(sessions.made) == 1


async def test_z_gives_the_views_the_tasks_room_at_80x24():
    app, _ = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = app.event_log.size.height
        await pilot.press("z")
        await pilot.pause()
        assert app.event_log.size.height > max(7, before)
        await pilot.press("z")
        await pilot.pause()
        assert app.event_log.size.height == before


def test_every_key_is_in_the_help_and_the_readme():
    from pathlib import Path

    from conc_tui.ui.help import KEYS
    from conc_tui.ui.keys import BINDINGS

    readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
    helped = " ".join(key for key, _ in KEYS).split()
    names = {"question_mark": "?", "ctrl+c": "ctrl+c", "escape": "escape"}
    for binding in BINDINGS:
        key = names.get(binding.key, binding.key)
        last = len(MODES)
        if key.isdigit():
            key = f"1–{last}"
        assert key in helped or key in " ".join(t for _, t in KEYS), key
        assert f"`{key}`" in readme or key == f"1–{last}" and f"`1`–`{last}`" in readme, key


async def test_fixing_the_input_lets_the_run_start():
    app, sessions = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        box = app.query_one("#controls #tasks", Input)
        box.value = "0"
        await pilot.pause()
        assert app.status.error
        box.value = "12"
        await pilot.pause()
        assert app.status.error is None
        await pilot.press("r")
        assert app.session.source is sessions.last
        assert app.session.config.tasks == 12
        assert app.grid.tasks == 12


async def test_run_shows_tasks_events_and_clock():
    app, sessions = fake_app(RunConfig(mode="processes", tasks=20, n=300))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        session = app.session
        assert isinstance(session.source, ScriptedSource) and session.config.mode == "processes"
        play(app, sessions, 0.5)
        assert app.grid.counts[1] > 0  # running
        assert app.clock.text == "0.5 s"
        assert "running processes" in app.status.shown

        play_to_end(app, sessions)
        assert app.session is None
        assert [app.grid.state_of(i) for i in range(20)] == ["done"] * 20
        lines = app.event_log.plain
        assert any(line.startswith("17 is done  pid ") and " thread " in line
                   for line in lines)
        assert lines[-1].startswith("■ run ok after")
        [result] = app.results
        assert result.status == "ok" and result.mode == "processes"
        assert app.clock.text == format_elapsed(result.wall_s)
        assert app.table.row_count == 1
        assert app.visible_view == "results"


async def test_events_are_applied_once_per_frame():
    app, sessions = fake_app(RunConfig(mode="process-pool", tasks=40, n=300))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        frames_before = app.grid.frames
        lines_before = len(app.event_log.lines)
        sessions.last.advance(1.0)  # many events arrive between two frames
        app.tick()
        assert app.session is not None  # still running
        assert app.grid.frames == frames_before + 1
        assert app.grid.counts[2] > 1  # several tasks done, in that one frame
        # the run's header and one "is done" line per finished task, all in that frame
        assert len(app.event_log.lines) - lines_before == 1 + app.grid.counts[2]


async def test_r_while_running_starts_nothing_more():
    app, sessions = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        play(app, sessions, 0.3)
        await pilot.press("r", "c")
        assert len(sessions.made) == 1


class SlowStopSession(ScriptedSource):
    """A fake session whose stop() blocks until the test lets it return, like a real one."""

    release = None  # a threading.Event, set by the test

    def stop(self, timeout: float = 2.0) -> None:
        self.release.wait(5)
        super().stop(timeout)


async def test_s_stops_the_run_without_blocking_the_screen():
    release = threading.Event()
    made = []

    def factory(config):
        session = SlowStopSession(config, cpu_count=2)
        session.release = release
        made.append(session)
        return session

    app = build_app(RunConfig(mode="threads", tasks=20, n=300), source_factory=factory,
                    sampler=ScriptedSampler(2, "gil"), live=False, python_info=FAKE_PYTHON)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        session = app.session
        session.source.advance(1.0)
        app.tick()
        await pilot.press("s")
        assert app.ctl.stopping and app.status.shown == "stopping…"
        # stop() is blocked in its worker thread, and the screen still answers keys
        await pilot.press("s")
        assert app.status.shown == "▸ stopping already…"
        session.source.advance(0.3)
        app.tick()
        assert app.clock.text == "1.3 s"  # the clock keeps going while it stops
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.tick()
        assert app.session is None and not app.ctl.stopping
        [result] = app.results
        assert result.status == "cancelled"
        assert session.finished.status == "cancelled"
        assert "cancelled" in app.status.shown
        assert app.table.rows_text()[0]["status"] == "cancelled"

        release.set()
        await pilot.press("r")  # the app carries on
        assert app.session.source is made[-1] and len(made) == 2


async def test_a_failed_task_shows_failed_and_the_run_carries_on():
    app, sessions = fake_app(RunConfig(mode="processes", tasks=10, n=300, fail_tasks=(3,)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        play_to_end(app, sessions)
        assert app.grid.state_of(3) == "failed"
        assert all(app.grid.state_of(i) == "done" for i in range(10) if i != 3)
        failed = [line for line in app.event_log.plain if line.startswith("3 failed:")]
        assert failed and "TaskFailure" in failed[0]
        assert event_line(TaskFailed(id=3, pid=1, tid=2, t=0.0, error="E"))[0][1] == "error"
        assert app.results[0].status == "failed"
        assert "1 task(s) failed" in app.status.shown


async def test_compare_runs_every_mode_and_fills_table_and_chart():
    app, sessions = fake_app(RunConfig(tasks=8, n=300), cores=4, pattern="busy")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        assert app.ctl.comparing and app.session.config.mode == "sequential"
        play_to_end(app, sessions)
        await pilot.pause()
        here = compare_order(runnable_modes())  # what this interpreter can run
        assert [s.config.mode for s in sessions.made] == here
        assert here[0] == "sequential"
        assert [r.mode for r in app.results] == here
        rows = app.table.rows_text()
        assert len(rows) == len(here) == app.table.row_count
        assert rows[0]["speedup"] == "1.00x"
        assert all(row["speedup"].endswith("x") for row in rows)
        by_mode = {r.mode: r for r in app.results}
        assert by_mode["processes"].wall_s < by_mode["threads"].wall_s  # 4 cores vs the GIL
        assert [m for m, _ in app.chart.bars] == runnable_modes()
        assert app.chart.ideal is not None and app.chart.ideal > 0
        assert app.visible_view == "compare"
        assert not app.ctl.comparing and not app.ctl.queue
        assert app.status.text.startswith("compare done")
        # the clock says it shows the whole compare, not the last run
        assert app.clock.label == "total"
        assert app.clock.value == pytest.approx(sum(r.wall_s for r in app.results))


async def test_results_tell_runs_apart_by_their_sizes_at_80_columns():
    app, sessions = fake_app(RunConfig(mode="threads", tasks=6, n=300))
    async with app.run_test(size=(80, 24)) as pilot:
        for tasks in ("6", "9"):
            app.controls.set_value("tasks", tasks)
            await pilot.pause()
            await pilot.press("r")
            play_to_end(app, sessions)
        await pilot.press("t")
        await pilot.pause()
        table = app.table
        assert table.narrow  # below 100 columns: two lines a run
        cells = [" ".join(c.plain for c in table.get_row_at(i)) for i in range(2)]
        assert "6 × n=300" in cells[0] and "9 × n=300" in cells[1]
        headers = " ".join(str(c.label) for c in table.columns.values())
        assert "wall s" in headers and "CPU s" in headers
        assert table.virtual_size.width <= table.size.width  # nothing cut at 80 columns


def test_the_status_line_drops_its_hints_before_what_happened():
    from conc_tui.ui.clock import fit_status

    text = "compare done: fastest processes 0.63 s, 3.66x sequential — 6 modes — g chart"
    assert fit_status(text, 200) == text
    assert fit_status(text, 61) == "compare done: fastest processes 0.63 s, 3.66x sequential"


async def test_stop_during_compare_cancels_the_rest():
    app, sessions = fake_app(RunConfig(tasks=8, n=300))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        play(app, sessions, 0.5)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.tick()
        assert len(sessions.made) == 1 and app.session is None
        assert [r.status for r in app.results] == ["cancelled"]


async def test_help_screen_opens_and_closes():
    app, _ = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_quit_stops_the_running_session():
    app, sessions = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        play(app, sessions, 0.5)
        session = app.session
        await pilot.press("q")
        await pilot.pause()
    assert session.wait(0)  # stopped by the app
    session.poll()
    assert session.finished.status == "cancelled"
    assert app.return_code == 0


async def test_tabs_switch_the_views():
    app, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        for key, view in (("t", "results"), ("g", "compare"), ("e", "events")):
            await pilot.press(key)
            assert app.visible_view == view
            assert app.query_one(f"#{view}").display


async def test_ctrl_c_quits_and_stops_the_run():
    app, sessions = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#controls #n", Input).focus()  # even from inside an input
        await pilot.press("escape", "r")
        play(app, sessions, 0.5)
        session = app.session
        app.query_one("#controls #n", Input).focus()
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert session.wait(0)
    assert app.return_code == 0


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_every_panel_is_on_screen(size):
    app, sessions = fake_app(RunConfig(mode="processes", tasks=80, n=300))
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        play(app, sessions, 1.0)
        await pilot.pause()
        screen = app.screen.region
        for selector in ("#controls", "#status", "#elapsed", "#cores", "#parallelism",
                         "#task-grid", "#views", "Footer"):
            region = app.query_one(selector).region
            assert region.height > 0 and region.width > 0, selector
            assert screen.contains_region(region), selector
        # 80 tasks are all visible without scrolling (at 80x24 in a compact form)
        assert app.grid.layout_info.rows <= app.grid.size.height
        wide = size == (200, 60)
        assert not app.query_one("#view-tabs").display == wide
        shown = [v for v in ("events", "results", "compare") if app.query_one(f"#{v}").region]
        assert shown == (["events", "results", "compare"] if wide else ["events"])


async def test_clock_repaints_only_when_its_tenth_changes():
    app, _ = fake_app()
    async with app.run_test(size=SIZE):
        clock = app.clock
        before = clock.updates
        clock.set(1.01)
        clock.set(1.04)
        clock.set(1.09)
        assert clock.updates == before + 1 and clock.text == "1.0 s"
        clock.set(1.1)
        assert clock.updates == before + 2 and clock.text == "1.1 s"
    assert format_elapsed(61.25) == "1:01.2"
    assert format_elapsed(3723.4) == "1:02:03.4"


async def test_clock_writes_its_own_line_unless_something_covers_it(monkeypatch):
    """With a terminal, a new tenth is written straight to the clock's region (not through
    a screen update); under a menu or another screen it falls back to a refresh."""
    app, _ = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        clock = app.clock
        clock.direct = True  # as with a real terminal (a headless app writes nothing)
        shown = []
        monkeypatch.setattr(app, "_display", lambda screen, update: shown.append(update))
        await pilot.pause()

        def written():  # what the clock wrote itself: an update of its region alone
            return [u for u in shown if getattr(u, "region", None) == clock.region]

        clock.set(12.34)
        assert clock.painted == 1 and len(written()) == 1
        update = written()[0]
        line = "".join(strip.text for strip in update.strips[0])
        assert line.rstrip().endswith("elapsed 12.3 s") and len(line) == clock.region.width
        assert clock._repaint_required is False  # no screen update for it
        assert "12.3 s" in clock.render_line(0).text  # a later screen update agrees

        cover = Static("a menu", id="cover")  # drawn over the clock's right end
        cover.styles.position = "absolute"
        cover.styles.offset = (clock.region.right - 4, clock.region.y)
        cover.styles.width, cover.styles.height = 8, 3
        await app.screen.mount(cover)
        await pilot.pause()
        clock.set(12.5)
        assert clock.painted == 1 and len(written()) == 1 and clock.text == "12.5 s"
        await cover.remove()
        await pilot.pause()
        clock.set(12.6)
        assert clock.painted == 2

        await pilot.press("question_mark")  # the help screen is on top
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        clock.set(12.7)
        assert clock.painted == 2


# -- widgets on their own ---------------------------------------------------------------

def test_task_layout_fits_80_and_shrinks_for_many():
    lay = choose_layout(80, 72, 15)
    assert lay.kind == "ids" and lay.rows <= 15 and lay.width() <= 72
    lay = choose_layout(1000, 72, 18)
    assert lay.kind == "dense" and lay.rows <= 18  # 1,000 fit at once, one glyph each
    lay = choose_layout(10_000, 72, 18)
    assert lay.kind == "dense" and lay.rows > 18  # 10,000 scroll


async def test_ten_thousand_tasks_update_live():
    app, sessions = fake_app(RunConfig(mode="process-pool", tasks=10_000, n=300), cores=4)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        assert app.grid.tasks == 10_000 and app.grid.layout_info.kind == "dense"
        play(app, sessions, 2.0, step=0.5)
        await pilot.pause()
        done = app.grid.counts[2]
        assert done == sum(t.state == "done" for t in app.session.tasks) > 0
        # a frame draws the rows on screen, not 10,000 cells
        started = time.perf_counter()
        for y in range(app.grid.size.height):
            app.grid.render_line(y)
        assert time.perf_counter() - started < 0.5


async def test_many_tasks_follow_the_work_until_the_user_scrolls():
    app, sessions = fake_app(RunConfig(mode="thread-pool", workload="io", tasks=10_000,
                                       workers=500, sleep=1.0), cores=4)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        grid = app.grid
        assert grid.layout_info.rows > grid.size.height  # it scrolls
        def first_open_row() -> int:
            first = next(i for i, s in enumerate(grid.states) if s not in (2, 3))
            return grid.layout_info.row_of(first)

        for _ in range(40):
            play(app, sessions, 0.5, step=0.5)
            if first_open_row() > grid.size.height:
                break
        for _ in range(app.GRID_EVERY):  # frames with no time passing, one of them the grid's
            app.tick()
        await pilot.pause()
        row = first_open_row()
        top = grid.scroll_offset.y
        assert top > 0 and top <= row < top + grid.size.height  # the wave is in view
        grid.scroll_home(animate=False, immediate=True)  # the user looks at the start
        await pilot.pause()
        play(app, sessions, 2.0, step=0.5)
        await pilot.pause()
        assert grid.scroll_offset.y == 0  # and it stays there


class LogApp(App):
    def __init__(self, max_lines: int = 50) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self):
        yield EventLog(max_lines=self.max_lines)


async def test_event_log_is_bounded_and_follows_the_end():
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        log = app.query_one(EventLog)
        events = [TaskDone(id=i, pid=1, tid=2, t=i / 10, cpu_s=0.0)
                  for i in range(200)]
        log.add_events(events)
        await pilot.pause()
        assert len(log.lines) == 50
        assert log.plain[-1].startswith("199 is done")
        assert log.scroll_offset.y == log.max_scroll_y > 0


async def test_event_log_fills_its_view_without_changing_its_virtual_size():
    app = LogApp(max_lines=1000)
    async with app.run_test(size=(60, 10)) as pilot:
        log = app.query_one(EventLog)
        await pilot.pause()
        view = log.size.height
        assert view > 3 and log.virtual_size.height == view
        for i in range(view):
            log.add_events([TaskDone(id=i, pid=1, tid=2, t=0, cpu_s=0.0)])
            await pilot.pause()
            assert log.virtual_size.height == view  # no layout while the lines fit
            assert log.render_line(0).text.strip().startswith("0 is done")  # from the top
        log.add_events([TaskDone(id=view, pid=1, tid=2, t=0, cpu_s=0.0)])
        await pilot.pause()
        assert log.virtual_size.height == CHUNK  # past the view: one chunk at a time
        assert log.scroll_offset.y == log.max_scroll_y > 0
        last = log.render_line(log.scrollable_content_region.height - 1).text.strip()
        assert last.startswith(f"{view} is done")
        for i in range(view + 1, CHUNK):
            log.add_events([TaskDone(id=i, pid=1, tid=2, t=0, cpu_s=0.0)])
        await pilot.pause()
        assert log.virtual_size.height == CHUNK


async def test_event_log_home_shows_its_first_line_not_a_blank_stretch():
    app = LogApp(max_lines=1000)
    async with app.run_test(size=(60, 10)) as pilot:
        log = app.query_one(EventLog)
        await pilot.pause()
        log.add_events([TaskDone(id=i, pid=1, tid=2, t=0, cpu_s=0.0) for i in range(300)])
        await pilot.pause()
        assert log.virtual_size.height > 300  # grown by chunks, lines against the bottom
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        assert log.render_line(0).text.strip().startswith("0 is done")
        await pilot.press("end")
        await pilot.pause()
        bottom = log.scrollable_content_region.height - 1
        assert log.render_line(bottom).text.strip().startswith("299 is done")


# -- end to end -----------------------------------------------------------------------------

async def test_a_real_run_through_the_app():
    """A tiny real workload through the real Session and Sampler: every task done."""
    config = RunConfig(mode="processes", workload="cpu", tasks=4, n=60)
    made = []
    app = build_app(config, source_factory=lambda cfg: made.append(RunnerSource(cfg)) or made[-1])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        [session] = made
        runner = session.runner_pid
        assert runner is not None
        deadline = time.monotonic() + 60
        while not app.results and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert app.results, "the run did not finish in time"
        [result] = app.results
        assert result.status == "ok"
        assert [app.grid.state_of(i) for i in range(4)] == ["done"] * 4
        assert sorted(int(line.split()[0]) for line in app.event_log.plain
                      if line.split()[1:3] == ["is", "done"]) == [0, 1, 2, 3]
        row = app.table.rows_text()[0]
        assert row["mode"] == "processes" and row["status"] == "ok"
        assert float(row["wall"]) > 0
        assert app.clock.value == pytest.approx(result.wall_s)
        assert app.frames > 0  # drawn by the app's own timer
    try:
        proc = psutil.Process(runner)
        assert proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        pass


async def test_v_saves_the_sessions_results_as_json_and_csv(tmp_path, monkeypatch):
    import json as _json

    monkeypatch.chdir(tmp_path)
    app, sessions = fake_app(RunConfig(mode="threads", tasks=6, n=200))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("v")
        assert "nothing to save" in app.status.shown and not list(tmp_path.iterdir())
        await pilot.press("r")
        play_to_end(app, sessions)
        await pilot.press("v")
        assert "saved 1 run to conc-tui-results-" in app.status.shown
    [saved_json] = tmp_path.glob("conc-tui-results-*.json")
    [saved_csv] = tmp_path.glob("conc-tui-results-*.csv")
    runs = _json.loads(saved_json.read_text())["runs"]
    assert [r["mode"] for r in runs] == ["threads"] and runs[0]["status"] == "ok"
    assert saved_csv.read_text().splitlines()[0].startswith("mode,workload")

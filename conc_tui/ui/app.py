"""The live app: pick a mode and a workload, press r, watch the GIL or the cores at work.

The app drives the monitor's Session and Sampler like the headless CLI does, and only draws:

- one frame timer (10 Hz, only while a run goes, due just after each tenth of the clock)
  pulls ``session.poll()`` and applies it in one ``batch_update``: the elapsed clock every
  frame, the task cells (with ``session.progress()``) and the event log every third frame;
- one sample timer (1 Hz; during a run the frames pace it) has a thread worker read the
  sampler, and the cores and parallelism panels draw the sample when it arrives;
- the blocking ``session.stop()`` runs in a thread worker, which posts ``SessionStopped``.

``build_app`` takes the session factory and the sampler, so tests and screenshots inject fakes
(``conc_tui.ui.fake``) and ``run_app`` the real ones.
"""
from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from collections import deque
from typing import Callable

try:
    import termios
except ImportError:  # not on Windows
    termios = None

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.widgets import Footer, Input, Tab, Tabs

from ..engine import MODES, compare_order
from ..monitor.config import ConfigError, RunConfig, check_python
from ..engine.facts import python_info as interpreter_info
from ..monitor.results import RunResult, plain_verdict, speedup_for
from ..monitor.sampler import Sampler
from ..monitor.session import Session
from .clock import ElapsedClock, StatusLine, format_elapsed
from .compare_chart import CompareChart
from .controls import Controls
from .cores import CoresPanel
from .events import EventLog, note_line
from .help import HelpScreen
from .messages import SampleTaken, SessionStopped
from .parallelism import ParallelismPanel
from .results import ResultsTable
from .tasks import TaskGrid

SessionFactory = Callable[[RunConfig], Session]

VIEWS = ("events", "results", "compare")


def _size_text(cfg: RunConfig) -> str:
    if cfg.workload == "cpu":
        return f"heavy({cfg.n})"
    if cfg.workload == "io":
        return f"sleep({cfg.sleep:g} s)"
    return f"heavy({cfg.n}) + sleep({cfg.sleep:g} s)"


class ConcApp(App[int]):
    """conc-tui's live screen. See the module docstring for how it is driven."""

    CSS_PATH = "app.tcss"
    TITLE = "conc-tui"
    AUTO_FOCUS = "#task-grid"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (48, "-tall")]

    # What the eye needs, at the least cost (DESIGN.md, "What drawing costs"): the clock at
    # 10 Hz; the task cells and the events at 3.3 Hz (in the article's threads run a bar
    # moves by about an eighth of a character between two repaints, and every row changes in
    # every repaint, so the cells are most of a frame's cost); the cores and parallelism at
    # 1 Hz, the cores chart every 2 s.
    FRAME_S = 0.1
    GRID_EVERY = 3  # frames
    CHART_S = 2.0  # seconds between redraws of the cores chart
    SAMPLE_S = 1.0
    GC_S = 20.0  # seconds between full garbage collections while a run goes

    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("s", "stop", "Stop"),
        Binding("c", "compare", "Compare"),
        *[Binding(str(i + 1), f"mode({i})", mode, group=Binding.Group("mode"))
          for i, mode in enumerate(MODES)],
        Binding("w", "cycle_workload", "Workload"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("e", "view('events')", "Events", show=False),
        Binding("t", "view('results')", "Results", show=False),
        Binding("g", "view('compare')", "Compare chart", show=False),
        Binding("escape", "leave_input", show=False),
    ]

    def __init__(self, config: RunConfig, *, session_factory: SessionFactory = Session,
                 sampler=None, autorun: bool = False, live: bool = True,
                 python_info: dict | None = None) -> None:
        super().__init__()
        self.config = config  # what the controls do not set (python, nice, fail_tasks)
        self.session_factory = session_factory
        # about the last minute of history, at the sample rate
        self.sampler = sampler if sampler is not None else Sampler(
            history=max(2, round(60 / self.SAMPLE_S)))
        self.autorun = autorun
        self.live = live
        self.python_info = python_info or _python_info(config)
        self.session: Session | None = None
        self.run_config: RunConfig | None = None  # the config of the current/last run
        self.results: list[RunResult] = []
        self.compare_queue: list[RunConfig] = []
        self.comparing = False
        self.compare_total = 0
        self.stopping = False
        self.frames = 0  # frames applied while a run went (tests, benchmarks)
        self._pending_events: list[dict] = []  # for the event log's next repaint
        self._signals: list[int] = []
        self._run_base: tuple[float, float] | None = None  # (t, tree CPU s) at a run's start
        self._tty_fd: int | None = None
        self._compare_start = 0  # index in results of the current compare's first run
        self._frame_timer = None
        self._sampler_lock = threading.Lock()
        self._sampling = False  # a sample is being taken in a thread
        self._watching = 0  # counts the sampler's watch() calls
        self._gc_threshold: tuple[int, int, int] | None = None  # while the app collects
        self._last_gc = 0.0

    # -- building ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Controls(self.config, id="controls")
        with Horizontal(id="bar"):  # the clock sits right above the task cells: a frame
            yield StatusLine(id="status")  # repaints one compact block of the screen
            yield ElapsedClock(id="elapsed")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                cores = CoresPanel(len(self.sampler.history), id="cores")
                # The chart spans a minute: a redraw every 2 s is enough for the eye and
                # halves plotext's share of the app's CPU (the bars follow every sample).
                cores.plot_interval = self.CHART_S
                yield cores
                yield ParallelismPanel(self.sampler.cpu_count, self.python_info,
                                       id="parallelism")
            with Vertical(id="right"):
                yield TaskGrid(self.config.tasks, id="task-grid")
                yield Tabs(Tab("Events", id="tab-events"), Tab("Results", id="tab-results"),
                           Tab("Compare", id="tab-compare"), id="view-tabs")
                with Container(id="views", classes="-events"):
                    yield EventLog(id="events")
                    yield ResultsTable(id="results")
                    yield CompareChart(id="compare")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#cores").border_title = (
            f"Cores · {self.sampler.cpu_count} usable of {self.sampler.logical_cores}")
        for view in VIEWS:
            self.query_one(f"#{view}").border_title = view.capitalize()
        self.status.show(self._ready_text())
        if self.live:
            self.sample_tick()  # the sampler's baseline
            self.set_interval(self.SAMPLE_S, self._idle_sample, name="sample")
            # Everything built so far lives as long as the app: keep it out of the garbage
            # collector's full passes, which otherwise took 70-140 ms (a visible clock stall).
            gc.collect()
            gc.freeze()
            # The full passes that remain (20-40 ms: Textual's strips keep themselves in
            # their own caches, so drawing leaves cyclic garbage) are made by the app, where
            # they cannot delay the clock: just after a frame, every GC_S, and after a run.
            self._gc_threshold = gc.get_threshold()
            gc.set_threshold(self._gc_threshold[0], self._gc_threshold[1], 1_000_000)
            self._last_gc = time.monotonic()
            self._install_signal_handlers()
            self._tty_fd = _terminal_fd() if not self.is_headless else None
        if self.autorun:
            self.call_after_refresh(self.action_run)

    def on_unmount(self) -> None:
        self.shutdown()
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
            self._gc_threshold = None

    def _collect_garbage(self, force: bool = False) -> None:
        """A full garbage collection, if one is due (or ``force``); only when the app has
        taken them over (``live``), and only where a pause of ~40 ms shows nowhere."""
        if self._gc_threshold is None:
            return
        now = time.monotonic()
        if force or now - self._last_gc >= self.GC_S:
            gc.collect()
            self._last_gc = time.monotonic()

    def _install_signal_handlers(self) -> None:
        """SIGHUP (terminal closed) and SIGTERM end the app, which stops the run."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for sig in (getattr(signal, "SIGHUP", None), signal.SIGTERM):
            if sig is None:
                continue
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
                self._signals.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    def _on_signal(self, sig: int) -> None:
        if sig == getattr(signal, "SIGHUP", None):
            self._hang_up()
        self.shutdown()  # at once: the 2 s allowed for stopping start now
        self.exit(128 + sig, return_code=128 + sig)

    def _hang_up(self) -> None:
        """The terminal is gone: stop the run, then leave at once.

        Nothing can be drawn or restored any more, and Textual's output thread dies on the
        first write to a hung-up terminal, after which a normal exit would block forever.
        """
        self.shutdown()
        os._exit(128 + getattr(signal, "SIGHUP", 1))

    def _terminal_alive(self) -> bool:
        """False once our terminal has hung up (checked at every sample when live).

        A hang-up normally arrives as SIGHUP; this catches the terminal closing while
        something ignored SIGHUP for us (a shell with ``trap '' HUP``), when the app would
        otherwise run on, drawing into nothing, with its run going.
        """
        fd = self._tty_fd
        if fd is None:
            return True
        try:
            termios.tcgetattr(fd)
        except termios.error:
            return False
        except (OSError, ValueError):
            return True
        return True

    # -- widgets ---------------------------------------------------------------------------

    @property
    def controls(self) -> Controls:
        return self.query_one("#controls", Controls)

    @property
    def clock(self) -> ElapsedClock:
        return self.query_one("#elapsed", ElapsedClock)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def grid(self) -> TaskGrid:
        return self.query_one("#task-grid", TaskGrid)

    @property
    def event_log(self) -> EventLog:
        return self.query_one("#events", EventLog)

    @property
    def table(self) -> ResultsTable:
        return self.query_one("#results", ResultsTable)

    @property
    def chart(self) -> CompareChart:
        return self.query_one("#compare", CompareChart)

    @property
    def parallelism(self) -> ParallelismPanel:
        return self.query_one("#parallelism", ParallelismPanel)

    @property
    def cores(self) -> CoresPanel:
        return self.query_one("#cores", CoresPanel)

    @property
    def running(self) -> bool:
        """A run is going (or stopping)."""
        return self.session is not None

    # -- the two timers: frames (10 Hz while a run goes) and samples (1 Hz) -----------------

    def tick(self) -> None:
        """One frame: every event since the last frame and the progress now, drawn at once."""
        session = self.session
        if session is None:
            return
        if self.stopping:  # the stop worker owns the session until it returns
            self.clock.set(session.elapsed())
            return
        events = session.poll()
        grid_due = self.frames % self.GRID_EVERY == 0 or session.done
        # Cells and the event log repaint together, every GRID_EVERY frames: a new log line
        # scrolls, and so repaints, the whole log; the clock keeps every frame.
        self._pending_events.extend(events)
        with self.batch_update():
            self.grid.apply_events(events)
            if grid_due:
                self.grid.update_frame((), session.progress())
                if self._pending_events:
                    self.event_log.add_events(self._pending_events)
                    self._pending_events = []
            if events and session.started is not None:
                self.parallelism.set_python(session.started.get("python") or {})
            self.clock.set(session.elapsed())
        self.frames += 1
        if session.done:
            self._finish_run()

    def _schedule_frame(self) -> None:
        """The frame timer: one-shot, due just after the clock's next tenth of a second, so
        a late frame delays the clock a little but never makes it skip a tenth. It runs only
        while a run goes."""
        if self._frame_timer is not None:
            self._frame_timer.stop()
            self._frame_timer = None
        if not self.live or self.session is None:
            return
        step = self.FRAME_S
        delay = step - self.session.elapsed() % step + 0.004
        self._frame_timer = self.set_timer(delay, self._frame, name="frame")

    def _frame(self) -> None:
        self._frame_timer = None
        self.tick()
        per_sample = round(self.SAMPLE_S / self.FRAME_S)
        if self.session is not None and self.frames % per_sample == 0:
            # While a run goes the sample (and the chart it may redraw) falls halfway between
            # two frames, never just before one, so it cannot delay the clock.
            self.set_timer(self.FRAME_S / 2, self._request_sample, name="sample")
        elif self.session is not None and self.frames % per_sample == per_sample // 2:
            # a frame with no sample after it: once it is on the screen, ~90 ms to spare
            self.call_after_refresh(self._collect_garbage)
        self._schedule_frame()

    def _idle_sample(self) -> None:
        """The sample timer between runs; during a run the frames pace the samples."""
        if self.session is None or not self.live:
            self._request_sample()
            self._collect_garbage()

    def _request_sample(self) -> None:
        """Take a sample in a thread worker (psutil reads a file per process and per thread
        of the run: 15-40 ms with hundreds of them, which would hold the screen back); its
        result is drawn when it arrives. One sample at a time."""
        if not self._terminal_alive():
            self._hang_up()
        if not self.live:
            self.sample_tick()
            return
        if self._sampling:
            return
        self._sampling = True
        self._sample_in_thread()

    @work(thread=True, group="sample", exit_on_error=False)
    def _sample_in_thread(self) -> None:
        try:
            sample, history, watching = self._take_sample()
        except Exception:
            self._sampling = False  # (psutil raised: try again at the next sample)
            raise
        self.post_message(SampleTaken(sample, history, watching))

    def _take_sample(self) -> tuple:
        """A sample, copies of the history the panels draw from, and the watch it is of."""
        with self._sampler_lock:
            sample = self.sampler.sample()
            history = [deque(h, maxlen=h.maxlen) for h in self.sampler.history]
            return sample, history, self._watching

    def _watch(self, pid: int | None) -> None:
        """Point the sampler at a run's runner (or at nothing)."""
        with self._sampler_lock:  # not while a sample is being taken
            self.sampler.watch(pid)
            self._watching += 1

    @on(SampleTaken)
    def _sample_taken(self, message: SampleTaken) -> None:
        self._sampling = False
        self._draw_sample(message.sample, message.history, message.watching)

    def sample_tick(self) -> None:
        """One sample of the machine and of the runner's processes, taken and drawn now
        (the app without its timers, in tests, draws its samples this way)."""
        self._draw_sample(*self._take_sample())

    def _draw_sample(self, sample, history, watching: int) -> None:
        session = self.session
        with self.batch_update():
            self.cores.update_sample(sample, history)
            if (session is not None and not self.stopping and not session.done
                    and watching == self._watching):  # of this run, not the one before
                # Over the run so far: CPU seconds of the runner's tree between the first
                # sample of this run and now, per second between them.
                if self._run_base is None:
                    self._run_base = (sample.t, sample.tree_cpu_s)
                    run = None
                else:
                    t0, cpu0 = self._run_base
                    run = (sample.tree_cpu_s - cpu0) / (sample.t - t0) if sample.t > t0 else None
                self.parallelism.update_live(sample.parallelism_now, run, sample.processes,
                                             sample.threads, sample.runner_share)

    # -- runs ------------------------------------------------------------------------------

    def _config_or_refuse(self) -> RunConfig | None:
        """The controls' config, or None after saying why it cannot run."""
        errors = self.controls.errors()
        try:
            if errors:
                field, message = next(iter(errors.items()))
                raise ConfigError(field, message)
            return self.controls.config(self.config).validated()
        except ConfigError as exc:
            self.status.show_error(f"cannot run: {exc}")
            self.bell()
            try:
                self.query_one(f"#controls #{exc.field}").focus()
            except Exception:
                pass
            return None

    def start_run(self, config: RunConfig) -> bool:
        """Start one run of ``config``; False (and why, on the status line) if it could not."""
        session = self.session_factory(config)
        try:
            session.start()
        except (OSError, RuntimeError) as exc:
            self.status.show(f"could not start the run: {exc}")
            self.compare_queue.clear()
            self.comparing = False
            return False
        self.session = session
        self.run_config = config
        self.stopping = False
        self._watch(session.runner_pid)
        self._run_base = None
        with self.batch_update():
            self.grid.reset(config.tasks)
            self.parallelism.start_run(config.mode, config.workload)
            self.clock.set(0.0)
            self.clock.add_class("-running")
            self.status.show(self._running_text(config))
            self.action_view("events")
        self.refresh_bindings()
        self._schedule_frame()
        return True

    def _finish_run(self) -> None:
        session = self.session
        result = session.result()
        session.close()  # it has ended: releases pipes and shared memory at once
        self.session = None
        self.stopping = False
        self._watch(None)
        self.results.append(result)
        with self.batch_update():
            self.grid.set_states([t.state for t in session.tasks])
            self.grid.update_frame((), None)
            self.clock.set(result.wall_s)
            self.clock.remove_class("-running")
            self.parallelism.finish_run(result.parallelism)
            self.table.set_results(self.results)
            self.chart.set_results(self.results)
            if self.compare_queue and result.status != "cancelled":
                nxt = self.compare_queue.pop(0)
            else:
                nxt = None
                was_comparing = self.comparing
                self.compare_queue.clear()
                self.comparing = False
                self.status.show(self._finished_text(result, was_comparing))
                self.action_view("compare" if was_comparing else "results")
        self.refresh_bindings()
        if nxt is not None:
            self.start_run(nxt)
        else:
            self.call_after_refresh(self._collect_garbage, True)  # the clock has stopped

    @on(SessionStopped)
    def _stopped(self, message: SessionStopped) -> None:
        if message.session is self.session:
            self.stopping = False
            self.tick()

    @work(thread=True, group="stop", exit_on_error=False)
    def _stop_in_thread(self, session: Session) -> None:
        session.stop()
        self.post_message(SessionStopped(session))

    def shutdown(self) -> None:
        """Stop the run and everything it started, now (blocks up to ~2 s); idempotent."""
        self.compare_queue.clear()
        session, self.session = self.session, None
        if session is not None:
            try:
                session.stop()
                session.close()
            except Exception:
                pass
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            for sig in self._signals:
                try:
                    loop.remove_signal_handler(sig)
                except Exception:
                    pass
        self._signals = []

    # -- texts -----------------------------------------------------------------------------

    def _ready_text(self) -> str:
        try:
            cfg = self.controls.config(self.config)
        except ConfigError:
            return "ready"
        return (f"ready: r runs {cfg.mode} · {cfg.workload} · {cfg.tasks} × {_size_text(cfg)}"
                f" — c compares every mode — ? help")

    def _running_text(self, cfg: RunConfig) -> str:
        head = f"running {cfg.mode} · {cfg.workload} · {cfg.tasks} × {_size_text(cfg)}"
        if self.comparing:
            k = self.compare_total - len(self.compare_queue)
            head = f"compare {k}/{self.compare_total}: {head}"
        return f"{head} — s stops"

    def _finished_text(self, result: RunResult, comparing: bool) -> str:
        if comparing:
            runs = [r for r in self.results[self._compare_start:] if r.status == "ok"]
            if len(runs) > 1:
                best = min(runs, key=lambda r: r.wall_s)
                sp = speedup_for(best, runs)
                vs = f", {sp:.2f}x sequential" if sp is not None else ""
                return (f"compare done: {len(runs)} modes — fastest {best.mode} "
                        f"{best.wall_s:.2f} s{vs} — g shows the chart, t the table")
        wall = format_elapsed(result.wall_s)
        what = "compare" if comparing else result.mode
        reading = plain_verdict(result.parallelism, result.cpu_count, result.workload,
                                result.mode, result.python.get("gil_enabled"))
        text = f"{what}: {result.status} after {wall} — {reading}"
        if result.failed_ids:
            text += f" — {len(result.failed_ids)} task(s) failed"
        return text

    # -- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("run", "compare"):
            return None if self.running else True
        if action == "stop":
            return True if self.running and not self.stopping else None
        return True

    def action_run(self) -> None:
        if self.running:
            return
        config = self._config_or_refuse()
        if config is not None:
            self.comparing = False
            self.start_run(config)

    def action_compare(self) -> None:
        if self.running:
            return
        config = self._config_or_refuse()
        if config is None:
            return
        self._compare_start = len(self.results)
        self.compare_queue = [config.replace(mode=m) for m in compare_order()]
        self.compare_total = len(self.compare_queue)
        self.comparing = True
        self.start_run(self.compare_queue.pop(0))

    def action_stop(self) -> None:
        self.compare_queue.clear()
        session = self.session
        if session is None or self.stopping:
            return
        self.stopping = True
        self.status.show("stopping…")
        self.event_log.add_lines([note_line("stopping…", "warn")])
        self.refresh_bindings()
        self._stop_in_thread(session)

    def action_mode(self, index: int) -> None:
        self.controls.mode = MODES[index]

    def action_cycle_workload(self) -> None:
        self.controls.cycle_workload()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.compare_queue.clear()
        if self.session is None:
            self.exit(0)
            return
        self.status.show("quitting: stopping the run…")
        self.call_after_refresh(self._stop_and_exit)

    def _stop_and_exit(self) -> None:
        self.shutdown()  # blocks up to ~2 s; the screen says why
        self.exit(0)

    def action_view(self, name: str) -> None:
        """Show one of the events / results / compare views (when they share a tab)."""
        if name in VIEWS:
            self.query_one("#view-tabs", Tabs).active = f"tab-{name}"

    def action_leave_input(self) -> None:
        if isinstance(self.focused, Input):
            self.grid.focus()

    # -- events from widgets ---------------------------------------------------------------

    @on(Tabs.TabActivated, "#view-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-events").removeprefix("tab-")
        # one class change, so the views' styles are worked out once, not once per view
        self.query_one("#views").set_classes(f"-{name}" if name in VIEWS else "-events")

    @on(Controls.Changed)
    def _controls_changed(self, event: Controls.Changed) -> None:
        errors = self.controls.errors()  # as they are now, not when the message was sent
        self.status.show_error(next(iter(errors.values())) if errors else None)
        if not self.running:
            self.status.show(self._ready_text())
            if event.field == "tasks" and "tasks" not in errors:
                tasks = int(self.controls.values()["tasks"].strip())
                if tasks != self.grid.tasks:
                    self.grid.reset(tasks)  # a preview of the cells the run will have

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        if event.validation_result is None or event.validation_result.is_valid:
            self.grid.focus()

    @property
    def visible_view(self) -> str:
        """The view the tabs show (all three show side by side on a large screen)."""
        active = self.query_one("#view-tabs", Tabs).active or "tab-events"
        return active.removeprefix("tab-")


def _terminal_fd() -> int | None:
    """The file descriptor of our terminal, to notice when it hangs up."""
    if termios is None:
        return None
    for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            continue
        if os.isatty(fd):
            return fd
    return None


def _python_info(config: RunConfig) -> dict:
    if config.python is None:
        return interpreter_info()
    try:
        return check_python(config.python)
    except ConfigError:
        return {"executable": config.python}


def build_app(config: RunConfig, *, session_factory: SessionFactory = Session, sampler=None,
              autorun: bool = False, live: bool = True,
              python_info: dict | None = None) -> ConcApp:
    """The app, with its data sources injected.

    ``session_factory(config)`` makes a Session (tests pass ``conc_tui.ui.fake.FakeSession``);
    ``sampler`` defaults to a real ``Sampler``. ``live=False`` starts no timers: the caller
    drives frames with ``app.tick()`` and samples with ``app.sample_tick()`` (deterministic
    snapshots). ``python_info`` is the interpreter shown before the first run (default: the
    one ``config`` runs on).
    """
    return ConcApp(config, session_factory=session_factory, sampler=sampler, autorun=autorun,
                   live=live, python_info=python_info)


def run_app(config: RunConfig, autorun: bool = False) -> int:
    """Run the live app on this terminal until the user quits; returns the exit status."""
    app = build_app(config, autorun=autorun)
    try:
        app.run()
    finally:
        app.shutdown()  # whatever ended the app, no run outlives it
    return int(app.return_code or 0)

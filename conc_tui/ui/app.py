"""The live app: pick a mode and a workload, press r, watch the GIL or the cores at work.

The app drives the monitor's ``Controller`` like the headless CLI does, and only draws:

- one frame timer (10 Hz, only while a run goes: ``frames.FramePacer``) polls the
  controller and applies what it brought in one ``batch_update``: the elapsed clock every
  frame, the task cells and the event log every third frame;
- one sample timer (1 Hz; during a run the frames pace it) has a thread worker take a
  sample, and the cores and parallelism panels draw it when it arrives;
- the blocking stop runs in a thread worker, which posts ``SessionStopped``.

The app takes the run-source factory and the sampler, so tests and screenshots inject
scripted ones (``conc_tui.monitor.scripted``). Garbage collection, signals and hang-up are
``terminal.Terminal``'s; taking samples off the app's thread is ``sampling.SampleFeed``'s;
the scaling sweep (x) runs as a compare does, and ``sweep.py`` says and draws what it is.
"""
from __future__ import annotations

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Footer, Input

from ..monitor import (ConfigError, Controller, RunConfig, SamplerProcess, StartError,
                       compare_configs, runnable)
from ..monitor.controller import SourceFactory, Step
from .actions import ViewActions
from .clock import ElapsedClock, StatusLine
from .compare_chart import CompareChart
from .controls import Controls
from .cores import CoresPanel
from .events import EventLog, note_line
from .frames import FramePacer
from .keys import BINDINGS
from .messages import SampleTaken, SessionStopped
from .parallelism import ParallelismPanel
from .results import ResultsTable
from .sampling import SampleFeed
from .sweep import Sweep, SweepView
from .tasks import TaskGrid
from .terminal import SIGHUP, Terminal
from .texts import finished_text, ready_text, running_text
from .too_small import MIN_HEIGHT, MIN_WIDTH, TooSmall
from .views import VIEWS, ViewTabs

def _widget(selector: str):
    """A read-only attribute for the app's widget at ``selector``."""
    return property(lambda self: self.query_one(selector))


class ConcApp(ViewActions, App[int]):
    """conc-tui's live screen. See the module docstring for how it is driven.

    ``source_factory(config)`` makes a run source (default: a runner process; tests pass
    ``monitor.scripted.ScriptedSource``); ``sampler`` defaults to a real ``SamplerProcess``.
    ``live=False`` starts no timers: the caller draws frames with ``tick()`` and samples with
    ``sample_tick()`` (deterministic snapshots). ``python_info`` is the interpreter shown
    before the first run (default: the one ``config`` runs on). ``recorder``: a
    ``monitor.recording.Recorder`` that every run of the session is written to.
    """

    CSS_PATH = "app.tcss"
    TITLE = "conc-tui"
    AUTO_FOCUS = None  # nothing focused: every key is the app's, and tab starts at the controls
    HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (MIN_WIDTH, "-narrow"), (160, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-too-short"), (MIN_HEIGHT, "-short"), (48, "-tall")]

    # What the eye needs, at the least cost (DESIGN.md, "What drawing costs"): the clock at
    # 10 Hz; the task cells and the events at 3.3 Hz (in the article's threads run a bar
    # moves by about an eighth of a character between two repaints, and every row changes in
    # every repaint, so the cells are most of a frame's cost); the cores and parallelism at
    # 1 Hz, the cores chart every 2 s.
    FRAME_S = 0.1
    GRID_EVERY = 3  # frames
    CHART_S = 2.0  # seconds between redraws of the cores chart
    SAMPLE_S = 1.0
    FIRST_FRAME_S = 0.15  # for the first frame's bytes to reach the terminal

    BINDINGS = BINDINGS  # every key, with its footer label: keys.py

    def __init__(self, config: RunConfig, *, source_factory: SourceFactory | None = None,
                 sampler=None, autorun: bool = False, live: bool = True,
                 python_info: dict | None = None, recorder=None) -> None:
        super().__init__()
        self.config = config  # what the controls do not set (python, nice, fail_tasks)
        # about the last minute of history, at the sample rate
        sampler = sampler if sampler is not None else SamplerProcess(
            history=max(2, round(60 / self.SAMPLE_S)))
        self.ctl = Controller(source_factory=source_factory, sampler=sampler, recorder=recorder)
        self.autorun = autorun
        self.live = live
        self.python_info = python_info or config.interpreter()
        self.terminal = Terminal(self._on_signal)
        self.frames = 0  # frames applied while a run went (tests, benchmarks)
        self._pending_events: list = []  # for the event log's next repaint
        self.pacer = FramePacer(self, self.FRAME_S, self.SAMPLE_S)
        self.feed = SampleFeed(self, self.ctl, live)
        self.sweep = Sweep()  # which runs of the session are the scaling sweep's (x)

    sampler = property(lambda self: self.ctl.sampler)
    session = property(lambda self: self.ctl.session)  # the run going now, or None
    results = property(lambda self: self.ctl.results)

    # -- building ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Controls(self.config, id="controls", find_pythons=self.live,
                       python_info=self.python_info, busy=lambda: self.running)
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
                yield ViewTabs(id="view-tabs")
                with Container(id="views", classes="-events"):
                    yield EventLog(id="events")
                    yield ResultsTable(id="results")
                    yield CompareChart(id="compare")
                    yield SweepView(id="sweep")
        # compact: every key the footer shows still fits in 80 columns (q Quit last)
        yield Footer(show_command_palette=False, compact=True)
        yield TooSmall()

    def on_mount(self) -> None:
        self.query_one("#cores").border_title = (
            f"Cores · {self.sampler.cpu_count} usable of {self.sampler.logical_cores}")
        for view in VIEWS:
            self.query_one(f"#{view}").border_title = view.capitalize()
        self._show_ready()
        if self.live:
            self.set_interval(self.SAMPLE_S, self.feed.idle_tick, name="sample")
            self.terminal.install(headless=self.is_headless)

    def on_ready(self) -> None:
        """The first frame is out: a moment later the sampler's process and a --run start."""
        self.set_timer(self.FIRST_FRAME_S, self._after_first_frame)

    def _after_first_frame(self) -> None:
        if self.live:
            self.feed.request()  # the sampler's baseline, in a worker thread
        if self.autorun:
            self.action_run()

    def on_unmount(self) -> None:
        self.shutdown()
        self.terminal.uninstall()

    def _on_signal(self, sig: int) -> None:
        if sig == SIGHUP:
            Terminal.leave_now(self.shutdown)
        self.shutdown()  # at once: the 2 s allowed for stopping start now
        self.exit(128 + sig, return_code=128 + sig)

    controls: Controls = _widget("#controls")
    clock: ElapsedClock = _widget("#elapsed")
    status: StatusLine = _widget("#status")
    grid: TaskGrid = _widget("#task-grid")
    event_log: EventLog = _widget("#events")
    table: ResultsTable = _widget("#results")
    chart: CompareChart = _widget("#compare")
    parallelism: ParallelismPanel = _widget("#parallelism")
    cores: CoresPanel = _widget("#cores")
    sweep_view: SweepView = _widget("#sweep")

    running = property(lambda self: self.ctl.busy)  # a run is going (or stopping)

    # -- frames (10 Hz while a run goes) ----------------------------------------------------

    def tick(self) -> None:
        """One frame: every event since the last frame and the progress now, drawn at once."""
        session = self.ctl.session
        if session is None:
            return
        clock = self.clock
        if self.ctl.stopping:  # the stop worker owns the session until it returns
            clock.set(session.elapsed())
            return
        step = self.ctl.poll()
        grid_due = self.frames % self.GRID_EVERY == 0 or step.finished is not None
        # Cells and the event log repaint together, every GRID_EVERY frames: a new log line
        # scrolls, and so repaints, the whole log; the clock keeps every frame.
        self._pending_events.extend(step.events)
        self._pending_events.extend(note_line(f"note: {text}", "warn") for text in step.notes)
        with self.batch_update():
            self.grid.set_states(session.state, step.changed)
            if grid_due:
                self.grid.update_frame(session.progress())
                if self._pending_events:
                    self.event_log.add_events(self._pending_events)
                    self._pending_events = []
            if step.events and session.started is not None:
                self.parallelism.set_python(session.started.python)
        clock.set(session.elapsed())  # after the batch: it can paint itself at once
        self.frames += 1
        if step.finished is not None:
            self._run_ended(step)

    # -- samples (1 Hz) --------------------------------------------------------------------

    def sample_tick(self) -> None:
        """A sample taken and drawn now (the app without its timers, in tests)."""
        self._draw_sample(self.ctl.sample())

    @on(SampleTaken)
    def _sample_taken(self, message: SampleTaken) -> None:
        try:  # (a query by id is cached: 0.4 us, where a query()'s truth walks the DOM)
            self.cores
        except NoMatches:  # none while the app closes: a late sample has no panel
            return
        self._draw_sample(message.reading)

    def _draw_sample(self, reading) -> None:
        reading = self.ctl.read_run(reading)
        with self.batch_update():
            self.cores.update_sample(reading.sample, reading.history, reading.workers)
            if reading.now is not None:
                self.parallelism.update_live(reading.now, reading.run, reading.processes,
                                             reading.threads, reading.runner_share,
                                             reading.thread_count,
                                             self.ctl.live_breakdown(), reading.cluster)

    # -- runs ------------------------------------------------------------------------------

    def _config_or_refuse(self, any_mode: bool = False) -> RunConfig | None:
        """The controls' config, or None after saying why it cannot run."""
        try:
            return self.controls.checked_config(self.config, any_mode)
        except ConfigError as exc:
            self.status.show_error(f"cannot run: {exc}")
            self.bell()
            return None

    def _start(self, begin) -> None:
        """Start a run with ``begin()`` (the controller's run or compare) and draw it."""
        try:
            begin()
        except StartError as exc:
            self.status.show(f"could not start the run: {exc}")
            return
        self._started()

    def _started(self) -> None:
        session = self.ctl.session
        with self.batch_update():
            self.grid.reset(session.config.tasks)
            self.parallelism.start_run(session.config.mode, session.config.workload)
            self.clock.set(0.0)
            self.clock.add_class("-running")
            self.status.show(self.sweep.running_text(session.config, self.ctl)
                             or running_text(session.config, self.ctl))
            if self.sweep.active:  # the chart, with which worker count runs now
                self.sweep_view.set_caption(self.sweep.progress_text(self.ctl))
            else:
                self.action_view("events")
        self.refresh_bindings()
        self.pacer.schedule()

    def _run_ended(self, step: Step) -> None:
        result = step.finished
        with self.batch_update():
            self.grid.update_frame(None)
            self.clock.set(result.wall_s)
            self.clock.remove_class("-running")
            self.parallelism.finish_run(result.parallelism, result.verdict,
                                        result.thread_time)
            self.table.set_results(self.results)
            self.chart.set_results(self.results)
            swept = self.sweep.active and self._sweep_drawn(step.started is None)
            if step.started is None:
                self.status.show(step.error and f"could not start the run: {step.error}"
                                 or swept and self.sweep.finished_text(self.results)
                                 or finished_text(result, self.ctl, step.compare_done))
                self.action_view("sweep" if swept else "compare" if step.compare_done
                                 else "results")
            if step.compare_done:  # the clock tells the whole compare, and says so
                self.clock.set(sum(r.wall_s for r in self.ctl.last_compare), label="total")
        self.refresh_bindings()
        if step.started is not None:
            self._started()
        else:
            self.call_after_refresh(self.terminal.collect_garbage, True)  # clock stopped

    @on(SessionStopped)
    def _stopped(self, message: SessionStopped) -> None:
        self.tick()

    @work(thread=True, group="stop", exit_on_error=False)
    def _stop_in_thread(self) -> None:
        self.ctl.stop()
        self.post_message(SessionStopped(None))

    def shutdown(self) -> None:
        """Stop the run and everything it started, now (blocks up to ~2 s); idempotent."""
        self.ctl.shutdown()

    def _show_ready(self) -> None:
        self.status.show(ready_text(self.controls.config_or_none(self.config),
                                    self.controls.checking))

    # -- actions ---------------------------------------------------------------------------

    def action_run(self) -> None:
        config = None if self._refused("run") else self._config_or_refuse()
        if config is not None:
            self._start(lambda: self.ctl.run(config))

    def action_compare(self) -> None:
        config = None if self._refused("compare") else self._config_or_refuse(any_mode=True)
        if config is not None:  # the modes this interpreter cannot run are left out, said so
            configs, skipped = runnable(compare_configs(config))
            self.event_log.add_lines([note_line(line, "warn") for line in skipped])
            self._start(lambda: self.ctl.compare(configs))

    def action_sweep(self) -> None:
        """The chosen pooled mode at 1, 2, 4 … workers (``sweep.py``), drawn as it goes."""
        if self._refused("sweep"):
            return
        why = self.sweep.refusal(self.controls.mode)  # a mode with no pool: said, not ignored
        if why is not None:
            self.status.show_note(why)
            return
        config = self._config_or_refuse()
        if config is None:
            return
        configs = self.sweep.begin(config, self.sampler.cpu_count, len(self.results))
        self.sweep_view.show(self.sweep.counts, self.sweep.scaling(()), "starting the sweep…")
        self.action_view("sweep")
        self._start(lambda: self.ctl.compare(configs))
        if not self.ctl.busy:  # it could not start: the status line says why
            self.sweep.end()
            self.sweep_view.set_caption("the sweep could not start (the line above says why)")

    def _sweep_drawn(self, over: bool) -> bool:
        """Draw the sweep's runs so far; ``over``: its last run has ended. True."""
        if over:  # the chart is what is left to study: it takes the tasks' room (z)
            self.sweep.end()
            self.screen.add_class("-zoom")
        self.sweep_view.show(self.sweep.counts, self.sweep.scaling(self.results),
                             self.sweep.caption(self.results) if over
                             else self.sweep.progress_text(self.ctl))
        return True

    def action_stop(self) -> None:
        if self._refused("stop"):
            return
        self.ctl.begin_stop()  # from now on frames leave the session to the stopping thread
        self.status.show("stopping…")
        self.event_log.add_lines([note_line("stopping…", "warn")])
        self.refresh_bindings()
        self._stop_in_thread()

    async def action_quit(self) -> None:
        if not self.running:
            self.exit(0)
            return
        self.status.show("quitting: stopping the run…")
        self.call_after_refresh(self._stop_and_exit)

    def _stop_and_exit(self) -> None:
        self.shutdown()  # blocks up to ~2 s; the screen says why
        self.exit(0)

    # -- events from widgets ---------------------------------------------------------------

    @on(Controls.Changed)
    def _controls_changed(self, event: Controls.Changed) -> None:
        errors = self.controls.errors()  # as they are now, not when the message was sent
        self.status.show_error(next(iter(errors.values())) if errors else None)
        if not self.running:
            self._show_ready()
            if event.field == "tasks" and "tasks" not in errors:
                tasks = int(self.controls.values()["tasks"].strip())
                if tasks != self.grid.tasks:
                    self.grid.reset(tasks)  # a preview of the cells the run will have

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        if event.validation_result is None or event.validation_result.is_valid:
            self.set_focus(None)



#: The app, with its data sources injected (see ``ConcApp``): tests and screenshots build it so.
build_app = ConcApp

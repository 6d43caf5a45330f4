"""The timeline screen (key ``l``): who ran when, and what every worker was waiting for.

At the top the thread view: the workers in each state now and over the run, as stacked
bars large enough for a projector, the verdict, and one cell per worker by its state now.
Below, the timeline: one lane per worker, each task a span from its start to its end,
coloured by what its worker was doing (``monitor.timeline``). It follows the run live and
stays after it for study, until the next run starts.

The layout is worked out in a thread worker, never on the app's thread; ``render`` only
draws what it made. Once a second, or less often when it is costly (10,000 tasks on 500
workers take ~0.15 s of CPU a picture): never more than about a tenth of a core.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from ..monitor.threadwatch import Breakdown, breakdown, worker_unit
from ..monitor.timeline import GLYPHS, Layout, axis, layout, legend
from ..monitor.verdict import verdict_for
from .threads import STATE_STYLES, bar_legend, stacked_bar, strip

STRIP_ROWS = 3  # at most; above, a cell stands for several workers
TALL = 36  # rows from which the stacked bars are two rows high


@dataclass
class Picture:
    """What the view draws, made off the app's thread."""

    title: str
    now: Breakdown | None
    run: Breakdown | None
    verdict: str
    states: list[str]  # each worker's state now (or, once the run ended, over the run)
    lay: Layout
    gil: bool | None
    lock_split: bool
    note: str = ""
    size: tuple[int, int] = (0, 0)  # the view's, when it was made
    done: bool = False


def _worker_states(snap, state, unit: str, over_run: bool) -> list[str]:
    """Each worker's state in the probe's last interval ("ended" once it has gone), or
    (``over_run``) the state it spent the most time in over the run."""
    out = []
    if unit == "process":
        for pid in dict.fromkeys(pid for pid, _ in list(state.workers)):
            p = snap.process(pid)
            if over_run:
                out.append(p.total.state if p is not None and p.total.state else "ended")
            else:
                out.append("ended" if p is None or not p.alive else (p.last.state or "ended"))
    else:
        for key in list(state.workers):
            th = snap.thread(*key)
            if over_run:
                out.append(th.total.state if th is not None and th.total.state else "ended")
            else:
                out.append("ended" if th is None or not th.alive else (th.state or "ended"))
    return [s if s != "off_cpu" else "io_wait" for s in out]


def make_picture(ctl, width: int, height: int) -> Picture | None:
    """The timeline of the controller's current (or last) run for a ``width`` × ``height``
    view. Safe in a worker thread: it reads the run's state and the probe's snapshot."""
    session, watch = ctl.shown, ctl.watch
    if session is None:
        return None
    state, cfg = session.state, session.config
    runner = session.started.pid if session.started is not None else session.runner_pid
    unit = worker_unit(state, runner)
    gil = session.started.python.get("gil_enabled") if session.started is not None else True
    done = session.done or ctl.session is not session
    end_s = session.elapsed()
    now = run = None
    verdict = ""
    states: list[str] = []
    note = ""
    split = True
    if watch is not None and watch.snapshot.available:
        snap = watch.snapshot
        split = snap.lock_split
        run = breakdown(snap, state, runner)
        now = None if done else breakdown(snap, state, runner, live=True)
        states = _worker_states(snap, state, unit, over_run=done)
        cores = session.cpu_count
        shown = now if now is not None else run
        par = shown.total.running_s / shown.wall_s if shown.wall_s > 0 else 0.0
        verdict = verdict_for(par, cores, cfg.workload, cfg.mode, gil, breakdown=shown,
                              where=state.cluster.where).text
        if snap.sampled:
            note = f"sampled: {snap.sampled_fraction:.0%} of thread time read, scaled up"
    else:
        why = watch.snapshot.reason if watch is not None else "this run has no process here"
        note = f"thread states not measured: {why}"
    # The lines above and below the lanes, as TimelineView.render draws them.
    bars = sum(1 for b in (now, run) if b is not None and b.worker_count)
    head = 1 + bars * (1 + (2 if height >= TALL else 1)) + (1 if verdict else 0)
    if states:
        per = max(1, -(-len(states) // ((width - 4) * STRIP_ROWS)))
        head += 1 + -(-(-(-len(states) // per)) // max(1, width - 4))
    head += (1 if note else 0) + 2  # legend, axis
    columns = max(10, width - 8)
    lay = layout(state, watch, end_s, columns, max(1, height - head), unit=unit)
    status = "done" if done else "running"
    title = (f"Timeline · {cfg.mode} · {cfg.workload} · {cfg.tasks} tasks · "
             f"{end_s:.1f} s · {status}")
    return Picture(title, now, run, verdict, states, lay, gil, split, note, (width, height),
                   done)


class TimelineView(Widget):
    """Draws a ``Picture``; the screen hands it a new one every second."""

    DEFAULT_CSS = """
    TimelineView { height: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: clip; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.picture: Picture | None = None

    def show(self, picture: Picture | None) -> None:
        self.picture = picture
        self.refresh()

    def render(self) -> Text:
        p = self.picture
        width = max(20, self.size.width)
        out = Text(no_wrap=True, overflow="crop")
        if p is None:
            out.append("no run yet: press r, then l to see its timeline", "dim")
            return out
        out.append(p.title + "\n", "bold")
        units = p.lay.unit + ("es" if p.lay.unit == "process" else "s")
        tall = self.size.height >= TALL
        for label, b in (("now", p.now), ("run", p.run)):
            if b is None or b.worker_count == 0:
                continue
            out.append(f"{label:<4}", "bold")
            out.append_text(bar_legend(b, p.gil))
            out.append("   ")  # (unstyled: a dim run of spaces is lost in SVG screenshots)
            out.append(f"of {b.worker_count} {b.units()}\n", "dim")
            for _ in range(2 if tall else 1):
                out.append("    ")
                out.append_text(stacked_bar(b, width - 4))
                out.append("\n")
        if p.verdict:
            out.append(p.verdict + "\n", "bold")
        if p.states:
            lines, per = strip(p.states, width - 4, STRIP_ROWS)
            each = f", a cell is {per}" if per > 1 else ", a cell each"
            when = "over the run, the state each was in most" if p.done else "now"
            out.append(f"{units} {when} ({len(p.states)}{each}):\n", "dim")
            for line in lines:
                out.append("    ")
                out.append_text(line)
                out.append("\n")
        if p.note:
            out.append(p.note + "\n", "dim italic")
        lay = p.lay
        for i, (glyph, word) in enumerate(legend(p.gil, p.lock_split)):
            out.append("   " if i else "", "")
            state = next((s for s, g in GLYPHS.items() if g == glyph), "")
            out.append(f"{glyph} {word}", STATE_STYLES.get(state, ""))
        group = f" · {lay.grouped} {units} a row" if lay.grouped > 1 else ""
        out.append("   ")
        out.append(f"lanes: {lay.lanes} {units if lay.lanes != 1 else lay.unit}{group}\n",
                   "dim")
        label_w = max((len(r.label) for r in lay.rows), default=1)
        for row in lay.rows:
            out.append(f"{row.label:>{label_w}} ", "dim")
            for state in row.cells:
                out.append(GLYPHS[state], STATE_STYLES[state])
            out.append("\n")
        # The padding in a span of its own: an SVG export rendered by rsvg squeezes the
        # spaces that lead a span, and the axis would slide under the lane names.
        out.append(" " * (label_w + 1))
        out.append(axis(lay.end_s, lay.width), "dim")
        return out


class TimelineScreen(Screen[None]):
    """The timeline of the run going now, or of the last one."""

    @dataclass
    class Drawn(Message):
        """A picture worked out in the thread worker."""

        picture: Picture | None

    BINDINGS = [
        Binding("l", "app.pop_screen", "Back"),
        Binding("escape", "app.pop_screen", "Back", show=False),
    ]
    REFRESH_S = 1.0
    MAX_SHARE = 0.1  # of a core, for working out pictures

    def __init__(self, ctl) -> None:
        super().__init__()
        self.ctl = ctl
        self._busy = self._again = False
        self._next = 0.0  # monotonic time of the next live redraw

    def compose(self) -> ComposeResult:
        yield TimelineView(id="timeline")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self.redraw)  # once the view has its size
        self.set_interval(self.REFRESH_S, self._tick)

    def on_resize(self) -> None:
        self.redraw()

    def _tick(self) -> None:
        view = self.query_one(TimelineView)
        done = view.picture is not None and view.picture.done and not self.ctl.busy
        if view.picture is None or (not done and time.monotonic() >= self._next):
            self.redraw()

    def redraw(self) -> None:
        """Work the picture out in a thread worker; one at a time."""
        if self._busy:
            self._again = True  # (a resize during a redraw: draw again for the new size)
            return
        view = self.query_one(TimelineView)
        width, height = view.size.width - 2, view.size.height
        if width < 10 or height < 3:
            return  # not laid out yet
        self._busy, self._again = True, False
        self.run_worker(lambda: self._make(width, height), thread=True, group="timeline",
                        exit_on_error=False)

    def _make(self, width: int, height: int) -> None:
        c0 = time.thread_time()
        try:
            picture = make_picture(self.ctl, width, height)
        finally:
            cost = time.thread_time() - c0
            self._next = time.monotonic() + max(self.REFRESH_S, cost / self.MAX_SHARE)
            self._busy = False
        self.post_message(self.Drawn(picture))

    @on(Drawn)
    def _drawn(self, message: Drawn) -> None:
        self.query_one(TimelineView).show(message.picture)
        if self._again:
            self.redraw()

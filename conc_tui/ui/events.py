"""The events log: the article's "17 is done" lines as they arrive, with pid and thread.

A bounded line widget: the app adds one frame's events at a time and the log keeps the last
``MAX_LINES``; drawing costs the lines on screen, never the length of the run.

Every change of ``virtual_size`` is a layout change that reflows the whole screen (~10 ms at
120x40), so the log changes it as seldom as it can: while the lines fit the view the virtual
height is the view's and they are drawn from the top; past that it grows in chunks of
``CHUNK`` lines, with the lines drawn against the bottom. Growing by one line per frame
reflowed the screen ten times a second.
"""
from __future__ import annotations

from collections import deque
from typing import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..monitor import (Event, RunFinished, RunStarted, TaskDone, TaskFailed, TaskOutput,
                       workload_info)
from .lines import ComponentStyles, ThemeColours, split_spaces

MAX_LINES = 2000
CHUNK = 256

#: One line: a list of (text, style name) parts; style names are this widget's components.
Line = tuple[tuple[str, str], ...]


def _where(ev) -> str:
    return f"  pid {ev.pid} thread {ev.tid} at {ev.t:.2f} s"


def event_line(ev: Event | Line) -> Line | None:
    """The log line for one event of a run, or None for events the log does not show."""
    if isinstance(ev, TaskDone):
        return ((f"{ev.id} is done", "text"), (_where(ev), "dim"))
    if isinstance(ev, TaskFailed):
        return ((f"{ev.id} failed: {ev.error}", "error"), (_where(ev), "dim"))
    if isinstance(ev, TaskOutput):  # what the user's function printed
        return ((f"{ev.id} │ ", "dim"), (ev.text, "text"))
    if isinstance(ev, RunStarted):
        gil = ev.python.get("gil_enabled")
        gil_text = "GIL on" if gil else ("GIL off" if gil is not None else "GIL ?")
        # what each task runs, as the registry labels it (no sleep for cpu, no n for io)
        label = workload_info(ev.workload).label(ev.n, ev.sleep)
        head = f"▶ {ev.mode} · {ev.workload} · {ev.tasks} × {label} · workers={ev.workers}"
        tail = (f"  runner pid {ev.pid} · {ev.python.get('implementation', 'Python')} "
                f"{ev.python.get('version', '?')} · {gil_text} · {ev.cpu_count} cores")
        return ((head, "head"), (tail, "dim"))
    if isinstance(ev, RunFinished):
        style = {"ok": "ok", "failed": "error", "cancelled": "warn"}.get(ev.status, "text")
        text = f"■ run {ev.status} after {ev.wall_s:.2f} s"
        extra = ""
        if ev.cpu_s is not None and ev.wall_s > 0:
            extra = f"  CPU {ev.cpu_s:.2f} s · parallelism {ev.cpu_s / ev.wall_s:.2f}"
        if ev.error:
            extra += f"  {ev.error}"
        return ((text, style), (extra, "dim"))
    if isinstance(ev, tuple):  # a line already: a note of the app's or the reducer's
        return ev
    return None  # (an unreadable line is said by the reducer's note)


def note_line(text: str, style: str = "dim") -> Line:
    """A line the app itself adds (e.g. "stopping…")."""
    return ((text, style),)


class EventLog(ThemeColours, ComponentStyles, ScrollView, can_focus=True):
    """The last ``max_lines`` event lines; follows the end unless scrolled back."""

    DEFAULT_CSS = """
    EventLog {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    EventLog > .event-log--text { }
    EventLog > .event-log--dim { color: $text-muted; }
    EventLog > .event-log--head { color: $text-primary; text-style: bold; }
    EventLog > .event-log--ok { color: $text-success; text-style: bold; }
    EventLog > .event-log--warn { color: $text-warning; text-style: bold; }
    EventLog > .event-log--error { color: $text-error; text-style: bold; }
    """

    COMPONENT_CLASSES = {"event-log--text", "event-log--dim", "event-log--head",
                         "event-log--ok", "event-log--warn", "event-log--error"}

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lines: deque[Line] = deque(maxlen=max_lines)
        self._max_lines = max_lines
        self._height = 0  # virtual height (see the module docstring)
        self._follow = True  # at the end when lines were last added: keep following
        self._strips: dict[Line, Strip] = {}  # built lines: scrolling reuses them

    def add_events(self, events: Iterable[Event]) -> int:
        """Add the lines of a frame's events; returns how many lines were added."""
        return self.add_lines(filter(None, map(event_line, events)))

    def add_lines(self, lines: Iterable[Line]) -> int:
        at_end = self._follow = self.scroll_offset.y >= self.max_scroll_y
        before = len(self.lines)
        self.lines.extend(lines)
        added = len(self.lines) - before
        if not added and before < self._max_lines:
            return 0
        self._fit_height()
        if at_end:
            # force: the scrollbar may not be laid out yet for lines added this frame
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        self.refresh()
        return added

    def _fit_height(self) -> None:
        """The virtual height for the lines now: the view's while they fit it (no scrollbar),
        else whole chunks of lines (up to ``max_lines``), drawn against the bottom."""
        count, view = len(self.lines), self.size.height
        if count <= view or not view:  # hidden (no size yet): lay out when it shows
            height = view
        else:
            height = min(self._max_lines, -(-count // CHUNK) * CHUNK)
        if height != self._height:
            self._height = height
            self.virtual_size = Size(0, height)

    def on_resize(self) -> None:
        self._fit_height()
        if self._follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def clear(self) -> None:
        self.lines.clear()
        self._fit_height()
        self.refresh()

    # The lines sit against the bottom of a virtual height grown in chunks (see the module
    # docstring): scrolling stops at the first line, so Home never shows an empty pane.
    def validate_scroll_y(self, value: float) -> float:
        return max(float(self._top()), super().validate_scroll_y(value))

    def validate_scroll_target_y(self, value: float) -> float:
        return max(float(self._top()), super().validate_scroll_target_y(value))

    def _top(self) -> int:
        """The virtual line of the first log line."""
        count = len(self.lines)
        return 0 if count <= self.size.height else self._height - count

    @property
    def plain(self) -> list[str]:
        """The lines as plain text (tests)."""
        return ["".join(text for text, _ in line) for line in self.lines]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = {}

    def _style(self, name: str) -> Style:
        return self.component_style(f"event-log--{name}", on_base=True)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y - self._top()
        base = self.rich_style
        if not 0 <= index < len(self.lines):
            return Strip.blank(width, base)
        line = self.lines[index]
        strip = self._strips.get(line)
        if strip is None:
            if len(self._strips) > 4 * CHUNK:
                self._strips.clear()
            strip = Strip(split_spaces([Segment(text, self._style(name)) for text, name in line
                                        if text], base))
            self._strips[line] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, base)

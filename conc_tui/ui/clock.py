"""The elapsed clock, and the one-line status under the controls.

Both are cheap line widgets: setting a value refreshes only their own region, never the layout
(DESIGN.md: a 10 Hz clock through ``Static.update`` re-lays out the screen and costs 8.8% CPU;
refreshing its own line costs 1.3%).

Even refreshing its own line goes through a screen update, and Textual's screen update renders
every widget whose clipping region meets the change: the screen, each of its children and
their children down to the clock, seven widgets and ~80 lines from their caches, 0.7 ms. Ten
times a second that was the largest single part of the app's CPU during a run in which little
else moves. So while nothing covers it, the clock writes its own line to the terminal (0.1
ms), the way Textual's compositor writes any region, and falls back to a refresh otherwise.
"""
from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

try:  # the compositor's own update for one region; Textual's, not public
    from textual._compositor import LayoutUpdate
except ImportError:  # pragma: no cover - another Textual: every repaint is a refresh
    LayoutUpdate = None

from .lines import ComponentStyles, ThemeColours


def format_elapsed(seconds: float) -> str:
    """``12.3 s``; past a minute ``1:02.3``; past an hour ``1:02:03.4``."""
    tenths = int(max(0.0, seconds) * 10 + 1e-6)
    s, t = divmod(tenths, 10)
    if s < 60:
        return f"{s}.{t} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}:{s:02d}.{t}"
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}.{t}"


class ElapsedClock(ThemeColours, ComponentStyles, Widget):
    """Seconds since the run started, to a tenth; ``text`` is what the screen shows.

    It repaints ten times a second during a run, so it draws its one line itself (three
    segments, right-aligned) instead of laying out a ``Text`` each time.
    """

    DEFAULT_CSS = """
    ElapsedClock {
        width: 19;
        height: 1;
        text-align: right;
        padding: 0 1;
    }
    ElapsedClock > .elapsed-clock--label { color: $text-muted; }
    ElapsedClock.-running { color: $text-warning; text-style: bold; }
    """

    COMPONENT_CLASSES = {"elapsed-clock--label"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.value = 0.0  # seconds, as last set
        self.text = format_elapsed(0.0)
        self.label = "elapsed"  # what the seconds are: "elapsed", or a compare's "total"
        self.updates = 0  # how often the shown text changed (tests, benchmarks)
        #: Write the line straight to the terminal when it can (``_paint``); None: only with
        #: a real terminal (a headless app draws nothing but through its compositor).
        self.direct: bool | None = None
        self.painted = 0  # how many of the updates were written that way (tests, benchmarks)
        self._looked_at: dict | None = None  # the arrangement of the screen last looked at
        self._shown_at: Region | None = None  # and where it showed all of the clock

    def set(self, seconds: float, label: str = "elapsed") -> None:
        """Show ``seconds``; repaints only when the shown tenth (or the label) changes."""
        self.value = seconds
        text = format_elapsed(seconds)
        if text != self.text or label != self.label:
            self.text = text
            self.label = label
            self.updates += 1
            if not self._paint():
                self.refresh()

    def _paint(self) -> bool:
        """Write the clock's line to the terminal now, if the screen shows all of it and no
        screen update is held back; False to leave it to a refresh."""
        app = self.app
        direct = self.direct if self.direct is not None else not app.is_headless
        if not direct or LayoutUpdate is None or app._batch_count:
            return False
        screen = self.screen
        try:
            if app.screen is not screen or screen._layout_required:
                return False
            widgets = screen._compositor.visible_widgets
            if widgets is not self._looked_at:  # a new arrangement: look at it once
                self._looked_at, self._shown_at = widgets, self._uncovered(widgets)
            region = self._shown_at
            if region is None:
                return False
            self._styles_cache.clear()  # a later screen update renders the new text too
            strips = self.render_lines(Region(0, 0, region.width, region.height))
            app._display(screen, LayoutUpdate([[strip] for strip in strips], region))
        except AttributeError:  # pragma: no cover - another Textual's internals
            self.direct = False
            return False
        self.painted += 1
        return True

    def _uncovered(self, widgets: dict) -> Region | None:
        """The clock's region on the screen if all of it shows in this arrangement of the
        screen (``visible_widgets``, front to back), else None."""
        if self not in widgets:
            return None
        region, clip = widgets[self]
        if clip.intersection(region) != region:
            return None  # cut by its container: the compositor knows the rest
        for widget, (other, other_clip) in widgets.items():
            if widget is self:
                return region
            if other.intersection(other_clip).overlaps(region):
                return None  # something is drawn over it (a menu, a toast)
        return region

    def render_line(self, y: int) -> Strip:
        # (rich_style walks the ancestors' styles: kept until the styles change)
        base = self.memo_style("base", lambda: self.rich_style)
        width = self.content_region.width
        if y:
            return Strip.blank(width, base)
        text, name = self.text, self.label + " "
        pad = width - len(text) - len(name)
        if pad < 0:  # too narrow for the label: the time alone, cut to fit
            return Strip([Segment(text, base)]).crop_extend(0, width, base)
        label = self.component_style("elapsed-clock--label", on_base=True)
        segments = [Segment(name, label), Segment(text, base)]
        if pad:
            segments.insert(0, Segment(" " * pad, base))
        return Strip(segments, width)


class StatusLine(Widget):
    """One line under the controls: what the app is doing, or why an input is refused."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        color: $text-muted;
    }
    StatusLine.-error { color: $text-error; text-style: bold; }
    """

    NOTE_S = 4.0  # how long a note (why a key did nothing) stays

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text = ""
        self.error: str | None = None
        self.note: str | None = None
        self._note_timer = None

    def show(self, text: str) -> None:
        """The app's own status (shown whenever no input is refused); news of the app's
        own replaces a note about a key."""
        if text != self.text:
            self.text = text
            if self.note is not None:
                self.clear_note()
            self.refresh()

    def show_note(self, note: str) -> None:
        """Say for a few seconds why a key did nothing; then the status comes back."""
        self.note = note
        if self._note_timer is not None:
            self._note_timer.stop()
        self._note_timer = self.set_timer(self.NOTE_S, self.clear_note)
        self.refresh()

    def clear_note(self) -> None:
        if self._note_timer is not None:
            self._note_timer.stop()
        self.note = None
        self._note_timer = None
        self.refresh()

    def show_error(self, error: str | None) -> None:
        """Why an input is refused, or None once every input is valid."""
        if error != self.error:
            self.error = error
            self.set_class(error is not None, "-error")
            self.refresh()

    @property
    def shown(self) -> str:
        if self.error:
            return f"✗ {self.error}"
        return f"▸ {self.note}" if self.note else self.text

    def render(self) -> Text:
        return Text(fit_status(self.shown, self.content_region.width), no_wrap=True,
                    overflow="ellipsis")


def fit_status(text: str, width: int) -> str:
    """``text`` for ``width`` columns: its last " — " parts (the hints) go first, so what
    happened stays whole; only a first part longer than the line is cut."""
    parts = text.split(" — ")
    while len(parts) > 1 and len(" — ".join(parts)) > width > 0:
        parts.pop()
    return " — ".join(parts)

"""The app's plotext charts: textual-plotext's widget, drawn straight from plotext's output.

``PlotextPlot.render`` hands Textual plotext's ANSI text, which goes through Rich's general ANSI
decoder, a ``Text``, Textual's ``Content`` and its line splitting on every repaint: about half
of a chart redraw's cost, on top of plotext itself. plotext writes only a few kinds of escape
(24-bit and 256-colour foreground and background, bold, reset), so ``Chart`` decodes them into
strips itself, once per redraw, and serves repaints from those strips. Anything else in the
output falls back to the library's own path.
"""
from __future__ import annotations

import re

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual_plotext import PlotextPlot

from .lines import SPACES

_SGR = re.compile(r"\x1b\[([0-9;]*)m")

def _colour(params: list[str], i: int) -> tuple[Color, int] | None:
    """The colour that an SGR 38/48 at ``params[i]`` sets, and how many params it took."""
    kind = params[i + 1] if i + 1 < len(params) else ""
    if kind == "2" and i + 4 < len(params):
        r, g, b = (int(p) for p in params[i + 2:i + 5])
        return Color.from_rgb(r, g, b), 5
    if kind == "5" and i + 2 < len(params):
        return Color.from_ansi(int(params[i + 2])), 3
    return None


def decode_line(line: str, base: Style, memo: dict) -> list[Segment] | None:
    """One line of plotext's output as segments on ``base``; None if it holds an escape
    this decoder does not know. ``memo`` keeps the styles, by (fg, bg, bold, kind).

    Runs of spaces get segments of their own in a background-only style: the same on a
    terminal, and an SVG screenshot neither merges them into the text around them nor has
    rsvg squeeze them out of it (it does, inside a text run).
    """
    segments: list[Segment] = []
    fg = bg = None
    bold = False

    def add(text: str) -> None:
        for part in SPACES.split(text):
            if not part:
                continue
            blank = part[0] == " "
            key = (None, bg, False, True) if blank else (fg, bg, bold, False)
            style = memo.get(key)
            if style is None:
                style = memo[key] = (base.background_style + Style(bgcolor=bg) if blank else
                                     base + Style(color=fg, bgcolor=bg, bold=bold or None))
            segments.append(Segment(part, style))

    pos = 0
    for match in _SGR.finditer(line):
        if match.start() > pos:
            add(line[pos:match.start()])
        pos = match.end()
        params = match.group(1).split(";") if match.group(1) else ["0"]
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("0", ""):
                fg = bg = None
                bold = False
            elif p == "1":
                bold = True
            elif p == "22":
                bold = False
            elif p == "39":
                fg = None
            elif p == "49":
                bg = None
            elif p in ("38", "48"):
                found = _colour(params, i)
                if found is None:
                    return None
                colour, used = found
                if p == "38":
                    fg = colour
                else:
                    bg = colour
                i += used
                continue
            else:
                return None
            i += 1
    if pos < len(line):
        add(line[pos:])
    return segments


class Chart(PlotextPlot):
    """A ``PlotextPlot`` that builds its chart once per redraw, as strips.

    Use it like ``PlotextPlot`` (``plt``, then ``refresh()``); every ``refresh()`` builds the
    chart anew at the next repaint, and repaints in between reuse the strips.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._strips: list[Strip] | None = None
        self._built_for: tuple | None = None
        self._memo: dict[tuple, Style] = {}
        self._fallback = False
        self.builds = 0  # how many times the chart was built (tests)

    def refresh(self, *regions, **kwargs):
        if not regions:
            self._strips = None
        return super().refresh(*regions, **kwargs)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = None
        self._memo = {}

    def _build(self) -> list[Strip] | None:
        width, height = self.size
        plot = self._plot
        plot.plotsize(width, height)
        plot._set_size(width, height)  # as PlotextPlot.render does (its issue #5)
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        text = plot.build()
        base = self.rich_style
        strips = []
        for line in text.split("\n")[:height]:
            segments = decode_line(line, base, self._memo)
            if segments is None:
                return None
            strips.append(Strip(segments).adjust_cell_length(width, base))
        strips.extend(Strip.blank(width, base) for _ in range(height - len(strips)))
        self.builds += 1
        return strips

    def render_line(self, y: int) -> Strip:
        key = (self.size, self.app.theme)
        if self._strips is None or key != self._built_for:
            self._built_for = key
            self._strips = self._build() or []
            self._fallback = not self._strips
        if self._fallback:
            return super().render_line(y)  # an escape we do not decode: the library's way
        return self._strips[y] if 0 <= y < len(self._strips) else Strip.blank(self.size.width)

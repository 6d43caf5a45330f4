"""What the screen says when the terminal is smaller than the smallest size that works.

Below 80x24 the panels collapse (at 23 rows the events view gets no line at all, below 80
columns the footer and the results table are cut), so rather than draw them half, the app
covers them with one sentence. The app's breakpoints (``-too-narrow``, ``-too-short``) show
this cover and hide the rest (app.tcss); the sentence is drawn from the size now, so it
follows every resize without a handler.
"""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

MIN_WIDTH, MIN_HEIGHT = 80, 24


def too_small_text(width: int, height: int) -> str:
    return (f"terminal too small: needs {MIN_WIDTH}x{MIN_HEIGHT}, this is {width}x{height}"
            " — enlarge it, or use 'conc-tui run'; q quits")


class TooSmall(Widget):
    """The cover shown instead of the panels when the terminal is too small."""

    DEFAULT_CSS = """
    TooSmall {
        display: none;
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        text-align: center;
        text-style: bold;
        padding: 0 1;
    }
    """

    def render(self) -> Text:
        width, height = self.app.size
        return Text(too_small_text(width, height))

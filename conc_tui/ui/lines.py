"""What the app's own line widgets share: theme colours only, styles worked out once, and
spaces kept apart.

Textual passes every new line of every widget through its ANSI-to-truecolor filter, which
rewrites each segment's style; for a line drawn only in theme colours (already truecolor, never
``dim``) that is a copy that changes nothing, made for every repainted line at up to 10 Hz.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.filter import ANSIToTruecolor, LineFilter

SPACES = re.compile("( +)")  # a run of spaces, kept by split()


class ThemeColours:
    """Mixin for a widget whose lines use only theme colours: skip the ANSI conversion.

    Every other filter (NO_COLOR's monochrome, a dim screen behind a dialog) still applies.
    """

    def get_line_filters(self) -> Sequence[LineFilter]:
        return [f for f in super().get_line_filters() if not isinstance(f, ANSIToTruecolor)]


class ComponentStyles:
    """Mixin: a widget's styles worked out once, until its styles change (a class, the theme).

    ``component_style`` resolves one of the widget's component classes (on its own style with
    ``on_base``); ``memo_style`` keeps any other style the widget derives from them.
    """

    _style_memo: dict | None = None

    def memo_style(self, key, make: Callable[[], Style]) -> Style:
        memo = self._style_memo
        if memo is None:
            memo = self._style_memo = {}
        style = memo.get(key)
        if style is None:
            style = memo[key] = make()
        return style

    def component_style(self, name: str, *, partial: bool = True,
                        on_base: bool = False) -> Style:
        def make() -> Style:
            style = self.get_component_rich_style(name, partial=partial)
            return self.rich_style + style if on_base else style

        return self.memo_style((name, partial, on_base), make)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_memo = None


def split_spaces(segments: Iterable[Segment], blank: Style) -> list[Segment]:
    """Runs of spaces as segments of their own, in the ``blank`` style.

    Same look in a terminal; but an SVG export rendered by rsvg squeezes the spaces of a
    mixed text run, which shifts everything after them in a screenshot.
    """
    out: list[Segment] = []
    for seg in segments:
        text = seg.text
        if " " not in text or not text.strip(" "):
            out.append(seg)
            continue
        for part in SPACES.split(text):
            if part:
                out.append(Segment(part, blank if part[0] == " " else seg.style))
    return out

"""Every key of the app in one place: the footer shows those marked ``show``, the help
screen and the README list them all (tests/test_app.py checks that each is documented)."""
from __future__ import annotations

from textual.binding import Binding

from ..monitor import MODES

BINDINGS = [
    Binding("r", "run", "Run"),
    Binding("s", "stop", "Stop"),
    Binding("c", "compare", "Compare"),
    Binding("x", "sweep", "Sweep"),
    *[Binding(str(i + 1), f"mode({i})", mode, group=Binding.Group("mode"))
      for i, mode in enumerate(MODES)],
    Binding("w", "cycle_workload", "Workload"),
    Binding("l", "timeline", "Timeline", show=False),
    Binding("question_mark", "help", "Help"),
    Binding("q", "quit", "Quit"),
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    Binding("e", "view('events')", "Events", show=False),
    Binding("t", "view('results')", "Results", show=False),
    Binding("g", "view('compare')", "Compare chart", show=False),
    Binding("X", "view('sweep')", "Sweep chart", show=False),
    Binding("z", "zoom", "Zoom the views", show=False),
    Binding("v", "save", "Save the results", show=False),
    Binding("escape", "leave_input", show=False),
    # In a field where letters type (free text, not a number), the app's letters cannot
    # act: these do instead, and the footer shows them only there.
    Binding("ctrl+r", "field_key('run')", "Run", key_display="^r"),
    Binding("ctrl+o", "field_key('compare')", "Compare", key_display="^o"),
    Binding("ctrl+t", "field_key('stop')", "Stop", key_display="^t"),
]

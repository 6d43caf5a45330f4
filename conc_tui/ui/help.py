"""The help screen: each mode, workload, panel and key in a sentence."""
from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..monitor import MODE_LIST, WORKLOAD_LIST

PANELS = (
    ("Cores", "the load of every core over about the last minute, and now; threads under "
              "the GIL keep about one core busy in total, processes fill them all."),
    ("Parallelism", "CPU seconds per wall second of the run's processes, in the last moment "
                    "and over the whole run, against the usable cores, with a plain verdict."),
    ("Tasks", "one cell per task: its id and a bar for its progress; grey waiting, yellow "
              "running, green done, red failed, blue italic cancelled (running when the "
              "run was stopped). Without colour a mark says it: · ▸ ✓ ✗ ⊘. Many tasks "
              "shrink to one glyph each."),
    ("Events", "the article's \"17 is done\" as each task ends, with its process and thread; "
               "failures in red with their error."),
    ("Results", "every run of this session: wall and CPU time, parallelism, and the speedup "
                "against a sequential run of the same work."),
    ("Compare", "the wall time of each mode beside the ideal for this machine (the work "
                "spread over every core, or every task waiting at once)."),
    ("Sweep", "speedup against workers from the last sweep (x): measured, the ideal "
              "(speedup = workers) and Amdahl's law fitted to the points."),
    ("your code", "type your own function, path/to/file.py:func or module:func, and press "
                  "enter: it is checked under the chosen python (as 'conc-tui run "
                  "--workload' checks it) and, if it can run, becomes the workload; if not, "
                  "the field turns red and the line under the controls says why."),
    ("elapsed", "seconds since the run started, to a tenth; it never stops while a run goes, "
                "because the work runs in another process at low priority."),
)

KEYS = (
    ("r", "run the chosen mode and workload"),
    ("s", "stop the run (and a compare) within two seconds"),
    ("c", "compare: run every mode in turn, sequential first, for the chosen workload"),
    (f"1–{len(MODE_LIST)}", "pick the mode: " + ", ".join(f"{i + 1} {m.name}" for i, m in enumerate(MODE_LIST))),
    ("w", "next workload (cpu, io, mixed, then your own functions)"),
    ("x", "sweep: run the chosen pooled mode at 1, 2, 4 … workers (up to twice the usable "
          "cores) and draw speedup against workers, beside the ideal and Amdahl's law "
          "fitted to it, with the serial fraction and the most it allows; s stops it"),
    ("X", "show the last sweep's chart again (it stays after the sweep)"),
    ("l", "the timeline: what every thread or process was doing (running, waiting for a "
          "core, on the GIL, sleeping), and which task ran when; l or escape comes back"),
    ("e t g", "show Events, Results (table) or Compare (graph) when they share a tab"),
    ("v", "save every run of the session as JSON and CSV in the working directory "
          "(conc-tui-results-<time>.json and .csv; the status line names them)"),
    ("z", "zoom: the events, results and compare views take the tasks panel's room; "
          "z again gives it back"),
    ("tab", "move through the controls, then the panels (shift+tab back); in a number "
            "field the letters above stay keys; enter or escape leaves it"),
    ("^r ^o ^t", "ctrl+r, ctrl+o, ctrl+t: run, compare, stop from a field where letters "
                 "type (the footer shows them there)"),
    ("↑↓ PgUp", "↑/↓, PgUp/PgDn, Home/End scroll the focused panel, and this help"),
    ("?", "this help (escape, q or ? closes it)"),
    ("q", "quit (ctrl+c too); the run is stopped first"),
)


def _section(title: str, rows) -> list:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for name, text in rows:
        grid.add_row(name, text)
    return [Text(title, style="bold underline"), grid, Text("")]


def help_text() -> Group:
    """The help as one renderable: a sentence, then a table per section."""
    intro = Text.assemble(("conc-tui", "bold"), (
        " makes Python concurrency visible: pick a mode and a workload, press r, and watch "
        "the cores, the tasks and the effective parallelism.\n"))
    parts = [intro]
    parts += _section("Modes", [(f"{i + 1} {m.name}", m.help) for i, m in enumerate(MODE_LIST)])
    parts += _section("Workloads", [(w.name, w.help) for w in WORKLOAD_LIST])
    parts += _section("Panels", PANELS)
    parts += _section("Keys", KEYS)
    parts.append(Text("Inputs are checked as you type, with the same rules as 'conc-tui run'; "
                      "a run cannot start while one is refused.", style="italic"))
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    """What everything means; any of escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 96%;
        max-width: 110;
        height: 90%;
        border: round $primary;
        border-title-color: $text;
        background: $surface;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]
    # The text takes the focus, so ↑/↓, PgUp/PgDn, Home/End scroll it at once.
    AUTO_FOCUS = "VerticalScroll"

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help · ↑↓ PgUp PgDn scroll · escape closes"
            yield Static(help_text(), markup=False)

    def action_close(self) -> None:
        self.dismiss(None)

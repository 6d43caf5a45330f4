"""The controls: mode, interpreter, workload, your own function, tasks, n, sleep, workers.

Every input is checked by the same parser the command line uses (``monitor.config.PARSERS``),
so the app refuses exactly what ``conc-tui run`` refuses, with the same reason; your own
function by the same check too, off the app's thread (``own.py``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from ..monitor import MODES, WORKLOADS, workload_info
from ..monitor.config import PARSERS, ConfigError, RunConfig
from .interpreters import InterpreterSelect
from .own import ACCEPTED, CHECKING, REFUSED, UNCHECKED, OwnFunction

#: The typed fields, in screen order, with their widths and the characters they take.
INPUTS = (("tasks", 7, "0123456789"), ("n", 7, "0123456789"), ("sleep", 6, "0123456789."),
          ("workers", 7, "0123456789"))


class NumberInput(Input):
    """An input for a number that types only the characters of one.

    Any other letter is not consumed but goes on to the app, so r, c, s, q, w, ?... act as
    keys while a number field has the focus (typing r into the tasks field made it "0r").
    """

    def __init__(self, value: str, *, chars: str, **kwargs) -> None:
        # Focus puts the cursor at the end and selects nothing: after a refused run the
        # field takes the focus, and the next key must not replace what was typed.
        super().__init__(value, restrict=f"[{chars}]*", select_on_focus=False, **kwargs)
        self.chars = chars

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character is not None and character in self.chars

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character not in self.chars:
            event.prevent_default()  # Input's own handler would type it
            return  # it bubbles on to the app's bindings
        await super()._on_key(event)


class FieldValidator(Validator):
    """A Textual validator around one of the CLI's parsers."""

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field

    def validate(self, value: str) -> ValidationResult:
        try:
            PARSERS[self.field](value)
        except ConfigError as exc:
            return self.failure(str(exc), value)
        return self.success()


def _text(field: str, config: RunConfig) -> str:
    value = getattr(config, field)
    if field == "workers":
        return "" if value is None else str(value)  # empty: auto (its placeholder says so)
    if field == "sleep":
        return f"{value:g}"
    return str(value)


class Controls(Widget):
    """The run's settings; ``config(base)`` turns them into a RunConfig or says why not."""

    DEFAULT_CSS = """
    Controls {
        height: 2;
        layout: horizontal;
    }
    Controls > .field {
        width: auto;
        height: 2;
        margin-right: 1;
    }
    Controls > .field > Label {
        color: $text-muted;
        height: 1;
    }
    Controls > .field.-focused > Label {
        color: $text;
        background: $accent;
        text-style: bold reverse;
    }
    Controls Select:focus > SelectCurrent, Controls Input:focus {
        background: $accent 35%;
        text-style: bold;
    }
    Controls #mode { width: 19; }
    Controls #python { width: 10; }
    Controls #workload { width: 10; }
    Controls > .field.-own { width: 1fr; min-width: 11; max-width: 60; }
    /* 80 columns: the fields touch, so that your own function still has 11 of them */
    Controls.-tight > .field { margin-right: 0; }
    Controls.-tight > .field.-own { margin-right: 1; }
    """

    TIGHT_BELOW = 100  # columns: below, the fields give up the space between them

    @dataclass
    class Changed(Message):
        """A control changed; ``errors`` maps each refused field to its reason."""

        controls: "Controls"
        field: str
        errors: dict

    def __init__(self, config: RunConfig, *, id: str | None = None,
                 classes: str | None = None, find_pythons: bool = True,
                 python_info: dict | None = None, busy=lambda: False) -> None:
        super().__init__(id=id, classes=classes)
        self._initial = config
        self._find_pythons = find_pythons  # off for deterministic tests and screenshots
        self._python_info = python_info  # the interpreter shown first (the app's)
        self._busy = busy  # a run is going: the interpreter search waits for its end
        own = config.workload if is_own(config.workload) else None
        #: Your own functions, as the workload list offers them: the one given on the
        #: command line, then each one accepted in the field.
        self.own_specs: list[str] = [own] if own else []
        #: (interpreter, function) pairs the field's check accepted: a run of one of them
        #: does not check it again on the app's thread.
        self._accepted: set[tuple[str, str]] = set()

    def compose(self) -> ComposeResult:
        cfg = self._initial
        with Vertical(classes="field"):
            yield Label("mode")
            yield Select([(m, m) for m in MODES], value=cfg.mode, allow_blank=False,
                         compact=True, id="mode")
        with Vertical(classes="field"):
            yield Label("python")
            yield InterpreterSelect(cfg, search=self._find_pythons, info=self._python_info,
                                    busy=self._busy, id="python")
        with Vertical(classes="field"):
            yield Label("workload")
            yield Select([(w, w) for w in self.workloads], value=cfg.workload,
                         allow_blank=False, compact=True, id="workload")
        with Vertical(classes="field -own"):
            yield Label("your code")
            yield OwnFunction(self.own_specs[0] if self.own_specs else "",
                              python=self._python, id="own", compact=True,
                              placeholder="file.py:func", tooltip=_TIPS["own"])
        for field, width, chars in INPUTS:
            with Vertical(classes="field"):
                yield Label(field)
                yield NumberInput(_text(field, cfg), chars=chars, id=field, compact=True,
                                  placeholder="auto" if field == "workers" else "",
                                  validators=[FieldValidator(field)],
                                  validate_on=["changed", "submitted", "blur"],
                                  tooltip=_TIPS[field]).set_styles(f"width: {width};")

    def on_mount(self) -> None:
        if self.own.spec:  # the command line's function: checked as if typed
            self.own.check(typed=False)

    def on_resize(self) -> None:
        self.set_class(self.size.width < self.TIGHT_BELOW, "-tight")

    # -- reading ---------------------------------------------------------------------

    @property
    def own(self) -> OwnFunction:
        return self.query_one("#own", OwnFunction)

    def _python(self) -> str:
        """The interpreter the next run uses (as a path: what the check runs)."""
        return self.interpreter.python or sys.executable

    def values(self) -> dict[str, str]:
        """The text of every control, as typed."""
        out = {f: str(self.query_one(f"#{f}", Select).value) for f in ("mode", "workload")}
        for field, _, _ in INPUTS:
            out[field] = self.query_one(f"#{field}", Input).value
        return out

    def errors(self) -> dict[str, str]:
        """Each field whose value would be refused, with the reason (empty when all valid);
        with valid values, also a mode or ``gil`` the chosen interpreter cannot run."""
        out = {}
        for field, text in self.values().items():
            try:
                PARSERS[field](text)
            except ConfigError as exc:
                out[field] = str(exc)
        if self.own.state == REFUSED:
            out["own"] = self.own.error or f"{self.own.spec} cannot be run"
        if not out:
            try:
                refused = self.config(self._initial).refusal()
            except ConfigError as exc:
                refused = (exc.field, str(exc))
            if refused is not None:
                field, why = refused
                out[field] = why + (" — pick a newer python" if field == "mode" else "")
        return out

    def config(self, base: RunConfig) -> RunConfig:
        """``base`` with the controls' values; raises ConfigError for the first bad one."""
        changes = {field: PARSERS[field](text) for field, text in self.values().items()}
        return base.replace(python=self.interpreter.python, **changes)

    @property
    def interpreter(self) -> InterpreterSelect:
        return self.query_one("#python", InterpreterSelect)

    def config_or_none(self, base: RunConfig) -> RunConfig | None:
        try:
            return self.config(base)
        except ConfigError:
            return None

    def checked_config(self, base: RunConfig, any_mode: bool = False) -> RunConfig:
        """``base`` with the controls' values, every field checked as a run would check it
        (``any_mode``: but the mode, which a compare does not use); on a refusal the field
        at fault takes the focus, and ConfigError says why."""
        try:
            errors = {f: why for f, why in self.errors().items()
                      if not (any_mode and f == "mode")}
            if errors:
                raise ConfigError(*next(iter(errors.items())))
            self._own_pending()
            config = self.config(base)
            # A function the field's check accepted is not checked again here: that would
            # be a probe process on the app's thread. The runner still says if it fails.
            checked = config.replace(mode=MODES[0]) if any_mode else config
            if (config.python_executable, config.workload) in self._accepted:
                checked = checked.replace(workload=WORKLOADS[0])
            checked.validated()
            return config
        except ConfigError as exc:
            fields = self.query(f"#{exc.field}")
            if fields:
                fields.first().focus()
            raise

    def _own_pending(self) -> None:
        """ConfigError while the function typed in the field is not checked yet (and start
        its check if nothing has): a run must not start with the workload before it."""
        own = self.own
        if own.state == UNCHECKED:
            own.check()
        if own.state == CHECKING:
            raise ConfigError("own", f"checking {own.spec} first: run again once it is "
                                     "accepted")

    # -- writing ---------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return str(self.query_one("#mode", Select).value)

    @mode.setter
    def mode(self, mode: str) -> None:
        self.query_one("#mode", Select).value = PARSERS["mode"](mode)

    @property
    def workload(self) -> str:
        return str(self.query_one("#workload", Select).value)

    @workload.setter
    def workload(self, workload: str) -> None:
        self.query_one("#workload", Select).value = PARSERS["workload"](workload)

    @property
    def workloads(self) -> list[str]:
        """The built-in workloads, then your own functions: the one the app was started with
        (``--workload file.py:FUNCTION``) and each one accepted in the field."""
        return list(WORKLOADS) + self.own_specs

    def cycle_workload(self) -> str:
        """Move to the next workload (cpu → io → mixed → your own, if any → cpu)."""
        choices = self.workloads
        nxt = choices[(choices.index(self.workload) + 1) % len(choices)]
        self.workload = nxt
        return nxt

    def set_value(self, field: str, text: str) -> None:
        """Type ``text`` into ``field`` (tests, scripted demos); it is validated as typed."""
        if field in ("mode", "workload"):
            setattr(self, field, text)
        elif field == "own":
            self.own.value = text
            self.own.check()
        else:
            self.query_one(f"#{field}", Input).value = text

    # -- events ----------------------------------------------------------------------

    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _mark_focus(self) -> None:
        """The focused field's name shows reversed (a class: Textual does not restyle a
        focused widget's siblings for ``:focus-within``)."""
        focused = self.app.focused
        for field in self.query(".field"):
            field.set_class(focused is not None and focused.parent is field, "-focused")

    @on(Select.Changed)
    @on(Input.Changed)
    def _changed(self, event: Select.Changed | Input.Changed) -> None:
        event.stop()
        field = event.control.id or ""
        if field == "python" and self.own.state in (ACCEPTED, REFUSED):
            self.own.check(typed=False)  # what loads under one python may not under another
        self.post_message(self.Changed(self, field, self.errors()))

    @on(OwnFunction.Checking)
    def _own_checking(self, event: OwnFunction.Checking) -> None:
        event.stop()
        self.post_message(self.Changed(self, "own", self.errors()))  # the status says so

    @property
    def checking(self) -> str | None:
        """Your function while the field checks it, else None."""
        return self.own.spec if self.own.state == CHECKING else None

    @on(OwnFunction.Checked)
    def _own_checked(self, event: OwnFunction.Checked) -> None:
        """An accepted function becomes the workload; a refused one keeps the focus."""
        event.stop()
        if event.error is None:
            if is_own(event.spec):
                self._accepted.add((event.python, event.spec))
                if event.spec not in self.own_specs:
                    self.own_specs.append(event.spec)
                    select = self.query_one("#workload", Select)
                    select.set_options([(w, w) for w in self.workloads])
            self.workload = event.spec
            if event.typed and self.app.focused is self.own:
                self.app.set_focus(None)  # accepted: every key is the app's again (r runs)
        else:
            self.app.bell()
            if event.typed and self.app.focused is not self.own:
                self.own.focus()  # back where it was typed, to put it right
        self.post_message(self.Changed(self, "own", self.errors()))


def is_own(workload: str) -> bool:
    """``workload`` names your own function (``x:y``), not a built-in workload."""
    return ":" in workload and workload_info(workload).custom


_TIPS = {
    "own": "your own function: path/to/file.py:func or module:func (enter checks it; it "
           "is called f(n, myid), f(myid), with progress= if it takes one)",
    "tasks": "how many tasks (1–100,000); the article runs 80",
    "n": "size of heavy(n): x**y for x, y in 1..n-1 (2–100,000); the article uses 500",
    "sleep": "seconds each io task sleeps (0–3600)",
    "workers": "pool size for thread-pool and process-pool; empty (auto) = usable cores",
}

"""The controls: mode, interpreter, workload, tasks, n, sleep, workers.

Every input is checked by the same parser the command line uses (``monitor.config.PARSERS``),
so the app refuses exactly what ``conc-tui run`` refuses, with the same reason.
"""
from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from ..monitor import MODES, WORKLOADS
from ..monitor.config import PARSERS, ConfigError, RunConfig
from .interpreters import InterpreterSelect

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
    """

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
        for field, width, chars in INPUTS:
            with Vertical(classes="field"):
                yield Label(field)
                yield NumberInput(_text(field, cfg), chars=chars, id=field, compact=True,
                                  placeholder="auto" if field == "workers" else "",
                                  validators=[FieldValidator(field)],
                                  validate_on=["changed", "submitted", "blur"],
                                  tooltip=_TIPS[field]).set_styles(f"width: {width};")

    # -- reading ---------------------------------------------------------------------

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
            config = self.config(base)
            if any_mode:
                config.replace(mode=MODES[0]).validated()
                return config
            return config.validated()
        except ConfigError as exc:
            fields = self.query(f"#{exc.field}")
            if fields:
                fields.first().focus()
            raise

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
        """The built-in workloads, and the user's own function when the app was started with
        one (``--workload file.py:FUNCTION``), which the list then offers too."""
        own = self._initial.workload
        return list(WORKLOADS) + ([own] if own not in WORKLOADS else [])

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
        self.post_message(self.Changed(self, field, self.errors()))


_TIPS = {
    "tasks": "how many tasks (1–100,000); the article runs 80",
    "n": "size of heavy(n): x**y for x, y in 1..n-1 (2–100,000); the article uses 500",
    "sleep": "seconds each io task sleeps (0–3600)",
    "workers": "pool size for thread-pool and process-pool; empty (auto) = usable cores",
}

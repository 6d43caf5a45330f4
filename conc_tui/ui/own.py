"""The field beside the workload choice where you type your own function:
``path/to/file.py:func`` or ``module:func``.

It is checked with the command line's own check (``monitor.config.check_workload``), which
loads the function under the interpreter the run will use, in a short probe process. That
takes a tenth of a second or more (seconds on a busy machine), so it runs in a thread worker
and the screen never waits for it. A value is checked when it is submitted (enter) or left
(tab, a click elsewhere); the result comes back as ``OwnFunction.Checked``, and ``Controls``
makes an accepted one the workload, or shows why it is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual import events, on, work
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from ..monitor import ConfigError
from ..monitor.config import check_workload, parse_workload

#: What the field is doing with its value.
EMPTY, UNCHECKED, CHECKING, ACCEPTED, REFUSED = "empty", "unchecked", "checking", "ok", "refused"


class _Verdict(Validator):
    """The field's last check, as Textual's validation (which styles the field ``-invalid``
    and would otherwise clear that on blur and submit: there is no other validator)."""

    def __init__(self, field: "OwnFunction") -> None:
        super().__init__()
        self.field = field

    def validate(self, value: str) -> ValidationResult:
        if getattr(self.field, "state", None) == REFUSED:  # (None: still being made)
            return self.failure(self.field.error or "refused", value)
        return self.success()


class OwnFunction(Input):
    """A text field for ``file.py:func`` / ``module:func``, checked off the app's thread."""

    @dataclass
    class Checked(Message):
        """The check of ``spec`` under ``python`` ended: ``error`` is why it is refused, or
        None when it will run."""

        field: "OwnFunction"
        spec: str
        python: str
        error: str | None
        seq: int = 0  # which check this was: only the latest one counts
        typed: bool = True  # checked because it was typed (not at start, nor for a new python)

    @dataclass
    class Checking(Message):
        """A check (a probe process) has started; ``Checked`` follows."""

        field: "OwnFunction"

    def __init__(self, value: str, *, python: Callable[[], str], **kwargs) -> None:
        super().__init__(value, select_on_focus=False, validators=[_Verdict(self)], **kwargs)
        self._python = python  # the interpreter the next run uses, asked at each check
        self.state = UNCHECKED if value.strip() else EMPTY
        self.error: str | None = None
        self.checks = 0  # checks started; a result counts only if it is the latest's
        self._subject: str | None = None  # the value the latest check was of
        self.probes = 0  # probe processes asked for (tests)

    @property
    def spec(self) -> str:
        return self.value.strip()

    def check(self, typed: bool = True) -> None:
        """Check the value now (again, even if it was checked: the file may have changed);
        ``typed``: because it was typed (a refusal then takes the focus back to it)."""
        spec = self._subject = self.spec
        self.checks += 1
        if not spec:
            self._settle(EMPTY, None)
            return
        if ":" not in spec:  # no function named: a built-in workload, or the parser's line
            try:
                parse_workload(spec)
            except ConfigError as exc:
                self._settle(REFUSED, str(exc))
            else:
                self._settle(ACCEPTED, None)
            self.post_message(self.Checked(self, spec, self._python(), self.error, self.checks,
                                           typed))
            return
        self._settle(CHECKING, None)
        self.probes += 1
        self.post_message(self.Checking(self))
        self._probe(spec, self._python(), self.checks, typed)

    @work(thread=True, group="own-check", exit_on_error=False)
    def _probe(self, spec: str, python: str, seq: int, typed: bool) -> None:
        error = None
        try:
            check_workload(python, spec)
        except ConfigError as exc:
            error = str(exc)
        self.post_message(self.Checked(self, spec, python, error, seq, typed))

    def _settle(self, state: str, error: str | None) -> None:
        self.state, self.error = state, error
        self.validate(self.value)  # sets or clears -invalid

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.seq != self.checks or message.spec != self.spec:  # typed on since, or
            message.stop()  # checked again (another interpreter): an old answer
            return
        self._settle(REFUSED if message.error else ACCEPTED, message.error)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        # Typing makes it a new value: no longer refused, not yet accepted. The check waits
        # for enter or leaving the field, not every key (each check is a process).
        if self.spec == self._subject:
            return  # the value checked already (set, then checked, before this message)
        self._subject = None
        self.checks += 1  # a check still going is of an old value now
        self._settle(UNCHECKED if self.spec else EMPTY, None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # Not on to the app, which leaves a submitted field: this one is left once its
        # value is accepted, and keeps the focus if it is refused (Controls does both).
        event.stop()
        self.check()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        if self.state == UNCHECKED:
            self.check()

"""Messages between the app's background work and its widgets."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class SessionStopped(Message):
    """The blocking stop (run in a thread worker) has returned."""

    session: object


@dataclass
class SampleTaken(Message):
    """A sample taken in a thread worker (``Controller.sample``'s reading)."""

    reading: object

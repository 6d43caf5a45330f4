"""Messages between the app's background work and its widgets."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class SessionStopped(Message):
    """The blocking ``session.stop()`` (run in a thread worker) has returned."""

    session: object


@dataclass
class SampleTaken(Message):
    """A sample the sampler took in a thread worker, with copies of its history."""

    sample: object
    history: list
    watching: int  # which ``watch()`` of the sampler it was taken under

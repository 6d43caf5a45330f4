"""The app's keys that only show or pick something: views, zoom, help, timeline, mode,
workload, save, leaving a field. Kept apart from ``app.py``, whose keys start and stop runs.
"""
from __future__ import annotations

from textual.widgets import Input

from ..monitor import MODES
from .controls import NumberInput
from .help import HelpScreen
from .saving import save_results
from .texts import refusal
from .timeline import TimelineScreen
from .too_small import MIN_HEIGHT, MIN_WIDTH
from .views import ViewTabs


class ViewActions:
    """Mixed into ``ConcApp``: ``self`` is the app (``ctl``, ``controls``, ``status``)."""

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if self.size.width < MIN_WIDTH or self.size.height < MIN_HEIGHT:
            return action == "quit"  # nothing shows: no run starts unseen; q quits
        if action == "field_key":  # only where letters type: a text field, not a number
            return isinstance(self.focused, Input) and not isinstance(self.focused, NumberInput)
        return True

    def action_field_key(self, action: str) -> None:
        getattr(self, f"action_{action}")()

    def _refused(self, action: str) -> bool:
        """True (after saying why, in the status line) when ``action`` cannot act now."""
        why = refusal(action, self.ctl)
        if why is not None:
            self.status.show_note(why)
        return why is not None

    def action_save(self) -> None:
        self.status.show(save_results(self.results))

    def action_mode(self, index: int) -> None:
        if not self._refused("mode"):
            self.controls.mode = MODES[index]

    def action_cycle_workload(self) -> None:
        if not self._refused("workload"):
            self.controls.cycle_workload()

    def action_timeline(self) -> None:
        if not isinstance(self.screen, TimelineScreen):
            self.push_screen(TimelineScreen(self.ctl))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_view(self, name: str) -> None:
        """Show one of the events / results / compare / sweep views (when they share a
        place)."""
        self.query_one(ViewTabs).show(name)

    def action_zoom(self) -> None:
        """Give the views the tasks panel's room, or give it back."""
        self.screen.toggle_class("-zoom")

    def action_leave_input(self) -> None:
        if isinstance(self.focused, Input):
            self.set_focus(None)  # every key is the app's again; tab starts at the controls

    visible_view = property(lambda self: self.query_one(ViewTabs).visible)

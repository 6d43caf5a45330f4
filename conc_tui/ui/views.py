"""The tabs that pick one of the events / results / compare / sweep views when they share a
place.

On a large screen the views sit side by side and the tabs are hidden (app.tcss: the sweep
takes the compare chart's place while it is picked); on a smaller one these tabs show one at
a time, by the class they set on ``#views``.
"""
from __future__ import annotations

from textual import on
from textual.widgets import Tab, Tabs

VIEWS = ("events", "results", "compare", "sweep")


class ViewTabs(Tabs):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(*(Tab(name.capitalize(), id=f"tab-{name}") for name in VIEWS), id=id)

    def show(self, name: str) -> None:
        if name in VIEWS:
            self.active = f"tab-{name}"

    @property
    def visible(self) -> str:
        """The view the tabs show (all three show side by side on a large screen)."""
        return (self.active or "tab-events").removeprefix("tab-")

    @on(Tabs.TabActivated)
    def _activated(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-events").removeprefix("tab-")
        # one class change, so the views' styles are worked out once, not once per view
        self.screen.query_one("#views").set_classes(f"-{name}" if name in VIEWS else "-events")

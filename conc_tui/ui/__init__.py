"""The live Textual app. Widgets draw what the monitor hands them; nothing here runs work.

``run_app`` and ``build_app`` live in ``conc_tui.ui.app``; they are imported lazily so that
``conc_tui.ui.fake`` can be used without loading Textual's app machinery.
"""
from __future__ import annotations

__all__ = ["build_app", "run_app", "ConcApp"]


def __getattr__(name: str):
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(name)

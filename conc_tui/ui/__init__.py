"""The live Textual app. Widgets draw what the monitor hands them; nothing here runs work.

``build_app`` and ``ConcApp`` live in ``conc_tui.ui.app``; they are imported lazily, so that
importing this package does not load Textual's app machinery.
"""
from __future__ import annotations

__all__ = ["build_app", "run_app", "ConcApp"]


def run_app(config, autorun: bool = False, record: str | None = None) -> int:
    """Run the live app on this terminal until the user quits; returns the exit status.
    ``record``: a file every run of the session is recorded to."""
    from ..monitor.recording import Recorder
    from .app import build_app

    recorder = Recorder(record) if record else None
    app = build_app(config, autorun=autorun, recorder=recorder)
    try:
        app.run()
    finally:
        app.shutdown()  # whatever ended the app, no run outlives it
        if recorder is not None:
            recorder.close()
    return int(app.return_code or 0)


def __getattr__(name: str):
    if name in ("build_app", "ConcApp"):
        from . import app

        return getattr(app, name)
    raise AttributeError(name)

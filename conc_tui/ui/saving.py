"""The app's ``v``: the session's results saved as JSON and CSV, without leaving the app."""
from __future__ import annotations

import os
import time
from typing import Sequence

from ..monitor import RunResult
from ..monitor.results import to_csv_text, to_json_text, write_atomic


def save_results(results: Sequence[RunResult], directory: str | None = None) -> str:
    """Write every run of the session to ``conc-tui-results-<time>.json`` and ``.csv`` in
    ``directory`` (the working directory); returns the sentence for the status line."""
    if not results:
        return "nothing to save yet: no run has finished"
    directory = directory or os.getcwd()
    stem = os.path.join(directory, time.strftime("conc-tui-results-%Y%m%d-%H%M%S"))
    try:
        write_atomic(stem + ".json", to_json_text(list(results)))
        write_atomic(stem + ".csv", to_csv_text(list(results)))
    except OSError as exc:
        return f"could not save the results in {directory}: {exc.strerror or exc}"
    runs = f"{len(results)} run{'s' * (len(results) != 1)}"
    return f"saved {runs} to {os.path.basename(stem)}.json and .csv in {directory}"

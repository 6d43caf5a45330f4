"""conc-tui: watch Python concurrency happen, live, in a terminal.

This module stays standard-library only and importable on Python 3.9+, because the runner
(``conc_tui.engine``) is started under whatever interpreter the user names.
"""

__version__ = "0.1.0"

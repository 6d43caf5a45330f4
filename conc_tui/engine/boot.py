"""How the monitor starts a runner: the command line, and nothing that needs importing."""
import json
import os

BOOT = ("import sys; sys.path.insert(0, {path!r}); "
        "from conc_tui.engine.runner import main; sys.exit(main(sys.argv[1:]))")


def boot_command(python, config):
    """The argv that starts a runner under ``python`` with ``config`` (a dict).

    The package's parent directory goes first on the runner's sys.path, so any
    interpreter finds ``conc_tui.engine`` without installing anything into it.
    A ``gil`` of "on" or "off" in the config becomes ``-X gil=1`` / ``-X gil=0``: a
    free-threaded build reads it at start-up, before any code of ours runs (the monitor
    refuses "off" for a build that cannot turn the GIL off; "on" is harmless anywhere).
    """
    pkg_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    gil = config.get("gil")
    xopt = ["-X", "gil=%d" % (gil == "on")] if gil in ("on", "off") else []
    return [python] + xopt + ["-c", BOOT.format(path=pkg_parent), json.dumps(config)]

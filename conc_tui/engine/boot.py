"""How the monitor starts engine code under an interpreter: command lines, nothing imported.

The package's parent directory goes first on that interpreter's sys.path, so any
interpreter finds ``conc_tui.engine`` without installing anything into it.
"""
import json
import os

_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_RUN = ("import sys; sys.path.insert(0, {path!r}); "
        "from conc_tui.engine.{module} import main; sys.exit(main(sys.argv[1:]))")


def module_command(python, module, args):
    """The argv that runs ``conc_tui.engine.<module>.main(args)`` under ``python``."""
    return [python, "-c", _RUN.format(path=_PKG_PARENT, module=module)] + list(args)


def boot_command(python, config):
    """The argv that starts a runner under ``python`` with ``config`` (a dict).

    A ``gil`` of "on" or "off" in the config becomes ``-X gil=1`` / ``-X gil=0``: a
    free-threaded build reads it at start-up, before any code of ours runs (the monitor
    refuses "off" for a build that cannot turn the GIL off; "on" is harmless anywhere).
    """
    gil = config.get("gil")
    xopt = ["-X", "gil=%d" % (gil == "on")] if gil in ("on", "off") else []
    argv = module_command(python, "runner", [json.dumps(config)])
    return argv[:1] + xopt + argv[1:]

"""The engine: workloads and concurrency modes, run inside the runner process.

Standard library only, Python 3.9+ syntax: the runner may be started with any interpreter
(``--python``), which knows nothing of the app's dependencies.

    protocol.py   the events the runner sends, defined once
    registry.py   every mode and workload, as data
    facts.py      this machine and interpreter: usable cores, the GIL
    runner.py     the runner process: reads its plan, runs the mode, reports
    modes.py      how each mode runs the tasks
    workloads.py  what a task does
    events.py     writing events to the pipe
    progress.py   the shared-memory progress slots
    boot.py       the command line that starts a runner
"""

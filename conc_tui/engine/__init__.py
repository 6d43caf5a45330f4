"""The engine: workloads and concurrency modes, run inside the runner process.

Standard library only, Python 3.9+ syntax: the runner may be started with any interpreter
(``--python``), which knows nothing of the app's dependencies.
"""

MODES = ("sequential", "threads", "thread-pool", "asyncio", "processes", "process-pool")
WORKLOADS = ("cpu", "io", "mixed")
POOL_MODES = ("thread-pool", "process-pool")
PROCESS_MODES = ("processes", "process-pool")



def compare_order(modes=MODES):
    """The order runs are compared in: sequential first (every speedup is measured against
    it), then the others as given, each once."""
    out = []
    for mode in sorted(modes, key=lambda m: m != "sequential"):
        if mode not in out:
            out.append(mode)
    return out


MODE_HELP = {
    "sequential": "a plain loop: one task after another, one core",
    "threads": "one threading.Thread per task; under the GIL only one runs Python at a time",
    "thread-pool": "a ThreadPoolExecutor with --workers threads (default: usable cores)",
    "asyncio": "one coroutine per task, gathered; CPU work never awaits, so they run in turn",
    "processes": "one multiprocessing.Process per task: every core can work",
    "process-pool": "a ProcessPoolExecutor with --workers processes (default: usable cores)",
}

WORKLOAD_HELP = {
    "cpu": "the article's heavy(n, id): x**y for x, y in 1..n-1",
    "io": "sleeps --sleep seconds in small steps (asyncio mode awaits asyncio.sleep)",
    "mixed": "half the CPU work, then half the sleep",
}

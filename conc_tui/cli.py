"""Command line: the live app (no subcommand), ``run`` and ``compare`` (headless)."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import __version__
from .monitor import MODE_LIST, MODES, WORKLOAD_LIST, WORKLOADS

EXIT_USAGE = 2
EPILOG = """\
modes:
{modes}

workloads:
{workloads}

examples:
  conc-tui                                   the live app, with the article's experiment ready
  conc-tui run --mode processes              80 x heavy(500) in 80 processes, headless
  conc-tui run --mode asyncio --workload io  80 coroutines sleeping 2 s each
  conc-tui compare --tasks 8 --n 300         every mode, cpu and io, one table
  conc-tui run --mode subinterpreters --python 3.13   one GIL per subinterpreter
  conc-tui compare --pythons 3.11 3.13 --modes sequential threads subinterpreters
  conc-tui pythons                           every interpreter found, and what it can run
""".format(
    modes="\n".join(f"  {m.name:<13} {m.help}" for m in MODE_LIST),
    workloads="\n".join(f"  {w.name:<13} {w.help}" for w in WORKLOAD_LIST),
)


def _arg(name: str):
    """An argparse type that uses the monitor's parser for ``name``."""
    from .monitor.config import PARSERS, ConfigError

    def convert(text):
        try:
            return PARSERS[name](text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


_FOUND: list = []  # the interpreters found, once per command line (several --pythons)


def _found_pythons() -> list:
    from .monitor import find_pythons

    if not _FOUND:
        _FOUND.append(find_pythons())
    return _FOUND[0]


def _python(text: str) -> str:
    """A path, a command or a version (3.13, 3.13t) to the interpreter's path, checked."""
    from .monitor import ConfigError, check_python, resolve_python
    from .monitor.pythons import parse_version_spec

    try:
        if parse_version_spec(text.strip()) is not None:
            text = resolve_python(text, interpreters=_found_pythons())
        check_python(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _add_size_options(p: argparse.ArgumentParser, *, single: bool, sub: bool = False) -> None:
    def default(value):
        # A subcommand sets only what is given after it, so that options given before it
        # ("conc-tui --tasks 8 run") are kept, not silently reset to the defaults.
        return argparse.SUPPRESS if sub else value

    if single:
        p.add_argument("--mode", "-m", type=_arg("mode"), default=default("threads"),
                       metavar="MODE",
                       help=f"how the tasks run: {', '.join(MODES)} (default: threads)")
        p.add_argument("--workload", "-w", type=_arg("workload"), default=default("cpu"),
                       metavar="W",
                       help=f"what each task does: {', '.join(WORKLOADS)} (default: cpu)")
    p.add_argument("--tasks", "-t", type=_arg("tasks"), default=default(80), metavar="N",
                   help="how many tasks (default: 80, as in the article)")
    p.add_argument("--n", "-n", type=_arg("n"), default=default(500), metavar="N",
                   help="size of heavy(n): x**y for x, y in 1..n-1 (default: 500)")
    p.add_argument("--sleep", "-s", type=_arg("sleep"), default=default(2.0), metavar="S",
                   help="seconds each io task sleeps (default: 2.0)")
    p.add_argument("--workers", type=_arg("workers"), default=default(None), metavar="N",
                   help=f"pool size for {', '.join(m.name for m in MODE_LIST if m.pooled)} "
                        "(default: usable cores)")
    p.add_argument("--python", type=_python, default=default(None), metavar="PY",
                   help="run the work under another interpreter, CPython 3.9+: a path, a "
                        "command or a version found on PATH, in pyenv or uv (3.13, 3.13t "
                        "for free-threaded; see 'conc-tui pythons'); default: this one")
    p.add_argument("--gil", type=_arg("gil"), default=default(None), metavar="on|off",
                   help="on a free-threaded build (3.13t, 3.14t), run with the GIL on or "
                        "off (default: the build's own)")
    p.add_argument("--nice", type=_arg("nice"), default=default(19), metavar="N",
                   help="scheduling niceness of the work, 0-19, so the screen stays fluid "
                        "(default: 19; 0 to run at normal priority)")


_SUBPARSERS: dict = {}


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="conc-tui", formatter_class=fmt, epilog=EPILOG,
        description="Watch Python concurrency happen: the GIL holding threads back, "
                    "processes filling the cores, asyncio waiting on I/O. With no command, "
                    "opens the live app.")
    parser.add_argument("--version", "-V", action="version", version=f"conc-tui {__version__}")
    _add_size_options(parser, single=True)
    parser.add_argument("--run", action="store_true",
                        help="start the run as soon as the app is up")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", formatter_class=fmt, epilog=EPILOG,
                         help="one run, headless: 'id is done' lines, then a summary",
                         description="Run one experiment without the app: print each task's "
                                     "'<id> is done' as it happens, then wall time, CPU time "
                                     "and effective parallelism.")
    _add_size_options(run, single=True, sub=True)
    run.add_argument("--json", metavar="FILE", help="write the result as JSON to FILE")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="no per-task lines: a live progress line on a terminal, then the summary")
    run.add_argument("--fail-task", type=int, action="append", default=[], metavar="ID",
                     help="make task ID raise an error halfway (to see failures); repeatable")

    cmp = sub.add_parser("compare", formatter_class=fmt, epilog=EPILOG,
                         help="every mode in turn, headless: one table with speedups",
                         description="Run each mode in turn for each workload and print one "
                                     "table: wall, CPU, parallelism, speedup against "
                                     "sequential, and the ideal speedup on this machine.")
    cmp.add_argument("--modes", nargs="+", type=_arg("mode"), default=list(MODES), metavar="M",
                     help="modes to run (default: all six)")
    cmp.add_argument("--workloads", nargs="+", type=_arg("workload"), default=["cpu", "io"],
                     metavar="W", help="workloads to run (default: cpu io)")
    _add_size_options(cmp, single=False, sub=True)
    cmp.add_argument("--pythons", nargs="+", type=_python, default=None, metavar="PY",
                     help="run the modes on each of these interpreters (versions such as "
                          "3.11 3.13, commands or paths): one table, interpreter x mode")
    _SUBPARSERS.update(run=run, compare=cmp)
    cmp.add_argument("--json", metavar="FILE", help="write every run as JSON to FILE")
    cmp.add_argument("--csv", metavar="FILE", help="write the table as CSV to FILE")

    pys = sub.add_parser("pythons", formatter_class=fmt,
                         help="list every interpreter found on PATH, in pyenv and in uv",
                         description="List every Python interpreter found on PATH, in pyenv "
                                     "and in uv's managed pythons: version, GIL or "
                                     "free-threaded build, where it was found, and whether "
                                     "it can run the work (CPython 3.9+; subinterpreters "
                                     "need 3.12+). Any of them can be given to --python by "
                                     "version (3.13, 3.13t) or path.")
    pys.add_argument("--json", metavar="FILE", help="write the list as JSON to FILE")
    _SUBPARSERS.update(pythons=pys)
    return parser


def _config(args, mode: str | None = None, workload: str | None = None):
    from .monitor import RunConfig

    return RunConfig(
        mode=mode or args.mode, workload=workload or args.workload, tasks=args.tasks,
        n=args.n, sleep=args.sleep, workers=args.workers, python=args.python, nice=args.nice,
        fail_tasks=tuple(getattr(args, "fail_task", ()) or ()), gil=args.gil,
    )


def _refused(command: str, field: str, why: str, mode: str) -> int:
    """Say in one line why the run cannot start (and which interpreter could), exit 2."""
    if field == "mode":
        from .monitor import suggest_for

        better = suggest_for(mode, _found_pythons())
        if better:
            why += f" — try --python {better}"
    sys.stderr.write(f"conc-tui{' ' if command else ''}{command}: error: {why}\n")
    return EXIT_USAGE


def _check_outputs(parser: argparse.ArgumentParser, args) -> None:
    parser = _SUBPARSERS.get(args.command, parser)
    from .monitor.results import check_writable

    for opt in ("json", "csv"):
        path = getattr(args, opt, None)
        if path:
            why = check_writable(path)
            if why:
                parser.error(f"--{opt}: cannot write {path}: {why}")
    for task in getattr(args, "fail_task", ()) or ():
        if not 0 <= task < args.tasks:
            parser.error(f"--fail-task: {task} is not a task id (0..{args.tasks - 1})")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_outputs(parser, args)
    if args.command is None:
        refused = _config(args).refusal()
        if refused is not None:
            return _refused("", *refused, args.mode)
        return _app(args)
    from . import headless
    from .monitor import compare_configs, runnable

    if args.command == "pythons":
        return headless.pythons(_found_pythons(), json_path=args.json)
    headless.install_signal_handlers()
    if args.command == "run":
        config = _config(args)
        refused = config.refusal()
        if refused is not None:
            return _refused("run", *refused, config.mode)
        return headless.run(config, json_path=args.json, quiet=args.quiet)
    base = _config(args, mode="sequential", workload=args.workloads[0])
    for python in args.pythons or [base.python]:  # --gil off on a GIL build refuses all
        refused = base.replace(python=python).refusal()
        if refused is not None:
            return _refused("compare", *refused, base.mode)
    configs, skipped = runnable(compare_configs(base, args.modes, args.workloads,
                                                args.pythons))
    if not configs:
        sys.stderr.write("conc-tui compare: error: no interpreter can run those modes: "
                         + "; ".join(skipped) + "\n")
        return EXIT_USAGE
    return headless.compare(configs, json_path=args.json, csv_path=args.csv, skipped=skipped)


def _app(args) -> int:
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        sys.stderr.write("conc-tui: the live app needs a terminal; for a headless run use "
                         "'conc-tui run' (see 'conc-tui run --help')\n")
        return EXIT_USAGE
    from .ui import run_app

    return run_app(_config(args), autorun=args.run)

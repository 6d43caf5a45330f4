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


def _python(text: str) -> str:
    from .monitor import ConfigError, check_python

    try:
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
                   help="pool size for thread-pool and process-pool (default: usable cores)")
    p.add_argument("--python", type=_python, default=default(None), metavar="PATH",
                   help="run the work under another interpreter, CPython 3.9+ "
                        "(e.g. a free-threaded python3.13t); default: this one")
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
    parser.add_argument("--record", metavar="FILE",
                        help="record every run of the app's session to FILE (see 'replay')")
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
    run.add_argument("--timeline", action="store_true",
                     help="after the summary, a text timeline: one lane per worker, each "
                          "character a time bin, by what the worker was doing")
    _add_recording_options(run)

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
    _SUBPARSERS.update(run=run, compare=cmp)
    cmp.add_argument("--json", metavar="FILE", help="write every run as JSON to FILE")
    cmp.add_argument("--csv", metavar="FILE", help="write the table as CSV to FILE")
    _add_recording_options(cmp)
    _add_replay_commands(sub, fmt)
    return parser


def _add_recording_options(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: "conc-tui --record F run" keeps the F given before the subcommand.
    p.add_argument("--record", metavar="FILE", default=argparse.SUPPRESS,
                   help="record the run(s) to FILE (JSON Lines, .gz to compress), appended "
                        "line by line so that 'conc-tui replay' can show them again")
    p.add_argument("--trace", metavar="FILE", default=None,
                   help="also write a Chrome Trace Event file for Perfetto or chrome://tracing")


def _add_replay_commands(sub, fmt) -> None:
    rep = sub.add_parser("replay", formatter_class=fmt,
                         help="show a recording again: in the app, or as a summary",
                         description="Replay a recording made with --record: the app shows "
                                     "every run as it was drawn live, on the recorded "
                                     "machine's cores. Keys: space pause, left/right seek 5 s, "
                                     "+/- speed.")
    rep.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    rep.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                     help="replay speed, 0.125-64 (default: 1)")
    rep.add_argument("--summary", action="store_true",
                     help="print the headless summary of every run instead of opening the app")
    rep.add_argument("--json", metavar="FILE", help="with --summary: write the result(s) as JSON")
    exp = sub.add_parser("export", formatter_class=fmt,
                         help="turn a recording into a trace (Perfetto) or a CSV of tasks",
                         description="Export a recording: --trace writes Chrome Trace Event "
                                     "JSON (Perfetto, chrome://tracing); --csv one row per task.")
    exp.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    exp.add_argument("--trace", metavar="OUT", help="write the trace to OUT")
    exp.add_argument("--csv", metavar="OUT", help="write one row per task to OUT")
    _SUBPARSERS.update(replay=rep, export=exp)


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number, not {text!r}") from None
    if not 0.125 <= value <= 64:
        raise argparse.ArgumentTypeError(f"speed must be between 0.125 and 64, not {text}")
    return value


def _config(args, mode: str | None = None, workload: str | None = None):
    from .monitor import RunConfig

    return RunConfig(
        mode=mode or args.mode, workload=workload or args.workload, tasks=args.tasks,
        n=args.n, sleep=args.sleep, workers=args.workers, python=args.python, nice=args.nice,
        fail_tasks=tuple(getattr(args, "fail_task", ()) or ()),
    )


def _check_outputs(parser: argparse.ArgumentParser, args) -> None:
    parser = _SUBPARSERS.get(args.command, parser)
    from .monitor.results import check_writable

    for opt in ("json", "csv", "record", "trace"):
        path = getattr(args, opt, None)
        if path:
            why = check_writable(path)
            if why:
                parser.error(f"--{opt}: cannot write {path}: {why}")
    for task in getattr(args, "fail_task", ()) or ():
        if not 0 <= task < args.tasks:
            parser.error(f"--fail-task: {task} is not a task id (0..{args.tasks - 1})")
    # The user's own function is loaded, before anything runs, by the interpreter that will
    # run it (a short probe process), so a bad spec is refused here with the reason.
    from .monitor.config import ConfigError, check_workload

    specs = [getattr(args, "workload", None)] + list(getattr(args, "workloads", None) or [])
    for spec in dict.fromkeys(s for s in specs if s and ":" in s):
        try:
            check_workload(getattr(args, "python", None) or sys.executable, spec)
        except ConfigError as exc:
            parser.error(f"--workload: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_outputs(parser, args)
    if args.command is None:
        return _app(args)
    from . import headless
    from .monitor import compare_configs

    headless.install_signal_handlers()
    if args.command in ("replay", "export"):
        return _replay(args, parser)
    record = {"record": args.record, "trace": args.trace}  # (--record: also before the command)
    if args.command == "run":
        return headless.run(_config(args), json_path=args.json, quiet=args.quiet,
                            timeline=args.timeline, **record)
    base = _config(args, mode="sequential", workload=args.workloads[0])
    configs = compare_configs(base, args.modes, args.workloads)
    return headless.compare(configs, json_path=args.json, csv_path=args.csv, **record)


def _replay(args, parser) -> int:
    """``replay`` and ``export``: a recording that cannot be read is bad input (exit 2)."""
    from .monitor.recording import RecordingError, read_recording

    try:
        rec = read_recording(args.file)
    except RecordingError as exc:
        _SUBPARSERS[args.command].error(str(exc))
    from . import headless

    if args.command == "export":
        if not (args.trace or args.csv):
            _SUBPARSERS["export"].error("say what to write: --trace OUT and/or --csv OUT")
        return headless.export(rec, trace_path=args.trace, csv_path=args.csv)
    if args.summary or args.json:
        return headless.replay_summary(rec, json_path=args.json)
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        sys.stderr.write("conc-tui: replaying in the app needs a terminal; "
                         "'conc-tui replay FILE --summary' prints it instead\n")
        return EXIT_USAGE
    from .ui.replay import run_replay

    return run_replay(rec, speed=args.speed)


def _app(args) -> int:
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        sys.stderr.write("conc-tui: the live app needs a terminal; for a headless run use "
                         "'conc-tui run' (see 'conc-tui run --help')\n")
        return EXIT_USAGE
    from .ui import run_app

    return run_app(_config(args), autorun=args.run, record=args.record)

"""Command line: the live app (no subcommand), ``run`` and ``compare`` (headless)."""
from __future__ import annotations

import argparse
import os
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


def _add_size_options(p: argparse.ArgumentParser, *, single: bool, sub: bool = False,
                      workers: bool = True) -> None:
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
    if workers:
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
    p.add_argument("--threads-per-worker", type=_arg("threads_per_worker"), default=default(1),
                   metavar="N", help="dask: threads in each worker process (default: 1)")
    p.add_argument("--scheduler", default=default(None), metavar="tcp://HOST:PORT",
                   help="dask: the scheduler of a running cluster (default: a LocalCluster "
                        "of --workers processes on this machine)")
    p.add_argument("--nice", type=_arg("nice"), default=default(19), metavar="N",
                   help="scheduling niceness of the work, 0-19, so the screen stays fluid "
                        "(default: 19; 0 to run at normal priority)")


_SUBPARSERS: dict = {}


class _Parser(argparse.ArgumentParser):
    """Bad input is one line and exit 2: the reason, and where the usage is (argparse's
    own way prints the whole usage block above the reason, which buries it)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
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
    # Set by 'conc-tui serve' for the app it starts in each browser tab: no terminal there.
    parser.add_argument("--served", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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
    cmp.add_argument("--modes", nargs="+", type=_arg("mode"), default=None, metavar="M",
                     help="modes to run (default: every mode that can run here)")
    cmp.add_argument("--workloads", nargs="+", type=_arg("workload"), default=["cpu", "io"],
                     metavar="W", help="workloads to run (default: cpu io)")
    _add_size_options(cmp, single=False, sub=True)
    cmp.add_argument("--pythons", nargs="+", type=_python, default=None, metavar="PY",
                     help="run the modes on each of these interpreters (versions such as "
                          "3.11 3.13, commands or paths): one table, interpreter x mode")
    _SUBPARSERS.update(run=run, compare=cmp)
    cmp.add_argument("--json", metavar="FILE", help="write every run as JSON to FILE")
    cmp.add_argument("--csv", metavar="FILE", help="write the table as CSV to FILE")
    _add_recording_options(cmp)
    _add_replay_commands(sub, fmt)

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
    rep.add_argument("--follow", action="store_true",
                     help="follow a recording another conc-tui is writing (--record), a moment "
                          "behind, and keep showing it after it ends")
    exp = sub.add_parser("export", formatter_class=fmt,
                         help="turn a recording into a trace (Perfetto) or a CSV of tasks",
                         description="Export a recording: --trace writes Chrome Trace Event "
                                     "JSON (Perfetto, chrome://tracing); --csv one row per task.")
    exp.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    exp.add_argument("--trace", metavar="OUT", help="write the trace to OUT")
    exp.add_argument("--csv", metavar="OUT", help="write one row per task to OUT")
    scl = sub.add_parser("scale", formatter_class=fmt,
                         help="how far it scales: the same tasks at several worker counts",
                         description="Run the same tasks with a pooled mode at each worker "
                                     "count, then print wall time, speedup against one "
                                     "worker and efficiency, and fit Amdahl's law to them.")
    _add_size_options(scl, single=True, sub=True, workers=False)
    scl.set_defaults(mode=None)  # None: process-pool (a pooled mode is what it varies)
    scl.add_argument("--workers", type=_worker_list, default=None, metavar="1,2,4",
                     help="the worker counts (default: 1, 2, 4 ... up to twice the usable cores)")
    scl.add_argument("--json", metavar="FILE", help="write the rows and the fit as JSON to FILE")
    scl.add_argument("--csv", metavar="FILE", help="write the rows as CSV to FILE")
    _add_recording_options(scl)

    srv = sub.add_parser("serve", formatter_class=fmt,
                         help="the app in a browser (textual-serve): one app per tab",
                         description="Serve the app to web browsers: each tab gets its own app "
                                     "with the options given. Loopback only unless --public. "
                                     "--follow FILE shows every tab the run another conc-tui "
                                     "records into FILE, read-only.")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default: "
                     "127.0.0.1, this machine only)")
    srv.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    srv.add_argument("--public", action="store_true",
                     help="allow a host other machines can reach: anyone who can reach the "
                          "port can start runs (there is no login)")
    srv.add_argument("--public-url", metavar="URL",
                     help="the URL browsers use to reach the server, when it is not "
                          "http://HOST:PORT (an SSH tunnel, a proxy)")
    srv.add_argument("--follow", metavar="FILE",
                     help="every tab follows the recording FILE (read-only)")
    _add_size_options(srv, single=True, sub=True)
    _SUBPARSERS.update(replay=rep, export=exp, serve=srv, scale=scl)


def _worker_list(text: str) -> list[int]:
    from .monitor.config import ConfigError, parse_workers

    try:
        counts = [parse_workers(part) for part in text.split(",") if part.strip()]
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not counts or None in counts:
        raise argparse.ArgumentTypeError(f"--workers takes counts like 1,2,4, not {text!r}")
    return sorted(set(counts))


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number, not {text!r}") from None
    if not 0.125 <= value <= 64:
        raise argparse.ArgumentTypeError(f"speed must be between 0.125 and 64, not {text}")
    return value


def _config(args, mode: str | None = None, workload: str | None = None, **changes):
    from .monitor import RunConfig

    fields = dict(
        mode=mode or args.mode, workload=workload or args.workload, tasks=args.tasks,
        n=args.n, sleep=args.sleep, workers=args.workers, python=args.python, nice=args.nice,
        fail_tasks=tuple(getattr(args, "fail_task", ()) or ()), gil=args.gil,
        threads_per_worker=args.threads_per_worker, scheduler=args.scheduler,
    )
    fields.update(changes)
    return RunConfig(**fields)


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

    from .monitor.config import check_mode_available, check_scheduler, mode_available

    if args.command == "compare" and args.modes is None:
        args.modes = [m for m in MODES if mode_available(m)]
    for mode in [getattr(args, "mode", None)] + list(getattr(args, "modes", None) or []):
        try:
            if mode and (args.command != "serve"):
                check_mode_available(mode)
        except ConfigError as exc:
            parser.error(f"--mode: {exc}")
    if getattr(args, "scheduler", None):
        try:
            check_scheduler(args.scheduler)
        except ConfigError as exc:  # not a usage error: one line, no usage block
            why = str(exc) if str(exc).startswith("--scheduler") else f"--scheduler: {exc}"
            print(f"{parser.prog}: error: {why}", file=sys.stderr)
            sys.exit(2)
    specs = [getattr(args, "workload", None)] + list(getattr(args, "workloads", None) or [])
    for spec in dict.fromkeys(s for s in specs if s and ":" in s):
        try:
            check_workload(getattr(args, "python", None) or sys.executable, spec)
        except ConfigError as exc:
            parser.error(f"--workload: {exc}")
    if args.command == "compare" and args.json and args.csv and _same_file(args.json, args.csv):
        parser.error(f"--json and --csv name the same file: {args.csv}")


def _same_file(a: str, b: str) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:  # not there yet: compare where they would be
        return os.path.realpath(a) == os.path.realpath(b)


def _check_limits(parser: argparse.ArgumentParser, args, configs) -> None:
    """Refuse, before anything starts, a run the machine cannot hold (see monitor.limits)."""
    from .monitor import ConfigError, check_limits, usable_cpus

    parser = _SUBPARSERS.get(args.command, parser)
    for config in configs:
        try:
            check_limits(config, usable_cpus())
        except ConfigError as exc:
            parser.error(f"--{exc.field}: {exc}")


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
    if args.command in ("replay", "export"):
        headless.install_signal_handlers()
        return _replay(args, parser)
    if args.command == "serve":
        return _serve(args)
    record = {"record": args.record, "trace": args.trace}  # (--record: also before the command)
    if args.command == "run":
        config = _config(args)
        refused = config.refusal()
        if refused is not None:
            return _refused("run", *refused, config.mode)
        _check_limits(parser, args, [config])
        headless.install_signal_handlers()
        return headless.run(config, json_path=args.json, quiet=args.quiet,
                            timeline=args.timeline, **record)
    if args.command == "scale":
        return _scale(args, parser, headless, record)
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
    _check_limits(parser, args, configs)
    headless.install_signal_handlers()
    return headless.compare(configs, json_path=args.json, csv_path=args.csv, skipped=skipped,
                            **record)


def _scale(args, parser, headless, record) -> int:
    from .monitor import MODE_LIST, mode_info, usable_cpus
    from .monitor.scaling import default_workers, scale_configs

    # default: the first pool of processes in the registry (the CPU-bound sweep)
    mode = args.mode or next(m.name for m in MODE_LIST if m.pooled and m.in_processes)
    if not mode_info(mode).pooled:
        _SUBPARSERS["scale"].error(f"--mode: scale varies the pool size: choose a pooled mode "
                                   f"({', '.join(m for m in MODES if mode_info(m).pooled)})")
    counts = args.workers or default_workers(usable_cpus())
    if 1 not in counts:
        counts = [1] + counts  # speedups are measured against one worker
    configs = scale_configs(_config(args, mode=mode, workers=None), counts)
    _check_limits(parser, args, configs)
    headless.install_signal_handlers()
    return headless.scale(configs, json_path=args.json, csv_path=args.csv, **record)


def _serve(args) -> int:
    from .serve import ServeError, check_address, serve

    try:
        check_address(args.host, args.port, args.public)
    except ServeError as exc:
        _SUBPARSERS["serve"].error(str(exc))
    if args.follow:
        app_args = ["replay", "--follow", os.path.abspath(args.follow)]
    else:
        app_args = [f"--{name}={value}" for name, value in (
            ("mode", args.mode), ("workload", args.workload), ("tasks", args.tasks),
            ("n", args.n), ("sleep", args.sleep), ("workers", args.workers),
            ("python", args.python), ("nice", args.nice)) if value is not None]
        if getattr(args, "record", None):
            app_args.append(f"--record={os.path.abspath(args.record)}")
    return serve(args.host, args.port, public=args.public, public_url=args.public_url,
                 app_args=app_args)


def _needs_terminal(args, what: str, instead: str) -> bool:
    """Say so and return True when the app cannot start here (no terminal); an app
    started by 'conc-tui serve' has none and needs none."""
    if args.served or (sys.stdout.isatty() and sys.stdin.isatty()):
        if args.served:
            from .serve import die_with_parent

            die_with_parent()
        return False
    sys.stderr.write(f"conc-tui: {what} needs a terminal; {instead}\n")
    return True


def _bad_file(command: str, exc: Exception) -> int:
    """A file that is not a readable recording: bad input, said in one line (no usage: the
    command was right, the file was not)."""
    print(f"conc-tui {command}: error: {exc}", file=sys.stderr)
    return EXIT_USAGE


def _replay(args, parser) -> int:
    """``replay`` and ``export``: a recording that cannot be read is bad input (exit 2)."""
    from .monitor.recording import RecordingError, read_recording

    if args.command == "replay" and args.follow:
        if _needs_terminal(args, "following a recording", "'conc-tui serve --follow FILE' "
                                                            "shows it in a browser"):
            return EXIT_USAGE
        from .ui.replay import run_follow

        try:
            return run_follow(args.file)
        except RecordingError as exc:
            return _bad_file("replay", exc)
    try:
        rec = read_recording(args.file)
    except RecordingError as exc:
        return _bad_file(args.command, exc)
    from . import headless

    if args.command == "export":
        if not (args.trace or args.csv):
            _SUBPARSERS["export"].error("say what to write: --trace OUT and/or --csv OUT")
        return headless.export(rec, trace_path=args.trace, csv_path=args.csv)
    if args.summary or args.json:
        return headless.replay_summary(rec, json_path=args.json)
    if _needs_terminal(args, "replaying in the app",
                       "'conc-tui replay FILE --summary' prints it instead"):
        return EXIT_USAGE
    from .ui.replay import run_replay

    return run_replay(rec, speed=args.speed)


def _app(args) -> int:
    if _needs_terminal(args, "the live app",
                       "for a headless run use 'conc-tui run' (see 'conc-tui run --help')"):
        return EXIT_USAGE
    term = os.environ.get("TERM", "")
    # No cursor movement: the app could not draw (served to a browser, it draws there).
    if term in ("dumb", "unknown") and not args.served:
        sys.stderr.write(f"conc-tui: the live app cannot drive this terminal (TERM={term}); "
                         "for a headless run use 'conc-tui run' (see 'conc-tui run --help')\n")
        return EXIT_USAGE
    from .ui import run_app

    return run_app(_config(args), autorun=args.run, record=args.record)

"""Headless output for ``conc-tui run`` and ``conc-tui compare``: plain lines and Rich tables.

Drives the same Session as the app. Ctrl+C, SIGTERM or SIGHUP stop the run cleanly, and the
partial result is still printed and written, with status ``cancelled``.
"""
from __future__ import annotations

import signal
from typing import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .monitor import (Controller, RunConfig, RunResult, StartError, TaskDone, TaskFailed,
                      ideal_speedup, speedup_for)
from .monitor.results import sequential_for, to_csv_text, to_json_text, write_atomic

EXIT_FAILED = 1


class Interrupted(Exception):
    """A signal asked us to stop; ``code`` is the exit status to end with."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP stop a headless run the way Ctrl+C does."""
    def raise_interrupted(signum, _frame):
        raise Interrupted(128 + signum)

    signal.signal(signal.SIGTERM, raise_interrupted)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, raise_interrupted)


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _interrupt_code(exc: BaseException) -> int:
    return getattr(exc, "code", 130) if not isinstance(exc, KeyboardInterrupt) else 130


def _stop_quietly(ctl: Controller) -> None:
    """Stop the run, and take its cancelled result, while further signals are held off."""
    old = {sig: signal.signal(sig, signal.SIG_IGN)
           for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
           if sig is not None}
    try:
        ctl.stop()
        while ctl.busy:
            ctl.poll(0.1)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def describe_python(info: dict) -> str:
    gil = info.get("gil_enabled")
    gil_text = "GIL enabled" if gil else ("GIL disabled" if gil is not None else "GIL unknown")
    return (f"{info.get('implementation', 'Python')} {info.get('version', '?')} "
            f"({gil_text}) {info.get('executable', '')}").strip()


def print_summary(out: Console, result: RunResult) -> None:
    status = {"ok": "[green]ok[/]", "failed": "[red]failed[/]",
              "cancelled": "[yellow]cancelled[/]"}.get(result.status, result.status)
    done = sum(t.status == "done" for t in result.task_results)
    out.print(f"[bold]{result.mode}[/] · {result.workload} · {result.tasks} tasks · "
              f"n={result.n} · sleep={result.sleep:g} s · workers={result.workers} · {status}")
    out.print(f"wall {result.wall_s:.2f} s   CPU {result.cpu_s:.2f} s   "
              f"effective parallelism {result.parallelism:.2f} of {result.cpu_count} cores"
              f" — {result.verdict.label}")
    out.print(f"tasks: {done} done", end="")
    if result.failed_ids:
        out.print(f", [red]{len(result.failed_ids)} failed[/] "
                  f"({', '.join(map(str, result.failed_ids[:20]))}"
                  f"{', …' if len(result.failed_ids) > 20 else ''})", end="")
    left = result.tasks - done - len(result.failed_ids)
    if left:
        out.print(f", {left} not finished", end="")
    out.print()
    out.print(f"interpreter: {describe_python(result.python)}", markup=False)
    if result.error:
        out.print(Text.assemble(("error: ", "red"), result.error))  # runner text: not markup


def _event_line(out: Console, ev) -> None:
    if isinstance(ev, TaskDone):
        out.print(f"{ev.id} is done  [dim]pid {ev.pid} thread {ev.tid} at {ev.t:.2f} s[/]")
    elif isinstance(ev, TaskFailed):
        line = Text(f"{ev.id} failed: {ev.error}", style="red")  # runner text: never markup
        line.append(f"  pid {ev.pid} thread {ev.tid}", style="dim")
        out.print(line)


def _write_outputs(err: Console, json_path: str | None, csv_path: str | None,
                   payload) -> bool:
    ok = True
    for path, text in ((json_path, lambda: to_json_text(payload)),
                       (csv_path, lambda: to_csv_text(payload))):
        if not path:
            continue
        try:
            write_atomic(path, text())
        except OSError as exc:
            err.print(f"conc-tui: cannot write {path}: {exc.strerror or exc}", markup=False)
            ok = False
    return ok


def run(config: RunConfig, *, json_path: str | None = None, quiet: bool = False) -> int:
    """``conc-tui run``: one run, events as they happen, then the summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    out, err = _console(), _console(stderr=True)
    ctl = Controller()
    code = None
    live = quiet and out.is_terminal
    progress = None
    try:
        try:
            session = ctl.run(config)
        except StartError as exc:
            err.print(f"conc-tui: {exc}", markup=False)
            return EXIT_FAILED
        if live:
            progress = Progress(TextColumn(f"{config.mode} · {config.workload}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("tasks"),
                                TimeElapsedColumn(), console=out, transient=True)
            progress.start()
            bar = progress.add_task("run", total=config.tasks)
        while ctl.busy:
            step = ctl.poll(0.1 if live else 0.25)
            if progress is not None:
                progress.update(bar, completed=session.counts["done"] + session.counts["failed"])
            elif not quiet:
                for ev in step.events:
                    _event_line(out, ev)
    except (KeyboardInterrupt, Interrupted) as exc:
        code = _interrupt_code(exc)
        _stop_quietly(ctl)
    finally:
        if progress is not None:
            progress.stop()
        ctl.shutdown()
    result = ctl.results[-1]
    # The file the user asked for first: printing may fail (a closed pipe), writing must not.
    written = _write_outputs(err, json_path, None, result)
    print_summary(out, result)
    if code is not None:
        return code
    if result.status != "ok" or not written:
        return EXIT_FAILED
    return 0


def interpreter_label(info: dict) -> str:
    """``3.13.0``, ``3.13.0t`` (free-threaded), ``3.13.0t GIL on``: an interpreter, short."""
    text = str(info.get("version", "?"))
    if info.get("free_threaded_build"):
        text += "t" if info.get("gil_enabled") is False else "t GIL on"
    if info.get("implementation", "CPython") != "CPython":
        text = f"{info.get('implementation')} {text}"
    return text


def compare_table(results: Sequence[RunResult], title: str = "conc-tui compare") -> Table:
    # Side by side (compare --pythons): which interpreter ran each row comes first, and
    # the workload column goes when there is one workload, so that 80 columns still fit.
    several = len({r.python.get("executable") for r in results}) > 1
    workloads = not several or len({r.workload for r in results}) > 1
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                  collapse_padding=True)
    if several:
        table.add_column("python", no_wrap=True)
    for name, justify in (("mode", "left"), ("workload", "left"), ("wall s", "right"),
                          ("CPU s", "right"), ("parallel", "right"),
                          ("speedup", "right"), ("ideal", "right"), ("status", "left")):
        if name != "workload" or workloads:
            table.add_column(name, justify=justify, no_wrap=True)
    for r in results:
        sp = speedup_for(r, results)
        seq = sequential_for(r, results)
        table.add_row(*([interpreter_label(r.python)] if several else []),
                      r.mode, *([r.workload] if workloads else []),
                      f"{r.wall_s:.2f}", f"{r.cpu_s:.2f}",
                      f"{r.parallelism:.2f}", "—" if sp is None else f"{sp:.2f}x",
                      f"{ideal_speedup(seq):.2f}x" if seq is not None else "—", r.status)
    return table


def compare(configs: Sequence[RunConfig], *, json_path: str | None = None,
            csv_path: str | None = None, skipped: Sequence[str] = ()) -> int:
    """``conc-tui compare``: every mode in turn, then one table. ``skipped`` says, one line
    each, which modes an interpreter could not run and was not asked to."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    out, err = _console(), _console(stderr=True)
    for line in skipped:
        err.print(f"conc-tui: {line}", markup=False)
    several = len({c.python_executable for c in configs}) > 1
    ctl = Controller()
    code = None
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, transient=True,
                        disable=not err.is_terminal)
    plain = not out.is_terminal or not err.is_terminal
    try:
        with progress:
            overall = progress.add_task("runs", total=len(configs))
            session = ctl.compare(configs)
            bar = progress.add_task(f"{session.config.mode} · {session.config.workload}",
                                    total=session.config.tasks)
            while ctl.busy:
                step = ctl.poll(0.1)
                if step.finished is not None:
                    progress.remove_task(bar)
                    progress.advance(overall)
                    if plain:
                        r = step.finished
                        on = f" · {interpreter_label(r.python)}" if several else ""
                        err.print(f"{r.mode} · {r.workload}{on}: {r.wall_s:.2f} s, {r.status}",
                                  markup=False)
                    if step.error:
                        err.print(f"conc-tui: {step.error}", markup=False)
                if step.started is not None:
                    session = step.started
                    bar = progress.add_task(f"{session.config.mode} · {session.config.workload}",
                                            total=session.config.tasks)
                if ctl.busy:
                    progress.update(bar, completed=session.counts["done"]
                                    + session.counts["failed"])
    except StartError as exc:
        err.print(f"conc-tui: {exc}", markup=False)
        code = EXIT_FAILED
    except (KeyboardInterrupt, Interrupted) as exc:
        code = _interrupt_code(exc)
        _stop_quietly(ctl)
    finally:
        ctl.shutdown()
    results = ctl.results
    written = _write_outputs(err, json_path, csv_path, results)
    cpu = results[0].cpu_count if results else 0
    out.print(compare_table(results, title=f"conc-tui compare · {cpu} usable cores"))
    if code is not None:
        return code
    if any(r.status != "ok" for r in results) or not written:
        return EXIT_FAILED
    return 0


def pythons(interpreters, *, json_path: str | None = None) -> int:
    """``conc-tui pythons``: every interpreter found, and whether it can run the work."""
    from .monitor import pythons_rows

    out, err = _console(), _console(stderr=True)
    rows = pythons_rows(interpreters)
    if json_path:
        import json

        try:
            write_atomic(json_path, json.dumps({"pythons": rows}, indent=2) + "\n")
        except OSError as exc:
            err.print(f"conc-tui: cannot write {json_path}: {exc.strerror or exc}", markup=False)
            return EXIT_FAILED
    if not rows:
        out.print("no Python interpreter found on PATH, in pyenv or in uv", markup=False)
        return 0
    table = Table(title="conc-tui pythons · give --python a version (3.13, 3.13t) or a path",
                  title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    # Short columns first, never wrapped; the path last, folded when the screen is narrow.
    for name in ("version", "build", "runs", "subint", "source"):
        table.add_column(name, no_wrap=True)
    table.add_column("path", overflow="fold")
    for row in rows:
        version = row["version"] if row["implementation"] in ("CPython", "?") else (
            f"{row['implementation']} {row['version']}")
        runs = Text("yes", style="green") if row["usable"] else Text(
            "too old" if row["version"] != "?" else "no", style="red")
        table.add_row(version, row["build"], runs, "yes" if row["subinterpreters"] else "no",
                      row["source"], row["path"])
    out.print(table)
    for row in rows:  # why an interpreter that did answer is not usable is in "runs"
        if not row["usable"] and row["version"] == "?":
            out.print(f"{row['path']}: {row['status']}", markup=False)
    out.print(table)
    return 0

"""Headless output for ``conc-tui run`` and ``conc-tui compare``: plain lines and Rich tables.

Drives the same Session as the app. Ctrl+C, SIGTERM or SIGHUP stop the run cleanly, and the
partial result is still printed and written, with status ``cancelled``.

What the user asked to be saved comes first: the ``--json``/``--csv`` files are written
before anything is printed about the result, and nothing about printing can stop them.

- A stdout that breaks (``| head`` closing the pipe, ``> /dev/full``) only ends the printing.
  When files were asked for, the run goes on to its end and they are written; without
  files there is nothing left to show, so the run is stopped (status ``cancelled``) and
  conc-tui exits quietly. A full or failing stdout is said on stderr (exit 1).
- Characters the output's encoding cannot show become ``?``, they never end the run.
- Once a stop has begun (a first signal), further signals only hurry it: the processes are
  killed at once, and the partial result is still written and printed.
- Nothing the runner or the user wrote is read as Rich markup.
"""
from __future__ import annotations

import errno
import io
import os
import signal
import sys
from typing import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .monitor import (Controller, RunConfig, RunResult, StartError, TaskDone, TaskFailed,
                      ideal_speedup, speedup_for, workload_info)
from .monitor.results import sequential_for, to_csv_text, to_json_text, write_atomic

EXIT_FAILED = 1
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))


class Interrupted(Exception):
    """A signal asked us to stop; ``code`` is the exit status to end with."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Signals:
    """The first SIGINT, SIGTERM or SIGHUP raises ``Interrupted`` where the run is being
    followed; from then on (and once the run is over) signals are only noted, and hurry a
    stop that is under way, so that writing and printing the result are never cut."""

    def __init__(self) -> None:
        self.code: int | None = None  # 128 + the first signal
        self.controller: Controller | None = None

    def install(self) -> None:
        for sig in _SIGNALS:
            signal.signal(sig, self._raise)

    def hold(self) -> None:
        """From now on a signal is noted, never raised."""
        for sig in _SIGNALS:
            signal.signal(sig, self._note)

    def _raise(self, signum, _frame):
        self.code = 128 + signum
        self.hold()  # before raising: a second signal must not interrupt the stop
        raise Interrupted(self.code)

    def _note(self, signum, _frame):
        if self.code is None:
            self.code = 128 + signum
        elif self.controller is not None:
            self.controller.hurry()


#: The process's signal handling for headless runs (cli.main installs it).
SIGNALS = Signals()


def install_signal_handlers() -> None:
    """SIGINT, SIGTERM and SIGHUP stop a headless run (see ``Signals``)."""
    SIGNALS.install()


class SafeStream(io.TextIOBase):
    """A text stream in front of stdout or stderr that printing can never make raise:
    characters its encoding lacks are replaced, and a write error ends the printing
    (``broken`` holds it) instead of the program."""

    def __init__(self, stream) -> None:
        super().__init__()
        self._stream = stream
        self.broken: OSError | None = None

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.broken is None:
            try:
                try:
                    self._stream.write(text)
                except UnicodeEncodeError:
                    enc = self.encoding
                    self._stream.write(text.encode(enc, "replace").decode(enc, "replace"))
            except (OSError, ValueError) as exc:
                self._break(exc)
        return len(text)

    def flush(self) -> None:
        if self.broken is None:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._break(exc)

    def _break(self, exc: Exception) -> None:
        self.broken = exc if isinstance(exc, OSError) else OSError(errno.EBADF, str(exc))
        # What is still buffered would fail again when Python flushes at exit (and print
        # "Exception ignored"): point the descriptor at /dev/null instead.
        try:
            fd = self._stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
        except (OSError, ValueError, AttributeError):
            pass

    @property
    def closed_quietly(self) -> bool:
        """Broken by the reader going away (a closed pipe), which is no error to report."""
        return isinstance(self.broken, BrokenPipeError) or (
            self.broken is not None and self.broken.errno == errno.EPIPE)


def _console(stream: SafeStream) -> Console:
    plain = not stream.isatty()
    # Piped or redirected, output is plain text as wide as it needs: no 80-column cut.
    return Console(file=stream, highlight=False, soft_wrap=True,
                   width=10_000 if plain else None, force_terminal=None)


def _streams() -> tuple[SafeStream, SafeStream]:
    return SafeStream(sys.stdout), SafeStream(sys.stderr)


def _stop_quietly(ctl: Controller) -> None:
    """Stop the run and take its cancelled result (signals are held by now)."""
    ctl.stop()
    while ctl.busy:
        ctl.poll(0.1)


def _output_status(out: SafeStream, err_console: Console) -> int:
    """0 when stdout took everything (or its reader just left), else 1 with the reason."""
    if out.broken is None or out.closed_quietly:
        return 0
    err_console.print(f"conc-tui: cannot write to stdout: {out.broken.strerror or out.broken}",
                      markup=False)
    return EXIT_FAILED


def describe_python(info: dict) -> str:
    gil = info.get("gil_enabled")
    gil_text = "GIL enabled" if gil else ("GIL disabled" if gil is not None else "GIL unknown")
    return (f"{info.get('implementation', 'Python')} {info.get('version', '?')} "
            f"({gil_text}) {info.get('executable', '')}").strip()


def print_summary(out: Console, result: RunResult) -> None:
    style = {"ok": "green", "failed": "red", "cancelled": "yellow"}.get(result.status)
    done = sum(t.status == "done" for t in result.task_results)
    sizes = [f"{result.tasks} tasks"]
    work = workload_info(result.workload)
    if work.uses_n:
        sizes.append(f"n={result.n}")
    if work.uses_sleep:
        sizes.append(f"sleep={result.sleep:g} s")
    out.print(Text.assemble((result.mode, "bold"), " · ", result.workload, " · ",
                            " · ".join(sizes), f" · workers={result.workers} · ",
                            (result.status, style or "")))
    out.print(f"wall {result.wall_s:.2f} s   CPU {result.cpu_s:.2f} s   "
              f"effective parallelism {result.parallelism:.2f} of {result.cpu_count} cores"
              f" — {result.verdict.label}", markup=False)
    line = Text(f"tasks: {done} done")
    if result.failed_ids:
        line.append(f", {len(result.failed_ids)} failed", style="red")
        line.append(f" ({', '.join(map(str, result.failed_ids[:20]))}"
                    f"{', …' if len(result.failed_ids) > 20 else ''})")
    left = result.tasks - done - len(result.failed_ids)
    if left:
        line.append(f", {left} not finished")
    out.print(line)
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

    stdout, stderr = _streams()
    out, err = _console(stdout), _console(stderr)
    ctl = Controller()
    SIGNALS.controller = ctl
    live = quiet and stdout.isatty()
    progress = None
    try:
        try:
            session = ctl.run(config)
        except StartError as exc:
            err.print(f"conc-tui: {exc}", markup=False)
            return EXIT_FAILED
        if live:
            progress = Progress(TextColumn(f"{config.mode} · {config.workload}",
                                           markup=False), BarColumn(),
                                MofNCompleteColumn(), TextColumn("tasks"),
                                TimeElapsedColumn(), console=out, transient=True)
            progress.start()
            bar = progress.add_task("run", total=config.tasks)
        while ctl.busy:
            step = ctl.poll(0.1 if live else 0.25)
            if stdout.broken is not None and not json_path:
                break  # nobody reads, nothing to save: stop (see the module's docstring)
            if progress is not None:
                progress.update(bar, completed=session.counts["done"] + session.counts["failed"])
            elif not quiet:
                for ev in step.events:
                    _event_line(out, ev)
        SIGNALS.hold()
        if ctl.busy:
            _stop_quietly(ctl)
    except Interrupted:
        _stop_quietly(ctl)
    finally:
        SIGNALS.hold()
        if progress is not None:
            progress.stop()
        ctl.shutdown()
    if not ctl.results:  # a signal came while the run was being started: nothing ran
        return SIGNALS.code or EXIT_FAILED
    result = ctl.results[-1]
    # The file the user asked for first: printing may fail (a closed pipe), writing must not.
    written = _write_outputs(err, json_path, None, result)
    print_summary(out, result)
    printed = _output_status(stdout, err)
    if SIGNALS.code is not None:
        return SIGNALS.code
    if stdout.broken is not None and not json_path and stdout.closed_quietly:
        return 0  # the reader left: not a failure of the run
    if result.status != "ok" or not written or printed:
        return EXIT_FAILED
    return 0


def compare_table(results: Sequence[RunResult], title: str = "conc-tui compare",
                  plain: bool = False) -> Table:
    """The compare table; ``plain`` (piped output) has no box, title or padding lines."""
    table = Table(title=None if plain else title, title_justify="left", header_style="bold",
                  box=None if plain else box.SIMPLE_HEAD, pad_edge=not plain)
    for name, justify in (("mode", "left"), ("workload", "left"), ("wall s", "right"),
                          ("CPU s", "right"), ("parallel", "right"),
                          ("speedup", "right"), ("ideal", "right"), ("status", "left")):
        table.add_column(name, justify=justify, no_wrap=True)
    for r in results:
        sp = speedup_for(r, results)
        seq = sequential_for(r, results)
        table.add_row(r.mode, r.workload, f"{r.wall_s:.2f}", f"{r.cpu_s:.2f}",
                      f"{r.parallelism:.2f}", "—" if sp is None else f"{sp:.2f}x",
                      f"{ideal_speedup(seq):.2f}x" if seq is not None else "—", r.status)
    return table


def print_compare(out: Console, stream: SafeStream, results: Sequence[RunResult]) -> None:
    cpu = results[0].cpu_count if results else 0
    title = f"conc-tui compare · {cpu} usable cores"
    if stream.isatty():
        out.print(compare_table(results, title=title))
        return
    # Plain text for a file or a pipe: whole header words, no trailing spaces or blank lines.
    render = Console(file=io.StringIO(), width=10_000, color_system=None, highlight=False)
    render.print(compare_table(results, plain=True))
    lines = [line.rstrip() for line in render.file.getvalue().splitlines()]
    out.print(title, markup=False)
    for line in lines:
        if line:
            out.print(line, markup=False)


def compare(configs: Sequence[RunConfig], *, json_path: str | None = None,
            csv_path: str | None = None) -> int:
    """``conc-tui compare``: every mode in turn, then one table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    stdout, stderr = _streams()
    out, err = _console(stdout), _console(stderr)
    ctl = Controller()
    SIGNALS.controller = ctl
    code = None
    progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=not stderr.isatty())
    plain = not stdout.isatty() or not stderr.isatty()
    saving = bool(json_path or csv_path)
    try:
        with progress:
            overall = progress.add_task("runs", total=len(configs))
            session = ctl.compare(configs)
            bar = progress.add_task(f"{session.config.mode} · {session.config.workload}",
                                    total=session.config.tasks)
            while ctl.busy:
                step = ctl.poll(0.1)
                if stdout.broken is not None and not saving:
                    break  # nobody reads, nothing to save: stop
                if step.finished is not None:
                    progress.remove_task(bar)
                    progress.advance(overall)
                    if plain:
                        r = step.finished
                        err.print(f"{r.mode} · {r.workload}: {r.wall_s:.2f} s, {r.status}",
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
            SIGNALS.hold()
            if ctl.busy:
                _stop_quietly(ctl)
    except StartError as exc:
        err.print(f"conc-tui: {exc}", markup=False)
        code = EXIT_FAILED
    except Interrupted:
        _stop_quietly(ctl)
    finally:
        SIGNALS.hold()
        ctl.shutdown()
    results = ctl.results
    written = _write_outputs(err, json_path, csv_path, results)
    print_compare(out, stdout, results)
    printed = _output_status(stdout, err)
    if SIGNALS.code is not None:
        return SIGNALS.code
    if code is not None:
        return code
    if stdout.broken is not None and not saving and stdout.closed_quietly:
        return 0
    if any(r.status != "ok" for r in results) or not written or printed:
        return EXIT_FAILED
    return 0

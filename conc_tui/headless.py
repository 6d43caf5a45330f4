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
import time
from typing import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .monitor import (Controller, RunConfig, RunResult, StartError, TaskDone, TaskFailed,
                      TaskOutput, ideal_speedup, speedup_for, workload_info)
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
    verdict = result.verdict
    if verdict.detail or verdict.where:  # what was measured, and where the run went
        out.print(f"verdict: {verdict.text}", markup=False)
    if result.thread_time is not None:  # where the threads' time went, measured
        out.print(result.thread_time.line(result.python.get("gil_enabled")), markup=False)
    if result.cluster:
        out.print(cluster_line(result.cluster), markup=False)
    out.print(f"interpreter: {describe_python(result.python)}", markup=False)
    if result.error:
        out.print(Text.assemble(("error: ", "red"), result.error))  # runner text: not markup


def cluster_line(cluster: dict, most: int = 8) -> str:
    """The cluster's workers in one line: each one's mean CPU and most memory over the run."""
    parts = []
    for w in cluster.get("workers", [])[:most]:
        cpu = "?" if w.get("cpu_mean") is None else f"{w['cpu_mean']:.0f}%"
        parts.append(f"{w['name']} cpu {cpu} mem {w['memory_max'] / 2**20:.0f} MiB"
                     + ("" if w.get("present", True) else " (gone)"))
    more = len(cluster.get("workers", [])) - most
    return "workers (mean over the run): " + "; ".join(parts) + (f"; {more} more" if more > 0
                                                                  else "")


def _event_line(out: Console, ev) -> None:
    if isinstance(ev, TaskDone):
        out.print(f"{ev.id} is done  [dim]pid {ev.pid} thread {ev.tid} at {ev.t:.2f} s[/]")
    elif isinstance(ev, TaskOutput):  # what the user's function printed: never markup
        out.print(Text(f"{ev.id} │ {ev.text}", style="dim"))
    elif isinstance(ev, TaskFailed):
        line = Text(f"{ev.id} failed: {ev.error}", style="red")  # runner text: never markup
        line.append(f"  pid {ev.pid} thread {ev.tid}", style="dim")
        out.print(line)


def _write_files(err: Console, files: dict) -> bool:
    """Write each file asked for, whole or not at all: ``files`` maps a path (None: not
    asked for) to its text, or to a function that makes it (made only when asked for)."""
    ok = True
    for path, text in files.items():
        if not path:
            continue
        try:
            write_atomic(path, text() if callable(text) else text)
        except OSError as exc:
            err.print(f"conc-tui: cannot write {path}: {exc.strerror or exc}", markup=False)
            ok = False
    return ok


def print_timeline(out: Console, ctl: Controller, result: RunResult) -> None:
    """``--timeline``: the last run's lanes × time, one character a time bin."""
    from .monitor.timeline import layout, text_lines
    from .monitor.threadwatch import worker_unit

    session, watch = ctl.shown, ctl.watch
    if session is None:
        return
    runner = session.started.pid if session.started is not None else session.runner_pid
    width = max(40, min(out.width, 200))
    lay = layout(session.state, watch, result.wall_s, width - 6, 40,
                 unit=worker_unit(session.state, runner))
    split = watch.snapshot.lock_split if watch is not None else True
    for line in text_lines(lay, result.python.get("gil_enabled"), split):
        out.print(line, markup=False, highlight=False)


def run(config: RunConfig, *, json_path: str | None = None, quiet: bool = False,
        record: str | None = None, trace: str | None = None, timeline: bool = False) -> int:
    """``conc-tui run``: one run, events as they happen, then the summary (and with
    ``timeline`` the text timeline)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    stdout, stderr = _streams()
    out, err = _console(stdout), _console(stderr)
    recording = _Recording(record, trace)
    ctl = recording.controller()
    SIGNALS.controller = ctl
    live = quiet and stdout.isatty()
    saving = bool(json_path or record or trace)  # files the user asked for
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
            recording.tick(ctl)
            if stdout.broken is not None and not saving:
                break  # nobody reads, nothing to save: stop (see the module's docstring)
            if progress is not None:
                progress.update(bar, completed=session.counts["done"] + session.counts["failed"])
            elif not quiet:
                for ev in step.events:
                    _event_line(out, ev)
                for text in step.notes:  # a task restarted elsewhere, an unreadable line
                    out.print(Text(f"note: {text}", style="yellow"))
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
    written = _write_files(err, {json_path: lambda: to_json_text(result)}) & recording.finish(err)
    print_summary(out, result)
    if timeline:
        print_timeline(out, ctl, result)
    printed = _output_status(stdout, err)
    if SIGNALS.code is not None:
        return SIGNALS.code
    if stdout.broken is not None and not saving and stdout.closed_quietly:
        return 0  # the reader left: not a failure of the run
    if result.status != "ok" or not written or printed:
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


def compare_table(results: Sequence[RunResult], title: str = "conc-tui compare",
                  plain: bool = False) -> Table:
    """The compare table; ``plain`` (piped output) has no box, title or padding lines."""
    # Side by side (compare --pythons): which interpreter ran each row comes first, and
    # the workload column goes when there is one workload, so that 80 columns still fit.
    several = len({r.python.get("executable") for r in results}) > 1
    workloads = not several or len({r.workload for r in results}) > 1
    table = Table(title=None if plain else title, title_justify="left", header_style="bold",
                  box=None if plain else box.SIMPLE_HEAD, pad_edge=not plain,
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


def print_compare(out: Console, stream: SafeStream, results: Sequence[RunResult]) -> None:
    cpu = results[0].cpu_count if results else 0
    _print_table(out, stream, f"conc-tui compare · {cpu} usable cores",
                 lambda title, plain: compare_table(results, title=title, plain=plain))


def _print_table(out: Console, stream: SafeStream, title: str, table) -> None:
    """``table(title, plain)`` on a terminal; for a file or a pipe, plain text: whole header
    words, no trailing spaces or blank lines."""
    if stream.isatty():
        out.print(table(title, False))
        return
    render = Console(file=io.StringIO(), width=10_000, color_system=None, highlight=False)
    render.print(table(None, True))
    lines = [line.rstrip() for line in render.file.getvalue().splitlines()]
    out.print(title, markup=False)
    for line in lines:
        if line:
            out.print(line, markup=False)


class _CompareReport:
    """What ``compare`` labels, writes and prints; ``_ScaleReport`` is the sweep's."""

    def label(self, config: RunConfig) -> str:
        return f"{config.mode} · {config.workload}"

    def files(self, results, json_path, csv_path) -> dict:
        return {json_path: lambda: to_json_text(results), csv_path: lambda: to_csv_text(results)}

    def show(self, out: Console, stream: SafeStream, results) -> None:
        print_compare(out, stream, results)


class _ScaleReport(_CompareReport):
    def label(self, config: RunConfig) -> str:
        return f"{config.mode} · {config.workers} worker{'s' * (config.workers != 1)}"

    def files(self, results, json_path, csv_path) -> dict:
        from .monitor.scaling import Scaling

        sweep = Scaling(list(results))
        return {json_path: sweep.json_text, csv_path: sweep.csv_text}

    def show(self, out: Console, stream: SafeStream, results) -> None:
        from .monitor.scaling import Scaling

        sweep = Scaling(list(results))
        first = results[0] if results else None
        title = (f"conc-tui scale · {first.mode} · {first.workload} · {first.tasks} tasks · "
                 f"{first.cpu_count} usable cores") if first else "conc-tui scale"
        _print_table(out, stream, title, lambda t, plain: scale_table(sweep, t, plain))
        fit = sweep.fit()
        if fit is None:
            out.print("Amdahl's law: no fit without a finished one-worker run", markup=False)
            return
        out.print(f"Amdahl's law: {fit.text()}", markup=False)


def scale_table(sweep, title: str | None, plain: bool) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold",
                  box=None if plain else box.SIMPLE_HEAD, pad_edge=not plain)
    for name in ("workers", "wall s", "CPU s", "speedup", "efficiency", "Amdahl", "status"):
        table.add_column(name, justify="left" if name == "status" else "right", no_wrap=True)
    for row in sweep.rows():
        table.add_row(str(row["workers"]), f"{row['wall_s']:.2f}", f"{row['cpu_s']:.2f}",
                      "—" if row["speedup"] is None else f"{row['speedup']:.2f}x",
                      "—" if row["efficiency"] is None else f"{row['efficiency']:.0%}",
                      "—" if row["amdahl"] is None else f"{row['amdahl']:.2f}x", row["status"])
    return table


def scale(configs: Sequence[RunConfig], **kwargs) -> int:
    """``conc-tui scale``: the same tasks at each worker count, then speedups and Amdahl."""
    return compare(configs, report=_ScaleReport(), **kwargs)


def compare(configs: Sequence[RunConfig], *, json_path: str | None = None,
            csv_path: str | None = None, record: str | None = None,
            trace: str | None = None, report: _CompareReport | None = None,
            skipped: Sequence[str] = ()) -> int:
    """``conc-tui compare``: every mode in turn, then one table (``report``: another
    series of runs, such as ``scale``'s, and what it writes and prints). ``skipped`` says,
    one line each, which modes an interpreter could not run and was not asked to."""
    report = report or _CompareReport()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    stdout, stderr = _streams()
    out, err = _console(stdout), _console(stderr)
    for line in skipped:
        err.print(f"conc-tui: {line}", markup=False)
    several = len({c.python_executable for c in configs}) > 1
    recording = _Recording(record, trace)
    ctl = recording.controller()
    SIGNALS.controller = ctl
    code = None
    progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                        transient=True, disable=not stderr.isatty())
    plain = not stdout.isatty() or not stderr.isatty()
    saving = bool(json_path or csv_path or record or trace)
    try:
        with progress:
            overall = progress.add_task("runs", total=len(configs))
            session = ctl.compare(configs)
            bar = progress.add_task(report.label(session.config), total=session.config.tasks)
            while ctl.busy:
                step = ctl.poll(0.1)
                recording.tick(ctl)
                if stdout.broken is not None and not saving:
                    break  # nobody reads, nothing to save: stop
                if step.finished is not None:
                    progress.remove_task(bar)
                    progress.advance(overall)
                    if plain:
                        r = step.finished
                        on = f" · {interpreter_label(r.python)}" if several else ""
                        err.print(f"{report.label(session.config)}{on}: {r.wall_s:.2f} s, "
                                  f"{r.status}", markup=False)
                    if step.error:
                        err.print(f"conc-tui: {step.error}", markup=False)
                if step.started is not None:
                    session = step.started
                    bar = progress.add_task(report.label(session.config),
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
    written = (_write_files(err, report.files(results, json_path, csv_path))
               & recording.finish(err))
    report.show(out, stdout, results)
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


# -- recordings: --record and --trace, replay --summary, export ------------------------------

class _Recording:
    """What ``--record FILE`` and ``--trace FILE`` ask of a headless run: a Recorder on the
    controller, a sample a second (the per-core load), and at the end the trace, made from
    the recording (a temporary one when only a trace was asked for)."""

    SAMPLE_S = 1.0

    def __init__(self, record: str | None, trace: str | None) -> None:
        self.record, self.trace = record, trace
        self.path = record
        self.temporary = False
        self.recorder = None
        self._next_sample = 0.0
        if trace and not record:
            import tempfile

            fd, self.path = tempfile.mkstemp(prefix=".conc-tui-", suffix=".jsonl",
                                             dir=os.path.dirname(os.path.abspath(trace)))
            os.close(fd)
            self.temporary = True

    def controller(self) -> Controller:
        if self.path is None:
            return Controller()
        from .monitor import Sampler
        from .monitor.recording import Recorder

        self.recorder = Recorder(self.path)
        return Controller(recorder=self.recorder, sampler=Sampler())

    def tick(self, ctl: Controller) -> None:
        if self.recorder is not None and time.monotonic() >= self._next_sample:
            self._next_sample = time.monotonic() + self.SAMPLE_S
            ctl.sample()

    def finish(self, err: Console) -> bool:
        """Close the recording and write the trace; False when a file could not be written."""
        if self.recorder is None:
            return True
        self.recorder.close()
        try:
            if self.trace:
                from .monitor.recording import read_recording
                from .monitor.trace import to_trace_json

                return _write_files(err, {self.trace: lambda: to_trace_json(
                    read_recording(self.path))})
            return True
        finally:
            if self.temporary:
                os.unlink(self.path)


def replay_summary(rec, *, json_path: str | None = None) -> int:
    """``conc-tui replay FILE --summary``: every recorded run's summary, from its events
    and its thread time, through the same controller and reducer as a live run."""
    from .monitor.replay import RecordedSource, config_of

    stdout, stderr = _streams()
    out, err = _console(stdout), _console(stderr)
    cores = int(rec.machine.get("usable_cores") or 1)
    sources = iter([RecordedSource(run, cpu_count=cores) for run in rec.runs])
    ctl = Controller(source_factory=lambda config: next(sources), watch_factory=None)
    for run in rec.runs:
        ctl.run(config_of(run))
        while ctl.busy:
            ctl.session.wait()  # a manual clock: straight to the run's end
            ctl.poll()
    results = ctl.results
    payload = results[0] if len(results) == 1 else results
    written = _write_files(err, {json_path: lambda: to_json_text(payload)}) if results else True
    if rec.truncated:
        err.print(f"conc-tui: note: {rec.truncated}", markup=False)
    for result in results:
        print_summary(out, result)
    if not results:
        out.print("the recording has no runs", markup=False)
    return 0 if written and all(r.status == "ok" for r in results) else EXIT_FAILED


def export(rec, *, trace_path: str | None = None, csv_path: str | None = None) -> int:
    """``conc-tui export FILE --trace OUT --csv OUT``."""
    from .monitor.trace import tasks_csv, to_trace_json

    err = _console(_streams()[1])
    if rec.truncated:
        err.print(f"conc-tui: note: {rec.truncated}", markup=False)
    files = {trace_path: lambda: to_trace_json(rec), csv_path: lambda: tasks_csv(rec)}
    return 0 if _write_files(err, files) else EXIT_FAILED


def pythons(interpreters, *, json_path: str | None = None) -> int:
    """``conc-tui pythons``: every interpreter found, and whether it can run the work."""
    from .monitor import pythons_rows

    stdout, stderr = _streams()
    out, err = _console(stdout), _console(stderr)
    rows = pythons_rows(interpreters)
    import json

    if not _write_files(err, {json_path: lambda: json.dumps({"pythons": rows}, indent=2) + "\n"}):
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
    return 0

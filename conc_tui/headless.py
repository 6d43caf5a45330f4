"""Headless output for ``conc-tui run`` and ``conc-tui compare``: plain lines and Rich tables.

Drives the same Session as the app. Ctrl+C, SIGTERM or SIGHUP stop the run cleanly, and the
partial result is still printed and written, with status ``cancelled``.
"""
from __future__ import annotations

import os
import signal
import time
from typing import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .monitor import (Controller, RunConfig, RunResult, StartError, TaskDone, TaskFailed,
                      TaskOutput, ideal_speedup, speedup_for)
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
    if result.thread_time is not None:  # where the threads' time went, measured
        gil = result.python.get("gil_enabled")
        if result.verdict.detail:
            out.print(f"verdict: {result.verdict.text}", markup=False)
        out.print(result.thread_time.line(gil), markup=False)
    out.print(f"interpreter: {describe_python(result.python)}", markup=False)
    if result.error:
        out.print(Text.assemble(("error: ", "red"), result.error))  # runner text: not markup


def _event_line(out: Console, ev) -> None:
    if isinstance(ev, TaskDone):
        out.print(f"{ev.id} is done  [dim]pid {ev.pid} thread {ev.tid} at {ev.t:.2f} s[/]")
    elif isinstance(ev, TaskOutput):  # what the user's function printed: never markup
        out.print(Text(f"{ev.id} │ {ev.text}", style="dim"))
    elif isinstance(ev, TaskFailed):
        line = Text(f"{ev.id} failed: {ev.error}", style="red")  # runner text: never markup
        line.append(f"  pid {ev.pid} thread {ev.tid}", style="dim")
        out.print(line)


def _write_outputs(err: Console, json_path: str | None, csv_path: str | None,
                   payload, extra: dict | None = None) -> bool:
    """Write each file asked for, whole or not at all; ``extra``: {path: text} more."""
    ok = True
    items = [(json_path, lambda: to_json_text(payload)), (csv_path, lambda: to_csv_text(payload))]
    items += [(path, (lambda text=text: text)) for path, text in (extra or {}).items()]
    for path, text in items:
        if not path:
            continue
        try:
            write_atomic(path, text())
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

    out, err = _console(), _console(stderr=True)
    recording = _Recording(record, trace)
    ctl = recording.controller()
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
            recording.tick(ctl)
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
    written = _write_outputs(err, json_path, None, result) & recording.finish(err)
    print_summary(out, result)
    if timeline:
        print_timeline(out, ctl, result)
    if code is not None:
        return code
    if result.status != "ok" or not written:
        return EXIT_FAILED
    return 0


def compare_table(results: Sequence[RunResult], title: str = "conc-tui compare") -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
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


def compare(configs: Sequence[RunConfig], *, json_path: str | None = None,
            csv_path: str | None = None, record: str | None = None,
            trace: str | None = None) -> int:
    """``conc-tui compare``: every mode in turn, then one table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    out, err = _console(), _console(stderr=True)
    recording = _Recording(record, trace)
    ctl = recording.controller()
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
                recording.tick(ctl)
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
    except StartError as exc:
        err.print(f"conc-tui: {exc}", markup=False)
        code = EXIT_FAILED
    except (KeyboardInterrupt, Interrupted) as exc:
        code = _interrupt_code(exc)
        _stop_quietly(ctl)
    finally:
        ctl.shutdown()
    results = ctl.results
    written = _write_outputs(err, json_path, csv_path, results) & recording.finish(err)
    cpu = results[0].cpu_count if results else 0
    out.print(compare_table(results, title=f"conc-tui compare · {cpu} usable cores"))
    if code is not None:
        return code
    if any(r.status != "ok" for r in results) or not written:
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

                return _write_outputs(err, None, None, None,
                                      extra={self.trace: to_trace_json(read_recording(self.path))})
            return True
        finally:
            if self.temporary:
                os.unlink(self.path)


def replay_summary(rec, *, json_path: str | None = None) -> int:
    """``conc-tui replay FILE --summary``: every recorded run's summary, from its events,
    through the same reducer as a live run."""
    from .monitor.replay import RecordedSource, config_of
    from .monitor.session import Session

    out, err = _console(), _console(stderr=True)
    results = []
    cores = int(rec.machine.get("usable_cores") or 1)
    for run in rec.runs:
        session = Session(config_of(run), source=RecordedSource(run, cpu_count=cores))
        session.start()
        session.wait()
        session.poll()
        results.append(session.result())
    payload = results[0] if len(results) == 1 else results
    written = _write_outputs(err, json_path, None, payload) if results else True
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

    err = _console(stderr=True)
    files = {}
    if trace_path:
        files[trace_path] = to_trace_json(rec)
    if csv_path:
        files[csv_path] = tasks_csv(rec)
    if rec.truncated:
        err.print(f"conc-tui: note: {rec.truncated}", markup=False)
    return 0 if _write_outputs(err, None, None, None, extra=files) else EXIT_FAILED

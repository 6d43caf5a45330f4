"""Your own code as the workload: MODULE:FUNCTION and file.py:FUNCTION, in every mode."""
from __future__ import annotations

import json
import textwrap

import pytest

from conc_tui.monitor import RunConfig, Session
from conc_tui.monitor.config import ConfigError, check_workload
from helpers import run_cli

WORK = textwrap.dedent("""
    import time

    def work(i, progress):
        for k in range(5):
            time.sleep(0.01)
            progress((k + 1) / 5)

    def one(myid):
        return myid

    def slow(myid, progress):
        for k in range(20):
            time.sleep(0.02)
            progress((k + 1) / 20)

    def loud(myid):
        print("hello from", myid)
        print("[red]not markup[/red]")

    def raises(myid):
        if myid == 1:
            raise ValueError("task one is broken")

    def exits(myid):
        import sys
        if myid == 0:
            sys.exit(3)

    def three(a, b, c):
        pass

    def none():
        pass

    def needs_kw(myid, *, colour):
        pass

    NOT_CALLABLE = 5
""")

# The article's function, exactly as the article writes it (two-space indent and all).
ARTICLE = '''def heavy(n, myid):
  for x in range(1, n):
    for y in range(1, n):
      x**y
  print(myid, "is done")
'''


@pytest.fixture
def code(tmp_path):
    (tmp_path / "work.py").write_text(WORK)
    (tmp_path / "article.py").write_text(ARTICLE)
    (tmp_path / "broken.py").write_text("def f(myid):\n    return (\n")
    return tmp_path


@pytest.mark.parametrize("mode", ["threads", "processes", "process-pool", "asyncio"])
def test_a_function_with_progress_runs_in_every_mode(code, mode):
    out = run_cli("run", "--workload", "work.py:work", "--mode", mode, "--tasks", "4",
                  "--json", "r.json", cwd=code)
    assert out.returncode == 0, out.stderr
    result = json.loads((code / "r.json").read_text())
    assert [t["status"] for t in result["tasks"]] == ["done"] * 4
    assert result["workload"] == "work.py:work"


def test_progress_reaches_the_task_cells(code, monkeypatch):
    monkeypatch.chdir(code)
    session = Session(RunConfig(mode="threads", workload="work.py:slow", tasks=3)).start()
    seen = set()
    try:
        while not session.done:
            session.poll(0.02)
            seen.update(round(f, 1) for f in session.progress() if 0 < f < 1)
    finally:
        session.close()
    assert session.result().status == "ok"
    assert seen, "progress never moved between 0 and 1"
    assert session.progress() == [1.0, 1.0, 1.0]


def test_the_article_heavy_runs_unchanged_and_its_prints_become_output(code):
    out = run_cli("run", "--workload", "article.py:heavy", "--mode", "processes", "--tasks",
                  "3", "--n", "60", cwd=code)
    assert out.returncode == 0, out.stderr
    for i in range(3):
        assert f"{i} │ {i} is done" in out.stdout  # what heavy printed, as the task's output
        assert f"\n{i} is done  pid " in "\n" + out.stdout


def test_a_module_and_a_one_parameter_function(code):
    out = run_cli("run", "--workload", "work:one", "--mode", "process-pool", "--tasks", "5",
                  cwd=code)
    assert out.returncode == 0, out.stderr
    assert "tasks: 5 done" in out.stdout


def test_printed_text_is_never_markup_and_never_reaches_the_event_pipe(code):
    out = run_cli("run", "--workload", "work.py:loud", "--mode", "threads", "--tasks", "2",
                  cwd=code)
    assert out.returncode == 0, out.stderr
    assert "0 │ hello from 0" in out.stdout and "[red]not markup[/red]" in out.stdout


def test_exceptions_and_sys_exit_fail_their_task_and_the_run_goes_on(code):
    out = run_cli("run", "--workload", "work.py:raises", "--tasks", "3", "--json", "r.json",
                  cwd=code)
    assert out.returncode == 1
    tasks = json.loads((code / "r.json").read_text())["tasks"]
    assert [t["status"] for t in tasks] == ["done", "failed", "done"]
    assert tasks[1]["error"] == "ValueError: task one is broken"
    out = run_cli("run", "--workload", "work.py:exits", "--mode", "process-pool", "--tasks",
                  "3", "--json", "e.json", cwd=code)
    tasks = json.loads((code / "e.json").read_text())["tasks"]
    assert [t["status"] for t in tasks] == ["failed", "done", "done"]
    assert "sys.exit(3)" in tasks[0]["error"]


@pytest.mark.parametrize("spec, words", [
    ("nope.py:f", "no such file: nope.py"),
    ("nosuchmodule:f", "no such module: nosuchmodule"),
    ("broken.py:f", "syntax error in broken.py, line"),
    ("work.py:missing", "has no attribute 'missing'"),
    ("work.py:NOT_CALLABLE", "is not callable"),
    ("work.py:three", "needs 3 arguments"),
    ("work.py:none", "takes no argument"),
    ("work.py:needs_kw", "keyword argument(s) colour"),
    ("work.py:", "is MODULE:FUNCTION or path/to/file.py:FUNCTION"),
])
def test_a_bad_spec_is_refused_before_anything_runs(code, spec, words, monkeypatch):
    out = run_cli("run", "--workload", spec, "--json", "r.json", cwd=code)
    assert out.returncode == 2, out.stdout
    assert words in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr  # one line, no usage block
    assert "is done" not in out.stdout
    assert not (code / "r.json").exists()
    monkeypatch.chdir(code)
    with pytest.raises(ConfigError, match="."):  # the app's check is the same one
        RunConfig(workload=spec).validated()


def test_the_check_runs_in_the_runners_interpreter(code, monkeypatch):
    monkeypatch.chdir(code)
    assert check_workload("python3", "work.py:work") == {"ok": True, "call": "myid",
                                                        "progress": True}
    assert check_workload("python3", "article.py:heavy")["call"] == "n, myid"


async def test_the_app_started_with_your_function_offers_it_and_runs_it(code, monkeypatch):
    from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource
    from conc_tui.ui.app import build_app

    monkeypatch.chdir(code)
    app = build_app(RunConfig(mode="threads", workload="work.py:work", tasks=4),
                    source_factory=lambda cfg: ScriptedSource(cfg, cpu_count=2),
                    sampler=ScriptedSampler(2, "gil"), live=False, python_info=FAKE_PYTHON)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.controls.workload == "work.py:work"
        assert app.controls.workloads[-1] == "work.py:work"
        own = app.query_one("#own")
        assert own.value == "work.py:work"  # the field shows it, and checks it at start
        await _settled(pilot, own)
        assert own.state == "ok" and app.focused is None
        await pilot.press("w")  # the workload key cycles through it and the built-in ones
        assert app.controls.workload == "cpu"
        await pilot.press("w", "w", "w", "r")
        assert app.session.config.workload == "work.py:work"


# -- a worker that dies under your function -------------------------------------------------

DIES = textwrap.dedent("""
    import os
    import time

    def sigkill(myid):
        time.sleep(0.05)
        if myid == 2:
            os.kill(os.getpid(), 9)

    def exit3(myid):
        time.sleep(0.05)
        if myid == 2:
            os._exit(3)
""")


def _ours(marker: str) -> list[str]:
    """Every process whose command line names ``marker`` (the runner and its workers carry
    the workload spec, whose path is this test's own directory)."""
    import psutil

    out = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(
                    p.info["cmdline"] or ()):
                out.append(f"{p.pid} {' '.join(p.info['cmdline'])[:120]}")
        except psutil.Error:
            pass
    return out


@pytest.mark.parametrize("func, reason", [("sigkill", "worker died: signal 9 (SIGKILL)"),
                                          ("exit3", "worker died: exit status 3")])
def test_a_function_that_kills_its_own_pool_worker_fails_only_its_task(tmp_path, func,
                                                                       reason):
    from helpers import shm_files, shm_leftovers, wait_for

    (tmp_path / "dies.py").write_text(DIES)
    spec = f"{tmp_path / 'dies.py'}:{func}"  # absolute: every process of the run names it
    shm_before = shm_files()
    out = run_cli("run", "--mode", "process-pool", "--workers", "2", "--workload", spec,
                  "--tasks", "6", "--json", "r.json", cwd=tmp_path, timeout=90)
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 1, out.stdout + out.stderr  # a failed task fails the run
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["status"] == "failed"
    tasks = {t["id"]: t for t in result["tasks"]}
    assert tasks[2]["status"] == "failed" and tasks[2]["error"] == reason, tasks[2]
    assert [t["status"] for i, t in sorted(tasks.items()) if i != 2] == ["done"] * 5
    assert "tasks: 5 done, 1 failed (2)" in out.stdout
    # nothing left behind: no runner or worker of this run, no progress map
    assert wait_for(lambda: not _ours(str(tmp_path)), 5), _ours(str(tmp_path))
    assert shm_leftovers(shm_before) == set()


# -- the app's own-function field -----------------------------------------------------------

def _fake_app(config=None, made=None):
    from conc_tui.monitor.scripted import FAKE_PYTHON, ScriptedSampler, ScriptedSource
    from conc_tui.ui.app import build_app

    made = [] if made is None else made

    def factory(cfg):
        made.append(ScriptedSource(cfg, cpu_count=2))
        return made[-1]

    return build_app(config or RunConfig(mode="threads", tasks=4, n=300),
                     source_factory=factory, sampler=ScriptedSampler(2, "gil"), live=False,
                     python_info=FAKE_PYTHON), made


async def _settled(pilot, field, timeout: float = 30.0) -> None:
    """Wait for the field's check (a probe process, in a thread worker) to come back."""
    import time

    deadline = time.monotonic() + timeout
    while field.state == "checking" and time.monotonic() < deadline:
        await pilot.pause(0.05)
    await pilot.pause(0.05)  # what the answer set off: messages, a focus change
    assert field.state != "checking", "the check did not come back"


async def _tab_to(pilot, app, field) -> None:
    """Reach ``field`` with tab alone, as a keyboard-only user would."""
    for _ in range(10):
        if app.focused is field:
            return
        await pilot.press("tab")
    assert app.focused is field, f"tab never reached it: {app.focused}"


@pytest.mark.parametrize("spec, words", [
    ("work.py:missing", "has no attribute 'missing'"),
    ("nope.py:f", "no such file: nope.py"),
    ("broken.py:f", "syntax error in broken.py, line"),
    ("nonsense", "unknown workload 'nonsense'"),
])
async def test_a_bad_function_typed_in_the_app_is_refused_where_it_is_typed(code, monkeypatch,
                                                                          spec, words):
    monkeypatch.chdir(code)
    app, made = _fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        own = app.query_one("#own")
        await _tab_to(pilot, app, own)
        assert own.parent.has_class("-focused")  # its name shows reversed: focus is visible
        await pilot.press(*spec, "enter")
        await _settled(pilot, own)
        assert own.state == "refused" and own.has_class("-invalid")
        assert words in own.error and "\n" not in own.error
        assert app.status.error == own.error and app.status.shown == f"✗ {own.error}"
        assert app.focused is own  # back in the field, to put it right
        assert app.controls.workload == "cpu"  # the workload did not change
        await pilot.press("ctrl+r")  # and no run starts while it is refused
        assert made == [] and "cannot run" in app.status.shown
        await pilot.press(*["backspace"] * len(spec))  # emptied: no longer in the way
        await pilot.pause()
        assert not own.has_class("-invalid") and app.status.error is None
        await pilot.press("ctrl+r")
        assert len(made) == 1 and made[0].config.workload == "cpu"


async def test_a_good_function_typed_in_the_app_becomes_the_workload(code, monkeypatch):
    monkeypatch.chdir(code)
    app, made = _fake_app()
    async with app.run_test(size=(120, 40)) as pilot:
        own = app.query_one("#own")
        await _tab_to(pilot, app, own)
        await pilot.press(*"article.py:heavy", "enter")
        await _settled(pilot, own)
        assert own.state == "ok" and not own.has_class("-invalid") and own.probes == 1
        assert app.focused is None  # enter leaves the field: r is a key again
        assert app.controls.workload == "article.py:heavy"
        assert app.controls.workloads[-1] == "article.py:heavy"
        assert "r runs threads · article.py:heavy" in app.status.shown
        await pilot.press("r")
        assert [s.config.workload for s in made] == ["article.py:heavy"]
        assert own.probes == 1  # the run did not check it again on the app's thread


async def test_the_check_never_holds_up_the_screen(code, monkeypatch):
    """A check that takes long (a slow import, a busy machine): keys still act meanwhile,
    and a run waits for its answer rather than starting with the old workload."""
    import threading

    from conc_tui.ui import own as own_module

    monkeypatch.chdir(code)
    release, entered = threading.Event(), threading.Event()
    real = own_module.check_workload

    def slow(python, spec):
        entered.set()
        release.wait(30)
        return real(python, spec)

    monkeypatch.setattr(own_module, "check_workload", slow)
    app, made = _fake_app()
    async with app.run_test(size=(120, 40)) as pilot:
        own = app.query_one("#own")
        app.controls.set_value("own", "work.py:work")
        assert own.state == "checking"
        await pilot.pause()
        assert entered.wait(10)
        assert app.status.shown.startswith("checking work.py:work…")
        await pilot.press("t")  # a key acts at once while the probe is out
        assert app.visible_view == "results"
        await pilot.press("r")
        assert made == [] and "checking work.py:work first" in app.status.shown
        release.set()
        await _settled(pilot, own)
        assert own.state == "ok" and app.controls.workload == "work.py:work"
        await pilot.press("r")
        assert [s.config.workload for s in made] == ["work.py:work"]


async def test_a_function_typed_in_the_app_runs_for_real(code, monkeypatch):
    """The field, then a real runner: every task of the user's function done."""
    import time

    from conc_tui.monitor.runner_source import RunnerSource
    from conc_tui.monitor.scripted import ScriptedSampler
    from conc_tui.ui.app import build_app

    monkeypatch.chdir(code)
    app = build_app(RunConfig(mode="process-pool", tasks=3, n=300), source_factory=RunnerSource,
                    sampler=ScriptedSampler(2, "gil"))
    async with app.run_test(size=(120, 40)) as pilot:
        own = app.query_one("#own")
        own.focus()
        await pilot.press(*"work.py:work", "tab")  # leaving the field checks it too
        await _settled(pilot, own)
        assert own.state == "ok"
        await pilot.press("r")
        deadline = time.monotonic() + 60
        while not app.results and time.monotonic() < deadline:
            await pilot.pause(0.1)
        [result] = app.results
        assert result.workload == "work.py:work" and result.status == "ok"
        assert [app.grid.state_of(i) for i in range(3)] == ["done"] * 3

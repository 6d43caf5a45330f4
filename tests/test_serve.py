"""conc-tui serve: the app in a real browser (headless Chromium), reaped when tabs close and
when the server stops or is killed; and following a recording while it is written."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import psutil
import pytest

from helpers import conc_tui_command, popen_cli, run_cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the test extra installs it
    sync_playwright = None

needs_browser = pytest.mark.skipif(
    sync_playwright is None or not os.path.exists(CHROMIUM),
    reason="needs Chromium (Debian: apt-get install chromium) and playwright (the test extra)")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_apps(server_pid: int) -> list[psutil.Process]:
    """The apps (and their runners) the server started, wherever they are now."""
    out = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "--served" in cmd and "conc_tui" in cmd and proc.pid != server_pid:
            out.append(proc)
            try:
                out += proc.children(recursive=True)
            except psutil.Error:
                pass  # it ended meanwhile
    return out


def runners_of(tag: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"])
            if "engine.runner" in " ".join(p.info["cmdline"] or [])
            and tag in " ".join(p.info["cmdline"] or [])]


def wait_until(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def start_server(*args: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = popen_cli("serve", "--port", str(port), *args)
    if not wait_until(lambda: _listening(port), 20):
        server.kill()  # never leave it behind
        _, err = server.communicate(timeout=10)
        raise AssertionError(f"the server did not listen: {err}")
    return server, port


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_a_host_others_can_reach_needs_public():
    out = run_cli("serve", "--host", "0.0.0.0", "--port", str(free_port()))
    assert out.returncode == 2 and "--public" in out.stderr and "Traceback" not in out.stderr


def test_a_port_in_use_or_out_of_range_is_refused():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        out = run_cli("serve", "--port", str(busy.getsockname()[1]))
    assert out.returncode == 2 and "cannot serve on 127.0.0.1" in out.stderr
    out = run_cli("serve", "--port", "70000")
    assert out.returncode == 2 and "between 1 and 65535" in out.stderr


def test_the_served_app_needs_no_terminal():
    """'--served' is what serve passes to the app it starts: no TTY check there."""
    out = run_cli("--served", "--help")
    assert out.returncode == 0 and "--served" not in out.stdout  # hidden from users


@needs_browser
def test_a_browser_tab_gets_the_app_a_key_runs_and_closing_the_tab_reaps_it():
    server, port = start_server("--tasks", "7", "--n", "3000")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body.-first-byte", timeout=30_000)  # the app drew
            assert wait_until(lambda: served_apps(server.pid), 10)
            time.sleep(1.0)  # the app's first frame, then its keys
            page.click(".textual-terminal")
            page.keyboard.press("r")
            assert wait_until(lambda: runners_of('"tasks": 7'), 15), "r did not start a run"
            page.close()
            t0 = time.monotonic()
            assert wait_until(lambda: not served_apps(server.pid)
                              and not runners_of('"tasks": 7'), 3.0), "the tab's app outlived it"
            assert time.monotonic() - t0 <= 3.0
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(10)


@needs_browser
@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_stopping_or_killing_the_server_leaves_no_app_or_run(how):
    server, port = start_server("--tasks", "6", "--n", "3000")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body.-first-byte", timeout=30_000)
            time.sleep(1.0)
            page.click(".textual-terminal")
            page.keyboard.press("r")
            assert wait_until(lambda: runners_of('"tasks": 6'), 15)
            left = served_apps(server.pid)
            assert left
            if how == "SIGKILL":
                server.kill()  # no clean-up of its own: the apps' parent-death signal reaps them
            else:
                server.send_signal(signal.SIGINT)
            server.wait(10)
            assert wait_until(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                                              for p in left) and not runners_of('"tasks": 6'),
                              5.0), f"left behind after {how}"
            browser.close()
    finally:
        if server.poll() is None:  # a failure above must not leave the server behind
            server.kill()
            server.wait(10)


async def test_following_a_recording_while_another_process_writes_it(tmp_path):
    from conc_tui.monitor.follow import open_follower
    from conc_tui.ui.replay import FollowApp

    path = tmp_path / "live.jsonl"
    writer = subprocess.Popen(conc_tui_command() + [
        "run", "--mode", "threads", "--workload", "io", "--tasks", "5", "--sleep", "2",
        "--record", str(path), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        follower = open_follower(str(path), wait_s=20)
        app = FollowApp(follower)
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + 20
            while not app.running and time.monotonic() < deadline:
                await pilot.pause(0.1)
            assert app.running, "the followed run never showed"
            assert writer.poll() is None  # it is shown while it is still being recorded
            while not app.results and time.monotonic() < deadline:
                await pilot.pause(0.1)
            assert app.results and app.results[0].status == "ok"
            assert [app.grid.state_of(i) for i in range(5)] == ["done"] * 5
            # the thread time recorded so far came along: five threads, asleep
            tt = app.results[0].thread_time
            assert tt is not None and tt.available and tt.worker_count == 5
            assert app.results[0].verdict.kind == "io-wait"
            await pilot.press("r")
            assert "followed" in app.status.shown and not app.running
        follower.close()
    finally:
        writer.wait(30)
    assert writer.returncode == 0, writer.stderr.read()


def test_following_refuses_a_file_that_is_not_a_recording(tmp_path):
    (tmp_path / "x.txt").write_text("hello\n")
    out = run_cli("--served", "replay", "--follow", str(tmp_path / "x.txt"))
    assert out.returncode == 2 and "not a conc-tui recording" in out.stderr

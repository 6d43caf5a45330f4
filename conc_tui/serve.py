"""``conc-tui serve``: the app in a browser, one app per tab, with textual-serve.

textual-serve starts the app as a child process for each websocket (each browser tab). What
this module adds is what a talk needs from it:

- **Safety.** Loopback by default; another host only with ``--public``, with a warning that
  anyone who can reach the port can start runs (textual-serve has no authentication).
- **Reaping.** textual-serve asks an app to quit when its tab closes and waits for it without
  a time limit. Here each app runs in its own process group, and one that has not ended
  ``REAP_S`` seconds after its tab closed is killed; stopping the server ends every app it
  started the same way. The app also carries a parent-death signal, so that a server killed
  with SIGKILL takes its apps with it; and an app's runner ends itself when its app is gone
  (its control pipe closes), so no run outlives its tab.
- **Reachable URLs.** The page builds its websocket URL from the public URL, which defaults
  to http://HOST:PORT; ``--public-url`` sets it for an SSH tunnel or a proxy.
"""
from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import signal
import socket
import sys
from typing import Sequence

REAP_S = 2.5  # a closed tab's app gets this long to quit by itself, then it is killed


class ServeError(ValueError):
    """Bad host or port, or a port in use: one line, exit 2."""


def check_address(host: str, port: int, public: bool) -> None:
    """Refuse what cannot or should not be served, before anything starts."""
    if not 1 <= port <= 65535:
        raise ServeError(f"port must be between 1 and 65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServeError(f"cannot serve on {host!r}: {exc.strerror}") from None
    loopback = all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback
                   for info in infos)
    if not loopback and not public:
        raise ServeError(f"{host} is reachable from other machines: anyone who can reach it "
                         "could start runs here. Add --public to serve it anyway")
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror}") from None


def app_command(app_args: Sequence[str]) -> str:
    """The shell command textual-serve runs for each tab: ``exec`` replaces the shell, so
    the app is the server's own child (its parent-death signal points at the server)."""
    argv = [sys.executable, "-m", "conc_tui", "--served", *app_args]
    return "exec " + " ".join(shlex.quote(a) for a in argv)


def serve(host: str, port: int, *, public: bool, public_url: str | None,
          app_args: Sequence[str], title: str = "conc-tui") -> int:
    """Serve until Ctrl+C or SIGTERM; every app and run started is ended before it returns."""
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    class ReapedAppService(AppService):
        live: set = set()

        async def _open_app_process(self, width: int = 80, height: int = 24):
            environment = self._build_environment(width=width, height=height)
            self._process = process = await asyncio.create_subprocess_shell(
                self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=environment,
                start_new_session=True)  # its own group: killed whole if it will not quit
            self._stdin = process.stdin
            ReapedAppService.live.add(self)
            return process

        async def stop(self) -> None:
            process = self._process
            try:
                await asyncio.wait_for(super().stop(), REAP_S)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                pass  # it would not quit, or its pipe is gone: it is killed below
            finally:
                if process is not None:
                    await _kill_group(process)
                ReapedAppService.live.discard(self)

    class ReapingServer(Server):
        async def handle_websocket(self, request):
            import textual_serve.server as server_module

            # textual-serve makes its AppService by the name in its module: this server's
            # tabs get the reaped one (the only change to the library's own handler).
            server_module.AppService = ReapedAppService
            return await super().handle_websocket(request)

        async def on_shutdown(self, app) -> None:
            await asyncio.gather(*(svc.stop() for svc in list(ReapedAppService.live)),
                                 return_exceptions=True)

        async def on_startup(self, app) -> None:
            self.console.print(f"conc-tui is served on {self.public_url}  (Ctrl+C stops it)",
                               highlight=False, markup=False)
            if public:
                self.console.print("warning: anyone who can reach this port can open the app "
                                   "and start runs on this machine (there is no login)",
                                   style="bold yellow", markup=False)

    ReapingServer(app_command(app_args), host=host, port=port, title=title,
                  public_url=public_url).serve()
    return 0


async def _kill_group(process) -> None:
    """End the app's process group (the app, and anything it started in its group)."""
    if process.returncode is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # it has just ended by itself
    try:
        await asyncio.wait_for(process.wait(), 2.0)
    except asyncio.TimeoutError:
        pass  # not ours to wait for any more (it is being reaped by the loop's watcher)


def die_with_parent() -> None:
    """In the served app: end (SIGTERM, the app's clean stop) when the server dies."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # only the safety net for a killed server; a closed tab still reaps

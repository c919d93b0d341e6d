"""`labapp serve`: the workbench in a browser, through textual-serve (the optional extra `labapp[serve]`).

textual-serve runs a command for each browser tab and relays its terminal over a websocket; here
the command is `python -m labapp.serve`, which opens the workbench for that one tab, with the
data and runs folders passed down through the environment. Run records are kept as usual.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Any, Callable

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
TAB_QUIT_S = 10  # a workbench stops its run within 1.5 s of quitting; slack for a busy machine
INSTALL_HINT = "labapp serve needs textual-serve: pip install 'labapp[serve]' (or pip install textual-serve)"


class ServeError(Exception):
    """The server cannot start; str() is the user's one-line message."""


def tab_command() -> str:
    """The shell command textual-serve runs for each browser tab: this Python, opening the workbench."""
    return f"{shlex.quote(sys.executable)} -m labapp.serve"


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (localhost, 127.x.x.x, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_notice(host: str, port: int, runs: Path) -> str:
    """The one line said when serving beyond this machine: what anyone who reaches the address can do."""
    return (f"labapp serve: listening on {host}:{port}, not only this machine: anyone who can reach that "
            f"address can open the workbench without a password, train lessons on this machine's CPU/GPU, "
            f"download the course's data files and write run records into {runs} "
            f"(no code of theirs runs; use the default --host {DEFAULT_HOST} to keep it to yourself)")


def browser_url(host: str, port: int) -> str:
    """The address to give a browser: this machine's name when listening on every address (0.0.0.0, ::)."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def check_port(host: str, port: int) -> None:
    """ServeError unless `port` can be listened on at `host` (free, allowed, and the host is an address here)."""
    if not 1 <= port <= 65535:
        raise ServeError(f"labapp serve: port {port} is out of range: must be between 1 and 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ServeError(f"labapp serve: cannot listen on host {host!r}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does, so TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise ServeError(f"labapp serve: port {port} on {host} is in use: choose another with --port") from None
            raise ServeError(f"labapp serve: cannot listen on {host}:{port}: {error.strerror or error}") from None


def make_server(host: str, port: int) -> Any:
    """A textual-serve Server for the workbench; ServeError (the install hint) without textual-serve."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise ServeError(INSTALL_HINT) from None

    class WorkbenchServer(Server):
        """textual-serve's Server, with the page's URLs on the address the browser used, and a prompt stop.

        textual-serve writes its host into the page's script and websocket URLs; with --host 0.0.0.0
        that is an address no browser can reach, so each page is made for the Host it was asked by.
        On shutdown it would wait for each browser to hang up (aiohttp's shutdown timeout, a minute)
        while the tabs' runs go on; instead every tab's workbench is told to quit at once, which
        stops and records its run.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.tabs: set[Any] = set()  # textual-serve's AppService of each open tab

        async def _process_messages(self, websocket: Any, app_service: Any) -> None:
            """Relay one tab's messages, knowing its workbench process while it is open."""
            self.tabs.add(app_service)
            try:
                await super()._process_messages(websocket, app_service)
            finally:
                self.tabs.discard(app_service)

        async def on_shutdown(self, app: Any) -> None:
            """Tell every open tab's workbench to quit, and wait (a while) for them to end."""
            if self.tabs:
                await asyncio.wait([asyncio.ensure_future(tab.stop()) for tab in self.tabs], timeout=TAB_QUIT_S)

        async def on_startup(self, app: Any) -> None:
            """One line instead of textual-serve's banner: where the workbench is."""
            self.console.print(f"labapp serve: the workbench at {url} (each browser tab gets its own; "
                               "Ctrl+C stops)", highlight=False, soft_wrap=True)

        async def handle_index(self, request: Any) -> Any:
            """The page, with its URLs on the address this request came to."""
            self.public_url = f"{request.scheme}://{request.host}"  # used synchronously by the page template
            return await super().handle_index(request)

    url = browser_url(host, port)
    return WorkbenchServer(tab_command(), host=host, port=port, title="labapp")


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, runs: Path | None = None,
          data_dir: str | None = None, say: Callable[[str], None] | None = None) -> None:
    """Serve the workbench on host:port until Ctrl-C; each browser tab gets its own workbench process."""
    server = make_server(host, port)
    check_port(host, port)
    if runs is not None:
        os.environ["LABAPP_RUNS_DIR"] = str(runs.resolve())  # every tab keeps its records here
    if data_dir is not None:
        os.environ["LABAPP_DATA_DIR"] = str(Path(data_dir).resolve())
    if not is_loopback(host):
        from labapp.records import default_root

        (say or _warn)(exposure_notice(host, port, default_root().resolve()))
    try:
        server.serve()
    except OSError as error:  # lost a race for the port, or the address vanished
        raise ServeError(f"labapp serve: cannot listen on {host}:{port}: {error.strerror or error}") from None


def _warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def open_tab() -> int:
    """The workbench for one browser tab (textual-serve's web driver is its terminal)."""
    from labapp.app import run_app

    return run_app(os.environ.get("LABAPP_LESSON") or None)


if __name__ == "__main__":
    sys.exit(open_tab())

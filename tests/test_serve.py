"""`labapp serve`: its refusals in one line, and the workbench in a real browser (headless chromium).

The browser test starts `labapp serve` on a free port, loads the page in Debian's chromium driven
over the Chrome DevTools protocol (with aiohttp's websocket client, which textual-serve brings),
opens gradient-descent, runs it, and reads the screen from xterm.js's own buffer: the page draws
on a canvas (WebGL), so there is no text in the DOM to read.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from labapp import serve as serve_module
from labapp.cli import main
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    import textual_serve  # noqa: F401

    HAVE_TEXTUAL_SERVE = True
except ImportError:
    HAVE_TEXTUAL_SERVE = False

needs_textual_serve = pytest.mark.skipif(not HAVE_TEXTUAL_SERVE, reason="textual-serve is not installed (labapp[serve])")


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- refusals and notices, in process ---------------------------------------------------------------

@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                            ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                            ("::", False), ("example.org", False)])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert serve_module.is_loopback(host) is loopback


def test_browser_url() -> None:
    assert serve_module.browser_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert serve_module.browser_url("::1", 8765) == "http://[::1]:8765/"
    assert serve_module.browser_url("0.0.0.0", 80) == f"http://{socket.gethostname()}:80/"  # an address to give


@pytest.mark.parametrize("port, message", [("0", "out of range"), ("65536", "out of range"), ("http", "not a whole number")])
def test_a_bad_port_is_one_line_and_exit_2(port: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", port]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@needs_textual_serve
def test_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use" in err and err.count("\n") == 1


def test_without_textual_serve_it_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)  # importing it now raises ImportError
    assert main(["serve", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'labapp[serve]'" in err


class FakeServer:
    """Stands in for textual-serve's Server: records that it was asked to serve."""

    served = False

    def serve(self) -> None:
        """Return at once."""
        FakeServer.served = True


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_another_address_says_in_one_line_what_it_exposes(host: str, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(serve_module, "make_server", lambda host, port: FakeServer())
    FakeServer.served = False
    port = free_port()
    assert main(["serve", "--host", host, "--port", str(port)]) == 0
    assert FakeServer.served
    err = capsys.readouterr().err
    if host == "127.0.0.1":
        assert err == ""  # the default exposes nothing beyond this machine: nothing to say
    else:
        assert err.count("\n") == 1
        assert f"{host}:{port}" in err and "anyone who can reach" in err and "run records" in err


# -- in a browser -----------------------------------------------------------------------------------

HOOK = r"""
// xterm.js keeps its terminal in `_core`: catch each object that gets one, so the test can read
// the screen from the terminal's buffer (the page draws with WebGL: no text in the DOM).
window.__terminals = [];
Object.defineProperty(Object.prototype, '_core', {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, '_core', {value, writable: true, configurable: true});
    window.__terminals.push(this);
  },
});
"""
SCREEN = r"""
(() => {
  const term = window.__terminals.find(t => t.buffer && t.buffer.active && t.rows);
  if (!term || !document.body.classList.contains('-first-byte')) return '';
  const lines = [];
  for (let i = 0; i < term.rows; i++) {
    const line = term.buffer.active.getLine(term.buffer.active.viewportY + i);
    lines.push(line ? line.translateToString(true) : '');
  }
  return lines.join('\n');
})()
"""
KEYS = {"down": ("ArrowDown", "ArrowDown", 40, None), "enter": ("Enter", "Enter", 13, "\r"),
        "r": ("r", "KeyR", 82, "r")}


class Page:
    """One tab of headless chromium, driven over the DevTools protocol."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.calls = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events that arrive meanwhile are skipped)."""
        self.calls += 1
        number = self.calls
        await self.websocket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = await self.websocket.receive_json()
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def screen(self) -> str:
        """The workbench's screen as text, one line per terminal row ('' before the app has drawn)."""
        return await self.evaluate(SCREEN) or ""

    async def until(self, test: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        """The screen, once `test(screen)` holds; fails naming `what` (and showing the screen) after `timeout` s."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = await self.screen()
            if test(screen):
                return screen
            await asyncio.sleep(0.2)
        raise AssertionError(f"the browser never showed {what}; the screen was:\n{screen}")

    async def press(self, name: str) -> None:
        """Press and release a key, as the keyboard would."""
        key, code, key_code, text = KEYS[name]
        event = {"key": key, "code": code, "windowsVirtualKeyCode": key_code, **({"text": text} if text else {})}
        await self.call("Input.dispatchKeyEvent", type="keyDown", **event)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **event)


@contextmanager
def process(args: list[str], **kwargs: Any) -> Iterator[subprocess.Popen]:
    """A process in its own process group, ended with everything it started, however the test ends."""
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    try:
        yield proc
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
        proc.wait()


def wait_for_page(url: str, timeout: float = 20) -> str:
    """The page at `url` once it answers HTTP 200, with a Host header of our choosing."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(url, headers={"Host": "classroom.example:8080"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.status == 200
                return answer.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def devtools_port(profile: Path, timeout: float = 20) -> int:
    """The DevTools port chromium chose (it writes it to DevToolsActivePort in its profile)."""
    deadline = time.monotonic() + timeout
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if marker.is_file() and len(lines := marker.read_text().split()) >= 2:
            return int(lines[0])
        time.sleep(0.1)
    raise AssertionError("chromium did not open its DevTools port")


def braille(screen: str) -> int:
    """How many braille cells (plotext's line dots) the screen shows."""
    return sum("\u2800" <= ch <= "\u28ff" for ch in screen)


def finished_runs(runs: Path, lesson_id: str) -> list[Path]:
    """The runs of `lesson_id` under `runs` whose summary says finished."""
    return [summary.parent for summary in runs.glob(f"{lesson_id}/*/summary.json")
            if '"status": "finished"' in summary.read_text(encoding="utf-8")]


async def drive_workbench(port: int, url: str, shot: Path, runs: Path) -> str:
    """In the browser: see the lesson list, open gradient-descent, run it, watch the chart fill in.

    What the screen must show comes from the lessons themselves (titles, chart titles), not from
    the workbench's wording, so this test follows the workbench's layout as it changes.
    """
    import aiohttp
    import lessons

    lesson = lessons.get("gradient-descent")
    first_words = [other.title.en.split()[0] for other in lessons.LESSONS]
    chart_titles = [chart.title.en for chart in lesson.charts]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json()
        (target,) = [t for t in targets if t["type"] == "page"]
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as websocket:
            page = Page(websocket)
            await page.call("Page.enable")  # (the hook below is only installed on an enabled page)
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=HOOK)
            await page.call("Page.navigate", url=url)
            # textual-serve's start screen stays until the app's first bytes; then the lesson list
            await page.until(lambda s: lesson.title.en in s and all(word in s for word in first_words),
                             "the lesson list")
            await page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
            for _ in range(lessons.LESSONS.index(lesson)):  # the list starts on the first lesson
                await page.press("down")
            await page.press("enter")
            opened = await page.until(lambda s: all(title in s for title in chart_titles), "gradient-descent's charts")
            assert braille(opened) == 0  # nothing charted yet: this runs folder is empty
            await page.press("r")
            deadline = time.monotonic() + 30
            while not finished_runs(runs, lesson.id):  # the tab's workbench records the run as usual
                assert time.monotonic() < deadline, f"no finished run recorded; the screen was:\n{await page.screen()}"
                await asyncio.sleep(0.2)
            await page.until(lambda s: braille(s) > 20, "the run's curves in the charts")
            picture = await page.call("Page.captureScreenshot", format="png")
            shot.write_bytes(base64.b64decode(picture["data"]))
            return await page.screen()


@needs_textual_serve
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_workbench_runs_a_lesson_in_a_browser(runs_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "LABAPP_LANG": "en"}
    server_log = tmp_path / "serve.log"
    with open(server_log, "w") as log, \
            process([sys.executable, "-m", "labapp", "serve", "--port", str(port), "--out", str(runs_dir)],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT) as server:
        try:
            page = wait_for_page(url)
        except OSError:
            pytest.fail(f"labapp serve did not answer; it said:\n{server_log.read_text()}")
        # the page's script and websocket URLs follow the address the browser asked for
        assert 'data-session-websocket-url="ws://classroom.example:8080/ws"' in page
        profile = Path(tempfile.mkdtemp(dir=tmp_path))
        with process([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                      "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1400,900",
                      "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            shot = tmp_path / "workbench.png"
            screen = asyncio.run(asyncio.wait_for(drive_workbench(devtools_port(profile), url, shot, runs_dir), 60))
            # stopping the server (tab still open in the browser) ends every tab's workbench promptly
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=20) == 0
            with pytest.raises(ProcessLookupError):
                os.killpg(server.pid, 0)  # no process left in the server's group: the tab's workbench is gone
    # the screenshot: a real PNG of the page, taken while the screen showed the lesson's title
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 800 and height >= 400
    assert "Gradient descent" in screen
    assert len(finished_runs(runs_dir, "gradient-descent")) == 1

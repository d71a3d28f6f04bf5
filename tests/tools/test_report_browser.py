"""The exported report in a real browser: headless Chromium driven over the DevTools protocol.

Needs /usr/bin/chromium (Debian package `chromium`; scripts/test.sh installs it in
CI) and `websocket-client`.  Outside CI the tests skip when either is missing.
"""
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.evaluation.comparison import BEST_MARK
from helpers.tools.report import NOTEBOOKS
from helpers.notebook import SERIES_MODELS, smoke_run
from tests.tools.report_build import smoke_report


def _missing(message: str):
    if smoke_run():
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and Path("/usr/bin/chromium").is_file():
        path = "/usr/bin/chromium"
    if path is None:
        _missing("headless Chromium not found (install the Debian package `chromium`; scripts/test.sh does in CI)")
    return path


class Browser:
    """A headless Chromium with one page, spoken to over the Chrome DevTools protocol."""

    def __init__(self, executable: str, profile: Path, timeout: float = 60.0):
        import websocket

        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{executable} did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout,
                                                  suppress_origin=True)
        self.next_id, self.events = 0, []
        self.send("Page.enable")
        self.send("Network.enable")

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.1)

    def open(self, path: Path) -> None:
        self.send("Page.navigate", url=path.resolve().as_uri())
        self.wait_for(f"document.readyState === 'complete' && location.href === {json.dumps(path.resolve().as_uri())}")

    def network_requests(self) -> list[str]:
        return [event["params"]["request"]["url"] for event in self.events
                if event.get("method") == "Network.requestWillBeSent"
                and event["params"]["request"]["url"].startswith(("http:", "https:", "ws:", "wss:"))]

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = chromium_path()
    try:
        import websocket  # noqa: F401
    except ImportError:
        _missing("websocket-client is not installed (pip install -r requirements.txt)")
    browser = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def report_index(browser):  # the browser first: without Chromium, skip before spending minutes on the build
    return smoke_report()


ALL_IMAGES_LOADED = ("document.images.length > 0 && "
                     "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")


def test_index_shows_summary_table_and_links(browser, report_index):
    browser.open(report_index)
    rows = browser.evaluate("Array.from(document.querySelectorAll('table#summary tbody tr'))"
                            ".map(r => r.cells[0].textContent)")
    assert [row.replace(f" {BEST_MARK}", "") for row in rows] == list(SERIES_MODELS)
    best = browser.evaluate("Array.from(document.querySelectorAll('table#summary tr.best'))"
                            ".map(r => [r.cells[0].textContent, getComputedStyle(r.cells[0]).fontWeight])")
    assert len(best) == 1 and best[0][0].endswith(BEST_MARK) and int(best[0][1]) >= 700   # marked and bold
    links = browser.evaluate("Array.from(document.querySelectorAll('main a')).map(a => a.getAttribute('href'))")
    assert [name.replace(".ipynb", ".html") for name in NOTEBOOKS] == links
    assert browser.network_requests() == []


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_page_shows_its_figures(browser, report_index, notebook):
    browser.open(report_index.parent / notebook.replace(".ipynb", ".html"))
    browser.wait_for(ALL_IMAGES_LOADED)
    assert browser.evaluate("document.querySelectorAll('.cell').length") > 3
    assert browser.evaluate("document.body.innerText.includes('Traceback')") is False
    assert browser.network_requests() == []


def test_skeleton_animation_renders_and_its_slider_changes_the_frame(browser, report_index):
    browser.open(report_index.parent / "02_skeleton_visualization.html")
    image = "document.querySelector('img[id^=\"_anim_img\"]')"
    slider = "document.querySelector('input[id^=\"_anim_slider\"]')"
    browser.wait_for(f"{image} && {image}.complete && {image}.naturalWidth > 0")
    browser.evaluate(f"{image}.closest('.animation').querySelector('button[title=\"Pause\"]').click()")
    assert int(browser.evaluate(f"{slider}.max")) > 1
    first = browser.evaluate(f"{slider}.value = 0; {slider}.dispatchEvent(new Event('input')); {image}.src")
    assert first.startswith("data:image/png;base64,")
    middle = browser.evaluate(f"{slider}.value = Math.floor({slider}.max / 2); "
                              f"{slider}.dispatchEvent(new Event('input')); {image}.src")
    assert middle.startswith("data:image/png;base64,") and middle != first
    browser.wait_for(f"{image}.complete && {image}.naturalWidth > 0")
    # the buttons carry plain characters, no icon font from a CDN
    assert browser.evaluate(f"{image}.closest('.animation').querySelector('button[title=\"Play\"]')"
                            ".textContent.trim()") == "\u25b6"
    assert browser.network_requests() == []

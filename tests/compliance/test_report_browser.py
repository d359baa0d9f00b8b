"""The report in a real headless Chromium: it loads with no console error and no request
leaving the file, its charts render (the screenshot is not blank), and the document has the
expected structure.

Needs Debian's ``chromium`` (``apt-get install chromium``; ``TRADESPEC_CHROMIUM`` may name
another binary). Without it these tests skip and say so. The DevTools protocol is spoken
over a minimal standard-library websocket client, so no extra package is needed.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import pytest

import dsl
import interpreter as ts
from dsl.explain import explain
from interpreter.report import write_report

ROOT = Path(__file__).resolve().parents[2]
HOW = ("headless Chromium not found; install it to run the browser tests: "
       "`apt-get update && apt-get install -y chromium` (Debian), or set TRADESPEC_CHROMIUM=/path/to/chrome")


def chromium() -> str | None:
    for cand in (os.environ.get("TRADESPEC_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium",
                 shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if cand and Path(cand).is_file():
            return cand
    return None


# ---------------------------------------------------------------- a tiny DevTools client


class DevTools:
    """Just enough RFC 6455 for the DevTools protocol: masked text frames out, frames in."""

    def __init__(self, ws_url: str, timeout: float = 30.0) -> None:
        u = urllib.parse.urlparse(ws_url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n", 1)[0], head
        self.next_id = 0
        self.events: list[dict] = []

    def _send_frame(self, payload: bytes, opcode: int = 0x1) -> None:
        n = len(payload)
        head = bytearray([0x80 | opcode])
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head.append(0x80 | 126)
            head += struct.pack(">H", n)
        else:
            head.append(0x80 | 127)
            head += struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(bytes(head) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def receive(self) -> dict:
        message = b""
        while True:
            b1, b2 = self._read(2)
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b2 & 0x80 else b""
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            op = b1 & 0x0F
            if op == 0x8:
                raise ConnectionError("DevTools closed the connection")
            if op == 0x9:
                self._send_frame(payload, 0xA)
                continue
            if op in (0x0, 0x1, 0x2):
                message += payload
                if b1 & 0x80:
                    return json.loads(message)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        me = self.next_id
        self._send_frame(json.dumps({"id": me, "method": method, "params": params}).encode())
        while True:
            msg = self.receive()
            if msg.get("id") == me:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            if time.monotonic() > end:
                raise TimeoutError(f"no {method} within {timeout}s")
            self.sock.settimeout(max(0.1, end - time.monotonic()))
            self.events.append(self.receive())

    def drain(self, seconds: float) -> None:
        """Collect events for a while (late console messages, late requests)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                self.events.append(self.receive())
            except (TimeoutError, socket.timeout):
                break


# ---------------------------------------------------------------- PNG, decoded with zlib


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and raw RGB(A) rows of an 8-bit non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


# ---------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    exe = chromium()
    if exe is None:
        pytest.skip(HOW)
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        result = ts.backtest("specs/strategies/rsi_reversion.yaml")
        appendix = explain(dsl.analyze(["specs/"]).project, "rsi_reversion").to_html(fragment=True)
    finally:
        os.chdir(here)
    folder = tmp_path_factory.mktemp("browser")
    report = write_report(result, folder / "report.html", appendix)
    profile = folder / "profile"
    proc = subprocess.Popen(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", f"--user-data-dir={profile}", "--remote-debugging-port=0",
         "--window-size=1280,2000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail(f"chromium did not start (exit code {proc.poll()})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.load(resp)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        dt = DevTools(ws_url)
        for domain in ("Page", "Runtime", "Log", "Network"):
            dt.call(f"{domain}.enable")
        dt.events.clear()  # about:blank's own events
        dt.call("Page.navigate", url=report.as_uri())
        dt.wait_for("Page.loadEventFired", 60)
        dt.drain(1.0)
        structure = dt.call("Runtime.evaluate", returnByValue=True, expression=STRUCTURE)["result"]["value"]
        box = dt.call("Runtime.evaluate", returnByValue=True, expression=(
            "(() => { const r = document.getElementById('equity').getBoundingClientRect();"
            " window.scrollTo(0, 0); return [r.left + r.width / 2, r.top + r.height / 2]; })()"))["result"]["value"]
        dt.call("Input.dispatchMouseEvent", type="mouseMoved", x=box[0], y=box[1])
        tip = dt.call("Runtime.evaluate", returnByValue=True,
                      expression="document.querySelector('#equity .hover-tip').textContent")["result"]["value"]
        shot = base64.b64decode(dt.call("Page.captureScreenshot", format="png")["data"])
        dt.drain(0.3)
        yield {"events": dt.events, "structure": structure, "tip": tip, "png": shot, "url": report.as_uri()}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


STRUCTURE = """(() => {
  const ids = ['summary', 'metrics', 'equity-section', 'drawdown-section', 'price-section', 'monthly', 'trades',
               'holds', 'risk', 'appendix'];
  const svg = id => { const e = document.getElementById(id); return e ? e.getBoundingClientRect().width : 0; };
  return {
    title: document.title,
    sections: ids.filter(id => document.getElementById(id) !== null),
    h1: Array.from(document.querySelectorAll('h1')).map(e => e.textContent),
    chartWidths: {equity: svg('equity'), drawdown: svg('drawdown'), price: svg('price')},
    equityPath: (document.querySelector('#equity path.line') || {getTotalLength: () => 0}).getTotalLength(),
    tradeRows: document.querySelectorAll('#trades tbody tr').length,
    monthRows: document.querySelectorAll('#monthly tbody tr').length,
    warnings: document.querySelectorAll('.ts-explain #warnings li').length,
    scripts: Array.from(document.scripts).filter(s => s.src).length,
  };
})()"""


def test_no_console_errors(page):
    errors = [e for e in page["events"] if e["method"] == "Runtime.exceptionThrown"
              or (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
              or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert errors == []


def test_no_external_requests(page):
    urls = [e["params"]["request"]["url"] for e in page["events"] if e["method"] == "Network.requestWillBeSent"]
    assert page["url"] in urls  # the requests were observed at all
    assert [u for u in urls if not u.startswith(("file:", "data:", "about:"))] == []


def test_document_structure(page):
    s = page["structure"]
    assert s["title"].startswith("Backtest report: strategy.rsi_reversion")
    assert s["sections"] == ["summary", "metrics", "equity-section", "drawdown-section", "price-section", "monthly",
                             "trades", "holds", "risk", "appendix"]
    assert s["h1"] == ["Backtest report: strategy.rsi_reversion", "Strategy rsi_reversion"]
    assert all(w > 400 for w in s["chartWidths"].values()), s["chartWidths"]
    assert s["equityPath"] > 100 and s["tradeRows"] >= 1 and s["monthRows"] == 20
    assert s["warnings"] >= 1 and s["scripts"] == 0


def test_hover_readout_works(page):
    assert page["tip"] and page["tip"][:2] in ("19", "20")  # "2008-... 96,123"


def test_screenshot_is_not_blank(page):
    width, height, rows = png_pixels(page["png"])
    assert width >= 1000 and height >= 1000
    colours = set()
    ink = 0
    for row in rows[::7]:
        step = len(row) // width
        for i in range(0, len(row), step * 5):
            px = row[i:i + 3]
            colours.add(px)
            ink += px != b"\xff\xff\xff"
    assert len(colours) > 20, "the page rendered as (almost) one colour"
    assert ink > 500, "the page is (almost) white"

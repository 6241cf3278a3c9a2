"""One headless Chromium for the browser tests, driven over the DevTools pipe.

``--remote-debugging-pipe``: Chromium reads commands on fd 3 and answers on
fd 4, NUL-terminated JSON.  No extra package, no port.  Host resolution is
disabled, so nothing can be fetched; pages are loaded from ``file://``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TIMEOUT = 90  # seconds for one DevTools call or page; a normal one takes under one

COMMON_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
    # Belt and braces: nothing can be resolved, so nothing can be fetched.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
NO_SCRIPT = "--blink-settings=scriptEnabled=false"


def find_chromium() -> str:
    """Debian's chromium; the test is skipped when absent unless ENGAGE_REQUIRE_BROWSER=1."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    message = "no Chromium found on PATH (apt-get install chromium)"
    if os.environ.get("ENGAGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ENGAGE_REQUIRE_BROWSER=1 but {message}", pytrace=False)
    pytest.skip(message)


def _above_four(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Pipe:
    """A minimal DevTools-protocol client over ``--remote-debugging-pipe``.

    Every call has its own deadline (``TIMEOUT``), so one instance can serve
    a whole test session.  Events that arrive while waiting for an answer
    are kept in ``events`` for the caller to read.
    """

    def __init__(self, chromium: str, profile: Path, flags: list[str] | tuple[str, ...] = ()):
        commands_read, self.commands = os.pipe()
        self.answers, answers_write = os.pipe()
        # Above fd 4, so wiring one to 3 cannot clobber the other.
        commands_read, answers_write = _above_four(commands_read), _above_four(answers_write)

        def wire_fds() -> None:  # runs in the child, before exec
            os.dup2(commands_read, 3)
            os.dup2(answers_write, 4)

        self.process = subprocess.Popen(
            [
                chromium,
                *COMMON_FLAGS,
                f"--user-data-dir={profile}",
                *flags,
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=wire_fds,  # safe: tests do not start Chromium from threads
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(answers_write)
        self.deadline = time.monotonic() + TIMEOUT
        self.buffer = b""
        self.last_id = 0
        self.events: list[dict[str, Any]] = []

    def messages(self) -> Iterator[dict[str, Any]]:
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                yield json.loads(raw)
            left = self.deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"Chromium did not answer within {TIMEOUT} s", pytrace=False)
            ready, _, _ = select.select([self.answers], [], [], left)
            if ready:
                chunk = os.read(self.answers, 1 << 16)
                if not chunk:
                    pytest.fail("Chromium closed the DevTools pipe", pytrace=False)
                self.buffer += chunk

    def send(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> int:
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        return self.last_id

    def call(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> Any:
        self.deadline = time.monotonic() + TIMEOUT
        wanted = self.send(method, params, session)
        for message in self.messages():
            if message.get("id") == wanted:
                if "error" in message:
                    pytest.fail(f"DevTools {method} failed: {message['error']}", pytrace=False)
                return message["result"]
            if "method" in message:
                self.events.append(message)
        raise AssertionError("unreachable")

    def wait_for(self, method: str, session: str) -> dict[str, Any]:
        """The next event ``method`` of ``session`` (earlier ones are kept in ``events``)."""
        self.deadline = time.monotonic() + TIMEOUT
        for index, event in enumerate(self.events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self.events.pop(index)
        for message in self.messages():
            if message.get("method") == method and message.get("sessionId") == session:
                return message
            if "method" in message:
                self.events.append(message)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.answers)


class Page:
    """A tab of the shared browser: open, load, evaluate, close."""

    def __init__(self, pipe: Pipe, hook: str = "", javascript: bool = True) -> None:
        self.pipe = pipe
        self.target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = pipe.call(
            "Target.attachToTarget", {"targetId": self.target, "flatten": True}
        )["sessionId"]
        pipe.call("Page.enable", session=self.session)
        pipe.call("Runtime.enable", session=self.session)
        if not javascript:
            pipe.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=self.session)
        if hook:
            pipe.call(
                "Page.addScriptToEvaluateOnNewDocument", {"source": hook}, session=self.session
            )

    def load(self, page: Path) -> None:
        self.pipe.call("Page.navigate", {"url": page.resolve().as_uri()}, session=self.session)
        self.pipe.wait_for("Page.loadEventFired", self.session)

    def evaluate(self, expression: str) -> Any:
        result = self.pipe.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=self.session,
        )
        return result.get("result", {}).get("value")

    def events(self, method: str) -> list[dict[str, Any]]:
        """Events ``method`` of this tab received so far (taken out of the queue)."""
        mine = [
            e
            for e in self.pipe.events
            if e.get("method") == method and e.get("sessionId") == self.session
        ]
        self.pipe.events = [e for e in self.pipe.events if e not in mine]
        return mine

    def close(self) -> None:
        self.pipe.call("Target.closeTarget", {"targetId": self.target})


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipe]:
    """One Chromium for the whole session (each test opens its own tabs)."""
    pipe = Pipe(find_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield pipe
    finally:
        pipe.close()

"""A real browser loads the built page: no comment payload may run.

Static checks can only look for what we thought of; Chromium runs what is
actually there.  Each payload fires by itself on load (no click needed) and,
if it runs, marks ``<html>`` with ``data-pwned-<name>``.  Two positive
controls prove the harness can see a payload fire: a hand-written page with
the payloads raw, and the same site built with the sanitiser switched off.
Only ``file://`` URLs are loaded, and host resolution is disabled.
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
from bs4 import BeautifulSoup

import pelican_engage.sources.local

from .conftest import Site

SLUG = "post"
TIMEOUT = 90  # seconds for one Chromium run; a normal one takes about one


def mark(name: str, target: str = "document") -> str:
    """JavaScript that marks the page if it runs."""
    return f"{target}.documentElement.setAttribute('data-pwned-{name}','1')"


#: name -> payload that runs on load, unsanitised, in Chromium.  (Mutation-XSS
#: vectors that need a sanitise-and-reparse round trip to fire, such as
#: ``<math><mtext><table><mglyph><style>``, do not fire on a plain load; the
#: unit tests in test_sanitize.py cover them.)
BODY_PAYLOADS: dict[str, str] = {
    "script": f"<script>document.title='pwned';{mark('script')}</script>",
    "img-onerror": f'<img src=x onerror="{mark("img-onerror")}">',
    "svg-onload": f'<svg onload="{mark("svg-onload")}"></svg>',
    "autofocus": f'<input autofocus onfocus="{mark("autofocus")}">',
    "details-ontoggle": (
        f'<details open ontoggle="{mark("details-ontoggle")}"><summary>s</summary></details>'
    ),
    "iframe-srcdoc": (
        f'<iframe srcdoc="<script>{mark("iframe-srcdoc", "parent.document")}</script>"></iframe>'
    ),
    "iframe-javascript": (
        f'<iframe src="javascript:{mark("iframe-javascript", "parent.document")}"></iframe>'
    ),
    "body-onload": f'<body onload="{mark("body-onload")}">',
    "style-onload": f'<style onload="{mark("style-onload")}"></style>',
    "audio-onerror": f'<audio src=x onerror="{mark("audio-onerror")}"></audio>',
    "video-source-onerror": f'<video><source onerror="{mark("video-source-onerror")}"></video>',
    "svg-animate-onbegin": (
        f'<svg><animate onbegin="{mark("svg-animate-onbegin")}" attributeName=x dur=1s>'
        "</animate></svg>"
    ),
    "entity-encoded-handler": (
        '<img src=x onerror="&#100;ocument.documentElement.setAttribute'
        '(&#39;data-pwned-entity-encoded-handler&#39;,&#39;1&#39;)">'
    ),
    "comment-trick": f'<!--><img src=x onerror="{mark("comment-trick")}">-->',
    "noscript-title": (
        f'<noscript><p title="</noscript><img src=x onerror={mark("noscript-title")}>">'
    ),
    "mxss-svg-style": f'<svg><style><img src=x onerror="{mark("mxss-svg-style")}"></style></svg>',
}
#: The author field carries a payload too; the template escapes names.
AUTHOR_PAYLOAD = ("author-img", f'<img src=x onerror="{mark("author-img")}">Mallory')
ALL_MARKERS = {f"data-pwned-{name}" for name in [*BODY_PAYLOADS, AUTHOR_PAYLOAD[0]]}
#: One comment per body payload, and one for the author payload.
COMMENTS = len(BODY_PAYLOADS) + 1


def readable(index: int) -> str:
    return f"Readable comment number {index}."


# --------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------

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


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium; skipped when absent unless ENGAGE_REQUIRE_BROWSER=1."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    message = "no Chromium found on PATH (apt-get install chromium)"
    if os.environ.get("ENGAGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ENGAGE_REQUIRE_BROWSER=1 but {message}", pytrace=False)
    pytest.skip(message)


def dump_dom(chromium: str, page: Path, profile: Path) -> BeautifulSoup:
    """Load ``page`` headless, let load events and timers run, return the live DOM."""
    args = [
        chromium,
        *COMMON_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=2000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Chromium did not finish within {TIMEOUT} s loading {page}", pytrace=False)
    if done.returncode != 0 or "<html" not in done.stdout:
        pytest.fail(
            f"Chromium failed ({done.returncode}) on {page}:\n{done.stderr[-2000:]}",
            pytrace=False,
        )
    return BeautifulSoup(done.stdout, "html.parser")


def _above_four(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class _Pipe:
    """A minimal DevTools-protocol client over ``--remote-debugging-pipe``.

    ``--dump-dom`` reads the DOM with JavaScript, so it prints nothing once
    scripts are disabled; the DOM domain of the protocol needs no script.
    Chromium reads commands on fd 3 and answers on fd 4, NUL-terminated JSON.
    """

    def __init__(self, chromium: str, profile: Path, flags: list[str]) -> None:
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
        wanted = self.send(method, params, session)
        for message in self.messages():
            if message.get("id") == wanted:
                if "error" in message:
                    pytest.fail(f"DevTools {method} failed: {message['error']}", pytrace=False)
                return message["result"]
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


def dump_dom_without_javascript(chromium: str, page: Path, profile: Path) -> BeautifulSoup:
    """Load ``page`` with scripting off (``scriptEnabled=false``) and return its DOM."""
    pipe = _Pipe(chromium, profile, [NO_SCRIPT])
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        pipe.call("Page.enable", session=session)
        pipe.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
        for message in pipe.messages():
            if (
                message.get("method") == "Page.loadEventFired"
                and message.get("sessionId") == session
            ):
                break
        root = pipe.call("DOM.getDocument", {"depth": -1}, session=session)["root"]["nodeId"]
        html = pipe.call("DOM.getOuterHTML", {"nodeId": root}, session=session)["outerHTML"]
    finally:
        pipe.close()
    return BeautifulSoup(html, "html.parser")


def fired(dom: BeautifulSoup) -> set[str]:
    """The markers payloads set on ``<html>``, plus "title" if the script payload ran."""
    root = dom.find("html")
    markers = {name for name in (root.attrs if root else {}) if name.startswith("data-pwned")}
    title = dom.find("title")
    if title is not None and title.get_text() == "pwned":
        markers.add("title")
    return markers


def visible_text(dom: BeautifulSoup) -> str:
    return " ".join(dom.get_text(" ").split())


# --------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------


def build_site(root: Path) -> Path:
    """A site whose post has one comment per payload; returns the article's page."""
    site = Site(root)
    site.article(SLUG, body="The article body.")
    for index, (name, payload) in enumerate(BODY_PAYLOADS.items(), start=1):
        site.comment(
            SLUG,
            f"{index:02d}-{name}.md",
            f"{readable(index)}\n\n{payload}",
            author=f"Tester {index}",
            date=f"2026-01-03 10:{index:02d}",
        )
    site.comment(
        SLUG,
        f"{COMMENTS:02d}-{AUTHOR_PAYLOAD[0]}.md",
        readable(COMMENTS),
        author=AUTHOR_PAYLOAD[1],
        date="2026-01-03 11:00",
    )
    # Relative URLs: the page must not point the browser at https://blog.example.
    site.build(SITEURL="", RELATIVE_URLS=True)
    page = site.output / f"{SLUG}.html"
    assert page.exists()
    return page


def raw_page(folder: Path) -> Path:
    """Every payload written straight into a page, as if nothing sanitised it."""
    blocks = [f'<p class="author">{AUTHOR_PAYLOAD[1]}</p>']
    blocks += [
        f'<div class="comment"><p>{readable(index)}</p>\n{payload}\n</div>'
        for index, payload in enumerate(BODY_PAYLOADS.values(), start=1)
    ]
    page = folder / "raw.html"
    page.write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>raw</title></head>\n<body>\n'
        + "\n".join(blocks)
        + "\n</body></html>\n",
        encoding="utf-8",
    )
    return page


@pytest.fixture(scope="module")
def sanitised_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("browser") / "site")


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_positive_control_raw_payloads_run(chromium: str, tmp_path: Path) -> None:
    """Every payload, unsanitised, runs here: otherwise "nothing ran" would prove nothing."""
    got = fired(dump_dom(chromium, raw_page(tmp_path), tmp_path / "profile"))
    expected = ALL_MARKERS | {"title"}
    assert expected <= got, sorted(expected - got)


def test_positive_control_site_without_sanitiser_runs_payloads(
    chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payloads survive Markdown and the template: only the sanitiser stops them."""
    monkeypatch.setattr(pelican_engage.sources.local, "clean_html", lambda html: html)
    got = fired(dump_dom(chromium, build_site(tmp_path / "site"), tmp_path / "profile"))
    expected = {f"data-pwned-{name}" for name in BODY_PAYLOADS} | {"title"}
    assert expected <= got, sorted(expected - got)
    # Names are escaped by the template, so this one cannot run even here.
    assert f"data-pwned-{AUTHOR_PAYLOAD[0]}" not in got


def test_no_payload_runs_in_the_built_page(
    chromium: str, sanitised_page: Path, tmp_path: Path
) -> None:
    dom = dump_dom(chromium, sanitised_page, tmp_path / "profile")
    text = visible_text(dom)
    # The thread really loaded: an empty page would show no markers either.
    assert readable(1) in text and readable(COMMENTS) in text
    assert fired(dom) == set()


def test_every_comment_is_readable_without_javascript(
    chromium: str, sanitised_page: Path, tmp_path: Path
) -> None:
    """Comments are static HTML: readers without JavaScript see every one of them."""
    # The switch works: with it, even the raw payloads stay inert.
    raw = dump_dom_without_javascript(chromium, raw_page(tmp_path), tmp_path / "raw-profile")
    assert fired(raw) == set()
    assert readable(1) in visible_text(raw)

    dom = dump_dom_without_javascript(chromium, sanitised_page, tmp_path / "profile")
    text = visible_text(dom)
    missing = [readable(i) for i in range(1, COMMENTS + 1) if readable(i) not in text]
    assert missing == []
    assert "Tester 1" in text and "Mallory" in text
    assert len(dom.select("li[data-engage-id]")) == COMMENTS

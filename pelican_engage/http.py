"""One polite, bounded HTTP client for every remote source.

requests has no timeout and no size limit by default, and urllib3 would
honour a ``Retry-After`` of a day.  Everything a build fetches goes through
:class:`Client`, which sets connect and read timeouts and a deadline for
each whole request (and the build's fetch budget), retries connection
errors and 5xx a bounded number of times with backoff, turns a long rate
limit into :class:`RateLimited` (so the source is deferred, never slept on),
checks each redirect's target before connecting to it, caps the body at a
size counted after decompression, and names the project in its User-Agent.
Secrets are removed from every message it produces.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3.exceptions
from requests import Session  # by name: Client.requests (the count) shadows the module
from requests.utils import requote_uri

from . import __version__
from .errors import (
    FetchError,
    NotAsked,
    OutOfTime,
    RateLimited,
    SourceUnavailable,
    Unreachable,
)
from .model import parse_timestamp
from .netpolicy import redirect_headers, redirect_refusal
from .slots import RequestSlots
from .together import Together
from .watch import Watch, WatchedAdapter, watching

__all__ = [
    "Client",
    "FetchError",
    "HttpSettings",
    "OutOfTime",
    "RateLimited",
    "Response",
    "SourceUnavailable",
    "Unreachable",
]

PROJECT_URL = "https://github.com/pelican-engage/pelican-engage"
USER_AGENT = f"pelican-engage/{__version__} (+{PROJECT_URL})"
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
#: Bytes of an error answer kept for the source to read (X names missing access there).
_ERROR_BODY = 4096


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    #: Further tries after the first, for connection errors, 5xx and short 429s.
    retries: int = 2
    backoff: float = 0.5
    #: Bytes of body after decompression; a gzip bomb stops here.
    max_bytes: int = 5 * 1024 * 1024
    #: The longest rate-limit wait worth sleeping through; longer defers.
    max_wait: float = 30.0
    max_redirects: int = 5
    #: Seconds for a whole request (connect, headers, body, redirects):
    #: read_timeout alone applies per socket read, which a trickle never trips.
    total_timeout: float = 60.0


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def json(self) -> Any:
        """The body as JSON; a FetchError (not ValueError) when it is not."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise FetchError(
                self.url, f"answered with malformed JSON ({exc})", self.status
            ) from exc


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def parse_reset(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When a rate limit ends, from each network's own header.

    X sends ``x-rate-limit-reset`` and Bluesky ``ratelimit-reset`` as Unix
    seconds; Mastodon sends ``x-ratelimit-reset`` as an ISO 8601 time.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    for name in ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        value = (lower.get(name) or "").strip()
        if not value:
            continue
        if value.isdigit():
            return datetime.fromtimestamp(int(value), timezone.utc)
        try:
            return parse_timestamp(value)
        except ValueError:
            continue
    wait = parse_retry_after(lower.get("retry-after"), now)
    return None if wait is None else datetime.fromtimestamp(now.timestamp() + wait, timezone.utc)


#: A secret shorter than this is redacted only where it stands alone: a
#: one-letter test token must not turn every "t" of a message into
#: "[redacted]" (which would also tell the token).
_SHORT_SECRET = 8


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` without any secret, as written, URL-quoted or repr-escaped."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe=""), repr(secret)[1:-1]}:
                if len(form) >= _SHORT_SECRET:
                    text = text.replace(form, "[redacted]")
                else:
                    alone = rf"(?<![\w.~%-]){re.escape(form)}(?![\w.~%-])"
                    text = re.sub(alone, "[redacted]", text)
    return text


class _RedactingFilter(logging.Filter):
    """urllib3 logs every request line at DEBUG (``pelican -D``), query
    string included, where webmention.io wants its token: it is removed."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            cleaned = redact(message, self.secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_URLLIB3_FILTER = _RedactingFilter()
logging.getLogger("urllib3.connectionpool").addFilter(_URLLIB3_FILTER)


class _Expired(Exception):
    """The request's deadline passed (raised inside the client only)."""


def _pause(sleep: Callable[[float], None], seconds: float, deadline: float) -> bool:
    """Sleep before another try; False when the deadline comes first."""
    if time.monotonic() + max(0.0, seconds) >= deadline:
        return False
    sleep(max(0.0, seconds))
    return True


class Client:
    """Fetches with timeouts, a deadline, bounded retries, rate limits,
    checked redirects and a size cap, on sessions per host and thread.

    ``deadline`` (a ``time.monotonic()`` value, set by the fetch engine from
    ENGAGE_FETCH_BUDGET) stops every request, wherever it is, when the
    build's fetch time is spent.
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        secrets: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] | None = None,
        slots: RequestSlots | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.slots = slots or RequestSlots()  # a fetch's clients share one
        self.together = Together()  # a few of one job's requests at once
        self.secrets = tuple(s for s in secrets if s)
        _URLLIB3_FILTER.secrets.update(self.secrets)
        self._sleep = sleep
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._sessions = _Sessions()
        self._lock = threading.Lock()
        self._requests = 0
        self.deadline: float | None = None

    @property
    def requests(self) -> int:
        """Requests sent so far (each try and each redirect counts), by every thread."""
        return self._requests

    def close(self) -> None:
        self.together.close()
        self._sessions.close()

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        etag: str = "",
        last_modified: str = "",
    ) -> Response:
        """GET ``url``; 304 (with ``etag``/``last_modified``) is a Response.

        Raises :class:`Unreachable` when the host does not answer (no
        connection, a timeout, no whole answer within ``total_timeout``
        seconds), :class:`OutOfTime` when the fetch budget runs out,
        :class:`RateLimited` and :class:`FetchError` otherwise."""
        sent = dict(headers or {})
        if etag:
            sent["If-None-Match"] = etag
        if last_modified:
            sent["If-Modified-Since"] = last_modified
        return self._send(url, params, sent)

    def post_form(self, url: str, data: Mapping[str, str], headers: Mapping[str, str]) -> Response:
        """POST ``data`` form-encoded (an OAuth token request), with :meth:`get`'s
        deadline, retries and errors; a redirect is refused, so the form
        (credentials and all) reaches the URL it was meant for or nothing."""
        return self._send(url, None, dict(headers), data)

    def post_json(self, url: str, payload: Any, headers: Mapping[str, str]) -> Response:
        """POST ``payload`` as JSON (GitHub's GraphQL), as :meth:`post_form`."""
        sent = {**headers, "Content-Type": "application/json"}
        return self._send(url, None, sent, json.dumps(payload).encode("utf-8"))

    def _send(self, url: str, params: Any, sent: dict[str, str], data: Any = None) -> Response:
        """A GET, or a POST of the form ``data``, in a slot of its host."""
        with self.slots.hold(urlsplit(url).netloc, self.deadline, redact(url, self.secrets)):
            return self._tries(url, params, sent, data)

    def _tries(self, url: str, params: Any, sent: dict[str, str], data: Any) -> Response:
        shown = redact(url, self.secrets)
        started = time.monotonic()
        own = started + self.settings.total_timeout
        budget = self.deadline if self.deadline is not None else float("inf")
        deadline = min(own, budget)
        tries = self.settings.retries + 1
        for attempt in range(tries):
            last = attempt == tries - 1
            if time.monotonic() >= budget:
                raise NotAsked(shown, "not asked: the fetch budget is spent")
            trail: list[str] = []
            try:
                response = self._fetch(url, params, sent, deadline, trail, data)
            except _Expired:
                raise _ran_out(shown, trail, budget <= own, self.settings.total_timeout) from None
            except requests.Timeout:
                # Asking again would only wait as long again.
                raise Unreachable(shown, f"timed out{_via(trail)}") from None
            except requests.ConnectionError as exc:
                if last or not _pause(self._sleep, self.settings.backoff * 2**attempt, deadline):
                    if _no_connection(exc):
                        raise Unreachable(shown, f"cannot connect{_via(trail)}") from None
                    # The host took the connection, then dropped it: it answers.
                    raise FetchError(
                        shown, f"connection closed without an answer{_via(trail)}"
                    ) from None
                continue
            except (requests.RequestException, ValueError) as exc:
                # Invalid URLs or headers: requests quotes them, secrets and all.
                problem = redact(f"{type(exc).__name__}: {exc}", self.secrets)
                raise FetchError(shown, problem + _via(trail)) from None
            if response.status == 429 or (
                response.status == 503 and "retry-after" in {k.lower() for k in response.headers}
            ):
                now = self._clock()
                reset = parse_reset(response.headers, now)
                wait = (reset - now).total_seconds() if reset else self.settings.backoff
                if last or wait > self.settings.max_wait or not _pause(self._sleep, wait, deadline):
                    raise RateLimited(shown, reset)
                continue
            if response.status in _RETRY_STATUSES:
                if last or not _pause(self._sleep, self.settings.backoff * 2**attempt, deadline):
                    raise FetchError(shown, f"server error {response.status}", response.status)
                continue
            if response.status >= 400:
                body = redact(response.body[:_ERROR_BODY].decode("utf-8", "replace"), self.secrets)
                raise FetchError(
                    shown, f"HTTP {response.status}", response.status, body.encode("utf-8")
                )
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        deadline: float,
        trail: list[str],
        data: Mapping[str, str] | bytes | None = None,
    ) -> Response:
        """One try, following redirects by hand so that each target is
        checked before it is connected to; ``trail`` collects the targets."""
        with watching(deadline) as watch:
            current, sent = url, dict(headers)
            for _hop in range(self.settings.max_redirects + 1):
                response = self._one(current, params, sent, deadline, watch, data)
                if isinstance(response, Response):
                    return response
                target, source = response, current
                shown = redact(target, self.secrets)
                trail.append(shown)
                # A form (an OAuth request: credentials) goes where it was meant to.
                refusal = "not for a POST" if data else redirect_refusal(source, target)
                if refusal:
                    raise FetchError(
                        redact(url, self.secrets), f"redirect to {shown} refused: {refusal}"
                    )
                sent = redirect_headers(source, target, sent)
                current, params = target, None
            raise FetchError(redact(url, self.secrets), "too many redirects")

    def _one(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        deadline: float,
        watch: Watch,
        data: Mapping[str, str] | bytes | None = None,
    ) -> Response | str:
        """The answer, or the URL a redirect points to."""
        # The fetch engine's threads share one client: += alone is not
        # guaranteed atomic (free-threaded Python, a future __setattr__).
        with self._lock:
            self._requests += 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Expired
        timeout = (
            min(self.settings.connect_timeout, remaining),
            min(self.settings.read_timeout, remaining),
        )
        session = self._sessions.get(url)
        try:
            with session.request(
                "POST" if data else "GET",
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            ) as raw:
                target = session.get_redirect_target(raw)
                if target and raw.status_code in _REDIRECTS:
                    return requote_uri(urljoin(raw.url, target))
                shown = redact(url, self.secrets)
                return _read(raw, shown, self.settings.max_bytes, deadline, watch, self.secrets)
        except (requests.RequestException, OSError):
            if watch.fired or time.monotonic() > deadline:
                raise _Expired from None
            raise


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _read(
    raw: requests.Response,
    shown: str,
    max_bytes: int,
    deadline: float,
    watch: Watch,
    secrets: Iterable[str],
) -> Response:
    """The whole answer of a streamed ``raw`` response, its body capped at
    ``max_bytes`` after decompression (a FetchError naming ``shown``, the
    redacted URL asked, past it or at once for a larger Content-Length);
    _Expired when ``deadline`` passes or ``watch`` fired, which may have
    cut the body short."""
    too_big = f"answer larger than {max_bytes // 1024} KiB; ignored"
    declared = raw.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(shown, too_big, raw.status_code)
    chunks, size = [], 0
    for chunk in raw.iter_content(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(shown, too_big, raw.status_code)
        if time.monotonic() > deadline:
            raise _Expired
        chunks.append(chunk)
    if watch.fired:
        raise _Expired  # the body may have been cut short
    return Response(
        url=redact(raw.url, secrets),
        status=raw.status_code,
        headers=dict(raw.headers),
        body=b"".join(chunks),
    )


class _Sessions:
    """requests Sessions per host and per thread (requests does not promise
    that a Session is thread safe), so connections to one host are reused;
    each sends our User-Agent and has the deadline-watching adapter."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, int], Session] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> Session:
        key = (urlsplit(url).netloc, threading.get_ident())
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = Session()
                # Proxies and CA bundle from the environment, read once per
                # session, not before every request (half of a request's
                # own CPU time); and no .netrc password, sent to whichever
                # host it names: secrets come from ENGAGE_* variables only.
                found = session.merge_environment_settings(url, {}, None, None, None)
                session.trust_env = False
                session.proxies.update(found["proxies"])
                session.verify = found["verify"]
                session.headers["User-Agent"] = USER_AGENT
                adapter = WatchedAdapter()
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._sessions[key] = session
            return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()


def _ran_out(shown: str, trail: list[str], budget_first: bool, total_timeout: float) -> FetchError:
    """Why a request stopped at its deadline: the build's fetch budget
    (``budget_first``), or its own ``total_timeout`` seconds."""
    if budget_first:
        return OutOfTime(shown, f"stopped{_via(trail)}: the fetch budget ran out")
    return Unreachable(
        shown, f"no complete answer{_via(trail)} within {total_timeout:g} s; stopped"
    )


def _no_connection(exc: requests.ConnectionError) -> bool:
    """Whether no connection was made (refused, no route, no such name),
    rather than one dropped by the server."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps it
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _via(trail: list[str]) -> str:
    """ " (redirected to …)" when the failure happened after a redirect."""
    return f" (redirected to {trail[-1]})" if trail else ""

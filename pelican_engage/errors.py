"""Fetch errors, importable without pulling in requests.

Sources raise these and the fetch engine catches them; both are imported by
builds that may never touch the network, so they live apart from the HTTP
client.
"""

from __future__ import annotations

from datetime import datetime


class FetchError(Exception):
    """A request that failed for good; the message names the (redacted) URL.

    ``body`` keeps the start of an error answer, because some APIs (X) say
    in it which access is missing.
    """

    def __init__(
        self, url: str, problem: str, status: int | None = None, body: bytes = b""
    ) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem
        self.status = status
        self.body = body


class SourceUnavailable(FetchError):
    """The whole source cannot work in this build (rate limit, bad token,
    missing API access, request cap): its remaining jobs wait for the next
    build instead of failing one by one."""


class RateLimited(SourceUnavailable):
    """The server asked us to wait longer than is worth waiting in a build."""

    def __init__(self, url: str, reset_at: datetime | None) -> None:
        when = reset_at.isoformat() if reset_at else "an unknown time"
        super().__init__(url, f"rate limited until {when}", status=429)
        self.reset_at = reset_at


class AccessDenied(SourceUnavailable):
    """The service refused our credentials or access level: the user must
    fix a token or an account, so it is told as a warning."""


class Unreachable(FetchError):
    """The host did not answer: no connection, a timeout, or no complete
    answer within the request's deadline.  The fetch engine skips the
    host's other jobs in the build and backs off across builds."""


class OutOfTime(FetchError):
    """The build's fetch budget (ENGAGE_FETCH_BUDGET) ran out before or
    during this request; the host is not to blame."""


class NotAsked(OutOfTime):
    """The fetch budget ran out before this request went out (while it
    waited for a slot of its host, or between tries): nothing was cut
    short, and its job is left for the next build."""

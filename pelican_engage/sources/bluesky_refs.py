"""Where things are on Bluesky: post URLs and at:// URIs, handles, DIDs.

Pure functions, beside ``bluesky.py`` (which re-exports them): a
``bluesky:`` value -> a :class:`PostRef`, an at:// URI -> its bsky.app page,
and the URL shapes dedup and author recognition read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..model import Item

WEB = "https://bsky.app"
#: The handle the AppView shows when an account's handle no longer verifies.
INVALID_HANDLE = "handle.invalid"
_POST_COLLECTION = "app.bsky.feed.post"
_HANDLE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*$", re.I
)
_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2048}$")
_RKEY = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")


@dataclass(frozen=True)
class PostRef:
    """A Bluesky post: its author (handle or DID) and record key."""

    actor: str
    rkey: str

    @property
    def is_did(self) -> bool:
        return self.actor.startswith("did:")

    def uri(self, did: str = "") -> str:
        return f"at://{did or self.actor}/{_POST_COLLECTION}/{self.rkey}"

    @property
    def url(self) -> str:
        return f"{WEB}/profile/{self.actor}/post/{self.rkey}"


def parse_post_ref(value: str) -> PostRef:
    """A bsky.app post URL or an at:// URI; ValueError says what is wrong."""
    value = value.strip()
    if value.startswith("at://"):
        parts = value[len("at://") :].split("/")
        if len(parts) == 3 and parts[1] == _POST_COLLECTION:
            actor, rkey = parts[0], parts[2]
        else:
            raise ValueError(f"{value!r} is not a Bluesky post URI (at://did/{_POST_COLLECTION}/…)")
    else:
        url = urlsplit(value)
        match = re.fullmatch(r"/profile/([^/]+)/post/([^/]+)/?", url.path)
        if url.scheme not in {"http", "https"} or url.netloc.lower() != "bsky.app" or not match:
            raise ValueError(
                f"{value!r} is not a Bluesky post (expected https://bsky.app/profile/you/post/…)"
            )
        actor, rkey = match[1], match[2]
    if not (_DID.match(actor) or _HANDLE.match(actor)) or not _RKEY.match(rkey):
        raise ValueError(f"{value!r} is not a Bluesky post (bad handle, DID or record key)")
    return PostRef(actor, rkey)


def post_url(uri: str, handle: str = "") -> str:
    """The bsky.app page of an at:// post URI (by handle when it is valid,
    else by the DID in the URI, which always works)."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3:
        return ""
    if not _valid_handle(handle):
        handle = ""
    return f"{WEB}/profile/{handle or parts[0]}/post/{parts[2]}"


def _valid_handle(handle: str) -> bool:
    return bool(_HANDLE.match(handle)) and handle.casefold() != INVALID_HANDLE


# -- Answers ------------------------------------------------------------------


# -- URL shapes for dedup and author recognition ------------------------------------------

#: A post URL in dedup's normal form (no scheme).
_POST_URL = re.compile(r"^bsky\.app/profile/([^/]+)/post/([^/?#]+)", re.IGNORECASE)
_PROFILE = re.compile(r"bsky\.app/profile/([^/]+)")


def url_keys(plain: str) -> set[str]:
    """Dedup's key of a post URL in normal form (no scheme): ``bsky:<actor>/<rkey>``."""
    match = _POST_URL.match(plain)
    return {f"bsky:{unquote(match[1]).casefold()}/{match[2]}"} if match else set()


def bridgy_key(_user: str, leaf: str) -> str:
    # Bridgy's Bluesky comment leaf is the reply's at:// URI, quoted.
    leaf = unquote(leaf)
    parts = leaf[5:].split("/") if leaf.startswith("at://") else []
    return f"bsky:{parts[0].casefold()}/{parts[2]}" if len(parts) == 3 else ""


def item_keys(item: Item) -> set[str]:
    # A post is the same under its DID and under its author's handle.
    if not item.id.startswith("bluesky:at://"):
        return set()
    did, _collection, rkey = item.id[len("bluesky:at://") :].split("/", 2)
    keys = {f"bsky:{did.casefold()}/{rkey}"}
    if item.author.handle:
        keys.add(f"bsky:{item.author.handle.casefold()}/{rkey}")
    return keys


def profile(plain: str) -> str | None:
    """The handle (or DID) of a profile URL in normal form (``bsky.app/profile/x``)."""
    match = _PROFILE.fullmatch(plain)
    return match[1] if match else None

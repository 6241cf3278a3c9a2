"""Avatars without tracking: fetched once, kept under the cache, served by the site.

A reader's browser must never contact a stranger's server because a page
shows their picture.  So avatar URLs found in the archive are fetched at
fetch time (``pelican-engage fetch``, or a build that is not offline),
checked (a PNG, JPEG, GIF or WebP by its magic bytes; SVG, which can carry
scripts, is refused), made small (resized with Pillow when it is installed,
otherwise kept only when already small), and stored content-addressed in
``<CACHE_PATH>/engage/avatars/``.  Pages link the copy written into the
output (``engage/avatars/<digest>.<ext>``).  A person without a usable
avatar gets an initials avatar drawn inline.

The store's ``index.json`` maps each URL to its file, or to why it could
not be used (``not an image``, ``too big``, ``unreachable``...) and when;
a failure is asked again after :data:`RETRY_SECONDS`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import re
import shutil
import time
import warnings
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from .atomic import atomic_write

logger = logging.getLogger(__name__)

#: Largest avatar download, in bytes; bigger answers are refused as "too big".
MAX_BYTES = 1024 * 1024
#: Without Pillow nothing can be resized: larger images are refused.
KEEP_BYTES = 64 * 1024
#: Largest picture decoded (width x height), whatever its file size.
MAX_PIXELS = 25_000_000
#: Stored size in pixels (shown at 32-40 px; twice that for sharp screens).
PIXELS = 96
#: A failed avatar is tried again after a day.
RETRY_SECONDS = 86400.0
#: Where an avatar named by an item without a URL counts as coming from: a
#: public address, written as one so that no name is looked up.
_PUBLIC_ORIGIN = "https://1.1.1.1/"
#: Where the used avatars are written, relative to OUTPUT_PATH.
OUTPUT_FOLDER = "engage/avatars"

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
_EXTENSIONS = {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp"}


class AvatarError(ValueError):
    """Why bytes cannot be an avatar; the message is the short reason."""


def sniff(data: bytes) -> str:
    """The image type of ``data`` from its magic bytes: "png", "jpeg", "gif",
    "webp", or "" (SVG, HTML and anything else)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return ""


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def prepare(data: bytes, pixels: int = PIXELS) -> tuple[bytes, str]:
    """``data`` as a small avatar: (bytes, file extension).

    Raises :class:`AvatarError` ("not an image", "too big", "unreadable
    image") when it cannot be one.  With Pillow the image is decoded (which
    also proves it is one), cut to at most ``pixels`` square and saved as
    PNG (WebP and GIF stay themselves when small); without it, only images
    of at most :data:`KEEP_BYTES` are kept, as they are.
    """
    kind = sniff(data)
    if not kind:
        raise AvatarError("not an image")
    if len(data) > MAX_BYTES:
        raise AvatarError("too big")
    image_module = _pillow()
    if image_module is None:
        if len(data) > KEEP_BYTES:
            raise AvatarError("too big")
        return data, _EXTENSIONS[kind]
    try:
        # open() reads the header only: a decompression bomb (a small file
        # that claims a huge picture) stops here, before any pixel is decoded.
        with warnings.catch_warnings():
            # Pillow warns of pictures this big; to us they are just too big.
            warnings.simplefilter("error", image_module.DecompressionBombWarning)
            with image_module.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise AvatarError("too big")
                image.seek(0)
                frame = image.convert("RGBA")
    except AvatarError:
        raise
    except (image_module.DecompressionBombWarning, image_module.DecompressionBombError):
        raise AvatarError("too big") from None
    except Exception as exc:  # Pillow raises many kinds on broken files
        raise AvatarError("unreadable image") from exc
    frame.thumbnail((pixels, pixels))
    out = io.BytesIO()
    frame.save(out, format="PNG", optimize=True)
    return out.getvalue(), "png"


_WORD = re.compile(r"\s+")
_HUES = 360


def initials(name: str) -> str:
    """One or two capital letters for ``name`` ("?" when it has none)."""
    words = [w for w in _WORD.split(name.strip()) if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


@functools.lru_cache(maxsize=4096)
def initials_svg(name: str, size: int = 72, inline: bool = False) -> str:
    """An initials avatar: one or two letters on a colour drawn from the name.

    The same drawing serves pelican_comment_system themes (a file per
    person) and our thread (``inline``: decorative, hidden from screen
    readers, which read the name beside it).
    """
    hue = int(hashlib.md5(name.encode()).hexdigest()[:6], 16) % _HUES
    extra = ' class="engage-avatar engage-initials" aria-hidden="true" focusable="false"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"{extra if inline else ""} width="{size}" '
        f'height="{size}" viewBox="0 0 72 72"><rect width="72" height="72" '
        f'fill="hsl({hue},45%,35%)"/><text x="36" y="36" dy=".35em" text-anchor="middle" '
        'font-family="sans-serif" font-size="30" fill="#fff">'
        f"{escape(initials(name))}</text></svg>" + ("" if inline else "\n")
    )


@dataclass
class Fetched:
    """What one fetch of avatars did."""

    stored: int = 0
    #: (URL, reason) of the avatars that could not be used.
    failed: list[tuple[str, str]] = field(default_factory=list)


class AvatarStore:
    """Avatars under ``folder`` (``<CACHE_PATH>/engage/avatars``) and their index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.index_path = folder / "index.json"
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
            self.index: dict[str, dict[str, Any]] = {
                str(k): v for k, v in data.items() if isinstance(v, dict)
            }
        except (OSError, ValueError, AttributeError):
            self.index = {}
        self._stamp = ""

    @property
    def stamp(self) -> str:
        """Changes whenever the index does (part of the render cache key).
        Asked for by every page: made again only after :meth:`keep` or
        :meth:`fail` changed the index (thousands of entries to dump)."""
        if not self._stamp:
            dump = json.dumps(self.index, sort_keys=True).encode()
            self._stamp = hashlib.sha256(dump).hexdigest()[:16]
        return self._stamp

    def file_for(self, url: str) -> str:
        """The stored file's name for ``url``, or "" (none, or it failed)."""
        entry = self.index.get(url) or {}
        name = str(entry.get("file") or "")
        if name and re.fullmatch(r"[0-9a-f]{64}\.[a-z]{3,4}", name):
            return name
        return ""

    def problem(self, url: str) -> str:
        """Why ``url`` gave no avatar ("" when it did or was never tried)."""
        return str((self.index.get(url) or {}).get("error") or "")

    def due(self, url: str, now: float) -> bool:
        if not url.startswith(("https://", "http://")):
            return False
        entry = self.index.get(url)
        if entry is None:
            return True
        if self.file_for(url):
            return not (self.folder / self.file_for(url)).is_file()
        at = entry.get("at")
        return not isinstance(at, (int, float)) or now - at > RETRY_SECONDS

    def keep(self, url: str, data: bytes) -> str:
        """Check, shrink and store ``data`` fetched from ``url``; the file name.

        Raises :class:`AvatarError` when it cannot be an avatar.
        """
        body, ext = prepare(data)
        name = f"{hashlib.sha256(body).hexdigest()}.{ext}"
        target = self.folder / name
        if not target.is_file():
            atomic_write(target, body)
        self.index[url] = {"file": name}
        self._stamp = ""
        return name

    def fail(self, url: str, reason: str, now: float) -> None:
        self.index[url] = {"error": reason, "at": now}
        self._stamp = ""

    def save(self) -> None:
        try:
            atomic_write(self.index_path, json.dumps(self.index, sort_keys=True, indent=1))
        except OSError as exc:
            logger.debug("engage: could not write %s: %s", self.index_path, exc)

    def fetch(self, urls: Mapping[str, str], client: Any, concurrency: int = 4) -> Fetched:
        """Fetch the avatars of ``urls`` (avatar URL -> URL of the item that
        named it) that are due; never raises for one URL.

        ``client`` is an :class:`~pelican_engage.http.Client` (its size cap
        refuses big answers before they are read whole, and it checks every
        redirect).  A URL that :func:`refusal` refuses is not asked.
        """
        from .errors import FetchError, OutOfTime

        now = time.time()
        result = Fetched()
        wanted = []
        for url in sorted(u for u in urls if self.due(u, now)):
            why = refusal(url, urls[url])
            if why:
                self.fail(url, "refused", now)
                result.failed.append((url, "refused"))
                logger.debug("engage: avatar %s refused: %s", url, why)
            else:
                wanted.append(url)

        def one(url: str) -> tuple[str, bytes | None, str]:
            try:
                return url, client.get(url).body, ""
            except OutOfTime:
                return url, None, ""  # not the avatar's fault: asked again next time
            except FetchError as exc:
                return url, None, "too big" if "larger than" in exc.problem else _reason(exc)

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            for url, body, reason in pool.map(one, wanted):
                if body is None and not reason:
                    continue
                if body is not None:
                    try:
                        self.keep(url, body)
                        result.stored += 1
                        continue
                    except AvatarError as exc:
                        reason = str(exc)
                self.fail(url, reason, now)
                result.failed.append((url, reason))
        if wanted or result.failed:
            self.save()
        return result

    def copy_to(self, output: Path, names: Iterable[str]) -> int:
        """Write the named avatars into ``output/engage/avatars``; how many."""
        written = 0
        folder = output / OUTPUT_FOLDER
        for name in sorted(set(names)):
            source, target = self.folder / name, folder / name
            if target.is_file() or not source.is_file():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written += 1
        return written


def _reason(exc: Exception) -> str:
    from .errors import Unreachable

    if isinstance(exc, Unreachable):
        return "unreachable"
    status = getattr(exc, "status", None)
    return f"HTTP {status}" if status else "refused"


@dataclass
class Avatars:
    """The avatars of one build: what templates call as ``engage_avatar``."""

    store: AvatarStore
    siteurl: str = ""

    def __call__(self, person: Any, size: int = 40) -> Markup:
        """An ``<img>`` of the person's stored avatar, or their initials."""
        name = str(getattr(person, "name", "") or "")
        file = self.store.file_for(str(getattr(person, "avatar", "") or ""))
        if not file:
            return Markup(initials_svg(name, size, inline=True))
        src = f"{self.siteurl.rstrip('/')}/{OUTPUT_FOLDER}/{file}"
        return Markup(
            f'<img class="engage-avatar u-photo" src="{escape(src)}" alt="" '
            f'width="{size}" height="{size}" loading="lazy">'
        )

    def problems(self, urls: Iterable[str]) -> list[tuple[str, str]]:
        """(URL, reason) of the ``urls`` whose avatar could not be used."""
        return [(u, self.store.problem(u)) for u in sorted(set(urls)) if self.store.problem(u)]


def summary_line(problems: list[tuple[str, str]]) -> str:
    """One line for a build's unusable avatars ("" when there are none)."""
    if not problems:
        return ""
    counts: dict[str, int] = {}
    for _url, reason in problems:
        counts[reason] = counts.get(reason, 0) + 1
    reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items()))
    url, reason = problems[0]
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    return (
        f"{len(problems)} avatar(s) not usable ({reasons}); initials are shown instead: "
        f"{url} ({reason}){more}"
    )


def store_for(settings: Any) -> AvatarStore:
    """The build's avatar store, under ``<CACHE_PATH>/engage/avatars``."""
    return AvatarStore(Path(settings.cache_path) / "avatars")


def urls_of(items: Iterable[Any]) -> dict[str, str]:
    """The avatar URLs of the authors of ``items``, each with the URL of an
    item that named it (where it came from, for :func:`refusal`)."""
    found: dict[str, str] = {}
    for item in items:
        avatar = str(getattr(item.author, "avatar", "") or "")
        if avatar:
            found.setdefault(avatar, str(item.url or ""))
    return found


def refusal(url: str, named_by: str) -> str:
    """Why the avatar at ``url`` is not fetched ("" when it may be).

    Strangers choose their avatar URL (a webmention's h-card photo is
    whatever the sender wrote), so it is treated as a redirect from the item
    that named it: link-local and cloud metadata addresses never, private
    ones only when the item itself came from a private address (a network
    on the same LAN, or a test server on loopback).  An item without a URL
    counts as public.
    """
    from .netpolicy import redirect_refusal

    return redirect_refusal(named_by or _PUBLIC_ORIGIN, url)


def fetch_urls(store: AvatarStore, urls: Mapping[str, str], settings: Any) -> Fetched:
    """Fetch the due avatars of ``urls`` within ENGAGE_FETCH_BUDGET seconds,
    ENGAGE_CONCURRENCY at a time; nothing when ENGAGE_AVATARS is off."""
    if not settings.avatars:
        return Fetched()
    now = time.time()
    if not any(store.due(u, now) for u in urls):
        return Fetched()
    from .http import Client, HttpSettings  # requests: only when there is work

    client = Client(HttpSettings(max_bytes=MAX_BYTES, retries=0, total_timeout=15.0))
    client.deadline = time.monotonic() + float(settings.fetch_budget)
    try:
        return store.fetch(urls, client, int(settings.concurrency))
    finally:
        client.close()

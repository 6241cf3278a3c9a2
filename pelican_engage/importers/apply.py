"""Reading an export and merging it into the archive, for the CLI.

Reading is all or nothing (a malformed file raises ImportFormatError before
anything is written); merging maps each exported post to an article by URL,
path or slug, and lists what it could not map.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive import ArchiveError
from ..engine import is_opted_out, post_key, post_of
from . import Export, ImportFormatError, SitePosts

if TYPE_CHECKING:
    from ..engine import Engine

#: A WXR or Disqus export of a big blog is large; a scraped page is not.
MAX_EXPORT_BYTES = 512 * 1024 * 1024


def read_source(path_or_url: str, engine: Engine) -> tuple[bytes, str]:
    """The bytes of a file, or of a page fetched with the polite client."""
    if path_or_url.startswith(("http://", "https://")):
        from ..errors import FetchError
        from ..http import Client

        client = Client()
        try:
            return client.get(path_or_url).body, path_or_url
        except FetchError as exc:
            raise ImportFormatError(f"{exc}") from None
        finally:
            client.close()
    path = Path(path_or_url)
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise ImportFormatError(f"{path}: larger than {MAX_EXPORT_BYTES // 2**20} MiB")
        return path.read_bytes(), ""
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def read_export(fmt: str, path_or_url: str, engine: Engine, page_url: str = "") -> Export:
    data, fetched_url = read_source(path_or_url, engine)
    author = engine.settings.author
    if fmt == "wordpress-wxr":
        from .wordpress_wxr import parse_wxr

        return parse_wxr(data, author, path_or_url)
    if fmt == "disqus":
        from .disqus import parse_disqus

        return parse_disqus(data, author, path_or_url)
    from .wordpress_html import parse_page

    try:
        html = data.decode("utf-8")
    except UnicodeDecodeError:
        html = data.decode("latin-1")  # old WordPress pages were often ISO-8859-1
    return parse_page(html, page_url or fetched_url, engine.settings.timezone, name=path_or_url)


class ImportWriteError(ImportFormatError):
    """The archive could not be written part-way through."""


@dataclass
class ImportReport:
    comments: int = 0
    added: int = 0
    #: Left out: deleted upstream or erased (tombstones, forgotten people).
    refused: int = 0
    posts: set[str] = field(default_factory=set)
    unmapped: list[str] = field(default_factory=list)


def apply_export(
    engine: Engine, articles: Iterable[Any], export: Export, only: str | None = None
) -> ImportReport:
    """Merge ``export`` into the archive, post by post (idempotent)."""
    articles = [a for a in articles if not is_opted_out(a)]
    site = SitePosts.of(
        (post_key(a), str(a.slug), post_of(a, engine.settings.siteurl).url) for a in articles
    )
    known = {post_key(a) for a in articles}
    report = ImportReport()
    plan: dict[str, list[Any]] = {}
    for post in export.posts:
        key = site.find(post)
        if only and len(export.posts) == 1:
            key = only  # one page given with --post: that is where it goes
        if key is None or key not in known:
            report.unmapped.append(post.url or post.slug or post.title or "?")
            continue
        if only and key != only:
            continue
        plan.setdefault(key, []).extend(post.items)
    for key, items in sorted(plan.items()):
        try:
            result = engine.archive.merge(key, items)
        except (ArchiveError, OSError) as exc:
            raise ImportWriteError(
                f"{exc}; the posts before it were imported ({', '.join(sorted(report.posts))}"
                "); fix it and import again (what is there already is not doubled)"
            ) from exc
        report.comments += len(items)
        report.added += result.added
        report.refused += result.refused
        report.posts.add(key)
    return report

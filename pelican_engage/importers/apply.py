"""Reading an export and merging it into the archive, for the CLI.

Reading is all or nothing (a malformed file raises ImportFormatError before
anything is written); merging places each exported post on an article (by
URL, path, ``?p=ID``, slug, ``engage_key`` or ``old_urls``, or as the user
says with ``--post`` and ``--map``), and lists what it could not place with
the remedy for it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive import ArchiveError
from ..engine import is_opted_out, metadata_values, post_key, post_of
from . import Export, ExportedPost, ImportFormatError, SiteArticle, SitePosts, matches

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

        return parse_wxr(data, author, path_or_url, engine.settings.timezone)
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


class PlacementError(ImportFormatError):
    """--post or --map names a key no article has, or a map file is bad."""


def read_map_file(path: str) -> tuple[tuple[str, str], ...]:
    """``OLD_URL,KEY`` rows of a CSV file (a header row, blank lines and
    ``#`` comments are skipped).  PlacementError names the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlacementError(f"{path}: cannot be read ({exc})") from None
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if len(cells) != 2 or not all(cells):
            raise PlacementError(f"{path}, line {number}: expected OLD_URL,KEY, got {row!r}")
        if number == 1 and "://" not in cells[0] and cells[1].casefold() in {"key", "post_key"}:
            continue  # a header
        rows.append((cells[0], cells[1]))
    return tuple(rows)


def parse_map(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``OLD_URL=KEY`` options; the key is after the last ``=`` (URLs hold
    ``=`` in their query, keys never do)."""
    found = []
    for value in values:
        old, sep, key = value.rpartition("=")
        if not sep or not old.strip() or not key.strip():
            raise PlacementError(f"--map {value!r}: expected OLD_URL=KEY")
        found.append((old.strip(), key.strip()))
    return tuple(found)


@dataclass
class ImportReport:
    comments: int = 0
    added: int = 0
    #: Left out: deleted upstream or erased (tombstones, forgotten people).
    refused: int = 0
    posts: set[str] = field(default_factory=set)
    unmapped: list[ExportedPost] = field(default_factory=list)
    #: Exported posts left out because --post asked for another one.
    not_asked: int = 0
    #: --map entries whose OLD_URL names no exported post (a typo?).
    unused_maps: list[str] = field(default_factory=list)


def site_articles(engine: Engine, articles: Iterable[Any]) -> list[SiteArticle]:
    return [
        SiteArticle(
            key=post_key(a),
            slug=str(a.slug),
            url=post_of(a, engine.settings.siteurl).url,
            old_urls=tuple(u for u in metadata_values(a, "old_urls") if " " not in u),
        )
        for a in articles
        if not is_opted_out(a)
    ]


def _check_keys(site: SitePosts, wanted: Iterable[tuple[str, str]]) -> None:
    for where, key in wanted:
        if key not in site.keys:
            known = ", ".join(sorted(site.keys)[:20]) or "none"
            raise PlacementError(
                f"{where}: no article has the key {key!r} (a post key is the article's slug, "
                f"or its engage_key; the site's are: {known})"
            )


def place(
    site: SitePosts,
    export: Export,
    only: str | None = None,
    maps: Sequence[tuple[str, str]] = (),
) -> tuple[dict[str, list[Any]], list[ExportedPost], int]:
    """(post key -> items, unplaced posts, posts not asked for) (pure).

    ``--map`` wins, then the article the post matches; with ``--post KEY``,
    an export of one post goes into KEY, and of several only the post that
    belongs to KEY is imported.
    """
    _check_keys(site, [("--post", only)] if only else [])
    _check_keys(site, [(f"--map {old}={key}", key) for old, key in maps])
    plan: dict[str, list[Any]] = {}
    unmapped: list[ExportedPost] = []
    not_asked = 0
    for post in export.posts:
        key = next((k for old, k in maps if matches(post, old)), None) or site.find(post)
        if only and len(export.posts) == 1:
            key = only  # one post given with --post: that is where it goes
        if key is None:
            if only:
                not_asked += 1
            else:
                unmapped.append(post)
            continue
        if only and key != only:
            not_asked += 1
            continue
        plan.setdefault(key, []).extend(post.items)
    return plan, unmapped, not_asked


def apply_export(
    engine: Engine,
    articles: Iterable[Any],
    export: Export,
    only: str | None = None,
    maps: Sequence[tuple[str, str]] = (),
) -> ImportReport:
    """Merge ``export`` into the archive, post by post (idempotent)."""
    site = SitePosts.of(site_articles(engine, articles))
    plan, unmapped, not_asked = place(site, export, only, maps)
    unused = [f"{old}={key}" for old, key in maps if not any(matches(p, old) for p in export.posts)]
    report = ImportReport(unmapped=unmapped, not_asked=not_asked, unused_maps=unused)
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


def summary(export: Export, report: ImportReport) -> str:
    """What the import did, under a heading per kind of news."""
    lines = [
        f"Read {sum(len(p.items) for p in export.posts)} comment(s) on {len(export.posts)} "
        f"post(s); imported {report.comments} into {len(report.posts)} post(s), "
        f"{report.added} new."
    ]
    if export.skipped:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(export.skipped.items()))
        lines.append(f"Left out: {why}.")
    if report.refused:
        lines.append(
            f"Left out {report.refused} comment(s) deleted or erased earlier (tombstones; "
            "see `pelican-engage forget`)."
        )
    if report.not_asked:
        lines.append(f"{report.not_asked} other exported post(s) left out: --post asked for one.")
    for entry in report.unused_maps:
        lines.append(f"--map {entry}: no exported post has that URL or slug; nothing placed by it.")
    if export.notes:
        lines.append(f"Repaired or guessed while reading ({len(export.notes)}):")
        lines += [f"  {note}" for note in export.notes]
    if report.unmapped:
        lines.append(
            f"Not placed: {len(report.unmapped)} exported post(s) match no article (by URL, "
            "path, slug, engage_key or old_urls). Set `engage_key: OLD_SLUG` or "
            "`old_urls: OLD_URL` on the article, or give --map OLD_URL=KEY (repeatable; "
            "--map-file for a CSV of OLD_URL,KEY rows); --post KEY for a one-post export:"
        )
        for post in report.unmapped:
            # Threads are shown on articles: a page's comments need --map.
            page = " (a WordPress page: map it to an article)" if post.kind == "page" else ""
            lines.append(f"  {post.url or post.slug or post.title or '?'}{page}")
    if export.problems:
        lines.append(f"Problems ({len(export.problems)}):")
        lines += [f"  {problem}" for problem in export.problems]
    return "\n".join(lines) + "\n"


def exit_status(export: Export) -> int:
    """1 when entries were found and every one of them failed."""
    read = sum(len(p.items) for p in export.posts)
    return 1 if read == 0 and export.problems else 0

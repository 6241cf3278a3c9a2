"""A live WordPress site's comments (metadata ``wordpress_comments:``).

The post's URL is enough: its id is found through the REST API (by ``?p=``
in the URL, or by its slug), then ``/wp/v2/comments?post=ID`` is paged with
X-WP-TotalPages.  Sites without pretty permalinks answer at
``/?rest_route=`` instead of ``/wp-json``; that is tried when the first
fails and remembered.  Ids are ``wordpress:<host>/<comment id>``, the same
as the WXR and HTML importers give, so a live fetch and an import merge.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..errors import FetchError, OutOfTime, Unreachable
from ..fetch import Job, Result, Source, url_job
from ..identity import normal_url
from ..model import Item, Person, parse_timestamp
from ..parsed import Skipped, entry_reason
from ..sanitize import clean_html, clean_text, safe_url
from .network import FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

SOURCE = "wordpress"
PER_PAGE = 100
MAX_PAGES = 50


#: WordPress comment types (``comment_type`` in WXR, ``type`` in the REST API,
#: or the Semantic Linkbacks plugin's own) -> item kind.  The Webmention
#: plugin stores likes and reposts as comments of their own type; a bare
#: "webmention" is a mention.  Other types (a shop's order notes) are not
#: conversation.
KINDS = {
    "": "comment",
    "comment": "comment",
    "reply": "comment",
    "pingback": "mention",
    "trackback": "mention",
    "webmention": "mention",
    "mention": "mention",
    "bookmark": "mention",
    "tag": "mention",
    "like": "like",
    "favorite": "like",
    "repost": "repost",
}


def item_id(host: str, comment_id: object) -> str:
    return f"wordpress:{host}/{comment_id}"


#: ``/avatar/<md5 or sha256 of an e-mail address>``: Gravatar's path, which
#: its mirrors (cravatar, libravatar, qiniu's and many CDNs) copy.
_EMAIL_HASH = re.compile(r"/avatar/(?:[0-9a-f]{32}|[0-9a-f]{64})(?:[/?#.]|$)", re.IGNORECASE)


def public_avatar(url: str) -> str:
    """An avatar URL that is safe to publish.

    Gravatar's address is a hash of the commenter's e-mail (and a request to
    a third party from every reader): it is not kept, from any host that
    serves Gravatar's path.
    """
    url = safe_url(url)
    host = urlsplit(url).netloc.casefold()
    if host == "gravatar.com" or host.endswith(".gravatar.com"):
        return ""
    return "" if _EMAIL_HASH.search(urlsplit(url).path + "?") else url


def parse_gmt(value: str) -> datetime:
    """WordPress dates carry no zone: ``date_gmt`` and ``comment_date_gmt``
    are UTC (``2017-02-14T00:00:00`` or ``2017-02-14 00:00:00``)."""
    return parse_timestamp(value)


def parse_comment(comment: Mapping[str, Any], host: str, post_author: int = 0) -> Item:
    """One REST comment; KeyError or ValueError when it cannot be one."""
    avatars = comment.get("author_avatar_urls")
    avatar = ""
    if isinstance(avatars, Mapping) and avatars:
        biggest = max(avatars, key=lambda size: int(size) if str(size).isdigit() else 0)
        avatar = public_avatar(str(avatars[biggest]))
    parent = int(comment.get("parent") or 0)
    content = comment.get("content")
    rendered = content.get("rendered") if isinstance(content, Mapping) else ""
    user = int(comment.get("author") or 0)
    kind = KINDS.get(str(comment.get("type") or "").casefold())
    if kind is None:
        raise ValueError(f"comment type {comment.get('type')!r} is not a comment or a linkback")
    return Item(
        id=item_id(host, int(comment["id"])),
        source=SOURCE,
        kind=kind,
        author=Person(
            name=clean_text(str(comment.get("author_name") or "")) or "Anonymous",
            url=safe_url(str(comment.get("author_url") or "")),
            avatar=avatar,
        ),
        published=parse_gmt(str(comment.get("date_gmt") or comment["date"])),
        # A like's or repost's text is a sentence the plugin wrote.
        content_html="" if kind in {"like", "repost"} else clean_html(str(rendered or "")),
        url=safe_url(str(comment.get("link") or "")),
        in_reply_to=item_id(host, parent) if parent else None,
        # The site's own data says who wrote it: trusted like the archive.
        by_author=bool(post_author and user == post_author),
    )


def parse_comments(
    answer: Any, host: str, post_author: int = 0
) -> tuple[list[Item], tuple[Skipped, ...]]:
    """The comments of one page, and the malformed entries with why."""
    if not isinstance(answer, list):
        raise ValueError("comments answer is not a JSON list")
    items: list[Item] = []
    bad: list[Skipped] = []
    for number, comment in enumerate(answer):
        try:
            items.append(parse_comment(comment, host, post_author))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            name = comment.get("id") if isinstance(comment, Mapping) else None
            bad.append(Skipped(str(name or f"entry {number}"), entry_reason(exc), "comment"))
    return items, tuple(bad)


def job_for(post_key: str, url: str, published: datetime) -> Job:
    return url_job(post_key, SOURCE, url, published, "a WordPress post")


def _same_post(posts: list[Any], url: str) -> Mapping[str, Any]:
    """The post whose link is ``url`` (a slug is unique per blog, not per host)."""
    wanted = normal_url(url)
    for post in posts:
        if isinstance(post, Mapping) and normal_url(str(post.get("link") or "")) == wanted:
            return post
    if len(posts) == 1 and isinstance(posts[0], Mapping) and not posts[0].get("link"):
        return posts[0]
    raise ValueError(f"no post at {url} on this WordPress site")


def _slug(url: str) -> str:
    path = [p for p in urlsplit(url).path.split("/") if p]
    return path[-1] if path else ""


class WordPressSource:
    """Pages a post's approved comments out of the WordPress REST API."""

    name = SOURCE

    def __init__(self, client: Client) -> None:
        self.client = client

    def _api(self, root: str, route: str, **params: Any) -> Any:
        """GET ``route`` under an API root: ``…/wp-json/`` or ``…/?rest_route=``."""
        if "rest_route=" in root:
            return self.client.get(root.split("?", 1)[0], params={"rest_route": route, **params})
        return self.client.get(root.rstrip("/") + route, params=params or None)

    def _roots(self, url: str) -> list[str]:
        """Where the REST API may be, best first.

        A WordPress page names its API in a ``Link: <…>; rel="https://api.w.org/"``
        header, which also finds blogs in a subfolder; otherwise the site
        root's ``/wp-json/``, then ``/?rest_route=`` (no pretty permalinks).
        """
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        roots = [f"{base}/wp-json/", f"{base}/?rest_route=/"]
        try:
            page = self.client.get(url)
        except (Unreachable, OutOfTime):
            raise  # the other roots are on the same silent host
        except FetchError:
            return roots
        links = {k.lower(): v for k, v in page.headers.items()}.get("link", "")
        for match in re.finditer(r'<([^>]+)>\s*;\s*rel="https://api\.w\.org/"', links):
            found = safe_url(match[1])
            if found and urlsplit(found).netloc == parts.netloc:
                roots.insert(0, found)
        return roots

    def _find_post(self, url: str) -> tuple[str, int, int]:
        """(API root, post id, post author id) of the post at ``url``."""
        query = parse_qs(urlsplit(url).query)
        last: Exception | None = None
        for root in self._roots(url):
            try:
                if query.get("p", [""])[0].isdigit():
                    post = self._api(root, f"/wp/v2/posts/{query['p'][0]}").json()
                else:
                    found = self._api(root, "/wp/v2/posts", slug=_slug(url)).json()
                    if not isinstance(found, list):
                        raise FetchError(url, "the REST API did not answer with a list of posts")
                    post = _same_post(found, url)
                return root, int(post["id"]), int(post.get("author") or 0)
            except (Unreachable, OutOfTime):
                raise
            except (FetchError, ValueError) as exc:
                # No /wp-json (no pretty permalinks) answers 404 or HTML;
                # another blog on the host has no post at this URL.
                last = exc
        assert last is not None
        raise last

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        parts = urlsplit(job.target)
        if cursor.get("post_id") and str(cursor.get("api", "")).startswith("http"):
            root, post_id = str(cursor["api"]), int(cursor["post_id"])
            author = int(cursor.get("post_author") or 0)
        else:
            root, post_id, author = self._find_post(job.target)
        items: list[Item] = []
        bad: list[Skipped] = []
        for page in range(1, MAX_PAGES + 1):
            answer = self._api(
                root,
                "/wp/v2/comments",
                post=post_id,
                per_page=PER_PAGE,
                page=page,
                order="asc",
            )
            found, malformed = parse_comments(answer.json(), parts.netloc, author)
            items.extend(found)
            bad += malformed
            headers = {k.lower(): v for k, v in answer.headers.items()}
            total = str(headers.get("x-wp-totalpages") or "1")
            if not found or page >= (int(total) if total.isdigit() else 1):
                break
        out: dict[str, Any] = {"api": root, "post_id": post_id, "post_author": author}
        if bad:
            out["skipped_entries"] = len(bad)
        return Result(tuple(items), out, skipped=tuple(bad))


# -- The network's declaration (see sources/registry.py) ------------------------------


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    return {SOURCE: WordPressSource(setup.client)}


NETWORK = Network(
    name=SOURCE,
    display="WordPress",
    # Its mark, 16x16 in currentColor: a "W" in a ring.
    icon=(
        "M8 .8a7.2 7.2 0 1 0 0 14.4A7.2 7.2 0 0 0 8 .8zm0 1.4a5.8 5.8 0 1 1 0 11.6A5.8 5.8 0"
        " 0 1 8 2.2zM3.9 5.5l2 5.7L7.3 7 6.6 5.5zm3.6 0 2 5.7 1.4-4.2-.7-1.5zm3 0 .8 2.2.9"
        "-2.2z"
    ),
    metadata=("wordpress_comments",),
    job=lambda key, value, published, _settings: job_for(key, value, published),
    # Comment forms: anybody may type any name, so a name alone can be the author's.
    accounts=False,
    fetchers=_fetchers,
)

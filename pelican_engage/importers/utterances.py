"""utterances: the GitHub issues a blog's comments lived in, brought home.

utterances opened one issue per page, titled with the page's term (its
``issue-term``: the path without its first slash and ``.html``, the URL, or
the page's title), and readers commented on it.  Pure functions turn the
REST answers (``/repos/<repo>/issues`` and each issue's ``/comments``, asked
with ``Accept: application/vnd.github.full+json`` for ``body_html``) into an
:class:`Export`; :func:`read_repository` asks for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..model import Item, Person, parse_timestamp
from ..sanitize import clean_html, clean_text, safe_url, text_to_html
from . import Export, ExportedPost, ImportFormatError

if TYPE_CHECKING:
    from ..http import Client

#: Issues and comments per page (GitHub's most).
PER_PAGE = 100
#: Pages of issues at most (10,000 issues).
MAX_PAGES = 100
ACCEPT = "application/vnd.github.full+json"


def term_post(title: str, siteurl: str) -> ExportedPost:
    """Where an issue's title says its page was: a URL (``url`` term), a
    path (``pathname``: placed by the site's URL and path), or a page title
    (``title``: placed by its slug, as Pelican makes slugs)."""
    term = title.strip()
    if term.startswith(("http://", "https://")):
        return ExportedPost(url=term, title=term)
    if " " in term or not term:
        from pelican.settings import DEFAULT_CONFIG
        from pelican.utils import slugify

        slug = slugify(term, regex_subs=DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"])
        return ExportedPost(slug=slug, title=term)
    base = siteurl.rstrip("/") or "https://site.invalid"
    return ExportedPost(
        url=f"{base}/{term.lstrip('/')}", slug=term.rstrip("/").rsplit("/", 1)[-1], title=term
    )


def parse_comment(comment: Mapping[str, Any], repo: str, issue_url: str) -> Item:
    """One issue comment; KeyError/ValueError when it cannot be one."""
    node_id = comment["node_id"]
    if not isinstance(node_id, str) or not node_id:
        raise ValueError("no node_id")
    given = comment.get("user")
    user: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    login = clean_text(str(user.get("login") or "")) or "ghost"
    html = comment.get("body_html")
    url = safe_url(str(comment.get("html_url") or ""))
    return Item(
        id=f"github:{repo}/{node_id}",
        source="github",
        kind="comment",
        author=Person(
            name=login,
            handle=login,
            url=safe_url(str(user.get("html_url") or "")),
            avatar=safe_url(str(user.get("avatar_url") or "")),
        ),
        published=parse_timestamp(str(comment["created_at"])),
        content_html=clean_html(str(html))
        if html
        else text_to_html(str(comment.get("body") or "")),
        url=url,
        reply_url=url or issue_url,
    )


def issue_export(
    issue: Mapping[str, Any], comments: Sequence[Any], repo: str, siteurl: str
) -> tuple[ExportedPost, list[str]]:
    """An issue and its comments -> the exported post, and a line for each
    comment that could not be read."""
    issue_url = safe_url(str(issue.get("html_url") or ""))
    items: list[Item] = []
    problems: list[str] = []
    for n, comment in enumerate(comments):
        try:
            if not isinstance(comment, Mapping):
                raise ValueError("not an object")
            items.append(parse_comment(comment, repo, issue_url))
        except (KeyError, TypeError, ValueError) as exc:
            reason = f"no {exc.args[0]}" if isinstance(exc, KeyError) else str(exc)
            problems.append(f"{repo}#{issue.get('number')} comment {n + 1}: {reason}; left out")
    post = term_post(str(issue.get("title") or ""), siteurl)
    return ExportedPost(
        url=post.url, slug=post.slug, title=post.title, items=tuple(items)
    ), problems


def _pages(
    client: Client, url: str, headers: Mapping[str, str], params: dict[str, Any]
) -> list[Any]:
    """Every entry of a paged REST list (pages of PER_PAGE until a short one)."""
    from ..errors import FetchError

    found: list[Any] = []
    for page in range(1, MAX_PAGES + 1):
        try:
            answer = client.get(
                url, params={**params, "per_page": PER_PAGE, "page": page}, headers=headers
            ).json()
        except FetchError as exc:
            text = exc.body.decode("utf-8", "replace").lower()
            if exc.status in (403, 429) or "rate limit" in text:
                raise ImportFormatError(
                    f"{exc}: GitHub's rate limit (60 requests an hour without a token); "
                    "set ENGAGE_GITHUB_TOKEN, or wait and import again"
                ) from None
            if exc.status == 404:
                raise ImportFormatError(f"{exc}: no such repository, or it is private") from None
            raise ImportFormatError(str(exc)) from None
        if not isinstance(answer, list):
            raise ImportFormatError(f"{url}: the answer is not a list")
        found += answer
        if len(answer) < PER_PAGE:
            break
    return found


def read_repository(repo: str, client: Client, api_url: str, token: str, siteurl: str) -> Export:
    """Every issue of ``repo`` with comments, as an export (nothing written).
    ImportFormatError names the request that failed."""
    headers = {"Accept": ACCEPT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    base = f"{api_url.rstrip('/')}/repos/{repo}/issues"
    issues = _pages(client, base, headers, {"state": "all"})
    posts: list[ExportedPost] = []
    problems: list[str] = []
    skipped: dict[str, int] = {}
    for issue in issues:
        if not isinstance(issue, Mapping) or "pull_request" in issue:
            skipped["pull requests"] = skipped.get("pull requests", 0) + 1
            continue
        count, number = issue.get("comments"), issue.get("number")
        if not isinstance(number, int) or not isinstance(count, int):
            problems.append(f"{repo}: an issue without a number or comment count; left out")
            continue
        if count == 0:
            skipped["issues without comments"] = skipped.get("issues without comments", 0) + 1
            continue
        comments = _pages(client, f"{base}/{number}/comments", headers, {})
        post, bad = issue_export(issue, comments, repo, siteurl)
        posts.append(post)
        problems += bad
    return Export(posts=tuple(posts), skipped=skipped, problems=tuple(problems))

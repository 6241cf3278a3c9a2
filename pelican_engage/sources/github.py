"""GitHub Discussions: a discussion about the post, its comments and replies,
through GitHub's GraphQL API (``POST <api_url>/graphql``, a token needed).

Found two ways: ``github_discussion: <discussion URL>`` metadata, or, with
``ENGAGE_GITHUB = {"repo": "owner/name", "mapping": "pathname"}``, as giscus
maps pages: a discussion in that repository titled with the page's term,
searched once and remembered by number.  Pure parsing is in
``github_parse.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import checks
from ..errors import AccessDenied, FetchError, RateLimited
from ..fetch import Job, Result, Source
from ..model import Item, Problem
from ..parsed import Skipped
from .discussion import RequestCap, RequestCapReached
from .github_parse import (
    MAPPINGS,
    SOURCE,
    as_comments,
    check_repo,
    dig,
    graphql_errors,
    page_term,
    parse_comments,
    parse_discussion_url,
    parse_head,
    pick_discussion,
)
from .network import ArticleView, FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

API_URL = "https://api.github.com"
#: Comments (and replies) per request: GitHub allows up to 100; 50 keeps a
#: query's cost and answer small.
PAGE = 50
_PEOPLE = "author { login url avatarUrl }"
_COMMENT = f"id url createdAt deletedAt isMinimized bodyHTML {_PEOPLE}"
_REPLIES = (
    f"replies(first: {PAGE}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_COMMENT} }} }}"
)
DISCUSSION_QUERY = (
    "query($owner: String!, $name: String!, $number: Int!, $after: String) {"
    " repository(owner: $owner, name: $name) { discussion(number: $number) {"
    f" id number title url createdAt bodyHTML {_PEOPLE}"
    f" comments(first: {PAGE}, after: $after) {{ pageInfo {{ hasNextPage endCursor }}"
    f" nodes {{ {_COMMENT} {_REPLIES} }} }} }} }} }}"
)
REPLIES_QUERY = (
    "query($id: ID!, $after: String) { node(id: $id) { ... on DiscussionComment {"
    f" replies(first: {PAGE}, after: $after) {{ pageInfo {{ hasNextPage endCursor }}"
    f" nodes {{ {_COMMENT} }} }} }} }} }}"
)
SEARCH_QUERY = (
    "query($query: String!) { search(type: DISCUSSION, query: $query, first: 20) {"
    " nodes { ... on Discussion { number title repository { nameWithOwner } } } } }"
)
GONE_QUERY = (
    "query($ids: [ID!]!) { nodes(ids: $ids) {"
    " ... on DiscussionComment { id deletedAt isMinimized } } }"
)


def _target(value: str) -> tuple[str, int, str]:
    """A job's target -> (repo, number or 0, term): a discussion URL, or
    ``<owner/name> <term>`` for a page mapped as giscus does."""
    if value.startswith("https://"):
        ref = parse_discussion_url(value)
        return ref.repo, ref.number, ""
    repo, term = value.split(" ", 1)
    return repo, 0, term


class _Missing(FetchError):
    """The discussion is not there (deleted, moved, or beyond the token)."""


def _next(info: Any) -> str:
    """A connection's next cursor, "" when it has no more pages."""
    if not isinstance(info, Mapping) or not info.get("hasNextPage"):
        return ""
    return str(info.get("endCursor") or "")


@dataclass
class _Haul:
    """What one fetch gathered so far (kept when a later request fails)."""

    head: Item | None = None
    items: list[Item] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: (parent item id, comment node id, cursor) of replies past a first page.
    more: list[tuple[str, str, str]] = field(default_factory=list)
    error: Exception | None = None

    def add(self, items: Any, removed: Any, skipped: Any) -> None:
        self.items += items
        self.removed += removed
        self.skipped += skipped


class GitHubSource:
    """Asks GitHub's GraphQL API, under a per-build request cap."""

    name = SOURCE

    def __init__(
        self,
        client: Client,
        token: str,
        api_url: str = API_URL,
        own_repo: str = "",
        max_requests: int = 30,
        token_env: str = "ENGAGE_GITHUB_TOKEN",
    ) -> None:
        self.client = client
        self.token = token
        self.url = f"{api_url.rstrip('/')}/graphql"
        self.own_repo = own_repo.casefold()
        self.token_env = token_env
        self.cap = RequestCap(SETTING, max_requests)

    def _ask(self, graphql: str, **variables: Any) -> Any:
        """One GraphQL request; its answer (``errors`` may be in it)."""
        self.cap.take()
        try:
            answer = self.client.post_json(
                self.url,
                {"query": graphql, "variables": variables},
                {"Authorization": f"bearer {self.token}"},
            ).json()
        except FetchError as exc:
            text = exc.body.decode("utf-8", "replace").lower()
            if exc.status == 403 and "rate limit" in text:
                raise RateLimited(exc.url, None) from None
            if exc.status in (401, 403):
                raise AccessDenied(
                    exc.url,
                    f"GitHub refused the token in ${self.token_env} (HTTP {exc.status}); "
                    "it needs read access to the repositories' discussions",
                    exc.status,
                ) from None
            raise
        if any(e.get("type") == "RATE_LIMITED" for e in graphql_errors(answer)):
            raise RateLimited(self.url, None)
        return answer

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        repo, number, term = _target(job.target)
        out: dict[str, Any] = {}
        if term:
            remembered = cursor.get("number")
            number = remembered if isinstance(remembered, int) else 0
            if not number:
                query = f'repo:{repo} in:title "{term.replace(chr(34), "")}"'
                number = pick_discussion(self._ask(SEARCH_QUERY, query=query), repo, term) or 0
                if not number:
                    # Remembered: asked again only when the job is next due.
                    return Result((), {"number": 0})
            out["number"] = number
        haul = _Haul()
        try:
            self._comments(repo, number, haul)
            for parent, node_id, end in haul.more:
                self._replies(repo, haul, parent, node_id, end)
        except (FetchError, RequestCapReached, ValueError) as exc:
            if haul.head is None:
                if term and isinstance(exc, _Missing):
                    # Deleted, or moved: the search runs again next time.
                    return Result((), {"number": 0})
                raise
            haul.error = exc  # what came is kept; the job stays due
        assert haul.head is not None
        items = haul.items
        if repo.casefold() == self.own_repo:
            items = as_comments(haul.head, items)
        whole = haul.error is None
        return Result(
            tuple(items),
            out,
            error=haul.error,
            gone=tuple(haul.removed),
            skipped=tuple(haul.skipped),
            complete=frozenset(i.id for i in items) if whole else None,
        )

    def _comments(self, repo: str, number: int, haul: _Haul) -> None:
        """The discussion and its comments, page by page, into ``haul``."""
        owner, name = repo.split("/", 1)
        after: str | None = None
        while True:
            answer = self._ask(DISCUSSION_QUERY, owner=owner, name=name, number=number, after=after)
            discussion = dig(answer, "data", "repository", "discussion")
            if not isinstance(discussion, Mapping):
                why = "; ".join(str(e.get("message")) for e in graphql_errors(answer))
                raise _Missing(
                    f"https://github.com/{repo}/discussions/{number}",
                    f"no such discussion ({why or 'not found'}); check the "
                    "'github_discussion:' metadata and the token's access",
                )
            if haul.head is None:
                haul.head = parse_head(discussion, repo)
                haul.items.append(haul.head)
            page = parse_comments(discussion.get("comments"), repo, haul.head)
            haul.add(page.items, page.removed, page.skipped)
            haul.more += [(parent, node, end) for parent, node, end, _shown in page.more_replies]
            after = _next(dig(discussion, "comments", "pageInfo"))
            if not after:
                return

    def _replies(self, repo: str, haul: _Haul, parent: str, node_id: str, after: str) -> None:
        """The replies of one comment past its first page, into ``haul``
        (``parent``: the comment's item id, or the submission's when the
        comment is not shown)."""
        assert haul.head is not None
        while after:
            answer = self._ask(REPLIES_QUERY, id=node_id, after=after)
            replies = dig(answer, "data", "node", "replies")
            page = parse_comments(replies, repo, haul.head, parent)
            haul.add(page.items, page.removed, page.skipped)
            after = _next(dig(replies, "pageInfo"))

    def confirm_gone(self, job: Job, result: Result, archived: Mapping[str, Item]) -> list[str]:
        """Archived comments of this discussion missing from its whole answer,
        asked for by node id in one request: a null node (NOT_FOUND), or one
        deleted or minimized, is gone."""
        roots = {i.root for i in result.items if i.root}
        wanted = [
            item_id_
            for item_id_, item in archived.items()
            if item.root in roots and item_id_ not in (result.complete or ())
        ][:100]
        if not wanted:
            return []
        try:
            answer = self._ask(GONE_QUERY, ids=[w.rsplit("/", 1)[1] for w in wanted])
        except (FetchError, RequestCapReached):
            return []  # a failure confirms nothing
        nodes = dig(answer, "data", "nodes")
        if not isinstance(nodes, list) or len(nodes) != len(wanted):
            return []
        missing = {tuple(e.get("path") or ()) for e in graphql_errors(answer)}
        return [
            w
            for n, (w, node) in enumerate(zip(wanted, nodes, strict=True))
            if (node is None and ("nodes", n) in missing)
            or (isinstance(node, Mapping) and (node.get("deletedAt") or node.get("isMinimized")))
        ]


# -- The network's declaration (see sources/registry.py) ------------------------------

SETTING = "ENGAGE_GITHUB"
SETTING_KEYS = frozenset({"repo", "mapping", "api_url", "token_env", "max_requests"})


@dataclass(frozen=True)
class GitHubSettings:
    """ENGAGE_GITHUB, checked; a dict by default (metadata only)."""

    enabled: bool = True
    #: The comment repository giscus used ("owner/name"); "" maps no page.
    repo: str = ""
    mapping: str = "pathname"
    api_url: str = API_URL
    token_env: str = "ENGAGE_GITHUB_TOKEN"
    max_requests: int = 30


def load_settings(settings: Mapping[str, Any]) -> GitHubSettings:
    """ENGAGE_GITHUB of the Pelican settings; SettingsError names a bad key."""
    key = SETTING
    section = checks.section(settings, key, SETTING_KEYS)
    defaults = GitHubSettings()
    repo = section.get("repo", "")
    if repo:
        try:
            repo = check_repo(repo)
        except ValueError as exc:
            raise checks.SettingsError(f"{key}['repo']", str(exc)) from None
    mapping = section.get("mapping", defaults.mapping)
    if mapping not in MAPPINGS:
        raise checks.SettingsError(
            f"{key}['mapping']", f"expected one of {', '.join(MAPPINGS)}, got {mapping!r}"
        )
    cap = checks.number(
        section.get("max_requests", defaults.max_requests), f"{key}['max_requests']", 1, whole=True
    )
    return GitHubSettings(
        enabled=settings.get(key, {}) is not None,
        repo=repo,
        mapping=mapping,
        api_url=checks.api_url(section, key, defaults.api_url),
        token_env=checks.env_name(section, key, defaults.token_env),
        max_requests=int(cap),
    )


def _article_jobs(
    settings: GitHubSettings, article: ArticleView
) -> tuple[list[Job], list[Problem]]:
    """The discussions the metadata names; without any, the one giscus would
    map the page to in ``repo`` (needs SITEURL for "pathname" and "url")."""
    if not settings.enabled:
        return [], []
    host = urlsplit(settings.api_url).netloc
    jobs: list[Job] = []
    problems: list[Problem] = []
    for value in article.values("github_discussion"):
        try:
            ref = parse_discussion_url(value)
        except ValueError as exc:
            problems.append(Problem(f"post {article.key}", f"metadata 'github_discussion': {exc}"))
            continue
        jobs.append(Job(article.key, SOURCE, ref.url, host, article.published))
    if settings.repo and not jobs and not problems:
        title = str(article.metadata.get("title") or "")
        if not article.url and settings.mapping in ("pathname", "url"):
            why = f"needs SITEURL: the {settings.mapping!r} mapping names pages by their URL"
            return [], [Problem(SETTING, why)]
        term = page_term(settings.mapping, article.url, title)
        if term:
            jobs.append(
                Job(article.key, SOURCE, f"{settings.repo} {term}", host, article.published)
            )
    return jobs, problems


def _unready(settings: GitHubSettings, secrets: Mapping[str, str], jobs: int) -> str:
    if secrets.get(settings.token_env):
        return ""
    return (
        f"no token in ${settings.token_env} (GitHub's GraphQL API needs one); {jobs} "
        "discussion(s) not fetched, archived comments are still shown"
    )


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: GitHubSettings = setup.settings
    token = setup.secrets.get(settings.token_env, "")
    if not token:
        return {}
    return {
        SOURCE: GitHubSource(
            setup.client,
            token,
            api_url=settings.api_url,
            own_repo=settings.repo,
            max_requests=settings.max_requests,
            token_env=settings.token_env,
        )
    }


def profile(url: str) -> str | None:
    """``github.com/<login>`` (a normal profile URL) -> the login."""
    parts = url.split("/")
    if len(parts) == 2 and parts[0] == "github.com" and parts[1] and "." not in parts[1]:
        return parts[1]
    return None


NETWORK = Network(
    name=SOURCE,
    display="GitHub",
    # Its mark, 16x16 in currentColor: two speech balloons, one behind the other.
    icon=(
        "M1.5 2h8A1.5 1.5 0 0 1 11 3.5v4A1.5 1.5 0 0 1 9.5 9H5.3L2.6 11.3V9H1.5A1.5 1.5 0 0 1"
        " 0 7.5v-4A1.5 1.5 0 0 1 1.5 2zM12 5h2.5A1.5 1.5 0 0 1 16 6.5v4a1.5 1.5 0 0 1-1.5 1.5"
        "h-1.1v2.3L10.7 12H6.5A1.5 1.5 0 0 1 5 10.5V10h5a2 2 0 0 0 2-2z"
    ),
    metadata=("github_discussion",),
    discussion=True,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    setting_default={},
    load_settings=load_settings,
    secrets=lambda settings: (settings.token_env,),
    unready=_unready,
    fetchers=_fetchers,
    profile=profile,
    # Not ``job``: the metadata is read only while the setting is on.
    article_jobs=_article_jobs,
)

"""Discourse: a topic about the post (metadata ``discourse: <topic URL>``),
its posts threaded by ``reply_to_post_number``.

The forum is public and needs no key: ``/t/<id>.json`` gives the topic, its
first posts and ``post_stream.stream`` (every post id in order); the rest
come from ``/t/<id>/posts.json?post_ids[]=...``, 20 at a time, as
Discourse's own client asks.  Pure parsing is in ``discourse_parse.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import checks
from ..errors import FetchError
from ..fetch import Job, Result, Source
from ..model import Item, Problem
from .discourse_parse import SLUG, SOURCE, Topic, parse_posts, parse_submission, parse_topic_url
from .discussion import RequestCap, RequestCapReached
from .network import ArticleView, FetchSetup, Network

if TYPE_CHECKING:
    from ..http import Client

#: Post ids per ``posts.json`` request (Discourse's client asks for 20).
CHUNK = 20
#: At most this many archived posts missing from the stream are asked about
#: per fetch (each is one request); the rest are asked next time.
MAX_CONFIRM = 10
SETTING = "ENGAGE_DISCOURSE"
SETTING_KEYS = frozenset({"max_requests"})


def job_for(post_key: str, value: str, published: datetime) -> Job:
    """The job of a ``discourse:`` value; its target is the topic's short URL
    (``<base>/t/<id>``), so every form of the same topic shares a cursor."""
    topic = parse_topic_url(value)
    return Job(post_key, SOURCE, topic.url, topic.host, published)


def _not_there(exc: FetchError, topic: Topic) -> FetchError:
    """A 403/404/410 for the topic: the metadata names a topic the public
    cannot read (private category, deleted, mistyped)."""
    return FetchError(
        exc.url,
        f"topic {topic.id} is not public or does not exist (HTTP {exc.status}); "
        "check the 'discourse:' metadata",
        exc.status,
    )


class DiscourseSource:
    """Fetches one topic per job, under a per-build request cap."""

    name = SOURCE

    def __init__(self, client: Client, max_requests: int = 30) -> None:
        self.client = client
        self.cap = RequestCap(SETTING, max_requests)

    def _get(self, url: str, **kwargs: Any) -> Any:
        self.cap.take()
        return self.client.get(url, headers={"Accept": "application/json"}, **kwargs)

    def fetch(self, job: Job, cursor: Mapping[str, Any]) -> Result:
        topic = parse_topic_url(job.target)
        kept = {k: v for k, v in cursor.items() if k != "fetched_at"}
        try:
            answer = self._get(f"{topic.url}.json", etag=str(cursor.get("etag") or ""))
        except FetchError as exc:
            if exc.status in (403, 404, 410):
                raise _not_there(exc, topic) from None
            raise
        if answer.not_modified:
            return Result((), kept)
        head, stream, posts = parse_submission(answer.json(), topic)
        have = {p.get("id") for p in posts if isinstance(p, Mapping)}
        # Posts newer than any fetched before come first: a topic longer than
        # one build's ENGAGE_DISCOURSE['max_requests'] still gets its new posts,
        # and the older ones are refreshed with what the cap leaves.
        remembered = cursor.get("known")
        known = remembered if isinstance(remembered, int) else 0
        missing = [pid for pid in stream if pid not in have and pid > known]
        missing += [pid for pid in stream if pid not in have and pid <= known]
        error: Exception | None = None
        for start in range(0, len(missing), CHUNK):
            ids = missing[start : start + CHUNK]
            try:
                page = self._get(
                    f"{topic.base}/t/{topic.id}/posts.json", params={"post_ids[]": ids}
                )
                more = page.json().get("post_stream", {}).get("posts")
            except (FetchError, RequestCapReached) as exc:
                error = exc  # what came is kept; the job stays due
                break
            except AttributeError:
                more = None
            if not isinstance(more, list):
                # Said, not skipped: the posts asked for would be missing
                # from the page without a word.
                error = FetchError(page.url, "answer is not a Discourse post list")
                break
            posts += more
        parsed = parse_posts(posts, topic, head)
        items = (head, *parsed.items)
        fetched = {p.get("id") for p in posts if isinstance(p, Mapping)} & set(stream)
        out: dict[str, Any] = {
            "posts": len(stream),
            "known": max([known, *(p for p in fetched if isinstance(p, int))]),
        }
        # The topic's answer covers only its first posts: a 304 says nothing
        # of a later post edited, hidden or deleted, so its validator is
        # kept only when that answer held every post.  Merged into the old
        # cursor on a failure: "" there, or the missing posts would wait.
        etag = answer.headers.get("ETag") or answer.headers.get("etag") or ""
        out["etag"] = etag if etag and not missing and error is None else ""
        return Result(
            items,
            out,
            error=error,
            gone=parsed.removed,
            skipped=parsed.skipped,
            complete=frozenset(i.id for i in items) if error is None else None,
        )

    def confirm_gone(self, job: Job, result: Result, archived: Mapping[str, Item]) -> list[str]:
        """Archived posts of this topic missing from its whole stream: a
        public forum leaves deleted posts out, so each is asked for by id;
        404/410, or an answer marking it deleted or hidden, confirms it."""
        topic = parse_topic_url(job.target)
        head = f"{SOURCE}:{topic.host}/t/{topic.id}"
        wanted = [
            item_id
            for item_id, item in archived.items()
            if item.root == head and item_id not in (result.complete or ())
        ]
        gone: list[str] = []
        for item_id in sorted(wanted)[:MAX_CONFIRM]:
            number = item_id.rsplit("/", 1)[1]
            try:
                answer = self._get(f"{topic.base}/posts/{number}.json").json()
            except FetchError as exc:
                if exc.status in (404, 410):
                    gone.append(item_id)
                continue  # a refusal or a failure confirms nothing
            except RequestCapReached:
                break
            if isinstance(answer, Mapping) and (
                answer.get("deleted_at") or answer.get("user_deleted") or answer.get("hidden")
            ):
                gone.append(item_id)
        return gone


# -- The network's declaration (see sources/registry.py) ------------------------------


@dataclass(frozen=True)
class DiscourseSettings:
    """ENGAGE_DISCOURSE, checked."""

    #: ENGAGE_DISCOURSE is a dict (the default); None turns it off.
    enabled: bool = True
    #: Requests per build at most, over every topic and forum.
    max_requests: int = 30


def load_settings(settings: Mapping[str, Any]) -> DiscourseSettings:
    """ENGAGE_DISCOURSE of the Pelican settings; SettingsError names a bad key."""
    section = checks.section(settings, SETTING, SETTING_KEYS)
    value = section.get("max_requests", DiscourseSettings.max_requests)
    cap = checks.number(value, f"{SETTING}['max_requests']", 1, whole=True)
    return DiscourseSettings(enabled=settings.get(SETTING, {}) is not None, max_requests=int(cap))


def _article_jobs(
    settings: DiscourseSettings, article: ArticleView
) -> tuple[list[Job], list[Problem]]:
    """A job per ``discourse:`` topic of the article (none when off)."""
    if not settings.enabled:
        return [], []
    jobs: list[Job] = []
    problems: list[Problem] = []
    for value in article.values("discourse"):
        try:
            jobs.append(job_for(article.key, value, article.published))
        except ValueError as exc:
            problems.append(Problem(f"post {article.key}", f"metadata 'discourse': {exc}"))
    return jobs, problems


def _fetchers(setup: FetchSetup) -> dict[str, Source]:
    settings: DiscourseSettings = setup.settings
    return {SOURCE: DiscourseSource(setup.client, max_requests=settings.max_requests)}


#: A topic or post link, as dedup sees it (scheme gone, lower case): any
#: subfolder, the slug or none, a post number or none, a share link's query.
_LINK = re.compile(rf"([^/]+)(?:/[^/]+)*?/t/(?:{SLUG}/)?(\d+)(?:/(\d+))?(?:\?.*)?")


def _url_keys(plain: str) -> set[str]:
    """``forum.example/t/slug/123/4?u=ann`` and ``forum.example/t/123/4``
    name one post: one key for both (a webmention or a copy elsewhere links
    the post by either); ``/t/123`` and ``/t/123/1`` are the topic's id."""
    found = _LINK.fullmatch(plain)
    if not found:
        return set()
    host, topic, number = found.groups()
    if number in (None, "1"):
        return {f"{SOURCE}:{host}/t/{topic}"}
    return {f"{SOURCE}:{host}/t/{topic}/{number}"}


NETWORK = Network(
    name=SOURCE,
    display="Discourse",
    # Its mark, 16x16 in currentColor: a round speech balloon with a hole.
    icon=(
        "M8 1a7 7 0 1 1-3.3 13.2L1 15l.8-3.6A7 7 0 0 1 8 1z"
        "M8 4.2a3.8 3.8 0 1 0 0 7.6 3.8 3.8 0 1 0 0-7.6z"
    ),
    metadata=("discourse",),
    discussion=True,
    setting=SETTING,
    setting_keys=SETTING_KEYS,
    # On: it only ever asks about topics the metadata names.
    setting_default={},
    load_settings=load_settings,
    fetchers=_fetchers,
    # Not ``job``: the metadata is read only while the setting is on.
    article_jobs=_article_jobs,
    url_keys=_url_keys,
)

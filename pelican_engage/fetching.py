"""Fetch what is due for a build's articles: clients, secrets, sources.

The :class:`~pelican_engage.engine.Engine` never touches the network; this
module does, for the plugin and the CLI.  Each network of the registry
builds its own source(s) from its settings (``Network.fetchers``); here they
get one HTTP client each, their secrets from the environment, and one wall
clock for the whole fetch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import articles as arts
from .archive import ArchiveError
from .backoff import HostBackoff
from .fetch import Fetcher, Job, Refresh, Source, Summary, save_unsaved
from .sources.registry import NETWORKS, FetchSetup, Network

if TYPE_CHECKING:
    from .engine import Engine

logger = logging.getLogger(__name__)

Progress = Callable[[Job, str, int, int], None]


def secret(name: str) -> str:
    """A token from the environment; one with a space or line break inside
    (a pasted file, two values) cannot be sent and is treated as missing."""
    value = os.environ.get(name, "").strip()
    if value and any(ch.isspace() or ord(ch) < 32 for ch in value):
        logger.warning("engage: $%s holds a space or line break; the token is ignored", name)
        return ""
    return value


def owner_of(source: str) -> Network | None:
    """The network a job's source belongs to ("twitter-discover" is X's)."""
    for network in NETWORKS:
        if source in (network.fetch_names or (network.name,)):
            return network
    return None


def _found(engine: Engine, job: Job) -> str:
    try:
        cursor = engine.archive.load(job.post_key).cursors.get(job.cursor_key) or {}
    except ArchiveError:
        return ""
    found = cursor.get("found") if isinstance(cursor, Mapping) else None
    return str(found[0]) if isinstance(found, list) and found else ""


def fetch(
    engine: Engine,
    articles: Iterable[Any],
    force: bool = False,
    progress: Progress | None = None,
    select: Callable[[Job], bool] | None = None,
) -> tuple[Summary, int]:
    """Fetch what is due for ``articles``; the summary and the job count.

    ``progress(job, outcome, requests, due)`` is called as each job ends:
    its outcome (see :meth:`Fetcher.run`), the requests sent so far and
    the number of due jobs.  ``select`` keeps only some jobs (``--source``).
    """
    articles = list(articles)
    settings = engine.settings
    refused = save_unsaved(engine.archive)
    wanted = select or (lambda _job: True)
    jobs = [j for j in engine.jobs(articles) if wanted(j)]

    def secrets_of(networks: Iterable[Network]) -> dict[str, str]:
        # Read when needed: a malformed token is only worth a warning then.
        return {
            name: secret(name)
            for network in networks
            for name in network.secrets(settings.network(network.name))
        }

    secrets = secrets_of(n for n in NETWORKS if n.unready)
    summary = Summary(unsaved=refused)
    unready: set[str] = set()
    for network in NETWORKS:
        mine = sum(1 for j in jobs if owner_of(j.source) is network)
        why = (
            network.unready(settings.network(network.name), secrets, mine)
            if network.unready
            else ""
        )
        if why:
            unready.add(network.name)
            if mine:
                summary.messages[network.name] = why
                logger.info("engage: %s: %s", network.name, why)
    jobs = [j for j in jobs if getattr(owner_of(j.source), "name", "") not in unready]
    now = datetime.now(timezone.utc)
    discovery = [
        j
        for j in arts.discovery_jobs(articles, settings, engine.archive, now)
        if wanted(j) and getattr(owner_of(j.source), "name", "") not in unready
    ]
    if not jobs and not discovery:
        return summary, 0
    # Imported here: requests alone costs a build that fetches nothing
    # (offline, or no announcements) a tenth of a second.
    from .http import Client

    secrets.update(secrets_of(n for n in NETWORKS if not n.unready))
    clients = {}
    sources: dict[str, Source] = {}
    for network in NETWORKS:
        if network.fetchers is None or network.name in unready:
            continue
        net_settings = settings.network(network.name)
        names = network.secrets(net_settings)
        client = clients[network.name] = Client(secrets=[secrets[n] for n in names])
        setup = FetchSetup(
            settings=net_settings,
            engage=settings,
            secrets={n: secrets[n] for n in names},
            client=client,
            jobs=[j for j in jobs if owner_of(j.source) is network],
            report=engine.report,
        )
        sources.update(network.fetchers(setup))

    planned = 0  # due jobs of this fetch so far (discovery can add some)

    def tick(job: Job, outcome: str) -> None:
        if progress:
            progress(job, outcome, sum(c.requests for c in clients.values()), planned)

    fetcher = Fetcher(
        engine.archive,
        sources,
        refresh=Refresh(**settings.refresh),
        concurrency=settings.concurrency,
        budget_seconds=settings.fetch_budget,
        backoff=HostBackoff(settings.cache_path / "hosts.json"),
        retry_hosts=force,
    )
    # One wall clock for the whole fetch: every request stops with it (the
    # fetcher gave them its count of requests at once, per host and in all).
    deadline = fetcher.start()
    for client in clients.values():
        client.deadline = deadline
    by_key = {arts.post_key(a): a for a in articles}
    found_by: dict[tuple[str, str], Network] = {}
    due = fetcher.due(discovery, force=force)
    planned += len(due)
    if due:
        summary.add(fetcher.run(due, progress=tick))
        for job in due:
            announced = _found(engine, job)
            finder = owner_of(job.source)
            if announced and finder is not None:
                summary.discovered.append((job.post_key, announced))
                found_by[(job.post_key, announced)] = finder
        # Found announcements are fetched in this same build.
        for job_key, _url in summary.discovered:
            jobs += [j for j in engine.jobs([by_key[job_key]]) if wanted(j)]
    due = fetcher.due(jobs, force=force)
    planned += len(due)
    if due:
        summary.add(fetcher.run(due, progress=tick))
    for name, client in clients.items():
        if client.requests:
            summary.requests_by_source[name] = client.requests
        client.close()
    summary.requests = sum(summary.requests_by_source.values())
    for post, url in summary.discovered:
        network = found_by[(post, url)]
        logger.info(
            "engage: %s is announced on %s; add '%s: %s' to its metadata",
            engine.origin(by_key[post]),
            network.display,
            network.metadata[0] if network.metadata else network.name,
            url,
        )
    return summary, len(jobs) + len(discovery)


def fetch_and_tell(engine: Engine, articles: list[Any]) -> dict[str, str]:
    """:func:`fetch` (not offline), then one INFO line saying what it did
    (the build's); offline, a warning when there is no archive to read.
    Returns the archive files it could not write (file -> the error, told
    already); empty when none."""
    if engine.settings.offline:
        if not engine.settings.archive_path.is_dir() and engine.jobs(articles):
            # Offline, the archive is all there is of the networks' replies.
            logger.warning(
                "engage: the archive folder %s does not exist (ENGAGE_ARCHIVE_PATH, relative "
                "to the settings file); offline, only local comments are shown",
                engine.settings.archive_path,
            )
        return {}
    summary, jobs = fetch(engine, articles)
    if not jobs:
        return dict(summary.unsaved)
    billed = ", ".join(
        f"{count} to {network.display}"
        for network in NETWORKS
        if network.billed and (count := summary.requests_by_source.get(network.name, 0))
    )
    errors = sum(summary.errors.values())
    logger.info(
        "engage: %d of %d announcement(s) due, %d fetched: %d new item(s), "
        "%d request(s)%s, %d error(s); %.2f s",
        summary.jobs,
        jobs,
        summary.jobs - summary.skipped - errors,
        summary.new_items,
        summary.requests,
        f" ({billed})" if billed else "",
        errors,
        summary.seconds,
    )
    return dict(summary.unsaved)

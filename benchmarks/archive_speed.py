#!/usr/bin/env python3
"""Build speed and memory of pelican-engage on a site whose replies come from the archive.

What it measures
    ``pelican content`` on a generated site of N articles, each announced on
    Mastodon (``mastodon:`` metadata) with M archived replies in its
    ``ENGAGE_ARCHIVE_PATH`` file, built offline (``ENGAGE_OFFLINE=1``), three ways:

    plain  ``PLUGINS = []``: the same articles, no conversations.
    cold   ``PLUGINS = ["pelican_engage"]`` with an empty CACHE_PATH: every archive
           file is read, checked, threaded and rendered.
    warm   The same, right after a cold build, with the cache it left.

    Each build is a fresh process into an emptied output folder.  Rounds are
    interleaved (plain, cold, warm), and each round's cold/plain and warm/plain
    ratios are taken from builds seconds apart, so the machine's drift (it is
    shared) hits both sides of a ratio alike; the report gives the medians of
    these paired ratios, for wall time and for CPU time (user + sys of the
    build, its worker processes included), each build's peak RSS (``wait4``'s
    ``ru_maxrss``: the largest single process) and the peak memory of all its
    processes together (tree_memory.py: summed PSS, sampled every 50 ms).

    Engage's own time per post is the CPU time an engage build takes beyond
    the plain build of the same round, divided by the posts (the plugin's
    summary line says the time in its receivers too, at INFO level).

Correctness
    Every build must report N articles, and after every engage build the sample
    article's page must hold all M replies (``data-engage-id=``) with each
    nested reply's parent (``data-engage-parent=``).

``--sizes 500x25,2000x25,10000x10`` runs several sites one after the other and
ends with a table of engage's own time per post.  ``--check`` exits 1 when a
target is missed; ``--profile`` adds a cProfile of one build of each kind.

    python benchmarks/archive_speed.py                       # 2,000 x 25, 3 rounds
    python benchmarks/archive_speed.py --sizes 500x25,2000x25,10000x10 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import build_speed as common
from tree_memory import TreeMemory

COLD_TARGET = 1.5
WARM_TARGET = 1.1
RSS_TARGET = 2.0
KINDS = ("plain", "cold", "warm")
HOST = "social.example"
NAMES = common.NAMES


@dataclass
class Site:
    root: Path
    content: Path
    archive: Path
    articles: int
    replies: int
    sample_slug: str = ""
    sample_nested: int = 0
    pycache: Path | None = None


def _status(rng: random.Random, n: int, post_id: int, parents: list[int], when: datetime) -> dict:
    """A Mastodon status in the API's JSON shape (as a context answer gives it)."""
    user = rng.choice(NAMES)
    username = re.sub(r"\W", "", user.lower()) or "reader"
    parent = rng.choice(parents) if parents and rng.random() < 0.4 else post_id
    words = " ".join(rng.choice(common.WORDS) for _ in range(rng.randint(8, 40)))
    link = ""
    if rng.random() < 0.4:
        link = f' <a href="https://example.net/p/{rng.randint(1, 9999)}">a link</a>'
    return {
        "id": str(n),
        "created_at": when.isoformat().replace("+00:00", "Z"),
        "in_reply_to_id": str(parent),
        "visibility": "public",
        "url": f"https://{HOST}/@{username}/{n}",
        "content": f'<p><span class="h-card">@robin</span> {words}.{link}</p>',
        "favourites_count": rng.randint(0, 5),
        "reblogs_count": rng.randint(0, 2),
        "account": {
            "username": username,
            "acct": username,
            "display_name": user,
            "url": f"https://{HOST}/@{username}",
            "avatar_static": f"https://{HOST}/avatars/{username}.png",
        },
    }


def generate_site(root: Path, articles: int, replies: int, seed: int) -> Site:
    """Articles with a ``mastodon:`` announcement and their archive files."""
    from pelican_engage.archive import PostRecord, atomic_write_json
    from pelican_engage.sources.mastodon import parse_statuses
    from pelican_engage.sources.mastodon_refs import parse_status_url

    rng = random.Random(seed)
    content = root / "content"
    posts = content / "posts"
    posts.mkdir(parents=True)
    archive = root / "archive"
    (archive / "posts").mkdir(parents=True)
    site = Site(root, content, archive, articles, replies)
    start = datetime(2018, 1, 1, 9, 0)
    status_id = 100000
    for n in range(1, articles + 1):
        slug = f"post-{n:05d}-{rng.choice(common.WORDS)}"
        date = start + timedelta(hours=n * 7, minutes=rng.randint(0, 59))
        status_id += 1
        post_id = status_id
        toot = f"https://{HOST}/@robin/{post_id}"
        header = (
            f"Title: {common._sentence(rng, 3, 8).rstrip('.?!')}\n"
            f"Slug: {slug}\n"
            f"Date: {date:%Y-%m-%d %H:%M}\n"
            f"Category: {rng.choice(common.CATEGORIES)}\n"
            f"Tags: {', '.join(sorted(rng.sample(common.TAGS, 2)))}\n"
            f"Mastodon: {toot}\n\n"
        )
        (posts / f"post-{n:05d}.md").write_text(header + common.article_body(rng), "utf-8")
        statuses, parents = [], []
        when = date.replace(tzinfo=timezone.utc)
        nested = 0
        for _ in range(replies):
            status_id += 1
            when += timedelta(minutes=rng.randint(1, 600))
            status = _status(rng, status_id, post_id, parents, when)
            nested += status["in_reply_to_id"] != str(post_id)
            statuses.append(status)
            parents.append(status_id)
        ref = parse_status_url(toot)
        items = parse_statuses(statuses, ref, HOST).items
        cursor = {
            "fetched_at": when.isoformat(),
            "counts": {"replies": replies, "favourites": 3, "reblogs": 1},
            "domain": HOST,
        }
        record = PostRecord(
            key=slug, items={i.id: i for i in items}, cursors={f"mastodon:{toot}": cursor}
        )
        atomic_write_json(archive / "posts" / f"{slug}.json", record.to_dict())
        if n == (articles + 1) // 2:
            site.sample_slug, site.sample_nested = slug, nested
    return site


@dataclass
class Build:
    kind: str
    settings: Path
    output: Path
    cache: Path
    log: Path


#: Extra settings lines of the engage builds (--no-report-page).
EXTRA: list[str] = []


def write_settings(site: Site, kind: str) -> Build:
    base = "engage" if kind != "plain" else kind
    build = Build(
        kind,
        site.root / f"conf_{kind}.py",
        site.root / f"out_{kind}",
        site.root / f"cache_{base}",
        site.root / f"log_{kind}.txt",
    )
    plugins = [] if kind == "plain" else ["pelican_engage"]
    build.settings.write_text(
        "\n".join(
            [
                f"AUTHOR = {common.SITE_AUTHOR!r}",
                "SITENAME = 'Engage archive benchmark'",
                f"SITEURL = {common.SITEURL!r}",
                f"PATH = {str(site.content)!r}",
                "TIMEZONE = 'UTC'",
                "DEFAULT_LANG = 'en'",
                f"PLUGINS = {plugins!r}",
                f"CACHE_PATH = {str(build.cache)!r}",
                f"ENGAGE_ARCHIVE_PATH = {str(site.archive)!r}",
                "ENGAGE_AUTHOR = {'mastodon': ['@robin@social.example']}",
                *EXTRA,
                "",
            ]
        ),
        "utf-8",
    )
    return build


@dataclass
class Measure:
    wall: float
    cpu: float
    #: Peak resident set size of the largest process, MB (wait4).
    rss: float
    #: Peak memory of the build's processes together (summed PSS, sampled), MB.
    mem: float = float("nan")
    #: CPU seconds beyond the plain build of the same round (set by measure()).
    engage: float = float("nan")


def run_build(site: Site, build: Build, profile: Path | None = None) -> Measure:
    common.empty(build.output)
    if build.kind == "cold":
        common.empty(build.cache)
    elif build.kind == "warm" and not build.cache.is_dir():
        raise SystemExit("warm build without the cache of a cold build")
    if hasattr(os, "sync"):
        os.sync()
    env = dict(os.environ, ENGAGE_OFFLINE="1", PYTHONPYCACHEPREFIX=str(site.pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    shim = common.Site(site.root, site.content, site.articles, 0)
    started = time.perf_counter()
    with open(build.log, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            common.pelican_command(shim, build, profile),  # type: ignore[arg-type]
            cwd=site.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        memory = TreeMemory(proc.pid)
        # wait4: this child's CPU time (its reaped workers' included) and peak RSS.
        _pid, status, usage = os.wait4(proc.pid, 0)
        mem = memory.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    text = build.log.read_text("utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"{build.kind} build failed ({proc.returncode}); log: {build.log}\n{text}")
    done = common._DONE.search(text)
    if not done or int(done[1]) != site.articles:
        raise SystemExit(f"{build.kind} build: expected {site.articles} articles; log {build.log}")
    problems = [
        line
        for line in text.splitlines()
        if "WARNING" in line or "ERROR" in line or "conversations are left out" in line
    ]
    if problems:
        raise SystemExit(f"{build.kind} build: {len(problems)} problem(s): {problems[0].strip()}")
    rss = usage.ru_maxrss / 1024  # KB on Linux
    if sys.platform == "darwin":
        rss /= 1024  # bytes there
    return Measure(wall, usage.ru_utime + usage.ru_stime, rss, mem)


def check_output(site: Site, build: Build) -> None:
    """The sample article shows all its archived replies, threaded."""
    page = (build.output / f"{site.sample_slug}.html").read_text("utf-8")
    ids, parents = page.count("data-engage-id="), page.count("data-engage-parent=")
    if ids != site.replies or parents != site.sample_nested:
        raise SystemExit(
            f"{build.kind} build is wrong: {site.sample_slug}.html has {ids} data-engage-id "
            f"(expected {site.replies}) and {parents} data-engage-parent "
            f"(expected {site.sample_nested})"
        )


@dataclass
class Results:
    runs: dict[str, list[Measure]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def ratios(self, kind: str, what: str) -> list[float]:
        return [
            getattr(m, what) / getattr(p, what)
            for m, p in zip(self.runs[kind], self.runs["plain"], strict=True)
        ]

    def median(self, kind: str, what: str) -> float:
        return statistics.median(getattr(m, what) for m in self.runs[kind])


def report(results: Results, site: Site, rounds: int) -> bool:
    print()
    print(
        f"{site.articles} articles x {site.replies} archived replies "
        f"({site.articles * site.replies} items), {rounds} round(s), "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)"
    )
    print(
        f"{'build':<6} {'wall s':>7} {'CPU s':>7} {'RSS MB':>7} {'mem MB':>7} {'+CPU s':>9} "
        f"{'wall x':>7} {'CPU x':>6} {'RSS x':>6} {'mem x':>6}   paired wall ratios"
    )
    for kind in KINDS:
        ratios = results.ratios(kind, "wall")
        print(
            f"{kind:<6} {results.median(kind, 'wall'):>7.2f} {results.median(kind, 'cpu'):>7.2f} "
            f"{results.median(kind, 'rss'):>7.1f} {results.median(kind, 'mem'):>7.1f} "
            f"{results.median(kind, 'engage'):>9.3f} "
            f"{statistics.median(ratios):>7.2f} "
            f"{statistics.median(results.ratios(kind, 'cpu')):>6.2f} "
            f"{statistics.median(results.ratios(kind, 'rss')):>6.2f} "
            f"{statistics.median(results.ratios(kind, 'mem')):>6.2f}   "
            + " ".join(f"{r:.2f}" for r in ratios)
        )
    print(
        "(x: medians of each round's ratio to the plain build of the same round; RSS: the\n"
        " largest process's peak; mem: the peak of all the build's processes together, summed PSS)"
    )
    passed = True
    for kind, what, target in (
        ("cold", "wall", COLD_TARGET),
        ("warm", "wall", WARM_TARGET),
        ("cold", "rss", RSS_TARGET),
        ("warm", "rss", RSS_TARGET),
        ("cold", "mem", RSS_TARGET),
        ("warm", "mem", RSS_TARGET),
    ):
        ratio = statistics.median(results.ratios(kind, what))
        cpu = statistics.median(results.ratios(kind, "cpu")) if what == "wall" else ratio
        ok = ratio <= target or cpu <= target
        passed &= ok
        print(
            f"target {kind} {what}: {ratio:.2f}x (CPU {cpu:.2f}x) <= {target}x plain  "
            f"{'PASS' if ok else 'FAIL'}"
        )
    return passed


def warm_up(root: Path, pycache: Path, seed: int) -> None:
    site = generate_site(root, 4, 3, seed)
    site.pycache = pycache
    for kind in KINDS:
        run_build(site, write_settings(site, kind))
    shutil.rmtree(root)


def measure(root: Path, articles: int, replies: int, args: argparse.Namespace) -> tuple:
    started = time.perf_counter()
    site = generate_site(root, articles, replies, args.seed)
    site.pycache = root.parent / "pycache"
    print(
        f"site: {articles} articles x {replies} archived replies in {root} "
        f"({time.perf_counter() - started:.1f} s to generate)",
        flush=True,
    )
    builds = {kind: write_settings(site, kind) for kind in KINDS}
    results = Results()
    for n in range(1, args.rounds + 1):
        for kind in KINDS:
            m = run_build(site, builds[kind])
            if kind != "plain":
                m.engage = m.cpu - results.runs["plain"][-1].cpu
            results.runs[kind].append(m)
            if kind != "plain":
                check_output(site, builds[kind])
            print(
                f"round {n}/{args.rounds} {kind:<5} {m.wall:6.2f} s wall {m.cpu:6.2f} s CPU "
                f"{m.rss:6.1f} MB RSS {m.mem:6.1f} MB mem, +{m.engage:.2f} s CPU over plain",
                flush=True,
            )
    passed = report(results, site, args.rounds)
    if args.profile:
        profile_site = common.Site(site.root, site.content, site.articles, 0)
        profile_site.pycache = site.pycache
        for kind in KINDS:
            path = site.root / f"profile_{kind}.prof"
            run_build(site, builds[kind], profile=path)
            print(f"profile of a {kind} build: {path}")
    return passed, results, site


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--replies", type=int, default=25)
    parser.add_argument("--sizes", help="several sites, e.g. 500x25,2000x25,10000x10")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--profile", action="store_true", help="cProfile one build of each kind")
    parser.add_argument("--workdir", type=Path, help="build here (kept) instead of a temp folder")
    parser.add_argument(
        "--no-report-page",
        action="store_true",
        help="ENGAGE_REPORT_PAGE = None: what the rest costs without the author's page",
    )
    parser.add_argument(
        "--delete-between",
        action="store_true",
        help="delete the emptied folders right before each build, not after the run",
    )
    args = parser.parse_args(argv)
    common.DELETE_BETWEEN = args.delete_between
    if args.no_report_page:
        EXTRA.append("ENGAGE_REPORT_PAGE = None")
    sizes = [(args.articles, args.replies)]
    if args.sizes:
        sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    if args.workdir:
        shutil.rmtree(args.workdir, ignore_errors=True)
        args.workdir.mkdir(parents=True)
        root, cleanup = args.workdir.resolve(), None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="engage-archive-bench-")
        root = Path(cleanup.name)
    try:
        warm_up(root / "warm-up", root / "pycache", args.seed)
        print(f"{common.plugin_version()}; load average: {common._fmt(common._load())}")
        passed, per_post = True, []
        for articles, replies in sizes:
            folder = root / f"site-{articles}x{replies}"
            ok, results, _site = measure(folder, articles, replies, args)
            passed &= ok
            per_post.append(
                (
                    articles,
                    replies,
                    *(1e3 * results.median(k, "engage") / articles for k in ("cold", "warm")),
                )
            )
        print()
        print("engage's own time per post (ms of CPU beyond plain Pelican, median over rounds):")
        print(f"{'posts':>7} {'replies':>8} {'cold':>7} {'warm':>7}")
        for articles, replies, cold, warm in per_post:
            print(f"{articles:>7} {replies:>8} {cold:>7.3f} {warm:>7.3f}")
        print(f"load average after: {common._fmt(common._load())}")
        print(json.dumps({"passed": passed}))
    finally:
        common.delete_set_aside()
        if cleanup is not None:
            cleanup.cleanup()
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())

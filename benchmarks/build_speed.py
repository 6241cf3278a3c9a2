#!/usr/bin/env python3
"""Build speed of pelican-engage against plain Pelican: the speed check of the issue.

What it measures
    The wall time of ``pelican content`` on a generated site of N articles with M
    local comments each, laid out as pelican_comment_system lays them out
    (``content/comments/<slug>/<name>.md``), for three builds:

    plain  ``PLUGINS = []``; the comment folder is excluded from articles and pages,
           so Pelican does the same work as for a site without comments.
    cold   ``PLUGINS = ["pelican_engage"]`` with an empty CACHE_PATH and an empty
           ENGAGE_ARCHIVE_PATH: every comment file is read and rendered.
    warm   The same, right after a cold build, with the cache it left.

    Every build is a fresh ``python -m pelican`` subprocess (interpreter start and
    imports included, as a user sees it) with its own settings file and an empty
    output folder.  Rounds are interleaved (plain, cold, warm) so that drift of the
    machine hits all three alike; the median of each is reported.  The CPU time
    (user + sys) of each build is shown too: on a busy machine it is steadier than
    the wall time, which the targets use.  Byte code is compiled by an untimed
    warm-up build, into a folder of the temporary site.

Why
    Comments must not make a site slow to build: pelican_comment_system turns every
    comment into a Pelican content object and takes about 6.6x the plain build on
    this site (figure from the issue, not measured here).  The targets
    (issue 16) are cold <= 1.8x plain and warm <= 1.1x plain, as medians of
    each round's ratio to the plain build of the same round.

Correctness
    A fast but broken build must not pass: every build must report N articles
    (so comment files were not read as articles), and after the engage builds one
    article page must hold M ``data-engage-id=`` attributes and one
    ``data-engage-parent=`` per reply.

It prints a report and exits 0; with ``--check`` it exits 1 when a target is
missed.  ``--profile`` adds a cProfile of one build of each kind.

    python benchmarks/build_speed.py                       # 500 x 20, 3 rounds
    python benchmarks/build_speed.py --articles 50 --rounds 1
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
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
from datetime import datetime, timedelta
from pathlib import Path

try:
    import resource
except ImportError:  # Windows: no CPU times of child processes
    resource = None  # type: ignore[assignment]

COLD_TARGET = 1.8
WARM_TARGET = 1.1
#: pelican_comment_system on this site, from the issue (not measured here).
PCS_RATIO = 6.6

SITE_AUTHOR = "Robin Author"
SITEURL = "https://blog.example.org"
KINDS = ("plain", "cold", "warm")

_VOCABULARY = (
    "the a build static site comment reader theme template article plugin cache "
    "markdown feed server python deploy release fast slow render output page "
    "thread reply author question answer example config setting folder file "
    "network archive index tag category draft version change error warning "
    "simple careful honest quick useful strange broken fixed better worse "
    "because although when while after before since until unless and but or "
    "we you they it this that these those some many few every each other"
)
WORDS = tuple(_VOCABULARY.split())
NAMES = (
    "Ada Lovelace",
    "Grace Hopper",
    "Linus",
    "Margaret H.",
    "Ken T.",
    "Barbara Liskov",
    "anon reader",
    "Dennis",
    "Frances Allen",
    "Guido",
    "Sophie W.",
    "Alan K.",
)
CATEGORIES = ("python", "web", "notes", "travel", "tools", "essays", "releases", "misc")
TAGS = tuple(f"tag{n:02d}" for n in range(40))
SNIPPETS = (
    "pip install pelican-engage",
    "PLUGINS = ['pelican_engage']\nENGAGE_DISPLAY_DEPTH = 4",
    "for path in folder.glob('*.md'):\n    print(path.read_text())",
    "$ pelican content -s publishconf.py",
)


# Site generation ---------------------------------------------------------------
def _sentence(rng: random.Random, lo: int = 6, hi: int = 18) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    if rng.random() < 0.15:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    if rng.random() < 0.1:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}`"
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def _paragraph(rng: random.Random, lo: int = 2, hi: int = 5) -> str:
    sentences = [_sentence(rng) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.4:
        word = rng.choice(WORDS)
        sentences.insert(
            rng.randrange(len(sentences) + 1),
            f"See [the {word} notes](https://example.com/{word}/{rng.randint(1, 999)}).",
        )
    return " ".join(sentences)


def _list(rng: random.Random) -> str:
    marker = rng.choice(("-", "*", "1."))
    return "\n".join(f"{marker} {_sentence(rng, 3, 8)}" for _ in range(rng.randint(2, 4)))


def _code(rng: random.Random) -> str:
    return f"```\n{rng.choice(SNIPPETS)}\n```"


def comment_body(rng: random.Random) -> str:
    """A few sentences, some bold, usually a link, sometimes a list or code."""
    blocks = [_paragraph(rng, 1, 4)]
    if rng.random() < 0.7:
        blocks.append(
            f"There is more in [this post](https://example.net/p/{rng.randint(1, 9999)}) "
            f"about **{rng.choice(WORDS)}**."
        )
    if rng.random() < 0.2:
        blocks.append(_list(rng))
    if rng.random() < 0.15:
        blocks.append(_code(rng))
    if rng.random() < 0.5:
        blocks.append(_paragraph(rng, 1, 3))
    return "\n\n".join(blocks) + "\n"


def article_body(rng: random.Random) -> str:
    blocks = [_paragraph(rng, 3, 6) for _ in range(rng.randint(3, 6))]
    if rng.random() < 0.5:
        blocks.insert(2, f"## {_sentence(rng, 2, 5).rstrip('.?!')}")
    if rng.random() < 0.4:
        blocks.insert(rng.randint(1, len(blocks)), _list(rng))
    if rng.random() < 0.3:
        blocks.insert(rng.randint(1, len(blocks)), "```python\n" + rng.choice(SNIPPETS) + "\n```")
    return "\n\n".join(blocks) + "\n"


@dataclass
class Site:
    root: Path
    content: Path
    articles: int
    comments: int
    #: Slug of the article whose output page is checked.
    sample_slug: str = ""
    #: How many comments of the sample article have a ``replyto``.
    sample_replies: int = 0
    #: PYTHONPYCACHEPREFIX of the builds.
    pycache: Path | None = None


def generate_site(root: Path, articles: int, comments: int, seed: int) -> Site:
    """Write the content folder; deterministic for a given seed."""
    rng = random.Random(seed)
    content = root / "content"
    posts = content / "posts"
    posts.mkdir(parents=True)
    start = datetime(2018, 1, 1, 9, 0)
    site = Site(root=root, content=content, articles=articles, comments=comments)
    for n in range(1, articles + 1):
        slug = f"post-{n:04d}-{rng.choice(WORDS)}-{rng.choice(WORDS)}"
        date = start + timedelta(days=n * 3, minutes=rng.randint(0, 600))
        tags = ", ".join(sorted(rng.sample(TAGS, rng.randint(2, 4))))
        header = (
            f"Title: {_sentence(rng, 3, 8).rstrip('.?!')}\n"
            f"Slug: {slug}\n"
            f"Date: {date:%Y-%m-%d %H:%M}\n"
            f"Category: {rng.choice(CATEGORIES)}\n"
            f"Tags: {tags}\n"
            f"Summary: {_sentence(rng)}\n\n"
        )
        (posts / f"post-{n:04d}.md").write_text(header + article_body(rng), encoding="utf-8")

        folder = content / "comments" / slug
        folder.mkdir(parents=True)
        replies = 0
        when = date
        for c in range(1, comments + 1):
            when += timedelta(hours=rng.randint(1, 72), minutes=rng.randint(0, 59))
            by_author = c > 1 and rng.random() < 0.15
            lines = [
                f"author: {SITE_AUTHOR if by_author else rng.choice(NAMES)}",
                f"date: {when:%Y-%m-%dT%H:%M}",
            ]
            if c > 1 and (by_author or rng.random() < 0.4):
                parent = rng.randint(max(1, c - 5), c - 1)
                # Both forms pelican_comment_system users have: stem and slug.
                lines.append(f"replyto: c{parent}" + ("md" if rng.random() < 0.5 else ""))
                replies += 1
            if by_author:
                lines.append(f"website: {SITEURL}/")
            elif rng.random() < 0.4:
                lines.append(f"website: https://{rng.choice(WORDS)}{c}.example.com/")
            text = "\n".join(lines) + "\n\n" + comment_body(rng)
            (folder / f"c{c}.md").write_text(text, encoding="utf-8")
        if n == (articles + 1) // 2:
            site.sample_slug, site.sample_replies = slug, replies
    return site


# Builds ----------------------------------------------------------------------
@dataclass
class Build:
    kind: str
    settings: Path
    output: Path
    cache: Path
    archive: Path
    log: Path


def write_settings(site: Site, kind: str) -> Build:
    """Settings file and folders of one kind of build (cold and warm share a cache)."""
    base = "engage" if kind in ("cold", "warm") else kind
    build = Build(
        kind=kind,
        settings=site.root / f"conf_{kind}.py",
        output=site.root / f"out_{kind}",
        cache=site.root / f"cache_{base}",
        archive=site.root / f"archive_{base}",
        log=site.root / f"log_{kind}.txt",
    )
    plugins = [] if kind == "plain" else ["pelican_engage"]
    build.settings.write_text(
        "\n".join(
            [
                f"AUTHOR = {SITE_AUTHOR!r}",
                "SITENAME = 'Engage benchmark'",
                f"SITEURL = {SITEURL!r}",
                f"PATH = {str(site.content)!r}",
                "TIMEZONE = 'UTC'",
                "DEFAULT_LANG = 'en'",
                f"PLUGINS = {plugins!r}",
                # pelican_comment_system users have these; engage adds them itself.
                "ARTICLE_EXCLUDES = ['comments']",
                "PAGE_EXCLUDES = ['comments']",
                f"CACHE_PATH = {str(build.cache)!r}",
                f"ENGAGE_ARCHIVE_PATH = {str(build.archive)!r}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return build


def pelican_command(site: Site, build: Build, profile: Path | None = None) -> list[str]:
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    return [
        *command,
        *("-m", "pelican", str(site.content)),
        *("-s", str(build.settings), "-o", str(build.output)),
        "--log-handler",
        "plain",
    ]


_DONE = re.compile(r"Processed (\d+) articles?")


def _children_cpu() -> float:
    if resource is None:
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build_env(site: Site) -> dict[str, str]:
    """The environment of a build: offline, and with byte code cached as installs have.

    Compiled modules go to a folder of the temporary site (not next to the sources),
    and :func:`warm_up` fills it, so no timed build compiles anything.
    """
    pycache = site.pycache or site.root / "pycache"
    env = dict(os.environ, ENGAGE_OFFLINE="1", PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


#: Delete the folders a build empties right before it (--delete-between), as
#: the benchmarks did before the tenth round; by default they are set aside.
DELETE_BETWEEN = False
_SET_ASIDE: list[Path] = []


def empty(folder: Path) -> None:
    """Have ``folder`` missing for the next build: renamed into a ``set-aside``
    folder beside it, deleted by :func:`delete_set_aside` after the run.

    Deleting it right before a build charges that build for the deletion on
    file systems that avoid reusing freed inodes: ext4 without a journal
    (this machine's) skips every inode freed in the last minute, one by one,
    for each file it creates, so a build right after 10,000 files were
    deleted pays per file it writes (a cold engage build writes 3 cache files
    per post; measured in the README, Speed, tenth round).  A user's first
    build follows no such deletion.  ``--delete-between`` measures it anyway.
    """
    if DELETE_BETWEEN or not folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        return
    aside = folder.parent / "set-aside"
    aside.mkdir(exist_ok=True)
    target = aside / f"{folder.name}.{len(_SET_ASIDE)}"
    folder.rename(target)
    _SET_ASIDE.append(target)


def delete_set_aside() -> None:
    """Delete what :func:`empty` set aside (after the last timed build)."""
    for folder in _SET_ASIDE:
        shutil.rmtree(folder.parent, ignore_errors=True)
    _SET_ASIDE.clear()


def run_build(site: Site, build: Build, profile: Path | None = None) -> tuple[float, float]:
    """One build in a fresh process, on an empty output folder: wall and CPU seconds."""
    empty(build.output)
    if build.kind == "cold":
        empty(build.cache)
        empty(build.archive)
    elif build.kind == "warm" and not (build.cache / "engage").is_dir():
        raise SystemExit("warm build without the cache of a cold build")
    # Every build starts with the previous one's writes on disk, so no build
    # pays for another's write-back (the warm build follows the cold one).
    if hasattr(os, "sync"):
        os.sync()
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        pelican_command(site, build, profile),
        cwd=site.root,
        env=build_env(site),
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    log = proc.stdout + proc.stderr
    build.log.write_text(log, encoding="utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"{build.kind} build failed ({proc.returncode}); log: {build.log}\n{log}")
    done = _DONE.search(log)
    if not done or int(done[1]) != site.articles:
        raise SystemExit(
            f"{build.kind} build: expected {site.articles} articles, "
            f"Pelican said {done[0] if done else 'nothing'}; log: {build.log}"
        )
    problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    if problems:
        print(f"  {build.kind}: {len(problems)} warning(s), e.g. {problems[0].strip()}")
    return elapsed, cpu


def check_output(site: Site, build: Build) -> None:
    """The sample article shows all M comments, with the replies threaded."""
    page = (build.output / f"{site.sample_slug}.html").read_text(encoding="utf-8")
    ids = page.count("data-engage-id=")
    parents = page.count("data-engage-parent=")
    if ids != site.comments or parents != site.sample_replies:
        raise SystemExit(
            f"{build.kind} build is wrong: {site.sample_slug}.html has {ids} data-engage-id "
            f"(expected {site.comments}) and {parents} data-engage-parent "
            f"(expected {site.sample_replies})"
        )


def warm_up(root: Path, pycache: Path, seed: int) -> None:
    """Build a tiny site once of each kind, so byte code is compiled before timing."""
    site = generate_site(root, 4, 3, seed)
    site.pycache = pycache
    for kind in KINDS:
        run_build(site, write_settings(site, kind))
    shutil.rmtree(root)


def plugin_version() -> str:
    import pelican_engage

    version = f"pelican_engage {pelican_engage.__version__}"
    source = Path(pelican_engage.__file__).resolve().parent.parent
    try:
        described = subprocess.run(
            # No optional locks: a report must not touch the repository's index.
            ["git", "--no-optional-locks", "-C", str(source), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        described = ""
    return f"{version} ({described})" if described else version


def _load() -> float | None:
    """The 1-minute load average, where the system has one."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _fmt(load: float | None) -> str:
    return "n/a" if load is None else f"{load:.2f}"


def _busy(loads: Sequence[float | None]) -> bool:
    """Did something else use a good part of the CPUs while we measured?"""
    limit = 0.5 * (os.cpu_count() or 1)
    return any(load is not None and load > limit for load in loads)


# Report ------------------------------------------------------------------------
@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def median(self, kind: str) -> float:
        return statistics.median(self.times[kind])

    def median_cpu(self, kind: str) -> float:
        return statistics.median(self.cpu[kind])

    def paired(self, kind: str, cpu: bool = False) -> float:
        """Median of each round's ratio to the plain build of that round:
        builds seconds apart share the machine's load (it is shared)."""
        runs = self.cpu if cpu else self.times
        return statistics.median(k / p for k, p in zip(runs[kind], runs["plain"], strict=True))


def report(results: Results, site: Site, rounds: int) -> bool:
    print()
    print(
        f"{site.articles} articles x {site.comments} comments "
        f"({site.articles * site.comments} comment files), median of {rounds} round(s), "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)"
    )
    print()
    print(
        f"{'build':<6} {'median s':>9} {'x plain':>8} {'CPU s':>7} {'x plain':>8}   wall per round"
    )
    for kind in KINDS:
        median, cpu = results.median(kind), results.median_cpu(kind)
        rounds_text = " ".join(f"{t:.2f}" for t in results.times[kind])
        print(
            f"{kind:<6} {median:>9.2f} {results.paired(kind):>8.2f} "
            f"{cpu:>7.2f} {results.paired(kind, cpu=True):>8.2f}   {rounds_text}"
        )
    print(
        "(x plain: median of the rounds' paired ratios; CPU is user+sys of the build "
        "process; a target passes on wall or CPU, since the machine may be shared)"
    )
    print()
    passed = True
    for kind, target in (("cold", COLD_TARGET), ("warm", WARM_TARGET)):
        ratio, cpu_ratio = results.paired(kind), results.paired(kind, cpu=True)
        ok = ratio <= target or cpu_ratio <= target
        passed &= ok
        print(
            f"target {kind}: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU <= {target}x plain  "
            f"{'PASS' if ok else 'FAIL'}"
        )
    print(f"for comparison: pelican_comment_system takes about {PCS_RATIO}x plain on this site")
    print("(figure from the issue, not measured here)")
    return passed


# Profiles ------------------------------------------------------------------------
_RECEIVERS = re.compile(r"^on_[a-z_]+$")


def _receiver_times(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Cumulative time of each plugin signal receiver (the plugin's in-process cost)."""
    found = []
    for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        if filename.endswith(os.path.join("pelican_engage", "plugin.py")) and _RECEIVERS.match(
            name
        ):
            found.append((name, ct))
    return sorted(found, key=lambda pair: -pair[1])


def _print_stats(stats: pstats.Stats, restriction: str | None, limit: int) -> None:
    stream = io.StringIO()
    stats.stream = stream
    stats.sort_stats("cumulative")
    if restriction:
        stats.print_stats(restriction, limit)
    else:
        stats.print_stats(limit)
    text = stream.getvalue()
    # Drop the header pstats prints before the table.
    start = text.find("   ncalls")
    print((text[start:] if start >= 0 else text).rstrip() + "\n")


def profile_builds(site: Site, builds: dict[str, Build], limit: int) -> None:
    """cProfile one plain, one cold and one warm build, each in its own process."""
    profiles: dict[str, pstats.Stats] = {}
    for kind in KINDS:
        path = site.root / f"profile_{kind}.prof"
        elapsed, _cpu = run_build(site, builds[kind], profile=path)
        profiles[kind] = pstats.Stats(str(path))
        total = profiles[kind].total_tt
        print(f"profiled {kind}: {elapsed:.2f} s wall, {total:.2f} s profiled CPU ({path})")
    plain_total = profiles["plain"].total_tt
    for kind in ("cold", "warm"):
        stats = profiles[kind]
        extra = stats.total_tt - plain_total
        print()
        print(f"===== {kind}: {extra:+.2f} s profiled time over plain =====")
        print("signal receivers (cumulative s):")
        receivers = _receiver_times(stats)
        for name, seconds in receivers:
            print(f"  {name:<34} {seconds:7.3f}")
        print(f"  {'all receivers':<34} {sum(s for _, s in receivers):7.3f}")
        print()
        print(f"--- top {limit} by cumulative time, pelican_engage functions ---")
        _print_stats(stats, "pelican_engage", limit)
        print(f"--- top {limit} by cumulative time, overall ---")
        _print_stats(stats, None, limit)


# Main ----------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time plain Pelican against pelican-engage (cold and warm) "
        "on a generated site with local comments.",
    )
    parser.add_argument("--articles", type=int, default=500, help="articles (default 500)")
    parser.add_argument("--comments", type=int, default=20, help="comments each (default 20)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seed", type=int, default=2024, help="random seed of the site")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile one build of each kind and print where the time goes",
    )
    parser.add_argument(
        "--profile-limit", type=int, default=25, help="rows per profile table (default 25)"
    )
    parser.add_argument("--workdir", type=Path, help="build here (kept) instead of a temp folder")
    parser.add_argument(
        "--delete-between",
        action="store_true",
        help="delete the emptied folders right before each build, not after the run",
    )
    args = parser.parse_args(argv)
    global DELETE_BETWEEN
    DELETE_BETWEEN = args.delete_between
    if args.articles < 1 or args.comments < 1 or args.rounds < 1:
        parser.error("--articles, --comments and --rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workdir:
        if args.workdir.exists():
            shutil.rmtree(args.workdir)
        args.workdir.mkdir(parents=True)
        root = args.workdir.resolve()
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="engage-bench-")
        root = Path(cleanup.name)
    try:
        started = time.perf_counter()
        site = generate_site(root, args.articles, args.comments, args.seed)
        print(
            f"site: {args.articles} articles, {args.articles * args.comments} comments "
            f"in {root} ({time.perf_counter() - started:.1f} s to generate)"
        )
        site.pycache = root / "pycache"
        warm_up(root / "warm-up", site.pycache, args.seed)
        builds = {kind: write_settings(site, kind) for kind in KINDS}
        loads = [_load()]
        print(f"{plugin_version()}; load average before: {_fmt(loads[0])}", flush=True)
        results = Results()
        for n in range(1, args.rounds + 1):
            for kind in KINDS:
                seconds, cpu = run_build(site, builds[kind])
                results.times[kind].append(seconds)
                results.cpu[kind].append(cpu)
                if kind != "plain":
                    check_output(site, builds[kind])
                print(
                    f"round {n}/{args.rounds} {kind:<5} {seconds:6.2f} s wall {cpu:6.2f} s CPU",
                    flush=True,
                )
        loads.append(_load())
        print(f"load average after: {_fmt(loads[-1])}")
        passed = report(results, site, args.rounds)
        if _busy(loads):
            print(
                "warning: the machine was busy while measuring (load average above half "
                "the CPUs); wall times are noisy, compare the CPU columns or run again"
            )
        print(
            f"output check: {site.sample_slug}.html has {site.comments} data-engage-id and "
            f"{site.sample_replies} data-engage-parent after every cold and warm build"
        )
        if args.profile:
            print()
            profile_builds(site, builds, args.profile_limit)
    finally:
        delete_set_aside()
        if cleanup is not None:
            cleanup.cleanup()
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())

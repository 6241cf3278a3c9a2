"""What sanitising one comment costs, per MB of input, flat and deeply nested.

The parser inside nh3 costs size times nesting depth, so a comment of
nested quotes used to cost minutes (security case F5: 130,000 Markdown
``> `` markers, 254 KiB, a 240 s build).  ``clean_html`` now unwraps
nesting beyond ``MAX_DEPTH`` first.  This prints, for each shape of input,
the seconds per MB of the whole way a local comment takes (Markdown
rendering where it applies, then ``clean_html``), in CPU time and wall
time, and checks the target of issue 11 on the CPU time: **under 1 s for
any 1 MB comment**.

    python benchmarks/sanitize_cost.py            # about 10 s
    python benchmarks/sanitize_cost.py --mb 0.25  # smaller inputs
    python benchmarks/sanitize_cost.py --check    # exit 1 when a shape misses the target
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from pelican_engage.sanitize import clean_html
from pelican_engage.sources.local_formats import render_markdown

TARGET_SECONDS_PER_MB = 1.0


def repeat(unit: str, size: int, head: str = "", tail: str = "") -> str:
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


def nested(open_tag: str, close_tag: str, size: int, text: str = "x") -> str:
    depth = max(1, size // (len(open_tag) + len(close_tag)))
    return open_tag * depth + text + close_tag * depth


def shapes(size: int) -> dict[str, tuple[str, str]]:
    """name -> (format, input of about ``size`` characters)."""
    para = (
        "<p>Thanks for the post! I tried <b>this</b> with <code>nh3</code> and "
        "<a href='https://example.org/notes'>wrote it up</a>.</p>\n"
    )
    md_para = "Thanks for the post! I tried **this** with `nh3` and [wrote it up](https://example.org/notes).\n\n"
    return {
        "flat HTML paragraphs": ("html", repeat(para, size)),
        "flat HTML, unclosed <p> and <li>": ("html", repeat("<li><p>item ", size)),
        "deep <blockquote>": ("html", nested("<blockquote>", "</blockquote>", size)),
        "deep <ul><li>": ("html", nested("<ul><li>", "</li></ul>", size)),
        "deep <div>, never closed": ("html", repeat("<div>", size, tail="x")),
        "deep <b> (formatting)": ("html", nested("<b>", "</b>", size)),
        "flat Markdown paragraphs": ("md", repeat(md_para, size)),
        "deep Markdown quotes, one line (F5)": ("md", repeat("> ", size, tail="x")),
        "deep Markdown quotes, many lines": ("md", repeat("> " * 50 + "x\n", size)),
        "deep Markdown lists": ("md", repeat("- ", size, tail="x")),
    }


def timed(work: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of ``rounds`` runs; CPU time barely moves on a
    busy machine, wall time does."""
    wall = cpu = float("inf")
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=1.0, help="input size in MB (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a shape misses 1 s/MB")
    args = parser.parse_args(argv)
    size = int(args.mb * 1_000_000)
    print(f"{'input':40} {'MB':>6} {'CPU s/MB':>9} {'wall s/MB':>9}  {'depth kept':>10}")
    missed = []
    for name, (kind, text) in shapes(size).items():

        def work(kind: str = kind, text: str = text) -> str:
            return clean_html(render_markdown(text) if kind == "md" else text)

        wall, cpu = timed(work, args.rounds)
        megabytes = len(text.encode()) / 1_000_000
        cleaned = work()
        kept = cleaned.count("<blockquote>") + cleaned.count("<ul>")
        print(
            f"{name:40} {megabytes:6.2f} {cpu / megabytes:9.3f} {wall / megabytes:9.3f}  {kept:>10}"
        )
        if cpu / megabytes >= TARGET_SECONDS_PER_MB:
            missed.append(name)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > (os.cpu_count() or 1) / 2:
        print(f"note: load average {load:.1f}; figures from a busy machine run high")
    if missed:
        print(f"over {TARGET_SECONDS_PER_MB:.0f} s/MB: {', '.join(missed)}")
    else:
        print(f"every shape under {TARGET_SECONDS_PER_MB:.0f} s per MB")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())

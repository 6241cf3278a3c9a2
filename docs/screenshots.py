"""Screenshots of a thread for the README: docs/screenshots/*.png.

    .venv/bin/python docs/screenshots.py

Builds the example site offline (into a temporary folder: nothing in
example_site/ changes) with Pelican's two bundled themes, opens the post
with the longest thread in headless Chromium (Debian's ``chromium``) at
1280 and 390 px wide, light and dark (``prefers-color-scheme``), and saves
the thread's part of each page.  With Pillow installed the PNGs are reduced
to a 128-colour palette, which keeps all eight to a few hundred KB.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pelican import Pelican  # noqa: E402
from pelican.settings import read_settings  # noqa: E402

from tests.browser import Page, Pipe  # noqa: E402
from tests.test_a11y import emulate, screenshot  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
THEMES = ("notmyidea", "simple")
WIDTHS = (1280, 390)
#: The tallest part of the thread shown, in CSS pixels (the rest is cut).
MAX_HEIGHT = {1280: 1100, 390: 1500}


def build(theme: str, folder: Path) -> Path:
    """The example site built with ``theme``; returns the page with the most comments."""
    conf = ROOT / "example_site" / "pelicanconf.py"
    settings = read_settings(
        str(conf),
        override={
            "PATH": str(ROOT / "example_site" / "content"),
            "OUTPUT_PATH": str(folder / "output"),
            "CACHE_PATH": str(folder / "cache"),
            "ENGAGE_REPORT_PAGE": str(folder / "report" / "index.html"),
            "ENGAGE_OFFLINE": True,
            "THEME": theme,
            "DELETE_OUTPUT_DIRECTORY": False,
        },
    )
    Pelican(settings=settings).run()
    pages = (folder / "output").rglob("index.html")
    return max(pages, key=lambda p: p.read_text(encoding="utf-8").count("data-engage-id="))


def shrink(png: bytes) -> bytes:
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue() if buffer.tell() < len(png) else png


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no Chromium on PATH (apt-get install chromium)")
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pages = {theme: build(theme, folder / theme) for theme in THEMES}
        browser = Pipe(chromium, folder / "profile", ["--hide-scrollbars"])
        try:
            for theme, path in pages.items():
                for width in WIDTHS:
                    for scheme in ("light", "dark"):
                        page = Page(browser)
                        try:
                            emulate(page, width, 900, dark=scheme == "dark")
                            page.load(path)
                            box = page.evaluate(
                                "(() => { const r = document.querySelector('section.engage')"
                                ".getBoundingClientRect(); return [r.top + scrollY, r.height]; })()"
                            )
                            top, height = max(0, box[0] - 16), min(box[1] + 32, MAX_HEIGHT[width])
                            emulate(page, width, int(top + height), dark=scheme == "dark")
                            png = screenshot(page, 0, top, width, height)
                        finally:
                            page.close()
                        target = OUT / f"thread-{theme}-{width}-{scheme}.png"
                        target.write_bytes(shrink(png))
                        total += target.stat().st_size
                        print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB")
        finally:
            browser.close()
    print(f"{total // 1024} KB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The documentation ships with the code and keeps up with it.

The README's layout (under "Development") names every module of the package, and
nothing in the repository cites design notes that are not in it: the design is in
docs/design.md, the networks' wire formats in docs/sources.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pelican_engage"
#: Notes that lived outside the repository; docs/ replaces them.
OUTSIDE = ("DESIGN.md", "security-notes", "api-formats.md", "shared/reference")


def layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    development = readme[readme.index("\n## Development") :]
    return development.split("```", 2)[1]


def modules() -> list[str]:
    return sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "__pycache__" not in path.parts
        and not (path.name == "__init__.py" and path.parent != PACKAGE)
    )


def test_the_readme_layout_names_every_module() -> None:
    text = layout()
    missing = [m for m in modules() if not re.search(rf"\b{re.escape(Path(m).name)}\b", text)]
    assert missing == []


def test_the_readme_layout_names_no_module_that_is_gone() -> None:
    names = {Path(m).name for m in modules()}
    names |= {p.name for d in ("tests", "docs", "benchmarks") for p in (ROOT / d).rglob("*.py")}
    listed = set(re.findall(r"\b(\w+\.py)\b", layout()))
    assert listed - names == set()


@pytest.mark.parametrize("cited", OUTSIDE)
def test_nothing_cites_notes_outside_the_repository(cited: str) -> None:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *PACKAGE.rglob("*.py")]
    files += [*(ROOT / "tests").glob("*.py"), *(ROOT / "docs").glob("*.md")]
    here = Path(__file__).resolve()
    citing = [
        f.relative_to(ROOT).as_posix()
        for f in files
        if f.is_file() and f.resolve() != here and cited in _prose(f.read_text(encoding="utf-8"))
    ]
    assert citing == []


def _prose(text: str) -> str:
    """What readers see: a Markdown file's HTML comments (maintainers' notes) left out."""
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)


def test_docs_are_where_the_readme_points() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)(?:#[\w-]*)?\)", readme):
        assert (ROOT / target).is_file(), target
    for doc in ("docs/design.md", "docs/sources.md", "CHANGELOG.md", "LICENSE"):
        assert (ROOT / doc).is_file(), doc

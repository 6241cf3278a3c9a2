"""The release: sdist and wheel build, pass `twine check`, and carry what the plugin needs.

The distributions are built once per test session from a copy of the source tree (no files
left in the worktree), without build isolation: tests never reach the network, so the backend
(setuptools, wheel) comes from the test extras.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import distributions
from pathlib import Path

import pytest

import pelican_engage
from tests.conftest import Site

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pelican_engage"
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "output",
    "cache",
    "engage-report",
    "tests",
    "benchmarks",
)


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sdist, then the wheel from that sdist (so the sdist must be complete)."""
    tmp = tmp_path_factory.mktemp("release")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    out = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


def one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def wheel_names(dists: Path) -> set[str]:
    with zipfile.ZipFile(one(dists, "*.whl")) as wheel:
        return set(wheel.namelist())


def test_twine_check_passes_on_the_sdist_and_the_wheel(dists: Path) -> None:
    files = [str(one(dists, "*.tar.gz")), str(one(dists, "*.whl"))]
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_the_wheel_carries_templates_css_and_py_typed(dists: Path) -> None:
    names = wheel_names(dists)
    wanted = {
        path.relative_to(ROOT).as_posix()
        for pattern in ("templates/*/*.html", "static/*.css", "locale/*/*/*", "py.typed", "**/*.py")
        for path in PACKAGE.glob(pattern)
        if "__pycache__" not in path.parts
    }
    assert {"pelican_engage/templates/engage/thread.html", "pelican_engage/py.typed"} <= wanted
    assert any(name.endswith(".css") for name in wanted)
    assert wanted - names == set()


def test_the_wheel_has_the_namespace_plugin_without_claiming_pelicans_packages(
    dists: Path,
) -> None:
    names = wheel_names(dists)
    assert "pelican/plugins/engage/__init__.py" in names
    # An __init__.py here would replace Pelican's own package on install.
    assert "pelican/__init__.py" not in names
    assert "pelican/plugins/__init__.py" not in names
    assert not [n for n in names if n.startswith("tests/") or n.startswith("benchmarks/")]


def test_the_licence_ships_and_matches_the_metadata(dists: Path) -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "GNU AFFERO GENERAL PUBLIC LICENSE" in licence
    assert "Version 3, 19 November 2007" in licence
    assert "END OF TERMS AND CONDITIONS" in licence  # the full text, not a notice
    with zipfile.ZipFile(one(dists, "*.whl")) as wheel:
        info = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = wheel.read(info[0]).decode()
        licences = [n for n in wheel.namelist() if ".dist-info/" in n and "LICENSE" in n]
        assert licences, wheel.namelist()
        assert wheel.read(licences[0]).decode() == licence
    assert "AGPL-3.0-or-later" in metadata
    assert f"Version: {pelican_engage.__version__}" in metadata


def test_plugins_engage_loads_the_plugin_by_its_short_name(site: Site) -> None:
    site.article("hello")
    site.comment("hello", "c1.md", "Nice post!", author="Ada", date="2026-01-03 09:00")
    site.build(PLUGINS=["engage"])
    page = site.html("hello.html")
    assert "Nice post!" in page.get_text()
    assert page.select("section.engage [data-engage-id]"), "no engage thread in the page"


def test_auto_discovery_finds_the_installed_wheel(dists: Path, tmp_path: Path) -> None:
    """Without PLUGINS, Pelican loads every package in the pelican.plugins namespace.

    Installed as a wheel, pelican/plugins/engage/ lands in the same folder as Pelican's own
    package: a target folder with a copy of the installed Pelican and our wheel, first on
    PYTHONPATH, is that site-packages.
    """
    import pelican

    target = tmp_path / "site-packages"
    wheel = str(one(dists, "*.whl"))
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*pip, "--target", str(target), wheel], check=True)
    assert not (target / "pelican" / "__init__.py").exists()
    shutil.copytree(
        Path(pelican.__file__).parent, target / "pelican", ignore=IGNORED, dirs_exist_ok=True
    )
    site = Site(tmp_path / "site")
    site.article("hello")
    site.comment("hello", "c1.md", "Found by discovery", author="Ada", date="2026-01-03 09:00")
    settings = site.settings()
    del settings["PLUGINS"]
    conf = site.root / "pelicanconf.py"
    conf.write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()), encoding="utf-8")
    probe = (
        "import sys, pelican, pelican_engage;"
        "from pelican.plugins._utils import get_namespace_plugins;"
        "print(sorted(get_namespace_plugins()));"
        "print(pelican_engage.__file__);"
        "from pelican import main; sys.argv = ['pelican', *sys.argv[1:]]; main()"
    )
    env = dict(os.environ, PYTHONPATH=str(target), ENGAGE_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, "-c", probe, str(site.content), "-s", str(conf), "-o", str(site.output)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "'pelican.plugins.engage'" in lines[0]  # beside other installed namespace plugins
    assert lines[1].startswith(str(target))  # the wheel's code, not the worktree's
    assert "Found by discovery" in (site.output / "hello.html").read_text(encoding="utf-8")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _owners() -> dict[str, set[str]]:
    """Top-level module -> the installed distributions that ship it, from their RECORDs
    (Python 3.10's packages_distributions() reads only top_level.txt, which many wheels lack).
    """
    owners: dict[str, set[str]] = {}
    # A namespace shared by plugins (pelican/plugins/...) belongs to whoever ships its
    # __init__.py; the others only add to it.
    regular: dict[str, set[str]] = {}
    for dist in distributions():
        for file in dist.files or ():
            top = file.parts[0] if file.parts else ""
            if not top or top.startswith(("..", "__")) or top.endswith((".dist-info", ".pth")):
                continue
            name = top.split(".")[0]
            owners.setdefault(name, set()).add(dist.metadata["Name"])
            if len(file.parts) == 1 or file.parts[1:] == ("__init__.py",):
                regular.setdefault(name, set()).add(dist.metadata["Name"])
    return {**owners, **regular}


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution -> the modules of the package that import it (the package's own aside)."""
    found: dict[str, set[str]] = {}
    owners = _owners()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "pelican_engage":
                    continue
                dists = [d for d in owners.get(top, {"?" + top}) if d != "pelican-engage"]
                for dist in dists:
                    found.setdefault(_canonical(dist), set()).add(path.name)
    return found


#: Declared for another package's sake, not imported by ours.
FOR_OTHERS = {"setuptools": "twitter-text-parser imports pkg_resources without declaring it"}


def test_every_dependency_is_imported_and_every_import_declared() -> None:
    """No dead dependency (the unused Python-Markdown was one), and nothing the package
    imports that only arrives by luck through another package's requirements."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")

    def names(requirements: str) -> set[str]:
        return {
            _canonical(re.split(r"[<>=!~;\[ ]", line.strip(), maxsplit=1)[0])
            for line in requirements.splitlines()
            if line.strip() and not line.strip().startswith("#")
        }

    declared = names(config["options"]["install_requires"])
    # Optional features (e.g. avatars: Pillow) are imported only when installed.
    extras = config["options.extras_require"]
    optional = set().union(*(names(extras[k]) for k in extras if k not in {"test", "demo"}))
    imported = _imported_distributions()
    assert declared - set(imported) - set(FOR_OTHERS) == set(), "declared but never imported"
    undeclared = {d: m for d, m in imported.items() if d not in declared | optional}
    assert undeclared == {}, "imported, undeclared"

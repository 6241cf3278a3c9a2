#!/usr/bin/env python3
"""Developer tasks that need nothing but Python 3.

python3 tasks.py demo   # set up .venv and build example_site/ offline
python3 tasks.py test   # set up .venv (with test extras), lint, type-check, run the tests
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# ENGAGE_VENV lets CI keep one environment per Python (e.g. .venv-3.10 beside .venv).
VENV = ROOT / os.environ.get("ENGAGE_VENV", ".venv")
# ENGAGE_PELICAN pins Pelican after the install (e.g. "pelican==4.9.1", the oldest supported).
PELICAN = os.environ.get("ENGAGE_PELICAN", "")
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*args: object, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    command = [str(a) for a in args]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=cwd, check=True, env=env)


def setup(extras: str = "") -> None:
    """Create .venv and install the package into it (again when setup.cfg changed)."""
    stamp = VENV / f".installed{extras}{PELICAN}"
    if not (BIN / "python").exists():
        try:
            venv.create(VENV, with_pip=True)
        except Exception as exc:  # Debian ships venv without ensurepip
            sys.exit(f"Could not create {VENV} ({exc}). On Debian: apt-get install python3-venv")
    source_stamp = max((ROOT / f).stat().st_mtime for f in ("setup.cfg", "pyproject.toml"))
    if stamp.exists() and stamp.stat().st_mtime >= source_stamp:
        return
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f".{extras}")
    if PELICAN:
        run(BIN / "python", "-m", "pip", "install", "--quiet", PELICAN)
    stamp.touch()


def demo() -> None:
    setup("[demo]")
    env = dict(os.environ, ENGAGE_OFFLINE="1")
    site = ROOT / "example_site"
    run(BIN / "pelican", "content", "-s", "pelicanconf.py", "-o", "output", cwd=site, env=env)
    run(BIN / "pelican-engage", "report", "-s", "pelicanconf.py", cwd=site, env=env)
    print(f"\nThe example site is in {site / 'output'}; open index.html in a browser,")
    print("or serve it with: cd example_site && ../.venv/bin/pelican --listen -o output")


def test() -> None:
    setup("[test]")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    # Types: 0 errors on the package (config in pyproject.toml [tool.mypy]).
    run(BIN / "mypy", "pelican_engage", "pelican/plugins/engage")
    # Both cores: the suite is mostly Pelican builds and loopback servers, each test isolated.
    run(BIN / "pytest", "-n", os.environ.get("ENGAGE_TEST_WORKERS", "auto"), *sys.argv[2:])


if __name__ == "__main__":
    tasks = {"demo": demo, "test": test, "setup": setup}
    if len(sys.argv) < 2 or sys.argv[1] not in tasks:
        sys.exit(f"usage: python3 {Path(__file__).name} {{{'|'.join(tasks)}}}")
    try:
        tasks[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)

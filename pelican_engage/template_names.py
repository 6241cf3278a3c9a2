"""The names pelican-engage gives templates, looked up only when asked for.

Templates (ours and themes') call ``engage_source_mark``, ``engage_gettext``
and a dozen other helpers, and read settings such as ``ENGAGE_CSS`` with
their defaults.  Jinja copies an environment's globals and the page's whole
context into the context of every template it renders, includes or imports
with context: a page of Pelican's default theme makes about 28 of them.  As
17 globals and 11 defaults put into the settings, engage's names made Jinja
render every page of a site, with a thread or not, about 8% slower
(``benchmarks/template_names.py``: 1.08x plain's time per page as globals,
1.01x as these names).

So they are kept here, per environment, and the environment's context class
(``Environment.context_class``) is subclassed, once, so that a name no
context holds is looked up here last: Jinja documents
``Context.resolve_or_missing`` as the method to override for that.  A
global, a context key or a setting of the same name still wins, so a
theme, another plugin or the user's settings can replace any of them.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment
from jinja2.runtime import Context, missing

#: Environment -> its names.  Weak: each build makes new environments.
_NAMES: weakref.WeakKeyDictionary[Environment, dict[str, Any]] = weakref.WeakKeyDictionary()


def provide(env: Environment, names: Mapping[str, Any]) -> None:
    """Give ``env``'s templates ``names``, replacing ones given before
    (a global or context key of the same name still wins)."""
    _NAMES.setdefault(env, {}).update(names)
    ensure(env)


def lookup(env: Environment, name: str, default: Any = None) -> Any:
    """The value :func:`provide` gave ``name`` in ``env`` (or in the
    environment ``env`` is an overlay of), else ``default``."""
    current: Environment | None = env
    while current is not None:
        found = _NAMES.get(current)
        if found is not None and name in found:
            return found[name]
        current = getattr(current, "linked_to", None)  # Environment.overlay()
    return default


def given(env: Environment) -> dict[str, Any]:
    """Every name :func:`provide` gave ``env`` or what it is an overlay of."""
    found: dict[str, Any] = {}
    current: Environment | None = env
    while current is not None:
        found = {**_NAMES.get(current, {}), **found}
        current = getattr(current, "linked_to", None)
    return found


def ensure(env: Environment) -> None:
    """Make ``env``'s context class look names up here; again if another
    plugin replaced it since (its class is then the one subclassed)."""
    names = _NAMES.setdefault(env, {})
    if getattr(env.context_class, "_engage_names", None) is not names:
        env.context_class = _looking_up(env.context_class, names)


def _looking_up(base: type[Context], names: Mapping[str, Any]) -> type[Context]:
    """A subclass of ``base`` that finds ``names`` (the dict provide() fills)
    when nothing else holds the name."""
    if base.resolve_or_missing is not Context.resolve_or_missing:
        # Another lookup (another plugin's, or the environment this one is
        # an overlay of): asked first, as it would be without us.
        class Chained(base):  # type: ignore[valid-type,misc]
            _engage_names = names

            def resolve_or_missing(self, key: str) -> Any:
                value = super().resolve_or_missing(key)
                return names.get(key, missing) if value is missing else value

        return Chained

    class EngageContext(base):  # type: ignore[valid-type,misc]
        _engage_names = names

        def resolve_or_missing(self, key: str) -> Any:
            # Jinja's own lookup, repeated rather than called: it runs about
            # 100 times per page, and a call through super() costs more
            # than the names save.
            if key in self.vars:
                return self.vars[key]
            if key in self.parent:
                return self.parent[key]
            return names.get(key, missing)

    return EngageContext

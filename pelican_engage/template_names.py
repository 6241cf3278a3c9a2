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

import functools
import weakref
from collections.abc import Callable, Mapping
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


def value(env: Environment, context: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """What a template rendered by ``env`` with the plain dict ``context``
    reads as ``name``: the context's, else a global's, else a given name's."""
    if name in context:
        return context[name]
    if name in env.globals:
        return env.globals[name]
    return lookup(env, name, default)


def ensure(env: Environment) -> None:
    """Make ``env``'s context class look names up here; again if another
    plugin replaced it since (its class is then the one subclassed), or
    if it is the class of the environment ``env`` is an overlay of."""
    names = _NAMES.setdefault(env, {})
    found = env.context_class
    if getattr(found, "_engage_names", None) is names:
        return
    # Made by us for another environment (copied by Environment.overlay()):
    # replaced, not wrapped, so the overlay's own names come first.
    base = found.__dict__.get("_engage_base", found)
    env.context_class = _looking_up(base, env, names)


def _looking_up(base: type[Context], env: Environment, names: dict[str, Any]) -> type[Context]:
    """A subclass of ``base`` that finds ``env``'s names (the dict provide()
    fills) when nothing else holds the name."""
    find: Callable[[str, Any], Any] = names.get  # a miss: one C call
    if getattr(env, "linked_to", None) is not None:
        # An overlay: its names, then those of what it overlays.
        find = functools.partial(lookup, env)

    if base.resolve_or_missing is not Context.resolve_or_missing:
        # Another plugin's lookup: asked first, as it would be without us.
        class Chained(base):  # type: ignore[valid-type,misc]
            _engage_names = names
            _engage_base = base

            def resolve_or_missing(self, key: str) -> Any:
                value = super().resolve_or_missing(key)
                return find(key, missing) if value is missing else value

        return Chained

    class EngageContext(base):  # type: ignore[valid-type,misc]
        _engage_names = names
        _engage_base = base

        def resolve_or_missing(self, key: str) -> Any:
            # Jinja's own lookup, repeated rather than called: it runs about
            # 100 times per page, and a call through super() costs more
            # than the names save.
            if key in self.vars:
                return self.vars[key]
            if key in self.parent:
                return self.parent[key]
            return find(key, missing)

    return EngageContext

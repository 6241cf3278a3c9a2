"""pelican-engage under Pelican's namespace-plugin name, so ``PLUGINS = ["engage"]`` works.

Pelican looks up short plugin names as ``pelican.plugins.<name>`` and, when ``PLUGINS`` is
unset, loads every package in the ``pelican.plugins`` namespace. This module only re-exports
the plugin; the code lives in ``pelican_engage``, which stays importable under its own name.
"""

from pelican_engage import register

__all__ = ["register"]

"""pelican-engage: every reply to a post, threaded into one conversation.

Enable it with ``PLUGINS = ["pelican_engage"]``.
"""

__version__ = "0.1.0"


def register() -> None:
    """Pelican's plugin entry point."""
    from .plugin import register as _register

    _register()

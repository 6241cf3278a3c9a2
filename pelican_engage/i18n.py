"""Reader-facing words in the reader's language: gettext catalogs, numbers, dates.

The catalogs are ``locale/<lang>/LC_MESSAGES/engage.po`` in the package.
A ``.mo`` beside a ``.po`` is used when it is at least as new (packagers may
run ``pybabel compile -D engage -d pelican_engage/locale``); otherwise the
``.po`` is compiled in memory with Babel the first time a language is
needed, so a fresh clone or an editable install works without a build step.

Templates get their own callables (``engage_gettext``, ``engage_ngettext``,
``engage_date``), never the Jinja ``i18n`` extension's ``_``/``gettext``:
i18n_subsites installs the theme's catalogs under those names, and ours
must not be looked up in them.  The language is the rendered article's
``lang`` (which Pelican sets from DEFAULT_LANG when the article has none).
"""

from __future__ import annotations

import functools
import gettext
import hashlib
import io
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import escape

from .atomic import atomic_write

# Babel is imported where it is used: a build whose threads are all reused
# from the cache formats no date and reads no catalog (~10 ms saved).
if TYPE_CHECKING:
    from babel import Locale
    from babel.messages.catalog import Catalog

logger = logging.getLogger(__name__)

PACKAGE = Path(__file__).parent
LOCALE_DIR = PACKAGE / "locale"
DOMAIN = "engage"
#: The languages a catalog ships for; anything else reads English.
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")
FALLBACK = "en"
#: ENGAGE_DATE_FORMAT values that mean "the locale's own pattern" (CLDR widths).
DATE_STYLES = ("short", "medium", "long", "full")
#: What Babel extracts from our templates and modules: names and the
#: positions of their message arguments.
KEYWORDS: dict[str, Any] = {
    "engage_gettext": None,
    "engage_ngettext": (1, 2),
    "gettext_for": (2,),
    "ngettext_for": (2, 3),
    "N_": None,
    # render_items.PageParts._: a page's words without variables, once.
    "_": None,
}
#: Jinja options the templates are written for (Pelican's defaults).
_JINJA_OPTIONS = {"trim_blocks": "true", "lstrip_blocks": "true"}


def _tags(lang: object) -> list[str]:
    """``"pt-BR"`` -> ``["pt_BR", "pt"]``; ``""`` or a non-string -> ``[]``."""
    if not isinstance(lang, str) or not lang.strip():
        return []
    tag = lang.strip().replace("-", "_")
    parts = tag.split("_")
    found = ["_".join([parts[0].lower(), *(p.upper() if len(p) == 2 else p for p in parts[1:])])]
    if len(parts) > 1:
        found.append(parts[0].lower())
    return found


def catalog_language(lang: object) -> str:
    """The shipped catalog for a Pelican ``lang`` (``"de_AT"`` -> ``"de"``), else English."""
    for tag in _tags(lang):
        if tag in LANGUAGES:
            return tag
    return FALLBACK


@functools.lru_cache(maxsize=64)
def locale(lang: object) -> Locale:
    """Babel's locale for dates and numbers: the full tag when Babel knows it
    (``en_GB`` writes dates its own way), else the language, else English."""
    from babel import Locale, UnknownLocaleError

    for tag in _tags(lang):
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(FALLBACK)


def _po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of one shipped language (see :func:`catalog_language`).

    A catalog that cannot be read gives English and one logged error,
    never a failed build.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import PoFileError, read_po

    po = _po_path(language)
    mo = po.with_suffix(".mo")
    try:
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            with mo.open("rb") as handle:
                return gettext.GNUTranslations(handle)
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    except (OSError, ValueError, PoFileError) as exc:
        logger.error("engage: catalog %s cannot be read (%s); English is used", po, exc)
        return gettext.NullTranslations()


def for_language(lang: object) -> gettext.NullTranslations:
    if isinstance(lang, str):
        return translations(_catalog_of(lang))
    return translations(catalog_language(lang))


@functools.lru_cache(maxsize=256)
def _catalog_of(lang: str) -> str:
    # Asked for every word of every thread (50,000 times on a 2,000-post
    # site); a site has a handful of languages.
    return catalog_language(lang)


def language_of(context: Mapping[str, Any] | Context) -> str:
    """The language a page's thread is written in: its article's, else the site's."""
    article = context.get("article")
    lang = getattr(article, "lang", None) if article is not None else None
    if not isinstance(lang, str) or not lang:
        lang = context.get("DEFAULT_LANG")
    return lang if isinstance(lang, str) and lang else FALLBACK


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; translated where shown."""
    return message


def number(value: int, lang: object) -> str:
    """``1234`` -> ``"1,234"`` in English, ``"1 234"`` in French."""
    if isinstance(lang, str) and isinstance(value, int):
        return _number(value, lang)
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=locale(lang)))


@functools.lru_cache(maxsize=4096)
def _number(value: int, lang: str) -> str:
    # Babel takes ~30 µs a number; threads show the same few counts.
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=locale(lang)))


def gettext_for(lang: object, message: str, **variables: Any) -> str:
    text = for_language(lang).gettext(message)
    return text % variables if variables else text


def ngettext_for(lang: object, singular: str, plural: str, n: int, **variables: Any) -> str:
    """The plural form ``n`` takes in ``lang``; ``%(num)s`` is ``n`` written the local way."""
    variables.setdefault("num", number(n, lang))
    return for_language(lang).ngettext(singular, plural, n) % variables


def format_when(when: datetime, style: str, lang: object) -> str:
    """A time as the locale writes it (``"medium"``: "30 nov. 2026, 14:05"),
    or by a strftime pattern (anything with a ``%``), as given.

    The date part has the requested width, the time part is always the short
    one (hours and minutes: seconds are noise in a conversation).
    """
    if style not in DATE_STYLES:
        # Pelican's strftime: names follow the site's LOCALE, %-d works everywhere.
        from pelican.utils import strftime

        return str(strftime(when, style))
    where = locale(lang)
    # Babel takes ~50 µs a date; a site of 50,000 replies has far fewer
    # distinct days and minutes, so each part is remembered.
    return (
        _datetime_pattern(style, where)
        .replace("{0}", _short_time(when.time().replace(second=0, microsecond=0), where))
        .replace("{1}", _date(when.date(), style, where))
    )


#: The invisible spaces and marks CLDR puts in dates (U+202F before "PM"
#: in English since CLDR 42), as character references: a thread whose text
#: is ASCII stays ASCII, which Python keeps at one byte a character, so
#: reading, joining and writing its page cost a tenth.
INVISIBLE_REFS = {
    0x00A0: "&#160;",
    0x2009: "&#8201;",
    0x200E: "&#8206;",
    0x200F: "&#8207;",
    0x202F: "&#8239;",
}


def when_html(when: datetime, style: str, lang: object) -> str:
    """:func:`format_when` as HTML: escaped, invisible spaces and marks
    written as character references (the same text to a reader)."""
    return str(escape(format_when(when, style, lang))).translate(INVISIBLE_REFS)


@functools.lru_cache(maxsize=64)
def _datetime_pattern(style: str, where: Any) -> str:
    from babel.dates import get_datetime_format

    return str(get_datetime_format(style, locale=where)).replace("'", "")  # type: ignore[arg-type]


@functools.lru_cache(maxsize=8192)
def _short_time(when: time, where: Any) -> str:
    from babel.dates import format_time

    # The wall time in the item's own zone, naive: Babel would turn an
    # aware time into UTC; the short pattern prints no zone.
    return str(format_time(when, "short", locale=where))


@functools.lru_cache(maxsize=8192)
def _date(day: date, style: str, where: Any) -> str:
    from babel.dates import format_date

    return str(format_date(day, style, locale=where))


@pass_context
def template_gettext(context: Context, message: str, **variables: Any) -> str:
    return gettext_for(language_of(context), message, **variables)


@pass_context
def template_ngettext(
    context: Context, singular: str, plural: str, n: int, **variables: Any
) -> str:
    return ngettext_for(language_of(context), singular, plural, n, **variables)


@pass_context
def template_translator(context: Context) -> Callable[..., str]:
    """``gettext_for`` bound to the page's language, for Python helpers that
    write words (``translate(message, **variables)``)."""
    return functools.partial(gettext_for, language_of(context))


@pass_context
def template_date(context: Context, when: datetime, style: str = "medium") -> str:
    return format_when(when, style, language_of(context))


def install(env: Any) -> None:
    """Give a Jinja environment our callables (names no other extension uses)."""
    from . import template_names

    template_names.provide(
        env,
        {
            "engage_gettext": template_gettext,
            "engage_ngettext": template_ngettext,
            "engage_translator": template_translator,
        },
    )
    env.filters.setdefault("engage_date", template_date)


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """Changes whenever a catalog does: part of the keys of cached renders."""
    digest = hashlib.sha256()
    for path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------
# Maintenance: which messages exist, and bringing the catalogs up to date
# --------------------------------------------------------------------------


def extract() -> Catalog:
    """Every message in our templates and modules, as Babel extracts it.

    Shapes: a Catalog whose ids are strings (singular) or (singular, plural).
    """
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(domain=DOMAIN, project="pelican-engage")
    method_map = [("templates/**.html", "jinja2"), ("*.py", "python")]
    options_map = {"templates/**.html": _JINJA_OPTIONS}
    found: Iterable[tuple[str, int, Any, list[str], Any]] = extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",)
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update_catalogs() -> list[Path]:
    """Merge newly extracted messages into every shipped catalog (new ones
    untranslated, vanished ones dropped); returns the catalogs written."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    template = extract()
    written = []
    for language in LANGUAGES:
        path = _po_path(language)
        if path.is_file():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language, domain=DOMAIN)
            before = {(m.id, m.string, " ".join(m.auto_comments)) for m in catalog if m.id}
            catalog.update(template, no_fuzzy_matching=True)
            if {(m.id, m.string, " ".join(m.auto_comments)) for m in catalog if m.id} == before:
                continue  # unchanged: no new creation date to commit
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="pelican-engage")
            catalog.update(template, no_fuzzy_matching=True)
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=100, no_location=True, ignore_obsolete=True)
        atomic_write(path, buffer.getvalue())
        written.append(path)
    return written


if __name__ == "__main__":  # python -m pelican_engage.i18n: after changing a message
    for updated in update_catalogs():
        print(updated)  # noqa: T201 - a maintainer's command, not the plugin

"""Threads read in the article's language: catalogs, plurals, dates, feeds, i18n_subsites."""

from __future__ import annotations

import gettext
import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from pelican_engage import i18n
from pelican_engage.archive import Archive
from pelican_engage.model import Item, Person
from tests.conftest import DATA, Site

THREAD = DATA / "local" / "pcs-thread"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _likes(site: Site, slug: str, count: int) -> None:
    Archive(site.root / "archive").merge(
        slug,
        [
            Item(
                id=f"mastodon:social.example/{slug}-{n}",
                source="mastodon",
                kind="like",
                author=Person(name=f"Liker {n}", url=f"https://social.example/@l{n}"),
                published=datetime(2026, 3, 1, tzinfo=timezone.utc),
            )
            for n in range(count)
        ],
    )


def _site(site: Site) -> Site:
    """Three posts: one in the site's language (French), one in German, one in Klingon."""
    site.article("premier", title="Premier billet")
    site.copy_comments("premier", THREAD)  # five comments, one by the author
    _likes(site, "premier", 1)
    site.article("zweiter", title="Zweiter Beitrag", lang="de")
    site.comment("zweiter-de", "a.md", "Schön.", author="Ute", date="2026-03-04 09:05")
    _likes(site, "zweiter-de", 2)
    site.article("tlhingan", title="Qapla", lang="tlh")
    site.comment("tlhingan-tlh", "a.md", "Qapla'!", author="Worf", date="2026-03-04 09:05")
    return site


def _text(node: object) -> str:
    return " ".join(node.get_text(" ").split())  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Site:
    site = _site(Site(tmp_path_factory.mktemp("i18n") / "site"))
    site.build(
        DEFAULT_LANG="fr",
        ENGAGE_OFFLINE=True,
        ENGAGE_COMMENT_EMAIL="comments@blog.example",
        ENGAGE_WEBMENTION={},
        ENGAGE_SHOW_WAITING=True,
    )
    return site


def test_a_french_site_speaks_french(built: Site) -> None:
    section = built.html("premier.html").select_one("section.engage")
    assert section.select_one(".engage-heading").get_text() == "5 commentaires"
    assert section.select_one(".engage-badge").get_text() == "Auteur"
    assert section.select_one(".engage-badge")["title"] == "L\u2019auteur de ce blog"
    # French puts a no-break space before a colon.
    label = section.select_one(".engage-likes .engage-reactions-label").get_text()
    assert label == "Aimé par 1 personne\u00a0:"
    assert {a.get_text() for a in section.select("a.engage-reply-mail")} == {"Répondre"}
    mail = section.select_one("a.engage-reply-mail")
    assert mail["aria-label"].startswith("Répondre à ") and mail["aria-label"].endswith(
        " par courriel"
    )
    # The body of the mail the reader's client opens is French too.
    assert "Votre%20r%C3%A9ponse" in mail["href"]
    assert _text(section.select_one(".engage-leave")) == "Laisser un commentaire par courriel."
    assert "Send the link" not in str(section)
    assert "Envoyez le lien" in section.select_one(".engage-webmention label").get_text()
    assert section.select_one(".engage-webmention button").get_text() == "Envoyer"
    assert section.select_one("a.engage-comment-feed").get_text() == "Flux des commentaires"
    assert "En attente d\u2019une r\u00e9ponse" in _text(section)
    # Dates: French month names, 24-hour clock.
    times = [t.get_text() for t in section.select("time.dt-published")]
    assert "1 févr. 2026, 10:00" in times
    for content in section.select(".e-content"):  # the commenters' own words
        content.decompose()
    words = _text(section)
    for english in ("comments?", "Reply", "Author", "Liked by", "Leave a", "Waiting", "AM"):
        assert not re.search(rf"\b{english}\b", words), english


def test_an_article_in_german_speaks_german_on_a_french_site(built: Site) -> None:
    section = built.html("zweiter-de.html").select_one("section.engage")
    assert section.select_one(".engage-heading").get_text() == "1 Kommentar"
    assert _text(section.select_one(".engage-likes .engage-reactions-label")) == (
        "Gefällt 2 Personen:"
    )
    assert section.select_one("a.engage-reply-mail").get_text() == "Antworten"
    assert [t.get_text() for t in section.select("time.dt-published")] == ["04.03.2026, 09:05"]
    assert _text(section.select_one(".engage-leave")) == "Per E-Mail: Einen Kommentar schreiben"


def test_a_language_without_catalog_reads_english(built: Site) -> None:
    section = built.html("tlhingan-tlh.html").select_one("section.engage")
    assert section.select_one(".engage-heading").get_text() == "1 comment"
    assert section.select_one("a.engage-reply-mail").get_text() == "Reply"


def test_comment_feed_titles_follow_the_post_language(built: Site) -> None:
    def title(path: str) -> feedparser.FeedParserDict:
        return feedparser.parse((built.output / path).read_text(encoding="utf-8")).feed.title

    premier = "Test blog - Commentaires\u00a0: Premier billet"
    assert title("feeds/comment.premier.atom.xml") == premier
    assert title("feeds/comment.zweiter-de.atom.xml") == "Test blog - Kommentare: Zweiter Beitrag"
    assert title("feeds/comments.all.atom.xml") == "Test blog - Tous les commentaires"
    entries = feedparser.parse(
        (built.output / "feeds/comment.zweiter-de.atom.xml").read_text(encoding="utf-8")
    ).entries
    assert [e.title for e in entries] == ["Verfasst von: Ute"]


def test_a_cached_render_is_not_reused_in_another_language(site: Site) -> None:
    """Rendered threads are cached across builds; the language is part of the key."""
    site.article("post")
    site.comment("post", "a.md", "Hi.", author="Ann", date="2026-03-04 09:05")
    site.build(ENGAGE_OFFLINE=True)
    assert site.html("post.html").select_one(".engage-heading").get_text() == "1 comment"
    site.build(ENGAGE_OFFLINE=True, DEFAULT_LANG="nl")
    assert site.html("post.html").select_one(".engage-heading").get_text() == "1 reactie"


# --------------------------------------------------------------------------
# Plurals, numbers and dates, language by language
# --------------------------------------------------------------------------

COMMENTS = ("%(num)s comment", "%(num)s comments")


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("en", 0, "0 comments"),
        ("en", 1, "1 comment"),
        ("en", 1234, "1,234 comments"),
        # French and Portuguese say the singular for 0 too.
        ("fr", 0, "0 commentaire"),
        ("fr", 1, "1 commentaire"),
        ("fr", 2, "2 commentaires"),
        ("fr", 1234, "1\u202f234 commentaires"),
        ("fr", 1000000, "1\u202f000\u202f000 commentaires"),  # CLDR's "many" form
        ("pt", 0, "0 comentário"),
        ("pt_BR", 2, "2 comentários"),
        ("de", 0, "0 Kommentare"),
        ("de_AT", 1, "1 Kommentar"),
        ("de-CH", 1234, "1'234 Kommentare"),  # the region's own digits
        ("es", 1, "1 comentario"),
        ("es", 7, "7 comentarios"),
        ("it", 1, "1 commento"),
        ("it", 3, "3 commenti"),
        ("nl", 1, "1 reactie"),
        ("nl", 0, "0 reacties"),
        ("xx", 2, "2 comments"),
    ],
)
def test_plural_forms(lang: str, n: int, expected: str) -> None:
    assert i18n.ngettext_for(lang, *COMMENTS, n) == expected


def test_dates_are_written_the_local_way() -> None:
    when = datetime(2026, 1, 3, 14, 5, tzinfo=timezone.utc)
    got = {lang: i18n.format_when(when, "medium", lang) for lang in ("fr", "de", "nl", "en_GB")}
    assert got == {
        "fr": "3 janv. 2026, 14:05",
        "de": "03.01.2026, 14:05",
        "nl": "3 jan 2026, 14:05",
        "en_GB": "3 Jan 2026, 14:05",
    }
    assert i18n.format_when(when, "long", "de_AT") == "3. Jänner 2026, 14:05"
    # An explicit strftime pattern is the site's own choice: used as given.
    assert i18n.format_when(when, "%d.%m.%Y", "fr") == "03.01.2026"


@pytest.mark.parametrize("lang", ["en", "en_US", "fr", "de", "ar", "fa", "he", "ja"])
@pytest.mark.parametrize("style", ["short", "medium", "long"])
def test_dates_in_pages_write_invisible_spaces_as_references(lang: str, style: str) -> None:
    when = datetime(2026, 1, 3, 22, 5, tzinfo=timezone.utc)
    text = i18n.format_when(when, style, lang)
    written = i18n.when_html(when, style, lang)
    assert html.unescape(written) == text  # the same text to a reader
    assert not set(written) & {chr(c) for c in i18n.INVISIBLE_REFS}
    if text.isascii() or lang.startswith("en"):
        assert written.isascii()  # an English page's dates keep it ASCII


def test_date_text_is_escaped_once() -> None:
    when = datetime(2026, 1, 3, 22, 5, tzinfo=timezone.utc)
    assert i18n.when_html(when, "%d <&> %m", "en") == "03 &lt;&amp;&gt; 01"
    assert i18n.when_html(when, "medium", "en") == "Jan 3, 2026, 10:05&#8239;PM"


# --------------------------------------------------------------------------
# The catalogs themselves
# --------------------------------------------------------------------------


def _catalog(language: str):  # type: ignore[no-untyped-def]
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def test_every_message_of_the_templates_is_translated_in_every_catalog() -> None:
    """Babel extracts the messages from the templates and modules; every catalog
    has each one, translated, with the same placeholders, and nothing stale."""
    extracted = {m.id: m for m in i18n.extract() if m.id}
    assert len(extracted) > 25  # the extraction found the templates' words
    assert "Leave a comment" in extracted and ("%(num)s comment", "%(num)s comments") in extracted
    for language in i18n.LANGUAGES:
        catalog = _catalog(language)
        ids = {m.id for m in catalog if m.id}
        assert ids == set(extracted), (language, set(extracted) ^ ids)
        for message in catalog:
            if not message.id:
                continue
            forms = message.string if message.pluralizable else (message.string,)
            if message.pluralizable:
                assert len(forms) == catalog.num_plurals, (language, message.id)
            singular = message.id[0] if message.pluralizable else message.id
            for form in forms:
                assert form, (language, message.id)
                assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(singular)), (
                    language,
                    message.id,
                    form,
                )


def test_catalogs_are_really_translations() -> None:
    """Not English copied over: most words differ from the English ones."""
    english = {m.id: m.string for m in _catalog("en") if m.id}
    for language in i18n.LANGUAGES:
        if language == "en":
            continue
        same = [m.id for m in _catalog(language) if m.id and m.string == english[m.id]]
        # A few are the same word in many languages (":", "Autor", "Feed").
        assert len(same) <= len(english) // 6, (language, same)


def test_a_fresh_mo_is_used_and_a_stale_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .mo at least as new as its .po is loaded; a stale one gives way to the .po."""
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "engage.po"
    shutil.copyfile(i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "engage.po", po)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    catalog["Reply"].string = "Répondre (mo)"
    with (folder / "engage.mo").open("wb") as handle:
        write_mo(handle, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)

    def reply() -> str:
        i18n.translations.cache_clear()
        try:
            return i18n.translations("fr").gettext("Reply")
        finally:
            i18n.translations.cache_clear()

    assert reply() == "Répondre (mo)"
    mtime = (folder / "engage.mo").stat().st_mtime
    os.utime(po, (mtime + 10, mtime + 10))  # the .po was edited after compiling
    assert reply() == "Répondre"


def test_a_broken_catalog_gives_english_and_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "engage.po").write_bytes(b'msgid "Reply"\nmsgstr[7 "broken\n')
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        got = i18n.translations("de")
    finally:
        i18n.translations.cache_clear()
    assert isinstance(got, gettext.NullTranslations)
    assert got.gettext("Reply") == "Reply"


def test_the_package_ships_its_catalogs() -> None:
    """setup.cfg's package data names the catalogs (what wheels and sdists carry)."""
    import configparser

    config = configparser.ConfigParser()
    config.read(Path(__file__).parent.parent / "setup.cfg")
    patterns = config["options.package_data"]["pelican_engage"].split()
    package = Path(i18n.__file__).parent
    for language in i18n.LANGUAGES:
        relative = f"locale/{language}/LC_MESSAGES/engage.po"
        assert (package / relative).is_file()
        assert any(Path(relative).match(p) for p in patterns), relative


# --------------------------------------------------------------------------
# i18n_subsites
# --------------------------------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("pelican.plugins.i18n_subsites") is None,
    reason="pelican-i18n-subsites is not installed (pip install -e .[test])",
)
def test_i18n_subsites_builds_each_language_in_its_own_words(site: Site) -> None:
    """i18n_subsites installs Jinja's i18n extension with the theme's catalogs;
    our words still come from ours, in each sub-site's language.

    Built by ``pelican`` in a child process: i18n_subsites connects its
    signals for good, which would change every later build of this process.
    """
    site.article("post", title="Post", lang="en")  # a sub-site's DEFAULT_LANG is its own
    site.comment("post", "a.md", "Hi.", author="Ann", date="2026-03-04 09:05")
    # Its German translation: same slug, so its thread's key is "post-de".
    (site.content / "post-de.md").write_text(
        "Title: Beitrag\nDate: 2026-01-02 10:00\nSlug: post\nLang: de\n\nText.\n",
        encoding="utf-8",
    )
    site.comment("post-de", "a.md", "Hallo.", author="Ute", date="2026-03-04 09:05")
    conf = site.write_conf(
        ENGAGE_OFFLINE=True,
        JINJA_ENVIRONMENT={"extensions": ["jinja2.ext.i18n"]},
        I18N_SUBSITES={"de": {"SITENAME": "Testblog"}},
    )
    with conf.open("a", encoding="utf-8") as handle:
        handle.write('PLUGINS = ["pelican.plugins.i18n_subsites", "pelican_engage"]\n')
    done = subprocess.run(
        [sys.executable, "-m", "pelican", str(site.content), "-s", str(conf)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    english = site.html("post.html").select_one(".engage-heading")
    german = site.html("de/post.html").select_one(".engage-heading")
    assert english is not None and english.get_text() == "1 comment"
    assert german is not None and german.get_text() == "1 Kommentar"


# --------------------------------------------------------------------------
# Nothing left in English by accident
# --------------------------------------------------------------------------


class _Marked(gettext.NullTranslations):
    """A pseudo-language: every translated message comes out between ⟦ ⟧."""

    def gettext(self, message: str) -> str:
        return f"\u27e6{message}\u27e7"

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return f"\u27e6{singular if n == 1 else plural}\u27e7"


#: What in a thread is not ours to translate: people's words and names,
#: times, hosts, initials, machine-readable data.
NOT_OURS = ".e-content, .p-name, time, .engage-mention-link, svg, script, style, .engage-initials"
MARKED = re.compile("\u27e6[^\u27e6\u27e7]*\u27e7")


def _unmarked(text: str) -> str:
    """``text`` without its marked parts (marks nest: a label inside "on %s")."""
    while True:
        shorter = MARKED.sub("", text)
        if shorter == text:
            return text
        text = shorter


def test_every_word_of_the_thread_goes_through_the_catalogs(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a pseudo-language that marks every translated message, no word of
    the thread is left unmarked, in its text or in the titles and labels
    readers meet (the thread has every kind of row: see test_a11y.build)."""
    from tests.test_a11y import build

    monkeypatch.setattr(i18n, "for_language", lambda lang: _Marked())
    page = build(site.root, "notmyidea")
    section = site.html(page.name).select_one("section.engage")
    assert section is not None
    words = re.compile(r"[^\W\d_]")
    left = []
    # Titles and labels; a person's name as a link title is theirs.
    theirs = {id(node) for node in section.select(f"{NOT_OURS}, a.engage-reactor")}
    for tag in section.find_all(True):
        if id(tag) in theirs:
            continue
        for attribute in ("title", "aria-label", "alt"):
            value = tag.get(attribute)
            if isinstance(value, str) and words.search(_unmarked(value)):
                left.append(f"{tag.name}[{attribute}]={value!r}")
    # The text, once people's words, names and times are taken out (a
    # message may hold markup: "⟦<name> mentioned this on <a>host</a>⟧").
    for node in section.select(NOT_OURS):
        node.replace_with("\u00b7")
    text = _unmarked(section.get_text(" "))
    left += [word for word in re.findall(r"\S+", text) if words.search(word)]
    assert left == []
    assert len(MARKED.findall(str(section))) > 30  # the pseudo-language was used

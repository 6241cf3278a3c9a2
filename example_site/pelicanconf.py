# Pelican settings for "Marginalia", Marin Ferrand's blog.
#
# Build a local copy with:
#     ENGAGE_OFFLINE=1 pelican content -s pelicanconf.py -o output

AUTHOR = "Marin Ferrand"
SITENAME = "Marginalia"
SITESUBTITLE = "Notes on writing, small software and slow bread"
SITEURL = ""
RELATIVE_URLS = True  # for `pelican --listen` and previews under any path

PATH = "content"

TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%d %B %Y"

# Keep the URLs I had on WordPress: /2025/09/my-post/
ARTICLE_URL = "{date:%Y}/{date:%m}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"

# No feeds while building locally.
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

DEFAULT_PAGINATION = 5

# The default theme (notmyidea) is fine by me.
LINKS = (
    ("Pelican", "https://getpelican.example/"),
    ("Bread notes wiki", "https://crumb.example/wiki/"),
    ("Priya's blog", "https://priya.example/"),
)
SOCIAL = (
    ("Mastodon", "https://social.example/@marin"),
    ("Code", "https://git.example/marin"),
)

PLUGINS = ["pelican_engage"]

# --- pelican-engage -----------------------------------------------------
# Comments live in content/comments/<article slug>/, one file per comment,
# exactly as pelican_comment_system laid them out.

# Who "the author" is. My replies are recognised by name, or by the email
# in their header (the email is never printed on the site).
ENGAGE_AUTHOR = {
    "names": ["Marin Ferrand"],
    "emails": ["marin@ferrand.example"],
    # My Mastodon and X accounts: replies from them get the Author badge too.
    "mastodon": ["marin@social.example"],
    "twitter": ["marinferrand"],
    "bluesky": ["marin.ferrand.example"],
}

# Replies to my tweets. The bearer token is read from the environment
# variable ENGAGE_TWITTER_BEARER_TOKEN, never from this file; without it the
# build shows the tweets already archived. X bills per read: keep a cap.
ENGAGE_TWITTER = {"max_requests": 30}

# Replies imported from elsewhere and "no reply needed" marks are kept here,
# relative to the folder I run pelican from. Commit it with the site.
ENGAGE_ARCHIVE_PATH = "engage-archive"

# Off: the public pages do not say whom I still owe an answer (the report
# and my page, outside the output, do). For a look on my laptop only:
#     ENGAGE_SHOW_WAITING=True in a local conf, never in publishconf.py.
ENGAGE_SHOW_WAITING = False

# Readers without an account anywhere answer by e-mail: a "Reply" link on
# every comment and "Leave a comment" under the thread (mailto:, no script).
ENGAGE_COMMENT_EMAIL = "comments@marin.example"

# Comment dates, in the same style as the post dates.
ENGAGE_DATE_FORMAT = "long"

# The same people under other names: Priya comments here and replies on X;
# Inês is on Mastodon and on X. Linking them makes `pelican-engage people`
# count each of them once.
ENGAGE_PEOPLE = [
    ["https://priya.example/", "twitter:priya_bakes"],
    ["mastodon:ines@toot.example", "twitter:ines_writes"],
]

# The page of everyone waiting for me (and waiting.atom, for my feed
# reader) is written outside the site, next to this file.
ENGAGE_REPORT_PAGE = "engage-report/index.html"

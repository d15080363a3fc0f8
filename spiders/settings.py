"""Scrapy settings for newsvault crawls.

Site-specific values (delay, concurrency, user agent, robots) come from the site profile and are
passed by the flow as ``-s`` overrides (see ``flows.orchestrate.crawl.crawl_settings``).
"""

# The size a gzipped sitemap may unzip to: processing reads the archived sitemaps with it too.
from flows.sites import SITEMAP_MAX_SIZE as NEWSVAULT_SITEMAP_MAXSIZE  # noqa: F401 (a setting)

BOT_NAME = "newsvault"
SPIDER_MODULES = ["spiders.news"]
NEWSPIDER_MODULE = "spiders.news"

# robots.txt is fetched once by the spider (and recorded); RobotsPolicyMiddleware enforces it.
ROBOTSTXT_OBEY = False
NEWSVAULT_ROBOTS_OBEY = True

# The SSRF guard replaces Scrapy's OffsiteMiddleware (which drops offsite redirects silently at
# scheduling, skips dont_filter requests and does not look at addresses): it checks every request,
# redirects included, and the request's errback names the refusal in the run report.
# RetryAfter (560) sees 429/503 before RetryMiddleware (550) and waits as the server asked.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "spiders.safety.AddressGuardMiddleware": 60,
    "spiders.robots.RobotsPolicyMiddleware": 100,
    "spiders.safety.RetryAfterMiddleware": 560,
    "spiders.pagehead.DeclaredEncodingMiddleware": 585,  # after gunzip (590), before meta refresh
    # meta refresh read from the page's head, never by decoding the whole page (Scrapy's does)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "spiders.pagehead.HeadMetaRefreshMiddleware": 580,
    "spiders.recorder.WarcRecorderMiddleware": 950,
}
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "spiders.statsfile.StatsFile": 0,
}

# Replay tools cannot decode br/zstd: ask for what they can.
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}

# Limits (spiders/safety.py has the SSRF guard). Since Scrapy 2.11 DOWNLOAD_MAXSIZE also caps the
# *decompressed* size in HttpCompressionMiddleware, so a gzip bomb is refused (the recorder, at
# 950, keeps the compressed bytes as received; flows.derive.process reads at most MAX_PAYLOAD of
# them).
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is an error (and retried), not a page
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
NEWSVAULT_RETRY_AFTER_MAX = 120.0  # longer Retry-After: give the URL up for this run
REDIRECT_MAX_TIMES = 10
# Cookies off: pages are archived as a first-time visitor sees them (and Scrapy's cookie
# middleware would try to download the public suffix list at start-up).
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 30.0

NEWSVAULT_WARC_MAX_SIZE = 1_000_000_000

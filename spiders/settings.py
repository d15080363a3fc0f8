"""Scrapy settings for newsvault crawls.

Site-specific values (delay, concurrency, user agent, robots) come from the site profile and are
passed by the flow as ``-s`` overrides (see ``flows.crawl.crawl_settings``).
"""

BOT_NAME = "newsvault"
SPIDER_MODULES = ["spiders.news"]
NEWSPIDER_MODULE = "spiders.news"

# robots.txt is fetched once by the spider (and recorded); RobotsPolicyMiddleware enforces it.
ROBOTSTXT_OBEY = False
NEWSVAULT_ROBOTS_OBEY = True

DOWNLOADER_MIDDLEWARES = {
    "spiders.robots.RobotsPolicyMiddleware": 100,
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

DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
# Cookies off: pages are archived as a first-time visitor sees them (and Scrapy's cookie
# middleware would try to download the public suffix list at start-up).
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
LOGSTATS_INTERVAL = 30.0

NEWSVAULT_WARC_MAX_SIZE = 1_000_000_000
NEWSVAULT_SITEMAP_MAXSIZE = 64 * 1024 * 1024

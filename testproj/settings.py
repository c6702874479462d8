"""Settings of the demo project: locmem cache and SQLite, nothing to install.

Not for production: the secret key is public and DEBUG is on. Environment
variables let the browser test run it on its own database:
``TRACKER_DEMO_DB`` (SQLite file) and ``TRACKER_DEMO_REPORT_TOKEN``;
``TRACKER_DEMO_MEMCACHED`` (``host:port``) counts in memcached instead of
LocMemCache (the tests point it at a port where nothing listens, to show the
pages survive a cache that is down).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "django-tracker-demo-only-not-secret"
DEBUG = os.environ.get("TRACKER_DEMO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tracker",
    "testproj.demo",
]
MIDDLEWARE = [
    # First: beacons to track/ are answered before sessions, auth and CSRF run.
    "tracker.middleware.TrackerMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "testproj.urls"
WSGI_APPLICATION = "testproj.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TRACKER_DEMO_DB") or str(BASE_DIR / "demo.sqlite3"),
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tracker-demo",
        # LocMemCache culls beyond 300 entries by default: counters would vanish.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
}
if os.environ.get("TRACKER_DEMO_MEMCACHED"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": os.environ["TRACKER_DEMO_MEMCACHED"],
    }
# The demo runs in one process, where LocMemCache is fine (check tracker.W001
# warns about it because a second process would not see the counts).
SILENCED_SYSTEM_CHECKS = ["tracker.W001"]

TRACKER_STATS_ACCESS = "public"  # the heat map pages read get_stats/ anonymously
TRACKER_CHECK_ORIGIN = True  # beacons must come from the demo's own pages
TRACKER_REPORT_TOKEN = os.environ.get("TRACKER_DEMO_REPORT_TOKEN", "")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static_root"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "admin:login"

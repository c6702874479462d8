"""Settings of the benchmark project, chosen by environment variables.

The runner (``bench/run.py``) starts one gunicorn per configuration, each with
its own environment, and reads the counts back in its own process with the
same settings:

- ``BENCH_CACHE``: ``memcached``, ``redis`` (Django's RedisCache) or
  ``django_redis``; which alias is ``default``, the tracker's cache.
- ``BENCH_FAST``: ``1`` puts the tracker's fast-path middleware first.
- ``BENCH_PEERS``: ``db`` or ``redis`` installs djinsight (with that storage,
  as its README's minimal and "High Traffic" settings) and django-hitcount.
- ``BENCH_MEMCACHED``, ``BENCH_REDIS``, ``BENCH_DB``: where the servers are.

Everything else is ``startproject``'s default, so the empty view measures what
a fresh Django project costs per request.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

CACHE = os.environ.get("BENCH_CACHE", "memcached")
FAST = os.environ.get("BENCH_FAST", "") == "1"
PEERS = os.environ.get("BENCH_PEERS", "")
MEMCACHED = os.environ.get("BENCH_MEMCACHED", "127.0.0.1:11311")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6391/0")
DB = os.environ.get("BENCH_DB", "")

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tracker-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tracker",
]
if PEERS:
    INSTALLED_APPS += ["djinsight", "hitcount"]
    # djinsight 0.4.2's migration 0004 fails on a new database (its data step
    # selects a column the schema step has renamed); its tables are created
    # from its models instead (migrate --run-syncdb).
    MIGRATION_MODULES = {"djinsight": None}

# startproject's middleware, in its order.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if FAST:
    MIDDLEWARE.insert(0, "tracker.middleware.TrackerMiddleware")

ROOT_URLCONF = "bench.project.urls"
WSGI_APPLICATION = "bench.project.wsgi.application"
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
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if DB.startswith("postgresql://"):
    _pg = urlparse(DB)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _pg.path.lstrip("/"),
            "USER": _pg.username or "postgres",
            "PASSWORD": _pg.password or "",
            "HOST": _pg.hostname or "127.0.0.1",
            "PORT": str(_pg.port or 5432),
            # Kept open between requests, as a production site would.
            "CONN_MAX_AGE": 600,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DB or str(BASE_DIR / "bench.sqlite3"),
            "OPTIONS": {"timeout": 30},
        }
    }

_CACHES = {
    "memcached": {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": MEMCACHED,
    },
    "redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS,
    },
    "django_redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    },
}
# Every alias is there (the runner reads all of them); "default" is the one the
# tracker and the baseline views use in this process.
CACHES = {"default": _CACHES[CACHE], **_CACHES}

# wrk sends every request from 127.0.0.1: the per-client limit of the track/
# endpoint would answer 429 after 300 requests a minute.
TRACKER_RATE_LIMIT = None
# The stats benchmark reads get_stats/ without logging in.
TRACKER_STATS_ACCESS = "public"

if PEERS:
    # djinsight's README: the minimal settings write to the database; its
    # "High Traffic" settings buffer in Redis for a Celery worker (not run
    # here: the benchmark measures the request, as for the tracker).
    DJINSIGHT = {
        "ENABLE_TRACKING": True,
        "USE_REDIS": PEERS == "redis",
        "USE_CELERY": PEERS == "redis",
        "REDIS_URL": REDIS,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # djinsight logs every recorded view at INFO; keep the servers' stderr quiet.
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# The fold benchmark also writes to a scratch SQLite file.
if os.environ.get("BENCH_FOLD_SQLITE"):
    DATABASES["fold_sqlite"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BENCH_FOLD_SQLITE"],
    }

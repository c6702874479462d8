"""Settings for django-tracker's test suite.

Real servers are found through environment variables (README, "Running the
tests"); without them the tests that need a server skip, except under
``CI=true``, where a missing server fails the run.

- ``TRACKER_TEST_MEMCACHED``: ``host:port[,host:port...]``; two or more also
  enable the memcached pool tests.
- ``TRACKER_TEST_REDIS``: ``redis://host:port/db``.
- ``TRACKER_TEST_POSTGRES``: ``postgresql://user@host:port/dbname``.
- ``TRACKER_TEST_AMQP``: a Celery broker URL, such as RabbitMQ's
  ``amqp://guest:guest@127.0.0.1:5672//``.
- ``TRACKER_TEST_RUN_ID``: a suffix that keeps two concurrent runs' test
  databases apart (defaults to nothing).
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

RUN_ID = os.environ.get("TRACKER_TEST_RUN_ID", "")
CI = os.environ.get("CI", "").lower() == "true"
MEMCACHED = [s for s in os.environ.get("TRACKER_TEST_MEMCACHED", "").split(",") if s]
REDIS = os.environ.get("TRACKER_TEST_REDIS", "")
POSTGRES = os.environ.get("TRACKER_TEST_POSTGRES", "")
AMQP = os.environ.get("TRACKER_TEST_AMQP", "")

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tracker-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "Europe/Paris"
LANGUAGE_CODE = "en"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tracker",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
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
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# SQLite in a file (not in memory) so that worker processes of the concurrency
# tests can open the same test database.
_SQLITE_TEST = Path(tempfile.gettempdir()) / f"tracker-test{RUN_ID}.sqlite3"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(_SQLITE_TEST.with_name(f"tracker{RUN_ID}.sqlite3")),
        "OPTIONS": {"timeout": 30},
        "TEST": {"NAME": str(_SQLITE_TEST)},
    }
}
if POSTGRES:
    _pg = urlparse(POSTGRES)
    DATABASES["postgres"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _pg.path.lstrip("/") or "test",
        "USER": _pg.username or "postgres",
        "PASSWORD": _pg.password or "",
        "HOST": _pg.hostname or "127.0.0.1",
        "PORT": str(_pg.port or 5432),
        "TEST": {"NAME": f"test_tracker{RUN_ID}"},
    }
# Worker processes started by the tests connect to the test databases by name.
for _alias, _env in (
    ("default", "TRACKER_WORKER_SQLITE"),
    ("postgres", "TRACKER_WORKER_POSTGRES"),
):
    if _alias in DATABASES and os.environ.get(_env):
        DATABASES[_alias]["NAME"] = os.environ[_env]
# A worker whose code folds into the default database (the Celery task takes no
# arguments) can be given PostgreSQL as its default.
if os.environ.get("TRACKER_WORKER_DEFAULT_DB") == "postgres" and POSTGRES:
    DATABASES["default"] = dict(DATABASES["postgres"])

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "tracker-tests",
        # The default of 300 entries culls counters as soon as a test has more.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
}
if MEMCACHED:
    CACHES["memcached"] = {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": MEMCACHED[0],
    }
if len(MEMCACHED) >= 2:
    CACHES["memcached_pool"] = {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": MEMCACHED,
    }
if REDIS:
    _redis = urlparse(REDIS)
    # A second, empty database on the same server plays the replica: a read
    # that wrongly goes there finds nothing, which the tests would notice.
    _replica = _redis._replace(
        path=f"/{int(_redis.path.lstrip('/') or 0) - 1}"
    ).geturl()
    CACHES["redis"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS,
    }
    CACHES["django_redis"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
    CACHES["redis_replicas"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": [REDIS, _replica],
    }
# Worker processes use the cache alias and prefix of the test that started them.
if os.environ.get("TRACKER_WORKER_CACHE"):
    TRACKER_CACHE_ALIAS = os.environ["TRACKER_WORKER_CACHE"]
    TRACKER_KEY_PREFIX = os.environ["TRACKER_WORKER_PREFIX"]

# Every alias the contract tests run against, and what each needs.
CACHE_BACKENDS = {
    "locmem": ("default", None),
    "memcached": ("memcached", "TRACKER_TEST_MEMCACHED"),
    "memcached_pool": ("memcached_pool", "TRACKER_TEST_MEMCACHED (two servers)"),
    "redis": ("redis", "TRACKER_TEST_REDIS"),
    "django_redis": ("django_redis", "TRACKER_TEST_REDIS"),
    "redis_replicas": ("redis_replicas", "TRACKER_TEST_REDIS"),
}

CELERY_BROKER_URL = AMQP or "memory://"
CELERY_RESULT_BACKEND = REDIS or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = False

"""Every system check id, triggered and named."""

import pytest
from django.core.checks import run_checks

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def ids(settings, **caches):
    settings.CACHES = {"default": LOCMEM, **caches}
    return {message.id for message in run_checks() if message.id.startswith("tracker.")}


def test_a_memcached_or_redis_alias_passes(settings):
    settings.TRACKER_CACHE_ALIAS = "counts"
    assert (
        ids(
            settings,
            counts={
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:6379",
            },
        )
        == set()
    )
    assert (
        ids(
            settings,
            counts={
                "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                "LOCATION": "127.0.0.1:11211",
            },
        )
        == set()
    )


def test_e001_missing_alias(settings):
    settings.TRACKER_CACHE_ALIAS = "nowhere"
    assert ids(settings) == {"tracker.E001"}


def test_e002_dummy_cache(settings):
    settings.TRACKER_CACHE_ALIAS = "dummy"
    assert ids(
        settings, dummy={"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    ) == {"tracker.E002"}


def test_w001_locmem(settings):
    settings.TRACKER_CACHE_ALIAS = "default"
    messages = [m for m in run_checks() if m.id == "tracker.W001"]
    assert len(messages) == 1
    assert "one process" in messages[0].msg
    assert "MAX_ENTRIES" in messages[0].hint


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.db.DatabaseCache",
    ],
)
def test_w002_non_atomic_increment(settings, backend):
    settings.TRACKER_CACHE_ALIAS = "slow"
    assert ids(settings, slow={"BACKEND": backend, "LOCATION": "/tmp/x"}) == {
        "tracker.W002"
    }


@pytest.mark.parametrize("prefix", ["has space:", "é:", "tab\t", "x" * 41, 42])
def test_e003_key_prefix(settings, prefix):
    settings.TRACKER_KEY_PREFIX = prefix
    settings.TRACKER_CACHE_ALIAS = "mc"
    assert ids(
        settings,
        mc={
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "127.0.0.1:11211",
        },
    ) == {"tracker.E003"}


@pytest.mark.parametrize("timeout", [0, -5, "4 days", None])
def test_e004_key_timeout(settings, timeout):
    settings.TRACKER_KEY_TIMEOUT = timeout
    assert "tracker.E004" in ids(settings)


@pytest.mark.parametrize("days", [0, "3"])
def test_e005_fold_days(settings, days):
    settings.TRACKER_FOLD_DAYS = days
    assert "tracker.E005" in ids(settings)


def test_w003_timeout_shorter_than_the_fold_window(settings):
    settings.TRACKER_FOLD_DAYS = 3
    settings.TRACKER_KEY_TIMEOUT = 2 * 86400
    assert "tracker.W003" in ids(settings)
    settings.TRACKER_KEY_TIMEOUT = 4 * 86400
    assert "tracker.W003" not in ids(settings)


def test_e006_unique_visitors_choice(settings):
    settings.TRACKER_UNIQUE_VISITORS = True
    assert "tracker.E006" in ids(settings)


@pytest.mark.parametrize("rate", ["300", "x/m", "0/s", "10/d", 300])
def test_e007_rate_limit_syntax(settings, rate):
    settings.TRACKER_RATE_LIMIT = rate
    assert "tracker.E007" in ids(settings)


@pytest.mark.parametrize("rate", ["300/m", "5/s", "1000/h", None])
def test_valid_rate_limits_pass(settings, rate):
    settings.TRACKER_RATE_LIMIT = rate
    assert "tracker.E007" not in ids(settings)


@pytest.mark.parametrize(
    "allowed", [["signup", "(unclosed"], "no.such.module.function", 5, [None]]
)
def test_e008_allowed_labels(settings, allowed):
    settings.TRACKER_ALLOWED_LABELS = allowed
    assert "tracker.E008" in ids(settings)


@pytest.mark.parametrize(
    "allowed", [None, [], [r"signup", r"clicked-\w+"], "tests.test_views.only_the_shop"]
)
def test_valid_allowed_labels_pass(settings, allowed):
    settings.TRACKER_ALLOWED_LABELS = allowed
    assert "tracker.E008" not in ids(settings)


def test_e009_stats_access_choice(settings):
    settings.TRACKER_STATS_ACCESS = "everyone"
    assert "tracker.E009" in ids(settings)
    settings.TRACKER_STATS_ACCESS = "public"
    assert "tracker.E009" not in ids(settings)

"""Fixtures shared by the whole suite: isolation, and the backend matrices."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from tracker.backends.cache import forget_capped_days
from tracker.visitors import forget_salts

CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str) -> None:
    """Skip a test whose server is not configured, or fail it under CI=true."""
    if available:
        return
    message = f"needs {what}; set it to run this test (README, 'Running the tests')"
    if CI:
        pytest.fail(f"CI=true but this test {message}")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def tracker_isolation(settings):
    """Give each test its own key prefix and a clean per-process state.

    A fresh prefix isolates tests on shared memcached/Redis servers without
    flushing them (another run may be using them); LocMemCache is cleared.
    """
    settings.TRACKER_KEY_PREFIX = f"t{uuid.uuid4().hex[:12]}:"
    caches["default"].clear()
    forget_capped_days()
    forget_salts()
    yield
    forget_capped_days()
    forget_salts()


@pytest.fixture(params=list(django_settings.CACHE_BACKENDS))
def cache_backend(request, settings):
    """Run a test once per cache configuration; yields the cache alias in use."""
    alias, needs = django_settings.CACHE_BACKENDS[request.param]
    require(alias in django_settings.CACHES, needs or alias)
    settings.TRACKER_CACHE_ALIAS = alias
    return alias


@pytest.fixture(params=["default", "postgres"])
def db_alias(request):
    """Run a test once per database: SQLite always, PostgreSQL when configured."""
    require(request.param in django_settings.DATABASES, "TRACKER_TEST_POSTGRES")
    return request.param


def server_cache_aliases() -> list[str]:
    """Cache aliases shared between processes (not LocMemCache)."""
    return [name for name in django_settings.CACHE_BACKENDS if name != "locmem"]


@pytest.fixture(params=server_cache_aliases())
def shared_cache_backend(request, settings):
    """Like ``cache_backend`` but only caches that several processes can share."""
    alias, needs = django_settings.CACHE_BACKENDS[request.param]
    require(alias in django_settings.CACHES, needs)
    settings.TRACKER_CACHE_ALIAS = alias
    return alias

"""System checks: django-tracker's configuration problems, caught at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from tracker import guards
from tracker.conf import DAY, tracker_settings

_PER_PROCESS = "django.core.cache.backends.locmem.LocMemCache"
_NON_ATOMIC = (
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.db.DatabaseCache",
)
_DUMMY = "django.core.cache.backends.dummy.DummyCache"


def _backend_path(alias: str) -> str | None:
    config = settings.CACHES.get(alias)
    if config is None:
        return None
    return config.get("BACKEND", "")


@register(Tags.caches)
def check_cache(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The tracker's cache alias must exist and count atomically across processes."""
    alias = tracker_settings.CACHE_ALIAS
    path = _backend_path(alias)
    hint = (
        "Point TRACKER_CACHE_ALIAS at a memcached (PyMemcacheCache) or Redis "
        "(RedisCache or django-redis) cache."
    )
    if path is None:
        return [
            Error(
                f"TRACKER_CACHE_ALIAS is {alias!r}, but settings.CACHES has no "
                "such alias.",
                hint=hint,
                id="tracker.E001",
            )
        ]
    if path == _DUMMY:
        return [
            Error(
                f"The tracker's cache {alias!r} is a DummyCache: every count "
                "would be lost.",
                hint=hint,
                id="tracker.E002",
            )
        ]
    if path == _PER_PROCESS:
        return [
            Warning(
                f"The tracker's cache {alias!r} is a LocMemCache, which lives inside "
                "one process: a second web process or a Celery worker never sees its "
                "counts, and they vanish on restart.",
                hint=hint + " LocMemCache is fine for development and tests; raise its"
                " OPTIONS['MAX_ENTRIES'] (300 by default) or it culls counters.",
                id="tracker.W001",
            )
        ]
    if path in _NON_ATOMIC:
        return [
            Warning(
                f"The tracker's cache {alias!r} uses {path.rsplit('.', 1)[-1]}, whose "
                "incr() reads and rewrites the value: concurrent hits can be lost.",
                hint=hint,
                id="tracker.W002",
            )
        ]
    return []


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Settings whose values would lose counts or break cache keys."""
    problems: list[Any] = []
    prefix = tracker_settings.KEY_PREFIX
    if (
        not isinstance(prefix, str)
        or not prefix.isascii()
        or not prefix.isprintable()
        or " " in prefix
        or len(prefix) > 40
    ):
        problems.append(
            Error(
                f"TRACKER_KEY_PREFIX {prefix!r} cannot be part of a memcached key.",
                hint="Use up to 40 printable ASCII characters without spaces.",
                id="tracker.E003",
            )
        )
    timeout = tracker_settings.KEY_TIMEOUT
    fold_days = tracker_settings.FOLD_DAYS
    if not isinstance(timeout, int) or timeout <= 0:
        problems.append(
            Error(
                "TRACKER_KEY_TIMEOUT must be a positive number of seconds, "
                f"not {timeout!r}.",
                id="tracker.E004",
            )
        )
    elif not isinstance(fold_days, int) or fold_days < 1:
        problems.append(
            Error(
                "TRACKER_FOLD_DAYS must be a positive number of days, "
                f"not {fold_days!r}.",
                id="tracker.E005",
            )
        )
    elif timeout < fold_days * DAY:
        problems.append(
            Warning(
                f"TRACKER_KEY_TIMEOUT ({timeout}s) is shorter than the "
                f"{fold_days} days a fold looks back (TRACKER_FOLD_DAYS): counters "
                "can expire before they are folded.",
                hint=f"Set TRACKER_KEY_TIMEOUT to at least {fold_days * DAY + DAY}.",
                id="tracker.W003",
            )
        )
    unique = tracker_settings.UNIQUE_VISITORS
    if unique not in ("objects", "all", "none"):
        problems.append(
            Error(
                "TRACKER_UNIQUE_VISITORS must be 'objects', 'all' or 'none', "
                f"not {unique!r}.",
                id="tracker.E006",
            )
        )
    return problems


@register()
def check_endpoints(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The settings of track/ and get_stats/ must be usable."""
    problems: list[Any] = []
    try:
        guards.parse_rate(tracker_settings.RATE_LIMIT)
    except ImproperlyConfigured as error:
        problems.append(Error(str(error), id="tracker.E007"))
    try:
        guards.label_check(tracker_settings.ALLOWED_LABELS)
    except ImproperlyConfigured as error:
        problems.append(Error(str(error), id="tracker.E008"))
    access = tracker_settings.STATS_ACCESS
    if access not in ("staff", "public"):
        problems.append(
            Error(
                f"TRACKER_STATS_ACCESS must be 'staff' or 'public', not {access!r}.",
                hint="Until it is fixed, get_stats/ answers staff users only.",
                id="tracker.E009",
            )
        )
    return problems

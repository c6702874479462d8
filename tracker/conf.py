"""django-tracker's settings: every default in one place, read when accessed."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DAY = 24 * 60 * 60

DEFAULTS: dict[str, Any] = {
    # Counting
    "TRACKER_ENABLED": True,
    "TRACKER_CACHE_ALIAS": "default",
    # Dotted path of a tracker.backends.base.CounterBackend subclass, or None to
    # pick one from the cache backend (Redis gets the one-round-trip Lua path).
    "TRACKER_BACKEND": None,
    "TRACKER_KEY_PREFIX": "tracker:",
    # Every cache key the tracker writes lives this long (seconds): several days,
    # so a stopped fold loses nothing for that long. Never Django's 300 s default.
    "TRACKER_KEY_TIMEOUT": 4 * DAY,
    "TRACKER_FAIL_SILENTLY": True,
    "TRACKER_MAX_ITEMS": 20,
    # Folding
    "TRACKER_FOLD_DAYS": 3,
    "TRACKER_FOLD_BATCH_SIZE": 10000,
    "TRACKER_REPORT_TOKEN": "",
    # The public track/ endpoint
    "TRACKER_ALLOWED_LABELS": None,
    "TRACKER_MAX_NEW_COUNTERS_PER_DAY": 1000,
    "TRACKER_RATE_LIMIT": "300/m",
    "TRACKER_IGNORE_BOTS": True,
    "TRACKER_BOT_USER_AGENTS": (),
    "TRACKER_RESPECT_DNT": True,
    "TRACKER_CHECK_ORIGIN": False,
    "TRACKER_MAX_BODY_SIZE": 8192,
    # The get_stats/ endpoint
    "TRACKER_STATS_ACCESS": "staff",
    "TRACKER_STATS_MAX_DOM_IDS": 200,
    "TRACKER_STATS_MAX_DAYS": 366,
    # Distinct visitors: "objects" (object counters only), "all" or "none".
    "TRACKER_UNIQUE_VISITORS": "objects",
    # The META key holding the client's address behind a proxy, such as
    # "HTTP_X_FORWARDED_FOR" (its first address is used); None uses REMOTE_ADDR.
    "TRACKER_IP_HEADER": None,
    # The counts/ endpoint (live counters of signed objects)
    "TRACKER_COUNTS_MAX_OBJECTS": 50,
}


class TrackerSettings:
    """Attribute access to ``TRACKER_*`` settings with their defaults.

    ``tracker_settings.KEY_PREFIX`` reads ``settings.TRACKER_KEY_PREFIX``. Values
    are memoised until Django sends ``setting_changed`` (``override_settings`` and
    pytest-django's ``settings`` fixture do), because the tracking path reads a
    few settings on every hit.
    """

    def __init__(self) -> None:
        self._memo: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        full = f"TRACKER_{name}"
        try:
            return self._memo[full]
        except KeyError:
            pass
        if full not in DEFAULTS:
            raise AttributeError(f"Unknown django-tracker setting {full}")
        value = getattr(django_settings, full, DEFAULTS[full])
        self._memo[full] = value
        return value

    def clear(self) -> None:
        """Forget memoised values (called when any setting changes)."""
        self._memo.clear()


tracker_settings = TrackerSettings()


@receiver(setting_changed)
def _clear_memo(**kwargs: Any) -> None:
    tracker_settings.clear()

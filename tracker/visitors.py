"""Anonymous visitor ids for distinct-visitor counts, never stored anywhere.

A visitor is its session when the request carries a session cookie, else its
client address and user agent. Either is hashed with a random salt that all
processes share for one day and that expires with the day's keys, so
yesterday's visitors cannot be linked to today's and nothing in the cache can
be turned back into an address. The result is only ever used inside another
hash (the "seen" key of a counter), never written as such.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from tracker.backends.base import CounterBackend
from tracker.conf import tracker_settings
from tracker.keys import digest

# Per process, the day's salt once read from the cache: one round trip a day.
_salts: dict[tuple[int, str, str], str] = {}


def client_ip(request: HttpRequest) -> str:
    """The client's address, from ``TRACKER_IP_HEADER`` when set (behind a proxy)."""
    header = tracker_settings.IP_HEADER
    if header:
        forwarded = request.META.get(header, "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _salt(backend: CounterBackend, day: datetime.date) -> str:
    memo_key = (id(backend.cache), backend.prefix, day.isoformat())
    salt = _salts.get(memo_key)
    if salt is None:
        if len(_salts) > 64:
            _salts.clear()
        salt = _salts[memo_key] = backend.day_salt(day)
    return salt


def visitor_id(
    request: HttpRequest, day: datetime.date, backend: CounterBackend
) -> str:
    """A salted hash standing for the visitor of ``request`` on ``day``."""
    salt = _salt(backend, day)
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        return digest(f"{salt}|s|{session_key}", 16)
    agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    return digest(f"{salt}|a|{client_ip(request)}|{agent}", 16)


def seconds_left(day: datetime.date) -> int:
    """Seconds until an hour after ``day`` ends: how long a "seen" mark must live."""
    if settings.USE_TZ:
        tz = timezone.get_current_timezone()
        end = datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time(), tz
        )
        now = timezone.now()
    else:
        end = datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time()
        )
        now = datetime.datetime.now()
    return max(60, int((end - now).total_seconds()) + 3600)


def forget_salts() -> None:
    """Drop this process's memo of daily salts (for tests)."""
    _salts.clear()

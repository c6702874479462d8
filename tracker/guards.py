"""Protections of the public ``track/`` endpoint, each driven by a setting.

An allow-list of labels, a per-client rate limit keyed by a salted hash (no
address is stored), requests to ignore (bots, Do Not Track, Global Privacy
Control) and an optional Origin/Referer check. Pure functions apart from the
daily salt, which is read from the cache once a day per process.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.utils.module_loading import import_string

from tracker.backends.base import CounterBackend
from tracker.conf import tracker_settings
from tracker.keys import digest
from tracker.labels import Item
from tracker.visitors import client_ip

# Lower-case substrings of the user agents of self-declared robots. Short on
# purpose: crawlers that pretend to be browsers are bounded by the rate limit
# and the cap on new counters, not by this list. HeadlessChrome is absent: it
# is also what real sites use for their own end-to-end tests.
BOT_USER_AGENTS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "mediapartners-google",
    "facebookexternalhit",
    "bingpreview",
    "embedly",
    "lighthouse",
    "pingdom",
)

_WINDOWS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}

LabelCheck = Callable[[Item], bool]


class RateLimit(NamedTuple):
    """At most ``limit`` requests per client in each fixed window of ``window`` s."""

    limit: int
    window: int


@functools.lru_cache(maxsize=16)  # read on every beacon; the setting rarely changes
def parse_rate(value: str | None) -> RateLimit | None:
    """Parse ``TRACKER_RATE_LIMIT`` (``"300/m"``, ``"10/s"``, ``"5000/h"``)."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([a-z]+)\s*", str(value))
    if not match or match[2] not in _WINDOWS or int(match[1]) < 1:
        raise ImproperlyConfigured(
            f"TRACKER_RATE_LIMIT must look like '300/m' ('N/s', 'N/m' or 'N/h') "
            f"or be None, not {value!r}."
        )
    return RateLimit(int(match[1]), _WINDOWS[match[2]])


# Compiled forms of TRACKER_ALLOWED_LABELS, keyed by the setting's value.
_label_checks: dict[object, LabelCheck] = {}


def label_check(allowed: str | Iterable[str] | None) -> LabelCheck | None:
    """The predicate ``TRACKER_ALLOWED_LABELS`` describes, or None to allow all."""
    if allowed is None:
        return None
    try:
        key = allowed if isinstance(allowed, str) else tuple(allowed)
    except TypeError as error:
        raise ImproperlyConfigured(
            "TRACKER_ALLOWED_LABELS must be None, a list of regular expressions "
            f"or a dotted path to a callable, not {allowed!r}."
        ) from error
    check = _label_checks.get(key)
    if check is None:
        check = _build_label_check(key)
        if len(_label_checks) > 16:
            _label_checks.clear()
        _label_checks[key] = check
    return check


def _build_label_check(allowed: str | tuple[str, ...]) -> LabelCheck:
    if isinstance(allowed, str):
        try:
            function = import_string(allowed)
        except ImportError as error:
            raise ImproperlyConfigured(
                f"TRACKER_ALLOWED_LABELS: cannot import {allowed!r} ({error})."
            ) from error
        if not callable(function):
            raise ImproperlyConfigured(
                f"TRACKER_ALLOWED_LABELS: {allowed!r} is not callable."
            )
        return lambda item: bool(function(item))
    try:
        patterns = [re.compile(pattern) for pattern in allowed]
    except (re.error, TypeError) as error:
        raise ImproperlyConfigured(
            f"TRACKER_ALLOWED_LABELS holds an invalid regular expression ({error})."
        ) from error
    return lambda item: any(pattern.fullmatch(item.label) for pattern in patterns)


def first_refused(items: Iterable[Item]) -> tuple[int, Item] | None:
    """The first item ``TRACKER_ALLOWED_LABELS`` refuses, with its 1-based position."""
    check = label_check(tracker_settings.ALLOWED_LABELS)
    if check is None:
        return None
    for position, item in enumerate(items, 1):
        if not check(item):
            return position, item
    return None


def ignore_reason(request: HttpRequest) -> str | None:
    """Why a request must not be counted (``"bot"``, ``"dnt"``), or None."""
    meta = request.META
    if tracker_settings.RESPECT_DNT and (
        meta.get("HTTP_DNT", "").strip() == "1"
        or meta.get("HTTP_SEC_GPC", "").strip() == "1"
    ):
        return "dnt"
    if tracker_settings.IGNORE_BOTS:
        agent = meta.get("HTTP_USER_AGENT", "")[:512].lower()
        if _bot_finder(tuple(tracker_settings.BOT_USER_AGENTS))(agent):
            return "bot"
    return None


@functools.lru_cache(maxsize=8)
def _bot_finder(extra: tuple[str, ...]) -> Callable[[str], object]:
    """One compiled search for any of the bot markers (built-in and extra)."""
    parts = [part.lower() for part in BOT_USER_AGENTS + extra if part]
    if not parts:
        return lambda agent: False
    return re.compile("|".join(re.escape(part) for part in parts)).search


def origin_allowed(request: HttpRequest) -> bool:
    """Whether the request's Origin (or else Referer) is one of ALLOWED_HOSTS."""
    source = request.META.get("HTTP_ORIGIN") or request.META.get("HTTP_REFERER")
    if not source or source == "null":
        return False
    try:
        netloc = urlsplit(source).netloc
    except ValueError:  # such as an unbalanced "[" in an IPv6 address
        return False
    domain, _port = split_domain_port(netloc.rpartition("@")[2])
    if not domain:
        return False
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        # What Django itself accepts in that case (HttpRequest.get_host).
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return validate_host(domain, allowed)


# Per process, the day's salt once read from the cache: one round trip a day.
_salts: dict[tuple[int, str, str], str] = {}


def _day_salt(backend: CounterBackend, day: datetime.date) -> str:
    memo_key = (id(backend.cache), backend.prefix, day.isoformat())
    salt = _salts.get(memo_key)
    if salt is None:
        if len(_salts) > 64:
            _salts.clear()
        salt = _salts[memo_key] = backend.day_salt(day)
    return salt


def rate_key(
    request: HttpRequest,
    backend: CounterBackend,
    day: datetime.date,
    rate: RateLimit,
    now: float | None = None,
) -> tuple[str, int]:
    """The cache key counting this client's requests in the current window.

    Returns the key and the seconds left in the window (for ``Retry-After``).
    The client address only enters a hash salted with the day's secret salt,
    so the cache never holds anything that can be turned back into it.
    """
    now = time.time() if now is None else now
    window_index = int(now // rate.window)
    client = digest(f"{_day_salt(backend, day)}|rate|{client_ip(request)}")
    key = f"{backend.prefix}r{rate.window}:{window_index}:{client}"
    seconds_left = math.ceil((window_index + 1) * rate.window - now)
    return key, max(1, seconds_left)


def forget_salts() -> None:
    """Drop this process's memo of daily salts (for tests)."""
    _salts.clear()

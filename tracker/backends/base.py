"""The interface every counter backend implements, and what they share."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tracker.keys import Counter, DayKeys

# How many counters one dom id can list per day in the live index; more than
# that still count, and show in get_stats/ from the next fold on.
DOM_SLOTS = 4

# Keys per multi-get; keeps memcached command lines and Redis replies small.
READ_CHUNK = 1000


class RateLimited(Exception):  # noqa: N818 - a signal, not an error
    """The client went over ``TRACKER_RATE_LIMIT``; nothing was counted."""


@dataclass(frozen=True, slots=True)
class Hit:
    """What one call counts: the same ``count`` for each of ``counters``.

    ``visitor`` (a hashed visitor id) also counts each counter's distinct-visitor
    twin once per visitor and day. ``create_limit`` caps the counters anonymous
    clients may create that day. ``rate_key``/``rate_limit``/``rate_window``
    apply a per-client rate limit in the same round trip where possible;
    ``rate_key`` is a complete key, already carrying ``TRACKER_KEY_PREFIX``
    (the caller builds it: :func:`tracker.guards.rate_key`), to which only the
    Django cache's own prefix is added.
    """

    day: datetime.date
    counters: Sequence[Counter]
    count: int = 1
    visitor: str | None = None
    seen_timeout: int = 0
    create_limit: int | None = None
    rate_key: str | None = None
    rate_limit: int = 0
    rate_window: int = 0


def chunked(items: Sequence[Any], size: int = READ_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unique_in_order(items: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


class CounterBackend:
    """Counts in one Django cache and reads the counts back for the fold.

    Subclasses implement :meth:`increment` and the three readers. Every read
    that the fold depends on must go to the primary server, never a replica.
    """

    def __init__(self, cache: Any, *, prefix: str, timeout: int) -> None:
        self.cache = cache
        self.prefix = prefix
        self.timeout = timeout

    def keys(self, day: datetime.date) -> DayKeys:
        return DayKeys(self.prefix, day)

    # Writing
    def increment(self, hit: Hit) -> None:
        """Count ``hit``; all of it or, on an exception, none of it."""
        raise NotImplementedError

    # Reading
    def read_registry(self, day: datetime.date) -> list[Counter]:
        """Every counter created on ``day`` (hits and distinct-visitor twins)."""
        raise NotImplementedError

    def read_values(
        self, day: datetime.date, counters: Sequence[Counter]
    ) -> dict[Counter, int]:
        """The packed cached values of ``counters``; absent keys are left out."""
        raise NotImplementedError

    def read_dom_index(
        self, day: datetime.date, dom_ids: Sequence[str]
    ) -> dict[str, list[Counter]]:
        """The counters created on ``day`` that carry each dom id."""
        raise NotImplementedError

    # Small shared helpers built on Django's cache API
    def day_salt(self, day: datetime.date) -> str:
        """A random salt shared by all processes for one day, then forgotten."""
        key = self.keys(day).salt()
        salt = secrets.token_hex(16)
        if self.cache.add(key, salt, self.timeout):
            return salt
        stored = self.cache.get(key)
        if stored is None:  # evicted between add and get: settle on ours
            self.cache.set(key, salt, self.timeout)
            return salt
        return stored

"""Counter identities, their cache keys and the layout of a counter's value.

A counter is identified by its day and a :class:`Counter`. Its cache key is
``<prefix><yyyymmdd>:<digest>``: short and ASCII whatever the label, so any
label that passes validation is a valid memcached key.

A counter's cached value packs two numbers: ``generation * 2**33 + count``.
The generation is the registry slot reserved for the counter just before it
was created, so a key that was evicted and created again is told apart from
the one the fold saw before. The packed value stays below 2**53, exact in
Redis' Lua (doubles) and in JavaScript.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
from typing import NamedTuple

COUNT_BITS = 33
COUNT_MASK = (1 << COUNT_BITS) - 1
GENERATION_LIMIT = 1 << 20  # generations run 1 .. GENERATION_LIMIT - 1, then wrap

# Metrics: the number of hits, and the number of distinct visitors.
HITS = "c"
UNIQUES = "u"

_FIELD_SEPARATOR = "\x1f"  # refused in every part by tracker.labels, so unambiguous


class Counter(NamedTuple):
    """What one counter counts (its identity apart from the day).

    Label counters leave ``model`` and ``object_id`` empty; object counters
    carry ``"app_label.modelname"`` and the primary key as text and leave
    ``category`` and ``dom_id`` empty. ``metric`` is :data:`HITS` or
    :data:`UNIQUES` (the distinct-visitor twin of the same counter).
    """

    label: str
    category: str = ""
    dom_id: str = ""
    model: str = ""
    object_id: str = ""
    metric: str = HITS

    @property
    def is_object(self) -> bool:
        return bool(self.model)

    def row(self) -> Counter:
        """The identity of the Statistic row this counter folds into."""
        return self._replace(metric=HITS) if self.metric != HITS else self

    def twin(self) -> Counter:
        """The distinct-visitor counter of the same thing."""
        return self._replace(metric=UNIQUES)

    def encode(self) -> str:
        return _FIELD_SEPARATOR.join(
            (
                self.metric,
                self.label,
                self.category,
                self.dom_id,
                self.model,
                self.object_id,
            )
        )

    @classmethod
    def decode(cls, text: str) -> Counter:
        metric, label, category, dom_id, model, object_id = text.split(_FIELD_SEPARATOR)
        return cls(label, category, dom_id, model, object_id, metric)


def digest(text: str, size: int = 12) -> str:
    """A short URL-safe hash of ``text`` (96 bits by default)."""
    raw = hashlib.blake2b(text.encode(), digest_size=size).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# The digests of the counters and dom ids counted lately: every hit needs its
# counters' keys, and a site counts the same few counters over and over.
@functools.lru_cache(maxsize=4096)
def counter_digest(counter: Counter) -> str:
    """The part of a counter's cache key that identifies it within its day."""
    return digest(counter.encode())


@functools.lru_cache(maxsize=1024)
def dom_digest(dom_id: str) -> str:
    return digest(dom_id)


@functools.lru_cache(maxsize=64)
def day_stamp(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def row_digest(day: datetime.date, counter: Counter) -> str:
    """The value of ``Statistic.digest`` for a counter's row on a day."""
    return digest(f"{day_stamp(day)}{_FIELD_SEPARATOR}{counter.row().encode()}", 16)


def pack(generation: int, count: int) -> int:
    return (generation << COUNT_BITS) | count


def unpack(value: int) -> tuple[int, int]:
    """Split a cached value into ``(generation, count)``."""
    return value >> COUNT_BITS, value & COUNT_MASK


def generation_of_slot(slot: int) -> int:
    return (slot - 1) % (GENERATION_LIMIT - 1) + 1


class DayKeys:
    """Builds the (un-prefixed by Django) cache keys of one day."""

    __slots__ = ("base",)

    def __init__(self, prefix: str, day: datetime.date) -> None:
        self.base = f"{prefix}{day_stamp(day)}:"

    def counter(self, counter: Counter) -> str:
        return self.base + counter_digest(counter)

    def slots(self) -> str:
        """The number of registry slots handed out so far that day."""
        return self.base + "n"

    def slot(self, number: int) -> str:
        """Registry slot ``number``: holds an encoded Counter."""
        return f"{self.base}s{number}"

    def dom_slot(self, dom_id: str, index: int) -> str:
        """One of the few slots listing the counters that carry ``dom_id``."""
        return f"{self.base}d{dom_digest(dom_id)}:{index}"

    def seen(self, counter: Counter, visitor: str) -> str:
        """Set once a visitor has been counted for a counter that day."""
        return (
            self.base
            + "v"
            + digest(f"{counter.row().encode()}{_FIELD_SEPARATOR}{visitor}")
        )

    def new_counters(self) -> str:
        """How many counters anonymous clients created that day."""
        return self.base + "new"

    def salt(self) -> str:
        """The day's random salt for hashing visitors without a session."""
        return self.base + "salt"

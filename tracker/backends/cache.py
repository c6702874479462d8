"""Counters on any Django cache whose ``incr`` and ``add`` are atomic.

That is memcached (pymemcache or pylibmc), LocMemCache within one process,
and Redis (though :mod:`tracker.backends.redis` is faster there). In the steady
state a counter costs one round trip: ``incr``. Only the first hit of a counter
on a day does more (register it, then ``add``), and a lost ``add`` race falls
back to ``incr``, so no hit is dropped and no shared value is ever rewritten.
"""

from __future__ import annotations

import datetime
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.memcached import BaseMemcachedCache, PyMemcacheCache
from django.core.signals import setting_changed
from django.dispatch import receiver

from tracker.backends.base import (
    DOM_SLOTS,
    CounterBackend,
    Hit,
    RateLimited,
    chunked,
    unique_in_order,
)
from tracker.exceptions import CounterLimitReached
from tracker.keys import HITS, Counter, DayKeys, generation_of_slot, pack

# Days on which this process saw the anonymous-creation cap reached. Per process
# on purpose: it saves a round trip per hit until the cap is near, and each
# process learns of the cap on its own next creation, so the cap is exceeded by
# at most one request's items per process.
_capped_days: set[tuple[str, str]] = set()

_ATTEMPTS = 4

# Django disconnects a memcached cache (PyMemcacheCache) at the end of every
# request, so each beacon would open a new TCP connection to memcached: the
# benchmark measured 1.28x the beacons per second with the connection kept
# (bench/README.md). The tracker counts through its own cache object for such
# an alias, made like Django's (create_connection) and, like Django's, one per
# thread, which Django never closes. Other caches are used as Django gives them.
_kept = threading.local()
_generation = [0]  # bumped when CACHES changes, so that no thread keeps an old one
# To close them all then, whichever thread made them. Weak: a thread that ends
# (runserver starts one per request) must not leave its connection open here.
_every_kept: weakref.WeakSet[Any] = weakref.WeakSet()
_kept_lock = threading.Lock()


def tracker_cache(alias: str) -> Any:
    """The cache object the tracker counts through for ``alias``."""
    cache = caches[alias]
    if type(cache).close is not BaseMemcachedCache.close:
        return cache  # keeps its connections already (or has none)
    kept = getattr(_kept, "caches", None)
    if kept is None or kept[0] != _generation[0]:
        kept = _kept.caches = (_generation[0], {})
    own = kept[1].get(alias)
    if own is None:
        own = kept[1][alias] = caches.create_connection(alias)
        _remember_servers(own)
        # Closed when its thread goes away: runserver starts a thread per request.
        weakref.finalize(threading.current_thread(), own.close)
        with _kept_lock:
            _every_kept.add(own)
    return own


def _remember_servers(cache: Any) -> None:
    """Give a kept PyMemcacheCache the remembering hasher, unless a site chose one."""
    if not isinstance(cache, PyMemcacheCache) or "_cache" in cache.__dict__:
        return  # another client, or one already made
    if "hasher" not in cache._options:
        from tracker.backends.memcached import RememberingRendezvousHash

        cache._options = {**cache._options, "hasher": RememberingRendezvousHash}


@receiver(setting_changed)
def _forget_kept_caches(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        _generation[0] += 1
        with _kept_lock:
            stale = list(_every_kept)
            _every_kept.clear()
        for cache in stale:
            cache.close()


class CacheBackend(CounterBackend):
    """The portable backend, built on Django's cache API only."""

    def increment(self, hit: Hit) -> None:
        keys = self.keys(hit.day)
        if hit.rate_key is not None:
            self._check_rate(hit)
        if hit.create_limit is not None and (keys.base, self.prefix) in _capped_days:
            wanted = {keys.counter(counter) for counter in hit.counters}
            if len(self.cache.get_many(list(wanted))) < len(wanted):
                raise CounterLimitReached
        for counter in hit.counters:
            self._bump(keys, counter, hit.count, hit.create_limit)
            if hit.visitor is not None and self.cache.add(
                keys.seen(counter, hit.visitor), 1, hit.seen_timeout
            ):
                self._bump(keys, counter.twin(), 1, None)

    def _check_rate(self, hit: Hit) -> None:
        if self._next(hit.rate_key, timeout=hit.rate_window) > hit.rate_limit:
            raise RateLimited

    def _bump(
        self, keys: DayKeys, counter: Counter, count: int, create_limit: int | None
    ) -> None:
        key = keys.counter(counter)
        for _attempt in range(_ATTEMPTS):
            try:
                self._incr(key, count)
                return
            except ValueError:
                pass  # not created yet today (or evicted)
            generation = self._register(keys, counter, create_limit)
            if self.cache.add(key, pack(generation, count), self.timeout):
                return
            # Another process created it first: loop round and increment it.
        raise RuntimeError(f"tracker: counter {key} kept disappearing; hit not counted")

    def _incr(self, key: str, delta: int) -> int:
        """``cache.incr`` that refuses to mistake a failing server for success.

        pymemcache's HashClient answers ``False`` instead of raising while it
        waits to retry a server that just failed; Django passes that through.
        """
        value = self.cache.incr(key, delta)
        if type(value) is not int:
            raise ConnectionError(
                f"cache server for {key} is failing (incr gave {value!r})"
            )
        return value

    def _next(self, key: str, delta: int = 1, timeout: int | None = None) -> int:
        """Atomically add ``delta`` to ``key``, creating it if needed."""
        for _attempt in range(_ATTEMPTS):
            try:
                return self._incr(key, delta)
            except ValueError:
                pass
            if self.cache.add(key, delta, timeout or self.timeout):
                return delta
        raise RuntimeError(f"tracker: could not increment {key}")

    def _register(
        self, keys: DayKeys, counter: Counter, create_limit: int | None
    ) -> int:
        """List a counter in its day's registry before it is created.

        Registering first means a counter never exists unlisted, so the fold
        cannot miss it. Racing creators may list it twice; the fold dedups.
        The slot is claimed with ``add`` so that an old listing is never
        overwritten, even if the slot count was lost and restarts low.
        """
        encoded = counter.encode()
        step = 1
        for _attempt in range(8):
            slot = self._next(keys.slots(), step)
            if self.cache.add(keys.slot(slot), encoded, self.timeout):
                break
            step *= 8  # the slot count went backwards: jump past the old slots
        else:
            self.cache.set(keys.slot(slot), encoded, self.timeout)
        if counter.metric == HITS:
            if counter.dom_id:
                self._index_dom(keys, counter.dom_id, encoded)
            if create_limit is not None:
                made = self._next(keys.new_counters())
                if made >= create_limit:
                    _capped_days.add((keys.base, self.prefix))
        return generation_of_slot(slot)

    def _index_dom(self, keys: DayKeys, dom_id: str, encoded: str) -> None:
        names = [keys.dom_slot(dom_id, index) for index in range(DOM_SLOTS)]
        taken = self.cache.get_many(names)
        if encoded in taken.values():
            return
        for name in names:
            if name in taken:
                continue
            if (
                self.cache.add(name, encoded, self.timeout)
                or self.cache.get(name) == encoded
            ):
                return

    def read_registry(self, day: datetime.date) -> list[Counter]:
        keys = self.keys(day)
        count = self.cache.get(keys.slots()) or 0
        encoded: list[str] = []
        for names in chunked([keys.slot(number) for number in range(1, count + 1)]):
            found = self.cache.get_many(names)
            encoded.extend(found[name] for name in names if name in found)
        return [Counter.decode(text) for text in unique_in_order(encoded)]

    def read_values(
        self, day: datetime.date, counters: Sequence[Counter]
    ) -> dict[Counter, int]:
        keys = self.keys(day)
        values: dict[Counter, int] = {}
        for batch in chunked(list(counters)):
            names = {keys.counter(counter): counter for counter in batch}
            for name, value in self.cache.get_many(list(names)).items():
                values[names[name]] = int(value)
        return values

    def read_dom_index(
        self, day: datetime.date, dom_ids: Sequence[str]
    ) -> dict[str, list[Counter]]:
        keys = self.keys(day)
        names = {
            keys.dom_slot(dom_id, index): dom_id
            for dom_id in dom_ids
            for index in range(DOM_SLOTS)
        }
        index: dict[str, list[Counter]] = {}
        for batch in chunked(list(names)):
            for name, encoded in self.cache.get_many(batch).items():
                index.setdefault(names[name], []).append(Counter.decode(encoded))
        return index


def forget_capped_days() -> None:
    """Reset this process's memory of capped days (for tests)."""
    _capped_days.clear()

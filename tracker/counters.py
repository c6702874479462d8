"""The counting API: ``Tracker`` counts in the cache and reads the counts live."""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from tracker import visitors
from tracker.backends import redis as redis_backend
from tracker.backends.base import CounterBackend, Hit, RateLimited
from tracker.backends.cache import CacheBackend, tracker_cache
from tracker.conf import tracker_settings
from tracker.exceptions import CounterLimitReached, InvalidLabel
from tracker.keys import Counter, unpack
from tracker.labels import MAX_OBJECT_ID_LENGTH, Item, clean_part, parse_query

logger = logging.getLogger(__name__)

MAX_COUNT = 1 << 24


def local_today() -> datetime.date:
    """Today in ``settings.TIME_ZONE``: the day a hit happening now counts on.

    Always ``TIME_ZONE``, even while a site has activated a visitor's own time
    zone: every process must put a hit on the same day.
    """
    if settings.USE_TZ:
        return timezone.now().astimezone(timezone.get_default_timezone()).date()
    return datetime.date.today()  # Django sets the process TZ to TIME_ZONE


# The backend last built in this thread for each alias, with the cache object
# and settings it was built from (Django's cache objects are one per thread).
# Every hit needs one; building it means looking at the cache's class and, on
# Redis, finding its client and script. Thread-local, so that nothing here
# outlives the thread and its cache object.
_built = threading.local()


def get_backend(alias: str | None = None) -> CounterBackend:
    """The counter backend for the tracker's cache alias."""
    alias = alias or tracker_settings.CACHE_ALIAS
    cache = tracker_cache(alias)
    config = (
        tracker_settings.BACKEND,
        tracker_settings.KEY_PREFIX,
        tracker_settings.KEY_TIMEOUT,
    )
    built = getattr(_built, "backends", None)
    if built is None:
        built = _built.backends = {}
    kept = built.get(alias)
    if kept is not None and kept[0] is cache and kept[1] == config:
        return kept[2]
    path, prefix, timeout = config
    if path:
        backend_class = import_string(path)
    elif redis_backend.supports(cache):
        backend_class = redis_backend.RedisBackend
    else:
        backend_class = CacheBackend
    backend = backend_class(cache, prefix=prefix, timeout=timeout)
    built[alias] = (cache, config, backend)
    return backend


def label_counters(query: str | Iterable[str] | Iterable[Item]) -> list[Counter]:
    """Parse a query (or take parsed items) into label counters."""
    if isinstance(query, str):
        items: Sequence[Item] = parse_query(query)
    else:
        query = list(query)
        if query and all(isinstance(item, Item) for item in query):
            items = query  # already validated by parse_query
        else:
            items = parse_query(query)
    return [Counter(item.label, item.category, item.dom_id) for item in items]


def object_counter(obj: models.Model | tuple[str, Any], label: str = "view") -> Counter:
    """The counter of ``label`` for a model instance or a ``("app.model", pk)`` pair."""
    if isinstance(obj, models.Model):
        if obj.pk is None:
            raise ValueError(f"Cannot count {obj!r}: it has no primary key yet.")
        model, pk = obj._meta.concrete_model._meta.label_lower, obj.pk
    else:
        model, pk = obj
    object_id = str(pk)
    if (
        len(object_id) > MAX_OBJECT_ID_LENGTH
        or not object_id.isprintable()
        or not object_id
    ):
        raise InvalidLabel(
            f"Object id {object_id[:60]!r} cannot be counted: it must be 1 to "
            f"{MAX_OBJECT_ID_LENGTH} printable characters.",
            rule="bad_object_id",
            item=object_id,
        )
    return Counter(clean_part(label, "label"), model=model, object_id=object_id)


def _check_count(count: int) -> int:
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not 1 <= count <= MAX_COUNT
    ):
        raise ValueError(
            f"count must be an integer from 1 to {MAX_COUNT}, not {count!r}."
        )
    return count


class Tracker:
    """Counts hits in Django's cache; a fold later moves them into ``Statistic`` rows.

    Every method validates its input first and raises ``InvalidLabel`` (a
    ``ValueError``) for bad labels, counting nothing. A cache that is down or
    erroring is logged and ignored unless ``TRACKER_FAIL_SILENTLY = False``.
    """

    def __init__(self, cache_alias: str | None = None) -> None:
        self.cache_alias = cache_alias

    @property
    def backend(self) -> CounterBackend:
        return get_backend(self.cache_alias)

    def incr_labels(
        self,
        query: str | Iterable[str] | Iterable[Item],
        count: int = 1,
        *,
        request: HttpRequest | None = None,
        save: bool = True,
    ) -> bool:
        """Count each item of ``query``, such as ``"signup|buy:shop:buy-btn"``.

        With ``request`` and ``TRACKER_UNIQUE_VISITORS = "all"``, distinct
        visitors are counted too. ``save`` is accepted for compatibility with
        the original django-tracker and ignored. Returns whether it counted.
        """
        counters = label_counters(query)
        unique = tracker_settings.UNIQUE_VISITORS == "all"
        return self.incr_counters(counters, count, request=request if unique else None)

    def incr_object(
        self,
        obj: models.Model | tuple[str, Any],
        label: str = "view",
        count: int = 1,
        *,
        request: HttpRequest | None = None,
    ) -> bool:
        """Count ``label`` (a view by default) for a model instance.

        With ``request``, the distinct visitor is counted too unless
        ``TRACKER_UNIQUE_VISITORS = "none"``. Returns whether it counted.
        """
        counter = object_counter(obj, label)
        unique = tracker_settings.UNIQUE_VISITORS != "none"
        return self.incr_counters([counter], count, request=request if unique else None)

    def incr_counters(
        self,
        counters: Sequence[Counter],
        count: int = 1,
        *,
        request: HttpRequest | None = None,
        create_limit: int | None = None,
        rate_key: str | None = None,
        rate_limit: int = 0,
        rate_window: int = 0,
    ) -> bool:
        """Count already-validated counters; the layer the other methods share.

        ``RateLimited`` and ``CounterLimitReached`` propagate (the track view
        answers them); any other cache failure follows ``TRACKER_FAIL_SILENTLY``.
        """
        _check_count(count)
        if not tracker_settings.ENABLED or not counters:
            return False
        try:
            backend = self.backend
            day = local_today()
            visitor = None
            if request is not None:
                visitor = visitors.visitor_id(request, day, backend)
            backend.increment(
                Hit(
                    day=day,
                    counters=counters,
                    count=count,
                    visitor=visitor,
                    seen_timeout=visitors.seconds_left(day) if visitor else 0,
                    create_limit=create_limit,
                    rate_key=rate_key,
                    rate_limit=rate_limit,
                    rate_window=rate_window,
                )
            )
        except Exception as error:
            if _is_signal(error) or not tracker_settings.FAIL_SILENTLY:
                raise
            # One short line per failed call: during an outage every hit fails,
            # and a traceback or the full counter list each time floods the log.
            logger.warning(
                "tracker: could not count %d counter(s) (first: %r): %s: %s",
                len(counters),
                counters[0].label,
                type(error).__name__,
                error,
            )
            logger.debug("tracker: counting failed", exc_info=True)
            return False
        return True

    def live_counts(
        self,
        *,
        labels: str | Iterable[str] | Iterable[Item] = (),
        dom_ids: Iterable[str] = (),
        objects: Iterable[models.Model | tuple[str, Any]] = (),
        object_label: str = "view",
        uniques: bool = False,
        day: datetime.date | None = None,
    ) -> dict[Counter, int]:
        """The cache's counts for a day (today by default), not yet folded or not.

        A counter's cached count is its whole day so far (the fold never resets
        it). Counters found through ``dom_ids`` are those created that day with
        that dom id (up to four per dom id; more show after the next fold).
        With ``uniques``, each counter's distinct-visitor twin is read too.
        Costs one cache round trip, two when ``dom_ids`` are given.
        """
        day = day or local_today()
        backend = self.backend
        counters = label_counters(labels) if labels else []
        counters += [object_counter(obj, object_label) for obj in objects]
        dom_ids = list(dom_ids)
        if dom_ids:
            for found in backend.read_dom_index(day, dom_ids).values():
                counters.extend(found)
        if uniques:
            counters += [counter.twin() for counter in counters]
        counters = list(dict.fromkeys(counters))
        if not counters:
            return {}
        values = backend.read_values(day, counters)
        return {counter: unpack(value)[1] for counter, value in values.items()}


def _is_signal(error: Exception) -> bool:
    """Exceptions that are answers for the caller, not cache failures."""
    return isinstance(error, RateLimited | CounterLimitReached | InvalidLabel)

"""The baseline views that the tracker's endpoint is measured against."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

INCR_KEYS = ("bench:incr:1", "bench:incr:2")
PIPE_KEYS = ("bench:pipe:1", "bench:pipe:2")

_redis = None


def empty(request: HttpRequest) -> HttpResponse:
    """Scenario a: nothing but Django's request cycle."""
    return HttpResponse(status=204)


def incr2(request: HttpRequest) -> HttpResponse:
    """Scenario b: two increments through Django's cache API, as a site would."""
    for key in INCR_KEYS:
        try:
            cache.incr(key)
        except ValueError:  # evicted or first run: the runner created them
            cache.add(key, 1, None)
    return HttpResponse(status=204)


def pipe2(request: HttpRequest) -> HttpResponse:
    """Scenario b on Redis: the same two increments in one redis-py pipeline.

    The fastest a hand-written view can count two things on Redis: one client
    per process and one round trip, with nothing else (no registry, no expiry).
    """
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS)
    pipe = _redis.pipeline(transaction=False)
    for key in PIPE_KEYS:
        pipe.incr(key)
    pipe.execute()
    return HttpResponse(status=204)

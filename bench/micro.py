"""Micro benchmarks: ``Tracker().incr_labels`` against the raw client."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from pymemcache.client.base import Client as MemcacheClient

from bench.roundtrips import memcached_commands, redis_commands, socket_sends
from tracker.counters import Tracker


@dataclass
class MicroResult:
    """Per-call cost of one way of doing ``labels`` increments."""

    cache: str
    labels: int
    who: str  # "tracker" or "raw"
    micros: float  # median microseconds per call
    round_trips: float  # socket sends per call, in this process
    server_commands: float  # commands the server executed per call


def _time(call: Callable[[], object], calls: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


def _measure(call, calls, repeats, commands_now) -> tuple[float, float, float]:
    call()  # creates the counters: measure the steady state
    with socket_sends() as sent:
        call()
    before = commands_now()
    for _ in range(calls):
        call()
    # The Redis reader's own INFO counts once.
    per_call = (commands_now() - before) / calls
    return _time(call, calls, repeats), len(sent), per_call


def run(run_id: str, calls: int, repeats: int) -> list[MicroResult]:
    results = []
    location = settings.MEMCACHED
    host, port = location.rsplit(":", 1)
    raw_mc = MemcacheClient((host, int(port)))
    raw_redis = redis.Redis.from_url(settings.REDIS)
    for cache, commands_now in (
        ("memcached", lambda: memcached_commands(location)),
        ("redis", lambda: redis_commands(settings.REDIS) - 1),
    ):
        for size in (1, 10):
            query = "|".join(f"micro{run_id}_{size}_{n}:bench" for n in range(size))
            tracker = Tracker(cache)
            timing = _measure(
                lambda tracker=tracker, query=query: tracker.incr_labels(query),
                calls,
                repeats,
                commands_now,
            )
            results.append(MicroResult(cache, size, "tracker", *timing))
            keys = [f"bench:micro{run_id}:{size}:{n}" for n in range(size)]
            if cache == "memcached":
                for key in keys:
                    raw_mc.set(key, 0)

                def raw(keys=keys):
                    for key in keys:
                        raw_mc.incr(key, 1)
            else:

                def raw(keys=keys):
                    if len(keys) == 1:
                        return raw_redis.incr(keys[0])
                    pipe = raw_redis.pipeline(transaction=False)
                    for key in keys:
                        pipe.incr(key)
                    return pipe.execute()

            timing = _measure(raw, calls, repeats, commands_now)
            results.append(MicroResult(cache, size, "raw", *timing))
    raw_mc.close()
    raw_redis.close()
    return results

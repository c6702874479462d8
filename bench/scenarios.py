"""The servers and HTTP scenarios of one run, with the readers of their counts."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import redis
from django.conf import settings
from django.core.cache import caches

from bench.loadtest import Scenario
from bench.project.views import INCR_KEYS, PIPE_KEYS
from bench.servers import Server, free_port
from tracker.counters import Tracker
from tracker.labels import parse_query

# The tracker's fast-path middleware (issue 4), when it exists.
FAST_MIDDLEWARE = "tracker.middleware.TrackerMiddleware"
CSRF_SECRET = "b" * 32  # django-hitcount's endpoint is CSRF-protected


def make_servers(tmp: Path, fast: bool, peers: bool) -> dict[str, Server]:
    configs = {
        "mc": {"BENCH_CACHE": "memcached"},
        "redis": {"BENCH_CACHE": "redis"},
        "djredis": {"BENCH_CACHE": "django_redis"},
    }
    if fast:
        for name in list(configs):
            configs[f"{name}_fast"] = {**configs[name], "BENCH_FAST": "1"}
    if peers:
        configs["peers_db"] = {"BENCH_CACHE": "memcached", "BENCH_PEERS": "db"}
        configs["peers_redis"] = {"BENCH_CACHE": "memcached", "BENCH_PEERS": "redis"}
    return {
        name: Server(name, free_port(), env, str(tmp / f"served-{name}.bin"))
        for name, env in configs.items()
    }


def prepare() -> None:
    """Create what the baseline views increment, so that they only increment."""
    for alias in ("memcached", "redis"):
        for key in INCR_KEYS:
            caches[alias].add(key, 0, None)
    client = redis.Redis.from_url(settings.REDIS)
    for key in PIPE_KEYS:
        client.setnx(key, 0)
    client.close()


def _cache_reader(alias: str, keys):
    return lambda: [int(caches[alias].get(key) or 0) for key in keys]


def _pipe_reader():
    client = redis.Redis.from_url(settings.REDIS)
    return lambda: [int(client.get(key) or 0) for key in PIPE_KEYS]


def _track_reader(alias: str, query: str):
    items = parse_query(query)

    def read():
        counts = Tracker(alias).live_counts(labels=items)
        return [sum(v for c, v in counts.items() if c.label == i.label) for i in items]

    return read


def track_query(run_id: str, key: str) -> str:
    """Two labels, one with a dom id, distinct per run and scenario."""
    label = f"b{run_id}_{key}"
    return f"{label}:bench:{key}|{label}_click:bench"


def baseline_scenarios(servers: dict[str, Server]) -> list[Scenario]:
    mc, rd = servers["mc"], servers["redis"]
    grew = "both keys grew by the 2xx served"
    return [
        Scenario(
            "a_empty",
            "a. empty view, 204 (startproject middleware)",
            mc,
            "/empty/",
            check="served = wrk's responses (+ in flight)",
        ),
        Scenario(
            "b_mc",
            "b. 2 cache.incr, memcached",
            mc,
            "/incr2/",
            read_counts=_cache_reader("memcached", INCR_KEYS),
            check=grew,
        ),
        Scenario(
            "b_redis",
            "b. 2 cache.incr, Django RedisCache",
            rd,
            "/incr2/",
            read_counts=_cache_reader("redis", INCR_KEYS),
            check=grew,
        ),
        Scenario(
            "b_pipe",
            "b. 2 INCR in one redis-py pipeline",
            rd,
            "/pipe2/",
            read_counts=_pipe_reader(),
            check=grew,
        ),
    ]


def track_scenarios(servers: dict[str, Server], run_id: str) -> list[Scenario]:
    found = []
    for name, alias, title in (
        ("mc", "memcached", "memcached"),
        ("redis", "redis", "Django RedisCache"),
        ("djredis", "django_redis", "django-redis"),
    ):
        for suffix, how in (("", "full middleware"), ("_fast", "fast-path middleware")):
            server = servers.get(name + suffix)
            if server is None:
                continue
            key = f"c_{name}{suffix}"
            query = track_query(run_id, key)
            found.append(
                Scenario(
                    key,
                    f"c. track/ 2 labels, {title} ({how})",
                    server,
                    "/tracker/track/?labels=" + quote(query),
                    read_counts=_track_reader(alias, query),
                    check="both labels' live counts grew by the 2xx served",
                )
            )
    return found


def peer_scenarios(servers: dict[str, Server], group_id: int, hitcount_pk: int):
    from djinsight.models import PageViewEvent, PageViewStatistics
    from hitcount.models import Hit, HitCount

    def djinsight_db():
        stats = PageViewStatistics.objects.filter(object_id=group_id).first()
        return [PageViewEvent.objects.count(), stats.total_views if stats else 0]

    client = redis.Redis.from_url(settings.REDIS)
    counter = f"djinsight:pageview:counter:auth.group:{group_id}"

    def hitcount():
        return [Hit.objects.count(), HitCount.objects.get(pk=hitcount_pk).hits]

    body = json.dumps(
        {"object_id": group_id, "content_type": "auth.group", "url": "/b/"}
    )
    json_type = {"Content-Type": "application/json"}
    return [
        Scenario(
            "d_djinsight_db",
            "d. djinsight record-view (README minimal: database)",
            servers["peers_db"],
            "/djinsight/record-view/",
            "POST",
            body,
            json_type,
            read_counts=djinsight_db,
            check="PageViewEvent rows and total_views grew by the 2xx served",
        ),
        Scenario(
            "d_djinsight_redis",
            "d. djinsight record-view (README High Traffic: Redis)",
            servers["peers_redis"],
            "/djinsight/record-view/",
            "POST",
            body,
            json_type,
            read_counts=lambda: [int(client.get(counter) or 0)],
            check="its Redis view counter grew by the 2xx served (no Celery worker)",
        ),
        Scenario(
            "d_hitcount",
            "d. django-hitcount hit/ajax/",
            servers["peers_db"],
            "/hitcount/hit/ajax/",
            "POST",
            f"hitcountPK={hitcount_pk}",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Requested-With": "XMLHttpRequest",
                "X-CSRFToken": CSRF_SECRET,
                "Cookie": f"csrftoken={CSRF_SECRET}",
            },
            read_counts=hitcount,
            check="Hit rows and HitCount.hits grew by the 2xx served",
        ),
    ]


def prepare_peers() -> tuple[int, int]:
    from django.contrib.auth.models import Group
    from hitcount.models import HitCount

    group, _ = Group.objects.get_or_create(name="bench")
    return group.pk, HitCount.objects.get_for_object(group).pk

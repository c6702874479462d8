"""Scale-out: a memcached pool, and Redis with replicas (reads go to the primary)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from pymemcache.client.base import Client

from tests.conftest import require
from tracker.counters import get_backend, local_today
from tracker.keys import Counter
from tracker.models import Statistic, Tracker
from tracker.reports import fold

pytestmark = [pytest.mark.servers, pytest.mark.django_db(databases="__all__")]

QUERY = "|".join(f"pool{n}:cat:dom{n}" for n in range(20))


def test_a_memcached_pool_spreads_counters_and_folds_them_exactly(settings, db_alias):
    require(
        "memcached_pool" in django_settings.CACHES,
        "two servers in TRACKER_TEST_MEMCACHED",
    )
    settings.TRACKER_CACHE_ALIAS = "memcached_pool"
    tracker = Tracker()
    for _ in range(10):
        for start in range(0, 200, 20):
            tracker.incr_labels(
                "|".join(f"pool{n}:cat:dom{n}" for n in range(start, start + 20))
            )
    backend = get_backend()
    keys = backend.keys(local_today())
    full = [
        backend.cache.make_key(keys.counter(Counter(f"pool{n}", "cat", f"dom{n}")))
        for n in range(200)
    ]
    held = []
    for server in django_settings.CACHES["memcached_pool"]["LOCATION"]:
        host, port = server.split(":")
        client = Client((host, int(port)))
        held.append(len(client.get_many(full)))
        client.close()
    assert all(count > 0 for count in held), held  # both servers hold counters
    assert sum(held) == 200
    summary = fold(using=db_alias)
    assert summary.increments_moved == 2000
    counts = Statistic.objects.using(db_alias).values_list("counter", flat=True)
    assert sorted(set(counts)) == [10]


def test_the_kept_pool_client_routes_keys_as_djangos_own_does(settings):
    """The tracker's memcached client remembers which server a key goes to; it
    must choose the same server as Django's cache object for every key."""
    from tracker.backends.memcached import RememberingRendezvousHash

    require(
        "memcached_pool" in django_settings.CACHES,
        "two servers in TRACKER_TEST_MEMCACHED",
    )
    settings.TRACKER_CACHE_ALIAS = "memcached_pool"
    Tracker().incr_labels("warm")
    kept = get_backend().cache._cache
    djangos = caches["memcached_pool"]._cache
    assert isinstance(kept.hasher, RememberingRendezvousHash)
    assert type(djangos.hasher).__name__ == "RendezvousHash"
    names = [f":1:tracker:key{n}" for n in range(500)]
    for _ in range(2):  # computed, then remembered
        routes = [kept.hasher.get_node(name) for name in names]
        assert routes == [djangos.hasher.get_node(name) for name in names]
    assert len(set(routes)) == 2
    # A server that leaves (pymemcache drops a failing one) is forgotten.
    gone = routes[0]
    kept.hasher.remove_node(gone)
    assert gone not in {kept.hasher.get_node(name) for name in names}
    kept.hasher.add_node(gone)
    assert [kept.hasher.get_node(name) for name in names] == routes


def test_redis_replicas_are_never_read_by_the_fold(settings, db_alias):
    require("redis_replicas" in django_settings.CACHES, "TRACKER_TEST_REDIS")
    settings.TRACKER_CACHE_ALIAS = "redis_replicas"
    tracker = Tracker()
    for _ in range(3):
        tracker.incr_labels(QUERY)
    backend = get_backend()
    counter_key = backend.keys(local_today()).counter(Counter("pool0", "cat", "dom0"))
    # Django's own reads go to the "replica" (an empty database here), so a
    # fold that read through them would see nothing: that is what we rule out.
    assert caches["redis_replicas"].get(counter_key) is None
    live = tracker.live_counts(labels=QUERY)
    assert sorted(live.values()) == [3] * 20
    assert len(tracker.live_counts(dom_ids=["dom0", "dom1"])) == 2
    summary = fold(using=db_alias)
    assert (summary.rows_created, summary.increments_moved) == (20, 60)
    tracker.incr_labels(QUERY)
    assert fold(using=db_alias).increments_moved == 20


def test_a_sites_own_hasher_is_kept():
    from django.core.cache.backends.memcached import PyMemcacheCache
    from pymemcache.client.rendezvous import RendezvousHash

    from tracker.backends.cache import _remember_servers
    from tracker.backends.memcached import RememberingRendezvousHash

    class SitesHasher(RendezvousHash):
        pass

    chosen = PyMemcacheCache("127.0.0.1:1", {"OPTIONS": {"hasher": SitesHasher}})
    default = PyMemcacheCache("127.0.0.1:1", {})
    for cache in (chosen, default):
        _remember_servers(cache)
    assert chosen._options["hasher"] is SitesHasher
    assert default._options["hasher"] is RememberingRendezvousHash
    assert isinstance(default._cache.hasher, RememberingRendezvousHash)

"""Contract tests of the counters, run once per cache configuration."""

from __future__ import annotations

import datetime
import logging
import socket
import uuid
from contextlib import contextmanager

import pytest
from django.core.cache import caches, close_caches
from django.utils import timezone

from tests.settings import CACHE_BACKENDS
from tests.testapp.models import Article, Page, Product
from tracker.counters import Tracker as TrackerAtNewHome
from tracker.counters import get_backend, local_today
from tracker.exceptions import InvalidLabel
from tracker.keys import UNIQUES, Counter, unpack
from tracker.models import Tracker


@contextmanager
def round_trips():
    """Count requests sent to cache servers (each ``sendall`` is one round trip)."""
    sent = []
    original = socket.socket.sendall

    def counting(sock, data, *args):
        sent.append(data)
        return original(sock, data, *args)

    socket.socket.sendall = counting
    try:
        yield sent
    finally:
        socket.socket.sendall = original


def counts(**kwargs):
    return Tracker().live_counts(**kwargs)


def test_tracker_lives_at_the_originals_path_too():
    assert Tracker is TrackerAtNewHome


def test_incr_labels_counts_each_item(cache_backend):
    tracker = Tracker()
    for _ in range(3):
        assert tracker.incr_labels("signup|clicked_buy:shop:buy-btn") is True
    assert counts(labels="signup|clicked_buy:shop:buy-btn") == {
        Counter("signup"): 3,
        Counter("clicked_buy", "shop", "buy-btn"): 3,
    }


def test_count_argument(cache_backend):
    Tracker().incr_labels("a", count=5)
    Tracker().incr_labels("a", 2)
    assert counts(labels="a") == {Counter("a"): 7}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "3", 1 << 25])
def test_count_must_be_a_sensible_positive_integer(cache_backend, bad):
    with pytest.raises(ValueError, match="count must be"):
        Tracker().incr_labels("a", count=bad)
    assert counts(labels="a") == {}


def test_same_label_with_two_dom_ids_is_two_counters(cache_backend):
    Tracker().incr_labels("buy:shop:top|buy:shop:bottom|buy:shop:top")
    assert counts(labels="buy:shop:top|buy:shop:bottom") == {
        Counter("buy", "shop", "top"): 2,
        Counter("buy", "shop", "bottom"): 1,
    }


def test_unicode_labels_work_on_every_backend(cache_backend):
    query = f"{'é' * 250}:{'注' * 64}:{'ü' * 128}|👍 like:emoji|спасибо"
    Tracker().incr_labels(query)
    Tracker().incr_labels(query)
    assert sorted(counts(labels=query).values()) == [2, 2, 2]


def test_invalid_query_counts_nothing(cache_backend):
    with pytest.raises(InvalidLabel):
        Tracker().incr_labels("good|bad\x00label")
    assert counts(labels="good") == {}
    assert get_backend().read_registry(local_today()) == []


@pytest.mark.parametrize(
    ("model", "pk"),
    [
        (Article, 7),
        (Product, uuid.UUID("12345678-1234-5678-1234-567812345678")),
        (Page, "about-us"),
    ],
)
def test_incr_object_for_every_primary_key_type(cache_backend, model, pk):
    obj = model(pk=pk)
    Tracker().incr_object(obj)
    Tracker().incr_object(obj, count=2)
    Tracker().incr_object(obj, label="download")
    label_lower = model._meta.label_lower
    assert counts(objects=[obj]) == {
        Counter("view", model=label_lower, object_id=str(pk)): 3
    }
    assert counts(objects=[(label_lower, pk)], object_label="download") == {
        Counter("download", model=label_lower, object_id=str(pk)): 1
    }


def test_incr_object_refuses_unsaved_objects(cache_backend):
    with pytest.raises(ValueError, match="no primary key"):
        Tracker().incr_object(Article())


def test_incr_object_refuses_unprintable_primary_keys(cache_backend):
    with pytest.raises(InvalidLabel):
        Tracker().incr_object(Page(slug="bad\nslug"))


def test_registry_lists_each_counter_once(cache_backend):
    tracker = Tracker()
    for n in range(30):
        tracker.incr_labels(f"label{n % 10}:cat:dom{n % 5}")
    tracker.incr_object(Article(pk=1))
    registry = get_backend().read_registry(local_today())
    assert len(registry) == len(set(registry)) == 11
    assert Counter("view", model="testapp.article", object_id="1") in registry


def test_values_pack_a_generation_and_the_count(cache_backend):
    Tracker().incr_labels("a|b")
    Tracker().incr_labels("a")
    values = get_backend().read_values(local_today(), [Counter("a"), Counter("b")])
    (gen_a, count_a), (gen_b, count_b) = (
        unpack(values[Counter("a")]),
        unpack(values[Counter("b")]),
    )
    assert (count_a, count_b) == (2, 1)
    assert gen_a >= 1 and gen_b >= 1 and gen_a != gen_b


def test_recreated_counter_gets_a_new_generation(cache_backend):
    backend = get_backend()
    day = local_today()
    Tracker().incr_labels("a")
    first = unpack(backend.read_values(day, [Counter("a")])[Counter("a")])[0]
    caches[cache_backend].delete(backend.keys(day).counter(Counter("a")))  # evicted
    Tracker().incr_labels("a")
    second, count = unpack(backend.read_values(day, [Counter("a")])[Counter("a")])
    assert (count, second != first) == (1, True)


def test_day_is_the_local_date_in_time_zone(cache_backend, settings, monkeypatch):
    settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in November
    late_utc = datetime.datetime(2026, 11, 23, 12, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: late_utc)
    assert local_today() == datetime.date(2026, 11, 24)
    Tracker().incr_labels("kiwi")
    assert counts(labels="kiwi", day=datetime.date(2026, 11, 24)) == {
        Counter("kiwi"): 1
    }
    assert counts(labels="kiwi", day=datetime.date(2026, 11, 23)) == {}


def test_the_day_ignores_an_activated_time_zone(cache_backend, settings, monkeypatch):
    """A site may activate each visitor's zone; all hits still share TIME_ZONE's day."""
    settings.TIME_ZONE = "UTC"
    late_utc = datetime.datetime(2026, 11, 23, 23, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: late_utc)
    with timezone.override("Pacific/Auckland"):
        assert timezone.localdate() == datetime.date(2026, 11, 24)
        assert local_today() == datetime.date(2026, 11, 23)


def test_the_backend_is_kept_until_a_setting_changes(settings):
    first = get_backend()
    assert get_backend() is first
    settings.TRACKER_KEY_PREFIX = "other:"
    second = get_backend()
    assert (second is not first, second.prefix) == (True, "other:")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    assert get_backend().cache is caches["default"]
    assert get_backend().cache is not second.cache


def test_day_without_use_tz(cache_backend, settings):
    settings.USE_TZ = False
    assert local_today() == datetime.date.today()
    Tracker().incr_labels("naive")
    assert counts(labels="naive") == {Counter("naive"): 1}


def test_disabled_tracking_counts_nothing(cache_backend, settings):
    settings.TRACKER_ENABLED = False
    assert Tracker().incr_labels("a") is False
    assert Tracker().incr_object(Article(pk=1)) is False
    settings.TRACKER_ENABLED = True
    assert counts(labels="a") == {}


def test_live_counts_by_dom_id(cache_backend):
    Tracker().incr_labels("click:links:link1|hover:links:link1|click:links:link2")
    Tracker().incr_labels("click:links:link1")
    assert counts(dom_ids=["link1", "link2", "nowhere"]) == {
        Counter("click", "links", "link1"): 2,
        Counter("hover", "links", "link1"): 1,
        Counter("click", "links", "link2"): 1,
    }


def test_live_counts_for_another_day_are_separate(cache_backend):
    Tracker().incr_labels("a")
    assert counts(labels="a", day=local_today() - datetime.timedelta(days=1)) == {}


def test_distinct_visitors_of_objects(cache_backend, rf):
    article = Article(pk=3)
    first = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT="Firefox")
    second = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_USER_AGENT="Firefox")
    with_session = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_USER_AGENT="Firefox")
    with_session.COOKIES["sessionid"] = "abc"
    for request in (first, first, second, second, with_session, with_session):
        Tracker().incr_object(article, request=request)
    live = counts(objects=[article], uniques=True)
    hits = Counter("view", model="testapp.article", object_id="3")
    assert live == {hits: 6, hits.twin(): 3}
    assert hits.twin().metric == UNIQUES


def test_distinct_visitors_of_labels_only_when_asked(cache_backend, rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.9")
    Tracker().incr_labels("x", request=request)
    assert counts(labels="x", uniques=True) == {Counter("x"): 1}
    settings.TRACKER_UNIQUE_VISITORS = "all"
    Tracker().incr_labels("x", request=request)
    Tracker().incr_labels("x", request=request)
    assert counts(labels="x", uniques=True) == {Counter("x"): 3, Counter("x").twin(): 1}


def test_visitor_ids_are_never_stored(cache_backend, rf):
    request = rf.get("/", REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="SecretAgent/1.0")
    request.COOKIES["sessionid"] = "sessionkeyvalue"
    Tracker().incr_object(Article(pk=1), request=request)
    if cache_backend == "default":
        stored = repr(caches["default"]._cache) + repr(list(caches["default"]._cache))
        for secret in ("203.0.113.77", "SecretAgent", "sessionkeyvalue"):
            assert secret not in stored


def test_explicit_timeout_on_every_key(cache_backend, settings):
    settings.TRACKER_KEY_TIMEOUT = 3 * 86400 + 17
    Tracker().incr_labels("ttl:cat:dom")
    backend = get_backend()
    keys = backend.keys(local_today())
    names = [
        keys.counter(Counter("ttl", "cat", "dom")),
        keys.slots(),
        keys.slot(1),
        keys.dom_slot("dom", 0),
    ]
    for name in names:
        ttl = key_ttl(backend.cache, name)
        assert 3 * 86400 + 17 - 60 <= ttl <= 3 * 86400 + 17, (name, ttl)


def key_ttl(cache, name):
    """Seconds left before a cache key expires, asked of the server itself."""
    full = cache.make_key(name)
    backend_name = type(cache).__module__
    if backend_name.endswith("locmem"):
        import time

        return cache._expire_info[full] - time.time()
    if "redis" in backend_name:
        from tracker.backends.redis import primary_client

        return primary_client(cache).ttl(full)
    # memcached: the meta protocol reports a key's remaining TTL ("t" flag).
    client = cache._cache
    server = client._get_client(full) if hasattr(client, "_get_client") else client
    reply = server.raw_command(f"mg {full} t".encode(), b"\r\n")
    return int(reply.split(b" t")[1].split()[0])


MEMCACHED_BACKENDS = [name for name in CACHE_BACKENDS if name.startswith("memcached")]
REDIS_BACKENDS = [name for name in CACHE_BACKENDS if "redis" in name]


@pytest.mark.parametrize("cache_backend", MEMCACHED_BACKENDS, indirect=True)
def test_steady_state_round_trips_memcached(cache_backend):
    tracker = Tracker()
    tracker.incr_labels("one|two:cat:dom")
    with round_trips() as sent:
        tracker.incr_labels("one|two:cat:dom")
    assert len(sent) == 2  # one incr per counter


@pytest.mark.parametrize("cache_backend", REDIS_BACKENDS, indirect=True)
def test_redis_sends_a_whole_call_in_one_round_trip(cache_backend):
    tracker = Tracker()
    tracker.incr_labels("warm")  # loads the script
    query = "|".join(f"label{n}:cat:dom{n}" for n in range(10))
    with round_trips() as sent:
        tracker.incr_labels(query)  # ten first-of-day creations
        tracker.incr_labels(query)  # ten increments
    assert len(sent) == 2


@pytest.mark.parametrize("cache_backend", REDIS_BACKENDS, indirect=True)
def test_redis_counts_thousands_of_counters_in_one_call(cache_backend):
    """The script checks keys in groups: Lua's unpack() fails beyond about 8,000."""
    many = [Counter(f"many{n}") for n in range(9000)]
    tracker = Tracker()
    assert tracker.incr_counters(many) is True  # all created
    assert tracker.incr_counters(many[:1] + many) is True  # one repeated
    found = tracker.live_counts(labels=[counter.label for counter in many[:20]])
    assert found == {Counter("many0"): 3} | dict.fromkeys(many[1:20], 2)
    values = get_backend().read_values(local_today(), many)
    assert sorted({unpack(value)[1] for value in values.values()}) == [2, 3]
    assert len(values) == 9000


def test_live_counts_cost_constant_round_trips(cache_backend):
    tracker = Tracker()
    labels = "|".join(f"l{n}:c:d{n}" for n in range(20))
    tracker.incr_labels(labels)
    tracker.incr_object(Article(pk=1))
    servers = 2 if cache_backend == "memcached_pool" else 1
    with round_trips() as sent:
        found = tracker.live_counts(labels=labels, objects=[Article(pk=1)])
    assert len(found) == 21
    assert len(sent) <= servers
    with round_trips() as sent:
        found = tracker.live_counts(
            dom_ids=[f"d{n}" for n in range(20)] + ["other"] * 3
        )
    assert len(found) == 20
    assert len(sent) <= 2 * servers


class BrokenCache:
    """A cache whose every operation fails, as a cache server that is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionRefusedError("cache is down")

        return fail


def test_cache_down_logs_and_returns(settings, caplog, monkeypatch):
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "127.0.0.1:1",  # nothing listens on port 1
        },
    }
    settings.TRACKER_CACHE_ALIAS = "down"
    with caplog.at_level(logging.WARNING, logger="tracker.counters"):
        assert Tracker().incr_labels("a") is False
        assert Tracker().incr_object(Article(pk=1)) is False
    assert "could not count" in caplog.text


def test_cache_down_raises_when_not_failing_silently(settings):
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "127.0.0.1:1",
        },
    }
    settings.TRACKER_CACHE_ALIAS = "down"
    settings.TRACKER_FAIL_SILENTLY = False
    with pytest.raises(ConnectionRefusedError):
        Tracker().incr_labels("a")


def test_erroring_cache_is_logged_not_raised(monkeypatch, caplog):
    backend = get_backend()
    monkeypatch.setattr(backend, "cache", BrokenCache())
    monkeypatch.setattr(Tracker, "backend", property(lambda self: backend))
    with caplog.at_level(logging.WARNING, logger="tracker.counters"):
        assert Tracker().incr_labels("a") is False
    assert "cache is down" in caplog.text


def test_invalid_labels_raise_even_when_failing_silently():
    with pytest.raises(InvalidLabel):
        Tracker().incr_labels("a::b::c")


def test_object_tokens_round_trip_and_refuse_tampering():
    from django.core.signing import BadSignature

    from tracker.signing import object_token, read_object_token

    token = object_token(Article(pk=12), "download")
    assert read_object_token(token) == Counter(
        "download", model="testapp.article", object_id="12"
    )
    for bad in (token[:-2] + "xx", "", "x" * 2000, 42):
        with pytest.raises(BadSignature):
            read_object_token(bad)


def test_memcached_connection_outlives_the_request(shared_cache_backend, monkeypatch):
    """Django disconnects memcached after every request; the tracker's cache stays
    connected, so a beacon does not open a new connection (bench/README.md)."""
    Tracker().incr_labels("kept")
    opened = []
    original = socket.socket.connect

    def counting(sock, address):
        opened.append(address)
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counting)
    # What request_finished does to caches (sending the signal itself would
    # also close database connections, which this test has no access to).
    close_caches()
    assert Tracker().incr_labels("kept") is True
    assert opened == []
    assert counts(labels="kept") == {Counter("kept"): 2}


def test_only_caches_that_django_disconnects_get_their_own_object(settings):
    assert get_backend("default").cache is caches["default"]  # locmem
    if "memcached" in settings.CACHES:
        own = get_backend("memcached").cache
        assert own is not caches["memcached"]
        assert get_backend("memcached").cache is own
        settings.CACHES = {**settings.CACHES}  # a new configuration: a new object
        assert get_backend("memcached").cache is not own
    if "redis" in settings.CACHES:
        assert get_backend("redis").cache is caches["redis"]


@pytest.mark.parametrize("shared_cache_backend", MEMCACHED_BACKENDS, indirect=True)
def test_kept_memcached_clients_of_finished_threads_are_released(shared_cache_backend):
    """runserver serves each request in a new thread: each thread's kept client
    must go away with its thread, not pile up with an open socket each."""
    import gc
    import threading

    from tracker.backends import cache as cache_module

    gc.collect()
    before = len(cache_module._every_kept)
    threads = [
        threading.Thread(target=Tracker().incr_labels, args=("t",)) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
        thread.join()
    del threads, thread
    gc.collect()
    assert len(cache_module._every_kept) <= before
    assert counts(labels="t") == {Counter("t"): 5}

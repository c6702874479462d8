"""The fold: counts move into Statistic rows exactly once (per cache and database)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.cache import caches
from django.db import DatabaseError, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.testapp.models import Article, Page, Product
from tracker.counters import get_backend, local_today
from tracker.exceptions import FoldError
from tracker.keys import Counter
from tracker.models import FoldLock, Statistic, Tracker, make_daily_report
from tracker.reports import advance, fold

pytestmark = pytest.mark.django_db(databases="__all__")


def rows(db_alias, **filters):
    return {
        (s.label, s.category, s.dom_id, s.object_id): s.counter
        for s in Statistic.objects.using(db_alias).filter(**filters)
    }


def test_fold_moves_counts_into_daily_rows(cache_backend, db_alias):
    tracker = Tracker()
    for _ in range(3):
        tracker.incr_labels("signup|buy:shop:buy-btn")
    tracker.incr_object(Article(pk=5))
    summary = fold(using=db_alias)
    today = local_today()
    assert rows(db_alias) == {
        ("signup", "", "", ""): 3,
        ("buy", "shop", "buy-btn", ""): 3,
        ("view", "", "", "5"): 1,
    }
    assert set(Statistic.objects.using(db_alias).values_list("day", flat=True)) == {
        today
    }
    assert summary.rows_created == 3
    assert summary.rows_updated == 0
    assert summary.increments_moved == 7
    assert summary.counters_read == 3
    assert today in summary.days
    assert summary.duration >= 0


def test_refolding_adds_only_what_is_new(cache_backend, db_alias):
    tracker = Tracker()
    tracker.incr_labels("a|b")
    fold(using=db_alias)
    again = fold(using=db_alias)
    assert (again.rows_created, again.rows_updated, again.increments_moved) == (0, 0, 0)
    tracker.incr_labels("a")
    tracker.incr_labels("a|c")
    third = fold(using=db_alias)
    assert (third.rows_created, third.rows_updated, third.increments_moved) == (1, 1, 3)
    assert rows(db_alias) == {
        ("a", "", "", ""): 3,
        ("b", "", "", ""): 1,
        ("c", "", "", ""): 1,
    }


def test_objects_of_every_primary_key_type_get_their_rows(cache_backend, db_alias):
    product_id = uuid.uuid4()
    Tracker().incr_object(Article(pk=1))
    Tracker().incr_object(Product(pk=product_id), count=2)
    Tracker().incr_object(Page(pk="about"), label="download")
    fold(using=db_alias)
    found = {
        (s.content_type.model, s.object_id, s.label): s.counter
        for s in Statistic.objects.using(db_alias).objects_only()
    }
    assert found == {
        ("article", "1", "view"): 1,
        ("product", str(product_id), "view"): 2,
        ("page", "about", "download"): 1,
    }


def test_distinct_visitors_are_folded_next_to_totals(cache_backend, db_alias, rf):
    article = Article(pk=9)
    for address in ("10.0.0.1", "10.0.0.1", "10.0.0.2"):
        Tracker().incr_object(article, request=rf.get("/", REMOTE_ADDR=address))
    summary = fold(using=db_alias)
    row = Statistic.objects.using(db_alias).get()
    assert (row.counter, row.uniques) == (3, 2)
    assert summary.uniques_moved == 2
    Tracker().incr_object(article, request=rf.get("/", REMOTE_ADDR="10.0.0.3"))
    fold(using=db_alias)
    row.refresh_from_db(using=db_alias)
    assert (row.counter, row.uniques) == (4, 3)


def test_counts_land_on_the_day_of_the_hit_even_folded_after_midnight(
    cache_backend, db_alias, settings, monkeypatch
):
    settings.TIME_ZONE = "America/New_York"
    evening = datetime.datetime(2026, 11, 24, 4, 50, tzinfo=datetime.UTC)  # 23:50 local
    monkeypatch.setattr(timezone, "now", lambda: evening)
    Tracker().incr_labels("late")
    monkeypatch.setattr(
        timezone, "now", lambda: evening + datetime.timedelta(minutes=20)
    )
    Tracker().incr_labels("late")  # 00:10 local, the next day
    fold(using=db_alias)  # run after midnight: yesterday is still folded
    assert {
        (s.day, s.counter)
        for s in Statistic.objects.using(db_alias).filter(label="late")
    } == {(datetime.date(2026, 11, 23), 1), (datetime.date(2026, 11, 24), 1)}


def test_fold_looks_back_the_configured_number_of_days(
    cache_backend, db_alias, settings, monkeypatch
):
    settings.TRACKER_FOLD_DAYS = 2
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now - datetime.timedelta(days=2))
    Tracker().incr_labels("old")
    monkeypatch.setattr(timezone, "now", lambda: now)
    summary = fold(using=db_alias)
    assert len(summary.days) == 2
    assert rows(db_alias) == {}
    fold(using=db_alias, days=[local_today() - datetime.timedelta(days=2)])
    assert rows(db_alias) == {("old", "", "", ""): 1}


def test_no_zero_count_rows(cache_backend, db_alias):
    tracker = Tracker()
    tracker.incr_labels("real|vanishing")
    backend = get_backend()
    # A counter listed in the registry whose key is gone (evicted) makes no row.
    caches[cache_backend].delete(
        backend.keys(local_today()).counter(Counter("vanishing"))
    )
    fold(using=db_alias)
    assert rows(db_alias) == {("real", "", "", ""): 1}
    assert not Statistic.objects.using(db_alias).filter(counter=0).exists()


def test_a_recreated_counter_adds_its_whole_new_count(cache_backend, db_alias):
    tracker = Tracker()
    for _ in range(5):
        tracker.incr_labels("evicted")
    fold(using=db_alias)
    caches[cache_backend].delete(
        get_backend().keys(local_today()).counter(Counter("evicted"))
    )
    tracker.incr_labels("evicted")
    tracker.incr_labels("evicted")
    fold(using=db_alias)
    assert rows(db_alias) == {("evicted", "", "", ""): 7}


def test_advance_arithmetic():
    gen1, gen2 = 1 << 33, 2 << 33
    assert advance(10, gen1 | 10, gen1 | 15) == (15, gen1 | 15, 5)
    assert advance(10, gen1 | 10, None) == (10, gen1 | 10, 0)
    assert advance(10, gen1 | 10, gen2 | 3) == (13, gen2 | 3, 3)
    assert advance(10, gen1 | 10, gen1 | 4) == (
        14,
        gen1 | 4,
        4,
    )  # reset, same generation


def test_make_daily_report_is_the_fold(cache_backend, db_alias):
    Tracker().incr_labels("legacy")
    summary = make_daily_report(using=db_alias)
    assert summary.increments_moved == 1
    assert rows(db_alias) == {("legacy", "", "", ""): 1}


def test_fold_takes_the_lock_row(db_alias):
    Tracker().incr_labels("a")
    fold(using=db_alias)
    lock = FoldLock.objects.using(db_alias).get()
    assert lock.batches == 1
    assert lock.updated is not None


def test_ten_thousand_counters_fold_in_few_queries(db_alias, settings):
    settings.TRACKER_MAX_ITEMS = 100
    tracker = Tracker()
    for start in range(0, 10_000, 100):
        tracker.incr_labels("|".join(f"l{n}:c:d{n}" for n in range(start, start + 100)))
    with CaptureQueriesContext(connections[db_alias]) as queries:
        summary = fold(using=db_alias)
    assert summary.rows_created == 10_000
    assert len(queries) <= 50, [q["sql"][:80] for q in queries]
    assert Statistic.objects.using(db_alias).count() == 10_000
    for start in range(0, 10_000, 100):
        tracker.incr_labels("|".join(f"l{n}:c:d{n}" for n in range(start, start + 100)))
    with CaptureQueriesContext(connections[db_alias]) as queries:
        summary = fold(using=db_alias)
    assert summary.rows_updated == 10_000
    assert len(queries) <= 50


def test_database_down_fails_clearly_and_loses_nothing(
    cache_backend, db_alias, monkeypatch
):
    Tracker().incr_labels("kept")

    def broken(*args, **kwargs):
        raise DatabaseError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr("tracker.reports._take_turn", broken)
        with pytest.raises(FoldError, match=r"database .* failed .*Nothing is lost"):
            fold(using=db_alias)
    assert rows(db_alias) == {}
    fold(using=db_alias)
    assert rows(db_alias) == {("kept", "", "", ""): 1}


def test_cache_down_fails_the_fold_clearly(settings, db_alias):
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "127.0.0.1:1",
        },
    }
    settings.TRACKER_CACHE_ALIAS = "down"
    with pytest.raises(FoldError, match="reading the cache failed"):
        fold(using=db_alias)


def test_summary_as_dict_is_json_ready(cache_backend, db_alias):
    import json

    Tracker().incr_labels("a")
    data = fold(using=db_alias).as_dict()
    assert json.loads(json.dumps(data))["increments_moved"] == 1
    assert set(data) == {
        "counters_read",
        "rows_created",
        "rows_updated",
        "increments_moved",
        "uniques_moved",
        "days",
        "duration",
    }


def test_statistic_str_reads_well(db_alias):
    Tracker().incr_labels("buy:shop:btn|plain")
    Tracker().incr_object(Article(pk=4))
    fold(using=db_alias)
    texts = sorted(str(s) for s in Statistic.objects.using(db_alias).all())
    day = local_today().isoformat()
    assert texts == sorted(
        [
            f"buy (shop, #btn) on {day}: 1",
            f"plain on {day}: 1",
            f"view of testapp.article 4 on {day}: 1",
        ]
    )


def test_live_total_combines_a_row_with_the_cache(cache_backend, db_alias):
    from tracker.reports import live_total

    tracker = Tracker()
    tracker.incr_labels("live|other")
    fold(using=db_alias)
    tracker.incr_labels("live")
    tracker.incr_labels("live")
    row = Statistic.objects.using(db_alias).get(label="live")
    counter = row.as_counter()
    assert counter == Counter("live")
    value = get_backend().read_values(local_today(), [counter])[counter]
    assert live_total(row.counter, row.counter_mark, value) == 3
    assert live_total(0, 0, value) == 3
    assert live_total(row.counter, row.counter_mark, None) == 1


def test_as_counter_of_an_object_row(db_alias):
    Tracker().incr_object(Page(pk="home"), label="download")
    fold(using=db_alias)
    row = Statistic.objects.using(db_alias).get()
    assert row.as_counter() == Counter(
        "download", model="testapp.page", object_id="home"
    )

"""Periods and the queryset API: one aggregate query plus one cache read."""

from __future__ import annotations

import datetime
import logging
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType

from tests.testapp.models import (
    Article,
    Page,
    Product,
    TrackedArticle,
    TrackedPage,
    TrackedProduct,
)
from tracker import aggregates, rankings
from tracker.backends.base import READ_CHUNK
from tracker.counters import Tracker, local_today, object_counter
from tracker.keys import Counter, row_digest
from tracker.models import Statistic
from tracker.periods import Period, Totals, resolve_period
from tracker.reports import fold

pytestmark = pytest.mark.django_db(databases="__all__")

DAY = datetime.timedelta(days=1)


def add_row(db, day, counter, count, uniques=0):
    """A folded row written directly, as the fold would have left it."""
    content_type = None
    if counter.model:
        app_label, model = counter.model.split(".")
        content_type = ContentType.objects.db_manager(db).get_by_natural_key(
            app_label, model
        )
    return Statistic.objects.using(db).create(
        day=day,
        label=counter.label,
        category=counter.category,
        dom_id=counter.dom_id,
        content_type=content_type,
        object_id=counter.object_id,
        counter=count,
        uniques=uniques,
        digest=row_digest(day, counter),
    )


@pytest.fixture
def cache_reads(monkeypatch):
    """Records the number of counters of each live cache read."""
    calls: list[int] = []
    real = aggregates.get_backend

    class Spy:
        """The real backend (kept per cache, so not altered), reads counted."""

        def __init__(self, backend):
            self._backend = backend

        def __getattr__(self, name):
            return getattr(self._backend, name)

        def read_values(self, day, counters):
            calls.append(len(counters))
            return self._backend.read_values(day, counters)

    def spying(alias=None):
        return Spy(real(alias))

    monkeypatch.setattr(aggregates, "get_backend", spying)
    return calls


@pytest.fixture
def warm_content_types(db_alias):
    """Content types are cached per process; fetch them before counting queries."""
    for model in (Article, Product, Page):
        ContentType.objects.db_manager(db_alias).get_for_model(model)


def request_from(rf, address):
    return rf.get("/", REMOTE_ADDR=address, HTTP_USER_AGENT="test")


# --- resolve_period ------------------------------------------------------


WEDNESDAY = datetime.date(2024, 5, 15)


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("today", WEDNESDAY, WEDNESDAY),
        ("yesterday", WEDNESDAY - DAY, WEDNESDAY - DAY),
        ("week", datetime.date(2024, 5, 13), WEDNESDAY),
        ("month", datetime.date(2024, 5, 1), WEDNESDAY),
        ("year", datetime.date(2024, 1, 1), WEDNESDAY),
        ("total", None, WEDNESDAY),
        ("1d", WEDNESDAY, WEDNESDAY),
        ("7d", datetime.date(2024, 5, 9), WEDNESDAY),
        (30, datetime.date(2024, 4, 16), WEDNESDAY),
        (
            (datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)),
            datetime.date(2024, 1, 1),
            datetime.date(2024, 1, 31),
        ),
    ],
)
def test_resolve_period(spec, start, end):
    assert resolve_period(spec, today=WEDNESDAY) == Period(start, end)


@pytest.mark.parametrize(
    ("today", "monday"),
    [
        (datetime.date(2024, 5, 13), datetime.date(2024, 5, 13)),  # a Monday
        (datetime.date(2024, 5, 19), datetime.date(2024, 5, 13)),  # a Sunday
        (datetime.date(2025, 1, 1), datetime.date(2024, 12, 30)),  # across a year
    ],
)
def test_a_week_is_an_iso_week_from_monday(today, monday):
    assert resolve_period("week", today=today) == Period(monday, today)


@pytest.mark.parametrize(
    "spec",
    ["0d", "-1d", "36601d", "week ", "Week", "d", "", "1w", True, 0, 2.5, None],
)
def test_bad_periods_are_refused_with_a_message(spec):
    with pytest.raises(ValueError, match="period|Period"):
        resolve_period(spec, today=WEDNESDAY)


def test_a_range_of_iso_strings():
    assert resolve_period(("2024-01-01", "2024-01-31")) == Period(
        datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)
    )
    with pytest.raises(ValueError):
        resolve_period(("2024-01-01", "31/01/2024"))


def test_a_range_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="cannot start after"):
        resolve_period((WEDNESDAY, WEDNESDAY - DAY))


def test_period_days_and_membership():
    period = Period(WEDNESDAY - 2 * DAY, WEDNESDAY)
    assert period.days() == [WEDNESDAY - 2 * DAY, WEDNESDAY - DAY, WEDNESDAY]
    assert WEDNESDAY in period
    assert WEDNESDAY + DAY not in period
    assert WEDNESDAY - DAY in Period(None, WEDNESDAY)
    with pytest.raises(ValueError):
        Period(None, WEDNESDAY).days()


# --- Totals of one object: folded days plus today's live counts --------------


def test_object_totals_combine_rows_with_todays_cache(
    cache_backend, db_alias, rf, cache_reads, warm_content_types
):
    article = Article(pk=7)
    counter = object_counter(article)
    today = local_today()
    add_row(db_alias, today - 40 * DAY, counter, 100, 50)
    add_row(db_alias, today - 3 * DAY, counter, 10, 5)
    rows = Statistic.objects.using(db_alias).for_object(article, "view")
    # Counted today but never folded: read live through the named counter.
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
        Tracker().incr_object(article, request=request_from(rf, address))
    assert rows.totals() == Totals(113, 57)
    assert rows.totals("today") == Totals(3, 2)
    assert rows.totals("7d") == Totals(13, 7)
    # Folded, then counted again: the row's mark keeps it exact.
    fold(using=db_alias)
    Tracker().incr_object(article, request=request_from(rf, "10.0.0.3"))
    cache_reads.clear()
    assert rows.totals("today") == Totals(4, 3)
    assert rows.totals() == Totals(114, 58)
    assert len(cache_reads) == 2
    assert all(0 < size <= READ_CHUNK for size in cache_reads)


@pytest.mark.parametrize("period", ["today", "week", "month", "total", "30d"])
def test_one_query_and_one_cache_read_per_period(
    db_alias, period, cache_reads, django_assert_num_queries, warm_content_types
):
    article = Article(pk=1)
    counter = object_counter(article)
    today = local_today()
    for days_ago in range(60):
        add_row(db_alias, today - days_ago * DAY, counter, 1, 1)
    Tracker().incr_object(article)
    rows = Statistic.objects.using(db_alias).for_object(article, "view")
    with django_assert_num_queries(1, using=db_alias):
        totals = rows.totals(period)
    assert len(cache_reads) == 1
    expected_days = len(
        [d for d in range(60) if today - d * DAY in resolve_period(period)]
    )
    # Today's row was written with counter_mark 0: the cache's 1 is all new.
    assert totals.count == expected_days + 1


def test_a_range_before_today_reads_no_cache(
    db_alias, cache_reads, django_assert_num_queries, warm_content_types
):
    today = local_today()
    counter = Counter("signup")
    add_row(db_alias, today - 10 * DAY, counter, 4)
    add_row(db_alias, today - 5 * DAY, counter, 6)
    Tracker().incr_labels("signup")
    rows = Statistic.objects.using(db_alias).for_label("signup")
    with django_assert_num_queries(1, using=db_alias):
        assert rows.totals((today - 10 * DAY, today - DAY)) == Totals(10, 0)
    assert rows.totals((today - 9 * DAY, today - 5 * DAY)) == Totals(6, 0)
    assert cache_reads == []


def test_week_and_month_start_where_they_should(db_alias):
    today = local_today()
    monday = today - today.weekday() * DAY
    first = today.replace(day=1)
    counter = Counter("signup")
    for day, count in (
        (monday, 1),
        (monday - DAY, 10),
        (first, 100),
        (first - DAY, 1000),
    ):
        if not Statistic.objects.using(db_alias).filter(day=day).exists():
            add_row(db_alias, day, counter, count)
    days = {row.day: row.counter for row in Statistic.objects.using(db_alias).all()}
    rows = Statistic.objects.using(db_alias).for_label("signup")
    assert rows.totals("week").count == sum(
        count for day, count in days.items() if day >= monday
    )
    assert rows.totals("month").count == sum(
        count for day, count in days.items() if day >= first
    )


def test_objects_of_every_key_type(cache_backend, db_alias):
    product = Product(pk=uuid.uuid4())
    page = Page(pk="about-us")
    Tracker().incr_object(product, count=2)
    Tracker().incr_object(page, label="read", count=5)
    Tracker().incr_object(Article(pk=1), count=9)
    objects = Statistic.objects.using(db_alias)
    assert objects.for_object(product, "view").totals().count == 2
    assert objects.for_object(page, "read").totals().count == 5
    fold(using=db_alias)
    assert objects.for_object(product, "view").totals().count == 2
    assert objects.for_object(page, "read").totals().count == 5
    assert objects.for_object(page, "view").totals().count == 0


# --- Labels, categories, dom ids -------------------------------------------


def test_label_totals_cover_every_category_and_dom_id(cache_backend, db_alias):
    today = local_today()
    add_row(db_alias, today - DAY, Counter("buy", "shop", "btn-1"), 5)
    add_row(db_alias, today - DAY, Counter("buy", "shop", "btn-2"), 7)
    add_row(db_alias, today - DAY, Counter("buy"), 11)
    add_row(db_alias, today - DAY, Counter("other", "shop"), 13)
    Tracker().incr_labels("buy|buy:shop:btn-1")
    fold(using=db_alias)
    Tracker().incr_labels("buy|buy:shop:btn-1|buy:shop:btn-2")
    objects = Statistic.objects.using(db_alias)
    # btn-2 was counted today but not folded yet: only the named counter and
    # the counters with a row today are read live.
    assert objects.for_label("buy").totals().count == 5 + 7 + 11 + 2 + 2
    assert objects.for_label("buy", "shop", "btn-2").totals().count == 8
    assert objects.for_label("buy", "shop").totals().count == 5 + 7 + 2
    assert objects.for_category("shop").totals().count == 5 + 7 + 13 + 2
    assert objects.for_dom_id("btn-1").totals("today").count == 2
    fold(using=db_alias)
    assert objects.for_label("buy").totals().count == 5 + 7 + 11 + 2 + 2 + 1


def test_a_filter_after_naming_a_counter_drops_its_live_hint(cache_backend, db_alias):
    Tracker().incr_labels("signup")
    objects = Statistic.objects.using(db_alias)
    assert objects.for_label("signup").totals().count == 1
    assert objects.for_label("signup").all().totals().count == 1
    # A filter that excludes the named counter must not see its live count.
    assert objects.for_label("signup").filter(category="x").totals().count == 0
    assert objects.for_label("signup").exclude(label="signup").totals().count == 0
    assert objects.filter(category="x").for_label("signup").totals().count == 0
    assert objects.for_label("signup").for_label("signup").totals().count == 1
    fold(using=db_alias)
    assert objects.for_label("signup").filter(category="x").totals().count == 0


def test_summary_in_one_query(
    cache_backend,
    db_alias,
    rf,
    cache_reads,
    django_assert_num_queries,
    warm_content_types,
):
    article = Article(pk=3)
    counter = object_counter(article)
    today = local_today()
    monday = today - today.weekday() * DAY
    add_row(db_alias, today - 400 * DAY, counter, 1000, 900)
    if monday != today:
        add_row(db_alias, monday, counter, 20, 10)
    Tracker().incr_object(article, request=request_from(rf, "10.1.1.1"))
    rows = Statistic.objects.using(db_alias).for_object(article, "view")
    with django_assert_num_queries(1, using=db_alias):
        summary = rows.summary()
    assert len(cache_reads) == 1
    week = 1 + (20 if monday != today else 0)
    assert summary.today == Totals(1, 1)
    assert summary.week.count == week
    assert summary.month.count == 1 + (
        20 if monday != today and monday.month == today.month else 0
    )
    assert summary.total == Totals(1000 + week, 900 + week // 2 + 1)
    assert summary.first_seen == today - 400 * DAY
    assert summary.last_seen == today


def test_summary_of_nothing(db_alias):
    summary = Statistic.objects.using(db_alias).for_object(Article(pk=99)).summary()
    assert summary.total == summary.today == Totals(0, 0)
    assert summary.first_seen is summary.last_seen is None


def test_summary_seen_only_today(cache_backend, db_alias):
    Tracker().incr_object(Article(pk=4))
    summary = Statistic.objects.using(db_alias).for_object(Article(pk=4), "view")
    summary = summary.summary()
    assert summary.first_seen == summary.last_seen == local_today()


# --- Series --------------------------------------------------------------


@pytest.mark.parametrize("days", [7, 365])
def test_series_fills_every_day_in_one_query(
    cache_backend,
    db_alias,
    days,
    cache_reads,
    django_assert_num_queries,
):
    today = local_today()
    add_row(db_alias, today - 2 * DAY, Counter("a"), 3, 1)
    add_row(db_alias, today - 2 * DAY, Counter("b"), 4, 2)
    add_row(db_alias, today - 5 * DAY, Counter("a"), 5)
    add_row(db_alias, today - 800 * DAY, Counter("a"), 5)
    Tracker().incr_labels("a|b")
    fold(using=db_alias)
    Tracker().incr_labels("a")
    cache_reads.clear()
    rows = Statistic.objects.using(db_alias).labels()
    with django_assert_num_queries(1, using=db_alias):
        series = rows.series(f"{days}d")
    assert len(cache_reads) == 1
    assert len(series) == days
    assert series[0].day == today - (days - 1) * DAY
    points = {point.day: (point.count, point.uniques) for point in series}
    assert points[today] == (3, 0)
    assert points[today - 2 * DAY] == (7, 3)
    assert points[today - 5 * DAY] == (5, 0)
    assert sum(point.count for point in series) == 15


def test_series_of_all_time_starts_at_the_first_row(db_alias):
    today = local_today()
    add_row(db_alias, today - 3 * DAY, Counter("a"), 2)
    series = Statistic.objects.using(db_alias).series("total")
    assert [point.count for point in series] == [2, 0, 0, 0]
    assert Statistic.objects.using(db_alias).filter(label="zz").series("total") == []


# --- Top lists -------------------------------------------------------------


def test_top_labels_rank_by_count_with_todays_live_counts(
    cache_backend, db_alias, cache_reads, django_assert_num_queries
):
    today = local_today()
    add_row(db_alias, today - DAY, Counter("a"), 10)
    add_row(db_alias, today - DAY, Counter("b", "shop", "btn"), 9)
    add_row(db_alias, today - DAY, Counter("c"), 1)
    add_row(db_alias, today - 100 * DAY, Counter("c"), 50)
    add_row(db_alias, today - DAY, Counter("d"), 8)
    Tracker().incr_labels("b:shop:btn", count=2)
    fold(using=db_alias)
    Tracker().incr_labels("b:shop:btn", count=3)
    cache_reads.clear()
    rows = Statistic.objects.using(db_alias)
    with django_assert_num_queries(1, using=db_alias):
        top = rows.top_labels(3, "30d")
    assert [(item.label, item.category, item.dom_id, item.count) for item in top] == [
        ("b", "shop", "btn", 14),
        ("a", "", "", 10),
        ("d", "", "", 8),
    ]
    assert len(cache_reads) == 1
    assert [item.label for item in rows.top_labels(2, "total")] == ["c", "b"]
    yesterday = rows.top_labels(5, "yesterday")
    assert [item.count for item in yesterday] == [10, 9, 8, 1]


def test_top_objects_with_their_instances(
    cache_backend, db_alias, django_assert_num_queries, warm_content_types
):
    articles = [Article.objects.using(db_alias).create(title=f"A{n}") for n in range(3)]
    product = Product.objects.using(db_alias).create(name="P")
    today = local_today()
    for article, count in zip(articles, (5, 50, 20), strict=True):
        add_row(db_alias, today - DAY, object_counter(article), count)
    add_row(db_alias, today - DAY, object_counter(product), 30)
    add_row(db_alias, today - DAY, object_counter(articles[0], "download"), 99)
    add_row(db_alias, today - DAY, Counter("label-only"), 1000)
    Tracker().incr_object(articles[0], count=40)
    fold(using=db_alias)
    rows = Statistic.objects.using(db_alias)
    # One query for the ranking, one per model for the instances.
    with django_assert_num_queries(3, using=db_alias):
        top = rows.top_objects(10, "7d", label="view")
    assert [(item.object, item.count) for item in top] == [
        (articles[1], 50),
        (articles[0], 45),
        (product, 30),
        (articles[2], 20),
    ]
    only_articles = rows.top_objects(2, "7d", model=Article)
    assert [item.object for item in only_articles] == [articles[0], articles[1]]
    assert only_articles[0].label == "download"
    assert only_articles[0].model == "testapp.article"


def test_top_objects_survive_deleted_instances(db_alias):
    add_row(db_alias, local_today() - DAY, object_counter(Article(pk=12345)), 3)
    (item,) = Statistic.objects.using(db_alias).top_objects(5)
    assert item.object is None
    assert item.object_id == "12345"


# --- Many objects at once (the counts/ endpoint) ---------------------------


def test_counter_totals_of_many_objects_in_one_query(
    cache_backend, db_alias, cache_reads, django_assert_num_queries
):
    today = local_today()
    counters = [object_counter(Article(pk=n)) for n in range(1, 21)]
    for n, counter in enumerate(counters, start=1):
        add_row(db_alias, today - DAY, counter, n)
    Tracker().incr_object(Article(pk=1), count=5)
    Tracker().incr_object(Page(pk="new"))
    wanted = [*counters, object_counter(Page(pk="new"))]
    with django_assert_num_queries(1, using=db_alias):
        found = rankings.counter_totals(
            Statistic.objects.using(db_alias), wanted, "total"
        )
    assert len(cache_reads) == 1
    assert found[counters[0]].count == 6
    assert found[counters[19]].count == 20
    assert found[object_counter(Page(pk="new"))].count == 1
    before = rankings.counter_totals(
        Statistic.objects.using(db_alias), wanted, "yesterday"
    )
    assert before[counters[0]].count == 1
    assert len(cache_reads) == 1


# --- TrackedMixin ----------------------------------------------------------


def test_tracked_mixin_for_every_key_type(
    cache_backend, db_alias, rf, django_assert_num_queries, warm_content_types
):
    article = TrackedArticle.objects.using(db_alias).create(title="T")
    product = TrackedProduct.objects.using(db_alias).create(name="P")
    page = TrackedPage.objects.using(db_alias).create(slug="hello")
    add_row(db_alias, local_today() - 10 * DAY, object_counter(article), 7, 4)
    for instance in (article, product, page):
        assert instance.count_view(request_from(rf, "10.0.0.9"))
        instance.count_view(request_from(rf, "10.0.0.9"))
    # Every property shares one summary: one query.
    with django_assert_num_queries(1, using=db_alias):
        shown = (
            article.total_views,
            article.unique_views,
            article.views_today,
            article.views_this_week,
            article.views_this_month,
            article.first_viewed,
            article.last_viewed,
        )
    today = local_today()
    assert shown[0] == 9
    assert shown[1] == 5
    assert shown[2] == 2
    assert shown[5] == today - 10 * DAY
    assert shown[6] == today
    assert product.total_views == 2
    assert product.unique_views == 1
    # TrackedPage counts "read", its tracker_label.
    assert page.total_views == 2
    assert page.tracker_counts("today", label="view") == Totals(0, 0)
    assert page.tracker_counts("today") == Totals(2, 1)


def test_counting_a_view_refreshes_the_instances_summary(cache_backend, db_alias):
    article = TrackedArticle.objects.using(db_alias).create(title="T")
    assert article.total_views == 0
    article.count_view()
    assert article.total_views == 1


# --- A cache that fails ------------------------------------------------------


def test_a_failing_cache_falls_back_to_folded_counts(
    db_alias, monkeypatch, settings, caplog
):
    add_row(db_alias, local_today() - DAY, Counter("a"), 4)
    Tracker().incr_labels("a")

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(aggregates, "get_backend", broken)
    rows = Statistic.objects.using(db_alias).for_label("a")
    with caplog.at_level(logging.WARNING, logger="tracker.aggregates"):
        assert rows.totals() == Totals(4, 0)
    assert "cache down" in caplog.text
    settings.TRACKER_FAIL_SILENTLY = False
    with pytest.raises(ConnectionError):
        rows.totals()

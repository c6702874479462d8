"""``manage.py tracker_demo_data``: past rows a later fold stays exact with."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.testapp.models import Article
from tracker.backends.base import Hit
from tracker.counters import Tracker, get_backend, local_today
from tracker.keys import Counter, row_digest
from tracker.models import Statistic
from tracker.reports import fold

pytestmark = pytest.mark.django_db(databases="__all__")


def demo_data(*args, db="default"):
    out = StringIO()
    call_command("tracker_demo_data", *args, f"--database={db}", stdout=out)
    return out.getvalue()


def test_writes_past_days_of_labels_and_objects(db_alias):
    articles = [Article.objects.using(db_alias).create(title=str(n)) for n in range(3)]
    out = demo_data(
        "--days=14", "--model=testapp.Article", "--labels=a|b:c:d", db=db_alias
    )
    rows = Statistic.objects.using(db_alias)
    today = local_today()
    days = set(rows.values_list("day", flat=True))
    assert max(days) == today - datetime.timedelta(days=1)
    assert min(days) >= today - datetime.timedelta(days=14)
    assert {row.label for row in rows.labels()} == {"a", "b"}
    assert {row.object_id for row in rows.objects_only()} == {
        str(article.pk) for article in articles
    }
    for row in rows:
        assert row.counter >= row.uniques >= 1
        assert row.counter_mark == row.uniques_mark == 0
        assert row.digest == row_digest(row.day, row.as_counter())
    assert f"Wrote {rows.count()} rows" in out


def test_running_it_again_writes_nothing_new(db_alias):
    demo_data("--days=5", "--seed=3", db=db_alias)
    before = list(Statistic.objects.using(db_alias).values_list("digest", "counter"))
    out = demo_data("--days=5", "--seed=3", db=db_alias)
    assert out.startswith("Wrote 0 rows")
    after = list(Statistic.objects.using(db_alias).values_list("digest", "counter"))
    assert sorted(before) == sorted(after)


def test_today_is_left_to_real_hits(cache_backend, db_alias):
    demo_data("--days=3", "--labels=signup", db=db_alias)
    rows = Statistic.objects.using(db_alias).for_label("signup")
    written = sum(rows.values_list("counter", flat=True))
    Tracker().incr_labels("signup", count=2)
    assert rows.totals().count == written + 2
    fold(using=db_alias)
    assert rows.get(day=local_today()).counter == 2
    assert rows.totals().count == written + 2


def test_yesterdays_demo_row_plus_five_real_hits(cache_backend, db_alias):
    demo_data("--days=2", "--labels=signup", db=db_alias)
    yesterday = local_today() - datetime.timedelta(days=1)
    written = Statistic.objects.using(db_alias).get(day=yesterday).counter
    get_backend().increment(Hit(day=yesterday, counters=[Counter("signup")], count=5))
    fold(using=db_alias)
    fold(using=db_alias)
    assert Statistic.objects.using(db_alias).get(day=yesterday).counter == written + 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days=0"], "--days"),
        (["--model=nope.Nothing"], "no such model"),
        (["--labels=a||b"], "--labels"),
        (["--labels="], "Nothing to write"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        demo_data(*args)

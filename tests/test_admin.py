"""The admin: filters, totals, the chart page, CSV/JSON export, query counts."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.testapp.models import Article
from tracker.counters import Tracker, local_today, object_counter
from tracker.keys import Counter, row_digest
from tracker.models import FoldLock, Statistic
from tracker.reports import fold

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)
CHANGELIST = "/admin/tracker/statistic/"
CHART = "/admin/tracker/statistic/chart/"
EXPORT = "/admin/tracker/statistic/export/"


def add_row(days_ago, counter, count, uniques=0):
    day = local_today() - days_ago * DAY
    content_type = None
    if counter.model:
        content_type = ContentType.objects.get_by_natural_key(*counter.model.split("."))
    return Statistic.objects.create(
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


def add_history(days, labels=("a", "b:shop", "c:shop:btn"), articles=()):
    for days_ago in range(days):
        for n, query in enumerate(labels, start=1):
            add_row(days_ago, Counter(*query.split(":")), n + days_ago, n)
        for n, article in enumerate(articles, start=1):
            add_row(days_ago, object_counter(article), 10 * n, n)


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, response
    return len(captured)


@pytest.fixture
def articles():
    return [Article.objects.create(title=f"Article {n}") for n in range(3)]


# --- Changelist -------------------------------------------------------------


def test_changelist_shows_rows_and_totals_of_the_filtered_set(admin_client, articles):
    add_history(5, articles=articles)
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    total = sum(Statistic.objects.values_list("counter", flat=True))
    uniques = sum(Statistic.objects.values_list("uniques", flat=True))
    assert f'data-count="{total}"' in html
    assert f'data-uniques="{uniques}"' in html
    assert 'data-rows="30"' in html
    shop = admin_client.get(CHANGELIST, {"category": "shop"}).content.decode()
    shop_total = sum(
        Statistic.objects.filter(category="shop").values_list("counter", flat=True)
    )
    assert f'data-count="{shop_total}"' in shop
    assert "testapp.article #" in html
    assert f"{CHART}?" in shop and "category=shop" in shop
    assert f"{EXPORT}?category=shop&amp;format=csv" in shop


def test_day_range_filter(admin_client):
    add_history(10)
    since = (local_today() - 3 * DAY).isoformat()
    until = (local_today() - DAY).isoformat()
    response = admin_client.get(CHANGELIST, {"day__gte": since, "day__lte": until})
    assert response.context["cl"].result_count == 9
    assert f'value="{since}"' in response.content.decode()
    # An input left empty is no bound.
    response = admin_client.get(CHANGELIST, {"day__gte": since, "day__lte": ""})
    assert response.context["cl"].result_count == 12
    response = admin_client.get(CHANGELIST, {"day__gte": "yesterday"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_label_category_content_type_filters_search_and_hierarchy(
    admin_client, articles
):
    add_history(3, articles=articles)

    def count(**params):
        return admin_client.get(CHANGELIST, params).context["cl"].result_count

    assert count(label="a") == 3
    assert count(category="shop") == 6
    assert count(category__isnull="True") == 0
    article_type = ContentType.objects.get_for_model(Article)
    assert count(content_type__id__exact=article_type.pk) == 9
    assert count(q="btn") == 3
    today = local_today()
    assert count(day__year=today.year, day__month=today.month, day__day=today.day) == 6
    assert count(label__in="a,b") == 6


def test_rows_are_read_only(admin_client):
    row = add_row(1, Counter("a"), 3)
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    page = admin_client.get(f"{CHANGELIST}{row.pk}/change/")
    assert page.status_code == 200
    assert b'name="counter"' not in page.content
    assert admin_client.post(f"{CHANGELIST}{row.pk}/change/", {"counter": 9})
    row.refresh_from_db()
    assert row.counter == 3


@pytest.mark.parametrize("rows", [1, 40])
def test_changelist_queries_do_not_grow_with_rows(admin_client, articles, rows):
    add_history(rows, articles=articles)
    # Session, user, content types of the filter, count, rows, totals, the date
    # hierarchy's range and days, the category and label filters' values.
    assert queries_for(admin_client, CHANGELIST) == 10
    assert queries_for(admin_client, f"{CHANGELIST}?category=shop") == 10


# --- Chart ------------------------------------------------------------------


def bars(html):
    return [
        (day, int(count), int(uniques))
        for day, count, uniques in re.findall(
            r'data-day="([\d-]+)" data-count="(\d+)" data-uniques="(\d+)"', html
        )
    ]


def test_chart_numbers_match_the_rows(admin_client, articles):
    add_history(45, articles=articles)
    response = admin_client.get(CHART)
    assert response.status_code == 200
    html = response.content.decode()
    drawn = bars(html)
    assert len(drawn) == 30
    assert drawn[-1][0] == local_today().isoformat()
    for day, count, uniques in drawn:
        rows = Statistic.objects.filter(day=day)
        assert count == sum(row.counter for row in rows)
        assert uniques == sum(row.uniques for row in rows)
    total = sum(count for _, count, _ in drawn)
    assert f'data-total-count="{total}"' in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "<script" not in svg
    assert "http" not in svg.replace("http://www.w3.org", "")  # nothing fetched


def test_chart_follows_filters_and_range(admin_client, articles):
    add_history(20, articles=articles)
    since = (local_today() - 6 * DAY).isoformat()
    response = admin_client.get(
        CHART, {"label": "a", "day__gte": since, "day__lte": local_today().isoformat()}
    )
    drawn = bars(response.content.decode())
    assert [count for _, count, _ in drawn] == [1 + n for n in range(6, -1, -1)]
    assert 'name="label" value="a"' in response.content.decode()


def test_chart_top_lists(admin_client, articles):
    add_history(3, articles=articles)
    Tracker().incr_object(articles[0], count=500)
    fold()
    response = admin_client.get(CHART)
    top_labels = response.context["top_labels"]
    assert [item.label for item in top_labels] == ["c", "b", "a"]
    top_objects = response.context["top_objects"]
    assert top_objects[0].object == articles[0]
    assert top_objects[0].count == 10 * 3 + 500
    html = response.content.decode()
    assert "Article 0" in html
    assert 'id="tracker-top-labels"' in html
    # Its link charts that object alone.
    link = re.search(r'href="(\?content_type__id__exact=[^"]+)">Article 0<', html)
    alone = admin_client.get(CHART + link.group(1).replace("&amp;", "&"))
    assert alone.status_code == 200
    drawn = bars(alone.content.decode())
    assert sum(count for _, count, _ in drawn) == 10 * 3 + 500


def test_chart_of_the_date_hierarchy(admin_client):
    add_history(3)
    today = local_today()
    response = admin_client.get(
        CHART, {"day__year": today.year, "day__month": today.month}
    )
    drawn = bars(response.content.decode())
    assert drawn[0][0] == today.replace(day=1).isoformat()
    assert drawn[-1][0] == today.isoformat()


@pytest.mark.parametrize(
    "params",
    [{"day__gte": "never"}, {"day__year": "x"}, {"day__gte": "2999-01-01"}],
)
def test_chart_refuses_bad_ranges(admin_client, params):
    assert admin_client.get(CHART, params).status_code == 400


@pytest.mark.parametrize("rows", [2, 60])
def test_chart_queries_do_not_grow_with_rows(admin_client, articles, rows):
    add_history(rows, articles=articles)
    # Session, user, the changelist's content type filter and count, the series,
    # the top labels, the top objects and their instances (one query per model).
    assert queries_for(admin_client, CHART) == 8


def test_chart_and_export_are_for_staff_only(client, db):
    for url in (CHART, EXPORT):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(CHART).status_code == 403
    assert client.get(EXPORT).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_statistic"))
    assert client.get(CHART).status_code == 200


# --- Export -----------------------------------------------------------------


def test_export_csv_of_the_filtered_set(admin_client, articles):
    add_history(3, articles=articles)
    add_row(10, Counter("=HYPERLINK(1)", "+cat", "-dom"), 4)
    response = admin_client.get(EXPORT, {"category": "shop"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    assert {row["category"] for row in rows} == {"shop"}
    assert sum(int(row["count"]) for row in rows) == sum(
        Statistic.objects.filter(category="shop").values_list("counter", flat=True)
    )
    dangerous = admin_client.get(EXPORT, {"q": "HYPERLINK"})
    (row,) = csv.DictReader(io.StringIO(b"".join(dangerous.streaming_content).decode()))
    assert row["label"] == "'=HYPERLINK(1)"
    assert row["category"] == "'+cat"
    assert row["dom_id"] == "'-dom"


def test_export_json(admin_client, articles):
    add_history(2, articles=articles[:1])
    response = admin_client.get(EXPORT, {"format": "json", "label": "view"})
    assert response["Content-Type"] == "application/json"
    rows = json.loads(b"".join(response.streaming_content))
    assert rows == [
        {
            "day": (local_today() - n * DAY).isoformat(),
            "label": "view",
            "category": "",
            "dom_id": "",
            "model": "testapp.article",
            "object_id": str(articles[0].pk),
            "count": 10,
            "uniques": 1,
        }
        for n in (1, 0)
    ]


def test_export_refuses_unknown_formats(admin_client):
    assert admin_client.get(EXPORT, {"format": "xml"}).status_code == 400


@pytest.mark.parametrize("rows", [1, 50])
def test_export_queries_do_not_grow_with_rows(admin_client, articles, rows):
    add_history(rows, articles=articles)
    # Session, user, the changelist's content type filter and count, the rows.
    assert queries_for(admin_client, EXPORT) == 5
    assert queries_for(admin_client, f"{EXPORT}?format=json") == 5


@pytest.mark.parametrize(
    ("action", "fmt"), [("export_csv", "csv"), ("export_json", "json")]
)
def test_export_actions(admin_client, action, fmt):
    rows = [add_row(1, Counter(label), 5) for label in ("x", "y", "z")]
    response = admin_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [rows[0].pk, rows[2].pk]},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "x" in body and "z" in body
    assert '"y"' not in body and "\ny," not in body


# --- The fold lock -----------------------------------------------------------


def test_fold_lock_shows_when_the_last_fold_ran(admin_client):
    Tracker().incr_labels("a")
    fold()
    lock = FoldLock.objects.get()
    response = admin_client.get("/admin/tracker/foldlock/")
    assert response.status_code == 200
    assert lock.name in response.content.decode()
    assert admin_client.get("/admin/tracker/foldlock/add/").status_code == 403
    change = admin_client.get(f"/admin/tracker/foldlock/{lock.pk}/change/")
    assert change.status_code == 200
    assert b'name="batches"' not in change.content

"""The counts/ endpoint: live counts of signed objects, public, never a 500."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.urls import reverse

from tests.testapp.models import Article, Page, Product
from tracker.counters import Tracker, local_today, object_counter
from tracker.keys import row_digest
from tracker.models import Statistic
from tracker.reports import fold
from tracker.signing import SALT, object_token

pytestmark = pytest.mark.django_db

URL = "/tracker/counts/"


def get_counts(client, *tokens, **params):
    return client.get(URL, {"objects": "|".join(tokens), **params})


def add_row(obj, days_ago, count, uniques=0, label="view"):
    day = local_today() - datetime.timedelta(days=days_ago)
    Statistic.objects.create(
        day=day,
        label=label,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        counter=count,
        uniques=uniques,
        digest=row_digest(day, object_counter(obj, label)),
    )


def test_the_url_is_named():
    assert reverse("tracker:counts") == URL


def test_counts_of_objects_of_every_key_type(cache_backend, client, rf):
    article, product, page = Article(pk=1), Product(pk=uuid.uuid4()), Page(pk="p")
    add_row(article, 3, 10, 4)
    for address in ("10.0.0.1", "10.0.0.2"):
        request = rf.get("/", REMOTE_ADDR=address, HTTP_USER_AGENT="test")
        Tracker().incr_object(article, request=request)
    Tracker().incr_object(product, count=3)
    Tracker().incr_object(page, label="read")
    tokens = [object_token(article), object_token(product), object_token(page, "read")]
    response = get_counts(client, *tokens)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "counts": {
            tokens[0]: {"count": 12, "uniques": 6},
            tokens[1]: {"count": 3, "uniques": 0},
            tokens[2]: {"count": 1, "uniques": 0},
        }
    }
    today = get_counts(client, tokens[0], period="today").json()
    assert today["counts"][tokens[0]] == {"count": 2, "uniques": 2}
    fold()
    Tracker().incr_object(article)
    assert get_counts(client, tokens[0], period="today").json()["counts"] == {
        tokens[0]: {"count": 3, "uniques": 2}
    }


@pytest.mark.parametrize(
    ("period", "expected"),
    [("today", 1), ("week", None), ("month", None), ("total", 111), ("2d", 11)],
)
def test_periods(client, period, expected):
    article = Article(pk=5)
    add_row(article, 1, 10)
    add_row(article, 60, 100)
    Tracker().incr_object(article)
    token = object_token(article)
    response = get_counts(client, token, period=period)
    count = response.json()["counts"][token]["count"]
    if expected is None:  # depends on the weekday and the day of the month
        yesterday = local_today() - datetime.timedelta(days=1)
        starts = {"week": local_today().weekday(), "month": local_today().day - 1}
        expected = 1 + (10 if (local_today() - yesterday).days <= starts[period] else 0)
    assert count == expected


def test_one_query_whatever_the_number_of_objects(client, django_assert_num_queries):
    articles = [Article(pk=n) for n in range(1, 41)]
    for n, article in enumerate(articles, start=1):
        add_row(article, 1, n)
    tokens = [object_token(article) for article in articles]
    with django_assert_num_queries(1):
        response = get_counts(client, *tokens)
    counts = response.json()["counts"]
    assert [counts[token]["count"] for token in tokens] == list(range(1, 41))


def test_duplicates_and_empty_items_are_harmless(client):
    token = object_token(Article(pk=1))
    response = client.get(URL, {"objects": f"|{token}|{token}||"})
    assert response.status_code == 200
    assert response.json() == {"counts": {token: {"count": 0, "uniques": 0}}}


def test_a_token_of_an_unknown_model_counts_nothing(client):
    token = signing.dumps(["gone.model", "1", "view"], salt=SALT, compress=True)
    response = get_counts(client, token)
    assert response.status_code == 200
    assert response.json()["counts"][token] == {"count": 0, "uniques": 0}


@pytest.mark.parametrize(
    "objects",
    [
        "",
        "|",
        "not-a-token",
        object_token(("testapp.article", 1))[:-2] + "xx",  # tampered signature
        signing.dumps(["testapp.article", "1", "view"], salt="another.salt"),
        signing.dumps(["testapp.article"], salt=SALT),  # wrong shape
        signing.dumps(["testapp.article", "1", "bad\nlabel"], salt=SALT),
        "a" * 5000,
        "\x00\u202e",
    ],
)
def test_bad_tokens_are_a_400_with_a_json_error(client, objects):
    response = client.get(URL, {"objects": objects})
    assert response.status_code == 400
    assert "error" in response.json()


def test_the_number_of_tokens_is_capped(client, settings):
    settings.TRACKER_COUNTS_MAX_OBJECTS = 3
    tokens = [object_token(Article(pk=n)) for n in range(4)]
    response = get_counts(client, *tokens)
    assert response.status_code == 400
    assert "at most 3" in response.json()["error"]
    assert get_counts(client, *tokens[:3]).status_code == 200


@pytest.mark.parametrize("period", ["", "forever", "0d", "99999999d", "7 d", "-3d"])
def test_bad_periods_are_a_400(client, period):
    response = get_counts(client, object_token(Article(pk=1)), period=period)
    assert response.status_code == 400
    assert "period" in response.json()["error"].lower()


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get(client, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_public_for_anonymous_clients(client, settings):
    settings.TRACKER_STATS_ACCESS = "staff"  # get_stats/'s setting; counts/ is signed
    token = object_token(Article(pk=1))
    assert get_counts(client, token).status_code == 200


def test_never_a_500_for_random_input(client):
    samples = ["%", "%%%", "%7C" * 300, "%C3%A9|%FC", "{}", "[]", "null", "%ED%A0%80"]
    for objects in samples:
        for period in ("today", "x", "%", "", "%00"):
            response = client.get(f"{URL}?objects={objects}&period={period}")
            assert response.status_code in (200, 400), (objects, period)

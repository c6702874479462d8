"""track/, get_stats/ and report/: every status code and rule, and what they cost."""

from __future__ import annotations

import datetime
import json
import random
import re
from urllib.parse import quote

import pytest
from django.core.cache import caches
from django.template import Context, Template
from django.test import Client
from django.utils.functional import empty

from tests.test_counters import round_trips
from tests.testapp.models import Article
from tracker.counters import Tracker, local_today
from tracker.exceptions import FoldError
from tracker.guards import RateLimit, parse_rate
from tracker.keys import UNIQUES, Counter, row_digest
from tracker.middleware import TrackerMiddleware
from tracker.models import Statistic
from tracker.reports import fold
from tracker.signing import object_token, read_object_token
from tracker.views import get_stats, report, track

TRACK = "/tracker/track/"
STATS = "/tracker/get_stats/"
REPORT = "/tracker/report/"

# Every status track/ may answer; anything else (a 500 above all) is a bug.
TRACK_STATUSES = {200, 204, 400, 403, 405, 413, 414, 415, 429}


def live(query: str) -> dict[Counter, int]:
    return Tracker().live_counts(labels=query)


def post_json(client, data, path=TRACK, **extra):
    return client.post(path, json.dumps(data), content_type="application/json", **extra)


def error_of(response) -> str:
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


# --- track/: what succeeds ---------------------------------------------------


def test_the_originals_imports_work():
    from tracker import views

    assert (views.track, views.report, views.get_stats) == (track, report, get_stats)


def test_get_answers_the_originals_plain_ok_and_counts(client, cache_backend):
    response = client.get(TRACK, {"labels": "user_connected|buy:shop:buy-btn"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"ok"
    assert "no-store" in response["Cache-Control"]
    assert live("user_connected|buy:shop:buy-btn") == {
        Counter("user_connected"): 1,
        Counter("buy", "shop", "buy-btn"): 1,
    }


def test_the_root_track_path_is_the_same_view(client):
    assert client.get("/track/?labels=a|b").status_code == 200
    assert live("a|b") == {Counter("a"): 1, Counter("b"): 1}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("labels=a%7Cb%3Ac%3Ad", "application/x-www-form-urlencoded"),
        ('{"labels": "a|b:c:d"}', "application/json"),
        ('{"labels": ["a", "b:c:d"]}', "application/json"),
        ('["a", "b:c:d"]', "application/json"),
        ('["a", "b:c:d"]', "application/vnd.api+json"),
        ("a|b:c:d", "text/plain;charset=UTF-8"),
        ("  a | b:c:d\n", "text/plain"),
        ('{"labels": "a|b:c:d"}', "text/plain;charset=UTF-8"),
        ("a|b:c:d".encode("utf-16"), "text/plain; charset=utf-16"),
    ],
)
def test_post_bodies_answer_204_and_count(client, body, content_type):
    response = client.generic("POST", TRACK, body, content_type=content_type)
    assert response.status_code == 204, response.content
    assert response.content == b""
    assert live("a|b:c:d") == {Counter("a"): 1, Counter("b", "c", "d"): 1}


@pytest.mark.parametrize("method", ["get", "post"])
def test_beacon_answers_carry_what_add_never_cache_headers_gives(client, method):
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers
    from django.utils.http import parse_http_date

    expected = HttpResponse()
    add_never_cache_headers(expected)
    response = getattr(client, method)(TRACK, {"labels": "a"})
    assert response["Cache-Control"] == expected["Cache-Control"]
    # Expires is "now"; the two may straddle a second.
    expires = parse_http_date(response["Expires"])
    assert abs(expires - parse_http_date(expected["Expires"])) <= 1


def test_multipart_form_counts(client):
    assert client.post(TRACK, {"labels": "a|b"}).status_code == 204
    assert live("a|b") == {Counter("a"): 1, Counter("b"): 1}


def test_a_label_that_looks_like_json_is_still_a_label(client):
    response = client.post(TRACK, "[draft]", content_type="text/plain")
    assert response.status_code == 204
    assert live("[draft]") == {Counter("[draft]"): 1}


def test_track_is_csrf_exempt():
    client = Client(enforce_csrf_checks=True)
    assert client.post(TRACK, "a", content_type="text/plain").status_code == 204


def test_unique_visitors_of_labels_when_asked(client, settings):
    settings.TRACKER_UNIQUE_VISITORS = "all"
    client.get(TRACK, {"labels": "a"}, REMOTE_ADDR="192.0.2.1")
    client.get(TRACK, {"labels": "a"}, REMOTE_ADDR="192.0.2.1")
    client.get(TRACK, {"labels": "a"}, REMOTE_ADDR="192.0.2.2")
    counts = Tracker().live_counts(labels="a", uniques=True)
    assert counts == {Counter("a"): 3, Counter("a").twin(): 2}


# --- track/: signed object tokens ----------------------------------------------


def test_object_token_counts_views_and_distinct_visitors(client, cache_backend):
    token = object_token(Article(pk=7))
    for address in ("192.0.2.1", "192.0.2.1", "192.0.2.2"):
        response = post_json(client, {"object": token}, REMOTE_ADDR=address)
        assert response.status_code == 204
    counts = Tracker().live_counts(objects=[Article(pk=7)], uniques=True)
    counter = read_object_token(token)
    assert counts == {counter: 3, counter._replace(metric=UNIQUES): 2}


def test_object_token_as_a_form_field_and_its_label(client):
    token = object_token(Article(pk=3), "download")
    assert client.post(TRACK, {"object": token}).status_code == 204
    counts = Tracker().live_counts(objects=[Article(pk=3)], object_label="download")
    assert list(counts.values()) == [1]


def test_object_visitors_follow_the_setting(client, settings):
    settings.TRACKER_UNIQUE_VISITORS = "none"
    post_json(client, {"object": object_token(Article(pk=1))})
    counts = Tracker().live_counts(objects=[Article(pk=1)], uniques=True)
    assert list(counts.values()) == [1]  # no distinct-visitor twin


@pytest.mark.parametrize(
    "token",
    ["nonsense", object_token(("testapp.article", 1))[:-2] + "xx", "", 5, ["a"], None],
)
def test_a_bad_object_token_is_a_400(client, token):
    response = post_json(client, {"object": token})
    if token is None:  # {"object": null} carries nothing at all
        assert "Missing labels" in error_of(response)
    else:
        assert response.status_code == 400
        assert "token" in error_of(response)
    assert Tracker().live_counts(objects=[Article(pk=1)]) == {}


def test_labels_and_an_object_together_are_refused(client):
    token = object_token(Article(pk=1))
    response = post_json(client, {"labels": "a", "object": token})
    assert response.status_code == 400
    assert "not both" in error_of(response)


# --- track/: what is refused -------------------------------------------------


@pytest.mark.parametrize(
    ("query", "rule", "position"),
    [
        ("ok|a||b", "empty_item", 3),
        ("ok|a:b:c:d", "too_many_parts", 2),
        ("ok|:cat", "empty_label", 2),
        ("ok|a\u200bb", "control_character", 2),
        ("ok|a:c:has space", "whitespace_in_dom_id", 2),
        ("ok|" + "x" * 251, "too_long", 2),
    ],
)
def test_invalid_labels_are_a_400_naming_item_and_rule(
    client, cache_backend, query, rule, position
):
    response = client.get(TRACK, {"labels": query})
    assert response.status_code == 400
    body = response.json()
    item = query.split("|")[position - 1]
    assert (body["rule"], body["position"], body["item"]) == (rule, position, item)
    named = repr(item)[:20] if item else f"Item {position}"
    assert named in body["error"]
    assert live("ok") == {}  # all or nothing


def test_missing_labels_explain_the_syntax(client):
    for response in (
        client.get(TRACK),
        client.post(TRACK, {}),
        post_json(client, {}),
        client.post(TRACK, "", content_type="text/plain"),
        client.post(TRACK, "  \n", content_type="text/plain"),
    ):
        assert response.status_code == 400
        assert "label[:category[:dom_id]]" in error_of(response)


@pytest.mark.parametrize("labels", ["", []])
def test_empty_labels_are_a_400(client, labels):
    response = post_json(client, {"labels": labels})
    assert response.status_code == 400
    assert "empty" in error_of(response)


@pytest.mark.parametrize("method", ["put", "patch", "delete", "head", "options"])
def test_other_methods_are_a_405(client, method):
    response = getattr(client, method)(TRACK + "?labels=a")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert live("a") == {}


def test_a_body_over_the_limit_is_a_413(client, settings):
    settings.TRACKER_MAX_BODY_SIZE = 100
    response = client.post(TRACK, "a|" * 60 + "b", content_type="text/plain")
    assert response.status_code == 413
    assert "100 bytes" in error_of(response)
    assert client.post(TRACK, "a|b", content_type="text/plain").status_code == 204


def test_too_many_items_is_a_400(client, settings):
    settings.TRACKER_MAX_ITEMS = 3
    response = client.get(TRACK, {"labels": "a|b|c|d"})
    assert response.status_code == 400
    assert response.json()["rule"] == "too_many_items"
    assert live("a") == {}


def test_a_huge_query_string_is_a_414(client):
    response = client.get(TRACK + "?labels=" + "a|" * 100_000)
    assert response.status_code == 414
    response = client.get(TRACK + "?" + "a&" * 1500)
    assert response.status_code == 400  # too many fields for Django to parse


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "image/png", "application/xml"]
)
def test_unsupported_content_types_are_a_415(client, content_type):
    response = client.post(TRACK, b"a|b", content_type=content_type)
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe\xfa", "text/plain"),
        (b'{"labels": "\xc3\x28"}', "application/json"),
        (b"[" * 5000, "application/json"),
        (b'{"labels": ' + b"1" * 5000 + b"}", "application/json"),
        (b'{"labels": "a"', "application/json"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"a", "multipart/form-data"),
    ],
)
def test_unreadable_bodies_are_a_400(client, body, content_type):
    response = client.generic("POST", TRACK, body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert error_of(response)


@pytest.mark.parametrize(
    "data",
    [
        5,
        "a|b",
        None,
        True,
        {"labels": 5},
        {"labels": {"a": 1}},
        {"labels": [1, 2]},
        {"labels": [["a"]]},
        {"labels": None},
        {"labels": True},
        {"object": {"a": 1}},
        {"other": "a"},
    ],
)
def test_json_of_the_wrong_types_is_a_400(client, data):
    response = post_json(client, data)
    assert response.status_code == 400
    assert error_of(response)


def test_no_input_ever_gets_a_500(client):
    """Fuzz: random bytes, broken UTF-8, odd content types, odd query strings."""
    rng = random.Random(4)
    content_types = [
        "",
        "text/plain",
        "text/plain; charset=utf-16",
        "text/plain; charset=bogus",
        "application/json",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=--x",
        "application/octet-stream",
        "\x00weird/\xff",
        ";;;",
    ]
    fragments = [b"labels=", b'{"labels":', b"[", b"]", b"|", b":", b'"', b"\xc3"]
    fragments += [b"\xff", b"\x00", b"a", b"%", b"%ZZ", b"{", b"}", b"object=", b"\n"]
    for _ in range(400):
        if rng.random() < 0.5:
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        else:
            body = b"".join(rng.choice(fragments) for _ in range(rng.randrange(30)))
        if rng.random() < 0.3:
            query = quote(body, safe="|:&=%")
            response = client.get(TRACK + "?labels=" + query)
        else:
            content_type = rng.choice(content_types)
            response = client.generic("POST", TRACK, body, content_type=content_type)
        assert response.status_code in TRACK_STATUSES, (body, response.content)


# --- track/: protections -----------------------------------------------------


def test_allowed_labels_as_patterns(client, settings):
    settings.TRACKER_ALLOWED_LABELS = [r"signup", r"clicked-\w+"]
    assert client.get(TRACK, {"labels": "signup|clicked-buy:shop"}).status_code == 200
    response = client.get(TRACK, {"labels": "clicked-buy|signup-spam|other"})
    assert response.status_code == 400
    body = response.json()
    assert (body["rule"], body["position"]) == ("not_allowed", 2)
    assert "signup-spam" in body["error"]
    assert live("signup|clicked-buy:shop|clicked-buy") == {
        Counter("signup"): 1,
        Counter("clicked-buy", "shop"): 1,
    }


def only_the_shop(item) -> bool:
    """An allow-list callable for the test below."""
    return item.category == "shop"


def test_allowed_labels_as_a_callable(client, settings):
    settings.TRACKER_ALLOWED_LABELS = "tests.test_views.only_the_shop"
    assert client.get(TRACK, {"labels": "buy:shop"}).status_code == 200
    assert client.get(TRACK, {"labels": "buy:blog"}).status_code == 400
    assert client.post(TRACK, {"labels": "buy"}).status_code == 400
    assert live("buy:shop|buy:blog|buy") == {Counter("buy", "shop"): 1}


CLOSED_SHOPS: set[str] = set()


def open_shops_only(item) -> bool:
    """An allow-list callable that changes its mind, for the test below."""
    return item.category not in CLOSED_SHOPS


def test_a_repeated_query_is_checked_against_the_allow_list_each_time(client, settings):
    """Repeats of a query skip parsing (beacons._recent_queries), not the allow-list."""
    settings.TRACKER_ALLOWED_LABELS = "tests.test_views.open_shops_only"
    assert client.get(TRACK, {"labels": "buy:north"}).status_code == 200
    CLOSED_SHOPS.add("north")
    try:
        response = client.get(TRACK, {"labels": "buy:north"})
    finally:
        CLOSED_SHOPS.clear()
    assert (response.status_code, response.json()["rule"]) == (400, "not_allowed")
    assert client.get(TRACK, {"labels": "buy:north"}).status_code == 200
    assert live("buy:north") == {Counter("buy", "north"): 2}


def test_a_repeated_query_is_validated_again_after_a_setting_changes(client, settings):
    assert client.get(TRACK, {"labels": "a|b|c"}).status_code == 200
    settings.TRACKER_MAX_ITEMS = 2
    response = client.get(TRACK, {"labels": "a|b|c"})
    assert (response.status_code, response.json()["rule"]) == (400, "too_many_items")
    assert live("a|b") == {Counter("a"): 1, Counter("b"): 1}
    assert live("c") == {Counter("c"): 1}


def test_remembered_queries_are_bounded(client, monkeypatch):
    from tracker import beacons

    monkeypatch.setattr(beacons, "_MAX_RECENT_QUERIES", 10)
    for number in range(25):
        assert client.get(TRACK, {"labels": f"q{number}"}).status_code == 200
        assert len(beacons._recent_queries) <= 10
    for number in range(25):  # forgotten or not, each still counts
        assert client.get(TRACK, {"labels": f"q{number}"}).status_code == 200
    counted = live("|".join(f"q{n}" for n in range(13)))
    counted |= live("|".join(f"q{n}" for n in range(13, 25)))
    assert counted == {Counter(f"q{n}"): 2 for n in range(25)}


def test_bad_queries_are_not_remembered(client):
    from tracker import beacons

    assert client.get(TRACK, {"labels": "a|b"}).status_code == 200
    for _ in range(2):
        response = client.get(TRACK, {"labels": "a||b"})
        assert (response.status_code, response.json()["rule"]) == (400, "empty_item")
    assert "labels=a%7Cb" in beacons._recent_queries
    assert "labels=a%7C%7Cb" not in beacons._recent_queries


def test_allowed_labels_do_not_apply_to_signed_objects(client, settings):
    settings.TRACKER_ALLOWED_LABELS = []
    assert client.get(TRACK, {"labels": "a"}).status_code == 400
    assert post_json(client, {"object": object_token(Article(pk=1))}).status_code == 204


def test_a_repeated_label_is_one_new_counter_under_the_cap(
    client, settings, cache_backend
):
    settings.TRACKER_MAX_NEW_COUNTERS_PER_DAY = 2
    assert client.get(TRACK, {"labels": "a|a|b"}).status_code == 200
    assert client.get(TRACK, {"labels": "c"}).status_code == 403
    assert client.get(TRACK, {"labels": "a|b|a"}).status_code == 200
    assert live("a|b|c") == {Counter("a"): 4, Counter("b"): 2}


def test_the_daily_cap_on_new_counters(client, settings, cache_backend):
    settings.TRACKER_MAX_NEW_COUNTERS_PER_DAY = 2
    assert client.get(TRACK, {"labels": "a|b"}).status_code == 200
    response = client.get(TRACK, {"labels": "c"})
    assert response.status_code == 403
    assert "TRACKER_MAX_NEW_COUNTERS_PER_DAY" in error_of(response)
    # A request mixing known and new labels counts nothing...
    assert client.get(TRACK, {"labels": "a|c"}).status_code == 403
    # ... and known labels keep counting.
    assert client.post(TRACK, "a|b", content_type="text/plain").status_code == 204
    assert live("a|b|c") == {Counter("a"): 2, Counter("b"): 2}


def test_objects_are_not_held_by_the_cap(client, settings):
    settings.TRACKER_MAX_NEW_COUNTERS_PER_DAY = 1
    client.get(TRACK, {"labels": "a"})
    assert client.get(TRACK, {"labels": "b"}).status_code == 403
    assert post_json(client, {"object": object_token(Article(pk=1))}).status_code == 204


def test_no_cap_when_none(client, settings):
    settings.TRACKER_MAX_NEW_COUNTERS_PER_DAY = None
    for n in range(30):
        assert client.get(TRACK, {"labels": f"l{n}"}).status_code == 200


def test_the_rate_limit(client, settings, cache_backend):
    settings.TRACKER_RATE_LIMIT = "3/h"
    for _ in range(3):
        assert client.get(TRACK, {"labels": "a"}, REMOTE_ADDR="192.0.2.1").status_code
    response = client.get(TRACK, {"labels": "a"}, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert "retry" in error_of(response).lower()
    # Another client has its own budget; the limited request counted nothing.
    assert client.get(TRACK, {"labels": "a"}, REMOTE_ADDR="192.0.2.2").status_code
    assert live("a") == {Counter("a"): 4}


def test_the_rate_limit_follows_the_address_header(client, settings):
    settings.TRACKER_RATE_LIMIT = "1/m"
    settings.TRACKER_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    first = {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 10.0.0.1"}
    second = {"HTTP_X_FORWARDED_FOR": "198.51.100.2, 10.0.0.1"}
    assert client.get(TRACK, {"labels": "a"}, **first).status_code == 200
    assert client.get(TRACK, {"labels": "a"}, **first).status_code == 429
    assert client.get(TRACK, {"labels": "a"}, **second).status_code == 200


def test_the_rate_limit_stores_no_address(client, settings):
    settings.TRACKER_RATE_LIMIT = "100/m"
    settings.TRACKER_UNIQUE_VISITORS = "all"
    address = "203.0.113.77"
    client.get(TRACK, {"labels": "a"}, REMOTE_ADDR=address)
    stored = caches["default"]._cache  # LocMemCache: key -> pickled value
    assert stored
    for key, value in stored.items():
        assert address not in key
        assert address.encode() not in value


def test_no_rate_limit_when_none(client, settings):
    settings.TRACKER_RATE_LIMIT = None
    for _ in range(5):
        assert client.get(TRACK, {"labels": "a"}).status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("300/m", RateLimit(300, 60)),
        ("10/s", RateLimit(10, 1)),
        (" 5000 / h ", RateLimit(5000, 3600)),
        ("20/min", RateLimit(20, 60)),
        (None, None),
    ],
)
def test_rate_limit_syntax(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["300", "x/m", "0/m", "5/d", "-1/s", 300])
def test_bad_rate_limits_are_refused(value):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="TRACKER_RATE_LIMIT"):
        parse_rate(value)


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "facebookexternalhit/1.1",
        "Baiduspider",
        "AhrefsBot/7.0",
    ],
)
def test_bots_are_accepted_but_not_counted(client, agent):
    response = client.get(TRACK, {"labels": "a"}, HTTP_USER_AGENT=agent)
    assert (response.status_code, response.content) == (200, b"ok")
    assert response["X-Tracker"] == "ignored; bot"
    response = client.post(TRACK, "a", content_type="text/plain", HTTP_USER_AGENT=agent)
    assert response.status_code == 204
    assert live("a") == {}


def test_more_bots_from_the_setting_and_bots_counted_when_asked(client, settings):
    settings.TRACKER_BOT_USER_AGENTS = ["UptimeChecker"]
    client.get(TRACK, {"labels": "a"}, HTTP_USER_AGENT="uptimechecker/1.0")
    assert live("a") == {}
    settings.TRACKER_IGNORE_BOTS = False
    client.get(TRACK, {"labels": "a"}, HTTP_USER_AGENT="Googlebot/2.1")
    assert live("a") == {Counter("a"): 1}


def test_browsers_are_counted(client):
    agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/126.0.0.0 Safari/537.36"
    )
    response = client.get(TRACK, {"labels": "a"}, HTTP_USER_AGENT=agent)
    assert "X-Tracker" not in response
    assert live("a") == {Counter("a"): 1}


@pytest.mark.parametrize("header", ["HTTP_DNT", "HTTP_SEC_GPC"])
def test_do_not_track_and_global_privacy_control(client, settings, header):
    response = client.get(TRACK, {"labels": "a"}, **{header: "1"})
    assert response.status_code == 200
    assert response["X-Tracker"] == "ignored; dnt"
    assert live("a") == {}
    client.get(TRACK, {"labels": "a"}, **{header: "0"})
    settings.TRACKER_RESPECT_DNT = False
    client.get(TRACK, {"labels": "a"}, **{header: "1"})
    assert live("a") == {Counter("a"): 2}


def test_ignored_requests_still_get_their_input_checked(client):
    response = client.get(TRACK, {"labels": "a||b"}, HTTP_DNT="1")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"HTTP_ORIGIN": "https://evil.example"}, 403),
        ({"HTTP_ORIGIN": "null"}, 403),
        ({"HTTP_ORIGIN": "http://[broken"}, 403),
        ({"HTTP_ORIGIN": "http://testserver.evil.example"}, 403),
        ({"HTTP_REFERER": "https://evil.example/page"}, 403),
        ({"HTTP_ORIGIN": "http://testserver"}, 204),
        ({"HTTP_ORIGIN": "http://localhost:8000"}, 204),
        ({"HTTP_REFERER": "http://127.0.0.1:8000/some/page?x=1"}, 204),
        ({"HTTP_ORIGIN": "http://user@testserver"}, 204),
    ],
)
def test_the_origin_check(client, settings, headers, status):
    settings.TRACKER_CHECK_ORIGIN = True
    response = client.post(TRACK, "a", content_type="text/plain", **headers)
    assert response.status_code == status
    assert live("a") == ({Counter("a"): 1} if status == 204 else {})


def test_no_origin_check_by_default(client):
    response = client.post(
        TRACK, "a", content_type="text/plain", HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 204


def test_tracking_disabled_answers_success_and_says_so(client, settings):
    settings.TRACKER_ENABLED = False
    response = client.get(TRACK, {"labels": "a"})
    assert (response.status_code, response["X-Tracker"]) == (200, "disabled")
    settings.TRACKER_ENABLED = True
    assert live("a") == {}


def test_a_failing_cache_is_a_503_not_a_500(client, settings):
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "127.0.0.1:1",  # nothing listens there
        },
    }
    settings.TRACKER_CACHE_ALIAS = "down"
    assert client.get(TRACK, {"labels": "a"}).status_code == 503
    settings.TRACKER_RATE_LIMIT = None
    response = client.post(TRACK, "a", content_type="text/plain")
    assert response.status_code == 503
    assert "unavailable" in error_of(response)


# --- track/: the cheap path --------------------------------------------------


class Untouchable:
    """Stands for request.session and request.user: any use fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"track/ touched .{name}")


@pytest.mark.django_db
@pytest.mark.parametrize("unique", ["objects", "all"])
def test_track_reads_no_session_no_user_no_database(
    rf, settings, django_assert_num_queries, unique
):
    settings.TRACKER_UNIQUE_VISITORS = unique
    requests = [
        rf.get(TRACK, {"labels": "a|b:c:d"}),
        rf.post(TRACK, "a", content_type="text/plain"),
        rf.post(TRACK, {"object": object_token(Article(pk=1))}),
        rf.get(TRACK, {"labels": "bad||"}),
    ]
    for request in requests:
        request.session = Untouchable()
        request.user = Untouchable()
        with django_assert_num_queries(0):
            assert track(request).status_code in (200, 204, 400)


def test_through_the_full_stack_the_session_stays_untouched(client):
    response = client.get(TRACK, {"labels": "a"})
    request = response.wsgi_request
    assert request.session.accessed is False
    assert request.user._wrapped is empty  # the lazy user was never loaded
    assert "Cookie" not in response.get("Vary", "")


def test_the_middleware_answers_before_the_rest_of_the_stack(client, settings):
    settings.MIDDLEWARE = ["tracker.middleware.TrackerMiddleware", *settings.MIDDLEWARE]
    for path in (TRACK, "/track/"):
        response = client.get(path, {"labels": "a"})
        assert (response.status_code, response.content) == (200, b"ok")
        assert not hasattr(response.wsgi_request, "session")  # the stack never ran
    response = client.post(TRACK, "a||", content_type="text/plain")
    assert response.status_code == 400
    assert live("a") == {Counter("a"): 2}
    # Anything else goes through the whole stack.
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert hasattr(response.wsgi_request, "session")
    assert client.get("/nowhere/").status_code == 404


def test_the_middleware_alone(rf):
    middleware = TrackerMiddleware(lambda request: pytest.fail("passed on"))
    assert middleware(rf.get("/tracker/track/?labels=a")).status_code == 200
    passed = TrackerMiddleware(lambda request: "next")
    assert passed(rf.get("/tracker/get_stats/")) == "next"
    assert passed(rf.get("/tracker/track/extra")) == "next"


# --- get_stats/ --------------------------------------------------------------


@pytest.fixture
def public(settings):
    settings.TRACKER_STATS_ACCESS = "public"


def stats(client, query, **params):
    response = client.get(STATS, {"dom_ids": query, **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def add_row(day, label, category, dom_id, count):
    counter = Counter(label, category, dom_id)
    Statistic.objects.create(
        day=day,
        label=label,
        category=category,
        dom_id=dom_id,
        counter=count,
        digest=row_digest(day, counter),
    )


@pytest.mark.django_db
def test_get_stats_is_for_staff_by_default(client, admin_client):
    Tracker().incr_labels("a:c:link1")
    response = client.get(STATS, {"dom_ids": "link1"})
    assert response.status_code == 403
    assert "TRACKER_STATS_ACCESS" in error_of(response)
    response = admin_client.get(STATS, {"dom_ids": "link1"})
    assert response.json() == [["link1", 1, "a"]]


@pytest.mark.django_db
def test_get_stats_public(client, public):
    Tracker().incr_labels("tracked-links-link1:links:link1")
    assert stats(client, "link1|link2|") == [["link1", 1, "tracked-links-link1"]]


@pytest.mark.django_db
def test_get_stats_is_live_across_folds(client, public, cache_backend):
    tracker = Tracker()
    tracker.incr_labels("a:links:link1|b:other:link2")
    tracker.incr_labels("a:links:link1")
    assert stats(client, "link1|link2") == [["link1", 2, "a"], ["link2", 1, "b"]]
    fold()
    assert stats(client, "link1|link2") == [["link1", 2, "a"], ["link2", 1, "b"]]
    tracker.incr_labels("a:links:link1")
    assert stats(client, "link1|link2") == [["link1", 3, "a"], ["link2", 1, "b"]]
    fold()
    fold()
    assert stats(client, "link1|link2") == [["link1", 3, "a"], ["link2", 1, "b"]]


@pytest.mark.django_db
def test_get_stats_sums_categories_per_label(client, public):
    Tracker().incr_labels("a:x:link1|a:y:link1|a::link1|b:x:link1")
    Tracker().incr_labels("a:x:link1")
    assert stats(client, "link1") == [["link1", 4, "a"], ["link1", 1, "b"]]


@pytest.mark.django_db
def test_get_stats_counters_beyond_the_live_index_show_once_folded(client, public):
    labels = "|".join(f"l{n}:c:link1" for n in range(6))  # more than 4 per dom id
    Tracker().incr_labels(labels)
    assert sum(row[1] for row in stats(client, "link1")) >= 4
    fold()
    Tracker().incr_labels(labels)
    assert sum(row[1] for row in stats(client, "link1")) == 12


@pytest.mark.django_db
def test_get_stats_days_and_day(client, public):
    today = local_today()
    yesterday = today - datetime.timedelta(days=1)
    old = today - datetime.timedelta(days=10)
    add_row(yesterday, "a", "", "link1", 5)
    add_row(old, "a", "", "link1", 100)
    add_row(old, "b", "", "link2", 7)
    Tracker().incr_labels("a::link1")
    assert stats(client, "link1|link2") == [["link1", 1, "a"]]
    assert stats(client, "link1|link2", days=2) == [["link1", 6, "a"]]
    assert stats(client, "link1|link2", days=11) == [
        ["link1", 106, "a"],
        ["link2", 7, "b"],
    ]
    assert stats(client, "link1|link2", day=yesterday.isoformat()) == [
        ["link1", 5, "a"]
    ]
    assert stats(client, "link2", day=old.isoformat()) == [["link2", 7, "b"]]
    assert stats(client, "link2", day="2001-01-01") == []


@pytest.mark.django_db
def test_get_stats_trailing_pipe_duplicates_and_unknown_ids(client, public):
    Tracker().incr_labels("a::link2|b::link1")
    assert stats(client, "link2|nothing|link1|link2||") == [
        ["link2", 1, "a"],
        ["link1", 1, "b"],
    ]
    assert stats(client, "unknown") == []
    assert stats(client, "") == []


@pytest.mark.django_db
def test_get_stats_labels_are_json_data(client, public):
    label = "</script><script>alert(1)</script>&"
    Tracker().incr_labels(f"{label}::link1")
    response = client.get(STATS, {"dom_ids": "link1"})
    assert b"<" not in response.content
    assert b">" not in response.content
    assert response.json() == [["link1", 1, label]]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Missing dom_ids"),
        ({"dom_ids": "a b"}, "whitespace"),
        ({"dom_ids": "a", "day": "yesterday"}, "day must be"),
        ({"dom_ids": "a", "day": "2024-02-30"}, "day must be"),
        ({"dom_ids": "a", "day": "20240101"}, "day must be"),
        ({"dom_ids": "a", "days": "0"}, "days must be"),
        ({"dom_ids": "a", "days": "367"}, "days must be"),
        ({"dom_ids": "a", "days": "-1"}, "days must be"),
        ({"dom_ids": "a", "days": "１"}, "days must be"),
        ({"dom_ids": "a", "days": "2", "day": "2024-01-01"}, "not both"),
    ],
)
def test_get_stats_bad_queries_are_a_400(client, public, params, message):
    response = client.get(STATS, params)
    assert response.status_code == 400
    assert message in error_of(response)


@pytest.mark.django_db
def test_get_stats_caps(client, public, settings):
    settings.TRACKER_STATS_MAX_DOM_IDS = 3
    settings.TRACKER_STATS_MAX_DAYS = 7
    response = client.get(STATS, {"dom_ids": "a|b|c|d"})
    assert response.status_code == 400
    assert "At most 3" in error_of(response)
    assert client.get(STATS, {"dom_ids": "a", "days": "8"}).status_code == 400
    assert client.get(STATS, {"dom_ids": "a|a|a|a|b|c|"}).status_code != 400


def test_get_stats_is_read_only(client, public):
    response = client.post(STATS, {"dom_ids": "a"})
    assert response.status_code == 405


@pytest.mark.django_db
def test_get_stats_for_100_dom_ids_costs_two_round_trips_and_one_query(
    client, public, cache_backend, django_assert_max_num_queries
):
    dom_ids = [f"link{n}" for n in range(100)]
    tracker = Tracker()
    tracker.incr_labels("|".join(f"a:c:{dom_id}" for dom_id in dom_ids[:20]))
    fold()
    for start in range(0, 100, 20):
        tracker.incr_labels("|".join(f"b:c:{d}" for d in dom_ids[start : start + 20]))
    servers = 2 if cache_backend == "memcached_pool" else 1
    with round_trips() as sent, django_assert_max_num_queries(2):
        rows = stats(client, "|".join(dom_ids))
    assert len(sent) <= 2 * servers
    assert sent or cache_backend == "default"  # LocMemCache has no sockets
    assert len(rows) == 120
    assert sum(row[1] for row in rows) == 120


@pytest.mark.django_db
def test_get_stats_survives_a_failing_cache(client, public, settings):
    add_row(local_today() - datetime.timedelta(days=1), "a", "", "link1", 5)
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "127.0.0.1:1",
        },
    }
    settings.TRACKER_CACHE_ALIAS = "down"
    assert stats(client, "link1", days=2) == [["link1", 5, "a"]]


class TrackerRouter:
    """Sends the tracker's models to one database alias."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def db_for_read(self, model, **hints):
        return self.alias if model._meta.app_label == "tracker" else None

    db_for_write = db_for_read


@pytest.mark.django_db(databases="__all__")
def test_report_and_get_stats_on_each_database(
    client, admin_client, settings, public, db_alias
):
    settings.DATABASE_ROUTERS = [TrackerRouter(db_alias)]
    add_row(local_today() - datetime.timedelta(days=1), "a", "", "link1", 5)
    Tracker().incr_labels("a::link1|b::link2")
    response = admin_client.post(REPORT)
    assert response.json()["rows_created"] == 2
    assert Statistic.objects.using(db_alias).count() == 3
    Tracker().incr_labels("a::link1")
    assert stats(client, "link1|link2", days=2) == [
        ["link1", 7, "a"],
        ["link2", 1, "b"],
    ]


# --- report/ -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_report_is_post_only(admin_client, method):
    response = getattr(admin_client, method)(REPORT)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.django_db
def test_report_refuses_anonymous_and_non_staff(client, django_user_model):
    assert client.post(REPORT).status_code == 403
    user = django_user_model.objects.create_user("someone", password="x")
    client.force_login(user)
    response = client.post(REPORT)
    assert response.status_code == 403
    assert "TRACKER_REPORT_TOKEN" in error_of(response)


@pytest.mark.django_db
def test_report_for_staff_folds_and_answers_the_summary(admin_client):
    Tracker().incr_labels("a|b")
    response = admin_client.post(REPORT)
    assert response.status_code == 200
    summary = response.json()
    assert summary["increments_moved"] == 2
    assert summary["rows_created"] == 2
    assert local_today().isoformat() in summary["days"]
    assert Statistic.objects.count() == 2


@pytest.mark.django_db
def test_report_with_a_session_is_csrf_protected(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(REPORT)
    assert response.status_code == 403
    assert "CSRF" in error_of(response)
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    assert client.post(REPORT, HTTP_X_CSRFTOKEN=secret).status_code == 200
    assert client.post(REPORT, {"csrfmiddlewaretoken": secret}).status_code == 200


@pytest.mark.django_db
def test_report_with_the_bearer_token(settings):
    client = Client(enforce_csrf_checks=True)  # a token needs no CSRF token
    settings.TRACKER_REPORT_TOKEN = "s3cret-token"
    Tracker().incr_labels("a")
    response = client.post(REPORT, HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    assert response.json()["increments_moved"] == 1
    for header in ("Bearer wrong", "Bearer ", "bearer s3cret-token-x", "Bearer"):
        response = client.post(REPORT, HTTP_AUTHORIZATION=header)
        assert response.status_code == 403, header


@pytest.mark.django_db
def test_report_token_is_disabled_when_empty(settings, admin_client):
    settings.TRACKER_REPORT_TOKEN = ""
    client = Client()
    assert client.post(REPORT, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    # A wrong bearer token is refused even with a staff session.
    assert admin_client.post(REPORT, HTTP_AUTHORIZATION="Bearer x").status_code == 403


@pytest.mark.django_db
def test_report_answers_503_when_the_fold_fails(admin_client, monkeypatch):
    def failing_fold():
        raise FoldError("Fold stopped: database 'default' failed (boom).")

    monkeypatch.setattr("tracker.views.fold", failing_fold)
    response = admin_client.post(REPORT)
    assert response.status_code == 503
    assert "boom" in error_of(response)


# --- template tags -----------------------------------------------------------


def test_tracker_script_tag():
    html = Template("{% load tracker_tags %}{% tracker_script %}").render(Context())
    assert re.fullmatch(
        r'<script src="/static/tracker/tracker\.js" data-track-url="/tracker/track/" '
        r'data-stats-url="/tracker/get_stats/" data-counts-url="/tracker/counts/" '
        r"defer></script>",
        html,
    )


def test_tracker_object_tag():
    template = Template(
        "{% load tracker_tags %}{% tracker_object obj %}{% tracker_object obj 'dl' %}"
        "{% tracker_object missing %}{% tracker_object unsaved %}"
    )
    html = template.render(Context({"obj": Article(pk=9), "unsaved": Article()}))
    tokens = re.findall(r'<span hidden data-tracker-object="([^"]+)"></span>', html)
    assert len(tokens) == 2
    assert read_object_token(tokens[0]) == Counter(
        "view", model="testapp.article", object_id="9"
    )
    assert read_object_token(tokens[1]).label == "dl"

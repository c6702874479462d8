"""The demo project as a newcomer starts it: ``manage.py rundemo``, no browser."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.browser import demo_server


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("demo")) as base:
        yield base


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize(
    ("path", "strict_csp"),
    [
        ("/", True),
        ("/links/", True),
        ("/articles/", True),
        ("/articles/1/", True),
        ("/jquery/", False),  # the original's snippets are inline scripts
        ("/admin/login/", False),
    ],
)
def test_every_page_answers(demo, path, strict_csp):
    status, headers, body = fetch(demo + path)
    assert status == 200
    assert ("script-src 'self'" in headers.get("Content-Security-Policy", "")) is (
        strict_csp
    )
    if path != "/admin/login/":
        assert b'data-track-url="/tracker/track/"' in body
        assert b"<script>" not in body or path == "/jquery/"


def test_the_jquery_page_keeps_the_originals_snippet(demo):
    _, _, body = fetch(demo + "/jquery/")
    page = body.decode()
    assert "for(stat in data)\u00a0{" in page  # the NBSP of the README, not "Â"
    assert "Â" not in page.split("-->", 1)[1]
    assert "/static/admin/js/vendor/jquery/jquery.js" in page
    assert "googleapis" not in page.split("-->", 1)[1]


def test_the_originals_root_urls(demo):
    referer = {"Referer": demo + "/jquery/"}
    status, headers, body = fetch(
        demo + "/track/?labels=tracked-links-link9:links:link9", **referer
    )
    assert (status, body) == (200, b"ok")
    status, headers, body = fetch(demo + "/get_stats/?dom_ids=link9|")
    assert status == 200
    assert json.loads(body) == [["link9", 1, "tracked-links-link9"]]
    # A GET to report/ is refused: folding is a POST.
    assert fetch(demo + "/report/")[0] == 405
    # The demo checks Origin/Referer on beacons.
    assert fetch(demo + "/track/?labels=x")[0] == 403


def test_pages_survive_a_cache_that_is_down(tmp_path):
    """Counting and live counts fail silently: the pages still answer."""
    with demo_server(tmp_path, TRACKER_DEMO_MEMCACHED="127.0.0.1:1") as base:
        for path in ("/", "/links/", "/articles/", "/articles/1/"):
            status, _, _ = fetch(base + path)
            assert status == 200, path
        status, _, body = fetch(base + "/tracker/track/?labels=x", Referer=base + "/")
        assert status == 503
        assert b"unavailable" in body

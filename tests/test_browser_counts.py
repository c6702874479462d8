"""The demo's article page in headless Chromium: tags, widget and live counters.

End to end: tracker.js counts the view from the page's signed token, then its
live counters poll the real counts/ endpoint and show the new counts.
"""

from __future__ import annotations

import pytest

from tests.browser import chromium, demo_server, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("demo-counts")) as base:
        yield base


def test_live_counters_follow_the_views(demo):
    with chromium() as browser:
        first = browser.new_context(base_url=demo).new_page()
        problems: list[str] = []
        first.on("pageerror", lambda error: problems.append(str(error)))
        first.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} {response.url}")
                if response.status >= 400 and "favicon" not in response.url
                else None
            ),
        )
        first.goto("/articles/2/")
        # Rendered by the tags before tracker.js counted this visit.
        assert first.text_content("#stat-total") == "0"
        assert first.locator(".tracker-widget").count() == 1
        # The beacon counts the view; the live counters (every 5 s) show it.
        first.wait_for_function(
            "() => document.querySelector('#live-views .tracker-live')"
            ".textContent === '1'",
            timeout=20_000,
        )
        assert first.text_content("#live-visitors .tracker-live") == "1"
        # Another visit from the same browser and address: a view, no new visitor.
        other = browser.new_context(base_url=demo).new_page()
        other.goto("/articles/2/")
        first.wait_for_function(
            "() => document.querySelector('#live-views .tracker-live')"
            ".textContent === '2'",
            timeout=20_000,
        )
        assert first.text_content("#live-visitors .tracker-live") == "1"
        assert other.text_content("#stat-total") in ("1", "2")
        assert problems == []

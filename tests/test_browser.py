"""The demo in real headless Chromium: beacons, heat map, fold, jQuery, live counts."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import chromium, demo_server, eventually, require_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("demo")) as base:
        yield base


@pytest.fixture(scope="module")
def browser(demo):
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, demo):
    """A fresh browser context; any console error or CSP violation fails the test."""
    context = browser.new_context(base_url=demo)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    yield page
    context.close()
    assert problems == []


def stats(page, *dom_ids: str) -> dict[str, int]:
    """Counts by dom id, read through tracker.js."""
    found = page.evaluate("ids => tracker.stats(ids)", list(dom_ids))
    return {dom_id: entry["count"] for dom_id, entry in found.items()}


def log_in(page, next_path: str) -> None:
    page.goto(f"/admin/login/?next={next_path}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_path}")


def background(page, selector: str) -> tuple[int, ...]:
    colour = page.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")
    return tuple(int(part) for part in re.findall(r"\d+", colour)[:3])


def test_tracked_links_heat_map_and_fold(page):
    page.goto("/links/")
    before = stats(page, "link1", "link2")
    for _ in range(3):
        page.click("#link1")
    page.click("#link2")
    expected = {
        "link1": before.get("link1", 0) + 3,
        "link2": before.get("link2", 0) + 1,
    }
    eventually(lambda: stats(page, "link1", "link2") == expected)

    # Links added after the page loaded are tracked too.
    page.click("#add-link")
    page.click("#link5")
    eventually(lambda: stats(page, "link5") == {"link5": 1})

    page.click("#show-heatmap")
    page.wait_for_selector("#link3[data-tracker-heat]")
    counts = {
        link: int(page.get_attribute(f"#{link}", "data-tracker-count"))
        for link in ("link1", "link2", "link3", "link4", "link5")
    }
    assert counts == {**expected, "link3": 0, "link4": 0, "link5": 1}
    hottest = max(counts, key=counts.get)
    assert page.get_attribute(f"#{hottest}", "data-tracker-heat") == "1.00"
    assert page.get_attribute("#link3", "data-tracker-heat") == "0.00"
    red, _, blue = background(page, f"#{hottest}")
    assert red > blue  # hot
    red, _, blue = background(page, "#link3")
    assert blue > red  # cold
    link2_heat = float(page.get_attribute("#link2", "data-tracker-heat"))
    assert link2_heat == pytest.approx(counts["link2"] / counts[hottest], abs=0.01)
    times = "time" if expected["link1"] == 1 else "times"
    assert page.text_content("#link1 .tracker-count") == (
        f"clicked {expected['link1']} {times}"
    )
    assert page.text_content("#link3 .tracker-count") == "clicked 0 times"

    # Fold as staff with the demo's button, then count on: nothing is lost
    # or counted twice across the fold.
    log_in(page, "/links/")
    page.click("form[data-demo-fold] button")
    summary = page.wait_for_selector("[data-demo-fold-result]:has-text('Folded')")
    assert re.match(r"Folded \d+ increment", summary.text_content())
    assert stats(page, "link1", "link2") == expected
    page.click("#link1")
    expected["link1"] += 1
    eventually(lambda: stats(page, "link1", "link2") == expected)


def test_the_originals_jquery_snippets_run_unchanged(page):
    with page.expect_response(lambda r: "user_connected" in r.url) as loaded:
        page.goto("/jquery/")  # runs track('user_connected|user_clicked_button')
    assert (loaded.value.status, loaded.value.text()) == (200, "ok")
    before = page.request.get("/get_stats/?dom_ids=link1|link2|link3|link4|")
    counts = {row[0]: row[1] for row in before.json()}
    for link, clicks in (("link1", 2), ("link2", 1)):
        for _ in range(clicks):
            with page.expect_response(lambda r: "/track/?labels=" in r.url) as hit:
                page.click(f"#{link}")
            assert hit.value.status == 200
            assert hit.value.text() == "ok"
        counts[link] = counts.get(link, 0) + clicks
    with page.expect_response(lambda r: "/get_stats/" in r.url) as answer:
        page.click("#get-stats")
    assert answer.value.headers["content-type"] == "application/json"
    for link in ("link1", "link2"):
        page.wait_for_function(
            "([id, text]) => document.getElementById(id).textContent === text",
            arg=[link, f"clicked {counts[link]} time."],
        )
    # Links never clicked by any test keep their text.
    assert page.text_content("#link3") == "Test link 3"
    assert page.text_content("#link4") == "Test link 4"
    # The demo checks Origin/Referer: a request from elsewhere is refused.
    response = page.request.get("/track/?labels=user_connected")
    assert response.status == 403


def views_on_list(page, pk: int) -> int:
    page.goto("/articles/")
    text = page.text_content(f".views[data-article='{pk}']")
    return int(text.split()[0])


def test_article_views_are_counted_once_per_page(page):
    first = views_on_list(page, 1)
    page.goto("/articles/1/")
    token = page.get_attribute("[data-tracker-object]", "data-tracker-object")
    assert token
    eventually(lambda: views_on_list(page, 1) == first + 1)
    page.goto("/articles/1/")
    page.goto("/articles/2/")
    eventually(lambda: views_on_list(page, 1) == first + 2)


def test_live_counters_poll_the_counts_url(page):
    """Against a stubbed counts/ route: tracker.js's side of its contract."""
    asked: list[dict[str, list[str]]] = []

    def answer(route):
        query = parse_qs(urlsplit(route.request.url).query)
        asked.append(query)
        tokens = query["objects"][0].split("|")
        counts = {
            token: {"count": 1234 + n, "uniques": 3 + n}
            for n, token in enumerate(tokens)
        }
        route.fulfill(
            status=200,
            content_type="application/json",
            body=json.dumps({"counts": counts}),
        )

    page.route("**/tracker/counts/?*", answer)
    page.goto("/articles/1/")
    token = page.get_attribute("[data-tracker-object]", "data-tracker-object")
    page.evaluate(
        """token => {
            for (const [id, field, format] of [
                ["live-uniques", "uniques", ""],
                ["live-count", "count", "compact"],
            ]) {
                const span = document.createElement("span");
                span.id = id;
                span.textContent = "…";
                span.dataset.trackerLive = token;
                span.dataset.trackerInterval = "1";
                span.dataset.trackerPeriod = "today";
                span.dataset.trackerField = field;
                if (format) span.dataset.trackerFormat = format;
                document.body.appendChild(span);
            }
            tracker.live();
        }""",
        token,
    )
    page.wait_for_function(
        "() => document.getElementById('live-uniques').textContent === '3'"
    )
    assert page.text_content("#live-count") == "1.2K"
    assert asked[0]["objects"] == [token]
    assert asked[0]["period"] == ["today"]


def test_live_counters_against_the_real_counts_url(page):
    first = views_on_list(page, 3)
    page.goto("/articles/3/")
    page.goto("/articles/3/")
    token = page.get_attribute("[data-tracker-object]", "data-tracker-object")
    expected = first + 2  # two page loads, each one view beacon
    page.evaluate(
        """token => {
            const span = document.createElement("span");
            span.id = "injected-live-count";
            span.dataset.trackerLive = token;
            span.dataset.trackerInterval = "1";
            span.dataset.trackerPeriod = "today";
            document.body.appendChild(span);
            tracker.live();
        }""",
        token,
    )
    page.wait_for_function(
        "n => document.getElementById('injected-live-count').textContent === String(n)",
        arg=expected,
    )
    assert page.get_attribute("#injected-live-count", "data-tracker-value") == str(
        expected
    )

"""The admin's changelist and chart in real headless Chromium, with screenshots.

Screenshots go to ``tests/artifacts/`` (not in git). The chart's numbers are
read back from the SVG's data attributes and compared with the rows.
"""

from __future__ import annotations

import contextlib
import datetime
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from tests.browser import chromium, require_chromium
from tests.testapp.models import Article
from tracker.counters import local_today, object_counter
from tracker.keys import Counter, row_digest
from tracker.models import Statistic

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DAY = datetime.timedelta(days=1)
LABELS = [Counter("signup"), Counter("buy", "shop", "buy-btn"), Counter("search")]


def history(days: int) -> None:
    """Rows over ``days`` past days: three labels and two articles."""
    articles = [Article.objects.create(title=f"Article {n}") for n in (1, 2)]
    content_type = ContentType.objects.get_for_model(Article)
    rows = []
    counters = [*LABELS, *(object_counter(article) for article in articles)]
    for back in range(1, days + 1):
        day = local_today() - back * DAY
        for rank, counter in enumerate(counters):
            count = (back * 7 + rank * 13) % 50 + 5 * (len(counters) - rank)
            rows.append(
                Statistic(
                    day=day,
                    label=counter.label,
                    category=counter.category,
                    dom_id=counter.dom_id,
                    content_type=content_type if counter.model else None,
                    object_id=counter.object_id,
                    counter=count,
                    uniques=count // 2 + 1,
                    digest=row_digest(day, counter),
                )
            )
    Statistic.objects.bulk_create(rows)


def per_day(**filters) -> dict[str, tuple[int, int]]:
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in Statistic.objects.filter(**filters):
        found[row.day.isoformat()][0] += row.counter
        found[row.day.isoformat()][1] += row.uniques
    return {day: tuple(values) for day, values in found.items()}


@contextlib.contextmanager
def admin_page(base_url: str) -> Iterator[Any]:
    """A Chromium page; a script error or a failed request fails the test.

    Opened only once the database is set up: Django refuses ORM calls while
    Playwright's event loop runs in the same thread.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        context = browser.new_context(
            base_url=base_url, viewport={"width": 1600, "height": 1000}
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        # The browser asks for /favicon.ico on its own; the test URLs have none.
        page.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} {response.url}")
                if response.status >= 400 and "favicon" not in response.url
                else None
            ),
        )
        yield page
        context.close()
        assert problems == []


def log_in(page, next_path: str) -> None:
    page.goto(f"/admin/login/?next={next_path}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_path}")


def drawn_bars(page) -> dict[str, tuple[int, int]]:
    bars = page.eval_on_selector_all(
        "#tracker-chart rect[data-day]",
        "rects => rects.map("
        "r => [r.dataset.day, +r.dataset.count, +r.dataset.uniques])",
    )
    return {day: (count, uniques) for day, count, uniques in bars}


def test_changelist_and_chart_show_the_rows(admin_user, live_server):
    require_chromium()
    history(40)
    # Everything the assertions need, read before the browser runs.
    total = sum(Statistic.objects.values_list("counter", flat=True))
    since = local_today() - 10 * DAY
    until = local_today() - 3 * DAY
    in_range = Statistic.objects.filter(day__range=(since, until)).count()
    last_30 = per_day(day__gte=local_today() - 29 * DAY)
    signup = per_day(label="signup", day__range=(since, until))
    with admin_page(live_server.url) as page:
        check_pages(page, total, since, until, in_range, last_30, signup)


def check_pages(page, total, since, until, in_range, last_30, signup):
    log_in(page, "/admin/tracker/statistic/")
    totals = page.locator(".tracker-totals")
    assert int(totals.get_attribute("data-count")) == total
    assert int(totals.get_attribute("data-rows")) == 200
    page.screenshot(path=str(ARTIFACTS / "admin_changelist.png"), full_page=True)

    # The day range filter: two date inputs.
    page.fill(".tracker-day-range input[name=day__gte]", since.isoformat())
    page.fill(".tracker-day-range input[name=day__lte]", until.isoformat())
    page.click(".tracker-day-range button[type=submit]")
    page.wait_for_url("**day__gte=*")
    assert int(page.locator(".tracker-totals").get_attribute("data-rows")) == in_range
    page.screenshot(path=str(ARTIFACTS / "admin_changelist_range.png"), full_page=True)

    # The chart of all rows: the last 30 days, today included (no row yet).
    page.goto("/admin/tracker/statistic/")
    page.click("text=Chart")
    page.wait_for_selector("#tracker-chart")
    bars = drawn_bars(page)
    assert len(bars) == 30
    for day, values in bars.items():
        assert values == last_30.get(day, (0, 0)), day
    svg = page.locator("#tracker-chart")
    assert int(svg.get_attribute("data-total-count")) == sum(
        count for count, _ in last_30.values()
    )
    assert page.locator("#tracker-top-labels tbody tr").count() == 3
    assert page.locator("#tracker-top-objects tbody tr").count() == 2
    assert "Article 1" in page.text_content("#tracker-top-objects")
    page.screenshot(path=str(ARTIFACTS / "admin_chart.png"), full_page=True)

    # A chosen label over a chosen range, through the page's own form and links.
    page.fill(".tracker-day-range input[name=day__gte]", since.isoformat())
    page.fill(".tracker-day-range input[name=day__lte]", until.isoformat())
    page.click(".tracker-day-range button[type=submit]")
    page.wait_for_url(f"**day__gte={since.isoformat()}*")
    page.click("#tracker-top-labels a:text-is('signup')")
    page.wait_for_url("**label=signup*")
    bars = drawn_bars(page)
    assert len(bars) == (until - since).days + 1
    assert bars == signup
    page.screenshot(path=str(ARTIFACTS / "admin_chart_signup.png"), full_page=True)

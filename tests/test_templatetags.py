"""Template tags for counts: periods, uniques, first/last seen, live, widget."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.template import Context, Template, TemplateSyntaxError

from tests.testapp.models import Article, Page, TrackedArticle
from tracker.counters import Tracker, local_today, object_counter
from tracker.keys import Counter, row_digest
from tracker.models import Statistic
from tracker.signing import read_object_token
from tracker.templatetags.tracker_tags import compact_count

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def render(source, **context):
    return Template("{% load tracker_tags %}" + source).render(Context(context))


def add_row(day, counter, count, uniques=0):
    content_type = None
    if counter.model:
        content_type = ContentType.objects.get_by_natural_key(*counter.model.split("."))
    Statistic.objects.create(
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
def article():
    article = Article.objects.create(title="Hello")
    ContentType.objects.get_for_model(Article)  # cached before counting queries
    add_row(local_today() - 100 * DAY, object_counter(article), 1000, 600)
    Tracker().incr_object(article, count=3)
    return article


def test_counts_for_each_period(cache_backend, article):
    out = render(
        '{% tracker_count article %}/{% tracker_count article "today" %}/'
        '{% tracker_count article "7d" %}/'
        '{% tracker_count obj=article period="week" %}',
        article=article,
    )
    assert out == "1003/3/3/3"


def test_the_object_is_found_in_the_context(article):
    for name in ("object", "page", "article", "post", "item"):
        assert render("{% tracker_count %}", **{name: article}) == "1003"
    # A paginator page or a missing object is no object: nothing counted.
    assert render("{% tracker_count %}", page=[1, 2], other=article) == "0"
    assert render('{% tracker_count period="today" %}') == "0"
    assert render("{% tracker_count none %}", none=None) == "0"
    assert render("{% tracker_count unsaved %}", unsaved=Article()) == "0"


def test_labels_and_their_categories(cache_backend):
    add_row(local_today() - DAY, Counter("signup"), 5)
    add_row(local_today() - DAY, Counter("buy", "shop", "btn"), 7)
    Tracker().incr_labels("signup|buy:shop:btn")
    out = render(
        '{% tracker_count "signup" %} {% tracker_count "buy:shop:btn" "today" %} '
        '{% tracker_count "buy" %}'
    )
    assert out == "6 1 0"


def test_a_bad_label_or_period_is_a_template_error(article):
    with pytest.raises(TemplateSyntaxError, match="one model instance or one label"):
        render('{% tracker_count "a|b" %}')
    with pytest.raises(TemplateSyntaxError, match="character"):
        render('{% tracker_count "bad\u200blabel" %}')
    with pytest.raises(TemplateSyntaxError, match="period"):
        render('{% tracker_count article "fortnight" %}', article=article)
    with pytest.raises(TemplateSyntaxError):
        render("{% tracker_count 42 %}")


def test_uniques_and_first_and_last_seen(cache_backend, rf, article):
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_USER_AGENT="x")
    Tracker().incr_object(article, request=request)
    out = render(
        "{% tracker_uniques article %} {% tracker_uniques article 'today' %} "
        "{% tracker_first_seen article %} {% tracker_last_seen article %}",
        article=article,
    )
    first = local_today() - 100 * DAY
    assert out == f"601 1 {first.isoformat()} {local_today().isoformat()}"
    out = render(
        "{% tracker_first_seen article as first %}{{ first|date:'Y/m/d' }}",
        article=article,
    )
    assert out == f"{first:%Y/%m/%d}"
    never = Article.objects.create(title="Never")
    assert render("[{% tracker_first_seen never %}]", never=never) == "[]"


def test_a_page_of_tags_costs_one_query(article, django_assert_num_queries):
    source = (
        "{% tracker_count %} {% tracker_count period='today' %} "
        "{% tracker_count period='week' %} {% tracker_count period='month' %} "
        "{% tracker_uniques %} {% tracker_first_seen %} {% tracker_last_seen %} "
        "{% tracker_live %}{% tracker_live field='uniques' %}"
    )
    with django_assert_num_queries(1):
        render(source, object=article)


def test_a_tracked_instance_shares_its_summary(
    cache_backend, django_assert_num_queries
):
    article = TrackedArticle.objects.create(title="T")
    ContentType.objects.get_for_model(Article)
    article.count_view()
    with django_assert_num_queries(1):
        out = render(
            "{{ object.total_views }} {% tracker_count %} "
            "{% tracker_count period='week' %}",
            object=article,
        )
    assert out == "1 1 1"


def test_live_counter_element(cache_backend, article):
    out = render(
        '{% tracker_live article "week" interval=15 field="uniques" %}', article=article
    )
    token = re.search(r'data-tracker-live="([^"]+)"', out).group(1)
    assert read_object_token(token) == object_counter(article)
    assert 'data-tracker-period="week"' in out
    assert 'data-tracker-interval="15"' in out
    assert 'data-tracker-field="uniques"' in out
    assert out.endswith(">0</span>")
    out = render("{% tracker_live article %}", article=article)
    assert 'data-tracker-period="today"' in out
    assert 'data-tracker-interval="30"' in out
    assert 'data-tracker-value="3"' in out
    assert out.startswith('<span class="tracker-live"')


def test_live_counter_compact_and_labels(article):
    add_row(local_today() - DAY, object_counter(article), 5000)
    out = render('{% tracker_live article "total" format="compact" %}', article=article)
    assert 'data-tracker-format="compact"' in out
    assert ">6K</span>" in out
    assert 'data-tracker-value="6003"' in out
    # Labels have no signed token: nothing to refresh.
    assert render('{% tracker_live "signup" %}') == ""
    assert render("{% tracker_live %}") == ""


@pytest.mark.parametrize(
    "arguments", ['field="views"', "interval=0", 'interval="soon"', "interval=-5"]
)
def test_live_counter_refuses_bad_arguments(article, arguments):
    with pytest.raises(TemplateSyntaxError):
        render("{% tracker_live article " + arguments + " %}", article=article)


def test_live_counter_token_counts_another_label(article):
    out = render('{% tracker_live article label="download" %}', article=article)
    token = re.search(r'data-tracker-live="([^"]+)"', out).group(1)
    assert read_object_token(token) == object_counter(article, "download")


def test_widget(cache_backend, article, django_assert_num_queries):
    with django_assert_num_queries(2):  # the summary and the series
        out = render('{% tracker_widget article "7d" %}', article=article)
    assert 'class="tracker-widget"' in out
    assert 'data-tracker-stat="total">1K<' in out
    assert 'data-tracker-stat="uniques">600<' in out
    assert "data-tracker-live=" in out
    assert "Last 7 days" in out
    assert 'data-tracker-stat="period">3<' in out
    assert "<polyline points=" in out
    assert "tracker/widget.css" in out
    assert render("{% tracker_widget %}").strip() == ""


def test_widget_for_a_label():
    add_row(local_today() - 2 * DAY, Counter("signup"), 12)
    out = render('{% tracker_widget "signup" "month" %}')
    assert 'data-tracker-stat="total">12<' in out
    assert "data-tracker-live" not in out


def test_widget_escapes_and_uses_no_inline_script(article):
    out = render("{% tracker_widget article %}", article=article)
    assert "<script" not in out
    assert "style=" not in out


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1K"),
        (1234, "1.2K"),
        (1999, "1.9K"),
        (999_999, "999.9K"),
        (1_500_000, "1.5M"),
        (2_000_000_000, "2B"),
        (-1234, "-1.2K"),
        ("1234", "1.2K"),
        (Decimal("1500"), "1.5K"),
        (12.5, "12.5"),
        ("n/a", "n/a"),
        (None, None),
        (True, True),
    ],
)
def test_compact_count(value, shown):
    assert compact_count(value) == shown


def test_compact_count_in_a_template():
    assert render("{{ n|compact_count }}", n=1234) == "1.2K"


def test_text_primary_keys_work_in_tags(cache_backend):
    page = Page.objects.create(slug="a-b")
    Tracker().incr_object(page, count=2)
    assert render("{% tracker_count page %}", page=page) == "2"

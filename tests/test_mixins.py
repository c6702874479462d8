"""Counting views from the server: count_view() and TrackViewMixin."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.views.generic import DetailView, UpdateView

from tests.testapp.models import Article, Page, TrackedArticle
from tracker.mixins import TrackViewMixin, count_view
from tracker.models import Statistic
from tracker.views import TrackViewMixin as ReExported

pytestmark = pytest.mark.django_db


class ArticleDetail(TrackViewMixin, DetailView):
    model = TrackedArticle

    def render_to_response(self, context, **kwargs):
        # The count includes the view being rendered.
        return HttpResponse(str(self.object.total_views))


class PageDownload(TrackViewMixin, DetailView):
    model = Page
    tracker_label = "download"

    def render_to_response(self, context, **kwargs):
        return HttpResponse("ok")


class ArticleEdit(TrackViewMixin, UpdateView):
    model = Article
    fields = ["title"]
    success_url = "/"

    def render_to_response(self, context, **kwargs):
        return HttpResponse("form")


def visit(rf, view, method="get", address="10.0.0.1", **kwargs):
    request = getattr(rf, method)("/", REMOTE_ADDR=address, HTTP_USER_AGENT="Firefox")
    return view.as_view()(request, **kwargs)


def views_of(obj, label="view"):
    return Statistic.objects.for_object(obj, label).totals()


def test_detail_view_counts_each_get_before_rendering(cache_backend, rf):
    article = Article.objects.create(title="A")
    assert visit(rf, ArticleDetail, pk=article.pk).content == b"1"
    assert visit(rf, ArticleDetail, pk=article.pk, address="10.0.0.2").content == b"2"
    assert views_of(article) == (2, 2)
    assert TrackViewMixin is ReExported


def test_another_label_and_a_text_key(cache_backend, rf):
    page = Page.objects.create(slug="guide")
    visit(rf, PageDownload, pk="guide")
    assert views_of(page, "download").count == 1
    assert views_of(page).count == 0


def test_only_get_is_a_view(cache_backend, rf):
    article = Article.objects.create(title="A")
    visit(rf, ArticleEdit, "head", pk=article.pk)
    visit(rf, ArticleEdit, "post", pk=article.pk, data={"title": "B"})
    assert views_of(article).count == 0
    visit(rf, ArticleEdit, pk=article.pk)
    assert views_of(article).count == 1


def test_count_view_in_one_line(cache_backend, rf):
    article = Article.objects.create(title="A")
    request = rf.get("/", REMOTE_ADDR="10.0.0.3", HTTP_USER_AGENT="Firefox")
    assert count_view(article, request)
    assert count_view(article)  # no request: no distinct visitor
    assert views_of(article) == (2, 1)


def test_bots_and_do_not_track_are_not_counted(rf, settings):
    article = Article.objects.create(title="A")
    bot = rf.get("/", HTTP_USER_AGENT="Googlebot/2.1")
    assert not count_view(article, bot)
    dnt = rf.get("/", HTTP_USER_AGENT="Firefox", HTTP_DNT="1")
    assert not count_view(article, dnt)
    settings.TRACKER_RESPECT_DNT = False
    assert count_view(article, dnt)
    assert views_of(article).count == 1


def test_a_failing_cache_never_breaks_the_page(rf, settings):
    settings.TRACKER_CACHE_ALIAS = "default"
    settings.TRACKER_BACKEND = "tests.test_mixins.BrokenBackend"
    article = Article.objects.create(title="A")
    assert visit(rf, ArticleDetail, pk=article.pk).status_code == 200


class BrokenBackend:
    """A counter backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def increment(self, hit):
        raise ConnectionError("down")

    def day_salt(self, day):
        raise ConnectionError("down")

    def read_values(self, day, counters):
        raise ConnectionError("down")

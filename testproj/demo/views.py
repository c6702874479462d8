"""The demo's pages. Those without inline script run under a strict CSP."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from testproj.demo.models import Article
from tracker.counters import object_counter
from tracker.models import Statistic
from tracker.rankings import counter_totals

# No inline script or style anywhere: tracker.js is configured by data-
# attributes and colours the heat map through the CSSOM, which CSP allows.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def strict_csp(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve a page with :data:`STRICT_CSP`."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Security-Policy", STRICT_CSP)
        return response

    return wrapped


def view_counts(articles: Iterable[Article]) -> dict[int, int]:
    """Views of each article, today's not-yet-folded hits included, in one query.

    If the cache is down, the folded counts are shown (the failure is logged).
    """
    counters = {article.pk: object_counter(article) for article in articles}
    totals = counter_totals(Statistic.objects.all(), list(counters.values()), "total")
    return {pk: totals[counter].count for pk, counter in counters.items()}


@strict_csp
def index(request: HttpRequest) -> HttpResponse:
    """What the demo shows, and where."""
    return render(request, "demo/index.html")


@strict_csp
def links(request: HttpRequest) -> HttpResponse:
    """The original's tracked-links demo, on tracker.js, with a heat map."""
    return render(request, "demo/links.html")


def jquery_page(request: HttpRequest) -> HttpResponse:
    """The original README's jQuery snippets, verbatim (so: inline script)."""
    return render(request, "demo/jquery.html")


@strict_csp
def article_list(request: HttpRequest) -> HttpResponse:
    """Articles with their view counts."""
    articles = list(Article.objects.all())
    counts = view_counts(articles)
    for article in articles:
        article.views = counts[article.pk]
    return render(request, "demo/article_list.html", {"articles": articles})


@strict_csp
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One article; tracker.js counts the view from ``{% tracker_object %}``."""
    article = get_object_or_404(Article, pk=pk)
    return render(
        request,
        "demo/article_detail.html",
        {"article": article, "views": view_counts([article])[article.pk]},
    )

"""Counting a view from the server: ``count_view()`` and ``TrackViewMixin``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from tracker import guards
from tracker.counters import Tracker


def count_view(
    obj: models.Model, request: HttpRequest | None = None, label: str = "view"
) -> bool:
    """Count a view of ``obj`` (and, given ``request``, its distinct visitor).

    A request the ``track/`` endpoint would ignore (a bot's user agent, Do Not
    Track or Global Privacy Control, as the settings say) is not counted.
    Returns whether it counted; never raises for a failing cache.
    """
    if request is not None and guards.ignore_reason(request):
        return False
    return Tracker().incr_object(obj, label, request=request)


class TrackViewMixin:
    """For ``DetailView`` and friends: count a view of ``self.object`` on GET.

    ``class ArticleDetail(TrackViewMixin, DetailView)``. The count is taken in
    ``get_object()``, before the page renders, so the page shows it; set
    ``tracker_label`` to count something other than ``"view"``.
    """

    tracker_label = "view"
    request: HttpRequest

    def get_object(self, queryset: Any = None) -> Any:
        obj = super().get_object(queryset)  # type: ignore[misc]
        # HEAD and POST reach get_object() too; only a GET is a view, once.
        if self.request.method == "GET" and not getattr(self, "_tracker_counted", 0):
            self._tracker_counted = True
            count_view(obj, self.request, self.tracker_label)
        return obj

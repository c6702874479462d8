"""``TrackerMiddleware``: answer beacons before the rest of the middleware runs.

Optional. Placed first in ``MIDDLEWARE``, it hands requests for the ``track``
view straight to that view, so sessions, authentication, CSRF and messages
never run for a beacon. Every other request passes through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_urlconf, resolve

from tracker import views

# (urlconf, path) -> whether the path resolves to the track view. Bounded so
# that requests for random paths cannot grow it without limit.
_decisions: dict[tuple[Any, str], bool] = {}
_MAX_DECISIONS = 2048


def is_track_path(path: str) -> bool:
    """Whether ``path`` resolves to :func:`tracker.views.track`."""
    memo_key = (get_urlconf(), path)
    decision = _decisions.get(memo_key)
    if decision is None:
        try:
            decision = resolve(path).func is views.track
        except Resolver404:
            decision = False
        if len(_decisions) >= _MAX_DECISIONS:
            _decisions.clear()
        _decisions[memo_key] = decision
    return decision


class TrackerMiddleware:
    """Serve the track view(s) directly, skipping the rest of the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_track_path(request.path_info):
            return views.track(request)
        return self.get_response(request)


@receiver(setting_changed)
def _forget_decisions(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _decisions.clear()

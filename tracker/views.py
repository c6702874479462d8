"""HTTP endpoints: track/, get_stats/, report/ (issue 4) and counts/ (issue 5)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.core import signing
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import constant_time_compare
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from tracker import guards
from tracker.backends.base import RateLimited
from tracker.beacons import BadBeacon, counters_of_request
from tracker.conf import tracker_settings
from tracker.counters import Tracker, get_backend, local_today
from tracker.dom_stats import StatsQueryError, dom_id_stats, read_query
from tracker.exceptions import CounterLimitReached, FoldError, InvalidLabel
from tracker.keys import Counter
from tracker.reports import fold

logger = logging.getLogger(__name__)

# --- track/, get_stats/, report/ (issue 4) ---------------------------------


def _error(message: str, status: int, **details: Any) -> JsonResponse:
    response = JsonResponse({"error": message, **details}, status=status)
    add_never_cache_headers(response)
    return response


def _method_not_allowed(allowed: Sequence[str]) -> JsonResponse:
    response = _error(
        _("Method not allowed; use %(methods)s.") % {"methods": ", ".join(allowed)},
        405,
    )
    response["Allow"] = ", ".join(allowed)
    return response


# What add_never_cache_headers() gives a response without caching headers. It
# parses and rebuilds Cache-Control on each call (about 50 us, measured with
# bench/), so the beacon path, which answers every hit, sets the result directly.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


# (second, its HTTP date): the Expires header of every answer made in that
# second. Formatting a date costs more than the rest of the headers together.
_date_of_second: tuple[int, str] = (0, "")


def _http_date_now() -> str:
    global _date_of_second
    second = int(time.time())
    known, text = _date_of_second
    if known != second:
        text = http_date(second)
        _date_of_second = (second, text)
    return text


def _tracked(request: HttpRequest, note: str = "") -> HttpResponse:
    """Success: the original's ``ok`` for GET, 204 No Content for POST."""
    # Bytes and an explicit charset: Django would otherwise look the charset
    # up in the Content-Type with a regular expression to encode the body.
    if request.method == "GET":
        response = HttpResponse(
            b"ok", content_type="text/plain; charset=utf-8", charset="utf-8"
        )
    else:
        response = HttpResponse(status=204, charset="utf-8")
        del response["Content-Type"]
    if note:
        # Same status as a counted hit, so that no client retries; the header
        # tells a developer why nothing moved.
        response["X-Tracker"] = note
    response.headers["Expires"] = _http_date_now()
    response.headers["Cache-Control"] = NEVER_CACHE
    return response


# CSRF-exempt on purpose: beacons come from anonymous pages and carry no CSRF
# token (navigator.sendBeacon cannot even add a header). A forged beacon only
# adds a count, which gains an attacker nothing a direct request would not;
# the allow-list, the cap on new counters, the rate limit and the optional
# Origin check bound what any client can do. Nothing here reads the session
# or the user, and nothing touches the database.
@csrf_exempt
def track(request: HttpRequest) -> HttpResponse:
    """Count the labels, or the signed object, that a beacon carries."""
    if request.method not in ("GET", "POST"):
        return _method_not_allowed(["GET", "POST"])
    if tracker_settings.CHECK_ORIGIN and not guards.origin_allowed(request):
        return _error(
            _("The request's Origin or Referer is not one of this site's hosts."),
            403,
        )
    try:
        counters, with_visitor, create_limit = counters_of_request(request)
    except BadBeacon as error:
        return _error(str(error), error.status)
    except InvalidLabel as error:
        return _error(
            str(error),
            400,
            rule=error.rule,
            item=error.item,
            position=error.position,
        )
    except signing.BadSignature:
        return _error(_("The object token is invalid or was altered."), 400)
    reason = guards.ignore_reason(request)
    if reason:
        return _tracked(request, f"ignored; {reason}")
    return _count(request, counters, with_visitor, create_limit)


def _count(
    request: HttpRequest,
    counters: Sequence[Counter],
    with_visitor: bool,
    create_limit: int | None,
) -> HttpResponse:
    rate = guards.parse_rate(tracker_settings.RATE_LIMIT)
    limits: dict[str, Any] = {}
    retry_after = 1
    if rate is not None and tracker_settings.ENABLED:
        try:
            key, retry_after = guards.rate_key(
                request, get_backend(), local_today(), rate
            )
        except Exception as error:  # reading the day's salt from the cache
            if not tracker_settings.FAIL_SILENTLY:
                raise
            logger.warning("tracker: cache failed: %s", error, exc_info=True)
            return _error(_("Counting is unavailable right now."), 503)
        limits = {"rate_key": key, "rate_limit": rate.limit, "rate_window": rate.window}
    try:
        counted = Tracker().incr_counters(
            counters,
            request=request if with_visitor else None,
            create_limit=create_limit,
            **limits,
        )
    except RateLimited:
        response = _error(
            _("Too many requests; retry in %(seconds)d seconds.")
            % {"seconds": retry_after},
            429,
        )
        response["Retry-After"] = str(retry_after)
        return response
    except CounterLimitReached:
        return _error(
            _(
                "Today's cap on new counters (TRACKER_MAX_NEW_COUNTERS_PER_DAY) is "
                "reached: nothing was counted. Labels already counted today still "
                "count; new ones can be created tomorrow."
            ),
            403,
        )
    if counted:
        return _tracked(request)
    if not tracker_settings.ENABLED:
        return _tracked(request, "disabled")
    return _error(_("Counting is unavailable right now."), 503)


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def get_stats(request: HttpRequest) -> HttpResponse:
    """Live counts of the counters tied to dom ids: ``[[dom_id, count, label]]``."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(["GET", "HEAD"])
    if tracker_settings.STATS_ACCESS != "public" and not _is_staff(request):
        return _error(
            _("Only staff users may read these statistics (TRACKER_STATS_ACCESS)."),
            403,
        )
    try:
        dom_ids, first, last = read_query(request.GET)
    except (StatsQueryError, SuspiciousOperation) as error:
        return _error(str(error), 400)
    except InvalidLabel as error:
        return _error(str(error), 400, rule=error.rule, item=error.item)
    response = JsonResponse(dom_id_stats(dom_ids, first, last), safe=False)
    # Labels are data: escape what could close a <script> if someone inlines
    # the answer in a page. JSON parsers read the escapes back unchanged.
    response.content = (
        response.content.replace(b"<", b"\\u003c")
        .replace(b">", b"\\u003e")
        .replace(b"&", b"\\u0026")
    )
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, answering the reason of a failure instead of a page."""

    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def _report_refusal(request: HttpRequest) -> HttpResponse | None:
    """Why ``request`` may not fold (a 403), or None when it may."""
    scheme, _space, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer":
        token = tracker_settings.REPORT_TOKEN
        if token and constant_time_compare(given.strip(), token):
            return None
        return _error(_("The bearer token is not TRACKER_REPORT_TOKEN."), 403)
    if not _is_staff(request):
        return _error(
            _(
                "Only staff users, or a request with 'Authorization: Bearer "
                "<TRACKER_REPORT_TOKEN>', may fold."
            ),
            403,
        )
    # The view is CSRF-exempt for token callers only; a staff session is a
    # cookie the browser sends by itself, so it must pass Django's CSRF check.
    check = _CsrfCheck(lambda request: HttpResponse())
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        return _error(_("CSRF check failed: %(reason)s") % {"reason": reason}, 403)
    return None


@csrf_exempt  # bearer-token callers have no CSRF token; sessions are checked above
def report(request: HttpRequest) -> HttpResponse:
    """Fold the cache's counts into Statistic rows (POST, staff or bearer token)."""
    if request.method != "POST":
        return _method_not_allowed(["POST"])
    refusal = _report_refusal(request)
    if refusal is not None:
        return refusal
    try:
        summary = fold()
    except FoldError as error:
        return _error(str(error), 503)
    response = JsonResponse(summary.as_dict())
    add_never_cache_headers(response)
    return response


# --- counts/ and class-based view helpers (issue 5) -------------------------
# Written in their own modules and re-exported here, so that neither section
# of this file needs the other's imports.

from tracker.live import counts as counts  # noqa: E402
from tracker.mixins import TrackViewMixin as TrackViewMixin  # noqa: E402
from tracker.mixins import count_view as count_view  # noqa: E402

"""The ``counts/`` endpoint: live counts of signed objects for the page that shows them.

``GET counts/?objects=<token>|<token>&period=today`` answers
``{"counts": {"<token>": {"count": N, "uniques": U}}}``. It is public: a token
made by :func:`tracker.signing.object_token` is the page's permission to show
that object's counts, and no other. tracker.js polls it for the elements
``{% tracker_live %}`` renders.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from tracker.conf import tracker_settings
from tracker.keys import Counter
from tracker.models import Statistic
from tracker.periods import resolve_period
from tracker.rankings import counter_totals
from tracker.signing import read_object_token


class BadCountsQuery(ValueError):
    """The query string of a counts/ request cannot be answered (a 400)."""


def read_tokens(raw: str) -> dict[str, Counter]:
    """The counters named by ``token|token|...``; duplicates and empty items ignored."""
    tokens = [token.strip() for token in raw.split("|") if token.strip()]
    tokens = list(dict.fromkeys(tokens))
    if not tokens:
        raise BadCountsQuery(_("Give the objects to count as objects=<token>|<token>."))
    limit = tracker_settings.COUNTS_MAX_OBJECTS
    if len(tokens) > limit:
        raise BadCountsQuery(
            _("Too many objects: at most %(limit)d per request.") % {"limit": limit}
        )
    counters = {}
    for position, token in enumerate(tokens, start=1):
        try:
            counters[token] = read_object_token(token)
        except (signing.BadSignature, ValueError) as error:
            raise BadCountsQuery(
                _("Object %(position)d is not a valid token.") % {"position": position}
            ) from error
    return counters


def _answer(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    add_never_cache_headers(response)  # live numbers: never from a cache
    return response


def counts(request: HttpRequest) -> HttpResponse:
    """Live counts of the signed objects in ``objects`` over ``period``."""
    if request.method not in ("GET", "HEAD"):
        response = _answer({"error": _("Method not allowed; use GET.")}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    try:
        counters = read_tokens(request.GET.get("objects", ""))
        period = resolve_period(request.GET.get("period", "total"))
    except ValueError as error:
        return _answer({"error": str(error)}, status=400)
    found = counter_totals(Statistic.objects.all(), list(counters.values()), period)
    return _answer(
        {
            "counts": {
                token: dict(found[counter.row()]._asdict())
                for token, counter in counters.items()
            }
        }
    )

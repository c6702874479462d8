"""HTTP endpoints: track/, get_stats/, report/ (issue 4) and counts/ (issue 5)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

# --- track/, get_stats/, report/ (issue 4) ---------------------------------


def track(request: HttpRequest) -> HttpResponse:
    """Count the labels of a beacon (not implemented yet)."""
    return JsonResponse({"error": "not implemented"}, status=501)


def get_stats(request: HttpRequest) -> HttpResponse:
    """Live counts by dom id (not implemented yet)."""
    return JsonResponse({"error": "not implemented"}, status=501)


def report(request: HttpRequest) -> HttpResponse:
    """Fold the cache's counts into rows (not implemented yet)."""
    return JsonResponse({"error": "not implemented"}, status=501)


# --- counts/ and class-based view helpers (issue 5) -------------------------


def counts(request: HttpRequest) -> HttpResponse:
    """Counts of signed objects for live counters (not implemented yet)."""
    return JsonResponse({"error": "not implemented"}, status=501)

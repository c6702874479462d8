"""Template tags: ``{% load tracker_tags %}``."""

from __future__ import annotations

from django import template
from django.db import models
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from tracker.signing import object_token

register = template.Library()

# --- Script and beacons (issue 4): tracker_script, tracker_object -----------


@register.simple_tag
def tracker_script() -> SafeString:
    """The ``<script>`` tag of tracker.js, configured by ``data-`` attributes.

    No inline script, so it works under a strict Content-Security-Policy.
    """
    return format_html(
        '<script src="{}" data-track-url="{}" data-stats-url="{}" '
        'data-counts-url="{}" defer></script>',
        static("tracker/tracker.js"),
        reverse("tracker:track"),
        reverse("tracker:get_stats"),
        reverse("tracker:counts"),
    )


@register.simple_tag
def tracker_object(obj: models.Model | None, label: str = "view") -> SafeString:
    """A hidden element whose signed token makes tracker.js count one view of ``obj``.

    Renders nothing for ``None`` or an unsaved instance, so a template never
    breaks on a missing object.
    """
    if obj is None or getattr(obj, "pk", None) is None:
        return SafeString("")
    return format_html(
        '<span hidden data-tracker-object="{}"></span>', object_token(obj, label)
    )


# --- Counts, live counters, widgets, compact_count (issue 5) ----------------

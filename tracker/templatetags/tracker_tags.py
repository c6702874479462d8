"""Template tags: ``{% load tracker_tags %}``."""

from __future__ import annotations

from django import template

register = template.Library()

# --- Script and beacons (issue 4): tracker_script, tracker_object -----------


# --- Counts, live counters, widgets, compact_count (issue 5) ----------------

"""Celery task: the original django-tracker's ``collect_statistic``, folding the counts.

Schedule it with Celery beat (README, "Reporting"). Celery is an optional extra.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import close_old_connections

from tracker.reports import fold


@shared_task(name="tracker.tasks.collect_statistic", ignore_result=False)
def collect_statistic() -> dict[str, Any]:
    """Fold the cache's counts into Statistic rows; return the summary."""
    close_old_connections()
    try:
        return fold().as_dict()
    finally:
        close_old_connections()

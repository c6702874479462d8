"""``get_stats/`` for many dom ids: cache round trips and queries per request."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from bench.roundtrips import socket_sends
from tracker.counters import Tracker, local_today
from tracker.reports import fold


@dataclass
class StatsResult:
    """What one ``get_stats/`` request for ``dom_ids`` dom ids costs."""

    cache: str
    dom_ids: int
    round_trips: int
    queries: int
    millis: float  # median in-process time per request
    verified: bool
    note: str


def run(run_id: str, cache_alias: str, dom_ids: int, repeats: int) -> StatsResult:
    ids = [f"s{run_id}-{n}" for n in range(dom_ids)]
    query = "|".join(f"stat{run_id}_{n}:bench:{dom_id}" for n, dom_id in enumerate(ids))
    with override_settings(
        TRACKER_KEY_PREFIX=f"stats{run_id}{cache_alias}:",
        TRACKER_CACHE_ALIAS=cache_alias,
        TRACKER_MAX_ITEMS=max(dom_ids, 20),
    ):
        tracker = Tracker()
        tracker.incr_labels(query, count=2)
        # Half of what each counter holds is folded into rows, half is live:
        # the endpoint has to combine both.
        fold(days=[local_today()])
        tracker.incr_labels(query)
        client = Client()
        url = reverse("tracker:get_stats") + "?dom_ids=" + "|".join(ids)
        response = client.get(url)  # warms per-process caches (content types)
        with socket_sends() as sent, CaptureQueriesContext(connections["default"]) as q:
            response = client.get(url)
        note, verified = "", response.status_code == 200
        if verified:
            rows = response.json()
            counts = {row[0]: row[1] for row in rows}
            verified = counts == dict.fromkeys(ids, 3)
            if not verified:
                note = f"expected 3 for each of {len(ids)} ids, got {rows[:3]}..."
        else:
            note = f"HTTP {response.status_code}: {response.content[:200]!r}"
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
    return StatsResult(
        cache=cache_alias,
        dom_ids=dom_ids,
        round_trips=len(sent),
        queries=len(q),
        millis=statistics.median(samples),
        verified=verified,
        note=note,
    )

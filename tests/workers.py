"""Worker processes for the concurrency and hammer tests.

Started by the tests as ``python -m tests.workers '<json job>'``; the job's
``env`` was already applied by the parent (cache alias, key prefix, database
names), so Django starts on the same cache and test databases as the test.
Each worker prints one JSON line with what it did.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path


def _wait(start_at: float) -> None:
    """Start all workers at once, so that their first increments race."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def increment(job: dict) -> dict:
    """Count labels and objects; report exactly what was issued."""
    from tracker.models import Tracker

    rng = random.Random(job["seed"])
    labels: list[str] = job["labels"]
    objects: list[list] = job.get("objects", [])
    tracker = Tracker()
    issued: dict[str, int] = {}
    stop = Path(job["stop_file"]) if job.get("stop_file") else None
    _wait(job["start_at"])
    # First every label in the same order as the other workers: the first hit
    # of each counter of the day races in every worker at once.
    plan = list(labels)
    rounds = job["increments"]
    n = 0
    while n < rounds or (
        stop is not None and not stop.exists() and n < job.get("max", rounds)
    ):
        if plan:
            query = plan.pop(0)
        elif objects and rng.random() < 0.25:
            model, pk = rng.choice(objects)
            if tracker.incr_object((model, pk)) is not True:
                raise SystemExit("incr_object failed")
            key = f"object:{model}:{pk}"
            issued[key] = issued.get(key, 0) + 1
            n += 1
            continue
        else:
            size = rng.choice((1, 1, 1, 2, 3))
            query = "|".join(rng.sample(labels, size))
        if tracker.incr_labels(query) is not True:
            raise SystemExit(f"incr_labels({query!r}) failed")
        for item in query.split("|"):
            issued[item] = issued.get(item, 0) + 1
        n += 1
    return {"issued": issued, "calls": n}


def fold_loop(job: dict) -> dict:
    """Fold again and again until the stop file appears."""
    from tracker.reports import fold

    stop = Path(job["stop_file"])
    _wait(job["start_at"])
    folds = 0
    while not stop.exists():
        fold(using=job.get("using"))
        folds += 1
        time.sleep(job.get("pause", 0))
    return {"folds": folds}


def main() -> None:
    job = json.loads(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    result = {"increment": increment, "fold": fold_loop}[job["kind"]](job)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""Worker processes for the concurrency and hammer tests.

Started by the tests as ``python -m tests.workers '<json job>'``; the job's
``env`` was already applied by the parent (cache alias, key prefix, database
names), so Django starts on the same cache and test databases as the test.
Each worker prints one JSON line with what it did.
"""

from __future__ import annotations

import contextlib
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
    """Count labels and objects; report exactly what was issued.

    With ``visitors``, object hits come from that many client addresses and
    the addresses each object saw are reported, for distinct-visitor counts.
    """
    from django.test import RequestFactory

    from tracker.models import Tracker

    rng = random.Random(job["seed"])
    labels: list[str] = job["labels"]
    objects: list[list] = job.get("objects", [])
    visitors: int = job.get("visitors", 0)
    requests = RequestFactory()
    tracker = Tracker()
    issued: dict[str, int] = {}
    seen: dict[str, set[str]] = {}
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
            key = f"object:{model}:{pk}"
            request = None
            if visitors:
                visitor = rng.randrange(visitors)
                address = f"10.0.{visitor // 250}.{visitor % 250}"
                request = requests.get("/", REMOTE_ADDR=address)
                seen.setdefault(key, set()).add(address)
            if tracker.incr_object((model, pk), request=request) is not True:
                raise SystemExit("incr_object failed")
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
    return {
        "issued": issued,
        "calls": n,
        "visitors": {key: sorted(addresses) for key, addresses in seen.items()},
    }


def fold_loop(job: dict) -> dict:
    """Fold again and again until the stop file appears.

    With ``turn_log``, every batch notes its lock turn there (see
    :func:`turn_logger`); ``hold`` keeps each batch open a while before commit.
    """
    from tracker.reports import fold

    db, hook = job.get("using") or "default", None
    if job.get("turn_log"):
        hook = turn_logger(job["turn_log"], db, job.get("hold", 0), job)
    stop = Path(job["stop_file"])
    _wait(job["start_at"])
    folds = 0
    with watching(db, hook):
        while not stop.exists():
            fold(using=db, batch_size=job.get("batch_size"))
            folds += 1
            time.sleep(job.get("pause", 0))
    return {"folds": folds}


@contextlib.contextmanager
def watching(db: str, hook=None):
    """Call ``hook(step)`` at each step of the fold batches run on ``db``.

    The steps are seen in the SQL itself, not in tracker.reports' internals:
    ``before_lock`` and ``after_lock`` around the batch's FoldLock update,
    ``after_inserts`` and ``after_updates`` after a write to the rows,
    ``before_commit`` and ``after_commit`` around the batch's commit. Queries
    the hook makes are not watched.
    """
    from django.db import connections

    from tracker.models import FoldLock, Statistic

    connection = connections[db]
    if hook is None:
        yield
        return
    lock_table, row_table = FoldLock._meta.db_table, Statistic._meta.db_table
    state = {"batch": False, "busy": False}

    def notify(step: str) -> None:
        state["busy"] = True
        try:
            hook(step)
        finally:
            state["busy"] = False

    def watch(execute, sql, params, many, context):
        if state["busy"]:
            return execute(sql, params, many, context)
        words = [*sql.split(None, 3), "", ""]  # ("BEGIN" is one word)
        verb = words[0].upper()
        table = (words[2] if verb == "INSERT" else words[1]).strip('"`')
        locking = verb == "UPDATE" and table == lock_table and not state["batch"]
        if locking:
            notify("before_lock")
        result = execute(sql, params, many, context)
        if locking and context["cursor"].rowcount:  # 0 before the row is created
            state["batch"] = True
            notify("after_lock")
        elif table == row_table and verb in ("INSERT", "UPDATE"):
            notify("after_inserts" if verb == "INSERT" else "after_updates")
        return result

    commit, rollback = connection.commit, connection.rollback

    def watched_commit() -> None:
        batch = state["batch"]
        if batch:
            notify("before_commit")
        commit()
        if batch:
            state["batch"] = False
            notify("after_commit")

    def watched_rollback() -> None:
        state["batch"] = False
        rollback()

    connection.commit, connection.rollback = watched_commit, watched_rollback
    try:
        with connection.execute_wrapper(watch):
            yield
    finally:
        del connection.commit, connection.rollback


def turn_logger(log: str, db: str, hold: float, job: dict):
    """A :func:`watching` hook that logs each batch's lock turn.

    Each batch appends ``"<pid> <n> <ms>"`` once it holds the FoldLock row,
    ``n`` being the row's batch count as this transaction will commit it and
    ``ms`` how long it waited for the lock. The count
    only grows, so if a later line of another process shows the same ``n``,
    the transaction that logged it first was rolled back: a process killed
    after logging ``n`` died inside its transaction exactly when ``n`` turns up
    again. ``hold`` sleeps half to all of that many seconds before each commit,
    so that a kill tends to land inside a transaction that has written its rows.
    """
    from tracker.models import FoldLock
    from tracker.reports import LOCK_NAME

    rng = random.Random(job.get("seed", 0))
    asked = [0.0]

    def hook(step: str) -> None:
        if step == "before_lock":
            asked[0] = time.monotonic()
        elif step == "after_lock":
            waited = round((time.monotonic() - asked[0]) * 1000)
            batches = (
                FoldLock.objects.using(db)
                .values_list("batches", flat=True)
                .get(pk=LOCK_NAME)
            )
            with open(log, "a") as file:  # one small O_APPEND write: never torn
                file.write(f"{os.getpid()} {batches} {waited}\n")
        elif step == "before_commit" and hold:
            time.sleep(rng.uniform(hold / 2, hold))

    return hook


# Where fold_once can stop a fold. The middle three are inside a batch
# transaction, after the FoldLock row was locked; "between_batches" is after
# the commit of batch ``after_batches``.
PAUSE_POINTS = (
    "before_lock",
    "after_lock",
    "after_inserts",
    "before_commit",
    "between_batches",
)


def fold_once(job: dict) -> dict:
    """Run one fold that stops at ``pause_at`` until it is killed.

    On reaching the point it writes what it sees to ``marker`` (a JSON file)
    and waits; the test kills it there with SIGKILL.
    """
    from tracker.reports import fold

    db, point = job["using"], job["pause_at"]
    commits = []

    def hook(step: str) -> None:
        if step == "after_commit":
            commits.append(step)
            if point == "between_batches" and len(commits) == job["after_batches"]:
                _pause(job["marker"], db, point)
        elif step == point:
            _pause(job["marker"], db, point)

    with watching(db, hook):
        summary = fold(using=db, batch_size=job.get("batch_size"))
    return {"unpaused": summary.as_dict()}


def _pause(marker: str, db: str, point: str) -> None:
    """Record what the paused fold sees in ``marker``, then wait to be killed."""
    from django.db import connections
    from django.db.models import Count, Sum

    from tracker.models import Statistic

    connection = connections[db]
    raw = connection.connection
    if connection.vendor == "postgresql":
        in_transaction = raw.info.transaction_status != 0  # not IDLE
    else:
        in_transaction = raw.in_transaction
    seen = {"point": point, "pid": os.getpid(), "in_transaction": in_transaction}
    if connection.vendor == "postgresql":
        seen["backend_pid"] = raw.info.backend_pid
    if in_transaction and point != "before_lock":
        # What this transaction sees, its own uncommitted writes included.
        seen.update(
            Statistic.objects.using(db).aggregate(
                rows=Count("id"), total=Sum("counter")
            )
        )
    temporary = f"{marker}.tmp"
    with open(temporary, "w") as file:
        json.dump(seen, file)
    os.replace(temporary, marker)  # the test never reads a half-written file
    parent, deadline = os.getppid(), time.monotonic() + 300
    # Wait to be killed; give up if the test is gone, not to hold the lock.
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.05)
    os._exit(3)


def main() -> None:
    job = json.loads(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    kinds = {"increment": increment, "fold": fold_loop, "fold_once": fold_once}
    result = kinds[job["kind"]](job)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

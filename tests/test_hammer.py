"""The hammer: counting, folding and killing folds at once; every count lands once.

Worker processes (``tests.workers``) count and fold against the test's real
cache and test database. A fold is SIGKILLed at a random moment, and in the
deterministic tests at fixed points inside and outside its transaction; after
a final fold the rows must equal, counter by counter, what the cache accepted.
Run with ``-s`` to see each run's figures.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from collections import Counter as Tally
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connections, transaction

from tests.conftest import require
from tests.processes import collect, start, start_time, worker_env
from tests.workers import PAUSE_POINTS, turn_logger, watching
from tracker import reports
from tracker.counters import local_today
from tracker.labels import parse_query
from tracker.models import FoldLock, Statistic, Tracker

pytestmark = [
    pytest.mark.servers,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

WRITERS = 4
CALLS = 1000  # per writer; a call counts 1 to 3 labels, or one object
FOLD_BATCH = 25  # small batches: many transactions for folds to interleave
# Seconds (half to all of it) the victim keeps each batch open before committing:
# most of its life is then spent inside a transaction, so a kill at a random
# moment tends to land there.
VICTIM_HOLD = 0.3
LABELS = [
    *(f"h{n}" for n in range(40)),
    *(f"h{n}:cat{n % 5}" for n in range(40, 70)),
    *(f"h{n}:cat{n % 5}:dom{n % 13}" for n in range(70, 110)),
    *(f"h{n}::dom{n}" for n in range(110, 120)),
    *(f"café {n}:catégorie" for n in range(10)),
    *(f"日本{n}:区:ボタン{n}" for n in range(10)),
]
OBJECTS = [
    *(["testapp.article", n] for n in range(1, 16)),
    *(["testapp.product", str(uuid.UUID(int=n))] for n in range(1, 6)),
    *(["testapp.page", slug] for slug in ("home", "about", "über-uns", "contact")),
]
DATABASE_NAMES = {"default": "sqlite", "postgres": "postgres"}


def use(settings, cache_alias: str, db: str) -> None:
    """Point the test at a cache and a database, or skip (fail under CI)."""
    needs = dict(django_settings.CACHE_BACKENDS.values())[cache_alias]
    require(cache_alias in django_settings.CACHES, needs)
    require(db in django_settings.DATABASES, "TRACKER_TEST_POSTGRES")
    settings.TRACKER_CACHE_ALIAS = cache_alias


def identity(item: str) -> tuple[str, str, str, str, str]:
    """(label, category, dom_id, model, object_id) of an item a worker counted."""
    if item.startswith("object:"):
        _, model, pk = item.split(":", 2)
        return ("view", "", "", model, pk)
    parsed = parse_query(item)[0]
    return (parsed.label, parsed.category, parsed.dom_id, "", "")


def folded(db: str) -> tuple[Tally, Tally]:
    """Counts and distinct visitors in the rows, per counter (all days summed).

    Also checks the rows themselves: one per counter and day, none empty.
    """
    counts, uniques, per_day = Tally(), Tally(), Tally()
    for row in Statistic.objects.using(db).select_related("content_type"):
        model = ""
        if row.content_type_id:
            model = f"{row.content_type.app_label}.{row.content_type.model}"
        key = (row.label, row.category, row.dom_id, model, row.object_id)
        assert row.counter > 0, f"zero-count row {row}"
        counts[key] += row.counter
        uniques[key] += row.uniques
        per_day[row.day, key] += 1
    duplicates = [key for key, number in per_day.items() if number > 1]
    assert not duplicates, f"duplicate rows: {duplicates[:5]}"
    return counts, uniques


def snapshot(db: str) -> list[tuple]:
    """Every committed row with its marks, to compare before and after a kill."""
    return list(
        Statistic.objects.using(db)
        .order_by("digest")
        .values_list("digest", "counter", "counter_mark", "uniques", "uniques_mark")
    )


def lock_is_free(db: str) -> bool:
    """Whether a fold could take its turn now (no other transaction holds it)."""
    connection = connections[db]
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(using=db):
                list(
                    FoldLock.objects.using(db)
                    .select_for_update(nowait=True)
                    .filter(pk=reports.LOCK_NAME)
                )
        except OperationalError:
            return False
        return True
    # SQLite: the fold's lock is the database's write lock.
    probe = sqlite3.connect(
        connection.settings_dict["NAME"], timeout=0, isolation_level=None
    )
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    finally:
        probe.close()
    return True


def backend_state(db: str, pid: int) -> str | None:
    """The state PostgreSQL reports for a worker's connection, None once gone."""
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else None


def wait_until(condition, what: str, timeout: float = 60) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.02)


def stop_all(processes) -> None:
    """SIGKILL what still runs and close every pipe."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        if not process.stdout.closed:
            process.communicate(timeout=30)
        process.wait(timeout=30)


def turns_of(log: Path) -> list[tuple[int, int, int]]:
    """The (pid, batch number, ms waited) lines of a turn log.

    See ``tests.workers.turn_logger``.
    """
    if not log.exists():
        return []
    return [tuple(map(int, line.split())) for line in log.read_text().splitlines()]


def report(record_property, title: str, figures: dict) -> None:
    """Print a run's figures (shown with ``-s``) and keep them in the JUnit XML."""
    record_property(title, figures)
    text = ", ".join(f"{key}={value}" for key, value in figures.items())
    print(f"\n{title}: {text}")


# Each cache client once, each database at least once: SQLite's locking does not
# depend on the cache, and both Redis clients drive the same Lua script.
HAMMER_PAIRS = [
    pytest.param("memcached", "postgres", id="memcached+postgres"),
    pytest.param("redis", "postgres", id="redis+postgres"),
    pytest.param("django_redis", "default", id="django_redis+sqlite"),
]


def hammer_jobs(
    db: str, log: Path, stop: Path, writers_stop: Path, seed: int
) -> tuple[list, list, dict]:
    """The writers', the folders' and the victim's jobs.

    Writers make at least CALLS calls each and go on until ``writers_stop``
    appears, so that they are still counting when the victim is killed.
    """
    at = start_time(2.0)
    writer = {
        "kind": "increment",
        "labels": LABELS,
        "objects": OBJECTS,
        "visitors": 40,
        "increments": CALLS,
        "stop_file": str(writers_stop),
        "max": CALLS * 50,
        "start_at": at,
    }
    folder = {
        "kind": "fold",
        "using": db,
        "stop_file": str(stop),
        "turn_log": str(log),
        "batch_size": FOLD_BATCH,
        "pause": 0.05,
        "start_at": at,
    }
    return (
        [{**writer, "seed": seed + n} for n in range(WRITERS)],
        [{**folder, "seed": seed + 10 + n} for n in range(2)],
        {**folder, "seed": seed + 20, "hold": VICTIM_HOLD},
    )


def final_folds(db: str, log: Path) -> int:
    """Fold what is left (logging its turns), then check nothing more moves."""
    postgres = connections[db].vendor == "postgresql"
    if postgres:  # a lock left behind would fail the fold, not hang the test
        with connections[db].cursor() as cursor:
            cursor.execute("SET lock_timeout = '60s'")
    try:
        with watching(db, turn_logger(str(log), db, 0, {})):
            final = reports.fold(using=db)
        again = reports.fold(using=db)
    finally:
        if postgres:
            with connections[db].cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    assert again.increments_moved == again.uniques_moved == 0
    assert lock_is_free(db)
    return final.increments_moved


@pytest.mark.parametrize(("cache_alias", "db"), HAMMER_PAIRS)
def test_hammer(cache_alias, db, settings, tmp_path, record_property):
    """Writers, two looping folds and one SIGKILLed fold: the rows end up exact.

    After a final fold the rows hold exactly what the writers counted, counter
    by counter, distinct visitors included.
    """
    use(settings, cache_alias, db)
    started, first_day = time.monotonic(), local_today()
    env = worker_env(cache_alias, databases=True)
    log, stop = tmp_path / "turns.log", tmp_path / "stop"
    writers_stop = tmp_path / "writers-stop"
    seed = random.randrange(1 << 30)
    writer_jobs, folder_jobs, victim_job = hammer_jobs(
        db, log, stop, writers_stop, seed
    )
    writers = [start(job, env) for job in writer_jobs]
    folders = [start(job, env) for job in folder_jobs]
    victim = start(victim_job, env)
    try:
        wait_until(
            lambda: (
                victim.pid in {turn[0] for turn in turns_of(log)}
                or victim.poll() is not None
            ),
            "the victim fold took its first turn",
        )
        assert victim.poll() is None, victim.communicate()[1][-3000:]
        time.sleep(random.Random(seed).uniform(0, 1.5))  # the random moment
        assert victim.poll() is None, "the victim fold stopped before its kill"
        victim.kill()
        killed_at = round(time.monotonic() - started, 2)
        writing = sum(writer.poll() is None for writer in writers)
        turns_before_kill = len(turns_of(log))
        time.sleep(0.3)  # counts keep arriving after the kill too
        writers_stop.touch()
        results = [collect(writer) for writer in writers]
        assert writing == WRITERS, "the writers must still be counting at the kill"
        stop.touch()
        loop_folds = sum(collect(process)["folds"] for process in folders)
    finally:
        stop.touch()
        writers_stop.touch()
        stop_all([*writers, *folders, victim])
    final_moved = final_folds(db, log)

    issued, addresses = Tally(), {}
    for result in results:
        for item, number in result["issued"].items():
            issued[identity(item)] += number
        for item, seen in result["visitors"].items():
            addresses.setdefault(identity(item), set()).update(seen)
    counts, uniques = folded(db)
    assert counts == issued  # per counter, exactly
    if local_today() == first_day:  # distinct visitors restart at midnight
        expected = {key: len(seen) for key, seen in addresses.items()}
        assert {key: n for key, n in uniques.items() if n} == expected

    turns = turns_of(log)
    last = max(number for pid, number, _ in turns if pid == victim.pid)
    inside = any(number == last and pid != victim.pid for pid, number, _ in turns)
    report(
        record_property,
        f"hammer {cache_alias}+{DATABASE_NAMES[db]}",
        {
            "seed": seed,
            "calls": sum(result["calls"] for result in results),
            "increments_issued": sum(issued.values()),
            "counters": len(issued),
            "distinct_visitors_issued": sum(len(seen) for seen in addresses.values()),
            "folds_completed": loop_folds + 2,
            "folds_killed": 1,
            "killed_at_s": killed_at,
            "writers_running_at_kill": writing,
            "kill_inside_transaction": (
                f"yes (turn {last} rolled back)"
                if inside
                else f"not proven (its last logged turn, {last}, committed)"
            ),
            "victim_turns": sum(turn[0] == victim.pid for turn in turns),
            "turns_after_kill": len(turns) - turns_before_kill,
            "batches_committed": FoldLock.objects.using(db).get().batches,
            "max_lock_wait_ms": max(turn[2] for turn in turns),
            "final_fold_moved": final_moved,
            "rows": Statistic.objects.using(db).count(),
            "db_total": sum(counts.values()),
            "db_uniques": sum(uniques.values()),
            "seconds": round(time.monotonic() - started, 1),
            **sqlite_modes(db),
        },
    )


def sqlite_modes(db: str) -> dict:
    """SQLite's journal mode and busy timeout, for the figures of a run."""
    connection = connections[db]
    if connection.vendor != "sqlite":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA busy_timeout")
        return {"journal_mode": journal, "busy_timeout_ms": cursor.fetchone()[0]}


class Hits:
    """Counts items in this process and remembers what was issued."""

    def __init__(self) -> None:
        self.issued: Tally = Tally()
        self.tracker = Tracker()

    def __call__(self, items: list[str], times: int = 1) -> None:
        labels = [item for item in items if not item.startswith("object:")]
        for _ in range(times):
            if labels:
                assert self.tracker.incr_labels("|".join(labels)) is True
            for item in items:
                if item.startswith("object:"):
                    _, model, pk = item.split(":", 2)
                    assert self.tracker.incr_object((model, pk)) is True
        for item in items:
            self.issued[identity(item)] += times


KILL_PAIRS = [
    pytest.param("memcached", "postgres", "", id="memcached+postgres"),
    pytest.param("redis", "default", "delete", id="redis+sqlite"),
    pytest.param("redis", "default", "wal", id="redis+sqlite-wal"),
]


@pytest.fixture
def journal(request):
    """Put the SQLite test database in the journal mode of the parameter."""
    mode = request.param
    if not mode:
        yield ""
        return
    with connections["default"].cursor() as cursor:
        cursor.execute(f"PRAGMA journal_mode = {mode}")
        assert cursor.fetchone()[0] == mode
    yield mode
    with connections["default"].cursor() as cursor:
        cursor.execute("PRAGMA journal_mode = delete")  # (persists in the file)


def counts_for_a_fold_to_kill(db: str) -> tuple[Hits, list[str]]:
    """Rows to update and counters to insert: 25 counters, 13 with rows.

    Also returns items to count while the fold is stuck.
    """
    hit = Hits()
    old = [f"k{n}:c:d{n}" for n in range(12)] + ["object:testapp.article:7"]
    new = [f"n{n}" for n in range(10)] + [
        f"object:testapp.product:{uuid.UUID(int=3)}",
        "object:testapp.page:über-uns",
    ]
    for times in (1, 2, 3):
        hit(old[times - 1 :: 3], times)
        hit(old[3:], 1)
    reports.fold(using=db)
    hit(old, 2)
    hit(new, 1)
    return hit, old[::2] + new[:3]


def check_paused(db: str, point: str, seen: dict, before: list) -> bool:
    """Check where the paused fold stands; return whether inside its transaction."""
    inside = point in ("after_lock", "after_inserts", "before_commit")
    if point != "before_lock":  # (there, only SQLite has begun a transaction)
        assert seen["in_transaction"] is inside
    assert lock_is_free(db) is not inside
    if "backend_pid" in seen:
        state = backend_state(db, seen["backend_pid"])
        assert (state == "idle in transaction") is inside, state
    if point in ("after_inserts", "before_commit"):
        # It wrote rows that nobody else can see yet.
        assert seen["rows"] > len(before)
        assert seen["total"] > sum(row[1] for row in before)
        assert snapshot(db) == before
    elif point == "between_batches":
        assert snapshot(db) != before  # two batches committed
    else:
        assert snapshot(db) == before
    return inside


@pytest.mark.parametrize("point", PAUSE_POINTS)
@pytest.mark.parametrize(
    ("cache_alias", "db", "journal"), KILL_PAIRS, indirect=["journal"]
)
def test_fold_killed_at_a_fixed_point(
    cache_alias, db, point, journal, settings, tmp_path, record_property
):
    """A fold SIGKILLed at a known point leaves nothing half-done.

    Inside or outside its batch transaction: the lock is released, its open
    batch is rolled back, and the next fold leaves exact totals.
    """
    use(settings, cache_alias, db)
    started = time.monotonic()
    hit, later = counts_for_a_fold_to_kill(db)
    before = snapshot(db)
    marker = tmp_path / "paused.json"
    job = {"kind": "fold_once", "using": db, "pause_at": point, "marker": str(marker)}
    if point == "between_batches":
        job.update(batch_size=5, after_batches=2)  # 25 counters: 5 batches
    worker = start(job, worker_env(cache_alias, databases=True))
    try:
        wait_until(
            lambda: marker.exists() or worker.poll() is not None,
            f"the fold reached {point}",
        )
        assert marker.exists(), worker.communicate()
        seen = json.loads(marker.read_text())
        inside = check_paused(db, point, seen, before)
        hit(later)  # counting goes on while the fold is stuck
        committed_before_kill = snapshot(db)
        worker.kill()
        worker.communicate(timeout=30)
    finally:
        stop_all([worker])
    if "backend_pid" in seen:
        wait_until(
            lambda: backend_state(db, seen["backend_pid"]) is None,
            "PostgreSQL ended the killed fold's session",
        )
    wait_until(lambda: lock_is_free(db), "the killed fold's lock was released")
    assert snapshot(db) == committed_before_kill  # the open batch rolled back
    rerun = reports.fold(using=db)
    counts, _ = folded(db)
    assert counts == hit.issued
    assert reports.fold(using=db).increments_moved == 0
    report(
        record_property,
        f"kill at {point} {cache_alias}+{DATABASE_NAMES[db]}"
        + (f" ({journal} journal)" if journal else ""),
        {
            "inside_transaction": inside,
            "rows_seen_by_killed_fold": seen.get("rows", "-"),
            "rows_committed_at_kill": len(committed_before_kill),
            "killed_fold_committed": sum(row[1] for row in committed_before_kill)
            - sum(row[1] for row in before),
            "increments_issued": sum(hit.issued.values()),
            "rerun_moved": rerun.increments_moved,
            "db_total": sum(counts.values()),
            "seconds": round(time.monotonic() - started, 1),
        },
    )

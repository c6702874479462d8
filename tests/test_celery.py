"""The Celery trigger: a real worker on a real broker runs ``collect_statistic``."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.conftest import require
from tests.processes import ROOT, worker_env
from tracker.counters import local_today
from tracker.models import Statistic, Tracker

TASK = "tracker.tasks.collect_statistic"


@pytest.fixture
def celery_app():
    """The test suite's Celery app (tests/celery_app.py), on the test broker."""
    require(bool(django_settings.AMQP), "TRACKER_TEST_AMQP")
    from tests.celery_app import app

    return app


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    log: Path

    def result_of(self, result, timeout: float = 120) -> dict:
        """Wait for ``result``, failing at once if the worker dies."""
        deadline = time.monotonic() + timeout
        while not result.ready():
            if self.process.poll() is not None:
                pytest.fail(
                    f"worker exited ({self.process.returncode}):\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no result after {timeout}s; worker log:\n{self.tail()}")
            time.sleep(0.1)
        try:
            return result.get(timeout=10)
        finally:
            result.forget()  # the result backend is a shared Redis

    def tail(self) -> str:
        return self.log.read_text()[-4000:]


def stop(process: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM); SIGKILL if the worker does not exit in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture
def worker(celery_app, settings, tmp_path):
    """A ``celery worker`` process on its own queue, stopped whatever happens.

    It shares the test's memcached prefix and PostgreSQL test database.
    """
    require("memcached" in django_settings.CACHES, "TRACKER_TEST_MEMCACHED")
    require("postgres" in django_settings.DATABASES, "TRACKER_TEST_POSTGRES")
    settings.TRACKER_CACHE_ALIAS = "memcached"
    # Its own queue: no other worker on the shared broker may take its tasks.
    queue = f"tracker-test-{uuid.uuid4().hex[:12]}"
    with celery_app.connection_for_write() as connection:
        # Declared before the worker starts, so no message can be dropped.
        celery_app.amqp.queues[queue](connection.default_channel).declare()
    env = worker_env("memcached", databases=True)
    env["TRACKER_WORKER_DEFAULT_DB"] = "postgres"
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app=tests.celery_app",
                "worker",
                "--pool=solo",
                f"--queues={queue}",
                f"--hostname={queue}@tracker-tests",
                # Cluster chatter only slows start-up. (Heartbeats stay: they
                # wake the event loop, which is what makes SIGTERM act at once.)
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Worker(process, queue, log)
    finally:
        stop(process)
        with celery_app.connection_for_write() as connection:
            channel = connection.default_channel
            channel.queue_delete(queue)
            channel.exchange_delete(queue)


def folded_rows() -> dict[tuple[str, str, str, str], int]:
    return {
        (row.label, row.category, row.dom_id, row.object_id): row.counter
        for row in Statistic.objects.using("postgres")
    }


@pytest.mark.servers
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_worker_runs_collect_statistic(celery_app, worker):
    """collect_statistic, sent through RabbitMQ, folds in a real worker.

    Its summary comes back through the result backend, and a second run moves
    only what is new.
    """
    tracker = Tracker()
    tracker.incr_labels("signup|buy:shop:buy-btn")
    tracker.incr_labels("signup")
    tracker.incr_object(("testapp.article", 3))
    summary = worker.result_of(celery_app.send_task(TASK, queue=worker.queue))
    assert summary["increments_moved"] == 4
    assert (summary["rows_created"], summary["rows_updated"]) == (3, 0)
    assert summary["counters_read"] == 3
    assert local_today().isoformat() in summary["days"]
    assert folded_rows() == {
        ("signup", "", "", ""): 2,
        ("buy", "shop", "buy-btn", ""): 1,
        ("view", "", "", "3"): 1,
    }
    tracker.incr_labels("signup")
    again = worker.result_of(celery_app.send_task(TASK, queue=worker.queue))
    assert (again["increments_moved"], again["rows_updated"]) == (1, 1)
    assert folded_rows()[("signup", "", "", "")] == 3
    assert f"Task {TASK}[" in worker.tail()  # (the worker's own log says so too)


def readme_beat_schedule() -> dict:
    """The ``CELERY_BEAT_SCHEDULE`` README tells users to add to their settings."""
    text = (ROOT / "README.rst").read_text()
    found = re.search(r"\n( +)CELERY_BEAT_SCHEDULE = \{\n.*?\n\1\}\n", text, re.S)
    assert found, "README shows no CELERY_BEAT_SCHEDULE"
    block = "\n".join(line.removeprefix(found[1]) for line in found[0].splitlines())
    namespace: dict = {}
    exec(block, namespace)  # (README's own text, in the repository)
    return namespace["CELERY_BEAT_SCHEDULE"]


def test_readmes_beat_entry_schedules_the_task_every_two_minutes():
    from celery import Celery
    from celery.beat import Scheduler

    import tracker.tasks  # noqa: F401  registers the task with shared_task

    app = Celery("beat-check", set_as_current=False)
    app.conf.beat_schedule = readme_beat_schedule()
    scheduler = Scheduler(app=app, lazy=True)
    scheduler.setup_schedule()
    entries = [e for e in scheduler.schedule.values() if e.task == TASK]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.schedule.run_every == datetime.timedelta(seconds=120)
    assert TASK in app.tasks  # the name README schedules is a registered task
    due, next_check = entry.is_due()
    assert not due  # a fresh entry waits its first interval
    assert 0 < next_check <= 120

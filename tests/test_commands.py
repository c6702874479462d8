"""``manage.py tracker_report``, the cron trigger of the fold."""

from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from tests.conftest import require
from tests.processes import ROOT, worker_env
from tracker.models import Statistic, Tracker

SUMMARY = re.compile(
    r"^Folded (\d+) increments \((\d+) distinct visitors\) from (\d+) counters "
    r"over [\d, -]+: (\d+) rows created, (\d+) updated in [\d.]+s\.$"
)


def report(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("tracker_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db(databases="__all__")
def test_prints_the_summary(db_alias):
    Tracker().incr_labels("signup|buy:shop")
    Tracker().incr_labels("signup")
    out, err = report("--database", db_alias)
    assert SUMMARY.match(out.strip()).groups() == ("3", "0", "2", "2", "0")
    assert err == ""
    assert Statistic.objects.using(db_alias).count() == 2
    Tracker().incr_labels("signup")
    out, _ = report("--database", db_alias)
    assert SUMMARY.match(out.strip()).groups() == ("1", "0", "2", "0", "1")


@pytest.mark.django_db(databases="__all__")
def test_quiet_prints_nothing_and_still_folds(db_alias):
    Tracker().incr_labels("quiet")
    assert report("--quiet", "--database", db_alias) == ("", "")
    assert Statistic.objects.using(db_alias).get().counter == 1


@pytest.mark.django_db
def test_folds_into_the_default_database():
    Tracker().incr_labels("plain")
    report("--quiet")
    assert Statistic.objects.get().counter == 1


def test_a_failing_cache_is_a_command_error(settings):
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": "127.0.0.1:1",
        },
    }
    settings.TRACKER_CACHE_ALIAS = "down"
    with pytest.raises(
        CommandError, match=r"reading the cache failed.*Nothing is lost"
    ):
        report()


def test_an_unknown_database_is_a_command_error():
    with pytest.raises(CommandError, match="invalid choice: 'nope'"):
        report("--database", "nope")


def run_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "django", "tracker_report", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.servers
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_cron_process_exits_zero_and_folds(db_alias, settings):
    """The command as cron runs it: its own process, sharing only the cache."""
    require("memcached" in django_settings.CACHES, "TRACKER_TEST_MEMCACHED")
    settings.TRACKER_CACHE_ALIAS = "memcached"
    Tracker().incr_labels("cron|cron:job")
    done = run_command(worker_env("memcached", databases=True), "--database", db_alias)
    assert done.returncode == 0, done.stderr
    assert SUMMARY.match(done.stdout.strip()).groups()[0] == "2"
    assert done.stderr == ""
    assert Statistic.objects.using(db_alias).count() == 2
    quiet = run_command(worker_env("memcached", databases=True), "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_cron_process_exits_non_zero_with_a_clear_message():
    """A cache that is down: exit status 1, one line saying what failed."""
    env = worker_env("memcached")
    env["TRACKER_TEST_MEMCACHED"] = "127.0.0.1:1"  # nothing listens there
    done = run_command(env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("CommandError: Fold stopped: reading the cache")
    assert "Nothing is lost" in done.stderr
    assert "Traceback" not in done.stderr

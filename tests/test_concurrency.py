"""Several processes counting at once on real memcached and Redis: nothing lost."""

from __future__ import annotations

import pytest

from tests.processes import collect, start, start_time, total_issued, worker_env
from tracker.counters import get_backend, local_today
from tracker.keys import Counter, unpack
from tracker.labels import parse_query

pytestmark = [pytest.mark.servers, pytest.mark.slow]

WORKERS = 4
INCREMENTS = 2500
LABELS = [f"race{n}:cat{n % 7}:dom{n % 50}" for n in range(300)]


def test_concurrent_increments_and_creations_are_exact(shared_cache_backend):
    """4 processes, thousands of increments over the same labels, every first
    hit of the day racing in all four: the counts read back equal what was issued."""
    env = worker_env(shared_cache_backend)
    at = start_time()
    workers = [
        start(
            {
                "kind": "increment",
                "seed": seed,
                "labels": LABELS,
                "increments": INCREMENTS,
                "start_at": at,
            },
            env,
        )
        for seed in range(WORKERS)
    ]
    issued = total_issued([collect(worker) for worker in workers])
    assert sum(issued.values()) >= WORKERS * INCREMENTS

    backend = get_backend()
    day = local_today()
    counters = {Counter(*parse_query(label)[0]): label for label in LABELS}
    values = backend.read_values(day, list(counters))
    found = {counters[counter]: unpack(value)[1] for counter, value in values.items()}
    assert found == dict(issued)

    registry = backend.read_registry(day)
    assert len(registry) == len(set(registry)) == len(LABELS)
    assert set(registry) == set(counters)

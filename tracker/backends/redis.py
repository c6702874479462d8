"""The Redis fast path: a whole call in one round trip, via a Lua script.

Used automatically when the tracker's cache alias is Django's ``RedisCache``
or django-redis with its default client. The script keeps exactly the key
layout and value packing of :mod:`tracker.backends.cache`, so the fold reads
both the same way. Django's own ``RedisCache.incr`` costs two commands and a
new client object per call; here every counter of a call, the registry, the
distinct-visitor twins, the creation cap and the rate limit go in one
``EVALSHA``, atomically. Every command goes to the primary (the first
``LOCATION``), never to a replica, so the fold never reads a stale value.

Not for Redis Cluster: the script touches keys it computes itself.
"""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Sequence
from typing import Any

from tracker.backends.base import (
    DOM_SLOTS,
    CounterBackend,
    Hit,
    RateLimited,
    chunked,
    unique_in_order,
)
from tracker.exceptions import CounterLimitReached
from tracker.keys import COUNT_BITS, GENERATION_LIMIT, Counter

_LUA_TEMPLATE = """
local ttl = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local slots_key, slot_prefix, new_key = ARGV[4], ARGV[5], ARGV[6]
local seen_ttl = tonumber(ARGV[7])
local rate_key, rate_limit, rate_window = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
local FIRST, WIDTH = 11, 6
local SHIFT = %(shift)d
local GENERATIONS = %(generations)d
local DOM_SLOTS = %(dom_slots)d

local function keep(key, seconds)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, seconds) end
end

if rate_key ~= '' then
  local used = redis.call('INCR', rate_key)
  keep(rate_key, rate_window)
  if used > rate_limit then return 1 end
end

-- Each distinct counter once: a label repeated in a query is one new counter.
local keys, listed = {}, {}
for i = FIRST, #ARGV, WIDTH do
  if not listed[ARGV[i]] then
    listed[ARGV[i]] = true
    keys[#keys + 1] = ARGV[i]
  end
end
local existing = 0
for first = 1, #keys, 1000 do  -- unpack() has a limit
  local last = math.min(first + 999, #keys)
  existing = existing + redis.call('EXISTS', unpack(keys, first, last))
end
local missing = #keys - existing

if limit >= 0 and missing > 0 then
  local made = tonumber(redis.call('GET', new_key) or '0')
  if made + missing > limit then return 2 end
  redis.call('INCRBY', new_key, missing)
  keep(new_key, ttl)
end

-- List the counter in the day's registry; its slot number is its generation.
local function register(identity)
  local step, slot = 1, 0
  for attempt = 1, 8 do
    slot = redis.call('INCRBY', slots_key, step)
    keep(slots_key, ttl)
    if redis.call('SET', slot_prefix .. slot, identity, 'NX', 'EX', ttl) then
      return (slot - 1) %% GENERATIONS + 1
    end
    step = step * 8
  end
  redis.call('SET', slot_prefix .. slot, identity, 'EX', ttl)
  return (slot - 1) %% GENERATIONS + 1
end

local function index_dom(prefix, identity)
  for i = 0, DOM_SLOTS - 1 do
    local name = prefix .. i
    local current = redis.call('GET', name)
    if current == identity then return end
    if not current then
      redis.call('SET', name, identity, 'EX', ttl)
      return
    end
  end
end

local function bump(key, identity, dom_prefix, by)
  if redis.call('EXISTS', key) == 1 then
    redis.call('INCRBY', key, by)
  else
    local generation = register(identity)
    if dom_prefix ~= '' then index_dom(dom_prefix, identity) end
    redis.call('SET', key, string.format('%%.0f', generation * SHIFT + by), 'EX', ttl)
  end
end

for i = FIRST, #ARGV, WIDTH do
  if missing == 0 then
    -- The steady state, by far the most common: every counter exists.
    redis.call('INCRBY', ARGV[i], count)
  else
    bump(ARGV[i], ARGV[i + 1], ARGV[i + 2], count)
  end
  local seen = ARGV[i + 3]
  if seen ~= '' and redis.call('SET', seen, '1', 'NX', 'EX', seen_ttl) then
    bump(ARGV[i + 4], ARGV[i + 5], '', 1)
  end
end
return 0
"""

LUA = (
    _LUA_TEMPLATE.replace("%%", "%")
    .replace("%(shift)d", str(1 << COUNT_BITS))
    .replace("%(generations)d", str(GENERATION_LIMIT - 1))
    .replace("%(dom_slots)d", str(DOM_SLOTS))
)

_WIDTH = 6  # the script's arguments per counter (WIDTH in the script)
_MAX_ARGS_MEMO = 512

# One client per Django cache-client object (Django's RedisCache builds a new
# redis.Redis on every get_client() call, which is the slow part of its incr).
_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_scripts: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def primary_client(cache: Any) -> Any:
    """The redis-py client of ``cache``'s primary server, or None if not Redis."""
    holder = getattr(cache, "_cache", None)  # Django's RedisCache
    if holder is not None and type(holder).__name__ == "RedisCacheClient":
        client = _clients.get(holder)
        if client is None:
            client = _clients[holder] = holder.get_client(write=True)
        return client
    client_holder = getattr(cache, "client", None)  # django-redis
    if type(client_holder).__name__ == "DefaultClient":
        return client_holder.get_client(write=True)
    return None


def supports(cache: Any) -> bool:
    """Whether ``cache`` is a Redis cache this backend can drive."""
    module = type(cache).__module__
    if module not in ("django.core.cache.backends.redis", "django_redis.cache"):
        return False
    if module == "django_redis.cache":
        client_class = cache._client_cls
        if client_class.__name__ != "DefaultClient":
            return False
    # The script appends slot numbers to key prefixes, so keys must be built by
    # prefixing (Django's default KEY_FUNCTION does).
    return cache.make_key("tracker") == cache.make_key("") + "tracker"


class RedisBackend(CounterBackend):
    """One ``EVALSHA`` per call, all reads from the primary."""

    def __init__(self, cache: Any, *, prefix: str, timeout: int) -> None:
        super().__init__(cache, prefix=prefix, timeout=timeout)
        self.client = primary_client(cache)
        if self.client is None:
            raise TypeError(f"{type(cache).__name__} is not a Redis cache")
        script = _scripts.get(self.client)
        if script is None:
            script = _scripts[self.client] = self.client.register_script(LUA)
        self.script = script
        self._args_memo: dict[Any, tuple[list[str], list[str]]] = {}

    def _key(self, name: str) -> str:
        return str(self.cache.make_key(name))

    def increment(self, hit: Hit) -> None:
        day_args, counter_args = self._fixed_args(hit.day, tuple(hit.counters))
        args: list[Any] = [
            self.timeout,
            hit.count,
            -1 if hit.create_limit is None else hit.create_limit,
            *day_args,
            hit.seen_timeout or 1,
            "" if hit.rate_key is None else self._key(hit.rate_key),
            hit.rate_limit,
            hit.rate_window or 1,
        ]
        if hit.visitor is None:
            args += counter_args
        else:
            keys = self.keys(hit.day)
            for index, counter in enumerate(hit.counters):
                twin = counter.twin()
                args += [
                    *counter_args[index * _WIDTH : index * _WIDTH + 3],
                    self._key(keys.seen(counter, hit.visitor)),
                    self._key(keys.counter(twin)),
                    twin.encode(),
                ]
        status = self.script(args=args, client=self.client)
        if status == 1:
            raise RateLimited
        if status == 2:
            raise CounterLimitReached

    def _fixed_args(
        self, day: datetime.date, counters: tuple[Counter, ...]
    ) -> tuple[list[str], list[str]]:
        """The script's arguments that depend only on the day and the counters.

        Remembered for the last few hundred calls: a site counts the same few
        label sets over and over, and these are most of a call's key building.
        """
        memo_key = (day, counters)
        found = self._args_memo.get(memo_key)
        if found is not None:
            return found
        keys = self.keys(day)
        key = self._key
        day_args = [
            key(keys.slots()),
            key(keys.slot(0))[:-1],
            key(keys.new_counters()),
        ]
        counter_args: list[str] = []
        for counter in counters:
            dom_prefix = (
                key(keys.dom_slot(counter.dom_id, 0))[:-1] if counter.dom_id else ""
            )
            counter_args += [
                key(keys.counter(counter)),
                counter.encode(),
                dom_prefix,
                "",  # the visitor's "seen" key, the twin's key, the twin
                "",
                "",
            ]
        if len(self._args_memo) >= _MAX_ARGS_MEMO:
            self._args_memo.clear()
        self._args_memo[memo_key] = (day_args, counter_args)
        return day_args, counter_args

    def _mget(self, names: Sequence[str]) -> list[Any]:
        values: list[Any] = []
        for batch in chunked(list(names)):
            values.extend(self.client.mget([self._key(name) for name in batch]))
        return values

    def read_registry(self, day: datetime.date) -> list[Counter]:
        keys = self.keys(day)
        count = int(self.client.get(self._key(keys.slots())) or 0)
        found = self._mget([keys.slot(number) for number in range(1, count + 1)])
        encoded = unique_in_order(
            value.decode() for value in found if value is not None
        )
        return [Counter.decode(text) for text in encoded]

    def read_values(
        self, day: datetime.date, counters: Sequence[Counter]
    ) -> dict[Counter, int]:
        keys = self.keys(day)
        counters = list(counters)
        found = self._mget([keys.counter(counter) for counter in counters])
        return {
            counter: int(value)
            for counter, value in zip(counters, found, strict=True)
            if value is not None
        }

    def read_dom_index(
        self, day: datetime.date, dom_ids: Sequence[str]
    ) -> dict[str, list[Counter]]:
        keys = self.keys(day)
        pairs = [(dom_id, index) for dom_id in dom_ids for index in range(DOM_SLOTS)]
        found = self._mget([keys.dom_slot(dom_id, index) for dom_id, index in pairs])
        index: dict[str, list[Counter]] = {}
        for (dom_id, _slot), value in zip(pairs, found, strict=True):
            if value is not None:
                index.setdefault(dom_id, []).append(Counter.decode(value.decode()))
        return index

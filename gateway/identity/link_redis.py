"""The Redis link store, for several replicas (SPEC 4.1).

Joins and splits run as Lua scripts, so each is atomic on the server: two replicas learning
overlapping links at the same moment see one order of events, and agree on every cluster id.
The scripts apply the rules of `gateway.identity.clusters`, over these keys (prefix
`omnigate:links:`):

  cluster       HASH  linked id -> its cluster id
  seq           HASH  linked id -> order of first link (the oldest member is the cluster's id)
  alias         SET   ids that were a cluster's id and lost a join
  pinned        SET   ids split off by hand: links learned from traffic leave them alone
  members:<id>  SET   the members of cluster <id>
  counter, gen  the seq counter and the generation (bumped by every change)
  changes       STREAM entry `<generation>-1` -> the ids that changed (capped, ~10,000)

Only omnichannel ids (keyed hashes) are written. The scripts touch keys they compute from the
prefix, which standalone Redis and Sentinel allow; Redis Cluster is not supported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from gateway.identity.clusters import CHANGE_LOG_LENGTH, Cluster
from gateway.identity.link_store import Changes, Lookup, redact

PREFIX = "omnigate:links:"

_COMMON = """
local p = ARGV[1]
local function cluster_of(id)
  local c = redis.call('HGET', p..'cluster', id)
  if not c then return {id, id, '0', 0} end
  local out = {c}
  for _, m in ipairs(redis.call('SMEMBERS', p..'members:'..c)) do
    out[#out + 1] = m
    out[#out + 1] = redis.call('HGET', p..'seq', m)
    out[#out + 1] = redis.call('SISMEMBER', p..'alias', m)
  end
  return out
end
local function changed(ids)
  local gen = redis.call('INCR', p..'gen')
  redis.call('XADD', p..'changes', 'MAXLEN', '~', ARGV[2], gen..'-1', 'ids', table.concat(ids, ','))
end
local function forget(id)
  redis.call('HDEL', p..'cluster', id)
  redis.call('HDEL', p..'seq', id)
  redis.call('SREM', p..'alias', id)
end
"""

_LINK = (
    _COMMON
    + """
local ids, seen = {}, {}
for i = 4, #ARGV do
  if not seen[ARGV[i]] then seen[ARGV[i]] = true; ids[#ids + 1] = ARGV[i] end
end
if #ids < 2 then return cluster_of(ids[1]) end
for _, id in ipairs(ids) do
  if ARGV[3] == '1' then
    redis.call('SREM', p..'pinned', id)
  elseif redis.call('SISMEMBER', p..'pinned', id) == 1 then
    return cluster_of(ids[1])
  end
end
local touched, clusters, fresh = {}, {}, {}
for _, id in ipairs(ids) do
  local c = redis.call('HGET', p..'cluster', id)
  if not c then
    redis.call('HSET', p..'seq', id, redis.call('INCR', p..'counter'))
    redis.call('HSET', p..'cluster', id, id)
    redis.call('SADD', p..'members:'..id, id)
    touched[#touched + 1] = id
    fresh[id] = true
    c = id
  end
  clusters[c] = true
end
local winner, best = nil, nil
for c in pairs(clusters) do
  local s = tonumber(redis.call('HGET', p..'seq', c))
  if best == nil or s < best then winner, best = c, s end
end
for c in pairs(clusters) do
  if c ~= winner then
    for _, m in ipairs(redis.call('SMEMBERS', p..'members:'..c)) do
      redis.call('HSET', p..'cluster', m, winner)
      redis.call('SADD', p..'members:'..winner, m)
      touched[#touched + 1] = m
    end
    redis.call('DEL', p..'members:'..c)
    if not fresh[c] then redis.call('SADD', p..'alias', c) end
  end
end
if #touched > 0 then changed(touched) end
return cluster_of(winner)
"""
)

_UNLINK = (
    _COMMON
    + """
local id = ARGV[3]
redis.call('SADD', p..'pinned', id)
local c = redis.call('HGET', p..'cluster', id)
if not c then return cluster_of(id) end
redis.call('SREM', p..'members:'..c, id)
forget(id)
local touched = {id}
local rest = redis.call('SMEMBERS', p..'members:'..c)
if #rest <= 1 then
  for _, m in ipairs(rest) do forget(m); touched[#touched + 1] = m end
  redis.call('DEL', p..'members:'..c)
elseif c == id then
  local heir, best = nil, nil
  for _, m in ipairs(rest) do
    local s = tonumber(redis.call('HGET', p..'seq', m))
    if best == nil or s < best then heir, best = m, s end
  end
  for _, m in ipairs(rest) do
    redis.call('HSET', p..'cluster', m, heir)
    redis.call('SADD', p..'members:'..heir, m)
    touched[#touched + 1] = m
  end
  redis.call('DEL', p..'members:'..c)
  redis.call('SREM', p..'alias', heir)
end
changed(touched)
return cluster_of(id)
"""
)

_CLUSTER = _COMMON + "\nreturn cluster_of(ARGV[3])\n"

_LOOKUP = """
local p, out = ARGV[1], {}
for i = 2, #ARGV do
  local c = redis.call('HGET', p..'cluster', ARGV[i])
  if c then
    out[#out + 1] = ARGV[i]
    out[#out + 1] = c
    out[#out + 1] = redis.call('HGET', p..'seq', c)
  end
end
return out
"""


class RedisStore:
    def __init__(self, url: str, timeout: float, prefix: str = PREFIX) -> None:
        self.url = redact(url)
        self._prefix = prefix
        self._client: Any = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self._link = self._client.register_script(_LINK)
        self._unlink = self._client.register_script(_UNLINK)
        self._cluster = self._client.register_script(_CLUSTER)
        self._lookup = self._client.register_script(_LOOKUP)

    async def link(self, ids: Sequence[str], manual: bool = False) -> Cluster:
        flag = "1" if manual else "0"
        return _cluster(await self._link(args=[self._prefix, CHANGE_LOG_LENGTH, flag, *ids]))

    async def unlink(self, omni_id: str) -> Cluster:
        return _cluster(await self._unlink(args=[self._prefix, CHANGE_LOG_LENGTH, omni_id]))

    async def cluster(self, omni_id: str) -> Cluster:
        return _cluster(await self._cluster(args=[self._prefix, CHANGE_LOG_LENGTH, omni_id]))

    async def lookup(self, ids: Sequence[str]) -> Lookup:
        if not ids:
            return {}
        flat = await self._lookup(args=[self._prefix, *ids])
        return {flat[i]: (flat[i + 1], int(flat[i + 2] or 0)) for i in range(0, len(flat), 3)}

    async def changes(self, since: int | None) -> Changes:
        generation = int(await self._client.get(self._prefix + "gen") or 0)
        if since is None or since == generation:
            return generation, []
        entries = await self._client.xrange(self._prefix + "changes", min=f"{since + 1}-1")
        if since > generation or not entries or entries[0][0] != f"{since + 1}-1":
            return generation, None  # fell behind the capped stream (or the store was reset)
        return generation, [i for _, fields in entries for i in fields["ids"].split(",") if i]

    async def close(self) -> None:
        await self._client.aclose()


def _cluster(flat: list[Any]) -> Cluster:
    """`{cluster id, member, seq, alias(0/1), ...}` from the scripts, oldest member first."""
    members = sorted(
        ((flat[i], int(flat[i + 1] or 0), bool(int(flat[i + 2]))) for i in range(1, len(flat), 3)),
        key=lambda member: member[1],
    )
    return Cluster(
        flat[0],
        tuple(m for m, _, _ in members),
        tuple(m for m, _, alias in members if alias),
    )

"""The server-side half of RedisStore: one Lua script that applies a batch of events in order.

Why a script and not a pipeline: an event's reads depend on its own updates and on the keys'
watermarks, and a batch's events depend on each other; a script runs them in order on the
server, atomically, in one round trip, and so gives exactly the one-by-one results.

The window algorithm mirrors windows.py step for step (same head moves, same ascending
summation, numbers stored with 17 significant digits so a double survives the round trip),
because float sums must come out bit-identical to MemoryStore's. Distinct keeps exact
per-bucket SETs plus running member counts for the head's window, exactly as in memory.

Lateness is judged per (table, key), as in memory: each key's state holds its watermark w, the
newest second counted for it, and expires with it (the key's TTL). There is no store-wide
watermark, so one event dated far ahead moves the clock of its own keys only.

Layout (P = prefix, kh = hash of the key values):
    P:f:<table>:<kh>      window: HASH h (head), t (total), c (head bucket), tb (trimmed
                          below), w (watermark), <bucket> -> value;
                          distinct: HASH h, tb, w, <bucket> -> 1;
                          age: HASH f (first counted second), l (last: the watermark)
    P:f:<table>:<kh>:<b>  distinct: SET of the members seen in bucket b
    P:f:<table>:<kh>:cnt  distinct: HASH member -> buckets of the head's window holding it
"""

from __future__ import annotations

from collections.abc import Sequence

from abusedesk.detection.features.store import TableSpec

_KIND = {"window": "w", "distinct": "d", "age": "a"}


def script(tables: Sequence[TableSpec], ttls: Sequence[int]) -> str:
    """The script for one binding; table i of the binding is T[i + 1] in Lua."""
    rows = ",\n".join(
        f"  {{name={_lua_str(t.name)}, kind='{_KIND[t.kind]}', bs={t.bucket_s}, "
        f"n={t.n_buckets}, int={'true' if t.integer else 'false'}, ttl={ttl}}}"
        for t, ttl in zip(tables, ttls, strict=True)
    )
    return f"local T = {{\n{rows}\n}}\n{_BODY}"


def _lua_str(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_BODY = r"""
local P = ARGV[1]
local LATE = tonumber(ARGV[2])
local floor = math.floor

local function fmt(x) return string.format('%.17g', x) end
local function expire(key, ttl) if ttl > 0 then redis.call('EXPIRE', key, ttl) end end

-- Ascending sum of buckets s..e; bucket `head` lives in field c while it is the head.
local function rsum(key, s, e, head, cur)
  if e < s then return 0 end
  local fields = {}
  for k = s, e do fields[#fields + 1] = tostring(k) end
  local vals = redis.call('HMGET', key, unpack(fields))
  local t = 0
  for i = 1, #fields do
    local x
    if s + i - 1 == head then x = cur else x = vals[i] and tonumber(vals[i]) end
    if x and x ~= 0 then t = t + x end
  end
  return t
end

-- Drop bucket fields (and, for distinct, their SETs) below lo; returns the new mark.
local function trim(key, tb, lo, sets)
  if lo <= tb then return tb end
  local f = {}
  if lo - tb <= 512 then
    for k = tb, lo - 1 do f[#f + 1] = tostring(k) end
  else
    for _, name in ipairs(redis.call('HKEYS', key)) do
      local k = tonumber(name)
      if k and k < lo then f[#f + 1] = name end
    end
  end
  for i = 1, #f, 256 do
    local part = {unpack(f, i, math.min(i + 255, #f))}
    redis.call('HDEL', key, unpack(part))
    if sets then
      for j = 1, #part do part[j] = key .. ':' .. part[j] end
      redis.call('DEL', unpack(part))
    end
  end
  return lo
end

local function win_state(key)
  local st = redis.call('HMGET', key, 'h', 't', 'c', 'tb', 'w')
  if not st[1] then return nil end
  return tonumber(st[1]), tonumber(st[2]), tonumber(st[3]), tonumber(st[4]), tonumber(st[5])
end

-- The oldest bucket a key's window can still be read at (KeyedTable.low): reads are clipped
-- there and trims stop there, so when a trim happens changes no value.
local function low(cfg, w) return floor((w - LATE) / cfg.bs) - cfg.n + 1 end

-- Move the head to b (mirrors WindowTable._advance); returns the new total.
local function win_advance(cfg, key, h, c, tb, b, w)
  if c ~= 0 then redis.call('HSET', key, tostring(h), fmt(c)) end
  local start = b - cfg.n + 1
  local t = 0
  if start <= h then t = rsum(key, start, b - 1, nil, nil) end
  tb = trim(key, tb, low(cfg, w), false)
  redis.call('HSET', key, 'h', b, 't', fmt(t), 'c', '0', 'tb', tb)
  return t
end

-- The TTL is refreshed when a key is created or its head moves, not on every write: it is
-- far longer than a bucket, so a key written within one bucket cannot expire meanwhile.
-- Returns whether the update counted (false: too late for the key's watermark, dropped) and
-- the new total when the head is now b (what this event's own read will return).
local function win_add(cfg, key, b, ts, v)
  local h, t, c, tb, w = win_state(key)
  if not h then
    redis.call('HSET', key, 'h', b, 't', fmt(v), 'c', fmt(v), 'tb', b, 'w', ts)
    expire(key, cfg.ttl)
    return true, v
  end
  if ts > w then
    w = ts
    redis.call('HSET', key, 'w', ts)
  elseif ts < w - LATE then
    return false, nil
  end
  if b == h then
    redis.call('HSET', key, 't', fmt(t + v), 'c', fmt(c + v))
    return true, t + v
  elseif b > h then
    t = win_advance(cfg, key, h, c, tb, b, w)
    redis.call('HSET', key, 't', fmt(t + v), 'c', fmt(v))
    expire(key, cfg.ttl)
    return true, t + v
  end
  local field = tostring(b)
  local x = redis.call('HGET', key, field)
  redis.call('HSET', key, field, fmt((x and tonumber(x) or 0) + v))
  if b < tb then redis.call('HSET', key, 'tb', b) end
  if b > h - cfg.n then redis.call('HSET', key, 't', fmt(t + v)) end
  return true, nil
end

local function win_read(cfg, key, b)
  local h, t, c, tb, w = win_state(key)
  if not h then return 0 end
  if b == h then return t end
  if b > h then
    t = win_advance(cfg, key, h, c, tb, b, w)
    expire(key, cfg.ttl)
    return t
  end
  -- Clipped at low(): that cuts the window only for an event too late for this key.
  return rsum(key, math.max(b - cfg.n + 1, low(cfg, w)), b, h, c)
end

-- Distinct mirrors distinct.py: SET per bucket, and key:cnt = member -> number of buckets of
-- the head's window holding it, so a read at the head is one HLEN.
local function dist_forget(cnt, set)
  for _, m in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('HINCRBY', cnt, m, -1) <= 0 then redis.call('HDEL', cnt, m) end
  end
end

local function dist_advance(cfg, key, h, tb, b, w)
  local cnt = key .. ':cnt'
  local start = b - cfg.n + 1
  if start > h then
    redis.call('DEL', cnt)
  else
    for k = h - cfg.n + 1, start - 1 do
      if redis.call('HEXISTS', key, tostring(k)) == 1 then dist_forget(cnt, key .. ':' .. k) end
    end
  end
  tb = trim(key, tb, low(cfg, w), true)
  redis.call('HSET', key, 'h', b, 'tb', tb)
  expire(key, cfg.ttl)
  expire(cnt, cfg.ttl)
  return tb
end

local function dist_union(cfg, key, s, b)
  if b < s then return 0 end
  local fields = {}
  for k = s, b do fields[#fields + 1] = tostring(k) end
  local marks = redis.call('HMGET', key, unpack(fields))
  local sets = {}
  for i = 1, #fields do
    if marks[i] then sets[#sets + 1] = key .. ':' .. fields[i] end
  end
  if #sets == 0 then return 0 end
  if #sets == 1 then return redis.call('SCARD', sets[1]) end
  return #redis.call('SUNION', unpack(sets))
end

-- Returns whether the update counted (false: too late for the key's watermark, dropped).
local function dist_add(cfg, key, b, ts, m)
  local st = redis.call('HMGET', key, 'h', 'tb', 'w')
  local h, tb, w = tonumber(st[1]), tonumber(st[2]), tonumber(st[3])
  if not h then
    h, tb, w = b, b, ts
    redis.call('HSET', key, 'h', b, 'tb', b, 'w', ts)
    expire(key, cfg.ttl)
  elseif ts > w then
    w = ts
    redis.call('HSET', key, 'w', ts)
  elseif ts < w - LATE then
    return false
  end
  if b > h then
    tb = dist_advance(cfg, key, h, tb, b, w)
    h = b
  end
  local set = key .. ':' .. b
  local cnt = key .. ':cnt'
  if redis.call('SADD', set, m) == 1 and b > h - cfg.n then
    redis.call('HINCRBY', cnt, m, 1)
  end
  if redis.call('HSET', key, tostring(b), '1') > 0 then  -- a new bucket (and SET)
    expire(set, cfg.ttl)
    expire(cnt, cfg.ttl)
    if b < tb then redis.call('HSET', key, 'tb', b) end
  end
  if b < h then trim(key, math.min(tb, b), low(cfg, w), true) end
  return true
end

local function dist_read(cfg, key, b)
  local st = redis.call('HMGET', key, 'h', 'tb', 'w')
  local h = tonumber(st[1])
  if not h then return 0 end
  if b > h then
    dist_advance(cfg, key, h, tonumber(st[2]), b, tonumber(st[3]))
    h = b
  end
  if b == h then return redis.call('HLEN', key .. ':cnt') end
  return dist_union(cfg, key, math.max(b - cfg.n + 1, low(cfg, tonumber(st[3]))), b)
end

-- Age: f, the first counted second, and l, the last (the key's watermark).
local function age_add(cfg, key, ts)
  local st = redis.call('HMGET', key, 'f', 'l')
  local first, last = tonumber(st[1]), tonumber(st[2])
  if not first then
    redis.call('HSET', key, 'f', ts, 'l', ts)
  elseif ts > last then
    redis.call('HSET', key, 'l', ts)
  elseif ts < last - LATE then
    return false
  end
  if first and ts < first then redis.call('HSET', key, 'f', ts) end
  expire(key, cfg.ttl)
  return true
end

for _, cfg in ipairs(T) do cfg.pre = P .. ':f:' .. cfg.name .. ':' end
local out = {0}
for _, ev in ipairs(cjson.decode(ARGV[3])) do
  local ts, ups, rds = ev[1], ev[2], ev[3]
  local fresh = {}  -- window key -> total after this event's update (saves the read's HMGET)
  local counted = true
  for i = 1, #ups, 3 do
    local cfg = T[ups[i]]
    local key = cfg.pre .. ups[i + 1]
    local ok
    if cfg.kind == 'w' then
      ok, fresh[key] = win_add(cfg, key, floor(ts / cfg.bs), ts, tonumber(ups[i + 2]))
    elseif cfg.kind == 'd' then
      ok = dist_add(cfg, key, floor(ts / cfg.bs), ts, ups[i + 2])
    else
      ok = age_add(cfg, key, ts)
    end
    counted = counted and ok
  end
  if not counted then out[1] = out[1] + 1 end
  for i = 1, #rds, 2 do
    local cfg = T[rds[i]]
    local key = cfg.pre .. rds[i + 1]
    local v
    if cfg.kind == 'w' then
      v = fresh[key] or win_read(cfg, key, floor(ts / cfg.bs))
      if not cfg.int then v = fmt(v) end
    elseif cfg.kind == 'd' then
      v = dist_read(cfg, key, floor(ts / cfg.bs))
    else
      v = redis.call('HGET', key, 'f')
      if not v then v = cjson.null end
    end
    out[#out + 1] = v
  end
end
-- One JSON reply instead of thousands of RESP values: decoding it is far cheaper in Python.
-- Counts are integers (exact in %.14g below 1e14); float sums are already %.17g strings.
return cjson.encode(out)
"""

"""The server-side half of RedisStore: one Lua script that applies a batch of events in order.

Why a script and not a pipeline: an event's reads depend on its own updates and on the
watermark, and a batch's events depend on each other; a script runs them in order on the
server, atomically, in one round trip, and so gives exactly the one-by-one results.

The window algorithm mirrors windows.py step for step (same head moves, same ascending
summation, numbers stored with 17 significant digits so a double survives the round trip),
because float sums must come out bit-identical to MemoryStore's. Distinct keeps exact
per-bucket SETs plus running member counts for the head's window, exactly as in memory.

Layout (P = prefix, kh = hash of the key values):
    P:wm                  the watermark (largest ts seen); it expires with the longest window
                          state (WM_TTL), so a watermark nothing writes to any more goes
    P:f:<table>:<kh>      window: HASH h (head), t (total), c (head bucket), tb (trimmed
                          below), <bucket> -> value;  distinct: HASH h, tb, <bucket> -> 1;
                          age: STRING first-seen epoch seconds
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
    # The watermark lives as long as the longest-lived window state (ages excepted): once
    # that has expired there is nothing left for it to judge lateness against.
    wm_ttl = max((ttl for t, ttl in zip(tables, ttls, strict=True) if t.kind != "age"), default=0)
    return f"local T = {{\n{rows}\n}}\nlocal WM_TTL = {wm_ttl}\n{_BODY}"


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
  local st = redis.call('HMGET', key, 'h', 't', 'c', 'tb')
  if not st[1] then return nil end
  return tonumber(st[1]), tonumber(st[2]), tonumber(st[3]), tonumber(st[4])
end

-- Move the head to b (mirrors WindowTable._advance); returns the new total.
local function win_advance(cfg, key, h, c, tb, b, wl)
  if c ~= 0 then redis.call('HSET', key, tostring(h), fmt(c)) end
  local start = b - cfg.n + 1
  local t = 0
  if start <= h then t = rsum(key, start, b - 1, nil, nil) end
  tb = trim(key, tb, floor(wl / cfg.bs) - cfg.n + 1, false)
  redis.call('HSET', key, 'h', b, 't', fmt(t), 'c', '0', 'tb', tb)
  return t
end

-- The TTL is refreshed when a key is created or its head moves, not on every write: it is
-- far longer than a bucket, so a key written within one bucket cannot expire meanwhile.
-- Returns the new total when the head is now b (what this event's own read will return).
local function win_add(cfg, key, b, v, wl)
  local h, t, c, tb = win_state(key)
  if not h then
    redis.call('HSET', key, 'h', b, 't', fmt(v), 'c', fmt(v), 'tb', b)
    expire(key, cfg.ttl)
    return v
  elseif b == h then
    redis.call('HSET', key, 't', fmt(t + v), 'c', fmt(c + v))
    return t + v
  elseif b > h then
    t = win_advance(cfg, key, h, c, tb, b, wl)
    redis.call('HSET', key, 't', fmt(t + v), 'c', fmt(v))
    expire(key, cfg.ttl)
    return t + v
  else
    local field = tostring(b)
    local x = redis.call('HGET', key, field)
    redis.call('HSET', key, field, fmt((x and tonumber(x) or 0) + v))
    if b < tb then redis.call('HSET', key, 'tb', b) end
    if b > h - cfg.n then redis.call('HSET', key, 't', fmt(t + v)) end
  end
  return nil
end

local function win_read(cfg, key, b, wl, late)
  local h, t, c, tb = win_state(key)
  if not h then return 0 end
  if late then
    local s = math.max(b - cfg.n + 1, floor(wl / cfg.bs) - cfg.n + 1)
    return rsum(key, s, b, h, c)
  end
  if b == h then return t end
  if b > h then
    t = win_advance(cfg, key, h, c, tb, b, wl)
    expire(key, cfg.ttl)
    return t
  end
  return rsum(key, b - cfg.n + 1, b, nil, nil)
end

-- Distinct mirrors distinct.py: SET per bucket, and key:cnt = member -> number of buckets of
-- the head's window holding it, so a read at the head is one HLEN.
local function dist_forget(cnt, set)
  for _, m in ipairs(redis.call('SMEMBERS', set)) do
    if redis.call('HINCRBY', cnt, m, -1) <= 0 then redis.call('HDEL', cnt, m) end
  end
end

local function dist_advance(cfg, key, h, tb, b, wl)
  local cnt = key .. ':cnt'
  local start = b - cfg.n + 1
  if start > h then
    redis.call('DEL', cnt)
  else
    for k = h - cfg.n + 1, start - 1 do
      if redis.call('HEXISTS', key, tostring(k)) == 1 then dist_forget(cnt, key .. ':' .. k) end
    end
  end
  tb = trim(key, tb, floor(wl / cfg.bs) - cfg.n + 1, true)
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

local function dist_add(cfg, key, b, m, wl)
  local st = redis.call('HMGET', key, 'h', 'tb')
  local h, tb = tonumber(st[1]), tonumber(st[2])
  if not h then
    h, tb = b, b
    redis.call('HSET', key, 'h', b, 'tb', b)
    expire(key, cfg.ttl)
  elseif b > h then
    tb = dist_advance(cfg, key, h, tb, b, wl)
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
  if b < h then trim(key, math.min(tb, b), floor(wl / cfg.bs) - cfg.n + 1, true) end
end

local function dist_read(cfg, key, b, wl, late)
  if late then
    return dist_union(cfg, key, math.max(b - cfg.n + 1, floor(wl / cfg.bs) - cfg.n + 1), b)
  end
  local st = redis.call('HMGET', key, 'h', 'tb')
  local h = tonumber(st[1])
  if not h then return 0 end
  if b > h then
    dist_advance(cfg, key, h, tonumber(st[2]), b, wl)
    h = b
  end
  if b == h then return redis.call('HLEN', key .. ':cnt') end
  return dist_union(cfg, key, b - cfg.n + 1, b)
end

local function age_add(cfg, key, ts)
  local first = redis.call('GET', key)
  if not first or ts < tonumber(first) then redis.call('SET', key, ts) end
  expire(key, cfg.ttl)
end

local wmkey = P .. ':wm'
local W = tonumber(redis.call('GET', wmkey) or '-1e300')
for _, cfg in ipairs(T) do cfg.pre = P .. ':f:' .. cfg.name .. ':' end
local out = {0}
for _, ev in ipairs(cjson.decode(ARGV[3])) do
  local ts, ups, rds = ev[1], ev[2], ev[3]
  local fresh = {}  -- window key -> total after this event's update (saves the read's HMGET)
  if ts > W then W = ts end
  local wl = W - LATE
  local late = ts < wl
  if late then
    if #ups > 0 then out[1] = out[1] + 1 end
  else
    for i = 1, #ups, 3 do
      local cfg = T[ups[i]]
      local key = cfg.pre .. ups[i + 1]
      if cfg.kind == 'w' then
        fresh[key] = win_add(cfg, key, floor(ts / cfg.bs), tonumber(ups[i + 2]), wl)
      elseif cfg.kind == 'd' then
        dist_add(cfg, key, floor(ts / cfg.bs), ups[i + 2], wl)
      else
        age_add(cfg, key, ts)
      end
    end
  end
  for i = 1, #rds, 2 do
    local cfg = T[rds[i]]
    local key = cfg.pre .. rds[i + 1]
    local v
    if cfg.kind == 'w' then
      v = fresh[key] or win_read(cfg, key, floor(ts / cfg.bs), wl, late)
      if not cfg.int then v = fmt(v) end
    elseif cfg.kind == 'd' then
      v = dist_read(cfg, key, floor(ts / cfg.bs), wl, late)
    else
      v = redis.call('GET', key)
      if not v then v = cjson.null end
    end
    out[#out + 1] = v
  end
end
if WM_TTL > 0 then
  redis.call('SET', wmkey, fmt(W), 'EX', WM_TTL)
else
  redis.call('SET', wmkey, fmt(W))
end
-- One JSON reply instead of thousands of RESP values: decoding it is far cheaper in Python.
-- Counts are integers (exact in %.14g below 1e14); float sums are already %.17g strings.
return cjson.encode(out)
"""

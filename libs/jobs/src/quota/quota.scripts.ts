/**
 * Lua scripts of the quota gate: each runs atomically in Redis, so api replicas admitting at
 * once see one order. Times are milliseconds from the gate's clock (passed in, so every key of
 * one call agrees on the window), and every key written gets a TTL relative to that clock.
 */

/** How long a key outlives its window or lease: covers clocks of api replicas that run behind. */
export const QUOTA_KEY_SLACK_MS = 60_000;

/**
 * KEYS: per scope i (5 each): slots, queued, rpm window, tpm window, tpd window; then the
 * reservation key.
 * ARGV: now, id, leaseMs, queueTtlMs, requests, tokens, slot (1/0), queue (1/0), minute end,
 * day end, scope count n, then per scope 5 limits (-1: none) in the order of its keys.
 *
 * Checks every limit first and writes only when all pass, so a refusal changes nothing
 * (dropping leases that expired changes no count that anyone could observe). A window is
 * checked only when something is asked of it; a limit admits a demand that brings usage
 * exactly to it (`used + demand > limit` refuses).
 *
 * Refusal: {0, scope, limit (1..5), max, current, requested, retry after ms (-1: never)}.
 * Admission: {1, requests limit, remaining, reset ms, tokens limit, remaining, reset ms} (-1: none).
 */
export const ADMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local id = ARGV[2]
local lease = tonumber(ARGV[3])
local qttl = tonumber(ARGV[4])
local req = tonumber(ARGV[5])
local tok = tonumber(ARGV[6])
local wantSlot = ARGV[7] == '1'
local wantQueue = ARGV[8] == '1'
local n = tonumber(ARGV[11])
local slack = ${QUOTA_KEY_SLACK_MS}
-- Per window kind (3: requests/minute, 4: tokens/minute, 5: tokens/day): what is asked, and when it ends.
local want = {0, 0, req, tok, tok}
local left = {0, 0, tonumber(ARGV[9]) - now, tonumber(ARGV[9]) - now, tonumber(ARGV[10]) - now}

local lim, used = {}, {}
for j = 1, n * 5 do
  lim[j] = tonumber(ARGV[11 + j])
end

local function earliest(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] then return tonumber(first[2]) - now end
  return -1
end

for i = 1, n do
  local b = (i - 1) * 5
  if wantSlot and lim[b + 1] >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[b + 1], '-inf', now)
    local held = redis.call('ZCARD', KEYS[b + 1])
    if held + 1 > lim[b + 1] then return {0, i, 1, lim[b + 1], held, 1, earliest(KEYS[b + 1])} end
  end
  if wantQueue and lim[b + 2] >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[b + 2], '-inf', now)
    local queued = redis.call('ZCARD', KEYS[b + 2])
    if queued + 1 > lim[b + 2] then return {0, i, 2, lim[b + 2], queued, 1, earliest(KEYS[b + 2])} end
  end
  for d = 3, 5 do
    local l = lim[b + d]
    if l >= 0 then
      local cur = tonumber(redis.call('GET', KEYS[b + d]) or '0')
      used[b + d] = cur
      local w = want[d]
      if w > 0 and cur + w > l then
        if w > l then return {0, i, d, l, cur, w, -1} end
        return {0, i, d, l, cur, w, left[d]}
      end
    end
  end
end

local rl, rr, rs, tl, tr, ts = -1, -1, -1, -1, -1, -1
local charged = 0
for i = 1, n do
  local b = (i - 1) * 5
  if wantSlot and lim[b + 1] >= 0 then
    redis.call('ZADD', KEYS[b + 1], now + lease, id)
    if redis.call('PTTL', KEYS[b + 1]) < lease + slack then redis.call('PEXPIRE', KEYS[b + 1], lease + slack) end
  end
  if wantQueue and lim[b + 2] >= 0 then
    redis.call('ZADD', KEYS[b + 2], now + qttl, id)
    if redis.call('PTTL', KEYS[b + 2]) < qttl + slack then redis.call('PEXPIRE', KEYS[b + 2], qttl + slack) end
  end
  for d = 3, 5 do
    local l = lim[b + d]
    if l >= 0 then
      local w = want[d]
      if w > 0 then
        redis.call('INCRBY', KEYS[b + d], w)
        redis.call('PEXPIRE', KEYS[b + d], left[d] + slack)
        if d > 3 and left[d] + slack > charged then charged = left[d] + slack end
      end
      local r = l - used[b + d] - w
      if r < 0 then r = 0 end
      if d == 3 then
        if rr < 0 or r < rr then rl, rr, rs = l, r, left[d] end
      elseif tr < 0 or r < tr then
        tl, tr, ts = l, r, left[d]
      end
    end
  end
end
if charged > 0 then redis.call('SET', KEYS[n * 5 + 1], tok, 'PX', charged) end
return {1, rl, rr, rs, tl, tr, ts}
`;

/** KEYS: the hold's sorted sets. ARGV: id. Frees a slot or queue place; freeing one twice changes nothing. */
export const RELEASE_SCRIPT = `
local n = 0
for i = 1, #KEYS do n = n + redis.call('ZREM', KEYS[i], ARGV[1]) end
return n
`;

/**
 * KEYS: the slot's sorted sets. ARGV: id, now, leaseMs. Extends a live lease to now + leaseMs
 * and returns 1; a lease that lapsed anywhere is lost: removed everywhere, returns 0 (another
 * admission may have been counted in its place).
 */
export const RENEW_SCRIPT = `
local id = ARGV[1]
local now = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
for i = 1, #KEYS do
  local s = redis.call('ZSCORE', KEYS[i], id)
  if not s or tonumber(s) <= now then
    for j = 1, #KEYS do redis.call('ZREM', KEYS[j], id) end
    return 0
  end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now + lease, id)
  if redis.call('PTTL', KEYS[i]) < lease + ${QUOTA_KEY_SLACK_MS} then redis.call('PEXPIRE', KEYS[i], lease + ${QUOTA_KEY_SLACK_MS}) end
end
return 1
`;

/**
 * KEYS: the reservation, then the token windows it charged. ARGV: actual tokens. Replaces the
 * reservation by the actual count in every window still alive (never below zero) and deletes
 * the reservation, so a second settle finds none and changes nothing. Returns {settled, reserved}.
 */
export const SETTLE_SCRIPT = `
local r = redis.call('GET', KEYS[1])
if not r then return {0, 0} end
redis.call('DEL', KEYS[1])
local delta = tonumber(ARGV[1]) - tonumber(r)
if delta ~= 0 then
  for i = 2, #KEYS do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      if redis.call('INCRBY', KEYS[i], delta) < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
    end
  end
end
return {1, tonumber(r)}
`;

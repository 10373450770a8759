/**
 * Lua scripts over a job's stream (`…:events`) and control hash (`…:ctl`). The control hash
 * holds the attempt allowed to write and, once the job has ended, `closed`. Every write by a
 * node is fenced by both, atomically: a stale attempt or a closed job writes nothing, so a
 * re-run never adds text to a stream a client already read, and nothing arrives late.
 */

const TRIM = `'MAXLEN', '~', ARGV[1]`;

/**
 * KEYS: stream, control, progress. ARGV: maxlen, attempt, jobId, nodeId, mode ('append' or
 * 'end'), open TTL, ended TTL, then pairs (note, event JSON); note is 'started',
 * 'first_token' or '' and goes to the progress stream with the event. The first token also
 * marks the control hash (`tokens`): from then on the job is never handed to another attempt.
 * Returns 1 when the events were written, 0 when fenced.
 */
export const APPEND_SCRIPT = `
local current = redis.call('HGET', KEYS[2], 'attempt')
local ok = current == ARGV[2] and redis.call('HEXISTS', KEYS[2], 'closed') == 0
if ok then
  for i = 8, #ARGV, 2 do
    redis.call('XADD', KEYS[1], ${TRIM}, '*', 'a', ARGV[2], 'e', ARGV[i + 1])
    if ARGV[i] ~= '' then
      redis.call('XADD', KEYS[3], ${TRIM}, '*', 'job', ARGV[3], 'a', ARGV[2], 'kind', ARGV[i], 'node', ARGV[4])
      if ARGV[i] == 'first_token' then redis.call('HSET', KEYS[2], 'tokens', '1') end
    end
  end
end
if ARGV[5] == 'end' then
  if ok then
    redis.call('HSET', KEYS[2], 'closed', 'ended')
    redis.call('EXPIRE', KEYS[1], ARGV[7])
    redis.call('EXPIRE', KEYS[2], ARGV[7])
  end
  redis.call('XADD', KEYS[3], ${TRIM}, '*', 'job', ARGV[3], 'a', ARGV[2], 'kind', 'ended', 'node', ARGV[4], 'fenced', ok and '0' or '1')
elseif ok then
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
if ok then return 1 else return 0 end
`;

/**
 * Hands the job to an attempt. KEYS: control. ARGV: attempt, open TTL.
 * Returns 1, or 0 when the job is already closed.
 */
export const OPEN_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'closed') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'attempt', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
`;

/**
 * The control plane ends a job (cancelled, expired, failed): KEYS: stream, control.
 * ARGV: maxlen, final event JSON or '', ended TTL, reason, cancel channel, jobId, the attempt
 * it ends or ''. Its event is marked `c` (control plane), not a node's outcome.
 * Returns 'closed' when this call closed it; 'stale' when the job belongs to another attempt;
 * otherwise the reason it was closed before ('ended' by its node, or a control-plane reason).
 */
export const CLOSE_SCRIPT = `
local before = redis.call('HGET', KEYS[2], 'closed')
if before then return before end
local attempt = redis.call('HGET', KEYS[2], 'attempt') or '0'
if ARGV[7] ~= '' and attempt ~= '0' and attempt ~= ARGV[7] then return 'stale' end
redis.call('HSET', KEYS[2], 'closed', ARGV[4])
if ARGV[2] ~= '' then
  redis.call('XADD', KEYS[1], ${TRIM}, '*', 'a', attempt, 'c', '1', 'e', ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 'closed'
`;

/**
 * Hands a lost attempt's job to the next attempt, at once, so the old one can write nothing
 * more, but only while no token was written, unless the next attempt continues the text
 * written so far. KEYS: control. ARGV: lost attempt, next attempt, open TTL, '1' to continue
 * ('' otherwise). Returns 1; 0 when the job is closed; -1 when a token was written; -2 when
 * another attempt owns it.
 */
export const REASSIGN_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'closed') == 1 then return 0 end
if ARGV[4] ~= '1' and redis.call('HEXISTS', KEYS[1], 'tokens') == 1 then return -1 end
local current = redis.call('HGET', KEYS[1], 'attempt')
if current and current ~= ARGV[1] and current ~= ARGV[2] then return -2 end
redis.call('HSET', KEYS[1], 'attempt', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * Lua scripts. A Lua script is atomic but not transactional (an error half-way keeps the
 * writes before it), so each script checks everything first and writes after.
 */

/**
 * COMMIT — fenced, versioned, all-or-nothing commit of a batch of customer states of one
 * partition, with their decisions appended to the outbox under fresh sequence numbers,
 * their next due times scheduled and their recent-decision history updated.
 *
 * KEYS: epoch, seq, outbox, timers, history, then per item: customer state key
 * ARGV: expectedEpoch, itemCount, historyCap, then per item:
 *       customerId, expectedVersion, newState, decision ('' = none), dueAt ('' = none), historyEntry
 * History: the hash field of the customer holds its last `historyCap` entries, newest first,
 * separated by newlines (entries hold none).
 * Returns {1, seq_1, …, seq_n} (0 for items without a decision),
 *         {-1, currentEpoch} when another owner took over (nothing written),
 *         {-2, itemIndex, currentVersion} on a version conflict (nothing written).
 */
export const COMMIT = `
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {-1, epoch or ''} end
local n = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local versions = {}
for i = 1, n do
  local a = 3 + (i - 1) * 6
  local cur = redis.call('GET', KEYS[5 + i])
  local ver = 0
  if cur then
    local bar = string.find(cur, '|', 1, true)
    ver = tonumber(string.sub(cur, 1, bar - 1))
  end
  if ver ~= tonumber(ARGV[a + 2]) then return {-2, i, ver} end
  versions[i] = ver
end
local out = {1}
for i = 1, n do
  local a = 3 + (i - 1) * 6
  local cid = ARGV[a + 1]
  redis.call('SET', KEYS[5 + i], (versions[i] + 1) .. '|' .. ARGV[a + 3])
  local decision = ARGV[a + 4]
  if decision ~= '' then
    local s = redis.call('INCR', KEYS[2])
    redis.call('XADD', KEYS[3], s .. '-1', 'd', decision)
    out[#out + 1] = s
    local entry = ARGV[a + 6]
    if cap > 0 and entry ~= '' then
      local v = entry
      local old = redis.call('HGET', KEYS[5], cid)
      if old and cap > 1 then
        -- keep the newest cap - 1 old entries: cut at the (cap - 1)-th newline, if any
        local pos = 0
        for k = 1, cap - 1 do
          pos = string.find(old, '\\n', pos + 1, true)
          if not pos then break end
        end
        if pos then v = entry .. '\\n' .. string.sub(old, 1, pos - 1) else v = entry .. '\\n' .. old end
      end
      redis.call('HSET', KEYS[5], cid, v)
    end
  else
    out[#out + 1] = 0
  end
  local due = ARGV[a + 5]
  if due ~= '' then
    redis.call('ZADD', KEYS[4], tonumber(due), cid)
  else
    redis.call('ZREM', KEYS[4], cid)
  end
end
return out
`;

/** CLAIM — a new owner takes the partition: bumps the epoch so a stale owner's commits fail. */
export const CLAIM = `return redis.call('INCR', KEYS[1])`;

/**
 * ACK — drops outbox entries up to and including seq ARGV[1] once Kafka acknowledged them.
 * Safe for a stale owner too: it only removes what it had itself delivered.
 */
export const ACK = `return redis.call('XTRIM', KEYS[1], 'MINID', (tonumber(ARGV[1]) + 1) .. '-0')`;

/**
 * Lua scripts. A Lua script is atomic but not transactional (an error half-way keeps the
 * writes before it), so each script checks everything first and writes after.
 */

/**
 * COMMIT — fenced, versioned, all-or-nothing commit of a batch of customer states of one
 * partition, with their decisions appended to the outbox under fresh sequence numbers,
 * their next due times scheduled and their recent-decision history updated.
 *
 * KEYS: epoch, seq, outbox, timers, history, population, then per item: customer state key,
 *       customer ids key, then (with an applied offset) the partition's applied-offset key
 * ARGV: expectedEpoch, itemCount, historyCap, then per item:
 *       customerId, expectedVersion, newState, dueAt ('' = none), idsHorizon ('' = leave the
 *       ids key alone), decisionCount, idCount, populationCount,
 *       then per decision (oldest first): decision, historyEntry ('' = none),
 *       then per new id: eventId, occurredAt,
 *       then per population change: field (a label, or '~none'), delta,
 *       then, optionally, the input offset these states have applied up to (exclusive)
 * Applied offset: where the backfill of a rules switch stops reading the partition's history
 * (the states hold every event before it); written in the same atomic step as the states.
 * Ids: the new ones are added to the customer's sorted set, then every id older than the
 * horizon is removed (an empty sorted set is deleted by Redis).
 * History: the hash field of the customer holds its last `historyCap` entries, newest first,
 * separated by newlines (entries hold none).
 * Population: the partition's counters (see keys.ts) move by the deltas in the same atomic
 * step as the states, so they are exactly the census of the committed states.
 * Returns {1, seq, …}: one sequence number per decision, in argument order,
 *         {-1, currentEpoch} when another owner took over (nothing written),
 *         {-2, itemIndex, currentVersion} on a version conflict (nothing written).
 */
export const COMMIT = `
local epoch = redis.call('GET', KEYS[1])
if epoch ~= ARGV[1] then return {-1, epoch or ''} end
local n = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local versions = {}
local starts = {}
local a = 4
for i = 1, n do
  starts[i] = a
  local cur = redis.call('GET', KEYS[5 + 2 * i])
  local ver = 0
  if cur then
    local bar = string.find(cur, '|', 1, true)
    ver = tonumber(string.sub(cur, 1, bar - 1))
  end
  if ver ~= tonumber(ARGV[a + 1]) then return {-2, i, ver} end
  versions[i] = ver
  a = a + 8 + 2 * tonumber(ARGV[a + 5]) + 2 * tonumber(ARGV[a + 6]) + 2 * tonumber(ARGV[a + 7])
end
if ARGV[a] then redis.call('SET', KEYS[#KEYS], ARGV[a]) end
local out = {1}
for i = 1, n do
  a = starts[i]
  local cid = ARGV[a]
  redis.call('SET', KEYS[5 + 2 * i], (versions[i] + 1) .. '|' .. ARGV[a + 2])
  local due = ARGV[a + 3]
  if due ~= '' then
    redis.call('ZADD', KEYS[4], tonumber(due), cid)
  else
    redis.call('ZREM', KEYS[4], cid)
  end
  local horizon = ARGV[a + 4]
  local k = tonumber(ARGV[a + 5])
  local m = tonumber(ARGV[a + 6])
  local pc = tonumber(ARGV[a + 7])
  local entries = {}
  for j = 1, k do
    local s = redis.call('INCR', KEYS[2])
    redis.call('XADD', KEYS[3], s .. '-1', 'd', ARGV[a + 6 + 2 * j])
    out[#out + 1] = s
    local entry = ARGV[a + 7 + 2 * j]
    if entry ~= '' then table.insert(entries, 1, entry) end
  end
  local pbase = a + 7 + 2 * k + 2 * m
  for j = 1, pc do
    redis.call('HINCRBY', KEYS[6], ARGV[pbase + 2 * j - 1], ARGV[pbase + 2 * j])
  end
  if horizon ~= '' then
    local idKey = KEYS[6 + 2 * i]
    local base = a + 7 + 2 * k
    -- ZADD score member …, in chunks (Lua's unpack has a stack limit)
    local j = 1
    while j <= m do
      local args = {}
      local upto = math.min(m, j + 499)
      for x = j, upto do
        args[#args + 1] = ARGV[base + 2 * x]
        args[#args + 1] = ARGV[base + 2 * x - 1]
      end
      redis.call('ZADD', idKey, unpack(args))
      j = upto + 1
    end
    redis.call('ZREMRANGEBYSCORE', idKey, '-inf', '(' .. horizon)
  end
  if cap > 0 and #entries > 0 then
    local v = table.concat(entries, '\\n')
    local old = redis.call('HGET', KEYS[5], cid)
    if old then v = v .. '\\n' .. old end
    -- keep the newest cap entries: cut at the cap-th newline, if any
    local pos = 0
    for c = 1, cap do
      pos = string.find(v, '\\n', pos + 1, true)
      if not pos then break end
    end
    if pos then v = string.sub(v, 1, pos - 1) end
    redis.call('HSET', KEYS[5], cid, v)
  end
end
return out
`;

/**
 * CLAIM — a new owner takes the partition: bumps the epoch so a stale owner's commits fail.
 * KEYS: epoch, population. Returns {newEpoch, current}: current = 1 when the population
 * counters were kept by the previous owner (their `~epoch` is the epoch just replaced), and
 * are now this owner's; 0 when they are absent or someone claimed the partition without
 * keeping them (a version before the counters, or a rebuild that did not finish): the new
 * owner rebuilds them ({@link POPULATION_INIT}) before committing anything.
 */
export const CLAIM = `
local prev = redis.call('GET', KEYS[1]) or '0'
local e = redis.call('INCR', KEYS[1])
if redis.call('HGET', KEYS[2], '~epoch') == prev then
  redis.call('HSET', KEYS[2], '~epoch', e)
  return {e, 1}
end
return {e, 0}
`;

/**
 * POPULATION_INIT — replaces the partition's population counters with a fresh census,
 * fenced like a commit. KEYS: epoch, population. ARGV: expectedEpoch, then field, count
 * pairs. Returns 1, or -1 when another owner took over (nothing written).
 */
export const POPULATION_INIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], '~epoch', ARGV[1])
for i = 2, #ARGV - 1, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
`;

/**
 * ACK — drops outbox entries up to and including seq ARGV[1] once Kafka acknowledged them.
 * Safe for a stale owner too: it only removes what it had itself delivered.
 */
export const ACK = `return redis.call('XTRIM', KEYS[1], 'MINID', (tonumber(ARGV[1]) + 1) .. '-0')`;

/**
 * PUBLISH_RULES — compare-and-set of the rules channel: publishes a new rules text as the
 * next sequence number only if the channel is still at the expected one (a racing deploy
 * fails whole, nothing written).
 * KEYS: current, log. ARGV: prefix, expectedSeq, text, version, hash, publishedAt, note.
 * The text key (`<prefix>:{rules}:text:<seq>`) shares the `{rules}` hash tag, so the same slot.
 * Returns {1, newSeq} or {-1, currentSeq}.
 */
export const PUBLISH_RULES = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if cur ~= tonumber(ARGV[2]) then return {-1, cur} end
local seq = cur + 1
redis.call('SET', ARGV[1] .. ':{rules}:text:' .. seq, ARGV[3])
redis.call('HSET', KEYS[1], 'seq', seq, 'version', ARGV[4], 'hash', ARGV[5], 'publishedAt', ARGV[6], 'note', ARGV[7])
redis.call('LPUSH', KEYS[2], seq .. '|' .. ARGV[4] .. '|' .. ARGV[5] .. '|' .. ARGV[6] .. '|' .. ARGV[7])
return {1, seq}
`;

/**
 * SWITCH_RULES — the owner puts a rules sequence in force for its partition and starts the
 * sweep at SCAN cursor 0. Fenced like COMMIT: a stale owner's switch writes nothing.
 * KEYS: epoch, partition rules. ARGV: expectedEpoch, seq, version, switchedAt, warming (JSON),
 * switch point (JSON, optional: where the partition's input and timers stood).
 * Returns 1, or -1 when fenced.
 */
export const SWITCH_RULES = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[2], 'seq', ARGV[2], 'version', ARGV[3], 'switchedAt', ARGV[4], 'cursor', '0', 'swept', 0, 'warming', ARGV[5], 'point', ARGV[6] or '')
return 1
`;

/**
 * SWEEP_PROGRESS — the owner saves its sweep's SCAN cursor ('' = done) after re-evaluating
 * ARGV[3] more customers. Fenced.
 * KEYS: epoch, partition rules. ARGV: expectedEpoch, cursor, count. Returns 1, or -1 when fenced.
 */
export const SWEEP_PROGRESS = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[2], 'cursor', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'swept', ARGV[3])
return 1
`;

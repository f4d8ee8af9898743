/**
 * Lua scripts of the Redis admission backend. Redis runs each script
 * atomically, so a decision across every limit and its bookkeeping cannot
 * interleave with another gateway process. The arithmetic follows
 * decision.ts step for step, and numbers are stored with up to 17 significant
 * digits so a round trip through Redis does not change them. USD sums are rounded
 * to the picodollar with the same rule as in JavaScript, in Lua instead of with
 * HINCRBYFLOAT, which adds in long double and prints 17 decimals.
 *
 * A tenant's spend and reservations live in the spend hash of their budget period. For a
 * `total` budget that is the tenant's state hash itself, as before budget periods existed.
 * For a `day` or `month` budget it is a hash of its own, which expires a ticket TTL after
 * its period ends, once no ticket of the period can still settle into it. Each ticket
 * stores the key of the period that admitted it, and its spend counts there. Each spend
 * hash also keeps the `budgetUsd` of its period's last admission, which a charge of the
 * period's tickets is checked against, so a restart that changed the tenant's budget
 * period leaves the older tickets with their own period's budget.
 */
import { ROUND_USD_LUA } from '../cost/usd.js';

/**
 * Expired tickets one admission closes at most, which bounds the script's run time.
 * The next admission closes the next ones.
 */
const EXPIRED_PER_ADMIT = 64;

/**
 * Lua functions for the run charges of an open ticket, stored in one field per
 * ticket as `run=usd` pairs separated by spaces, such as `1=0.25 2=0.125`.
 */
const RUN_CHARGES_LUA = `${ROUND_USD_LUA}
local function readRunCharges(encoded)
  local charges = {}
  if encoded then
    for run, usd in string.gmatch(encoded, '(%d+)=(%S+)') do
      charges[run] = tonumber(usd)
    end
  end
  return charges
end
local function encodeRunCharges(charges)
  local pairs_ = {}
  for run, usd in pairs(charges) do
    pairs_[#pairs_ + 1] = run .. '=' .. formatUsd(usd)
  end
  return table.concat(pairs_, ' ')
end
`;

/**
 * Lua function that reads an open ticket's entry in the tickets hash: `usd` for a ticket
 * of a `total` budget, or `usd periodKey`, such as `0.5 day:2026-12-06`. Returns the
 * reserved USD and the period key.
 */
const TICKET_LUA = `
local function readTicket(value)
  local usd, period = string.match(value, '^(%S+) (%S+)$')
  if usd then
    return tonumber(usd), period
  end
  return tonumber(value), 'total'
end
`;

/**
 * KEYS[1] tenant state hash, KEYS[2] open tickets hash (ticket id to its entry, as
 * TICKET_LUA reads it), KEYS[3] open tickets sorted set (ticket id by expiry time in ms),
 * KEYS[4] run charges hash (ticket id to the spend charged for each run of its task),
 * KEYS[5] spend hash of the current budget period, KEYS[6] spend hash of the period
 * before it. For a `total` budget, KEYS[5] and KEYS[6] are KEYS[1].
 * ARGV: now in ms ('' reads the server's TIME), requestsPerMinute, tokensPerMinute,
 * maxInFlight, budgetUsd, tokens, maxCostUsd, ticket TTL s, budget Retry-After s,
 * ticket id, current period key, its start and end in ms ('' for `total`), the previous
 * period key, and the ms at which KEYS[5] expires ('' for never).
 * Returns {2, now} when now is outside the current period, so the caller retries with the
 * period that contains now. Closes up to EXPIRED_PER_ADMIT expired tickets first, without
 * a charge. An expired ticket of a period older than the previous one frees its in-flight
 * slot only, because its spend hash is not among KEYS.
 * Returns {1} when admitted, else {0, reason, retryAfterSeconds}, and for a budget
 * rejection a fourth element, 1 when the task would fit once running tasks free their
 * reservations, else 0.
 */
export const ADMIT_SCRIPT = `${ROUND_USD_LUA}${TICKET_LUA}
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
if ARGV[12] ~= '' and (now < tonumber(ARGV[12]) or now >= tonumber(ARGV[13])) then
  return {2, now}
end
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local maxInFlight = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local tokens = tonumber(ARGV[6])
local cost = tonumber(ARGV[7])
local function spendKeyOf(period)
  if period == ARGV[11] then return KEYS[5] end
  if period == ARGV[14] then return KEYS[6] end
  if period == 'total' then return KEYS[1] end
  return nil
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, ${EXPIRED_PER_ADMIT})
for _, id in ipairs(expired) do
  local entry = redis.call('HGET', KEYS[2], id)
  if entry then
    local ticketReserved, period = readTicket(entry)
    redis.call('HINCRBY', KEYS[1], 'inflight', -1)
    local key = spendKeyOf(period)
    -- A spend hash that expired stays deleted.
    if key and redis.call('EXISTS', key) == 1 then
      local stored = tonumber(redis.call('HGET', key, 'reserved')) or 0
      redis.call('HSET', key, 'reserved', formatUsd(math.max(0, roundUsd(stored - ticketReserved))))
    end
    redis.call('HDEL', KEYS[2], id)
  end
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
end
local s = redis.call('HMGET', KEYS[1], 'rq', 'tk', 'ts', 'inflight')
local rq = tonumber(s[1]) or rpm
local tk = tonumber(s[2]) or tpm
local ts = tonumber(s[3]) or now
local inflight = tonumber(s[4]) or 0
local p = redis.call('HMGET', KEYS[5], 'reserved', 'spent')
local reserved = tonumber(p[1]) or 0
local spent = tonumber(p[2]) or 0
local elapsed = math.max(0, now - ts)
rq = math.min(rpm, rq + (elapsed * rpm) / 60000)
tk = math.min(tpm, tk + (elapsed * tpm) / 60000)
local function refillSeconds(deficit, capacity)
  return math.max(1, math.ceil(((deficit * 60000) / capacity) / 1000))
end
if rq < 1 then
  return {0, 'requests_per_minute', refillSeconds(1 - rq, rpm)}
end
if tk < tokens then
  if tokens > tpm then
    return {0, 'tokens_per_minute', 60}
  end
  return {0, 'tokens_per_minute', refillSeconds(tokens - tk, tpm)}
end
if inflight >= maxInFlight then
  return {0, 'in_flight', 1}
end
if roundUsd(roundUsd(spent + reserved) + cost) > budget then
  local fits = reserved > 0 and roundUsd(spent + cost) <= budget
  return {0, 'budget', tonumber(ARGV[9]), fits and 1 or 0}
end
redis.call('HSET', KEYS[1],
  'rq', string.format('%.17g', rq - 1),
  'tk', string.format('%.17g', tk - tokens),
  'ts', string.format('%.17g', math.max(now, ts)),
  'inflight', inflight + 1)
redis.call('HSET', KEYS[5], 'reserved', formatUsd(roundUsd(reserved + cost)), 'budget', ARGV[5])
if ARGV[15] ~= '' then
  redis.call('PEXPIREAT', KEYS[5], ARGV[15])
end
local entry = ARGV[7]
if ARGV[11] ~= 'total' then
  entry = ARGV[7] .. ' ' .. ARGV[11]
end
redis.call('HSET', KEYS[2], ARGV[10], entry)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]) * 1000, ARGV[10])
return {1}
`;

/**
 * KEYS[1] to KEYS[4] as for ADMIT_SCRIPT, KEYS[5] the spend hash of the period that
 * ARGV[4] names. ARGV[1] run number, ARGV[2] the run's spend so far in USD, ARGV[3]
 * ticket id, ARGV[4] the period key the caller expects the ticket to have, ARGV[5] the ms
 * at which KEYS[5] expires, or '' for never. Returns {2, the ticket's period key} when
 * that differs from ARGV[4], changing nothing, so the caller retries with that period's
 * hash. Raises the spend charged for the run to ARGV[2] and adds the rise to the period's
 * spend; a repeated or lower value adds nothing. Returns {0, 1} when the ticket is not
 * open, else {1, 1 when the period's spend plus reservations fit the budget stored at the
 * period's last admission, or 0}.
 */
export const CHARGE_SCRIPT = `${RUN_CHARGES_LUA}${TICKET_LUA}
local entry = redis.call('HGET', KEYS[2], ARGV[3])
if not entry then
  return {0, 1}
end
local _, period = readTicket(entry)
if period ~= ARGV[4] then
  return {2, period}
end
local charges = readRunCharges(redis.call('HGET', KEYS[4], ARGV[3]))
local charged = charges[ARGV[1]] or 0
local target = tonumber(ARGV[2])
local spent
if target > charged then
  charges[ARGV[1]] = target
  redis.call('HSET', KEYS[4], ARGV[3], encodeRunCharges(charges))
  local stored = tonumber(redis.call('HGET', KEYS[5], 'spent')) or 0
  spent = roundUsd(stored + roundUsd(target - charged))
  redis.call('HSET', KEYS[5], 'spent', formatUsd(spent))
  if ARGV[5] ~= '' then
    redis.call('PEXPIREAT', KEYS[5], ARGV[5])
  end
else
  spent = tonumber(redis.call('HGET', KEYS[5], 'spent')) or 0
end
local reserved = tonumber(redis.call('HGET', KEYS[5], 'reserved')) or 0
local budget = tonumber(redis.call('HGET', KEYS[5], 'budget'))
if budget and roundUsd(spent + reserved) > budget then
  return {1, 0}
end
return {1, 1}
`;

/**
 * KEYS as for CHARGE_SCRIPT. ARGV[1] the run's whole spend in USD, or '' to release
 * without a charge; ARGV[2] ticket id; ARGV[3] run number; ARGV[4] the spend of earlier
 * runs as `run=usd` pairs separated by spaces, or ''; ARGV[5] and ARGV[6] the expected
 * period key and the expiry of KEYS[5], as ARGV[4] and ARGV[5] of CHARGE_SCRIPT. A settle
 * raises the charge of each earlier run, then of the settled run, to the spend given, as
 * CHARGE_SCRIPT does, and adds each rise to the spend of the ticket's period. What the
 * ticket took for any run stays spent. Returns {2, the ticket's period key} when that
 * differs from ARGV[5], changing nothing; {1, the run charges as stored, in the same
 * pairs} when the ticket was open and is now closed; {0, ''} when it was already closed
 * or has expired.
 */
export const CLOSE_SCRIPT = `${RUN_CHARGES_LUA}${TICKET_LUA}
local entry = redis.call('HGET', KEYS[2], ARGV[2])
if not entry then
  return {0, ''}
end
local reserved, period = readTicket(entry)
if period ~= ARGV[5] then
  return {2, period}
end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'inflight', -1)
-- A reservation of more than the stored total, as after an expiry, leaves 0, not less.
local s = redis.call('HMGET', KEYS[5], 'reserved', 'spent')
local left = math.max(0, roundUsd((tonumber(s[1]) or 0) - reserved))
local spent = tonumber(s[2]) or 0
local charges = readRunCharges(redis.call('HGET', KEYS[4], ARGV[2]))
redis.call('HDEL', KEYS[4], ARGV[2])
local function raise(run, usd)
  local charged = charges[run] or 0
  if usd > charged then
    charges[run] = usd
    spent = roundUsd(spent + roundUsd(usd - charged))
  end
end
if ARGV[1] ~= '' then
  for run, usd in string.gmatch(ARGV[4], '(%d+)=(%S+)') do
    raise(run, tonumber(usd))
  end
  raise(ARGV[3], tonumber(ARGV[1]))
end
redis.call('HSET', KEYS[5], 'reserved', formatUsd(left), 'spent', formatUsd(spent))
-- A hash whose expiry already passed is deleted again here, so it cannot stay forever.
if ARGV[6] ~= '' then
  redis.call('PEXPIREAT', KEYS[5], ARGV[6])
end
return {1, encodeRunCharges(charges)}
`;

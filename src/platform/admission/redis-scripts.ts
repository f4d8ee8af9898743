/**
 * Lua scripts of the Redis admission backend. Redis runs each script
 * atomically, so a decision across every limit and its bookkeeping cannot
 * interleave with another gateway process. The arithmetic follows
 * decision.ts step for step, and numbers are stored with up to 17 significant
 * digits so a round trip through Redis does not change them. USD sums are rounded
 * to the picodollar with the same rule as in JavaScript, in Lua instead of with
 * HINCRBYFLOAT, which adds in long double and prints 17 decimals.
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
 * KEYS[1] tenant state hash, KEYS[2] open tickets hash (ticket id to reserved USD),
 * KEYS[3] open tickets sorted set (ticket id by expiry time in ms), KEYS[4] run
 * charges hash (ticket id to the spend charged for each run of its task).
 * ARGV: now in ms ('' reads the server's TIME), requestsPerMinute, tokensPerMinute,
 * maxInFlight, budgetUsd, tokens, maxCostUsd, ticket TTL s, budget Retry-After s,
 * ticket id. Closes up to EXPIRED_PER_ADMIT expired tickets first, without a charge.
 * Returns {1} when admitted, else {0, reason, retryAfterSeconds}, and for a budget
 * rejection a fourth element, 1 when the task would fit once running tasks free their
 * reservations, else 0.
 */
export const ADMIT_SCRIPT = `${ROUND_USD_LUA}
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[1])
end
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local maxInFlight = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local tokens = tonumber(ARGV[6])
local cost = tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'rq', 'tk', 'ts', 'inflight', 'reserved', 'spent')
local rq = tonumber(s[1]) or rpm
local tk = tonumber(s[2]) or tpm
local ts = tonumber(s[3]) or now
local inflight = tonumber(s[4]) or 0
local reserved = tonumber(s[5]) or 0
local spent = tonumber(s[6]) or 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, ${EXPIRED_PER_ADMIT})
if #expired > 0 then
  for _, id in ipairs(expired) do
    local ticketReserved = redis.call('HGET', KEYS[2], id)
    if ticketReserved then
      inflight = inflight - 1
      reserved = math.max(0, roundUsd(reserved - tonumber(ticketReserved)))
      redis.call('HDEL', KEYS[2], id)
    end
    redis.call('ZREM', KEYS[3], id)
    redis.call('HDEL', KEYS[4], id)
  end
  redis.call('HSET', KEYS[1], 'inflight', inflight, 'reserved', formatUsd(reserved))
end
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
  'inflight', inflight + 1,
  'budget', ARGV[5],
  'reserved', formatUsd(roundUsd(reserved + cost)))
redis.call('HSET', KEYS[2], ARGV[10], ARGV[7])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]) * 1000, ARGV[10])
return {1}
`;

/**
 * KEYS as for ADMIT_SCRIPT. ARGV[1] run number, ARGV[2] the run's spend so far in
 * USD, ARGV[3] ticket id. Raises the spend charged for the run to ARGV[2] and adds
 * the rise to the tenant's spend; a repeated or lower value adds nothing. Returns
 * {0, 1} when the ticket is not open, else {1, 1 when spend plus reservations fit
 * the budget stored at the last admission, or 0}.
 */
export const CHARGE_SCRIPT = `${RUN_CHARGES_LUA}
if not redis.call('HGET', KEYS[2], ARGV[3]) then
  return {0, 1}
end
local charges = readRunCharges(redis.call('HGET', KEYS[4], ARGV[3]))
local charged = charges[ARGV[1]] or 0
local target = tonumber(ARGV[2])
local spent
if target > charged then
  charges[ARGV[1]] = target
  redis.call('HSET', KEYS[4], ARGV[3], encodeRunCharges(charges))
  local stored = tonumber(redis.call('HGET', KEYS[1], 'spent')) or 0
  spent = roundUsd(stored + roundUsd(target - charged))
  redis.call('HSET', KEYS[1], 'spent', formatUsd(spent))
else
  spent = tonumber(redis.call('HGET', KEYS[1], 'spent')) or 0
end
local s = redis.call('HMGET', KEYS[1], 'reserved', 'budget')
local reserved = tonumber(s[1]) or 0
local budget = tonumber(s[2])
if budget and roundUsd(spent + reserved) > budget then
  return {1, 0}
end
return {1, 1}
`;

/**
 * KEYS as for ADMIT_SCRIPT. ARGV[1] the run's whole spend in USD, or '' to release
 * without a charge; ARGV[2] ticket id; ARGV[3] run number; ARGV[4] the spend of earlier
 * runs as `run=usd` pairs separated by spaces, or ''. A settle raises the charge of each
 * earlier run, then of the settled run, to the spend given, as CHARGE_SCRIPT does, and
 * adds each rise to the tenant's spend. What the ticket took for any run stays spent.
 * Returns {1, the run charges as stored, in the same pairs} when the ticket was open and
 * is now closed, {0, ''} when it was already closed or has expired.
 */
export const CLOSE_SCRIPT = `${RUN_CHARGES_LUA}
local reserved = redis.call('HGET', KEYS[2], ARGV[2])
if not reserved then
  return {0, ''}
end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'inflight', -1)
-- A reservation of more than the stored total, as after an expiry, leaves 0, not less.
local s = redis.call('HMGET', KEYS[1], 'reserved', 'spent')
local left = math.max(0, roundUsd((tonumber(s[1]) or 0) - tonumber(reserved)))
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
redis.call('HSET', KEYS[1], 'reserved', formatUsd(left), 'spent', formatUsd(spent))
return {1, encodeRunCharges(charges)}
`;

#include "limits/redis/ledger_scripts.h"

namespace tollway::limits::redis {

// Both scripts store a counter as a hash: `v` its value (GCRA TAT as %.17g, budget used as an integer) and `g`
// its generation, set when the key is created (ARGV[3], fresh per call) and kept by every later write. A key
// that disappears (restart without persistence, failover to a lagging replica, eviction, expiry) comes back
// with another generation, so a settlement can tell whether the counter still holds its reservation. A counter
// left as a plain string by an earlier version is converted in place (value and TTL kept, a new generation).
#define TOLLWAY_LEDGER_LOAD_COUNTER \
  "local function load_counter(key)\n" \
  "  local fields = redis.pcall('HMGET', key, 'v', 'g')\n" \
  "  if not (type(fields) == 'table' and fields.err) then return fields[1], fields[2] end\n" \
  "  local value, ttl = redis.call('GET', key), redis.call('PTTL', key)\n" \
  "  redis.call('DEL', key)\n" \
  "  redis.call('HSET', key, 'v', value, 'g', ARGV[3])\n" \
  "  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end\n" \
  "  return value, ARGV[3]\n" \
  "end\n"

// GCRA: T = window / limit; tat = max(TAT, now); new_tat = tat + n*T; admitted iff new_tat - now <= window.
// The same arithmetic as LocalLedger (doubles, the same 1e-6 ms slack, the same rounding), so both ledgers
// answer identically. A GCRA key lives until TAT + window (a late settle still finds the TAT it corrects); a
// budget key until the period ends plus the slack. Nothing is written unless every non-shadow counter has room.
const std::string_view kReserveScript = TOLLWAY_LEDGER_LOAD_COUNTER R"lua(
local EPS = 1e-6
local function ceil_ms(ms)
  if ms <= 0 then return 0 end
  return math.ceil(ms - EPS)
end
local now = tonumber(ARGV[1])
local slack = tonumber(ARGV[2])
local admitted = 1
local result = {0}
local writes = {}
local generations = {}
for i = 1, #KEYS do
  local base = 3 + (i - 1) * 5
  local algorithm = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  local shadow = ARGV[base + 4] == '1'
  local amount = tonumber(ARGV[base + 5])
  local fits, remaining, reset, retry
  local stored, generation = load_counter(KEYS[i])
  generations[i] = generation or ARGV[3]
  if algorithm == 'g' then
    local T = window / limit
    local tat = now
    if stored then tat = tonumber(stored) end
    if tat < now then tat = now end
    local new_tat = tat + amount * T
    fits = new_tat - now <= window + EPS
    local level = tat - now
    if fits then level = new_tat - now end
    remaining = math.floor((window - level) / T + EPS)
    reset = ceil_ms(level)
    retry = 0
    if not fits then
      if amount > limit then retry = -1 else retry = math.max(1, ceil_ms(new_tat - window - now)) end
    end
    writes[i] = new_tat
  else
    local used = 0
    if stored then used = tonumber(stored) end
    fits = used + amount <= limit
    remaining = limit - used
    if fits then remaining = remaining - amount end
    reset = window
    retry = 0
    if not fits then
      if amount > limit then retry = -1 else retry = window end
    end
    writes[i] = used + amount
  end
  if remaining < 0 then remaining = 0 end
  local deny = 0
  if not fits then
    deny = 1
    if not shadow then admitted = 0 end
  end
  result[#result + 1] = deny
  result[#result + 1] = remaining
  result[#result + 1] = reset
  result[#result + 1] = retry
  result[#result + 1] = generations[i]
end
result[1] = admitted
if admitted == 1 then
  for i = 1, #KEYS do
    local base = 3 + (i - 1) * 5
    local window = tonumber(ARGV[base + 3])
    if ARGV[base + 1] == 'g' then
      redis.call('HSET', KEYS[i], 'v', string.format('%.17g', writes[i]), 'g', generations[i])
      redis.call('PEXPIRE', KEYS[i], math.ceil(writes[i] - now) + window)
    else
      redis.call('HSET', KEYS[i], 'v', string.format('%d', writes[i]), 'g', generations[i])
      redis.call('PEXPIRE', KEYS[i], window + slack)
    end
  end
end
return result
)lua";

// Same generation as reserved: GCRA TAT = max(TAT + delta*T, now); budget used = max(0, used + delta).
// Another generation (or no key): the counter does not hold this reservation, so a refund (delta < 0) is
// dropped and usage above the reservation is charged as a new reservation would be: GCRA TAT =
// max(TAT, now) + delta*T; budget used += delta. A zero delta writes nothing.
const std::string_view kSettleScript = TOLLWAY_LEDGER_LOAD_COUNTER R"lua(
local now = tonumber(ARGV[1])
local slack = tonumber(ARGV[2])
local applied = 0
for i = 1, #KEYS do
  local base = 3 + (i - 1) * 5
  local algorithm = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  local delta = tonumber(ARGV[base + 4])
  local stored, generation = load_counter(KEYS[i])
  local holds_reservation = stored and generation == ARGV[base + 5]
  if not holds_reservation and delta < 0 then delta = 0 end
  if delta ~= 0 then
    local kept = generation or ARGV[3]
    local value
    if algorithm == 'g' then
      local T = window / limit
      local tat = now
      if stored then tat = tonumber(stored) end
      if holds_reservation then
        tat = math.max(tat + delta * T, now)
      else
        tat = math.max(tat, now) + delta * T
      end
      redis.call('HSET', KEYS[i], 'v', string.format('%.17g', tat), 'g', kept)
      redis.call('PEXPIRE', KEYS[i], math.ceil(tat - now) + window)
    else
      local used = 0
      if stored then used = tonumber(stored) end
      used = math.max(0, used + delta)
      redis.call('HSET', KEYS[i], 'v', string.format('%d', used), 'g', kept)
      redis.call('PEXPIRE', KEYS[i], window + slack)
    end
  end
  applied = applied + 1
end
return applied
)lua";

#undef TOLLWAY_LEDGER_LOAD_COUNTER

}  // namespace tollway::limits::redis

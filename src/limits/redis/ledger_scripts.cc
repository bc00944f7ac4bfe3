#include "limits/redis/ledger_scripts.h"

namespace tollway::limits::redis {

// GCRA: T = window / limit; tat = max(TAT, now); new_tat = tat + n*T; admitted iff new_tat - now <= window.
// The same arithmetic as LocalLedger (doubles, the same 1e-6 ms slack, the same rounding), so both ledgers
// answer identically. A GCRA key lives until TAT + window (a late settle still finds the TAT it corrects); a
// budget key until the period ends plus the slack. Nothing is written unless every non-shadow counter has room.
const std::string_view kReserveScript = R"lua(
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
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 5
  local algorithm = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  local shadow = ARGV[base + 4] == '1'
  local amount = tonumber(ARGV[base + 5])
  local fits, remaining, reset, retry
  local stored = redis.call('GET', KEYS[i])
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
end
result[1] = admitted
if admitted == 1 then
  for i = 1, #KEYS do
    local base = 2 + (i - 1) * 5
    local window = tonumber(ARGV[base + 3])
    if ARGV[base + 1] == 'g' then
      redis.call('SET', KEYS[i], string.format('%.17g', writes[i]), 'PX', math.ceil(writes[i] - now) + window)
    else
      redis.call('INCRBY', KEYS[i], ARGV[base + 5])
      redis.call('PEXPIRE', KEYS[i], window + slack)
    end
  end
end
return result
)lua";

// GCRA: TAT = max(TAT + delta*T, now) (a missing key is a TAT at least a window in the past, i.e. now).
// Budget: used = max(0, used + delta). A zero delta writes nothing.
const std::string_view kSettleScript = R"lua(
local now = tonumber(ARGV[1])
local slack = tonumber(ARGV[2])
local applied = 0
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 4
  local algorithm = ARGV[base + 1]
  local limit = tonumber(ARGV[base + 2])
  local window = tonumber(ARGV[base + 3])
  local delta = tonumber(ARGV[base + 4])
  if delta ~= 0 and algorithm == 'g' then
    local T = window / limit
    local tat = now
    local stored = redis.call('GET', KEYS[i])
    if stored then tat = tonumber(stored) end
    tat = tat + delta * T
    if tat < now then tat = now end
    redis.call('SET', KEYS[i], string.format('%.17g', tat), 'PX', math.ceil(tat - now) + window)
  elseif delta ~= 0 then
    local used = redis.call('INCRBY', KEYS[i], ARGV[base + 4])
    if used < 0 then redis.call('SET', KEYS[i], '0') end
    redis.call('PEXPIRE', KEYS[i], window + slack)
  end
  applied = applied + 1
end
return applied
)lua";

}  // namespace tollway::limits::redis

#include "limits/redis/ledger_scripts.h"

namespace tollway::limits::redis {

// GCRA: T = window / limit; tat = max(TAT, now); new_tat = tat + n*T; admitted iff new_tat - now <= window.
// A GCRA key lives until its TAT (after that it equals a fresh counter); a budget key lives until the period
// ends plus the slack. Nothing is written unless every non-shadow counter has room.
const std::string_view kReserveScript = R"lua(
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
  local deny, remaining, reset, retry
  local stored = redis.call('GET', KEYS[i])
  if algorithm == 'g' then
    local T = window / limit
    local tat = now
    if stored then tat = tonumber(stored) end
    if tat < now then tat = now end
    local new_tat = tat + amount * T
    if new_tat - now <= window then
      deny = 0
      remaining = math.floor((window - (new_tat - now)) / T)
      reset = math.ceil(new_tat - now)
      retry = 0
    else
      deny = 1
      remaining = math.floor((window - (tat - now)) / T)
      reset = math.ceil(tat - now)
      retry = math.ceil(new_tat - window - now)
    end
    writes[i] = new_tat
  else
    local used = 0
    if stored then used = tonumber(stored) end
    reset = window
    if used + amount <= limit then
      deny = 0
      remaining = limit - used - amount
      retry = 0
    else
      deny = 1
      remaining = limit - used
      if remaining < 0 then remaining = 0 end
      if amount > limit then retry = -1 else retry = window end
    end
  end
  if remaining < 0 then remaining = 0 end
  if deny == 1 and not shadow then admitted = 0 end
  result[#result + 1] = deny
  result[#result + 1] = remaining
  result[#result + 1] = reset
  result[#result + 1] = retry
end
result[1] = admitted
if admitted == 1 then
  for i = 1, #KEYS do
    local base = 2 + (i - 1) * 5
    if ARGV[base + 1] == 'g' then
      local ttl = math.ceil(writes[i] - now)
      if ttl < 1 then ttl = 1 end
      redis.call('SET', KEYS[i], string.format('%.17g', writes[i]), 'PX', ttl)
    else
      redis.call('INCRBY', KEYS[i], ARGV[base + 5])
      redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[base + 3]) + slack)
    end
  end
end
return result
)lua";

// GCRA: TAT = max(TAT + delta*T, now) (a missing key is a TAT in the past, i.e. now). Budget: used += delta,
// never below 0; a refund on a key that expired (its period is over) writes nothing.
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
  if algorithm == 'g' then
    local T = window / limit
    local tat = now
    local stored = redis.call('GET', KEYS[i])
    if stored then tat = tonumber(stored) end
    tat = tat + delta * T
    if tat > now then
      local ttl = math.ceil(tat - now)
      redis.call('SET', KEYS[i], string.format('%.17g', tat), 'PX', ttl)
    else
      redis.call('DEL', KEYS[i])
    end
    applied = applied + 1
  elseif delta ~= 0 then
    if delta > 0 or redis.call('EXISTS', KEYS[i]) == 1 then
      local used = redis.call('INCRBY', KEYS[i], ARGV[base + 4])
      if used < 0 then redis.call('SET', KEYS[i], '0') end
      redis.call('PEXPIRE', KEYS[i], window + slack)
    end
    applied = applied + 1
  else
    applied = applied + 1
  end
end
return applied
)lua";

}  // namespace tollway::limits::redis

// The Lua scripts RedisLedger runs, one EVALSHA per reserve and one per settle, each atomic on the Redis server.
// They implement the Counter semantics of limits/ledger.h with LocalLedger's arithmetic (GCRA TAT as a %.17g
// string so doubles round-trip; budgets as integers) and the caller's now_ms; each counter is a hash holding its
// value and its generation, so a settlement never gives back to a counter recreated since its reservation.
// They never read the server clock and never touch a key that is not in KEYS.
#pragma once

#include <string_view>

namespace tollway::limits::redis {

// KEYS: the counters' keys. ARGV[1] = now_ms, ARGV[2] = budget TTL slack (ms), ARGV[3] = the generation of a
// counter this call creates (unique per call); then per counter, 5 values: algorithm ("g" GCRA | "b" budget),
// limit, window_ms, shadow ("1" | "0"), amount. Returns {admitted (1|0), then per counter: would_deny (1|0),
// remaining, reset_ms, retry_after_ms, generation (bulk string)}.
extern const std::string_view kReserveScript;

// KEYS: the counters' keys. ARGV[1..3] as for the reserve; then per counter, 5 values: algorithm, limit,
// window_ms, delta = actual - reserved, the generation the reserve returned. Returns the number of counters
// applied.
extern const std::string_view kSettleScript;

}  // namespace tollway::limits::redis

// The one budget key and the node reports both lease stores' unit tests use (SQLite and Redis), so that the two
// stores are held to the same cases. Test-only values; nothing here touches a store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/leases/lease_book.h"

namespace tollway::control::leases::test_reports {

constexpr int64_t kNow = 1'800'000'000'000;
inline const std::string kKey = "budget|fleet-tokens|2027-01";
inline const std::vector<std::string> kKeys{kKey};

inline KeyReport report(int64_t used, double rate = 0) {
  return KeyReport{.key = kKey, .limit = 10'000, .used = used, .rate = rate, .held = 0, .ends_in_ms = 86'400'000};
}

}  // namespace tollway::control::leases::test_reports

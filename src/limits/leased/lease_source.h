// LeaseSource: where a leased ledger's leases come from — one exchange reports this process's use of each budget
// key and returns its next leases (the control plane's POST /v1/usage, control/client/usage_client.h). It is the
// only way LeasedLedger talks to the outside; it never decides admission.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tollway::limits {

// This process's use of one budget key, as it reports it.
struct LeaseUse {
  std::string key;
  int64_t limit = 0;       // the budget's global limit (from the policy)
  int64_t used = 0;        // cumulative since this process started (settled + reserved)
  double rate = 0;         // units per second since the last report
  int64_t held = 0;        // the cumulative grant it may still spend against: its lease's (expired too, under
                           // on_control_unreachable: last_lease); 0 when none
  int64_t ends_in_ms = 0;  // until the key's calendar period ends
};

struct LeaseGrant {
  std::string key;
  int64_t granted = 0;    // cumulative: this process may have used up to this much of the key
  int64_t ttl_ms = 0;     // valid this long from when the report was sent
  int64_t remaining = 0;  // what the whole budget has left beyond every lease
};

struct LeaseAnswer {
  std::vector<LeaseGrant> leases;
  std::chrono::milliseconds sync_interval{1000};  // when to report next
};

class LeaseSource {
 public:
  virtual ~LeaseSource() = default;
  // One report and its answer; nullopt with `error` when no control plane answered or it refused the report.
  virtual boost::asio::awaitable<std::optional<LeaseAnswer>> exchange(std::vector<LeaseUse> uses,
                                                                      std::string& error) = 0;
};

}  // namespace tollway::limits

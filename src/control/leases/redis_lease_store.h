// RedisLeaseStore: the LeaseStore in Redis (`tollway control --lease-store redis://…`), so the leased budgets'
// aggregates outlive the control plane's host and can be read by another control plane on the same Redis. Layout,
// under the prefix "tollway:leases:":
//   keys             a set of the budget keys held
//   key:KEY          a hash per budget key: limit, ends_ms, and "holder:NODE/INCARNATION" -> "used granted expires_ms
//                    closed" (decimal integers)
//   seq              a hash "INCARNATION|NODE" -> the last sequence number that incarnation's reports carried
//   revision         an integer bumped by every write (absent: 0)
// A report's keys and its sequence number are written by one Lua script, which Redis runs whole, before the node is
// answered, and only while `revision` is still the one this object loaded or last wrote (else Stale: another
// control plane wrote since). It speaks through the strict ledger's RedisConnection (limits/redis) on the control plane's one
// thread, never decides a grant, and never logs the password. Durable across a Redis restart only as far as that
// server persists (appendonly yes; appendfsync always to match SQLite's synchronous=FULL).
#pragma once

#include <boost/asio/any_io_executor.hpp>


#include "control/leases/lease_store.h"
#include "limits/redis/connection.h"

namespace tollway::control::leases {

class RedisLeaseStore final : public LeaseStore {
 public:
  RedisLeaseStore(boost::asio::any_io_executor executor, limits::redis::RedisOptions options);

  boost::asio::awaitable<bool> load(LeaseBook& book, std::string& error) override;
  boost::asio::awaitable<std::optional<int64_t>> last_seq(const std::string& node, const std::string& incarnation,
                                                          std::string& error) override;
  boost::asio::awaitable<SaveResult> save(const LeaseBook& book, const std::vector<std::string>& keys,
                                          const std::string& node, const std::string& incarnation, int64_t seq,
                                          std::string& error) override;
  boost::asio::awaitable<bool> forget_keys_not_in(const LeaseBook& book, std::string& error) override;
  std::string where() const override;

 private:
  // One command's reply; nullopt with `error` ("redis HOST:PORT: why") when there is none or it is an error reply.
  boost::asio::awaitable<std::optional<limits::redis::RespValue>> run(std::string command, std::string& error);
  // The budget keys in the "keys" set.
  boost::asio::awaitable<std::optional<std::vector<std::string>>> stored_keys(std::string& error);

  boost::asio::any_io_executor executor_;
  limits::redis::RedisOptions options_;
  int64_t revision_ = 0;  // the revision this object loaded or last wrote
};

}  // namespace tollway::control::leases

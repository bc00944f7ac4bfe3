// LeaseStore: the durable copy of the control plane's LeaseBook and of each node incarnation's last usage-report
// sequence number, in SQLite (leases.db in the state directory; WAL, synchronous=FULL). A report's changes are
// written in one transaction before the node is answered, so a restart never forgets use it accepted nor
// capacity it granted. It never decides a grant (the book does) and holds no secret.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/leases/lease_book.h"

namespace tollway::control::leases {

class LeaseStore {
 public:
  // Opens or creates the store; "" = in memory (no state directory: nothing survives a restart). Null + error.
  static std::unique_ptr<LeaseStore> open(const std::string& path, std::string& error);
  ~LeaseStore();
  LeaseStore(const LeaseStore&) = delete;
  LeaseStore& operator=(const LeaseStore&) = delete;

  // Everything stored into `book` (replacing its keys); false with error when the store cannot be read.
  bool load(LeaseBook& book, std::string& error);
  // The last sequence number a node incarnation's report carried; nullopt before its first.
  std::optional<int64_t> last_seq(const std::string& node, const std::string& incarnation, std::string& error);
  // In one transaction: `keys`' state as the book holds it now, and the incarnation's sequence number.
  bool save(const LeaseBook& book, const std::vector<std::string>& keys, const std::string& node,
            const std::string& incarnation, int64_t seq, std::string& error);
  // Removes keys the book dropped (their periods ended).
  bool forget_keys_not_in(const LeaseBook& book, std::string& error);

 private:
  explicit LeaseStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace tollway::control::leases

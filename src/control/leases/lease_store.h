// LeaseStore: the durable copy of the control plane's LeaseBook and of each node incarnation's last usage-report
// sequence number — SqliteLeaseStore (leases.db in the state directory; WAL, synchronous=FULL) or RedisLeaseStore
// (--lease-store redis://…, redis_lease_store.h). A report's changes are written at once (one transaction, or one
// script) before the node is answered, so a restart never forgets use it accepted nor capacity it granted. Every
// write bumps the store's revision, and a store object writes only from the revision it loaded or last wrote: a book
// that another control plane's writes have outdated (a change of writer on one shared store) is refused as stale and
// never overwrites them. A store never decides a grant (the book does) and holds no secret. Its operations are
// awaited on the control plane's one thread; the caller applies one report at a time.
#pragma once

#include <sqlite3.h>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/leases/lease_book.h"

namespace tollway::control::leases {

// What a save did: written; refused because the store was written since this object loaded or last wrote it (the
// caller's book is out of date; nothing was written); or failed (error set; nothing was written).
enum class SaveResult { Saved, Stale, Failed };

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // Everything stored into `book` (replacing its keys), remembering the store's revision; false with error when the
  // store cannot be read.
  virtual boost::asio::awaitable<bool> load(LeaseBook& book, std::string& error) = 0;
  // The last sequence number a node incarnation's report carried; nullopt before its first (and, with `error`
  // set, when the store cannot be read).
  virtual boost::asio::awaitable<std::optional<int64_t>> last_seq(const std::string& node,
                                                                  const std::string& incarnation,
                                                                  std::string& error) = 0;
  // At once (all or nothing), unless the store's revision is no longer the one this object loaded or last wrote
  // (Stale): `keys`' state as the book holds it now, and the incarnation's sequence number.
  virtual boost::asio::awaitable<SaveResult> save(const LeaseBook& book, const std::vector<std::string>& keys,
                                                  const std::string& node, const std::string& incarnation, int64_t seq,
                                                  std::string& error) = 0;
  // Removes keys the book dropped (their periods ended); removes nothing (and returns true) when the store is at
  // another revision than this object's (another book decides then).
  virtual boost::asio::awaitable<bool> forget_keys_not_in(const LeaseBook& book, std::string& error) = 0;
  // Where it keeps the aggregates, for the ready line: "sqlite:PATH", "memory" or "redis://HOST:PORT/DB".
  virtual std::string where() const = 0;
};

class SqliteLeaseStore final : public LeaseStore {
 public:
  // Opens or creates the store; "" = in memory (no state directory: nothing survives a restart). Null + error.
  static std::unique_ptr<SqliteLeaseStore> open(const std::string& path, std::string& error);
  ~SqliteLeaseStore() override;
  SqliteLeaseStore(const SqliteLeaseStore&) = delete;
  SqliteLeaseStore& operator=(const SqliteLeaseStore&) = delete;

  boost::asio::awaitable<bool> load(LeaseBook& book, std::string& error) override;
  boost::asio::awaitable<std::optional<int64_t>> last_seq(const std::string& node, const std::string& incarnation,
                                                          std::string& error) override;
  boost::asio::awaitable<SaveResult> save(const LeaseBook& book, const std::vector<std::string>& keys,
                                          const std::string& node, const std::string& incarnation, int64_t seq,
                                          std::string& error) override;
  boost::asio::awaitable<bool> forget_keys_not_in(const LeaseBook& book, std::string& error) override;
  std::string where() const override { return path_.empty() ? "memory" : "sqlite:" + path_; }

 private:
  SqliteLeaseStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  SaveResult save_now(const LeaseBook& book, const std::vector<std::string>& keys, const std::string& node,
                      const std::string& incarnation, int64_t seq, std::string& error);
  // The store's revision inside a transaction (0 before the first write); nullopt with error when unreadable.
  std::optional<int64_t> stored_revision(std::string& error);
  bool write_revision(int64_t revision, std::string& error);
  sqlite3* db_;
  std::string path_;
  int64_t revision_ = 0;  // the revision this object loaded or last wrote
};

}  // namespace tollway::control::leases

// UsageApi: POST /v1/usage on the control plane — a node reports, per budget key, its cumulative use, demand and
// the lease it holds, and is answered with its next leases (LeaseBook). Reports are authenticated as the node
// (NodeAuth: its certificate, or its bootstrap token), checked against the node's own policy (the key's budget must be in the document the plane
// resolved for it, with the same limit), ordered per node incarnation (an older sequence number is a replay:
// refused and counted; the same one is a retry: answered again, counted once because use is cumulative) and
// written to the LeaseStore before the answer; reports are applied one at a time (a Redis store is awaited). When the
// store cannot take a report, its changes are undone and the node is answered 503 store_unavailable (it keeps its
// lease, per on_control_unreachable). When the store refuses the book as stale (another control plane wrote it
// since: a change of writer), the book is loaded again and learns for one lease lifetime before the report is
// applied. It never grants from a report it refused nor from a book another plane's writes outdated, never answers
// before the store has the report, and never logs a token.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "control/fleet.h"
#include "control/node_auth.h"
#include "control/policy_check.h"
#include "control/leases/lease_book.h"
#include "control/leases/lease_store.h"
#include "control/leases/spend_series.h"
#include "proxy/admin_listener.h"

namespace tollway::control::leases {

// The wall clock in ms since the Unix epoch: leases expire in it (it survives a control-plane restart).
int64_t unix_ms_now();

class UsageApi {
 public:
  // Loads what `store` holds into the book and starts its learning period at `now_ms`; null + error when the
  // store cannot be read.
  // `read_budgets`: each role's reader of a document's budgets (the app injects it; this folder knows no role).
  static boost::asio::awaitable<std::unique_ptr<UsageApi>> open(const Fleet& fleet, NodeAuth& node_auth,
                                                                 ReadBudgets read_budgets,
                                                                 std::unique_ptr<LeaseStore> store,
                                                                 LeaseSettings settings, int64_t now_ms,
                                                                 std::string& error);

  boost::asio::awaitable<proxy::AdminResponse> usage(const proxy::AdminRequest& request, int64_t now_ms);
  const LeaseStore& store() const { return *store_; }

  // Budgets for /v1/fleet: per key, limit, spent, leased out, remaining and each holder's lease.
  std::string budgets_json(int64_t now_ms) const;
  // tollway_control_budget_{limit,spent,leased,remaining} per key, and the reports taken and refused by reason.
  void render_metrics(std::string& out, int64_t now_ms) const;
  // Samples every key's spend into the last hour's series (once per 10-s slot; see SpendSeries).
  void record_spend(int64_t now_ms) { series_.record(book_.keys(), now_ms); }
  const LeaseBook& book() const { return book_; }
  const SpendSeries& spend_series() const { return series_; }

 private:
  UsageApi(const Fleet& fleet, NodeAuth& node_auth, ReadBudgets read_budgets, std::unique_ptr<LeaseStore> store,
           LeaseSettings settings)
      : fleet_(fleet), node_auth_(node_auth), read_budgets_(std::move(read_budgets)), store_(std::move(store)), book_(settings) {}
  proxy::AdminResponse refuse(int status, std::string_view reason, std::string_view message);
  // The part of a report that reads and writes the store, applied while no other report is.
  boost::asio::awaitable<proxy::AdminResponse> apply(const std::string& node, const std::string& incarnation,
                                                     int64_t seq, std::vector<KeyReport> reports, int64_t now_ms);
  // Reports waiting for their turn at apply(); shared with each waiter so a waiter destroyed at shutdown can still
  // take itself off.
  struct Turns {
    bool taken = false;
    std::deque<boost::asio::steady_timer*> waiting;
  };
  boost::asio::awaitable<void> take_turn();
  void end_turn();
  // The budgets (name -> limit) of the document the plane resolved for `node`, cached per desired version.
  const std::map<std::string, int64_t, std::less<>>* node_budgets(const NodeRecord& node);

  const Fleet& fleet_;
  NodeAuth& node_auth_;
  ReadBudgets read_budgets_;
  std::unique_ptr<LeaseStore> store_;
  std::shared_ptr<Turns> turns_ = std::make_shared<Turns>();
  LeaseBook book_;
  SpendSeries series_;
  struct NodeBudgets {
    std::string version;
    std::map<std::string, int64_t, std::less<>> limits;
  };
  std::map<std::string, NodeBudgets, std::less<>> budgets_by_node_;
  uint64_t reports_accepted_ = 0;
  uint64_t books_reloaded_ = 0;  // reloads because another control plane had written the store
  std::map<std::string, uint64_t, std::less<>> reports_refused_;  // by reason
};

}  // namespace tollway::control::leases

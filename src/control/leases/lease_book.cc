#include "control/leases/lease_book.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace tollway::control::leases {
namespace {

std::string holder_id(std::string_view node, std::string_view incarnation) {
  std::string id(node);
  id += '/';
  id += incarnation;
  return id;
}

bool same_node(std::string_view holder, std::string_view node) {
  return holder.size() > node.size() && holder.starts_with(node) && holder[node.size()] == '/';
}

bool unexpired(const Holding& h, int64_t now_ms) { return !h.closed && h.expires_ms > now_ms; }

// What a holder still may spend of its lease (0 once it expired or closed), counting a lowered grant's previous
// size until that lease would have expired.
int64_t outstanding(const Holding& h, int64_t now_ms) {
  if (!unexpired(h, now_ms)) return 0;
  const int64_t grant = now_ms < h.lowered_until_ms ? std::max(h.granted, h.lowered_from) : h.granted;
  return std::max<int64_t>(0, grant - h.used);
}

constexpr int64_t kMaxAmount = int64_t{1} << 53;  // amounts beyond this are garbage, not usage

}  // namespace

LeaseBook::Totals LeaseBook::totals(const BudgetKeyState& state, int64_t now_ms) {
  Totals t;
  t.limit = state.limit;
  for (const auto& [id, h] : state.holders) {
    t.spent += h.used;
    t.leased += outstanding(h, now_ms);
  }
  t.remaining = std::max<int64_t>(0, t.limit - t.spent - t.leased);
  return t;
}

LeaseBook::Answer LeaseBook::report(std::string_view node, std::string_view incarnation,
                                    std::span<const KeyReport> reports, int64_t now_ms) {
  Answer answer;
  const std::string holder = holder_id(node, incarnation);
  std::set<std::string_view> seen;
  for (const KeyReport& r : reports) {
    std::string why;
    if (r.key.empty()) why = "empty key";
    else if (!seen.insert(r.key).second) why = "key reported twice";
    else if (r.limit <= 0 || r.limit > kMaxAmount) why = "limit out of range";
    else if (r.used < 0 || r.used > kMaxAmount) why = "use out of range";
    else if (r.held < 0 || r.held > kMaxAmount) why = "held lease out of range";
    else if (!std::isfinite(r.rate) || r.rate < 0) why = "rate must be a finite number >= 0";
    else if (r.ends_in_ms <= 0 || r.ends_in_ms > kMaxAmount) why = "period end out of range";
    else if (const auto key = keys_.find(r.key); key != keys_.end()) {
      const auto held = key->second.holders.find(holder);
      const int64_t granted = held == key->second.holders.end() ? 0 : held->second.granted;
      if (r.used > granted + r.limit) why = "use exceeds the holder's lease by more than the whole limit";
    } else if (r.used > r.limit * 2) {
      why = "use exceeds the holder's lease by more than the whole limit";
    }
    if (!why.empty()) answer.errors.push_back({r.key, std::move(why)});
  }
  if (!answer.errors.empty()) return answer;
  for (const KeyReport& r : reports) {
    BudgetKeyState& state = keys_[r.key];
    state.limit = r.limit;
    state.ends_ms = now_ms + r.ends_in_ms;
    if (!state.holders.contains(holder))
      for (auto& [id, h] : state.holders)
        if (same_node(id, node)) h.closed = true;  // the node restarted: that incarnation's lease is gone
    answer.leases.push_back(grant(r.key, state, holder, r, now_ms));
  }
  return answer;
}

std::size_t LeaseBook::drop_ended(int64_t now_ms) {
  return std::erase_if(keys_, [&](const auto& entry) {
    return entry.second.ends_ms + settings_.lease_ttl_ms < now_ms;
  });
}

Lease LeaseBook::grant(const std::string& key, BudgetKeyState& state, const std::string& holder,
                       const KeyReport& report, int64_t now_ms) {
  Holding& mine = state.holders[holder];
  const int64_t held_before = unexpired(mine, now_ms) ? mine.granted : 0;
  const int64_t held_until_ms = unexpired(mine, now_ms) ? mine.expires_ms : 0;
  const bool lowered = now_ms < mine.lowered_until_ms;  // an earlier lowering still protects a larger grant
  mine.used = report.used;
  // What every other holder has spent or may still spend.
  int64_t spent = 0, others_committed = 0;
  std::size_t active = 1;
  for (const auto& [id, h] : state.holders) {
    spent += h.used;
    if (id == holder) continue;
    others_committed += h.used + outstanding(h, now_ms);
    if (unexpired(h, now_ms)) ++active;
  }
  if (now_ms < learning_until_ms_) {
    // Learning: keep what it holds (known to the book or told by the node), grant nothing new.
    mine.granted = std::max({held_before, report.held, mine.used});
  } else {
    const int64_t free_for_me = std::max<int64_t>(0, state.limit - others_committed - mine.used);
    // Demand: what it spends in two sync intervals at its current rate; at least a fair share of what is left.
    const auto demand = static_cast<int64_t>(std::ceil(report.rate * 2.0 * settings_.sync_interval_ms / 1000.0));
    const int64_t left = std::max<int64_t>(0, state.limit - spent);
    const int64_t floor = left / (settings_.floor_divisor * static_cast<int64_t>(active));
    mine.granted = mine.used + std::min(std::max(demand, floor), free_for_me);
  }
  // The node spends against the grant it holds until this answer reaches it: that grant (as it reports it, never
  // more than the book granted) stays committed while it could still be valid. Its next report says what it holds
  // then, so the protection lasts one round trip, not a lease lifetime.
  const int64_t node_holds = std::min(report.held, std::max(held_before, lowered ? mine.lowered_from : 0));
  if (mine.granted < node_holds) {
    mine.lowered_from = node_holds;
    mine.lowered_until_ms = std::max(held_until_ms, lowered ? mine.lowered_until_ms : 0);
  } else {
    mine.lowered_from = mine.lowered_until_ms = 0;
  }
  mine.expires_ms = now_ms + settings_.lease_ttl_ms;
  mine.closed = false;
  Lease lease;
  lease.key = key;
  lease.granted = mine.granted;
  lease.ttl_ms = settings_.lease_ttl_ms;
  lease.spent = spent;
  lease.remaining = totals(state, now_ms).remaining;
  return lease;
}

}  // namespace tollway::control::leases

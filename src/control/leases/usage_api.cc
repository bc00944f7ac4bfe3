#include "control/leases/usage_api.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "control/api_response.h"
#include "control/leases/budget_key.h"
#include "core/json.h"
#include "core/log.h"
#include "core/prometheus_text.h"
#include "core/strict_json.h"

namespace tollway::control::leases {
namespace {

using proxy::AdminResponse;
namespace strict_json = core::strict_json;

constexpr std::size_t kMaxKeysPerReport = 10'000;

// An incarnation as nodes send it: 1 to 64 of [A-Za-z0-9._-].
bool valid_incarnation(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

// One entry of "keys", or the reason it is malformed.
std::optional<KeyReport> read_key(const strict_json::Value& entry, std::string& why) {
  if (!entry.is_object()) {
    why = "every entry of keys must be an object {key, limit, used, rate, held, ends_in_ms}";
    return std::nullopt;
  }
  KeyReport r;
  bool have_key = false, have_limit = false, have_used = false, have_ends = false;
  for (const auto& [name, value] : entry.members()) {
    auto integer = [&](int64_t& out) {
      if (!value.is_integer()) why = "keys[]." + name + " must be an integer";
      else out = value.as_int();
      return value.is_integer();
    };
    if (name == "key") {
      if (!value.is_string()) why = "keys[].key must be a string";
      else r.key = value.as_string(), have_key = true;
    } else if (name == "limit") have_limit = integer(r.limit);
    else if (name == "used") have_used = integer(r.used);
    else if (name == "held") integer(r.held);
    else if (name == "ends_in_ms") have_ends = integer(r.ends_in_ms);
    else if (name == "rate") {
      if (!value.is_number()) why = "keys[].rate must be a number";
      else r.rate = value.as_number();
    } else {
      why = "unknown field \"keys[]." + name + "\" (allowed: key, limit, used, rate, held, ends_in_ms)";
    }
    if (!why.empty()) return std::nullopt;
  }
  if (!have_key || !have_limit || !have_used || !have_ends) {
    why = "keys[] entries need key, limit, used and ends_in_ms";
    return std::nullopt;
  }
  return r;
}

}  // namespace

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

boost::asio::awaitable<std::unique_ptr<UsageApi>> UsageApi::open(const Fleet& fleet, NodeAuth& node_auth,
                                                                  ReadBudgets read_budgets,
                                                                  std::unique_ptr<LeaseStore> store,
                                                                  LeaseSettings settings, int64_t now_ms,
                                                                  std::string& error) {
  std::unique_ptr<UsageApi> api(new UsageApi(fleet, node_auth, std::move(read_budgets), std::move(store), settings));
  if (!co_await api->store_->load(api->book_, error)) co_return nullptr;
  api->book_.start_learning(now_ms);
  co_return api;
}

boost::asio::awaitable<void> UsageApi::take_turn() {
  const std::shared_ptr<Turns> turns = turns_;
  while (turns->taken) {
    boost::asio::steady_timer wake(co_await boost::asio::this_coro::executor,
                                   boost::asio::steady_timer::time_point::max());
    turns->waiting.push_back(&wake);
    struct Off {  // off the queue however the wait ends (woken, or the frame destroyed at shutdown)
      Turns& turns;
      boost::asio::steady_timer* timer;
      ~Off() { std::erase(turns.waiting, timer); }
    } off{*turns, &wake};
    boost::system::error_code ec;
    co_await wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  turns->taken = true;
}

void UsageApi::end_turn() {
  turns_->taken = false;
  if (!turns_->waiting.empty()) turns_->waiting.front()->cancel();
}

AdminResponse UsageApi::refuse(int status, std::string_view reason, std::string_view message) {
  ++reports_refused_[std::string(reason)];
  return error_response(status, reason, message);
}

const std::map<std::string, int64_t, std::less<>>* UsageApi::node_budgets(const NodeRecord& node) {
  NodeBudgets& cached = budgets_by_node_[node.declared.id];
  if (cached.version == node.desired_version && !cached.version.empty()) return &cached.limits;
  cached = NodeBudgets{};
  if (node.desired_document.empty() || !read_budgets_) return nullptr;
  auto budgets = read_budgets_(node.declared.role, node.desired_document);
  if (!budgets) return nullptr;
  cached.limits = std::move(*budgets);
  cached.version = node.desired_version;
  return &cached.limits;
}

boost::asio::awaitable<AdminResponse> UsageApi::usage(const proxy::AdminRequest& request, int64_t now_ms) {
  std::string parse_error;
  const auto body = strict_json::parse(request.body, parse_error);
  if (!body || !body->is_object())
    co_return refuse(400, "invalid_json",
                  "the body must be a JSON object {node, incarnation, seq, keys}" +
                      (parse_error.empty() ? std::string() : ": " + parse_error));
  const auto node = body->string_member("node");
  const auto incarnation = body->string_member("incarnation");
  const strict_json::Value* seq = body->find("seq");
  const strict_json::Value* keys = body->find("keys");
  for (const auto& [name, value] : body->members())
    if (name != "node" && name != "incarnation" && name != "seq" && name != "keys")
      co_return refuse(400, "unknown_field", "unknown field \"" + name + "\" (allowed: node, incarnation, seq, keys)");
  if (!node || !incarnation || !seq || !keys)
    co_return refuse(400, "missing_field", "node, incarnation, seq and keys are required");
  if (const NodeAuth::Verdict auth = node_auth_.authenticate(request, *node); !auth.ok)
    co_return refuse(auth.status, auth.code, auth.message);
  if (!valid_incarnation(*incarnation))
    co_return refuse(400, "invalid_field", "incarnation must be 1 to 64 of [A-Za-z0-9._-]");
  if (!seq->is_integer() || seq->as_int() < 1) co_return refuse(400, "invalid_field", "seq must be an integer >= 1");
  if (!keys->is_array() || keys->items().size() > kMaxKeysPerReport)
    co_return refuse(400, "invalid_field", "keys must be an array of at most 10000 entries");
  std::vector<KeyReport> reports;
  for (const auto& entry : keys->items()) {
    std::string why;
    auto r = read_key(entry, why);
    if (!r) co_return refuse(400, "invalid_field", why);
    reports.push_back(std::move(*r));
  }
  const NodeRecord* record = fleet_.find(*node);
  const auto* budgets = node_budgets(*record);
  for (const auto& r : reports) {
    const std::string_view name = budget_name(r.key);
    const auto budget = budgets ? budgets->find(name) : decltype(budgets->end()){};
    if (name.empty() || budgets == nullptr || budget == budgets->end())
      co_return refuse(422, "unknown_budget",
                    "key \"" + r.key + "\" names no budget of node " + std::string(*node) + "'s policy");
    if (budget->second != r.limit)
      co_return refuse(422, "limit_mismatch",
                    "key \"" + r.key + "\" reports limit " + std::to_string(r.limit) + " but node " +
                        std::string(*node) + "'s policy sets " + std::to_string(budget->second) +
                        " (apply the current snapshot first)");
  }
  const std::string node_id(*node), incarnation_id(*incarnation);
  co_await take_turn();
  AdminResponse response = co_await apply(node_id, incarnation_id, seq->as_int(), std::move(reports), now_ms);
  end_turn();
  co_return response;
}

boost::asio::awaitable<AdminResponse> UsageApi::apply(const std::string& node_id, const std::string& incarnation_id,
                                                      int64_t seq, std::vector<KeyReport> reports, int64_t now_ms) {
  std::string store_error;
  const auto last = co_await store_->last_seq(node_id, incarnation_id, store_error);
  if (!store_error.empty()) co_return refuse(503, "store_unavailable", store_error);
  if (last && seq < *last)
    co_return refuse(409, "replayed",
                     "seq " + std::to_string(seq) + " is older than this incarnation's last report (" +
                         std::to_string(*last) + ")");
  LeaseBook::Answer answer;
  for (int attempt = 0;; ++attempt) {
    // The keys' state before the report, put back if the store cannot take it.
    std::vector<std::pair<std::string, std::optional<BudgetKeyState>>> before;
    std::vector<std::string> touched;
    for (const auto& r : reports) {
      const auto found = book_.keys().find(r.key);
      before.emplace_back(r.key, found == book_.keys().end() ? std::nullopt : std::optional(found->second));
      touched.push_back(r.key);
    }
    answer = book_.report(node_id, incarnation_id, reports, now_ms);
    if (!answer.errors.empty())
      co_return refuse(422, "invalid_report",
                       "key \"" + answer.errors.front().key + "\": " + answer.errors.front().message);
    const SaveResult saved = co_await store_->save(book_, touched, node_id, incarnation_id, seq, store_error);
    if (saved == SaveResult::Saved) break;
    for (auto& [key, state] : before) {
      if (state) book_.restore(key, std::move(*state));
      else book_.forget(key);
    }
    if (saved == SaveResult::Failed) co_return refuse(503, "store_unavailable", store_error);
    // Another control plane wrote the store since this book was loaded (the writer changed, and this plane holds
    // the role again or took it moments ago): the book is out of date and must not grant from it. Loaded again, it
    // learns for one lease lifetime, as after a restart, and the report is applied to it.
    if (attempt > 0)
      co_return refuse(503, "store_conflict", "the lease store was written by another control plane meanwhile");
    LeaseBook reloaded(book_.settings());
    if (!co_await store_->load(reloaded, store_error)) co_return refuse(503, "store_unavailable", store_error);
    book_ = std::move(reloaded);
    book_.start_learning(now_ms);
    ++books_reloaded_;
    log::warn("the lease store was written by another control plane: the leased budgets are reloaded and learn "
              "outstanding leases for one lease lifetime",
              json::ObjectWriter().field("lease_store", store_->where()));
  }
  if (book_.drop_ended(now_ms) > 0) co_await store_->forget_keys_not_in(book_, store_error);
  ++reports_accepted_;
  std::string leases = "[";
  for (const Lease& l : answer.leases) {
    if (leases.size() > 1) leases += ',';
    json::ObjectWriter w;
    w.field("key", l.key).field("granted", l.granted).field("ttl_ms", l.ttl_ms).field("spent", l.spent)
        .field("remaining", l.remaining);
    leases += std::move(w).finish();
  }
  leases += ']';
  json::ObjectWriter w;
  w.field("seq", seq)
      .field("sync_interval_ms", book_.settings().sync_interval_ms)
      .raw_field("leases", leases);
  co_return AdminResponse{200, "application/json", std::move(w).finish() + "\n", {}};
}

std::string UsageApi::budgets_json(int64_t now_ms) const {
  std::string out = "[";
  for (const auto& [key, state] : book_.keys()) {
    const auto t = LeaseBook::totals(state, now_ms);
    std::string holders = "[";
    for (const auto& [id, h] : state.holders) {
      if (holders.size() > 1) holders += ',';
      json::ObjectWriter hw;
      hw.field("holder", id).field("used", h.used).field("granted", h.granted)
          .field("expires_in_ms", h.expires_ms - now_ms).field("closed", h.closed);
      holders += std::move(hw).finish();
    }
    holders += ']';
    if (out.size() > 1) out += ',';
    json::ObjectWriter w;
    w.field("key", key).field("limit", t.limit).field("spent", t.spent).field("leased", t.leased)
        .field("remaining", t.remaining).raw_field("holders", holders);
    out += std::move(w).finish();
  }
  return out + "]";
}

void UsageApi::render_metrics(std::string& out, int64_t now_ms) const {
  namespace prometheus = core::prometheus;
  prometheus::family(out, "tollway_control_usage_reports_total", "counter",
                     "Usage reports (POST /v1/usage) accepted, and refused by reason.");
  prometheus::sample(out, "tollway_control_usage_reports_total", prometheus::labels({{"result", "accepted"}}),
                     reports_accepted_);
  for (const auto& [reason, n] : reports_refused_)
    prometheus::sample(out, "tollway_control_usage_reports_total",
                       prometheus::labels({{"result", "refused"}, {"reason", reason}}), n);
  prometheus::family(out, "tollway_control_lease_book_reloads_total", "counter",
                     "Times the leased budgets were loaded again because another control plane had written the "
                     "lease store since (each starts a learning period).");
  prometheus::sample(out, "tollway_control_lease_book_reloads_total", "", books_reloaded_);
  struct Gauge {
    const char* name;
    const char* help;
    int64_t LeaseBook::Totals::*field;
  };
  static constexpr Gauge kGauges[] = {
      {"tollway_control_budget_limit", "A leased budget key's limit.", &LeaseBook::Totals::limit},
      {"tollway_control_budget_spent", "What every node reported spending of a leased budget key.",
       &LeaseBook::Totals::spent},
      {"tollway_control_budget_leased", "What unexpired leases still allow their nodes to spend.",
       &LeaseBook::Totals::leased},
      {"tollway_control_budget_remaining", "A leased budget key's limit minus spent and leased.",
       &LeaseBook::Totals::remaining},
  };
  for (const Gauge& g : kGauges) {
    prometheus::family(out, g.name, "gauge", g.help);
    for (const auto& [key, state] : book_.keys())
      prometheus::sample(out, g.name, prometheus::labels({{"key", key}}),
                         static_cast<uint64_t>(std::max<int64_t>(0, LeaseBook::totals(state, now_ms).*g.field)));
  }
}

}  // namespace tollway::control::leases

#include "control/policy_api.h"

#include "control/api_response.h"
#include "control/etcd/etcd_policy.h"
#include "control/history_queries.h"
#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::control {
namespace {

namespace asio = boost::asio;
using proxy::AdminResponse;

AdminResponse json_response(int status, std::string body) {
  return AdminResponse{status, "application/json", std::move(body) + "\n", {}};
}

}  // namespace

PolicyApi::PolicyApi(PolicyHistory& history, etcd::EtcdClient* etcd, std::string prefix, std::string store,
                     CheckDocument check)
    : history_(history),
      etcd_(etcd),
      prefix_(std::move(prefix)),
      store_(std::move(store)),
      check_(std::move(check)) {}

bool PolicyApi::serves(std::string_view path) {
  return path == "/v1/history" || path == "/v1/history/diff" || path == "/v1/history/nacks" || path == "/v1/rollback";
}

asio::awaitable<AdminResponse> PolicyApi::handle(const proxy::AdminRequest& request) {
  if (request.path == "/v1/rollback") {
    if (request.method != "POST")
      co_return error_response(405, "method_not_allowed", "use POST /v1/rollback");
    co_return co_await rollback(request);
  }
  if (request.method != "GET")
    co_return error_response(405, "method_not_allowed", "use GET " + std::string(request.path));
  if (request.path == "/v1/history") co_return history();
  if (request.path == "/v1/history/nacks") {
    const auto limit = list_limit(request, 100, 1000);
    if (!limit) co_return list_limit_error(1000);
    co_return nacks(*limit);
  }
  co_return diff(request);
}

AdminResponse PolicyApi::history() const {
  std::string error;
  const auto versions = history_.list(error);
  if (!versions) return error_response(500, "history_unreadable", error);
  std::map<std::string, rollout::RolloutRecord> rollouts;
  if (rollouts_ != nullptr) {
    auto all = rollouts_->all(error);
    if (!all) return error_response(500, "history_unreadable", error);
    rollouts = std::move(*all);
  }
  std::string list = "[";
  for (const auto& v : *versions) {
    const auto r = rollouts.find(v.revision);
    list += (list.size() > 1 ? "," : "") + version_json(v, r == rollouts.end() ? "" : rollout::history_json(r->second));
  }
  json::ObjectWriter w;
  w.field("store", store_).field("rollback", etcd_ != nullptr).raw_field("versions", list + "]");
  return json_response(200, std::move(w).finish());
}

AdminResponse PolicyApi::nacks(int64_t limit) const {
  std::string error;
  const auto nacks = history_.nacks(limit, error);
  if (!nacks) return error_response(500, "history_unreadable", error);
  std::string list = "[";
  for (const auto& n : nacks->newest) {
    json::ObjectWriter item;
    item.field("at", n.at).field("node", n.node).field("version", n.version).field("reason", n.reason);
    list += (list.size() > 1 ? "," : "") + std::move(item).finish();
  }
  json::ObjectWriter w;
  w.field("total", nacks->total).field("nodes", nacks->nodes).raw_field("nacks", list + "]");
  return json_response(200, std::move(w).finish());
}

AdminResponse PolicyApi::diff(const proxy::AdminRequest& request) const {
  const auto from = query_param(request.query, "from");
  const auto to = query_param(request.query, "to");
  if (!from || !to || from->empty() || to->empty())
    return error_response(400, "missing_version", "GET /v1/history/diff needs ?from=V1&to=V2");
  std::string error;
  const auto diff = diff_versions(history_, *from, *to, error);
  if (!diff) return error_response(404, "unknown_version", error);
  return json_response(200, version_diff_json(*diff));
}

asio::awaitable<AdminResponse> PolicyApi::rollback(const proxy::AdminRequest& request) {
  std::string parse_error;
  const auto body = core::strict_json::parse(request.body, parse_error);
  if (!body || !body->is_object())
    co_return error_response(400, "invalid_json",
                             "the body must be a JSON object {version, author?}" +
                                 (parse_error.empty() ? std::string() : ": " + parse_error));
  for (const auto& [key, value] : body->members()) {
    if (key != "version" && key != "author")
      co_return error_response(400, "unknown_field",
                               "unknown field \"" + key + "\" (allowed: version, author)");
    if (!value.is_string())
      co_return error_response(400, "invalid_field", "field \"" + key + "\" must be a string");
  }
  const auto version = body->string_member("version");
  if (!version || version->empty()) co_return error_response(400, "missing_field", "version is required");
  const std::string author(body->string_member("author").value_or("admin token (POST /v1/rollback)"));
  std::string error;
  const auto plan = plan_rollback(history_, *version, prefix_, author, error);
  if (!plan) co_return error_response(404, "unknown_version", error);
  if (etcd_ == nullptr)
    co_return error_response(409, "directory_store", directory_rollback_refusal(plan->version));
  const PolicyVerdict verdict = check_policy(plan->files, check_);
  if (!verdict.policy) {
    std::string joined;
    for (const auto& e : verdict.errors) joined += (joined.empty() ? "" : "\n") + e;
    co_return error_response(422, "invalid_policy",
                             plan->version.revision + " no longer passes the check: " + joined);
  }
  const etcd::PublishOutcome outcome =
      co_await etcd::publish_policy(*etcd_, prefix_, plan->files, plan->meta);
  using Result = etcd::PublishOutcome::Result;
  if (outcome.result == Result::Conflict) co_return error_response(409, "conflict", outcome.message);
  if (outcome.result == Result::Failed) co_return error_response(502, "etcd_failed", outcome.message);
  json::ObjectWriter w;
  w.field("result", outcome.result == Result::Published ? "published" : "unchanged")
      .field("rolled_back_to", plan->version.revision)
      .field("content_hash", plan->version.content_hash)
      .field("message", outcome.message);
  if (outcome.result == Result::Published) w.field("etcd_revision", outcome.revision);
  co_return json_response(200, std::move(w).finish());
}

}  // namespace tollway::control

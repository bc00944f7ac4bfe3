#include "advise/fleet_fetch.h"

#include <chrono>

#include "control/client/control_http.h"
#include "core/strict_json.h"

namespace tollway::advise {
namespace {

constexpr std::size_t kMaxAnswer = 32 << 20;
constexpr auto kTimeout = std::chrono::seconds(15);

// One GET; the body when it answered 200, else a gap.
boost::asio::awaitable<std::optional<std::string>> get(const ControlAccess& access, std::string path,
                                                       std::vector<std::string>& gaps) {
  std::string base = access.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + path;
  const std::string_view no_body;
  control::ControlReply reply =
      co_await control::control_request("GET", url, access.admin_token, no_body, kTimeout, kMaxAnswer, access.tls);
  if (!reply.ok) {
    gaps.push_back(path + ": " + reply.error);
    co_return std::nullopt;
  }
  if (reply.status != 200) {
    gaps.push_back(path + ": HTTP " + std::to_string(reply.status) + " " + reply.body.substr(0, 160));
    co_return std::nullopt;
  }
  co_return std::move(reply.body);
}

}  // namespace

boost::asio::awaitable<ApiAnswers> fetch_api_answers(const ControlAccess& access) {
  ApiAnswers a;
  a.fleet = co_await get(access, "/v1/fleet", a.gaps);
  a.budgets = co_await get(access, "/v1/budgets", a.gaps);
  a.history = co_await get(access, "/v1/history", a.gaps);
  a.nacks = co_await get(access, "/v1/history/nacks?limit=100", a.gaps);
  a.trace_list = co_await get(access, "/v1/traces?limit=" + std::to_string(access.trace_limit), a.gaps);
  if (!a.trace_list) co_return a;
  std::string error;
  const auto list = core::strict_json::parse(*a.trace_list, error, core::strict_json::ParseLimits{kMaxAnswer, 32});
  const core::strict_json::Value* traces = list ? list->find("traces") : nullptr;
  if (traces == nullptr || !traces->is_array()) co_return a;
  std::vector<std::string> evicted;  // listed, then gone before it was read: not a failure of the fleet
  for (const auto& t : traces->items()) {
    const std::string id(t.string_member("trace_id").value_or(""));
    if (id.empty()) continue;
    std::vector<std::string> gaps;
    if (auto trace = co_await get(access, "/v1/traces/" + id, gaps)) a.traces.push_back(std::move(*trace));
    else evicted.insert(evicted.end(), gaps.begin(), gaps.end());
  }
  if (!evicted.empty())
    a.gaps.push_back(std::to_string(evicted.size()) +
                     " listed trace(s) not read (evicted meanwhile?): " + evicted.front());
  co_return a;
}

}  // namespace tollway::advise

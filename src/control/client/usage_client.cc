#include "control/client/usage_client.h"

#include <openssl/rand.h>

#include "control/client/control_http.h"
#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::control {
namespace {

constexpr auto kRequestTimeout = std::chrono::milliseconds(5'000);
constexpr std::size_t kMaxAnswerBytes = 4 << 20;

std::string random_incarnation() {
  unsigned char bytes[8];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string trimmed(const std::string& url) {
  return !url.empty() && url.back() == '/' ? url.substr(0, url.size() - 1) : url;
}

// The leases of a 200 answer, or nullopt with `error`.
std::optional<limits::LeaseAnswer> read_answer(const std::string& body, std::string& error) {
  std::string parse_error;
  const auto doc = core::strict_json::parse(body, parse_error);
  const auto* leases = doc && doc->is_object() ? doc->find("leases") : nullptr;
  if (leases == nullptr || !leases->is_array()) {
    error = "the control plane's answer has no leases" + (parse_error.empty() ? "" : ": " + parse_error);
    return std::nullopt;
  }
  limits::LeaseAnswer answer;
  if (const auto* interval = doc->find("sync_interval_ms"); interval && interval->is_integer())
    answer.sync_interval = std::chrono::milliseconds(interval->as_int());
  for (const auto& entry : leases->items()) {
    const auto* key = entry.find("key");
    const auto* granted = entry.find("granted");
    const auto* ttl = entry.find("ttl_ms");
    const auto* remaining = entry.find("remaining");
    if (!key || !key->is_string() || !granted || !granted->is_integer() || !ttl || !ttl->is_integer() ||
        !remaining || !remaining->is_integer()) {
      error = "a lease in the control plane's answer lacks key, granted, ttl_ms or remaining";
      return std::nullopt;
    }
    answer.leases.push_back({key->as_string(), granted->as_int(), ttl->as_int(), remaining->as_int()});
  }
  return answer;
}

}  // namespace

UsageClient::UsageClient(ControlClientOptions options)
    : options_(std::move(options)), incarnation_(random_incarnation()) {}

boost::asio::awaitable<std::optional<limits::LeaseAnswer>> UsageClient::exchange(std::vector<limits::LeaseUse> uses,
                                                                                std::string& error) {
  std::string keys = "[";
  for (const auto& u : uses) {
    if (keys.size() > 1) keys += ',';
    json::ObjectWriter k;
    k.field("key", u.key).field("limit", u.limit).field("used", u.used).field("rate", u.rate).field("held", u.held)
        .field("ends_in_ms", u.ends_in_ms);
    keys += std::move(k).finish();
  }
  keys += ']';
  json::ObjectWriter w;
  w.field("node", options_.node).field("incarnation", incarnation_).field("seq", ++seq_).raw_field("keys", keys);
  const std::string body = std::move(w).finish();
  const auto& identity = options_.identity;
  const auto tls = identity ? identity->control_tls() : nullptr;
  const std::string peer_spiffe_id = identity ? identity->control_spiffe_id() : std::string();
  for (const auto& url : options_.urls) {
    const ControlReply reply = co_await control_request("POST", trimmed(url) + "/v1/usage", options_.token, body,
                                                        kRequestTimeout, kMaxAnswerBytes, tls, peer_spiffe_id);
    if (!reply.ok) {
      error += (error.empty() ? "" : "; ") + trimmed(url) + ": " + reply.error;
      continue;
    }
    if (reply.status != 200) {
      error += (error.empty() ? "" : "; ") + trimmed(url) + ": HTTP " + std::to_string(reply.status) + " " +
               reply.body.substr(0, 300);
      if (reply.status >= 500) continue;  // another control plane may answer
      co_return std::nullopt;
    }
    co_return read_answer(reply.body, error);
  }
  co_return std::nullopt;
}

}  // namespace tollway::control

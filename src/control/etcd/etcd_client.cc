#include "control/etcd/etcd_client.h"

#include <charconv>

#include "tls/client_context.h"

namespace tollway::control::etcd {
namespace {

namespace asio = boost::asio;

constexpr uint64_t kMaxAnswerBytes = 64u << 20;

const http::HeaderPairs kJsonHeaders{{"Content-Type", "application/json"}, {"Accept", "application/json"}};

std::string why_failed(const http::ClientResponse& response) {
  if (!response.complete) return response.error;
  std::string message = error_message(response.body);
  return "HTTP " + std::to_string(response.status) + (message.empty() ? "" : ": " + message);
}

}  // namespace

std::optional<std::vector<http::UpstreamEndpoint>> parse_member_urls(std::string_view list, const EtcdTlsFiles& tls,
                                                                    std::string& error) {
  std::vector<http::UpstreamEndpoint> members;
  std::shared_ptr<asio::ssl::context> context;
  bool any_https = false;
  while (true) {
    const auto comma = list.find(',');
    std::string_view url = list.substr(0, comma);
    const std::string shown(url);
    const bool https = url.starts_with("https://");
    if (!https && !url.starts_with("http://")) {
      error = "\"" + shown + "\" is not http://HOST:PORT or https://HOST:PORT (etcd's v3 JSON gateway)";
      return std::nullopt;
    }
    url.remove_prefix(https ? 8 : 7);
    if (url.ends_with("/")) url.remove_suffix(1);
    const auto colon = url.rfind(':');
    uint16_t port = 0;
    const bool port_ok =
        colon != std::string_view::npos && colon > 0 &&
        std::from_chars(url.data() + colon + 1, url.data() + url.size(), port).ptr == url.data() + url.size() &&
        port != 0;
    if (!port_ok || url.find('/') != std::string_view::npos) {
      error = "\"" + shown + "\" is not http(s)://HOST:PORT (a port is required, no path)";
      return std::nullopt;
    }
    http::UpstreamEndpoint endpoint;
    endpoint.host = std::string(url.substr(0, colon));
    if (endpoint.host.size() > 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']')
      endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
    endpoint.port = port;
    endpoint.pool_key = "etcd " + shown;
    if (https) {
      if (!context) {
        std::optional<tls::ClientTlsError> tls_error;
        context = tls::make_client_context({tls.ca_file, tls.cert_file, tls.key_file}, tls_error);
        if (!context) {
          const char* option = !tls_error ? "--etcd-ca"
                               : tls_error->file == tls::ClientTlsError::Ca   ? "--etcd-ca"
                               : tls_error->file == tls::ClientTlsError::Cert ? "--etcd-cert"
                                                                              : "--etcd-key";
          error = std::string(option) + ": " + (tls_error ? tls_error->message : "cannot make a TLS context");
          return std::nullopt;
        }
      }
      endpoint.tls = true;
      endpoint.tls_context = context;
      any_https = true;
    }
    members.push_back(std::move(endpoint));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (!any_https && !tls.empty()) {
    error = "--etcd-ca, --etcd-cert and --etcd-key go with https:// member URLs";
    return std::nullopt;
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    error = "--etcd-cert and --etcd-key go together";
    return std::nullopt;
  }
  return members;
}

EtcdClient::EtcdClient(asio::any_io_executor executor, std::vector<http::UpstreamEndpoint> members,
                       std::chrono::milliseconds timeout) {
  for (auto& member : members)
    members_.push_back(std::make_unique<http::Client>(executor, std::move(member),
                                                      http::ClientOptions{timeout, kMaxAnswerBytes, true}));
}

std::string EtcdClient::member_name(std::size_t i) const {
  const auto& e = members_[i]->endpoint();
  return "etcd at " + e.host + ":" + std::to_string(e.port);
}

asio::awaitable<RangeAnswer> EtcdClient::range(std::string key, std::string range_end, bool keys_only) {
  const std::string body = range_request(key, range_end, keys_only);
  RangeAnswer answer;
  for (std::size_t tried = 0; tried < members_.size(); ++tried) {
    const std::size_t i = (preferred_ + tried) % members_.size();
    http::ClientResponse response = co_await members_[i]->request("POST", "/v3/kv/range", kJsonHeaders, body);
    if (!response.complete || response.status >= 500) {
      answer.error += (answer.error.empty() ? "" : "; ") + member_name(i) + ": " + why_failed(response);
      continue;
    }
    preferred_ = i;
    if (response.status != 200) {
      answer.error = member_name(i) + ": range refused: " + why_failed(response);
      co_return answer;
    }
    std::string error;
    answer.result = parse_range_response(response.body, error);
    if (!answer.result) answer.error = member_name(i) + ": unusable range answer: " + error;
    else answer.error.clear();
    co_return answer;
  }
  co_return answer;
}

asio::awaitable<TxnAnswer> EtcdClient::txn(std::string request) {
  TxnAnswer answer;
  const std::size_t i = preferred_;
  http::ClientResponse response = co_await members_[i]->request("POST", "/v3/kv/txn", kJsonHeaders, request);
  if (!response.complete) {
    preferred_ = (i + 1) % members_.size();
    answer.outcome_unknown = true;
    answer.error = member_name(i) + ": " + why_failed(response);
    co_return answer;
  }
  if (response.status != 200) {
    answer.error = member_name(i) + ": txn refused: " + why_failed(response);
    co_return answer;
  }
  std::string error;
  answer.result = parse_txn_response(response.body, error);
  if (!answer.result) answer.error = member_name(i) + ": unusable txn answer: " + error;
  co_return answer;
}

asio::awaitable<LeaseCallAnswer> EtcdClient::lease_call(std::string_view path, std::string body) {
  LeaseCallAnswer answer;
  for (std::size_t tried = 0; tried < members_.size(); ++tried) {
    const std::size_t i = (preferred_ + tried) % members_.size();
    http::ClientResponse response = co_await members_[i]->request("POST", path, kJsonHeaders, body);
    if (!response.complete || response.status >= 500) {
      answer.error += (answer.error.empty() ? "" : "; ") + member_name(i) + ": " + why_failed(response);
      continue;
    }
    preferred_ = i;
    if (response.status != 200) {
      answer.error = member_name(i) + ": " + std::string(path) + " refused: " + why_failed(response);
      co_return answer;
    }
    std::string error;
    answer.result = parse_lease_response(response.body, error);
    if (!answer.result) answer.error = member_name(i) + ": unusable lease answer: " + error;
    else answer.error.clear();
    co_return answer;
  }
  co_return answer;
}

asio::awaitable<LeaseCallAnswer> EtcdClient::lease_grant(int64_t ttl_seconds) {
  co_return co_await lease_call("/v3/lease/grant", lease_grant_request(ttl_seconds));
}

asio::awaitable<LeaseCallAnswer> EtcdClient::lease_keepalive(int64_t id) {
  co_return co_await lease_call("/v3/lease/keepalive", lease_keepalive_request(id));
}

}  // namespace tollway::control::etcd

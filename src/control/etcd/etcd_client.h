// EtcdClient: the control plane's and `tollway control publish`'s way to an etcd 3.4 cluster — the v3 JSON
// gateway over HTTP or HTTPS (POST /v3/kv/range, /v3/kv/txn, /v3/lease/grant, /v3/lease/keepalive), one keep-alive
// http::Client per listed member. A range or a lease call that gets no answer (or a 5xx) from one member is asked
// of the next, and the member that answered last is asked first next time. It never sends a txn twice: a txn
// without an answer is reported as of unknown outcome (and the next txn goes to the next member). It never logs
// keys or values.
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/etcd/etcd_json.h"
#include "http/client.h"

namespace tollway::control::etcd {

// TLS to etcd (https:// member URLs): the CA bundle that signs the members' certificates ("" = the system
// store) and, for etcd's --client-cert-auth, the client certificate and its key.
struct EtcdTlsFiles {
  std::string ca_file, cert_file, key_file;
  bool empty() const { return ca_file.empty() && cert_file.empty() && key_file.empty(); }
};

// "http://HOST:PORT[,https://HOST:PORT...]" -> endpoints (https ones with one client context made from `tls`);
// nullopt with `error` for anything else, a TLS file that cannot be used, or TLS files without an https URL.
std::optional<std::vector<http::UpstreamEndpoint>> parse_member_urls(std::string_view list, const EtcdTlsFiles& tls,
                                                                    std::string& error);

struct RangeAnswer {
  std::optional<RangeResult> result;
  std::string error;  // when no result: which members were tried and why each failed
};

struct LeaseCallAnswer {
  std::optional<LeaseAnswer> result;
  std::string error;
};

struct TxnAnswer {
  std::optional<TxnResult> result;
  std::string error;
  bool outcome_unknown = false;  // sent, but no answer came: it may or may not have been applied
};

class EtcdClient {
 public:
  EtcdClient(boost::asio::any_io_executor executor, std::vector<http::UpstreamEndpoint> members,
             std::chrono::milliseconds timeout);

  // Every key in [key, range_end), with values unless keys_only.
  boost::asio::awaitable<RangeAnswer> range(std::string key, std::string range_end, bool keys_only);
  // Sends `request` (a TxnRequest's JSON) once, to the member that answered last.
  boost::asio::awaitable<TxnAnswer> txn(std::string request);
  // A new lease of `ttl_seconds`; and one keep-alive of lease `id` (ttl 0 in the answer: the lease is gone).
  boost::asio::awaitable<LeaseCallAnswer> lease_grant(int64_t ttl_seconds);
  boost::asio::awaitable<LeaseCallAnswer> lease_keepalive(int64_t id);

 private:
  boost::asio::awaitable<LeaseCallAnswer> lease_call(std::string_view path, std::string body);
  std::string member_name(std::size_t i) const;

  std::vector<std::unique_ptr<http::Client>> members_;
  std::size_t preferred_ = 0;
};

}  // namespace tollway::control::etcd

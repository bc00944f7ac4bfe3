#include "gateway/assembly.h"

#include "providers/routing/filter.h"

namespace tollway::gateway {
namespace {

namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> client_tls_context(const config::ProviderConfig& p, std::string& error) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  if (p.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(p.ca_file, ec);
  }
  if (ec) {
    error = "provider \"" + p.name + "\": cannot load CA certificates" +
            (p.ca_file.empty() ? std::string(" from the system store") : " from \"" + p.ca_file + "\"") + ": " +
            ec.message();
    return nullptr;
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

}  // namespace

std::shared_ptr<const pipeline::Snapshot> build_snapshot(std::shared_ptr<const config::GatewayConfig> config,
                                                         uint64_t generation, Services& services,
                                                         std::string& error) {
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  snapshot->config = config;
  snapshot->generation = generation;
  snapshot->loaded_at = std::chrono::system_clock::now();
  for (const auto& p : config->providers) {
    http::UpstreamEndpoint e;
    e.host = p.host;
    e.port = p.port;
    e.tls = p.tls;
    if (p.tls) {
      e.tls_context = client_tls_context(p, error);
      if (!e.tls_context) return nullptr;
    }
    e.pool_key = std::string(p.tls ? "https://" : "http://") + p.host + ":" + std::to_string(p.port) + "#" +
                 p.ca_file;
    snapshot->upstreams.push_back(std::move(e));
  }
  (void)services;  // process-lifetime stores the filters of later features share
  // The gateway's filters, in phase order.
  snapshot->chain.add<providers::ProviderRouteFilter>(config, snapshot->upstreams);
  return snapshot;
}

}  // namespace tollway::gateway

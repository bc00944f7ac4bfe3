// GatewayRole: the north-south gateway as the proxy engine runs it — its configuration (the gateway
// document), the snapshot and filter chain built from it (assembly.cc), routes matched by path, errors in the
// caller's API format (OpenAI or Anthropic). It holds the gateway's process-lifetime services; it never
// touches a socket.
#pragma once

#include "gateway/services.h"
#include "proxy/role.h"

namespace tollway::gateway {

class GatewayRole final : public proxy::Role {
 public:
  std::string_view name() const override { return "gateway"; }
  void attach(proxy::EngineServices& services) override;
  proxy::PrepareResult prepare(const proxy::ConfigDocument& document,
                               const pipeline::Snapshot* active) override;
  std::shared_ptr<const pipeline::Snapshot> commit(proxy::PreparedSnapshot prepared,
                                                   std::string& error) override;
  proxy::RequestTarget classify(const pipeline::Snapshot& snapshot, const http::RequestHead& head,
                                pipeline::RequestCtx& ctx) const override;
  std::string error_body(const pipeline::RequestCtx* ctx, std::string_view path, int status,
                         std::string_view message, std::string_view code) const override;
  int error_status(const pipeline::RequestCtx& ctx, int status) const override;
  void reopen_logs() override;
  // The control plane's usage API, for `ledger: leased` (set before the first commit by a node under control).
  void set_lease_source(std::shared_ptr<limits::LeaseSource> source) { services_.lease_source = std::move(source); }
  void on_drain() override;

 private:
  // Every telemetry.otlp.metrics_interval: the workers' merged per-call series, offered to the OTLP exporter.
  boost::asio::awaitable<void> export_metrics();

  Services services_;
  bool exporting_metrics_ = false;
  bool draining_ = false;
};

}  // namespace tollway::gateway

// ReportingConfigSource: a gateway that runs from its own file (or the embedded config) and tells a control
// plane what it runs (`tollway gateway --report-to URL[,URL…] --node ID --token-file FILE`): POST /v1/report
// with the content version of the document it runs (config::content_version), its resolved version and its
// build, after each reload attempt and every 30 s, with the node's bootstrap token (and, with the node's identity,
// its SVID as client certificate and the SVID's validity, so the fleet shows when it expires), trying the listed
// URLs in turn. It wraps the source it reports on and forwards everything to it. It never takes configuration from
// the control plane, never changes what the engine applies, and a control plane that does not answer changes
// nothing but its metrics.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config_source.h"
#include "proxy/node_identity.h"

namespace tollway::control {

struct ReportOptions {
  std::vector<std::string> urls;  // the control planes' base URLs, tried in turn
  std::string node;
  std::string token;
  std::chrono::milliseconds interval{30'000};  // between reports when nothing changes
  // The node's SPIFFE identity: https control planes are then spoken to with its SVID as client certificate.
  std::shared_ptr<proxy::NodeIdentity> identity;
};

class ReportingConfigSource final : public proxy::ConfigSource {
 public:
  ReportingConfigSource(boost::asio::io_context& context, std::unique_ptr<proxy::ConfigSource> inner,
                        ReportOptions options);
  ~ReportingConfigSource() override;

  const std::string& origin() const override { return inner_->origin(); }
  std::optional<proxy::ConfigDocument> read(std::string& error) override;
  boost::asio::awaitable<bool> changed() override { return inner_->changed(); }
  void cancel() override;
  void mark_read() override { inner_->mark_read(); }
  bool reloadable() const override { return inner_->reloadable(); }
  void applied(const std::string& version, const std::vector<std::string>& errors) override;
  const char* change_trigger() const override { return inner_->change_trigger(); }
  void render_metrics(std::string& out) const override;

  // The reporting loop's state, shared with its coroutine (which may outlive this object until the context
  // ends).
  struct State;

 private:
  std::unique_ptr<proxy::ConfigSource> inner_;
  std::string last_read_;  // the document the engine read last (applied() says what became of it)
  std::shared_ptr<State> state_;
};

}  // namespace tollway::control

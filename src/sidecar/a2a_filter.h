// A2aGuard: A2A awareness on the sidecar's inbound side, for a local agent that serves A2A's JSON-RPC binding
// (the document's `a2a:` section). Agent card (GET /.well-known/agent-card.json or /.well-known/agent.json):
// the agent's card is passed on with `skills` reduced to those the caller's verified SPIFFE ID may use
// (a2a/card.h); a card that cannot be read is replaced by an error, never passed on unfiltered. Authorize
// phase, for a POST to one of a2a.paths: reads the body as one JSON-RPC request strictly (malformed: the
// JSON-RPC error the spec prescribes; batches are refused: A2A sends one request per body), decides
// `message/send`, `message/stream`, `SendMessage` and `SendStreamingMessage` by the skill the message names
// (a2a/call.h) and every other method by identity (a2a_config.h); a refused call is answered with a JSON-RPC
// error in HTTP 200 that the A2A SDK raises, gets a decision-log line, and is never forwarded. Each call gets
// a span under the hop's, which the agent continues (traceparent); the response — JSON or an SSE stream,
// passed on byte for byte — is read for the task and context ids and the outcome of that span, and an
// extended card's skills are filtered like the public card's. It never forwards a body it could not read, and
// never edits bytes other than a card's skills and signatures.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "pipeline/filter.h"
#include "sidecar/config.h"

namespace tollway::sidecar {

namespace asio = boost::asio;

// Process-lifetime A2A counters across reloads, rendered on /metrics: calls refused by reason, and agent
// cards served by what filtering did to them.
class A2aRuntime {
 public:
  void count_refusal(std::string_view reason);
  void count_card(std::string_view result);
  void render_metrics(std::string& out) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> refusals_;  // by reason
  std::map<std::string, uint64_t> cards_;     // by result: unchanged, filtered, unreadable
};

class A2aGuard final : public pipeline::Filter {
 public:
  A2aGuard(std::shared_ptr<const SidecarConfig> config, A2aRuntime& runtime)
      : config_(std::move(config)), runtime_(runtime) {}
  std::string_view name() const override { return "a2a_guard"; }
  asio::awaitable<pipeline::Verdict> authorize(pipeline::RequestCtx& ctx) override;
  // A card request asks the agent for the card as it is: no compression, ranges or conditions.
  asio::awaitable<pipeline::Verdict> shape_upstream(pipeline::RequestCtx& ctx) override;
  std::unique_ptr<pipeline::ResponseBodyTransformer> response_body(pipeline::RequestCtx& ctx,
                                                                   const http::ResponseHead& head) override;

 private:
  bool is_card_request(const pipeline::RequestCtx& ctx) const;
  bool is_rpc_request(const pipeline::RequestCtx& ctx) const;
  pipeline::Verdict refuse(pipeline::RequestCtx& ctx, int status, int code, std::string message,
                           std::string_view reason) const;

  std::shared_ptr<const SidecarConfig> config_;
  A2aRuntime& runtime_;
};

}  // namespace tollway::sidecar

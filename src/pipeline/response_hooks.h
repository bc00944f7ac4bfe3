// ResponseHooks: the chain's response phases for one upstream attempt, built by the driver (run.cc) and called
// by the Exchange as the provider's answer arrives. Every hook runs in reverse chain order, like Envoy's
// encoder filters: the filter nearest the provider sees the provider's answer first. It owns the attempt's
// body transformers; it never touches sockets or framing (the Exchange does), and never awaits.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/chain.h"
#include "pipeline/request_ctx.h"

namespace tollway::pipeline {

class ResponseHooks {
 public:
  ResponseHooks(const Chain& chain, RequestCtx& ctx) : chain_(chain), ctx_(ctx) {}
  ResponseHooks(const ResponseHooks&) = delete;
  ResponseHooks& operator=(const ResponseHooks&) = delete;

  // The response head arrived and goes on to the client: every filter's on_response_head, then the body
  // transformers the filters return (response_body). True when a transformer may change the body's length
  // (the Exchange then frames the client's response itself).
  bool head(const http::ResponseHead& head);
  // De-chunked body bytes from the provider (`last`: the body ended, completely or cut) through every
  // transformer; returns what goes on to the client, a view into `buffer` (or `in` itself when nothing
  // transforms). `buffer` and `scratch` are the caller's, reused across requests for their capacity.
  std::string_view transform(std::string_view in, bool last, std::string& buffer, std::string& scratch);
  bool has_transformers() const { return !transformers_.empty(); }
  // True while a transformer still needs provider bytes after the client has gone (e.g. usage not yet seen).
  bool wants_more_after_client_gone() const;
  // Body bytes as they were sent to the client: every filter's on_response_bytes.
  void sent(std::string_view bytes);
  // The response ended (after the last transform): on_response_bytes with last=true.
  void ended();
  // A failed attempt's answer, read whole instead of being sent: every filter's on_held_response.
  void held(Reply& reply);

 private:
  const Chain& chain_;
  RequestCtx& ctx_;
  std::vector<std::unique_ptr<ResponseBodyTransformer>> transformers_;  // nearest the provider first
};

}  // namespace tollway::pipeline

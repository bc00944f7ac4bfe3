// MockProvider: the demo's LLM provider — an OpenAI-compatible POST /v1/chat/completions on loopback that answers
// a deterministic completion with its usage (prompt tokens from the messages' words, completion tokens bounded by
// max_tokens), appends that usage to a JSON-lines log (the record the demo's totals are checked against) and keeps
// running totals. Non-streaming JSON only: a request with "stream": true is answered 400. It never calls out.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>

#include "proxy/admin_listener.h"

namespace tollway::demo {

struct ProviderTotals {
  uint64_t calls = 0;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
};

class MockProvider {
 public:
  // Listens on 127.0.0.1 (an ephemeral port) at once; the usage log is created or appended to.
  MockProvider(boost::asio::io_context& context, const std::string& usage_log);
  uint16_t port() const { return listener_->local_endpoint().port(); }
  ProviderTotals totals() const;
  void stop() { listener_->stop(); }

 private:
  proxy::AdminResponse answer(const proxy::AdminRequest& request);

  std::unique_ptr<proxy::AdminListener> listener_;
  mutable std::mutex mutex_;  // totals and the log: the listener's thread writes, the demo's thread reads
  ProviderTotals totals_;
  std::ofstream log_;
};

}  // namespace tollway::demo

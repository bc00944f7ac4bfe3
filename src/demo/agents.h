// DemoAgents: the three small agents built into `tollway demo`, each an HTTP server on loopback beside its sidecar:
//   - orchestrator (POST /task): starts the task's trace, calls retrieval (POST http://retrieval/search) and tools
//     (POST http://tools/run) through its sidecar's outbound listener as an HTTP_PROXY client, then asks the LLM
//     (its sidecar's origin-form /v1/chat/completions, which the sidecar sends to the gateway) to summarise;
//   - retrieval (POST /search): one LLM call, continuing the trace it was called with;
//   - tools (POST /run): one LLM call that forgets the trace context (the sidecar sees an orphan and repairs it)
//     and, when asked to, a call back to the orchestrator that policy forbids.
// Every answer lists every call made below it (from, to, status, error code), so the workload sees each denial
// with its reason. The orchestrator reports its own span through `SpanSink`. Each agent records its own time per
// request (its handler's time minus the time it waited on its calls), the agents' work `tollway sim` takes as a
// separate input. Agents hold no credential: identity, authorization, limits and the provider key are their
// sidecars' and the gateway's business.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/admin_listener.h"

namespace tollway::demo {

// One span an agent made itself (the orchestrator's SERVER span of a task), for export.
struct AgentSpan {
  std::string service;  // the agent's name
  std::string name;
  std::string trace_id;        // 32 hex
  std::string span_id;         // 16 hex
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  bool error = false;
};
using SpanSink = std::function<void(AgentSpan)>;

// The agents' names, as the policy's peers and SPIFFE IDs name them.
inline constexpr const char* kOrchestrator = "orchestrator";
inline constexpr const char* kRetrieval = "retrieval";
inline constexpr const char* kTools = "tools";
inline constexpr const char* kAgentNames[] = {kOrchestrator, kRetrieval, kTools};

class DemoAgents {
 public:
  // Binds the three agents on 127.0.0.1 ephemeral ports at once; they answer 503 until their sidecar is known.
  DemoAgents(boost::asio::io_context& context, std::string model, SpanSink spans);
  uint16_t port(std::string_view agent) const;
  // The agent's sidecar outbound listener (HTTP_PROXY and LLM base URL), once that sidecar is up.
  void set_outbound(std::string_view agent, uint16_t port);
  void stop();
  // The agent's own time of every request it answered so far (µs), in the order they ended.
  std::vector<double> own_time_us(std::string_view agent) const;

 private:
  struct Agent {
    std::unique_ptr<proxy::AdminListener> listener;
    std::atomic<uint16_t> outbound{0};
  };
  using Waited = std::chrono::steady_clock::duration;  // time a request spent waiting on the agent's calls
  boost::asio::awaitable<proxy::AdminResponse> handle(const std::string& agent, const proxy::AdminRequest& request);
  boost::asio::awaitable<proxy::AdminResponse> orchestrate(const proxy::AdminRequest& request, uint16_t outbound,
                                                           Waited& waited);
  boost::asio::awaitable<proxy::AdminResponse> search(const proxy::AdminRequest& request, uint16_t outbound,
                                                      Waited& waited);
  boost::asio::awaitable<proxy::AdminResponse> run_tool(const proxy::AdminRequest& request, uint16_t outbound,
                                                        Waited& waited);

  std::string model_;
  SpanSink spans_;
  std::map<std::string, std::unique_ptr<Agent>, std::less<>> agents_;
  mutable std::mutex own_mutex_;  // the agents answer on the io thread; the summary reads from another
  std::map<std::string, std::vector<double>, std::less<>> own_us_;
};

}  // namespace tollway::demo

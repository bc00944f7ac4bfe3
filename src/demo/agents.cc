#include "demo/agents.h"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <vector>

#include "core/json.h"
#include "core/strict_json.h"
#include "http/client.h"
#include "telemetry/trace_context.h"

namespace tollway::demo {

namespace {

namespace asio = boost::asio;
namespace sj = core::strict_json;
using namespace boost::asio::experimental::awaitable_operators;

// One call an agent made, as the workload tallies it.
struct Call {
  std::string from;
  std::string to;
  int status = 0;     // 0: no answer
  std::string code;   // the error's code (or type) when not 2xx
};

std::string calls_json(const std::vector<Call>& calls) {
  std::string out = "[";
  for (const auto& c : calls) {
    if (out.size() > 1) out += ',';
    json::ObjectWriter w;
    w.field("from", c.from).field("to", c.to).field("status", c.status).field("code", c.code);
    out += std::move(w).finish();
  }
  return out + "]";
}

// The calls an agent below reported in its answer.
std::vector<Call> reported_calls(std::string_view body) {
  std::vector<Call> calls;
  std::string error;
  const auto doc = sj::parse(body, error, sj::ParseLimits{1 << 20, 16});
  const sj::Value* list = doc ? doc->find("calls") : nullptr;
  if (list == nullptr || !list->is_array()) return calls;
  for (const auto& item : list->items()) {
    Call c;
    c.from = std::string(item.string_member("from").value_or(""));
    c.to = std::string(item.string_member("to").value_or(""));
    if (const sj::Value* s = item.find("status"); s != nullptr && s->is_integer()) c.status = static_cast<int>(s->as_int());
    c.code = std::string(item.string_member("code").value_or(""));
    calls.push_back(std::move(c));
  }
  return calls;
}

// The error code of a refusal in either error shape tollway answers ({"error":{"code"|"type"}}); "" when none.
std::string error_code(std::string_view body) {
  std::string error;
  const auto doc = sj::parse(body, error, sj::ParseLimits{1 << 20, 16});
  const sj::Value* e = doc ? doc->find("error") : nullptr;
  if (e == nullptr || !e->is_object()) return {};
  if (const auto code = e->string_member("code")) return std::string(*code);
  return std::string(e->string_member("type").value_or(""));
}

struct Answer {
  Call call;
  std::string body;
};

// A call through the agent's sidecar: to `peer`'s `path` as an HTTP_PROXY client (absolute-form), or to the LLM
// (origin-form /v1/chat/completions, which the sidecar sends to the gateway) when `peer` is "llm".
asio::awaitable<Answer> call_out(uint16_t outbound, std::string from, std::string peer, std::string path,
                                 std::string body, std::string traceparent) {
  http::UpstreamEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = outbound;
  const auto executor = co_await asio::this_coro::executor;
  http::Client client(executor, std::move(endpoint),
                      http::ClientOptions{std::chrono::seconds(15), 1 << 20, /*keep_alive=*/false});
  const bool llm = peer == "llm";
  if (!llm) client.use_host_header(peer);
  http::HeaderPairs headers{{"Content-Type", "application/json"}};
  if (!traceparent.empty()) headers.emplace_back("traceparent", traceparent);
  const std::string target = llm ? path : "http://" + peer + path;
  http::ClientResponse response = co_await client.request("POST", target, headers, body);
  Answer answer;
  answer.call.from = std::move(from);
  answer.call.to = llm ? "gateway" : peer;
  answer.call.status = response.complete ? response.status : 0;
  if (!response.complete) answer.call.code = "no_answer";
  else if (response.status >= 300) answer.call.code = error_code(response.body);
  answer.body = std::move(response.body);
  co_return answer;
}

std::string chat_body(const std::string& model, std::string_view prompt, int max_tokens) {
  json::ObjectWriter message;
  message.field("role", "user").field("content", prompt);
  json::ObjectWriter body;
  body.field("model", model).field("max_tokens", max_tokens).raw_field("messages", "[" + std::move(message).finish() + "]");
  return std::move(body).finish();
}

// The words of a prompt: a few per task, so that usage differs from call to call.
std::string prompt_for(std::string_view what, std::string_view request_body) {
  std::string prompt(what);
  for (std::size_t i = 0; i < request_body.size() % 13; ++i) prompt += " detail";
  return prompt;
}

proxy::AdminResponse calls_answer(const std::vector<Call>& calls, std::string_view extra_fields = {}) {
  std::string body = "{";
  if (!extra_fields.empty()) body += std::string(extra_fields) + ",";
  body += "\"calls\":" + calls_json(calls) + "}";
  return proxy::AdminResponse{200, "application/json", std::move(body), {}};
}

int64_t unix_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool flag_member(std::string_view body, std::string_view name) {
  std::string error;
  const auto doc = sj::parse(body, error);
  const sj::Value* v = doc ? doc->find(name) : nullptr;
  return v != nullptr && v->is_bool() && v->as_bool();
}

}  // namespace

DemoAgents::DemoAgents(asio::io_context& context, std::string model, SpanSink spans)
    : model_(std::move(model)), spans_(std::move(spans)) {
  const auto loopback = proxy::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
  for (const char* name : kAgentNames) {
    auto agent = std::make_unique<Agent>();
    const std::string agent_name = name;
    agent->listener = std::make_unique<proxy::AdminListener>(
        context, loopback, proxy::AdminTimeouts{},
        [this, agent_name](const proxy::AdminRequest& r) { return handle(agent_name, r); });
    agent->listener->start();
    agents_.emplace(name, std::move(agent));
  }
}

uint16_t DemoAgents::port(std::string_view agent) const {
  return agents_.find(agent)->second->listener->local_endpoint().port();
}

void DemoAgents::set_outbound(std::string_view agent, uint16_t port) { agents_.find(agent)->second->outbound = port; }

std::vector<double> DemoAgents::own_time_us(std::string_view agent) const {
  std::lock_guard lock(own_mutex_);
  const auto it = own_us_.find(agent);
  return it == own_us_.end() ? std::vector<double>{} : it->second;
}

void DemoAgents::stop() {
  for (auto& [name, agent] : agents_) agent->listener->stop();
}

asio::awaitable<proxy::AdminResponse> DemoAgents::handle(const std::string& agent, const proxy::AdminRequest& request) {
  const uint16_t outbound = agents_.find(agent)->second->outbound;
  if (outbound == 0)
    co_return proxy::AdminResponse{503, "application/json", R"({"error":{"code":"starting","message":"my sidecar is not up yet"}})", {}};
  if (request.method != "POST")
    co_return proxy::AdminResponse{405, "application/json", R"({"error":{"code":"method_not_allowed","message":"use POST"}})", {}};
  const auto started = std::chrono::steady_clock::now();
  Waited waited{};
  proxy::AdminResponse response;
  bool answered = true;
  if (agent == kOrchestrator && request.path == "/task") response = co_await orchestrate(request, outbound, waited);
  else if (agent == kRetrieval && request.path == "/search") response = co_await search(request, outbound, waited);
  else if (agent == kTools && request.path == "/run") response = co_await run_tool(request, outbound, waited);
  else answered = false;
  if (answered) {
    const auto own = std::chrono::steady_clock::now() - started - waited;
    {
      std::lock_guard lock(own_mutex_);
      own_us_[agent].push_back(std::chrono::duration<double, std::micro>(own).count());
    }
    co_return response;
  }
  co_return proxy::AdminResponse{404, "application/json", R"({"error":{"code":"not_found","message":"no such path"}})", {}};
}

asio::awaitable<proxy::AdminResponse> DemoAgents::orchestrate(const proxy::AdminRequest& request, uint16_t outbound,
                                                              Waited& waited) {
  AgentSpan span;
  span.service = kOrchestrator;
  span.name = "POST /task";
  span.trace_id = telemetry::generate_trace_id().hex();
  span.span_id = telemetry::generate_span_id().hex();
  span.start_unix_ns = unix_ns_now();
  const std::string traceparent = "00-" + span.trace_id + "-" + span.span_id + "-01";
  const std::string tool_request = flag_member(request.body, "call_back") ? R"({"tool":"calculator","call_back":true})"
                                                                           : R"({"tool":"calculator"})";
  // The fan-out: retrieval and tools at once.
  auto waiting_since = std::chrono::steady_clock::now();
  auto [retrieval, tools] = co_await (
      call_out(outbound, kOrchestrator, kRetrieval, "/search", R"({"query":"tollway demo"})", traceparent) &&
      call_out(outbound, kOrchestrator, kTools, "/run", tool_request, traceparent));
  waited += std::chrono::steady_clock::now() - waiting_since;
  const std::string summary_prompt = prompt_for("summarise what retrieval and tools found", request.body);
  waiting_since = std::chrono::steady_clock::now();
  Answer summary =
      co_await call_out(outbound, kOrchestrator, "llm", "/v1/chat/completions", chat_body(model_, summary_prompt, 48), traceparent);
  waited += std::chrono::steady_clock::now() - waiting_since;
  std::vector<Call> calls;
  for (Answer* a : {&retrieval, &tools}) {
    calls.push_back(a->call);
    if (a->call.status == 200)
      for (auto& c : reported_calls(a->body)) calls.push_back(std::move(c));
  }
  calls.push_back(summary.call);
  span.end_unix_ns = unix_ns_now();
  for (const auto& c : calls) span.error = span.error || c.status == 0 || c.status >= 500;
  const std::string trace_field = "\"trace_id\":" + json::quoted(span.trace_id);
  if (spans_) spans_(std::move(span));
  co_return calls_answer(calls, trace_field);
}

asio::awaitable<proxy::AdminResponse> DemoAgents::search(const proxy::AdminRequest& request, uint16_t outbound,
                                                         Waited& waited) {
  // Continues the caller's trace: what an instrumented agent's HTTP client does.
  const std::string traceparent(request.head->find("traceparent").value_or(""));
  const std::string body = chat_body(model_, prompt_for("rank these passages", request.body), 32);
  const auto waiting_since = std::chrono::steady_clock::now();
  Answer llm = co_await call_out(outbound, kRetrieval, "llm", "/v1/chat/completions", body, traceparent);
  waited += std::chrono::steady_clock::now() - waiting_since;
  co_return calls_answer({llm.call});
}

asio::awaitable<proxy::AdminResponse> DemoAgents::run_tool(const proxy::AdminRequest& request, uint16_t outbound,
                                                           Waited& waited) {
  // Forgets the trace context on its LLM call, as agents without instrumentation do: its sidecar repairs it.
  std::vector<Call> calls;
  const std::string body = chat_body(model_, prompt_for("pick the arguments for calculator", request.body), 24);
  auto waiting_since = std::chrono::steady_clock::now();
  Answer llm = co_await call_out(outbound, kTools, "llm", "/v1/chat/completions", body, "");
  waited += std::chrono::steady_clock::now() - waiting_since;
  calls.push_back(llm.call);
  if (flag_member(request.body, "call_back")) {
    waiting_since = std::chrono::steady_clock::now();
    Answer back = co_await call_out(outbound, kTools, kOrchestrator, "/task", "{}", "");
    waited += std::chrono::steady_clock::now() - waiting_since;
    calls.push_back(back.call);
  }
  co_return calls_answer(calls);
}

}  // namespace tollway::demo

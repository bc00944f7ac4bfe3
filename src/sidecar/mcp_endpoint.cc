#include "sidecar/mcp_endpoint.h"

#include <openssl/rand.h>

#include <boost/asio/this_coro.hpp>

#include "core/json.h"
#include "core/log.h"
#include "core/version.h"
#include "http/client.h"
#include "http/sse.h"
#include "mcp/edit.h"
#include "pipeline/snapshot.h"
#include "sidecar/hop_state.h"
#include "sidecar/trace_filter.h"
#include "telemetry/trace_info.h"

namespace tollway::sidecar {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kIdleSession = std::chrono::hours(1);
constexpr std::size_t kMaxSessions = 10'000;
constexpr int kMaxPages = 16;  // pages read from one server for one list
constexpr std::string_view kJson = "application/json";

std::string session_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// What an upstream answered one message with.
struct UpstreamAnswer {
  bool ok = false;
  std::string message;  // the JSON-RPC response (requests), "" for an accepted notification
  std::string session;  // Mcp-Session-Id it set, if any
  std::string error;    // why not ok
};

// The response to `id_key` in a JSON body or an SSE stream body.
std::optional<std::string> find_response(std::string_view body, bool sse, const std::string& id_key,
                                         uint64_t max_bytes) {
  std::optional<std::string> found;
  const auto look = [&](std::string_view text) {
    mcp::ReadError error;
    const auto envelope = mcp::read_envelope(text, error, {max_bytes, 64});
    if (!envelope) return;
    for (const auto& m : envelope->messages)
      if ((m.kind == mcp::Message::Kind::Result || m.kind == mcp::Message::Kind::Error) && m.id_key == id_key)
        found = std::string(text.substr(m.value->begin(), m.value->end() - m.value->begin()));
  };
  if (!sse) {
    look(body);
    return found;
  }
  http::SseReader reader;
  reader.feed(body, [&](const http::SseEvent& event) {
    if (!found && event.type == "message") look(event.data);
  });
  return found;
}

std::string result_response(std::string_view id, std::string_view result) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id;
  out += ",\"result\":";
  out += result;
  out += '}';
  return out;
}

}  // namespace

std::string McpEndpointSessions::open(Session session) {
  const auto now = Clock::now();
  std::string id = session_token();
  if (id.empty()) return id;
  std::lock_guard lock(mutex_);
  expire(now);
  if (sessions_.size() >= kMaxSessions) return {};
  sessions_[id] = Entry{std::move(session), now};
  return id;
}

std::optional<McpEndpointSessions::Session> McpEndpointSessions::find(const std::string& id) {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  expire(now);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  it->second.used = now;
  return it->second.session;
}

void McpEndpointSessions::remember_resources(const std::string& id,
                                             const std::vector<std::pair<std::string, std::size_t>>& owners) {
  std::lock_guard lock(mutex_);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  for (const auto& [uri, index] : owners) it->second.session.resource_owner[uri] = index;
}

void McpEndpointSessions::close(const std::string& id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

void McpEndpointSessions::expire(Clock::time_point now) {
  std::erase_if(sessions_, [&](const auto& item) { return now - item.second.used > kIdleSession; });
}

// One client request being answered: the session, the trace, and the calls to upstreams.
struct McpEndpoint::Exchange {
  const McpEndpoint& self;
  pipeline::RequestCtx& ctx;
  const McpEndpointConfig& endpoint;
  std::string session_id;
  McpEndpointSessions::Session session;

  const http::UpstreamEndpoint* upstream_of(std::size_t server) const {
    const PeerConfig* peer = self.config_->find_peer(endpoint.servers[server].peer);
    if (peer == nullptr) return nullptr;
    return &self.upstreams_.peers[static_cast<std::size_t>(peer - self.config_->peers.data())];
  }

  // Sends one message to server `index` (its span's context in traceparent) and reads the answer to `id_key`.
  asio::awaitable<UpstreamAnswer> send(std::size_t index, std::string_view body, const std::string& id_key,
                                       const telemetry::SpanContext& span) {
    UpstreamAnswer answer;
    const McpUpstream& server = endpoint.servers[index];
    const http::UpstreamEndpoint* upstream = upstream_of(index);
    if (upstream == nullptr) {
      answer.error = "MCP server " + server.name + ": peer " + server.peer + " is not in the directory";
      co_return answer;
    }
    http::ClientOptions options;
    options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        ctx.snapshot->serving.timeouts.upstream_total);
    options.max_body = self.config_->mcp.max_message_bytes;
    options.keep_alive = false;
    http::Client client(co_await asio::this_coro::executor, *upstream, options);
    http::HeaderPairs headers{{"content-type", std::string(kJson)},
                              {"accept", "application/json, text/event-stream"},
                              {"traceparent", telemetry::format_traceparent(span)},
                              {std::string(kHopsHeader), std::to_string(ctx.features.get<HopState>().hops)}};
    if (index < session.upstream_ids.size() && !session.upstream_ids[index].empty())
      headers.emplace_back("mcp-session-id", session.upstream_ids[index]);
    if (!session.protocol_version.empty()) headers.emplace_back("mcp-protocol-version", session.protocol_version);
    const http::ClientResponse response =
        co_await client.request("POST", server.path, headers, body);
    if (!response.complete) {
      answer.error = "MCP server " + server.name + " could not be reached: " + response.error;
      co_return answer;
    }
    if (const auto id = response.find("mcp-session-id")) answer.session = std::string(*id);
    if (id_key.empty()) {  // a notification: 202 Accepted
      answer.ok = response.status == 202 || response.status == 200;
      if (!answer.ok) answer.error = "MCP server " + server.name + " answered HTTP " + std::to_string(response.status);
      co_return answer;
    }
    const auto type = response.find("content-type");
    const bool sse = type && type->starts_with("text/event-stream");
    if (response.status != 200 || !type || !(sse || type->starts_with(kJson))) {
      answer.error = "MCP server " + server.name + " answered HTTP " + std::to_string(response.status);
      co_return answer;
    }
    auto message = find_response(response.body, sse, id_key, self.config_->mcp.max_message_bytes);
    if (!message) {
      answer.error = "MCP server " + server.name + " sent no answer to the request";
      co_return answer;
    }
    answer.ok = true;
    answer.message = std::move(*message);
    co_return answer;
  }

  // A span for one operation of this request (recorded in its mcp::RpcInfo) and its context.
  telemetry::SpanContext start_call(const mcp::Message& m, std::string_view target, bool tool) {
    mcp::RpcCall& call = ctx.features.get<mcp::RpcInfo>().calls.emplace_back();
    call.method = m.method;
    call.id = m.id;
    call.id_key = m.id_key;
    call.target = std::string(target);
    call.tool = tool;
    const telemetry::SpanContext span = telemetry::child_context(ctx.features.get<telemetry::TraceInfo>().server);
    call.span = span.span_id;
    return span;
  }
  void end_call(std::string error_type) {
    mcp::RpcCall& call = ctx.features.get<mcp::RpcInfo>().calls.back();
    call.answered = Clock::now();
    call.error_type = std::move(error_type);
  }

  // The upstream's answer, read as a message (find_response already read it); true when it is an error, which
  // ends the operation with its code.
  mcp::Envelope read_answer(const UpstreamAnswer& answer) const {
    mcp::ReadError error;
    return std::move(*mcp::read_envelope(answer.message, error, {self.config_->mcp.max_message_bytes, 64}));
  }
  bool ended_by_error(const mcp::Message& reply) {
    if (reply.kind != mcp::Message::Kind::Error) return false;
    end_call(std::to_string(reply.error->find("code")->as_int()));
    return true;
  }

  std::string fail(const mcp::Message& m, int code, const std::string& message, std::string_view type) {
    if (!ctx.features.get<mcp::RpcInfo>().calls.empty() && ctx.features.get<mcp::RpcInfo>().calls.back().id_key == m.id_key) end_call(std::string(type));
    return mcp::error_response(m.id, code, message);
  }

  asio::awaitable<std::string> initialize(std::string_view text, const mcp::Message& m) {
    const telemetry::SpanContext span = start_call(m, {}, false);
    const std::string body(text.substr(m.value->begin(), m.value->end() - m.value->begin()));
    McpEndpointSessions::Session opened;
    bool tools = false, prompts = false, resources = false;
    for (std::size_t i = 0; i < endpoint.servers.size(); ++i) {
      const UpstreamAnswer answer = co_await send(i, body, m.id_key, span);
      if (!answer.ok) co_return fail(m, mcp::kInternalError, answer.error, "upstream_unreachable");
      const mcp::Envelope envelope = read_answer(answer);
      const mcp::Message& reply = envelope.messages[0];
      if (ended_by_error(reply)) co_return answer.message;
      const auto version = reply.result->string_member("protocolVersion");
      if (!version || (!opened.protocol_version.empty() && *version != opened.protocol_version))
        co_return fail(m, mcp::kInternalError,
                       "MCP server " + endpoint.servers[i].name + " negotiated another protocol version", "version");
      opened.protocol_version = std::string(*version);
      if (const mcp::Json* caps = reply.result->find("capabilities"); caps != nullptr && caps->is_object()) {
        tools = tools || caps->find("tools") != nullptr;
        prompts = prompts || caps->find("prompts") != nullptr;
        resources = resources || caps->find("resources") != nullptr;
      }
      opened.server_names.push_back(endpoint.servers[i].name);
      opened.upstream_ids.push_back(answer.session);
      session.upstream_ids = opened.upstream_ids;  // later servers' requests carry nothing of theirs yet
    }
    session_id = self.sessions_.open(opened);
    if (session_id.empty()) co_return fail(m, mcp::kInternalError, "too many MCP sessions open", "sessions");
    session = std::move(opened);
    ctx.features.get<mcp::RpcInfo>().session_id = session_id;
    ctx.features.get<mcp::RpcInfo>().protocol_version = session.protocol_version;
    end_call({});
    std::string result = "{\"protocolVersion\":";
    json::append_quoted(result, session.protocol_version);
    result += ",\"capabilities\":{";
    std::string caps;
    for (const auto& [present, name] : {std::pair{tools, "tools"}, {prompts, "prompts"}, {resources, "resources"}})
      if (present) caps += std::string(caps.empty() ? "" : ",") + "\"" + name + "\":{}";
    result += caps + "},\"serverInfo\":{\"name\":\"tollway-mcp-endpoint\",\"version\":";
    json::append_quoted(result, kVersion);
    result += "}}";
    co_return result_response(m.id, result);
  }

  // A list's union over every server: tools and prompts prefixed SERVER_, resources as they are.
  asio::awaitable<std::string> merged_list(std::string_view text, const mcp::Message& m, const mcp::ListShape& shape) {
    const telemetry::SpanContext span = start_call(m, {}, false);
    const bool prefixed = shape.kind != mcp::TargetKind::Resource;
    std::vector<std::string> items;
    std::vector<std::pair<std::string, std::size_t>> owners;
    const std::string first(text.substr(m.value->begin(), m.value->end() - m.value->begin()));
    for (std::size_t i = 0; i < endpoint.servers.size(); ++i) {
      std::string body = first;
      for (int page = 0; page < kMaxPages; ++page) {
        const UpstreamAnswer answer = co_await send(i, body, m.id_key, span);
        if (!answer.ok) co_return fail(m, mcp::kInternalError, answer.error, "upstream_unreachable");
        const mcp::Envelope envelope = read_answer(answer);
        const mcp::Message& reply = envelope.messages[0];
        if (ended_by_error(reply)) co_return answer.message;
        const std::size_t before = items.size();
        std::string cursor;
        const std::string prefix = prefixed ? endpoint.servers[i].name + "_" : std::string();
        if (!mcp::list_items(answer.message, reply, shape, prefix, items, cursor))
          co_return fail(m, mcp::kInternalError, "MCP server " + endpoint.servers[i].name + " sent a malformed list",
                         "malformed_list");
        if (shape.kind == mcp::TargetKind::Resource && shape.key == "uri")
          for (std::size_t k = before; k < items.size(); ++k) {
            std::string why;
            const auto item = core::strict_json::parse(items[k], why);
            if (const auto uri = item ? item->string_member("uri") : std::nullopt) owners.emplace_back(*uri, i);
          }
        if (cursor.empty()) break;
        body = "{\"jsonrpc\":\"2.0\",\"id\":" + m.id + ",\"method\":";
        json::append_quoted(body, m.method);
        body += ",\"params\":{\"cursor\":";
        json::append_quoted(body, cursor);
        body += "}}";
      }
    }
    if (!owners.empty()) self.sessions_.remember_resources(session_id, owners);
    end_call({});
    std::string result = "{\"";
    result += shape.array;
    result += "\":[";
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (k > 0) result += ',';
      result += items[k];
    }
    result += "]}";
    co_return result_response(m.id, result);
  }

  // tools/call, prompts/get: to the server the name's prefix names; resource methods: to the server that listed it.
  asio::awaitable<std::string> routed(std::string_view text, const mcp::Message& m, const mcp::Operation& op) {
    const telemetry::SpanContext span = start_call(m, op.target, op.kind == mcp::TargetKind::Tool);
    const std::string body(text.substr(m.value->begin(), m.value->end() - m.value->begin()));
    std::optional<std::size_t> server;
    std::string forwarded = body;
    if (op.kind == mcp::TargetKind::Resource) {
      const auto owner = session.resource_owner.find(op.target);
      if (owner != session.resource_owner.end()) server = owner->second;
    } else {
      const std::size_t cut = op.target.find('_');
      for (std::size_t i = 0; cut != std::string::npos && i < endpoint.servers.size(); ++i)
        if (op.target.compare(0, cut, endpoint.servers[i].name) == 0) server = i;
      if (server) {
        mcp::ReadError error;
        const auto envelope = mcp::read_envelope(body, error);
        forwarded = mcp::with_param_string(body, envelope->messages[0], "name", op.target.substr(cut + 1));
      }
    }
    if (!server)
      co_return fail(m, mcp::kInvalidParams,
                     op.kind == mcp::TargetKind::Resource
                         ? "no MCP server of this endpoint listed resource " + op.target + " (list resources first)"
                         : "no MCP server of this endpoint is named by " + op.target + " (names are SERVER_NAME)",
                     "unknown_target");
    const UpstreamAnswer answer = co_await send(*server, forwarded, m.id_key, span);
    if (!answer.ok) co_return fail(m, mcp::kInternalError, answer.error, "upstream_unreachable");
    const mcp::Envelope envelope = read_answer(answer);
    const mcp::Message& reply = envelope.messages[0];
    if (ended_by_error(reply)) co_return answer.message;
    const mcp::Json* is_error = reply.result->find("isError");
    end_call(is_error != nullptr && is_error->is_bool() && is_error->as_bool() ? "tool_error" : "");
    co_return answer.message;
  }

  asio::awaitable<void> notify(std::string_view text, const mcp::Message& m) {
    const telemetry::SpanContext span = start_call(m, {}, false);
    const std::string body(text.substr(m.value->begin(), m.value->end() - m.value->begin()));
    std::string failed;
    for (std::size_t i = 0; i < endpoint.servers.size(); ++i) {
      const UpstreamAnswer answer = co_await send(i, body, {}, span);
      if (!answer.ok) failed = answer.error;
    }
    end_call(failed.empty() ? std::string() : "upstream_unreachable");
  }
};

asio::awaitable<pipeline::Verdict> McpEndpoint::authorize(pipeline::RequestCtx& ctx) {
  const auto& endpoint = config_->mcp.endpoint;
  if (!endpoint || ctx.listener != kOutboundListener || !ctx.head->authority.empty() ||
      ctx.head->path() != endpoint->path)
    co_return pipeline::Verdict::Continue;
  pipeline::Reply& reply = ctx.reply;
  const auto json_reply = [&](int status, std::string body) {
    reply.status = status;
    reply.content_type.clear();
    reply.body = std::move(body);
    return pipeline::Verdict::Replied;
  };
  mcp::RpcInfo& rpc = ctx.features.get<mcp::RpcInfo>();
  rpc.active = true;
  rpc.server = "endpoint";
  Exchange exchange{*this, ctx, *endpoint, {}, {}};
  if (const auto id = ctx.head->find("mcp-session-id")) {
    exchange.session_id = std::string(*id);
    auto session = sessions_.find(exchange.session_id);
    if (!session)
      co_return json_reply(404, mcp::error_response({}, mcp::kInvalidRequest, "unknown or expired MCP session"));
    exchange.session = std::move(*session);
    rpc.session_id = exchange.session_id;
    rpc.protocol_version = exchange.session.protocol_version;
  }
  const std::string_view method = ctx.head->method;
  if (method == "GET") {
    reply.headers.emplace_back("allow", "POST, DELETE");
    co_return json_reply(405, mcp::error_response({}, mcp::kInvalidRequest,
                                                  "this endpoint sends no server-initiated messages"));
  }
  if (method == "DELETE") {
    if (exchange.session_id.empty())
      co_return json_reply(400, mcp::error_response({}, mcp::kInvalidRequest, "DELETE needs Mcp-Session-Id"));
    for (std::size_t i = 0; i < endpoint->servers.size() && i < exchange.session.upstream_ids.size(); ++i) {
      if (exchange.session.upstream_ids[i].empty()) continue;
      const http::UpstreamEndpoint* upstream = exchange.upstream_of(i);
      if (upstream == nullptr) continue;
      const http::ClientOptions options{std::chrono::seconds(5), 1 << 16, false};
      http::Client client(co_await asio::this_coro::executor, *upstream, options);
      http::HeaderPairs headers;
      headers.emplace_back("mcp-session-id", exchange.session.upstream_ids[i]);
      (void)co_await client.request("DELETE", endpoint->servers[i].path, headers);
    }
    sessions_.close(exchange.session_id);
    co_return json_reply(200, "{}");
  }
  if (method != "POST") {
    reply.headers.emplace_back("allow", "POST, DELETE");
    co_return json_reply(405, mcp::error_response({}, mcp::kInvalidRequest, "use POST"));
  }

  mcp::ReadError error;
  const auto envelope = mcp::read_envelope(ctx.body, error, {config_->mcp.max_message_bytes, 64});
  if (!envelope) {
    runtime_.count_refusal("invalid_mcp_request");
    co_return json_reply(400, mcp::error_response({}, error.code, error.message));
  }
  rpc.batch = envelope->batch;
  std::vector<std::string> answers;
  for (const mcp::Message& m : envelope->messages) {
    if (m.kind == mcp::Message::Kind::Result || m.kind == mcp::Message::Kind::Error) continue;  // none asked for
    const bool opening = m.kind == mcp::Message::Kind::Request && m.method == "initialize";
    if (!opening && exchange.session_id.empty()) {
      answers.push_back(mcp::error_response(m.id, mcp::kInvalidRequest, "initialize first (no Mcp-Session-Id)"));
      continue;
    }
    mcp::Operation op;
    std::string why;
    if (!mcp::read_operation(m, op, why)) {
      if (!m.id.empty()) answers.push_back(mcp::error_response(m.id, mcp::kInvalidParams, why));
      continue;
    }
    if (m.kind == mcp::Message::Kind::Notification) {
      co_await exchange.notify(ctx.body, m);
      continue;
    }
    if (opening) {
      if (!exchange.session_id.empty())
        answers.push_back(mcp::error_response(m.id, mcp::kInvalidRequest, "this session is already initialized"));
      else
        answers.push_back(co_await exchange.initialize(ctx.body, m));
    } else if (m.method == "ping") {
      answers.push_back(result_response(m.id, "{}"));
    } else if (const mcp::ListShape* shape = mcp::list_shape(m.method)) {
      answers.push_back(co_await exchange.merged_list(ctx.body, m, *shape));
    } else if (op.kind != mcp::TargetKind::None) {
      answers.push_back(co_await exchange.routed(ctx.body, m, op));
    } else {
      answers.push_back(mcp::error_response(m.id, mcp::kMethodNotFound,
                                            "this endpoint does not forward " + m.method));
    }
  }
  if (!exchange.session_id.empty()) reply.headers.emplace_back("mcp-session-id", exchange.session_id);
  if (answers.empty()) {
    reply.status = 202;
    reply.body.clear();
    co_return pipeline::Verdict::Replied;
  }
  std::string body;
  if (envelope->batch) body += '[';
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (i > 0) body += ',';
    body += answers[i];
  }
  if (envelope->batch) body += ']';
  co_return json_reply(200, std::move(body));
}

void McpEndpoint::log(const pipeline::RequestCtx& ctx) {
  const mcp::RpcInfo* rpc = ctx.features.find<mcp::RpcInfo>();
  if (rpc == nullptr || !rpc->active || ctx.listener != kOutboundListener) return;
  for (const auto& call : rpc->calls) {
    if (call.answered == Clock::time_point{}) continue;
    runtime_.observe_client(call.method, call.tool ? std::string_view(call.target) : std::string_view(),
                            call.error_type, std::chrono::duration<double>(call.answered - ctx.started).count());
  }
}

}  // namespace tollway::sidecar

#include "sidecar/trace_filter.h"

#include <array>
#include <chrono>

#include "core/log.h"
#include "http/message.h"
#include "limits/fanout_token.h"
#include "pipeline/snapshot.h"
#include "sidecar/call_destination.h"
#include "sidecar/filters.h"
#include "sidecar/hop_header.h"
#include "sidecar/hop_state.h"
#include "telemetry/baggage.h"
#include "telemetry/rpc_record.h"
#include "telemetry/trace_info.h"

namespace tollway::sidecar {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kMaxHeaderLines = 8;          // more lines of one header: treated as malformed
constexpr std::size_t kMaxWatchedBodyBytes = 8192;  // of a 429 body, looked at for fanout_budget_exceeded
constexpr std::string_view kFanoutExhaustedCode = "\"fanout_budget_exceeded\"";

// The values of every header line called `name`; nullopt when there are more than kMaxHeaderLines.
std::optional<std::vector<std::string_view>> header_values(const http::RequestHead& head,
                                                           std::string_view name) {
  std::vector<std::string_view> values;
  for (const auto& h : head.headers) {
    if (!http::iequals(h.name, name)) continue;
    if (values.size() == kMaxHeaderLines) return std::nullopt;
    values.push_back(h.value);
  }
  return values;
}

int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t unix_nano_now() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The hop count a peer sidecar sent: nullopt when malformed, repeated or over kMaxHeaderLines lines.
std::optional<uint32_t> incoming_hops(const http::RequestHead& head) {
  const auto values = header_values(head, kHopsHeader);
  if (!values) return std::nullopt;
  return parse_hop_count(*values);
}

// A 429 body passes through unchanged; at its end, if it carries the fan-out code, the tree is remembered
// spent.
class FanoutExhaustionWatcher final : public pipeline::ResponseBodyTransformer {
 public:
  FanoutExhaustionWatcher(HopRuntime& runtime, std::string root, int64_t expires_s)
      : runtime_(runtime), root_(std::move(root)), expires_s_(expires_s) {}
  void transform(std::string_view in, bool last, std::string& out) override {
    if (seen_.size() < kMaxWatchedBodyBytes) seen_.append(in.substr(0, kMaxWatchedBodyBytes - seen_.size()));
    out.append(in);
    if (last && seen_.find(kFanoutExhaustedCode) != std::string::npos)
      runtime_.exhausted_roots.add(root_, expires_s_, unix_seconds_now());
  }
  bool changes_length() const override { return false; }

 private:
  HopRuntime& runtime_;
  std::string root_;
  int64_t expires_s_;
  std::string seen_;
};

telemetry::TraceInfo& trace_of(pipeline::RequestCtx& ctx) {
  return ctx.features.get<telemetry::TraceInfo>();
}

HopState& hop_of(pipeline::RequestCtx& ctx) {
  return ctx.features.get<HopState>();
}

}  // namespace

HopTrace::HopTrace(std::shared_ptr<const SidecarConfig> config, HopRuntime& runtime)
    : config_(std::move(config)),
      runtime_(runtime),
      sampler_(config_->telemetry ? config_->telemetry->sample_ratio : 1.0) {}

bool HopTrace::continue_trace(pipeline::RequestCtx& ctx) const {
  telemetry::TraceInfo& t = trace_of(ctx);
  const auto parents = header_values(*ctx.head, "traceparent");
  const auto states = header_values(*ctx.head, "tracestate");
  telemetry::ExtractedTraceContext in;
  if (!parents) {
    in.traceparent = telemetry::IncomingTraceparent::Duplicated;
  } else {
    const std::vector<std::string_view> none;
    in = telemetry::extract_trace_context(*parents, states ? *states : none);
  }
  t.incoming = in.traceparent;
  if (!in.parent) return false;
  t.server =
      telemetry::child_context(*in.parent, sampler_.should_sample(in.parent->sampled(), in.parent->trace_id));
  t.parent = in.parent->span_id;
  return true;
}

void HopTrace::start_root(pipeline::RequestCtx& ctx) const {
  telemetry::TraceInfo& t = trace_of(ctx);
  t.server = telemetry::new_root_context(false);
  if (sampler_.should_sample(std::nullopt, t.server.trace_id)) t.server.flags |= telemetry::kTraceFlagSampled;
  t.parent = {};
}

pipeline::Verdict HopTrace::check_fanout(pipeline::RequestCtx& ctx) const {
  if (config_->fanout_secret.empty()) return pipeline::Verdict::Continue;
  const auto lines = header_values(*ctx.head, "baggage");
  if (!lines) {
    runtime_.counters.fanout_invalid.fetch_add(1, std::memory_order_relaxed);
    return pipeline::reply_error(ctx, 400,
                                 "too many baggage header lines to find the tollway-fanout member in",
                                 "invalid_fanout_budget");
  }
  const int64_t now_s = unix_seconds_now();
  const limits::FanoutSigner signer(config_->fanout_secret);
  for (const auto& entry : telemetry::parse_baggage(*lines).entries) {
    if (entry.key != limits::kFanoutBaggageKey) continue;
    std::string why;
    const auto grant = signer.verify(entry.value, now_s, why);
    if (!grant) {
      runtime_.counters.fanout_invalid.fetch_add(1, std::memory_order_relaxed);
      ctx.decision = {true, std::string(name()), "fanout", why, {}};
      return pipeline::reply_error(ctx, 403, "The tollway-fanout baggage member was refused: " + why,
                                   "invalid_fanout_budget");
    }
    if (runtime_.exhausted_roots.contains(grant->root, now_s)) {
      runtime_.counters.fanout_exhausted.fetch_add(1, std::memory_order_relaxed);
      ctx.decision = {true, std::string(name()), "fanout", "spent", {}};
      return pipeline::reply_error(
          ctx, 429,
          "The fan-out budget of tree " + grant->root +
              " is spent (an upstream answered fanout_budget_exceeded); no further calls "
              "of this tree are made until its grant expires",
          "fanout_budget_exceeded");
    }
    hop_of(ctx).fanout_root = grant->root;
    hop_of(ctx).fanout_expires_s = grant->expires_s;
    break;
  }
  return pipeline::Verdict::Continue;
}

pipeline::Verdict HopTrace::authorize_inbound(pipeline::RequestCtx& ctx) const {
  const auto hops = incoming_hops(*ctx.head);
  if (!hops)
    return pipeline::reply_error(ctx, 400, "x-tollway-hops must be one whole number from 1 to 65535",
                                 "invalid_hop_count");
  HopState& hop = hop_of(ctx);
  const telemetry::SpanContext& span = trace_of(ctx).server;
  hop.hops = *hops;
  if (*hops > static_cast<uint32_t>(config_->max_hops)) {
    runtime_.counters.hop_limit_refused.fetch_add(1, std::memory_order_relaxed);
    const std::string caller = ctx.peer_identity ? ctx.peer_identity->spiffe_id : std::string();
    json::ObjectWriter fields;
    fields.field("request_id", ctx.request_id)
        .field("source_spiffe_id", caller)
        .field("destination_spiffe_id", config_->spiffe_id)
        .field("hops", static_cast<int64_t>(*hops))
        .field("max_hops", static_cast<int64_t>(config_->max_hops))
        .field("trace_id", span.trace_id.hex());
    log::warn("hop limit", fields);
    ctx.decision = {true, std::string(name()), "max_hops", "hop " + std::to_string(*hops), {}};
    return pipeline::reply_error(ctx, 508,
                                 "Loop detected: this call is hop " + std::to_string(*hops) +
                                     " of its chain, over this sidecar's max_hops " +
                                     std::to_string(config_->max_hops),
                                 "loop_detected");
  }
  if (check_fanout(ctx) == pipeline::Verdict::Replied) return pipeline::Verdict::Replied;
  hop.in_flight =
      runtime_.in_flight.enter({span.trace_id, span.span_id, span.flags, ctx.peer_identity->spiffe_id, *hops});
  return pipeline::Verdict::Continue;
}

void HopTrace::trace_outbound(pipeline::RequestCtx& ctx) const {
  telemetry::TraceInfo& trace = trace_of(ctx);
  HopState& hop = hop_of(ctx);
  uint32_t hops_before = 0;
  if (continue_trace(ctx)) {
    if (auto inbound = runtime_.in_flight.find_trace(trace.server.trace_id)) hops_before = inbound->hops;
    hop.hops = hops_before + 1;
    return;
  }
  if (ctx.head->method == "CONNECT") {  // a tunnel's CONNECT cannot carry trace context: never an orphan
    start_root(ctx);
    hop.hops = 1;
    return;
  }
  const auto view = runtime_.in_flight.orphan_view();
  const bool repair = config_->orphans == SidecarConfig::Orphans::Repair && view.in_flight == 1;
  if (repair) {
    const InFlightRequest& inbound = *view.most_recent;
    telemetry::SpanContext parent;
    parent.trace_id = inbound.trace_id;
    parent.span_id = inbound.span_id;
    parent.flags = inbound.trace_flags;
    trace.server = telemetry::child_context(parent);
    trace.parent = inbound.span_id;
    hop.repaired = true;
    hops_before = inbound.hops;
  } else {
    start_root(ctx);
  }
  if (view.in_flight > 0) {
    hop.orphan = true;
    (repair ? runtime_.counters.orphans_repaired : runtime_.counters.orphans_logged)
        .fetch_add(1, std::memory_order_relaxed);
    const InFlightRequest& likely = *view.most_recent;
    json::ObjectWriter fields;
    fields.field("request_id", ctx.request_id)
        .field("action", repair ? "repaired" : "logged")
        .field("method", ctx.head->method)
        .field("authority", ctx.head->authority)
        .field("path", ctx.head->path())
        .field("in_flight", static_cast<int64_t>(view.in_flight))
        .field("likely_parent_trace_id", likely.trace_id.hex())
        .field("likely_parent_span_id", likely.span_id.hex())
        .field("likely_parent_caller", likely.caller)
        .field("trace_id", trace.server.trace_id.hex());
    log::warn("orphan call", fields);
  }
  hop.hops = hops_before + 1;
}

asio::awaitable<pipeline::Verdict> HopTrace::authenticate(pipeline::RequestCtx& ctx) {
  trace_of(ctx).established = true;
  if (ctx.listener != kInboundListener)
    trace_outbound(ctx);
  else if (!continue_trace(ctx))
    start_root(ctx);
  co_return pipeline::Verdict::Continue;
}

asio::awaitable<pipeline::Verdict> HopTrace::authorize(pipeline::RequestCtx& ctx) {
  if (ctx.listener == kInboundListener) co_return authorize_inbound(ctx);
  co_return check_fanout(ctx);
}

asio::awaitable<pipeline::Verdict> HopTrace::shape_upstream(pipeline::RequestCtx& ctx) {
  const telemetry::TraceInfo* trace = ctx.features.find<telemetry::TraceInfo>();
  if (ctx.upstream.endpoint == nullptr || trace == nullptr || !trace->established)
    co_return pipeline::Verdict::Continue;
  auto& set = ctx.upstream.set_headers;
  auto& drop = ctx.upstream.drop_headers;
  // The agent continues the hop's span, or the span of the one A2A operation the hop carries (an MCP server reads
  // its operation's context from params._meta instead).
  telemetry::SpanContext span = trace->server;
  const mcp::RpcInfo* rpc = ctx.features.find<mcp::RpcInfo>();
  if (rpc != nullptr && rpc->active && rpc->protocol == mcp::RpcInfo::Protocol::A2a && rpc->calls.size() == 1 &&
      rpc->calls.front().span.valid())
    span.span_id = rpc->calls.front().span;
  set.emplace_back("traceparent", telemetry::format_traceparent(span));
  if (span.trace_state.empty())
    drop.emplace_back("tracestate");
  else
    set.emplace_back("tracestate", span.trace_state.serialize());
  if (ctx.listener == kInboundListener)
    drop.emplace_back(std::string(kHopsHeader));
  else
    set.emplace_back(std::string(kHopsHeader), std::to_string(hop_of(ctx).hops));
  co_return pipeline::Verdict::Continue;
}

std::unique_ptr<pipeline::ResponseBodyTransformer> HopTrace::response_body(pipeline::RequestCtx& ctx,
                                                                           const http::ResponseHead& head) {
  const HopState* hop = ctx.features.find<HopState>();
  if (head.status != 429 || hop == nullptr || hop->fanout_root.empty()) return nullptr;
  return std::make_unique<FanoutExhaustionWatcher>(runtime_, hop->fanout_root, hop->fanout_expires_s);
}

void HopTrace::on_held_response(pipeline::RequestCtx& ctx, pipeline::Reply& reply) {
  const HopState* hop = ctx.features.find<HopState>();
  if (reply.status == 429 && hop != nullptr && !hop->fanout_root.empty() &&
      reply.body.find(kFanoutExhaustedCode) != std::string::npos)
    runtime_.exhausted_roots.add(hop->fanout_root, hop->fanout_expires_s, unix_seconds_now());
}

void HopTrace::log(const pipeline::RequestCtx& ctx) {
  telemetry::TelemetryOutput* output = runtime_.output.get();
  if (output == nullptr) return;
  // A request answered before the authenticate phase (e.g. a body over the size limit) gets a span of its
  // own.
  const telemetry::TraceInfo* established = ctx.features.find<telemetry::TraceInfo>();
  if (established != nullptr && !established->established) established = nullptr;
  telemetry::TraceInfo fallback;
  if (established == nullptr) {
    fallback.server = telemetry::new_root_context(false);
    if (sampler_.should_sample(std::nullopt, fallback.server.trace_id))
      fallback.server.flags |= telemetry::kTraceFlagSampled;
  }
  const telemetry::TraceInfo& t = established != nullptr ? *established : fallback;
  const bool sampled = t.server.sampled();
  const bool denied = ctx.decision.denied;
  if (!output->wants(sampled, denied)) return;
  const bool inbound = ctx.listener == kInboundListener;
  telemetry::RequestRecord r;
  r.request_id = ctx.request_id;
  r.trace_id = t.server.trace_id;
  r.span_id = t.server.span_id;
  r.parent_span_id = t.parent;
  r.trace_flags = t.server.flags & telemetry::kTraceFlagSampled;
  r.sampled = sampled;
  r.incoming = t.incoming;
  r.method = ctx.head->method;
  r.route = std::string(ctx.head->path());
  r.status = ctx.outcome.status;
  r.error_code = ctx.outcome.error_code;
  r.attempts = ctx.outcome.upstream_contacted ? ctx.outcome.attempts : 0;
  r.response_bytes = ctx.outcome.response_bytes;
  const auto now = Clock::now();
  r.end_unix_nano = unix_nano_now();
  r.start_unix_nano =
      r.end_unix_nano -
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - ctx.started).count());
  r.total_seconds = std::chrono::duration<double>(now - ctx.started).count();
  r.denied = denied;
  if (denied) {
    r.decision_filter = ctx.decision.filter;
    r.decision_rule = ctx.decision.rule;
    r.decision_reason = ctx.decision.reason;
  }
  r.policy_version = ctx.snapshot->version;
  r.policy_generation = ctx.snapshot->generation;
  r.client_span = !inbound;
  if (const HopState* hop = ctx.features.find<HopState>()) {
    r.hops = hop->hops;
    r.trace_orphan = hop->orphan;
    r.trace_repaired = hop->repaired;
  }
  if (inbound) {
    if (ctx.peer_identity) {
      r.source_spiffe_id = ctx.peer_identity->spiffe_id;
      r.peer_spiffe_id = ctx.peer_identity->spiffe_id;
      for (const auto& peer : config_->peers)
        if (peer.spiffe_id == r.source_spiffe_id) r.peer_name = peer.name;
    }
    r.destination_spiffe_id = config_->spiffe_id;
  } else {
    r.source_spiffe_id = config_->spiffe_id;
    // Named from the request, so that a call refused before routing (a local limit) still names where it went.
    if (ctx.head->method == "CONNECT") {
      r.peer_name = std::string(ctx.head->authority);
    } else if (const CallDestination to = call_destination(*config_, ctx); !to.name.empty()) {
      r.destination_spiffe_id = std::string(to.spiffe_id);
      r.peer_name = std::string(to.name);
    }
  }
  if (const auto* rpc = ctx.features.find<mcp::RpcInfo>()) telemetry::record_rpc(*rpc, now, r);
  output->submit(std::move(r));
}

}  // namespace tollway::sidecar

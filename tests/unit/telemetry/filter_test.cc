// TelemetryFilter built from its own configuration (the `telemetry` section and which providers are Azure), no
// gateway: the authorize phase continues a caller's trace context or restarts it per the trust setting (always,
// never, authenticated, listed peers), the ratio sampler decides the sampled flag, shape_upstream sends a new
// CLIENT span's traceparent with our tracestate entry first and forwards baggage only for a trusted caller,
// content is captured only when configured, and the log phase records the call under its provider's GenAI name.
#include "telemetry/filter.h"
#include "providers/routing/route_choice.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../filter_phase.h"
#include "pipeline/snapshot.h"
#include "telemetry/request_metrics.h"

namespace tollway::telemetry {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

constexpr std::string_view kCallerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kCallerSpan = "00f067aa0ba902b7";
const std::string kCallerTraceparent = "00-" + std::string(kCallerTrace) + "-" + std::string(kCallerSpan) + "-01";

using Headers = std::vector<std::pair<std::string, std::string>>;

// A request with `headers` from `peer` (the head views the call's own copies, as it views a connection's buffer).
struct Call {
  Headers header_text;
  http::RequestHead head;
  http::UpstreamEndpoint endpoint;
  pipeline::RequestCtx ctx;
  explicit Call(Headers headers, std::string_view peer = "10.1.2.3") : header_text(std::move(headers)) {
    head.method = "POST";
    head.target = "/v1/chat/completions";
    for (const auto& [name, value] : header_text) head.headers.push_back({name, value});
    ctx.head = &head;
    ctx.peer = core::IpAddress::parse(peer);
    ctx.started = std::chrono::steady_clock::now();
  }
  // As if select_upstream chose an endpoint.
  void choose_upstream(std::string provider) {
    ctx.upstream.endpoint = &endpoint;
    ctx.upstream.provider = std::move(provider);
  }
};

TelemetryFilter::Config trusting(config::TrustIncoming trust) {
  TelemetryFilter::Config c;
  c.telemetry.trust_incoming = trust;
  return c;
}

std::optional<std::string> set_header(const pipeline::RequestCtx& ctx, std::string_view name) {
  for (const auto& [n, v] : ctx.upstream.set_headers)
    if (n == name) return v;
  return std::nullopt;
}

bool drops(const pipeline::RequestCtx& ctx, std::string_view name) {
  for (const auto& d : ctx.upstream.drop_headers)
    if (d == name) return true;
  return false;
}

TEST(TelemetryFilter, ATrustedCallersTraceIsContinued) {
  TelemetryFilter filter(trusting(config::TrustIncoming::Always), nullptr);
  Call call({{"traceparent", kCallerTraceparent}});
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  const TraceInfo& t = call.ctx.features.get<TraceInfo>();
  EXPECT_TRUE(t.established);
  EXPECT_EQ(t.incoming, IncomingTraceparent::Valid);
  EXPECT_FALSE(t.restarted);
  EXPECT_EQ(t.server.trace_id.hex(), kCallerTrace);
  EXPECT_EQ(t.parent.hex(), kCallerSpan);
  EXPECT_TRUE(t.server.span_id.valid());
  EXPECT_NE(t.server.span_id.hex(), kCallerSpan);
  EXPECT_TRUE(t.server.sampled());  // the caller's sampled flag, with the default ratio 1
}

TEST(TelemetryFilter, AnUntrustedCallersTraceIsRestarted) {
  TelemetryFilter filter(trusting(config::TrustIncoming::Never), nullptr);
  Call call({{"traceparent", kCallerTraceparent}});
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  const TraceInfo& t = call.ctx.features.get<TraceInfo>();
  EXPECT_TRUE(t.restarted);
  EXPECT_EQ(t.incoming, IncomingTraceparent::Valid);
  EXPECT_NE(t.server.trace_id.hex(), kCallerTrace);
  EXPECT_TRUE(t.server.trace_id.valid());
  EXPECT_TRUE(t.server.span_id.valid());
  EXPECT_FALSE(t.parent.valid());
}

TEST(TelemetryFilter, WithoutATraceparentARootSpanStartsAndNothingIsRestarted) {
  TelemetryFilter filter(trusting(config::TrustIncoming::Always), nullptr);
  Call call({});
  EXPECT_EQ(run_phase(filter.authorize(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.features.get<TraceInfo>().incoming, IncomingTraceparent::Absent);
  EXPECT_FALSE(call.ctx.features.get<TraceInfo>().restarted);
  EXPECT_TRUE(call.ctx.features.get<TraceInfo>().server.trace_id.valid());
  EXPECT_FALSE(call.ctx.features.get<TraceInfo>().parent.valid());
}

TEST(TelemetryFilter, AuthenticatedTrustFollowsTheCaller) {
  TelemetryFilter filter(trusting(config::TrustIncoming::Authenticated), nullptr);
  Call anonymous({{"traceparent", kCallerTraceparent}});
  run_phase(filter.authorize(anonymous.ctx));
  EXPECT_TRUE(anonymous.ctx.features.get<TraceInfo>().restarted);

  Call known({{"traceparent", kCallerTraceparent}});
  known.ctx.caller.authenticated = true;
  run_phase(filter.authorize(known.ctx));
  EXPECT_FALSE(known.ctx.features.get<TraceInfo>().restarted);
  EXPECT_EQ(known.ctx.features.get<TraceInfo>().server.trace_id.hex(), kCallerTrace);
}

TEST(TelemetryFilter, ListedTrustAcceptsPeersInTheNetworksAndOptionallyAuthenticatedCallers) {
  TelemetryFilter::Config config = trusting(config::TrustIncoming::Listed);
  std::string error;
  config.telemetry.trusted_peers = {*core::Cidr::parse("10.0.0.0/8", error)};
  TelemetryFilter filter(config, nullptr);

  Call inside({{"traceparent", kCallerTraceparent}}, "10.200.0.1");
  run_phase(filter.authorize(inside.ctx));
  EXPECT_FALSE(inside.ctx.features.get<TraceInfo>().restarted);
  EXPECT_EQ(inside.ctx.features.get<TraceInfo>().server.trace_id.hex(), kCallerTrace);

  Call outside({{"traceparent", kCallerTraceparent}}, "192.168.1.1");
  outside.ctx.caller.authenticated = true;  // not enough without trust_authenticated
  run_phase(filter.authorize(outside.ctx));
  EXPECT_TRUE(outside.ctx.features.get<TraceInfo>().restarted);

  config.telemetry.trust_authenticated = true;
  TelemetryFilter also_authenticated(config, nullptr);
  Call authenticated({{"traceparent", kCallerTraceparent}}, "192.168.1.1");
  authenticated.ctx.caller.authenticated = true;
  run_phase(also_authenticated.authorize(authenticated.ctx));
  EXPECT_FALSE(authenticated.ctx.features.get<TraceInfo>().restarted);
}

TEST(TelemetryFilter, TheSampleRatioDecidesARootsSampledFlag) {
  TelemetryFilter::Config none = trusting(config::TrustIncoming::Always);
  none.telemetry.sample_ratio = 0.0;
  TelemetryFilter never(none, nullptr);
  TelemetryFilter always(trusting(config::TrustIncoming::Always), nullptr);
  for (int i = 0; i < 20; ++i) {
    Call a({}), b({});
    run_phase(never.authorize(a.ctx));
    run_phase(always.authorize(b.ctx));
    EXPECT_FALSE(a.ctx.features.get<TraceInfo>().server.sampled());
    EXPECT_TRUE(b.ctx.features.get<TraceInfo>().server.sampled());
  }
}

TEST(TelemetryFilter, EachAttemptGoesUpstreamAsANewClientSpanOfOurServerSpan) {
  TelemetryFilter filter(trusting(config::TrustIncoming::Always), nullptr);
  Call call({{"traceparent", kCallerTraceparent}, {"tracestate", "vendor=abc"}});
  run_phase(filter.authorize(call.ctx));
  call.choose_upstream("openai");
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  const TraceInfo& t = call.ctx.features.get<TraceInfo>();
  ASSERT_TRUE(t.attempt_span(1).valid());
  EXPECT_NE(t.attempt_span(1), t.server.span_id);
  const auto traceparent = set_header(call.ctx, "traceparent");
  ASSERT_TRUE(traceparent);
  const auto sent = parse_traceparent(*traceparent);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->trace_id.hex(), kCallerTrace);
  EXPECT_EQ(sent->parent_id, t.attempt_span(1));
  EXPECT_EQ(set_header(call.ctx, "tracestate"), "tollway=" + t.server.span_id.hex() + ",vendor=abc");
}

TEST(TelemetryFilter, NoEndpointMeansNothingIsSentUpstream) {
  TelemetryFilter filter(trusting(config::TrustIncoming::Always), nullptr);
  Call call({{"traceparent", kCallerTraceparent}});
  run_phase(filter.authorize(call.ctx));
  EXPECT_EQ(run_phase(filter.shape_upstream(call.ctx)), Verdict::Continue);
  EXPECT_TRUE(call.ctx.upstream.set_headers.empty());
  EXPECT_TRUE(call.ctx.features.get<TraceInfo>().attempt_spans.empty());
}

TEST(TelemetryFilter, BaggageIsForwardedOnlyForATrustedCallerWithBaggageOn) {
  const Headers with_baggage{{"baggage", "team=search"}};
  TelemetryFilter trusted(trusting(config::TrustIncoming::Always), nullptr);
  Call kept(with_baggage);
  kept.choose_upstream("openai");
  run_phase(trusted.shape_upstream(kept.ctx));
  EXPECT_EQ(set_header(kept.ctx, "baggage"), "team=search");

  TelemetryFilter untrusted(trusting(config::TrustIncoming::Never), nullptr);
  Call dropped(with_baggage);
  dropped.choose_upstream("openai");
  run_phase(untrusted.shape_upstream(dropped.ctx));
  EXPECT_FALSE(set_header(dropped.ctx, "baggage"));
  EXPECT_TRUE(drops(dropped.ctx, "baggage"));

  TelemetryFilter::Config off = trusting(config::TrustIncoming::Always);
  off.telemetry.baggage = false;
  TelemetryFilter baggage_off(off, nullptr);
  Call switched_off(with_baggage);
  switched_off.choose_upstream("openai");
  run_phase(baggage_off.shape_upstream(switched_off.ctx));
  EXPECT_TRUE(drops(switched_off.ctx, "baggage"));
}

TEST(TelemetryFilter, ResponseContentIsCapturedOnlyWhenConfigured) {
  TelemetryFilter plain(trusting(config::TrustIncoming::Always), nullptr);
  Call a({});
  plain.on_response_bytes(a.ctx, "hello", false);
  EXPECT_NE(a.ctx.features.get<TraceInfo>().first_output, std::chrono::steady_clock::time_point{});
  EXPECT_TRUE(a.ctx.features.get<TraceInfo>().output_content.empty());

  TelemetryFilter::Config capture = trusting(config::TrustIncoming::Always);
  capture.telemetry.capture_content = true;
  TelemetryFilter capturing(capture, nullptr);
  Call b({});
  capturing.on_response_bytes(b.ctx, "hello ", false);
  capturing.on_response_bytes(b.ctx, "world", true);
  EXPECT_EQ(b.ctx.features.get<TraceInfo>().output_content, "hello world");
}

// The log phase's GenAI series of one call served by `provider`.
std::string logged_metrics(const TelemetryFilter::Config& config, std::string provider) {
  TelemetryFilter filter(config, nullptr);
  config::RouteConfig route;
  route.path = "/v1/chat/completions";
  auto snapshot = std::make_shared<pipeline::Snapshot>();
  RequestMetrics metrics;
  Call call({{"traceparent", kCallerTraceparent}});
  call.ctx.snapshot = snapshot;
  call.ctx.features.get<providers::RouteChoice>().route = &route;
  call.ctx.metrics = &metrics;
  call.ctx.model = "gpt-4o";
  run_phase(filter.authorize(call.ctx));
  call.choose_upstream(provider);
  call.ctx.outcome.upstream_contacted = true;
  call.ctx.outcome.status = 200;
  filter.log(call.ctx);
  std::string out;
  metrics.render(out);
  return out;
}

TEST(TelemetryFilter, TheLogPhaseNamesAnAzureProviderAsAzureOpenAI) {
  TelemetryFilter::Config config = trusting(config::TrustIncoming::Never);
  config.azure_providers = {"azure-east"};
  const std::string azure = logged_metrics(config, "azure-east");
  EXPECT_NE(azure.find("gen_ai_provider_name=\"azure.ai.openai\""), std::string::npos) << azure;
  const std::string openai = logged_metrics(config, "openai");
  EXPECT_NE(openai.find("gen_ai_provider_name=\"openai\""), std::string::npos) << openai;
  EXPECT_EQ(openai.find("azure.ai.openai"), std::string::npos);
  // The untrusted caller's context was restarted, and counted so.
  EXPECT_NE(openai.find("incoming=\"valid\",restarted=\"true\"} 1"), std::string::npos) << openai;
}

}  // namespace
}  // namespace tollway::telemetry

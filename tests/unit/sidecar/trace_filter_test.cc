#include "sidecar/trace_filter.h"

#include <gtest/gtest.h>

#include "../filter_phase.h"
#include "http/parser.h"
#include "limits/fanout_token.h"
#include "sidecar/filters.h"
#include "sidecar/hop_state.h"
#include "telemetry/trace_info.h"

namespace tollway::sidecar {
namespace {

using pipeline::Verdict;
using testing::run_phase;

const std::string kCaller = "spiffe://example.org/ns/prod/sa/agent-a";
const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kSecret(40, 'k');

std::shared_ptr<const SidecarConfig> config(SidecarConfig::Orphans orphans = SidecarConfig::Orphans::Log,
                                            int max_hops = 3, std::string secret = {}) {
  auto c = std::make_shared<SidecarConfig>();
  c->spiffe_id = "spiffe://example.org/ns/prod/sa/agent-b";
  c->orphans = orphans;
  c->max_hops = max_hops;
  c->fanout_secret = std::move(secret);
  return c;
}

// One request on a sidecar listener, with extra header lines ("name: value\r\n" each).
struct Call {
  std::string bytes;
  http::RequestHead head;
  tls::PeerIdentity identity;
  http::UpstreamEndpoint endpoint;
  pipeline::RequestCtx ctx;
  Call(std::size_t listener, const std::string& headers)
      : bytes(listener == kInboundListener
                  ? "GET /tasks HTTP/1.1\r\nHost: agent-b\r\n" + headers + "\r\n"
                  : "GET http://agent-c/tasks HTTP/1.1\r\nHost: agent-c\r\n" + headers + "\r\n") {
    http::ParseError error;
    http::ParseLimits limits;
    limits.proxy_forms = listener == kOutboundListener;
    EXPECT_EQ(http::parse_request_head(bytes, limits, head, error), http::ParseStatus::Complete);
    identity.spiffe_id = kCaller;
    ctx.head = &head;
    ctx.listener = listener;
    if (listener == kInboundListener) ctx.peer_identity = &identity;
    ctx.upstream.endpoint = &endpoint;
  }
  std::string sent(std::string_view name) const {
    for (const auto& [n, v] : ctx.upstream.set_headers)
      if (n == name) return v;
    return {};
  }
  bool dropped(std::string_view name) const {
    for (const auto& n : ctx.upstream.drop_headers)
      if (n == name) return true;
    return false;
  }
};

// The authenticate phase (trace) then, when it continues, the authorize phase (hops, fan-out), as the driver
// runs them.
Verdict admit(HopTrace& filter, pipeline::RequestCtx& ctx) {
  const Verdict traced = run_phase(filter.authenticate(ctx));
  return traced == Verdict::Continue ? run_phase(filter.authorize(ctx)) : traced;
}

TEST(HopTrace, InboundContinuesTheCallerSidecarsTraceAndStripsTheHopCount) {
  HopRuntime runtime;
  HopTrace filter(config(), runtime);
  Call in(kInboundListener, "traceparent: 00-" + kTrace + "-00f067aa0ba902b7-01\r\nx-tollway-hops: 2\r\n");
  ASSERT_EQ(admit(filter, in.ctx), Verdict::Continue);
  EXPECT_EQ(in.ctx.features.get<telemetry::TraceInfo>().server.trace_id.hex(), kTrace);
  EXPECT_EQ(in.ctx.features.get<telemetry::TraceInfo>().parent.hex(), "00f067aa0ba902b7");
  EXPECT_EQ(in.ctx.features.get<HopState>().hops, 2u);
  EXPECT_EQ(runtime.in_flight.size(), 1u);
  ASSERT_EQ(run_phase(filter.shape_upstream(in.ctx)), Verdict::Continue);
  EXPECT_EQ(in.sent("traceparent"), "00-" + kTrace + "-" + in.ctx.features.get<telemetry::TraceInfo>().server.span_id.hex() + "-01");
  EXPECT_TRUE(in.dropped("x-tollway-hops"));
  in.ctx.features.get<HopState>().in_flight.reset();  // the request ends
  EXPECT_EQ(runtime.in_flight.size(), 0u);
}

TEST(HopTrace, InboundPastMaxHopsIs508AndNotRegistered) {
  HopRuntime runtime;
  HopTrace filter(config(SidecarConfig::Orphans::Log, 3), runtime);
  Call at_limit(kInboundListener, "x-tollway-hops: 3\r\n");
  EXPECT_EQ(admit(filter, at_limit.ctx), Verdict::Continue);
  Call over(kInboundListener, "x-tollway-hops: 4\r\n");
  ASSERT_EQ(admit(filter, over.ctx), Verdict::Replied);
  EXPECT_EQ(over.ctx.reply.status, 508);
  EXPECT_EQ(over.ctx.outcome.error_code, "loop_detected");
  EXPECT_NE(over.ctx.outcome.error.find("hop 4 of its chain, over this sidecar's max_hops 3"),
            std::string::npos);
  EXPECT_EQ(runtime.counters.hop_limit_refused.load(), 1u);
  EXPECT_EQ(runtime.in_flight.size(), 1u);  // only the one at the limit
  for (const std::string bad :
       {"x-tollway-hops: two\r\n", "x-tollway-hops: 0\r\n", "x-tollway-hops: 1\r\nx-tollway-hops: 1\r\n"}) {
    Call malformed(kInboundListener, bad);
    ASSERT_EQ(admit(filter, malformed.ctx), Verdict::Replied) << bad;
    EXPECT_EQ(malformed.ctx.outcome.error_code, "invalid_hop_count");
  }
}

TEST(HopTrace, OutboundCountsFromTheInboundRequestItContinuesAndReplacesTheAgentsCount) {
  HopRuntime runtime;
  HopTrace filter(config(), runtime);
  Call in(kInboundListener, "traceparent: 00-" + kTrace + "-00f067aa0ba902b7-01\r\nx-tollway-hops: 2\r\n");
  ASSERT_EQ(admit(filter, in.ctx), Verdict::Continue);
  // The agent passes on a context of the same trace (its own span as parent) and tries to reset the count.
  Call out(kOutboundListener, "traceparent: 00-" + kTrace + "-1111111111111111-01\r\nx-tollway-hops: 0\r\n");
  ASSERT_EQ(admit(filter, out.ctx), Verdict::Continue);
  EXPECT_EQ(out.ctx.features.get<telemetry::TraceInfo>().parent.hex(), "1111111111111111");
  ASSERT_EQ(run_phase(filter.shape_upstream(out.ctx)), Verdict::Continue);
  EXPECT_EQ(out.sent("x-tollway-hops"), "3");
  EXPECT_EQ(out.sent("traceparent"), "00-" + kTrace + "-" + out.ctx.features.get<telemetry::TraceInfo>().server.span_id.hex() + "-01");
  // A call of another trace starts counting at 1.
  Call fresh(kOutboundListener, "traceparent: 00-0af7651916cd43dd8448eb211c80319c-1111111111111111-01\r\n");
  ASSERT_EQ(admit(filter, fresh.ctx), Verdict::Continue);
  EXPECT_EQ(fresh.ctx.features.get<HopState>().hops, 1u);
  EXPECT_EQ(runtime.counters.orphans_logged.load() + runtime.counters.orphans_repaired.load(), 0u);
}

TEST(HopTrace, OrphansAreLoggedAndRepairedOnlyWithExactlyOneInboundInFlight) {
  HopRuntime runtime;
  HopTrace logging(config(SidecarConfig::Orphans::Log), runtime);
  HopTrace repairing(config(SidecarConfig::Orphans::Repair), runtime);
  Call none(kOutboundListener, "");
  ASSERT_EQ(admit(repairing, none.ctx), Verdict::Continue);
  EXPECT_FALSE(none.ctx.features.get<HopState>().repaired);  // nothing in flight: not an orphan at all
  EXPECT_EQ(runtime.counters.orphans_logged.load(), 0u);

  Call in(kInboundListener, "traceparent: 00-" + kTrace + "-00f067aa0ba902b7-01\r\nx-tollway-hops: 2\r\n");
  ASSERT_EQ(admit(repairing, in.ctx), Verdict::Continue);
  Call logged(kOutboundListener, "");
  ASSERT_EQ(admit(logging, logged.ctx), Verdict::Continue);
  EXPECT_FALSE(logged.ctx.features.get<HopState>().repaired);
  EXPECT_NE(logged.ctx.features.get<telemetry::TraceInfo>().server.trace_id.hex(), kTrace);
  EXPECT_EQ(logged.ctx.features.get<HopState>().hops, 1u);
  EXPECT_EQ(runtime.counters.orphans_logged.load(), 1u);

  Call repaired(kOutboundListener, "");
  ASSERT_EQ(admit(repairing, repaired.ctx), Verdict::Continue);
  EXPECT_TRUE(repaired.ctx.features.get<HopState>().repaired);
  EXPECT_EQ(repaired.ctx.features.get<telemetry::TraceInfo>().server.trace_id.hex(), kTrace);
  EXPECT_EQ(repaired.ctx.features.get<telemetry::TraceInfo>().parent, in.ctx.features.get<telemetry::TraceInfo>().server.span_id);
  EXPECT_EQ(repaired.ctx.features.get<HopState>().hops, 3u);
  EXPECT_EQ(runtime.counters.orphans_repaired.load(), 1u);

  Call second(kInboundListener, "x-tollway-hops: 1\r\n");
  ASSERT_EQ(admit(repairing, second.ctx), Verdict::Continue);
  Call ambiguous(kOutboundListener, "");
  ASSERT_EQ(admit(repairing, ambiguous.ctx), Verdict::Continue);
  EXPECT_FALSE(ambiguous.ctx.features.get<HopState>().repaired);  // two in flight: never guess
  EXPECT_NE(ambiguous.ctx.features.get<telemetry::TraceInfo>().server.trace_id.hex(), kTrace);
  EXPECT_EQ(runtime.counters.orphans_logged.load(), 2u);
}

TEST(HopTrace, FanoutMembersAreVerifiedAndSpentTreesRefused) {
  HopRuntime runtime;
  HopTrace filter(config(SidecarConfig::Orphans::Log, 16, kSecret), runtime);
  const limits::FanoutSigner signer(kSecret);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const limits::FanoutGrant grant{std::string(32, 'a'), config::LimitUnit::TotalTokens, 100, now + 600};
  const std::string token = signer.mint(grant);
  Call good(kOutboundListener, "baggage: k=v,tollway-fanout=" + token + "\r\n");
  ASSERT_EQ(admit(filter, good.ctx), Verdict::Continue);
  EXPECT_EQ(good.ctx.features.get<HopState>().fanout_root, grant.root);

  std::string forged = token;
  forged.replace(forged.find(".100."), 5, ".900.");
  const std::string expired = signer.mint({grant.root, grant.unit, 100, now - 1});
  for (const std::string& bad : {forged, expired, std::string("v1.x")}) {
    Call call(kInboundListener, "baggage: tollway-fanout=" + bad + "\r\n");
    ASSERT_EQ(admit(filter, call.ctx), Verdict::Replied) << bad;
    EXPECT_EQ(call.ctx.reply.status, 403);
    EXPECT_EQ(call.ctx.outcome.error_code, "invalid_fanout_budget");
  }
  EXPECT_EQ(runtime.counters.fanout_invalid.load(), 3u);

  // An upstream's 429 fanout_budget_exceeded marks the tree spent: its next call is refused here.
  http::ResponseHead head;
  head.status = 429;
  auto watcher = filter.response_body(good.ctx, head);
  ASSERT_NE(watcher, nullptr);
  std::string passed;
  watcher->transform(R"({"error":{"code":"fanout_budget_exceeded"}})", true, passed);
  EXPECT_EQ(passed, R"({"error":{"code":"fanout_budget_exceeded"}})");
  Call again(kOutboundListener, "baggage: tollway-fanout=" + token + "\r\n");
  ASSERT_EQ(admit(filter, again.ctx), Verdict::Replied);
  EXPECT_EQ(again.ctx.reply.status, 429);
  EXPECT_EQ(again.ctx.outcome.error_code, "fanout_budget_exceeded");
  // Another 429 (a rate limit) does not.
  const std::string other_token = signer.mint({std::string(32, 'b'), grant.unit, 100, now + 600});
  Call other(kOutboundListener, "baggage: tollway-fanout=" + other_token + "\r\n");
  ASSERT_EQ(admit(filter, other.ctx), Verdict::Continue);
  auto rate_limited = filter.response_body(other.ctx, head);
  rate_limited->transform(R"({"error":{"code":"rate_limit_exceeded"}})", true, passed);
  Call still(kOutboundListener, "baggage: tollway-fanout=" + other_token + "\r\n");
  EXPECT_EQ(admit(filter, still.ctx), Verdict::Continue);
}

}  // namespace
}  // namespace tollway::sidecar

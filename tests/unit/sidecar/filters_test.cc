#include "sidecar/filters.h"

#include <gtest/gtest.h>

#include "../filter_phase.h"
#include "http/parser.h"

namespace tollway::sidecar {
namespace {

using pipeline::Verdict;
using testing::run_phase;

const std::string kCallee = "spiffe://example.org/ns/prod/sa/agent-b";

AuthorizationRule rule(AuthorizationRule::Action action, std::string from, std::vector<std::string> paths = {},
                       bool audit = false) {
  AuthorizationRule r;
  r.action = action;
  r.from.push_back(*tls::SpiffeIdPattern::parse(from));
  r.path_prefixes = std::move(paths);
  r.audit = audit;
  return r;
}

// One inbound request from `caller` (no SPIFFE ID when empty) for `target`.
struct Inbound {
  std::string bytes;
  http::RequestHead head;
  tls::PeerIdentity identity;
  pipeline::RequestCtx ctx;
  Inbound(std::string caller, std::string target) : bytes("POST " + target + " HTTP/1.1\r\nHost: b\r\n\r\n") {
    http::ParseError error;
    EXPECT_EQ(http::parse_request_head(bytes, {}, head, error), http::ParseStatus::Complete);
    identity.spiffe_id = std::move(caller);
    ctx.head = &head;
    ctx.peer_identity = &identity;
    ctx.listener = kInboundListener;
  }
};

Verdict decide(std::vector<AuthorizationRule> rules, Inbound& call) {
  InboundAuthorization filter(std::move(rules), kCallee);
  return run_phase(filter.authenticate(call.ctx));
}

TEST(InboundAuthorization, DenyRulesComeFirstAndNameBothIdentities) {
  Inbound call("spiffe://example.org/ns/prod/sa/agent-a", "/admin/reset");
  const auto allow_all = rule(AuthorizationRule::Action::Allow, "spiffe://example.org/ns/prod/sa/*");
  const auto deny_admin = rule(AuthorizationRule::Action::Deny, "spiffe://example.org/ns/prod/sa/agent-a", {"/admin"});
  EXPECT_EQ(decide({allow_all, deny_admin}, call), Verdict::Replied);
  EXPECT_EQ(call.ctx.reply.status, 403);
  EXPECT_NE(call.ctx.outcome.error.find("agent-a may not call " + kCallee), std::string::npos);
  Inbound other_path("spiffe://example.org/ns/prod/sa/agent-a", "/tasks");
  EXPECT_EQ(decide({allow_all, deny_admin}, other_path), Verdict::Continue);
}

TEST(InboundAuthorization, OnceAnAllowRuleExistsTheDefaultIsDeny) {
  Inbound call("spiffe://example.org/ns/dev/sa/agent-a", "/tasks");
  EXPECT_EQ(decide({}, call), Verdict::Continue);  // no rules: admitted
  Inbound again("spiffe://example.org/ns/dev/sa/agent-a", "/tasks");
  EXPECT_EQ(decide({rule(AuthorizationRule::Action::Allow, "spiffe://example.org/ns/prod/sa/*")}, again),
            Verdict::Replied);
  EXPECT_EQ(again.ctx.outcome.error_code, "forbidden");
}

TEST(InboundAuthorization, AuditRulesDecideNothing) {
  Inbound call("spiffe://example.org/ns/prod/sa/agent-a", "/tasks");
  EXPECT_EQ(decide({rule(AuthorizationRule::Action::Deny, "spiffe://example.org/ns/prod/sa/agent-a", {}, true)}, call),
            Verdict::Continue);
  // An audit allow does not make the default deny, and does not admit what an enforcing allow would not.
  Inbound audited("spiffe://example.org/ns/dev/sa/x", "/tasks");
  EXPECT_EQ(decide({rule(AuthorizationRule::Action::Allow, "spiffe://example.org/ns/dev/sa/x", {}, true),
                    rule(AuthorizationRule::Action::Allow, "spiffe://example.org/ns/prod/sa/*")},
                   audited),
            Verdict::Replied);
}

TEST(InboundAuthorization, ACallerWithoutSpiffeIdIsRefused) {
  Inbound call("", "/tasks");
  EXPECT_EQ(decide({}, call), Verdict::Replied);
  EXPECT_EQ(call.ctx.outcome.error_code, "no_identity");
}

TEST(InboundAuthorization, OutboundCallsAreNotItsBusiness) {
  Inbound call("", "/tasks");
  call.ctx.listener = kOutboundListener;
  EXPECT_EQ(decide({rule(AuthorizationRule::Action::Allow, "spiffe://example.org/a")}, call), Verdict::Continue);
}

}  // namespace
}  // namespace tollway::sidecar

// CallerAuthFilter built from its own configuration (token exchange issuer and audience, clock skew, token size
// limit), a virtual key store, a token signer and its JWT issuers, no gateway: a valid virtual key or JWT fills
// ctx.caller; a missing, ambiguous, unknown, revoked or expired credential gets 401 with WWW-Authenticate and
// its reason in ctx.decision; the configured clock skew and token size limit decide what is accepted.
#include "auth/caller/filter.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "../../filter_phase.h"

namespace tollway::auth {
namespace {

using pipeline::Verdict;
using tollway::testing::run_phase;

constexpr std::string_view kIssuer = "https://idp.example.com/agents";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using Headers = std::vector<std::pair<std::string, std::string>>;

// A request carrying `headers` (the head views the call's own copies, as it views a connection's buffer).
struct Call {
  Headers header_text;
  http::RequestHead head;
  pipeline::RequestCtx ctx;
  explicit Call(Headers headers) : header_text(std::move(headers)) {
    head.method = "POST";
    head.target = "/v1/chat/completions";
    for (const auto& [name, value] : header_text) head.headers.push_back({name, value});
    ctx.head = &head;
  }
};

std::optional<std::string> reply_header(const pipeline::RequestCtx& ctx, std::string_view name) {
  for (const auto& [n, v] : ctx.reply.headers)
    if (http::iequals(n, name)) return v;
  return std::nullopt;
}

// One virtual key store, one signer and one external issuer (its JWKS in a file), shared by the tests' filters.
struct Fixture {
  boost::asio::io_context control;
  std::unique_ptr<VirtualKeyStore> keys;
  TokenSigner signer;
  // Process-lifetime, as the gateway's are (a thread keeps its block by the counters' address).
  static AuthCounters& counters() {
    static AuthCounters c;
    return c;
  }
  Jwk idp_key = *generate_es256_key("idp-key");
  JwtIssuer issuer;
  std::string secret;  // of an active key for tenant "acme", agent "planner"
  std::string key_id;

  Fixture() {
    std::string error;
    keys = VirtualKeyStore::open(":memory:", error);
    EXPECT_TRUE(keys) << error;
    NewVirtualKey nk;
    nk.tenant = "acme";
    nk.agent_group = "research";
    nk.agent = "planner";
    auto created = keys->create(nk, unix_now(), error);
    EXPECT_TRUE(created) << error;
    secret = created->second;
    key_id = created->first.id;

    const auto jwks_path = std::filesystem::temp_directory_path() /
                           ("tollway-caller-auth-test-" + std::to_string(::getpid()) + ".json");
    std::ofstream(jwks_path) << "{\"keys\":[" << public_jwk_json(idp_key, Algorithm::ES256) << "]}";
    config::JwtIssuerConfig ic;
    ic.issuer = std::string(kIssuer);
    ic.audiences = {"tollway"};
    ic.jwks_file = jwks_path.string();
    issuer.config = ic;
    issuer.rules.issuers = {ic.issuer};
    issuer.rules.audiences = ic.audiences;
    issuer.rules.max_token_bytes = 8192;
    issuer.keys = std::make_shared<JwksSource>(ic, "", control);
    issuer.keys->start();  // a file loads synchronously
    std::filesystem::remove(jwks_path);
    issuer.policy = std::make_shared<CallerPolicy>();
  }

  CallerAuthFilter filter(CallerAuthFilter::Config config = {}) {
    return CallerAuthFilter(std::move(config), {keys.get(), &signer, &counters()}, {issuer});
  }

  std::string idp_token(const std::string& claims_without_braces) {
    const int64_t now = unix_now();
    return *sign_jwt(idp_key, Algorithm::ES256,
                     "{\"iss\":\"" + std::string(kIssuer) + "\",\"aud\":\"tollway\",\"iat\":" + std::to_string(now) +
                         ",\"exp\":" + std::to_string(now + 600) + "," + claims_without_braces + "}");
  }

  // The tollway_auth_requests_total sample for `method` and `result`.
  static uint64_t counted(std::string_view method, std::string_view result) {
    std::string out;
    counters().render(out);
    const std::string series = "tollway_auth_requests_total{method=\"" + std::string(method) + "\",result=\"" +
                               std::string(result) + "\"} ";
    const auto at = out.find(series);
    return at == std::string::npos ? 0 : std::strtoull(out.c_str() + at + series.size(), nullptr, 10);
  }
};

// The 401 the filter answered, with its reason in the decision and in WWW-Authenticate.
void expect_unauthorized(const Call& call, std::string_view reason) {
  EXPECT_EQ(call.ctx.reply.status, 401);
  EXPECT_TRUE(call.ctx.decision.denied);
  EXPECT_EQ(call.ctx.decision.filter, "caller_auth");
  EXPECT_EQ(call.ctx.decision.rule, reason);
  EXPECT_FALSE(call.ctx.decision.reason.empty());
  EXPECT_FALSE(call.ctx.caller.authenticated);
  const auto challenge = reply_header(call.ctx, "WWW-Authenticate");
  ASSERT_TRUE(challenge);
  EXPECT_TRUE(challenge->starts_with("Bearer realm=\"tollway\""));
  if (reason != "missing_credential") {
    EXPECT_NE(challenge->find("error_description=\"" + std::string(reason) + "\""), std::string::npos) << *challenge;
  }
}

TEST(CallerAuthFilter, AValidVirtualKeyFillsTheCaller) {
  Fixture f;
  auto filter = f.filter();
  const uint64_t accepted_before = Fixture::counted("virtual_key", "ok");
  Call call({{"Authorization", "Bearer " + f.secret}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Continue);
  EXPECT_EQ(call.ctx.reply.status, 0);
  EXPECT_FALSE(call.ctx.decision.denied);
  const pipeline::Caller& c = call.ctx.caller;
  EXPECT_TRUE(c.authenticated);
  EXPECT_EQ(c.tenant, "acme");
  EXPECT_EQ(c.agent_group, "research");
  EXPECT_EQ(c.agent, "planner");
  EXPECT_EQ(c.key_id, f.key_id);
  EXPECT_EQ(c.method, "virtual_key");
  EXPECT_EQ(Fixture::counted("virtual_key", "ok"), accepted_before + 1);
}

TEST(CallerAuthFilter, TheKeyIsAcceptedInEveryHeaderItMayCome) {
  Fixture f;
  auto filter = f.filter();
  for (const char* header : {"x-api-key", "api-key", "x-goog-api-key"}) {
    Call call({{header, f.secret}});
    EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Continue) << header;
    EXPECT_EQ(call.ctx.caller.tenant, "acme") << header;
  }
}

TEST(CallerAuthFilter, NoCredentialIs401MissingCredential) {
  Fixture f;
  auto filter = f.filter();
  Call call(Headers{{"content-type", "application/json"}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Replied);
  expect_unauthorized(call, "missing_credential");
  EXPECT_EQ(call.ctx.outcome.error_code, "missing_credential");
  EXPECT_EQ(reply_header(call.ctx, "WWW-Authenticate"), "Bearer realm=\"tollway\"");
}

TEST(CallerAuthFilter, AnUnknownKeyIs401AndNeverEchoed) {
  Fixture f;
  auto filter = f.filter();
  const std::string wrong = f.secret.substr(0, f.secret.size() - 1) + (f.secret.back() == 'A' ? "B" : "A");
  const uint64_t unknown_before = Fixture::counted("virtual_key", "unknown_key");
  Call call({{"Authorization", "Bearer " + wrong}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Replied);
  expect_unauthorized(call, "unknown_key");
  EXPECT_EQ(call.ctx.outcome.error_code, "invalid_credential");
  EXPECT_EQ(call.ctx.outcome.error.find(wrong), std::string::npos);
  EXPECT_EQ(call.ctx.decision.reason.find(wrong), std::string::npos);
  EXPECT_EQ(Fixture::counted("virtual_key", "unknown_key"), unknown_before + 1);
}

TEST(CallerAuthFilter, ARevokedKeyIs401KeyRevoked) {
  Fixture f;
  std::string error;
  ASSERT_TRUE(f.keys->revoke(f.key_id, unix_now(), error)) << error;
  auto filter = f.filter();
  Call call({{"x-api-key", f.secret}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Replied);
  expect_unauthorized(call, "key_revoked");
}

TEST(CallerAuthFilter, TwoDifferentCredentialsAre401Ambiguous) {
  Fixture f;
  auto filter = f.filter();
  Call call({{"Authorization", "Bearer " + f.secret}, {"x-api-key", "tw-another"}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Replied);
  expect_unauthorized(call, "ambiguous_credentials");
}

TEST(CallerAuthFilter, WithoutAKeyStoreVirtualKeysAreUnknown) {
  Fixture f;
  CallerAuthFilter filter({}, {nullptr, nullptr, nullptr}, {});
  Call call({{"Authorization", "Bearer " + f.secret}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Replied);
  expect_unauthorized(call, "unknown_key");
}

TEST(CallerAuthFilter, AJwtOfAConfiguredIssuerFillsTheCallerFromItsClaims) {
  Fixture f;
  auto filter = f.filter();
  Call call({{"Authorization", "Bearer " + f.idp_token(R"("sub":"agent-7","tenant":"globex","group":"ops")")}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Continue) << call.ctx.decision.rule;
  const pipeline::Caller& c = call.ctx.caller;
  EXPECT_TRUE(c.authenticated);
  EXPECT_EQ(c.method, "jwt");
  EXPECT_EQ(c.issuer, kIssuer);
  EXPECT_EQ(c.tenant, "globex");
  EXPECT_EQ(c.agent, "agent-7");
  EXPECT_EQ(c.agent_group, "ops");
  EXPECT_EQ(c.key_id, "agent-7");
}

TEST(CallerAuthFilter, AJwtWithoutTenantOrFromAnotherIssuerIs401) {
  Fixture f;
  auto filter = f.filter();
  Call no_tenant({{"Authorization", "Bearer " + f.idp_token(R"("sub":"agent-7")")}});
  EXPECT_EQ(run_phase(filter.authenticate(no_tenant.ctx)), Verdict::Replied);
  expect_unauthorized(no_tenant, "missing_tenant");

  const std::string foreign = *sign_jwt(f.idp_key, Algorithm::ES256,
                                        R"({"iss":"https://elsewhere.example","sub":"a","tenant":"t"})");
  Call other_issuer({{"Authorization", "Bearer " + foreign}});
  EXPECT_EQ(run_phase(filter.authenticate(other_issuer.ctx)), Verdict::Replied);
  expect_unauthorized(other_issuer, "unknown_issuer");
}

TEST(CallerAuthFilter, AnExchangedTokenNamesItsVirtualKeysCaller) {
  Fixture f;
  auto filter = f.filter();
  KeyCheck why;
  const auto key = f.keys->active_key(f.key_id, unix_now(), why);
  ASSERT_TRUE(key);
  Call call({{"Authorization", "Bearer " + *f.signer.issue(*key, unix_now())}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Continue) << call.ctx.decision.rule;
  EXPECT_EQ(call.ctx.caller.method, "jwt");
  EXPECT_EQ(call.ctx.caller.tenant, "acme");
  EXPECT_EQ(call.ctx.caller.key_id, f.key_id);
}

TEST(CallerAuthFilter, TokenExchangeOffMeansTheGatewaysOwnTokensAreUnknown) {
  Fixture f;
  CallerAuthFilter::Config config;
  config.token_exchange.enabled = false;
  auto filter = f.filter(config);
  KeyCheck why;
  const auto key = f.keys->active_key(f.key_id, unix_now(), why);
  ASSERT_TRUE(key);
  Call call({{"Authorization", "Bearer " + *f.signer.issue(*key, unix_now())}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Replied);
  expect_unauthorized(call, "unknown_issuer");
}

TEST(CallerAuthFilter, TheConfiguredClockSkewDecidesWhetherAJustExpiredTokenPasses) {
  Fixture f;
  KeyCheck why;
  const auto key = f.keys->active_key(f.key_id, unix_now(), why);
  ASSERT_TRUE(key);
  // Issued so that it expired 30 s ago (the signer's default lifetime is 600 s).
  const std::string token = *f.signer.issue(*key, unix_now() - 630);

  CallerAuthFilter::Config lenient;
  lenient.clock_skew = std::chrono::seconds(120);
  auto lenient_filter = f.filter(lenient);
  Call accepted({{"Authorization", "Bearer " + token}});
  EXPECT_EQ(run_phase(lenient_filter.authenticate(accepted.ctx)), Verdict::Continue) << accepted.ctx.decision.rule;

  CallerAuthFilter::Config strict;
  strict.clock_skew = std::chrono::seconds(0);
  auto strict_filter = f.filter(strict);
  Call refused({{"Authorization", "Bearer " + token}});
  EXPECT_EQ(run_phase(strict_filter.authenticate(refused.ctx)), Verdict::Replied);
  expect_unauthorized(refused, "token_expired");
}

TEST(CallerAuthFilter, TheConfiguredTokenSizeLimitApplies) {
  Fixture f;
  CallerAuthFilter::Config small;
  small.max_token_bytes = 64;
  auto filter = f.filter(small);
  Call call({{"Authorization", "Bearer " + std::string(100, 'x')}});
  EXPECT_EQ(run_phase(filter.authenticate(call.ctx)), Verdict::Replied);
  expect_unauthorized(call, "token_too_large");

  auto default_filter = f.filter();
  Call unknown({{"Authorization", "Bearer " + std::string(100, 'x')}});
  EXPECT_EQ(run_phase(default_filter.authenticate(unknown.ctx)), Verdict::Replied);
  expect_unauthorized(unknown, "unknown_key");
}

}  // namespace
}  // namespace tollway::auth

// Caller authentication cost per request, with references measured in the same run:
//   BM_CachedJwt        the CallerAuthFilter's authenticate phase for a JWT it has verified before (the claim:
//                       at most 1 µs)
//   BM_Sha256OfToken    reference: one SHA-256 of the same token (the cache key; the floor of the cached path)
//   BM_UncachedVerify   reference: a full ES256 verification of the same token (what the cache saves)
//   BM_VirtualKey       the authenticate phase for a virtual key (SHA-256 + lookup in the shared key table)
//   BM_SpiffeCaller     the authenticate phase for an mTLS peer without a credential whose SPIFFE ID the last of
//                       20 `auth.spiffe.callers` patterns maps, after 5 deny entries (compare with BM_VirtualKey)
// The ->Threads(2) variants show that workers do not slow each other down (no shared lock, no shared counter).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <boost/asio.hpp>

#include <chrono>
#include <fstream>

#include "auth/caller/filter.h"
#include "auth/jwt/jws.h"

namespace asio = boost::asio;
using namespace tollway;

namespace {

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Fixture {
  asio::io_context control;
  auth::Jwk signing_key = *auth::generate_es256_key("bench-key");
  std::string token;
  std::string virtual_key;
  std::unique_ptr<auth::VirtualKeyStore> keys;
  auth::AuthCounters counters;
  std::unique_ptr<auth::CallerAuthFilter> filter;
  std::unique_ptr<auth::CallerAuthFilter> spiffe_filter;
  tls::PeerIdentity peer;
  auth::JwkSet jwks;

  Fixture() {
    const std::string jwks_path = "/tmp/tollway-auth-bench-jwks.json";
    std::ofstream(jwks_path) << "{\"keys\":[" << auth::public_jwk_json(signing_key, auth::Algorithm::ES256) << "]}";
    std::string error;
    jwks = *auth::parse_jwk_set("{\"keys\":[" + auth::public_jwk_json(signing_key, auth::Algorithm::ES256) + "]}", error);
    config::JwtIssuerConfig ic;
    ic.issuer = "https://idp.example.com/realms/agents";
    ic.audiences = {"tollway"};
    ic.jwks_file = jwks_path;
    auth::JwtIssuer issuer;
    issuer.config = ic;
    issuer.rules.issuers = {ic.issuer};
    issuer.rules.audiences = ic.audiences;
    issuer.keys = std::make_shared<auth::JwksSource>(ic, "", control);
    issuer.keys->start();
    issuer.policy = std::make_shared<auth::CallerPolicy>();
    keys = auth::VirtualKeyStore::open(":memory:", error);
    auth::NewVirtualKey nk;
    nk.tenant = "acme";
    for (int i = 0; i < 10000; ++i) keys->create(nk, now_seconds(), error);  // a realistic table size
    virtual_key = keys->create(nk, now_seconds(), error)->second;
    filter = std::make_unique<auth::CallerAuthFilter>(
        auth::CallerAuthFilter::Config{}, auth::CallerAuthFilter::Dependencies{keys.get(), nullptr, &counters},
        std::vector{issuer});
    config::SpiffeAuthConfig spiffe;
    for (int i = 0; i < 5; ++i) spiffe.deny.push_back("spiffe://example.org/ns/quarantine-" + std::to_string(i) + "/sa/*");
    for (int i = 0; i < 20; ++i)
      spiffe.callers.push_back({"spiffe://example.org/ns/team-" + std::to_string(i) + "/sa/*", "acme", "team", "", {}});
    auth::CallerAuthFilter::Config spiffe_config;
    spiffe_config.spiffe = spiffe;
    spiffe_filter = std::make_unique<auth::CallerAuthFilter>(
        spiffe_config, auth::CallerAuthFilter::Dependencies{keys.get(), nullptr, &counters},
        std::vector<auth::JwtIssuer>{});
    peer.spiffe_id = "spiffe://example.org/ns/team-19/sa/billing-agent";
    const int64_t now = now_seconds();
    // Claims of the size a typical IdP access token carries.
    const std::string claims = "{\"iss\":\"" + ic.issuer + "\",\"aud\":\"tollway\",\"sub\":\"agent-7f3a9c\",\"tenant\":\"acme\","
                               "\"group\":\"research\",\"scope\":\"llm:chat llm:embed\",\"jti\":\"0f8e2c1d-5b7a-4c3e-9d1f\","
                               "\"iat\":" + std::to_string(now) + ",\"exp\":" + std::to_string(now + 3600) + "}";
    token = *auth::sign_jwt(signing_key, auth::Algorithm::ES256, claims);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// `credential` "" = none sent: the caller is the SPIFFE-mapped peer.
void run_authenticate(benchmark::State& state, const std::string& credential) {
  Fixture& f = fixture();
  auth::CallerAuthFilter& filter = credential.empty() ? *f.spiffe_filter : *f.filter;
  const std::string authorization = "Bearer " + credential;
  http::RequestHead head;
  head.method = "POST";
  head.target = "/v1/chat/completions";
  head.headers = {{"host", "gateway"}, {"content-type", "application/json"}};
  if (!credential.empty()) head.headers.push_back({"authorization", authorization});
  pipeline::RequestCtx ctx;
  ctx.head = &head;
  ctx.peer_identity = &f.peer;
  asio::io_context io;
  bool ok = true;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (auto _ : state) {
      ctx.caller = {};
      ok &= co_await filter.authenticate(ctx) == pipeline::Verdict::Continue;
      benchmark::DoNotOptimize(ctx.caller.tenant.data());
    }
  }, asio::detached);
  io.run();
  if (!ok) state.SkipWithError("authentication failed");
  state.SetLabel(std::to_string(credential.size()) + "-byte credential");
}

void BM_CachedJwt(benchmark::State& state) { run_authenticate(state, fixture().token); }
void BM_VirtualKey(benchmark::State& state) { run_authenticate(state, fixture().virtual_key); }
void BM_SpiffeCaller(benchmark::State& state) { run_authenticate(state, ""); }

void BM_Sha256OfToken(benchmark::State& state) {
  const std::string& token = fixture().token;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (auto _ : state) {
    EVP_Digest(token.data(), token.size(), digest, &len, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(digest);
  }
}

void BM_UncachedVerify(benchmark::State& state) {
  Fixture& f = fixture();
  auth::ClaimRules rules;
  rules.issuers = {"https://idp.example.com/realms/agents"};
  rules.audiences = {"tollway"};
  const int64_t now = now_seconds();
  for (auto _ : state) {
    auth::JwtError e = auth::JwtError::None;
    auto v = auth::verify_jwt(f.token, f.jwks, rules, now, e);
    if (!v) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(v);
  }
}

}  // namespace

BENCHMARK(BM_CachedJwt);
BENCHMARK(BM_CachedJwt)->Threads(2);
BENCHMARK(BM_Sha256OfToken);
BENCHMARK(BM_UncachedVerify);
BENCHMARK(BM_VirtualKey);
BENCHMARK(BM_VirtualKey)->Threads(2);
BENCHMARK(BM_SpiffeCaller);
BENCHMARK(BM_SpiffeCaller)->Threads(2);
BENCHMARK_MAIN();

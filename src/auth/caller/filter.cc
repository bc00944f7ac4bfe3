#include "auth/caller/filter.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <unordered_map>

#include "auth/jwt/base64url.h"

namespace tollway::auth {
namespace {

std::atomic<uint64_t> next_instance_id{1};

// Per worker thread: verified JWTs by SHA-256 of the token.
struct CachedJwt {
  uint64_t filter_id = 0;
  int64_t valid_until = 0;        // exp + leeway (or a bound when the token has no exp)
  std::string virtual_key_id;     // exchanged tokens: re-checked on every use (revocation)
  pipeline::Caller caller;
};
constexpr std::size_t kCacheLimit = 8192;
thread_local std::unordered_map<std::string, CachedJwt> jwt_cache;

std::string sha256(std::string_view data) { return hash_secret(data); }  // raw bytes, the JWT cache key

void cache_put(std::string key, CachedJwt entry, int64_t now) {
  if (jwt_cache.size() >= kCacheLimit) {
    std::erase_if(jwt_cache, [now](const auto& kv) { return kv.second.valid_until <= now; });
    if (jwt_cache.size() >= kCacheLimit) jwt_cache.clear();
  }
  jwt_cache.insert_or_assign(std::move(key), std::move(entry));
}

std::string claim_string(const core::strict_json::Value& claims, const std::string& name) {
  const core::strict_json::Value* v = claims.find(name);
  if (v == nullptr || !v->is_string()) return {};
  return v->as_string();
}

AuthOutcome fail(AuthMethod method, std::string_view reason, std::string message) {
  AuthOutcome o;
  o.method = method;
  o.reason = reason;
  o.message = std::move(message);
  return o;
}

// Why a token minted from a virtual key no longer authenticates: the key is gone, revoked or expired.
AuthOutcome exchanged_key_unusable(KeyCheck why) {
  if (why == KeyCheck::Expired)
    return fail(AuthMethod::Jwt, "key_expired", "The key this token was issued for has expired.");
  if (why == KeyCheck::Revoked)
    return fail(AuthMethod::Jwt, "key_revoked", "The key this token was issued for has been revoked.");
  return fail(AuthMethod::Jwt, "unknown_key", "The key this token was issued for no longer exists.");
}

}  // namespace

CallerAuthFilter::CallerAuthFilter(Config config, Dependencies deps, std::vector<JwtIssuer> issuers)
    : config_(std::move(config)),
      deps_(deps),
      issuers_(std::move(issuers)),
      spiffe_callers_(config_.spiffe),
      instance_id_(next_instance_id++) {
  const Config& auth = config_;
  exchange_rules_.issuers = {auth.token_exchange.issuer};
  exchange_rules_.audiences = {auth.token_exchange.audience};
  exchange_rules_.leeway_seconds = std::chrono::duration_cast<std::chrono::seconds>(auth.clock_skew).count();
  exchange_rules_.allowed_algorithms = {Algorithm::ES256};
  exchange_rules_.required_claims = {"tw_key", "tenant"};
  exchange_rules_.max_token_bytes = auth.max_token_bytes;
}

std::string_view CallerAuthFilter::presented_credential(const http::RequestHead& head, bool& ambiguous) {
  ambiguous = false;
  std::string_view found;
  for (const auto& h : head.headers) {
    std::string_view value;
    if (http::iequals(h.name, "authorization")) {
      if (http::iequals(h.value, "bearer")) continue;  // "Bearer" with nothing after it: no credential
      if (h.value.size() < 7 || !http::iequals(h.value.substr(0, 7), "bearer ")) {
        ambiguous = true;  // another scheme (Basic, ...) is not a credential this gateway understands
        continue;
      }
      value = h.value.substr(7);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    } else if (http::iequals(h.name, "x-api-key") || http::iequals(h.name, "api-key") ||
               http::iequals(h.name, "x-goog-api-key")) {
      value = h.value;
    } else {
      continue;
    }
    if (value.empty()) continue;
    if (!found.empty() && found != value) ambiguous = true;
    found = value;
  }
  return found;
}

AuthOutcome CallerAuthFilter::check_virtual_key(std::string_view secret, int64_t now) const {
  if (deps_.keys == nullptr) return fail(AuthMethod::VirtualKey, "unknown_key", "Invalid API key.");
  KeyCheck why = KeyCheck::Unknown;
  const auto key = deps_.keys->authenticate(secret, now, why);
  if (!key) {
    static constexpr const char* kMessages[] = {"", "Invalid API key.", "This API key has been revoked.",
                                                "This API key has expired.",
                                                "This API key was rotated and its grace period has ended."};
    return fail(AuthMethod::VirtualKey, key_check_code(why), kMessages[static_cast<int>(why)]);
  }
  AuthOutcome o;
  o.ok = true;
  o.method = AuthMethod::VirtualKey;
  o.reason = "ok";
  o.caller.authenticated = true;
  o.caller.tenant = key->tenant;
  o.caller.agent_group = key->agent_group;
  o.caller.agent = key->agent;
  o.caller.key_id = key->id;
  o.caller.method = "virtual_key";
  o.caller.policy = key->policy;
  return o;
}

bool CallerAuthFilter::check_cached_jwt(std::string_view token, const std::string& digest, int64_t now,
                                        AuthOutcome& out) const {
  const auto it = jwt_cache.find(digest);
  if (it == jwt_cache.end()) return false;
  const CachedJwt& hit = it->second;
  if (hit.filter_id != instance_id_ || now >= hit.valid_until) {
    jwt_cache.erase(it);
    return false;
  }
  (void)token;
  if (!hit.virtual_key_id.empty()) {
    KeyCheck why = KeyCheck::Unknown;
    const auto key = deps_.keys ? deps_.keys->active_key(hit.virtual_key_id, now, why) : nullptr;
    if (!key) {
      out = exchanged_key_unusable(why);
      return true;
    }
  }
  out.ok = true;
  out.method = AuthMethod::Jwt;
  out.reason = "ok";
  out.caller = hit.caller;
  return true;
}

asio::awaitable<AuthOutcome> CallerAuthFilter::check_jwt(std::string_view token, int64_t now) const {
  std::string digest = sha256(token);
  if (AuthOutcome cached; check_cached_jwt(token, digest, now, cached)) co_return cached;
  const Config& auth = config_;
  JwtError error = JwtError::None;
  // Which issuer: read "iss" from the (not yet verified) claims to pick the keys and rules.
  auto parsed = parse_compact_jws(token, auth.max_token_bytes, error);
  if (!parsed) co_return fail(AuthMethod::Jwt, jwt_error_code(error), std::string(jwt_error_message(error)));
  std::string json_error;
  auto unverified = core::strict_json::parse(parsed->payload, json_error,
                                             core::strict_json::ParseLimits{auth.max_token_bytes, 16});
  if (!unverified || !unverified->is_object())
    co_return fail(AuthMethod::Jwt, "token_malformed", std::string(jwt_error_message(JwtError::Malformed)));
  const std::string iss = claim_string(*unverified, "iss");
  const bool exchange = deps_.signer != nullptr && auth.token_exchange.enabled && iss == auth.token_exchange.issuer;
  const JwtIssuer* issuer = nullptr;
  for (const auto& i : issuers_)
    if (i.config.issuer == iss) issuer = &i;
  if (!exchange && issuer == nullptr)
    co_return fail(AuthMethod::Jwt, "unknown_issuer", "The token's issuer is not accepted by this gateway.");

  std::optional<VerifiedJwt> verified;
  if (exchange) {
    verified = verify_jwt(token, *deps_.signer->verification_keys(), exchange_rules_, now, error);
  } else {
    auto keys = issuer->keys->keys();
    verified = verify_jwt(token, *keys, issuer->rules, now, error);
    if (!verified && (error == JwtError::UnknownKid || (error == JwtError::NoMatchingKey && keys->keys.empty()))) {
      co_await issuer->keys->refresh_on_demand();  // one refresh, then the answer stands
      verified = verify_jwt(token, *issuer->keys->keys(), issuer->rules, now, error);
    }
  }
  if (!verified) co_return fail(AuthMethod::Jwt, jwt_error_code(error), std::string(jwt_error_message(error)));

  AuthOutcome o;
  o.method = AuthMethod::Jwt;
  pipeline::Caller& c = o.caller;
  c.method = "jwt";
  c.issuer = iss;
  std::string key_id;
  if (exchange) {
    key_id = claim_string(verified->claims, "tw_key");
    KeyCheck why = KeyCheck::Unknown;
    const auto key = deps_.keys ? deps_.keys->active_key(key_id, now, why) : nullptr;
    if (!key) co_return exchanged_key_unusable(why);
    c.tenant = key->tenant;
    c.agent_group = key->agent_group;
    c.agent = key->agent;
    c.key_id = key->id;
    c.policy = key->policy;
  } else {
    c.tenant = claim_string(verified->claims, issuer->config.tenant_claim);
    c.agent = claim_string(verified->claims, issuer->config.agent_claim);
    c.agent_group = claim_string(verified->claims, issuer->config.group_claim);
    c.key_id = claim_string(verified->claims, "sub");
    c.policy = issuer->policy;
    // The subject is who the caller is (logs, spend, per-key limits); the agent claim is what limits count
    // per agent.
    if (c.key_id.empty())
      co_return fail(AuthMethod::Jwt, "missing_subject",
                     "The token does not name its subject (claim \"sub\").");
    if (c.agent.empty())
      co_return fail(AuthMethod::Jwt, "missing_agent",
                     "The token does not name an agent (claim \"" + issuer->config.agent_claim + "\").");
  }
  if (c.tenant.empty())
    co_return fail(AuthMethod::Jwt, "missing_tenant", "The token does not name a tenant (claim \"" +
                                                          (exchange ? std::string("tenant") : issuer->config.tenant_claim) +
                                                          "\").");
  c.authenticated = true;
  o.ok = true;
  o.reason = "ok";
  const int64_t leeway = exchange ? exchange_rules_.leeway_seconds : issuer->rules.leeway_seconds;
  CachedJwt entry;
  entry.filter_id = instance_id_;
  entry.valid_until = verified->expires_at != 0 ? verified->expires_at + leeway : now + 300;
  entry.virtual_key_id = exchange ? key_id : std::string();
  entry.caller = c;
  cache_put(std::move(digest), std::move(entry), now);
  co_return o;
}

asio::awaitable<AuthOutcome> CallerAuthFilter::check(std::string_view credential, int64_t now) const {
  if (credential.starts_with("tw-")) co_return check_virtual_key(credential, now);
  if (std::count(credential.begin(), credential.end(), '.') == 2) co_return co_await check_jwt(credential, now);
  if (credential.size() > config_.max_token_bytes)
    co_return fail(AuthMethod::None, "token_too_large", std::string(jwt_error_message(JwtError::TooLarge)));
  co_return fail(AuthMethod::None, "unknown_key", "Invalid API key or token.");
}

void CallerAuthFilter::reply_unauthorized(pipeline::RequestCtx& ctx, const AuthOutcome& outcome) {
  // The body names the kind of failure only; the precise reason is in the decision log and WWW-Authenticate.
  pipeline::reply_error(ctx, 401, outcome.message,
                        outcome.reason == "missing_credential" ? "missing_credential" : "invalid_credential");
  ctx.reply.headers.emplace_back("WWW-Authenticate",
                                 outcome.reason == "missing_credential"
                                     ? std::string("Bearer realm=\"tollway\"")
                                     : "Bearer realm=\"tollway\", error=\"invalid_token\", error_description=\"" +
                                           std::string(outcome.reason) + "\"");
  ctx.decision.denied = true;
  ctx.decision.filter = "caller_auth";
  ctx.decision.rule = std::string(outcome.reason);
  ctx.decision.reason = outcome.message;
}

asio::awaitable<pipeline::Verdict> CallerAuthFilter::authenticate(pipeline::RequestCtx& ctx) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  bool ambiguous = false;
  const std::string_view credential = presented_credential(*ctx.head, ambiguous);
  SpiffeCallers::Lookup peer;
  if (ctx.peer_identity != nullptr && !ctx.peer_identity->spiffe_id.empty() && !spiffe_callers_.empty())
    peer = spiffe_callers_.lookup(ctx.peer_identity->spiffe_id);
  if (peer.result == SpiffeCallers::Lookup::Result::Denied) {
    if (deps_.counters) deps_.counters->add(AuthMethod::Spiffe, "spiffe_id_denied");
    pipeline::reply_error(ctx, 403, "The client certificate's SPIFFE ID is denied by this gateway's policy.",
                          "spiffe_id_denied");
    ctx.decision.denied = true;
    ctx.decision.filter = "caller_auth";
    ctx.decision.rule = "auth.spiffe.deny: " + std::string(peer.rule);
    ctx.decision.reason = "SPIFFE ID " + ctx.peer_identity->spiffe_id + " is on the deny list";
    co_return pipeline::Verdict::Replied;
  }
  AuthOutcome outcome;
  if (credential.empty() && !ambiguous && peer.result == SpiffeCallers::Lookup::Result::Caller) {
    outcome.ok = true;
    outcome.method = AuthMethod::Spiffe;
    outcome.reason = "ok";
    outcome.caller = std::move(peer.caller);
  } else if (ambiguous) {
    outcome = fail(AuthMethod::None, "ambiguous_credentials",
                   "Send exactly one credential (Authorization: Bearer, x-api-key, api-key or x-goog-api-key).");
  } else if (credential.empty()) {
    outcome = fail(AuthMethod::None, "missing_credential",
                   "Authentication required: send a virtual key or a JWT as Authorization: Bearer, x-api-key, "
                   "api-key or x-goog-api-key.");
  } else if (credential.starts_with("tw-")) {
    outcome = check_virtual_key(credential, now);  // synchronous: no coroutine frame on the hot path
  } else if (!check_cached_jwt(credential, sha256(credential), now, outcome)) {
    outcome = co_await check(credential, now);
  }
  if (deps_.counters) deps_.counters->add(outcome.method, outcome.reason);
  if (!outcome.ok) {
    reply_unauthorized(ctx, outcome);
    co_return pipeline::Verdict::Replied;
  }
  ctx.caller = std::move(outcome.caller);
  co_return pipeline::Verdict::Continue;
}

}  // namespace tollway::auth

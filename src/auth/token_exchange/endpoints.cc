#include "auth/token_exchange/endpoints.h"

#include "core/json.h"
#include "pipeline/filter.h"

namespace tollway::auth {

void answer_token_request(pipeline::RequestCtx& ctx, VirtualKeyStore* keys, const TokenSigner& signer,
                          AuthCounters* counters, int64_t now) {
  ctx.api = config::Api::OpenAI;
  if (ctx.head->method != "POST") {
    pipeline::reply_error(ctx, 405, "Use POST /v1/token.", "method_not_allowed");
    ctx.reply.headers.emplace_back("Allow", "POST");
    return;
  }
  bool ambiguous = false;
  const std::string_view credential = CallerAuthFilter::presented_credential(*ctx.head, ambiguous);
  AuthOutcome outcome;
  outcome.method = AuthMethod::VirtualKey;
  if (ambiguous) {
    outcome.reason = "ambiguous_credentials";
    outcome.message = "Send exactly one credential (Authorization: Bearer, x-api-key or api-key).";
  } else if (credential.empty()) {
    outcome.reason = "missing_credential";
    outcome.message = "POST /v1/token needs a virtual key as Authorization: Bearer, x-api-key or api-key.";
  } else if (!credential.starts_with("tw-") || keys == nullptr) {
    outcome.reason = "unknown_key";
    outcome.message = "Only virtual keys can be exchanged for a token.";
  } else {
    KeyCheck why = KeyCheck::Unknown;
    const auto key = keys->authenticate(credential, now, why);
    if (!key) {
      outcome.reason = key_check_code(why);
      outcome.message = "The virtual key is not valid (" + std::string(outcome.reason) + ").";
    } else if (auto token = signer.issue(*key, now)) {
      if (counters) counters->add(AuthMethod::VirtualKey, "ok");
      const auto ttl = std::chrono::duration_cast<std::chrono::seconds>(signer.config().ttl).count();
      ctx.reply.status = 200;
      ctx.reply.headers.emplace_back("Cache-Control", "no-store");
      tollway::json::ObjectWriter body;
      body.field("access_token", *token)
          .field("token_type", "Bearer")
          .field("issued_token_type", "urn:ietf:params:oauth:token-type:jwt")
          .field("expires_in", static_cast<int64_t>(ttl));
      ctx.reply.body = std::move(body).finish();
      return;
    } else {
      pipeline::reply_error(ctx, 500, "Signing the token failed.", "signing_failed");
      return;
    }
  }
  if (counters) counters->add(outcome.method, outcome.reason);
  CallerAuthFilter::reply_unauthorized(ctx, outcome);
}

void answer_jwks_request(pipeline::RequestCtx& ctx, const TokenSigner& signer) {
  if (ctx.head->method != "GET" && ctx.head->method != "HEAD") {
    pipeline::reply_error(ctx, 405, "Use GET.", "method_not_allowed");
    ctx.reply.headers.emplace_back("Allow", "GET");
    return;
  }
  ctx.reply.status = 200;
  ctx.reply.content_type = "application/jwk-set+json";
  ctx.reply.headers.emplace_back("Cache-Control", "max-age=300");
  ctx.reply.body = *signer.jwks_document();
}

}  // namespace tollway::auth

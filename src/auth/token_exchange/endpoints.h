// The token exchange endpoints the gateway answers itself (pipeline::LocalEndpoint): `POST /v1/token` takes a
// bootstrap credential (a virtual key, in the usual headers) and returns a short-lived JWT signed by the
// TokenSigner; `GET /.well-known/jwks.json` publishes the signer's public keys. Errors use the OpenAI format;
// responses never echo the presented credential.
#pragma once

#include "auth/caller/filter.h"
#include "auth/token_exchange/token_signer.h"
#include "auth/virtual_keys/key_store.h"
#include "pipeline/request_ctx.h"

namespace tollway::auth {

void answer_token_request(pipeline::RequestCtx& ctx, VirtualKeyStore* keys, const TokenSigner& signer,
                          AuthCounters* counters, int64_t now);
void answer_jwks_request(pipeline::RequestCtx& ctx, const TokenSigner& signer);

}  // namespace tollway::auth

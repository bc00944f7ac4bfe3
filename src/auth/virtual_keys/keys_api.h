// The admin API for virtual keys (served on the admin listener under /admin/keys): create, list, show (with the
// key's spend and budgets, reported by the caller-supplied KeyUsageReport), change (PATCH: models, routes, limits,
// metadata, expiry; never the secret or the tenant/agent binding), revoke, rotate with a grace period. Every call needs `Authorization: Bearer <auth.admin_token>`, compared in constant
// time; without a configured admin token the API is disabled (403). A secret appears in a response only once,
// when it is created or rotated; listings show the id and a 7-character display prefix. Never logs bodies.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/virtual_keys/key_store.h"

namespace tollway::auth {

struct KeysApiRequest {
  std::string_view method;
  std::string_view path;   // starts with /admin/keys
  std::string_view query;
  std::optional<std::string_view> authorization;
  std::string_view body;
};

struct KeysApiResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Extra JSON fields (without braces, e.g. `"spend":{…},"budgets":[…]`) for GET /admin/keys/{id}; "" for none.
using KeyUsageReport = std::function<std::string(const VirtualKey&)>;

KeysApiResponse handle_keys_api(VirtualKeyStore& store, std::string_view admin_token, const KeysApiRequest& request,
                                int64_t now, const KeyUsageReport& usage = {});

// The admin API's authorization (shared by every /admin/* API): the refusal to send when `authorization` does not
// carry `Bearer <admin_token>` (401), or when no admin token is configured (403); nullopt when authorized.
std::optional<KeysApiResponse> refuse_unless_admin(std::string_view admin_token,
                                                   std::optional<std::string_view> authorization);
// An error answer {"error":{"message","param"?}} with the status.
KeysApiResponse admin_error(int status, std::string_view message, std::string_view param = {});

// Constant-time comparison of a presented secret with the expected one (hashes both first, so neither the
// content nor the length leaks through timing).
bool secrets_equal(std::string_view presented, std::string_view expected);

// The JSON object describing a key (no secret, no hashes).
std::string virtual_key_json(const VirtualKey& k);

}  // namespace tollway::auth

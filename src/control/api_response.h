// The pieces every control-plane API handler shares: the JSON error answer ({"error":{"message","code"}}, with
// WWW-Authenticate on 401), the bearer token and a query parameter read from a request, and the admin token check
// (compared in constant time). They never decide a status or a route.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/admin_listener.h"

namespace tollway::control {

proxy::AdminResponse error_response(int status, std::string_view code, std::string_view message);

// The token of an `Authorization: Bearer TOKEN` header; "" when there is none.
std::string_view bearer_token(const proxy::AdminRequest& request);

// The request carries `Authorization: Bearer ADMIN_TOKEN`; always false when `admin_token` is empty.
bool admin_authorized(const proxy::AdminRequest& request, std::string_view admin_token);

// The value of `name` in a query string, percent-decoded; nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// A list's `limit` query parameter: `fallback` when absent; nullopt when it is not a whole number from 1 to `max`
// (then answer list_limit_error(max)).
std::optional<int64_t> list_limit(const proxy::AdminRequest& request, int64_t fallback, int64_t max);
proxy::AdminResponse list_limit_error(int64_t max);

}  // namespace tollway::control

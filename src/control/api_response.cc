#include "control/api_response.h"

#include <openssl/crypto.h>

#include <charconv>

#include "core/json.h"

namespace tollway::control {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view bearer_token(const proxy::AdminRequest& request) {
  const auto header = request.head ? request.head->find("authorization") : std::nullopt;
  if (!header || header->size() < 7 || !(header->substr(0, 7) == "Bearer " || header->substr(0, 7) == "bearer "))
    return {};
  return header->substr(7);
}

bool admin_authorized(const proxy::AdminRequest& request, std::string_view admin_token) {
  const std::string_view token = bearer_token(request);
  return !admin_token.empty() && token.size() == admin_token.size() &&
         CRYPTO_memcmp(token.data(), admin_token.data(), token.size()) == 0;
}

proxy::AdminResponse error_response(int status, std::string_view code, std::string_view message) {
  json::ObjectWriter inner;
  inner.field("message", message).field("code", code);
  json::ObjectWriter w;
  w.raw_field("error", std::move(inner).finish());
  proxy::AdminResponse r{status, "application/json", std::move(w).finish() + "\n", {}};
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    const std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() && hex_digit(raw[i + 1]) >= 0 && hex_digit(raw[i + 2]) >= 0) {
        value.push_back(static_cast<char>(hex_digit(raw[i + 1]) * 16 + hex_digit(raw[i + 2])));
        i += 2;
      } else {
        value.push_back(raw[i] == '+' ? ' ' : raw[i]);
      }
    }
    return value;
  }
  return std::nullopt;
}

std::optional<int64_t> list_limit(const proxy::AdminRequest& request, int64_t fallback, int64_t max) {
  const auto text = query_param(request.query, "limit");
  if (!text) return fallback;
  int64_t limit = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() || limit < 1 || limit > max)
    return std::nullopt;
  return limit;
}

proxy::AdminResponse list_limit_error(int64_t max) {
  return error_response(400, "invalid_limit", "limit must be a whole number from 1 to " + std::to_string(max));
}

}  // namespace tollway::control

#include "auth/virtual_keys/keys_api.h"

#include <openssl/crypto.h>

#include "auth/virtual_keys/key_limits.h"
#include "core/glob.h"
#include "core/json.h"
#include "core/strict_json.h"
#include "core/units.h"

namespace tollway::auth {
namespace {

KeysApiResponse error_response(int status, std::string_view message) { return admin_error(status, message); }

std::string list_json(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    tollway::json::append_quoted(out, items[i]);
  }
  return out + "]";
}

bool read_globs(const core::strict_json::Value& body, std::string_view name, std::vector<std::string>& out,
                std::string& error) {
  const core::strict_json::Value* v = body.find(name);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_array()) {
    error = "\"" + std::string(name) + "\" must be a list of glob strings";
    return false;
  }
  for (const auto& item : v->items()) {
    if (!item.is_string() || item.as_string().empty()) {
      error = "\"" + std::string(name) + "\" must be a list of non-empty strings";
      return false;
    }
    if (auto err = glob_syntax_error(item.as_string()); !err.empty()) {
      error = "\"" + std::string(name) + "\": " + std::string(err);
      return false;
    }
    out.push_back(item.as_string());
  }
  return true;
}

bool read_string(const core::strict_json::Value& body, std::string_view name, std::string& out,
                 std::string& error) {
  const core::strict_json::Value* v = body.find(name);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_string() || v->as_string().size() > 256) {
    error = "\"" + std::string(name) + "\" must be a string of at most 256 bytes";
    return false;
  }
  out = v->as_string();
  return true;
}

// Serialises a parsed JSON value again (for the opaque "limits" object).
void write_value(std::string& out, const core::strict_json::Value& v) {
  switch (v.kind()) {
    case core::strict_json::Value::Kind::Null:
      out += "null";
      break;
    case core::strict_json::Value::Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      break;
    case core::strict_json::Value::Kind::Number:
      if (v.is_integer()) out += std::to_string(v.as_int());
      else out += std::to_string(v.as_number());
      break;
    case core::strict_json::Value::Kind::String:
      tollway::json::append_quoted(out, v.as_string());
      break;
    case core::strict_json::Value::Kind::Array:
      out += "[";
      for (std::size_t i = 0; i < v.items().size(); ++i) {
        if (i) out += ",";
        write_value(out, v.items()[i]);
      }
      out += "]";
      break;
    case core::strict_json::Value::Kind::Object:
      out += "{";
      for (std::size_t i = 0; i < v.members().size(); ++i) {
        if (i) out += ",";
        tollway::json::append_quoted(out, v.members()[i].first);
        out += ":";
        write_value(out, v.members()[i].second);
      }
      out += "}";
      break;
  }
}

// `limits`, validated (key_limits.h) and stored as JSON text; unchanged when absent.
bool read_limits(const core::strict_json::Value& body, std::string& out, std::string& error) {
  const core::strict_json::Value* l = body.find("limits");
  if (l == nullptr) return true;
  if (l->is_null()) {
    out = "{}";
    return true;
  }
  KeyLimits parsed;
  if (!parse_key_limits(*l, parsed, error)) return false;
  out.clear();
  write_value(out, *l);
  return true;
}

bool read_metadata(const core::strict_json::Value& body, std::string& out, std::string& error) {
  const core::strict_json::Value* m = body.find("metadata");
  if (m == nullptr) return true;
  if (m->is_null()) {
    out = "{}";
    return true;
  }
  std::string text;
  if (m->is_object()) write_value(text, *m);
  if (!m->is_object() || text.size() > 16 * 1024) {
    error = "\"metadata\" must be a JSON object of at most 16 KiB";
    return false;
  }
  out = std::move(text);
  return true;
}

std::optional<core::strict_json::Value> parse_body(std::string_view body, std::string& error) {
  if (body.empty()) return core::strict_json::Value::make_object({});
  auto v = core::strict_json::parse(body, error);
  if (!v || !v->is_object()) {
    if (error.empty()) error = "the body must be a JSON object";
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> read_duration_seconds(const core::strict_json::Value& body, std::string_view name,
                                             std::string& error) {
  const core::strict_json::Value* v = body.find(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) {
    if (auto d = units::parse_duration(v->as_string()); d && d->count() > 0)
      return std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  } else if (v->is_integer() && v->as_int() >= 0) {
    return v->as_int();
  }
  error = "\"" + std::string(name) + "\" must be a duration such as \"720h\" or \"10m\", or a number of seconds";
  return -1;
}

KeysApiResponse create_key(VirtualKeyStore& store, std::string_view body_text, int64_t now) {
  std::string error;
  auto body = parse_body(body_text, error);
  if (!body) return error_response(400, "Invalid JSON body: " + error);
  for (const auto& [name, value] : body->members()) {
    static const char* kAllowed[] = {"name", "tenant", "agent_group", "agent", "routes", "models",
                                     "max_tokens", "expires_in", "expires_at", "limits", "metadata"};
    bool known = false;
    for (const char* a : kAllowed) known |= (name == a);
    if (!known) return admin_error(400, "Unknown field \"" + name + "\"", name);
  }
  NewVirtualKey r;
  if (!read_string(*body, "name", r.name, error) || !read_string(*body, "tenant", r.tenant, error) ||
      !read_string(*body, "agent_group", r.agent_group, error) || !read_string(*body, "agent", r.agent, error) ||
      !read_globs(*body, "routes", r.routes, error) || !read_globs(*body, "models", r.models, error))
    return error_response(400, error);
  if (r.tenant.empty()) return error_response(400, "\"tenant\" is required: every key belongs to one tenant");
  if (const core::strict_json::Value* m = body->find("max_tokens"); m && !m->is_null()) {
    if (!m->is_integer() || m->as_int() < 0) return error_response(400, "\"max_tokens\" must be a non-negative integer");
    r.max_tokens = static_cast<uint64_t>(m->as_int());
  }
  auto expires_in = read_duration_seconds(*body, "expires_in", error);
  if (expires_in && *expires_in < 0) return error_response(400, error);
  if (expires_in) r.expires_at = now + *expires_in;
  if (const core::strict_json::Value* e = body->find("expires_at"); e && !e->is_null()) {
    if (expires_in) return error_response(400, "give either \"expires_in\" or \"expires_at\", not both");
    if (!e->is_integer() || e->as_int() <= now) return error_response(400, "\"expires_at\" must be a future unix time");
    r.expires_at = e->as_int();
  }
  if (!read_limits(*body, r.limits_json, error) || !read_metadata(*body, r.metadata_json, error))
    return error_response(400, error);
  auto created = store.create(r, now, error);
  if (!created) return error_response(500, error);
  KeysApiResponse out;
  out.status = 201;
  std::string fields(virtual_key_json(created->first));
  fields.pop_back();  // reopen the object to add the secret, shown this once
  fields += ",\"key\":";
  tollway::json::append_quoted(fields, created->second);
  out.body = fields + "}\n";
  return out;
}

KeysApiResponse change_key(VirtualKeyStore& store, const std::string& id, std::string_view body_text, int64_t now) {
  std::string error;
  auto body = parse_body(body_text, error);
  if (!body) return error_response(400, "Invalid JSON body: " + error);
  for (const auto& [name, value] : body->members()) {
    if (name == "tenant" || name == "agent_group" || name == "agent")
      return admin_error(400, "\"" + name + "\" binds the key to its caller and cannot be changed; create a new key",
                         name);
    static const char* kAllowed[] = {"name", "routes", "models", "max_tokens", "expires_in", "expires_at",
                                     "limits", "metadata"};
    bool known = false;
    for (const char* a : kAllowed) known |= (name == a);
    if (!known) return admin_error(400, "Unknown field \"" + name + "\"", name);
  }
  VirtualKeyChange change;
  if (const core::strict_json::Value* v = body->find("name")) {
    std::string name;
    if (!read_string(*body, "name", name, error)) return error_response(400, error);
    if (!v->is_null()) change.name = name;
  }
  for (const char* list : {"routes", "models"}) {
    if (body->find(list) == nullptr) continue;
    std::vector<std::string> globs;
    if (!read_globs(*body, list, globs, error)) return error_response(400, error);
    (std::string_view(list) == "routes" ? change.routes : change.models) = std::move(globs);
  }
  if (const core::strict_json::Value* m = body->find("max_tokens")) {
    if (!m->is_null() && (!m->is_integer() || m->as_int() < 0))
      return error_response(400, "\"max_tokens\" must be a non-negative integer");
    change.max_tokens = m->is_null() ? 0 : static_cast<uint64_t>(m->as_int());
  }
  auto expires_in = read_duration_seconds(*body, "expires_in", error);
  if (expires_in && *expires_in < 0) return error_response(400, error);
  if (expires_in) change.expires_at = now + *expires_in;
  if (const core::strict_json::Value* e = body->find("expires_at")) {
    if (expires_in) return error_response(400, "give either \"expires_in\" or \"expires_at\", not both");
    // Any time is accepted here: a past one expires the key now; null or 0 removes the expiry.
    if (!e->is_null() && (!e->is_integer() || e->as_int() < 0))
      return error_response(400, "\"expires_at\" must be a unix time in seconds, or null for no expiry");
    change.expires_at = e->is_null() ? 0 : e->as_int();
  }
  std::string limits, metadata;
  if (!read_limits(*body, limits, error) || !read_metadata(*body, metadata, error)) return error_response(400, error);
  if (body->find("limits")) change.limits_json = limits;
  if (body->find("metadata")) change.metadata_json = metadata;
  auto changed = store.update(id, change, now, error);
  if (!changed) return error_response(404, error);
  return KeysApiResponse{200, virtual_key_json(*changed) + "\n", {}};
}

std::string_view query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

KeysApiResponse admin_error(int status, std::string_view message, std::string_view param) {
  KeysApiResponse r;
  r.status = status;
  tollway::json::ObjectWriter inner;
  inner.field("message", message);
  if (!param.empty()) inner.field("param", param);
  tollway::json::ObjectWriter outer;
  outer.raw_field("error", std::move(inner).finish());
  r.body = std::move(outer).finish() + "\n";
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tollway-admin\"");
  return r;
}

std::optional<KeysApiResponse> refuse_unless_admin(std::string_view admin_token,
                                                   std::optional<std::string_view> authorization) {
  if (admin_token.empty())
    return admin_error(403, "The admin API is disabled: set auth.admin_token in the config.");
  std::string_view presented;
  if (authorization && authorization->size() > 7 &&
      (authorization->substr(0, 7) == "Bearer " || authorization->substr(0, 7) == "bearer "))
    presented = authorization->substr(7);
  if (presented.empty() || !secrets_equal(presented, admin_token))
    return admin_error(401, "The admin API needs Authorization: Bearer <auth.admin_token>.");
  return std::nullopt;
}

bool secrets_equal(std::string_view presented, std::string_view expected) {
  const std::string a = hash_secret(presented), b = hash_secret(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string virtual_key_json(const VirtualKey& k) {
  tollway::json::ObjectWriter w;
  w.field("id", k.id)
      .field("prefix", k.display_prefix)
      .field("name", k.name)
      .field("tenant", k.tenant)
      .field("agent_group", k.agent_group)
      .field("agent", k.agent)
      .raw_field("routes", list_json(k.routes))
      .raw_field("models", list_json(k.models))
      .field("max_tokens", k.max_tokens)
      .field("expires_at", k.expires_at)
      .field("created_at", k.created_at)
      .field("revoked_at", k.revoked_at)
      .field("previous_valid_until", k.previous_valid_until)
      .raw_field("limits", k.limits_json.empty() ? "{}" : k.limits_json)
      .raw_field("metadata", k.metadata_json.empty() ? "{}" : k.metadata_json);
  return std::move(w).finish();
}

KeysApiResponse handle_keys_api(VirtualKeyStore& store, std::string_view admin_token, const KeysApiRequest& request,
                                int64_t now, const KeyUsageReport& usage) {
  if (auto refusal = refuse_unless_admin(admin_token, request.authorization)) return std::move(*refusal);

  std::string_view rest = request.path.substr(std::string_view("/admin/keys").size());
  if (rest.empty() || rest == "/") {
    if (request.method == "POST") return create_key(store, request.body, now);
    if (request.method == "GET") {
      const std::string_view tenant = query_param(request.query, "tenant");
      std::string body = "{\"keys\":[";
      bool first = true;
      for (const auto& k : store.list()) {
        if (!tenant.empty() && k.tenant != tenant) continue;
        if (!first) body += ",";
        first = false;
        body += virtual_key_json(k);
      }
      return KeysApiResponse{200, body + "]}\n", {}};
    }
    return error_response(405, "Use GET (list) or POST (create) on /admin/keys.");
  }
  if (rest[0] != '/') return error_response(404, "Unknown admin path.");
  rest.remove_prefix(1);
  const auto slash = rest.find('/');
  const std::string id(rest.substr(0, slash));
  const std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  std::string error;
  if (action.empty()) {
    if (request.method == "GET") {
      auto k = store.get(id);
      if (!k) return error_response(404, "No virtual key with this id.");
      std::string fields = virtual_key_json(*k);
      if (const std::string extra = usage ? usage(*k) : std::string(); !extra.empty()) {
        fields.pop_back();
        fields += "," + extra + "}";
      }
      return KeysApiResponse{200, fields + "\n", {}};
    }
    if (request.method == "PATCH") return change_key(store, id, request.body, now);
    if (request.method == "DELETE") {
      auto k = store.revoke(id, now, error);
      if (!k) return error_response(404, error);
      return KeysApiResponse{200, virtual_key_json(*k) + "\n", {}};
    }
    return error_response(405, "Use GET, PATCH or DELETE on /admin/keys/{id}.");
  }
  if (request.method != "POST") return error_response(405, "Use POST for key actions.");
  if (action == "revoke") {
    auto k = store.revoke(id, now, error);
    if (!k) return error_response(404, error);
    return KeysApiResponse{200, virtual_key_json(*k) + "\n", {}};
  }
  if (action == "rotate") {
    auto body = parse_body(request.body, error);
    if (!body) return error_response(400, "Invalid JSON body: " + error);
    auto grace = read_duration_seconds(*body, "grace", error);
    if (grace && *grace < 0) return error_response(400, error);
    auto rotated = store.rotate(id, grace.value_or(0), now, error);
    if (!rotated) return error_response(store.get(id) ? 409 : 404, error);
    std::string fields = virtual_key_json(rotated->first);
    fields.pop_back();
    fields += ",\"key\":";
    tollway::json::append_quoted(fields, rotated->second);
    return KeysApiResponse{200, fields + "}\n", {}};
  }
  return error_response(404, "Unknown key action (revoke, rotate).");
}

}  // namespace tollway::auth

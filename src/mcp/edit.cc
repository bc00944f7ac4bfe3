#include "mcp/edit.h"

#include <algorithm>

#include "core/json.h"

namespace tollway::mcp {
namespace {

struct Splice {
  std::size_t begin, end;
  std::string text;
};

std::string apply(std::string_view text, std::vector<Splice> splices) {
  std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) { return a.begin < b.begin; });
  std::string out;
  std::size_t extra = 0;
  for (const auto& s : splices) extra += s.text.size();
  out.reserve(text.size() + extra);
  std::size_t at = 0;
  for (const auto& s : splices) {
    out.append(text.substr(at, s.begin - at));
    out += s.text;
    at = s.end;
  }
  out.append(text.substr(at));
  return out;
}

std::string_view raw(std::string_view text, const Json& v) { return text.substr(v.begin(), v.end() - v.begin()); }

// "traceparent":"…"[,"tracestate":"…"]
std::string meta_members(const TraceMeta& meta) {
  std::string out = "\"traceparent\":";
  json::append_quoted(out, meta.traceparent);
  if (!meta.tracestate.empty()) {
    out += ",\"tracestate\":";
    json::append_quoted(out, meta.tracestate);
  }
  return out;
}

}  // namespace

std::string with_trace_meta(std::string_view text, const Envelope& envelope, const std::vector<TraceMeta>& metas) {
  std::vector<Splice> splices;
  for (std::size_t i = 0; i < envelope.messages.size() && i < metas.size(); ++i) {
    const Message& m = envelope.messages[i];
    const TraceMeta& meta = metas[i];
    if (meta.traceparent.empty()) continue;
    if (m.kind != Message::Kind::Request && m.kind != Message::Kind::Notification) continue;
    const std::string members = meta_members(meta);
    if (m.params == nullptr) {  // the message object has "jsonrpc" at least: append after its last member
      splices.push_back({m.value->end() - 1, m.value->end() - 1, ",\"params\":{\"_meta\":{" + members + "}}"});
      continue;
    }
    const Json* existing = m.params->find("_meta");
    if (existing == nullptr) {
      if (m.params->members().empty())
        splices.push_back({m.params->begin(), m.params->end(), "{\"_meta\":{" + members + "}}"});
      else
        splices.push_back({m.params->begin() + 1, m.params->begin() + 1, "\"_meta\":{" + members + "},"});
      continue;
    }
    std::string rebuilt = "{";
    for (const auto& [key, value] : existing->members()) {
      if (key == "traceparent" || key == "tracestate") continue;
      json::append_quoted(rebuilt, key);
      rebuilt += ':';
      rebuilt += raw(text, value);
      rebuilt += ',';
    }
    rebuilt += members;
    rebuilt += '}';
    splices.push_back({existing->begin(), existing->end(), std::move(rebuilt)});
  }
  if (splices.empty()) return std::string(text);
  return apply(text, std::move(splices));
}

bool filter_list_result(std::string_view text, const Message& result, const ListShape& shape,
                        const std::function<bool(std::string_view)>& keep, std::string& out) {
  const Json* list = result.result != nullptr ? result.result->find(shape.array) : nullptr;
  if (list == nullptr || !list->is_array()) return false;
  std::string kept = "[";
  for (const Json& item : list->items()) {
    const auto name = item.string_member(shape.key);
    if (!name || !keep(*name)) continue;
    if (kept.size() > 1) kept += ',';
    kept += raw(text, item);
  }
  kept += ']';
  out = apply(text, {{list->begin(), list->end(), std::move(kept)}});
  return true;
}

bool list_items(std::string_view text, const Message& result, const ListShape& shape, std::string_view prefix,
                std::vector<std::string>& items, std::string& next_cursor) {
  const Json* list = result.result != nullptr ? result.result->find(shape.array) : nullptr;
  if (list == nullptr || !list->is_array()) return false;
  for (const Json& item : list->items()) {
    const Json* key = item.is_object() ? item.find(shape.key) : nullptr;
    if (key == nullptr || !key->is_string()) continue;
    std::string renamed(prefix);
    renamed += key->as_string();
    std::string quoted;
    json::append_quoted(quoted, renamed);
    const std::string_view whole = raw(text, item);
    std::string edited(whole.substr(0, key->begin() - item.begin()));
    edited += quoted;
    edited += whole.substr(key->end() - item.begin());
    items.push_back(std::move(edited));
  }
  const auto cursor = result.result->string_member("nextCursor");
  next_cursor = cursor ? std::string(*cursor) : std::string();
  return true;
}

std::string with_param_string(std::string_view text, const Message& message, std::string_view key,
                              std::string_view value) {
  const Json* member = message.params->find(key);
  std::string quoted;
  json::append_quoted(quoted, value);
  if (member == nullptr) {
    if (value.empty()) return std::string(text);
    const std::string added = "\"" + std::string(key) + "\":" + quoted;
    if (message.params->members().empty())
      return apply(text, {{message.params->begin(), message.params->end(), "{" + added + "}"}});
    return apply(text, {{message.params->begin() + 1, message.params->begin() + 1, added + ","}});
  }
  return apply(text, {{member->begin(), member->end(), quoted}});
}

std::string error_response(std::string_view id, int code, std::string_view message, std::string_view data_json) {
  std::string out = "{\"jsonrpc\":\"2.0\",\"id\":";
  out += id.empty() ? std::string_view("null") : id;
  out += ",\"error\":{\"code\":";
  out += std::to_string(code);
  out += ",\"message\":";
  json::append_quoted(out, message);
  if (!data_json.empty()) {
    out += ",\"data\":";
    out += data_json;
  }
  out += "}}";
  return out;
}

}  // namespace tollway::mcp

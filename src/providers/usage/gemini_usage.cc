#include "providers/usage/gemini_usage.h"

#include <simdjson.h>

namespace tollway::providers {
namespace od = simdjson::ondemand;
namespace {

struct Metadata {
  std::optional<uint64_t> prompt, candidates, cached, thoughts, tool_use_prompt;
};

bool read_count(od::value v, std::optional<uint64_t>& out) {
  uint64_t n = 0;
  if (v.get_uint64().get(n)) return false;
  out = n;
  return true;
}

bool read_metadata(od::value v, Metadata& m) {
  od::object o;
  if (v.get_object().get(o)) return false;
  for (auto f : o) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return false;
    od::value fv;
    if (f.value().get(fv)) return false;
    bool ok = true;
    if (k == "promptTokenCount") ok = read_count(fv, m.prompt);
    else if (k == "candidatesTokenCount") ok = read_count(fv, m.candidates);
    else if (k == "cachedContentTokenCount") ok = read_count(fv, m.cached);
    else if (k == "thoughtsTokenCount") ok = read_count(fv, m.thoughts);
    else if (k == "toolUsePromptTokenCount") ok = read_count(fv, m.tool_use_prompt);
    if (!ok) return false;
  }
  return true;
}

bool any_finish_reason(od::value candidates) {
  od::array a;
  if (candidates.get_array().get(a)) return false;
  bool finished = false;
  for (auto item : a) {
    od::object c;
    if (item.get_object().get(c)) return finished;
    for (auto f : c) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return finished;
      if (k == "finishReason") finished = true;
    }
  }
  return finished;
}

void read_error(od::value v, GeminiChunk& out) {
  out.error = true;
  od::object e;
  if (!v.get_object().get(e)) {
    for (auto f : e) {
      std::string_view k, s;
      if (f.unescaped_key().get(k)) break;
      if (k == "status" && !f.value().get_string().get(s)) out.error_status = std::string(s);
    }
  }
  if (out.error_status.empty()) out.error_status = "error";
}

void read_object(od::object o, GeminiChunk& out) {
  Metadata m;
  bool have_metadata = false;
  for (auto f : o) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return;
    od::value fv;
    if (f.value().get(fv)) return;
    if (k == "usageMetadata") {
      have_metadata = read_metadata(fv, m);
      if (!have_metadata) return;
    } else if (k == "candidates") {
      out.finished |= any_finish_reason(fv);
    } else if (k == "promptFeedback") {
      od::object feedback;
      if (fv.get_object().get(feedback)) continue;
      for (auto pf : feedback) {
        std::string_view pk;
        if (!pf.unescaped_key().get(pk) && pk == "blockReason") out.finished = true;
      }
    } else if (k == "error") {
      read_error(fv, out);
    }
  }
  if (!have_metadata || !m.prompt) return;
  TokenCounts c;
  c.input_tokens = *m.prompt + m.tool_use_prompt.value_or(0);
  c.cached_input_tokens = m.cached.value_or(0);
  c.reasoning_tokens = m.thoughts.value_or(0);
  c.output_tokens = m.candidates.value_or(0) + c.reasoning_tokens;
  out.usage = c;
}

}  // namespace

GeminiChunk read_gemini_chunk(std::string_view json) {
  GeminiChunk out;
  const simdjson::padded_string padded(json);
  thread_local od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return out;
  od::json_type type;
  if (doc.type().get(type)) return out;
  if (type == od::json_type::object) {
    od::object o;
    if (!doc.get_object().get(o)) read_object(o, out);
  } else if (type == od::json_type::array) {
    // streamGenerateContent without alt=sse: a JSON array of responses; usage is cumulative, the last counts.
    od::array a;
    if (doc.get_array().get(a)) return out;
    for (auto item : a) {
      od::object o;
      if (item.get_object().get(o)) return out;
      GeminiChunk element;
      read_object(o, element);
      if (element.usage) out.usage = element.usage;
      out.finished |= element.finished;
      if (element.error) {
        out.error = true;
        out.error_status = element.error_status;
      }
    }
  }
  return out;
}

UsageShape gemini_usage_shape(std::string_view path) {
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (path.ends_with(":generateContent") || path.ends_with(":streamGenerateContent")) return UsageShape::GeminiGenerate;
  return UsageShape::None;
}

}  // namespace tollway::providers

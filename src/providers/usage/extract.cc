#include "providers/usage/extract.h"

#include "providers/usage/gemini_usage.h"

#include <simdjson.h>

#include <cstring>

namespace tollway::providers {

namespace od = simdjson::ondemand;

UsageShape usage_shape_for(bool anthropic_api, std::string_view path) {
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  auto ends_with = [&](std::string_view s) {
    return path.size() >= s.size() && path.substr(path.size() - s.size()) == s;
  };
  if (anthropic_api) return ends_with("/messages") ? UsageShape::AnthropicMessages : UsageShape::None;
  if (ends_with("/chat/completions")) return UsageShape::OpenAIChat;
  if (ends_with("/responses")) return UsageShape::OpenAIResponses;
  if (ends_with("/embeddings")) return UsageShape::OpenAIEmbeddings;
  return UsageShape::None;
}

namespace {

using UsageFields = ReportedUsage;

bool read_count(od::value v, std::optional<uint64_t>& out) {
  bool is_null = false;
  if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) return true;
  uint64_t n = 0;
  if (v.get_uint64().get(n)) return false;
  out = n;
  return true;
}

bool read_details(od::value v, std::string_view wanted, std::optional<uint64_t>& out) {
  bool is_null = false;
  if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) return true;
  od::object o;
  if (v.get_object().get(o)) return false;
  for (auto f : o) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return false;
    if (k == wanted) {
      if (!read_count(f.value(), out)) return false;
    } else if (f.value().error()) {
      return false;
    }
  }
  return true;
}

bool read_usage_object(od::value v, UsageFields& u) {
  od::object o;
  if (v.get_object().get(o)) return false;
  for (auto f : o) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return false;
    bool ok = true;
    if (k == "prompt_tokens" || k == "input_tokens")
      ok = read_count(f.value(), u.input);
    else if (k == "completion_tokens" || k == "output_tokens")
      ok = read_count(f.value(), u.output);
    else if (k == "prompt_tokens_details" || k == "input_tokens_details")
      ok = read_details(f.value(), "cached_tokens", u.cached);
    else if (k == "completion_tokens_details" || k == "output_tokens_details")
      ok = read_details(f.value(), "reasoning_tokens", u.reasoning);
    else if (k == "cache_creation_input_tokens")
      ok = read_count(f.value(), u.cache_creation);
    else if (k == "cache_read_input_tokens")
      ok = read_count(f.value(), u.cache_read);
    else if (f.value().error())
      ok = false;
    if (!ok) return false;
  }
  return true;
}

// Merges `u` into the provider-reported fields kept so far.
void merge(UsageFields& into, const UsageFields& u) {
  if (u.input) into.input = u.input;
  if (u.output) into.output = u.output;
  if (u.cached) into.cached = u.cached;
  if (u.cache_creation) into.cache_creation = u.cache_creation;
  if (u.cache_read) into.cache_read = u.cache_read;
  if (u.reasoning) into.reasoning = u.reasoning;
}

TokenCounts normalise(const UsageFields& u, bool anthropic) {
  TokenCounts c;
  c.output_tokens = u.output.value_or(0);
  c.reasoning_tokens = u.reasoning.value_or(0);
  if (anthropic) {
    c.cached_input_tokens = u.cache_read.value_or(0);
    c.cache_creation_input_tokens = u.cache_creation.value_or(0);
    c.input_tokens = u.input.value_or(0) + c.cached_input_tokens + c.cache_creation_input_tokens;
  } else {
    c.input_tokens = u.input.value_or(0);
    c.cached_input_tokens = u.cached.value_or(0);
  }
  return c;
}

// simdjson needs SIMDJSON_PADDING readable bytes past the input: copy into a per-thread buffer.
simdjson::padded_string_view padded(std::string_view text) {
  thread_local std::string buffer;
  if (buffer.capacity() < text.size() + simdjson::SIMDJSON_PADDING)
    buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  buffer.assign(text);
  return simdjson::padded_string_view(buffer.data(), buffer.size(), buffer.capacity());
}

od::parser& thread_parser() {
  thread_local od::parser parser;
  return parser;
}

// Finds `key` at the top level of `doc` (an object) and calls `read(value)`; false when absent or malformed.
template <typename Read>
bool with_top_level(od::document& doc, std::string_view key, Read&& read) {
  od::object o;
  if (doc.get_object().get(o)) return false;
  for (auto f : o) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return false;
    if (k == key) return read(f.value());
  }
  return false;
}

// `"usage"` followed by ':' and '{' somewhere in the text: the only chunks worth parsing in a chat stream.
bool mentions_usage_object(std::string_view data) {
  std::size_t from = 0;
  while (true) {
    const void* hit = memmem(data.data() + from, data.size() - from, "\"usage\"", 7);
    if (!hit) return false;
    std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - data.data()) + 7;
    while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')) ++i;
    if (i < data.size() && data[i] == ':') {
      ++i;
      while (i < data.size() && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        ++i;
      if (i < data.size() && data[i] == '{') return true;
    }
    from = i;
  }
}

bool starts_with_error_object(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size() && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t')) ++i;
  if (i >= data.size() || data[i] != '{') return false;
  ++i;
  while (i < data.size() && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t')) ++i;
  return data.substr(i, 7) == "\"error\"";
}

}  // namespace

std::optional<TokenCounts> usage_from_response(UsageShape shape, std::string_view body) {
  if (shape == UsageShape::None) return std::nullopt;
  if (shape == UsageShape::GeminiGenerate) return read_gemini_chunk(body).usage;
  od::document doc;
  if (thread_parser().iterate(padded(body)).get(doc)) return std::nullopt;
  UsageFields u;
  const bool found = with_top_level(doc, "usage", [&](od::value v) { return read_usage_object(v, u); });
  if (!found || !u.input) return std::nullopt;
  return normalise(u, shape == UsageShape::AnthropicMessages);
}

bool StreamUsageReader::on_event(const http::SseEvent& event) {
  ++events_;
  const std::string_view data = event.data;
  switch (shape_) {
    case UsageShape::OpenAIChat: {
      if (data == "[DONE]") {
        finished_ = true;
        return false;
      }
      if (mentions_usage_object(data)) {
        od::document doc;
        if (thread_parser().iterate(padded(data)).get(doc)) return false;
        od::object o;
        if (doc.get_object().get(o)) return false;
        UsageFields u;
        bool have_usage = false;
        bool choices_empty = false;
        for (auto f : o) {
          std::string_view k;
          if (f.unescaped_key().get(k)) return false;
          if (k == "usage") {
            have_usage = read_usage_object(f.value(), u);
          } else if (k == "choices") {
            od::array a;
            if (f.value().get_array().get(a)) return false;
            bool empty = true;
            if (a.is_empty().get(empty)) return false;
            choices_empty = empty;
          }
        }
        if (have_usage && u.input) {
          counts_ = normalise(u, false);
          known_ = input_known_ = true;
          return choices_empty;
        }
        return false;
      }
      if (starts_with_error_object(data)) {
        saw_error_ = true;
        error_type_ = "error";
        return false;
      }
      count_output(data);
      return false;
    }
    case UsageShape::OpenAIResponses: {
      const std::string_view type = event.type;
      if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
        finished_ = true;
        od::document doc;
        if (thread_parser().iterate(padded(data)).get(doc)) return false;
        UsageFields u;
        const bool found = with_top_level(doc, "response", [&](od::value v) {
          od::object r;
          if (v.get_object().get(r)) return false;
          for (auto f : r) {
            std::string_view k;
            if (f.unescaped_key().get(k)) return false;
            if (k == "usage") return read_usage_object(f.value(), u);
          }
          return false;
        });
        if (found && u.input) {
          counts_ = normalise(u, false);
          known_ = input_known_ = true;
        }
        if (type == "response.failed") saw_error_ = true;
      } else if (type == "error") {
        saw_error_ = true;
        error_type_ = "error";
        finished_ = true;
      } else if (type.ends_with(".delta")) {
        count_output(data);
      }
      return false;
    }
    case UsageShape::AnthropicMessages: {
      const std::string_view type = event.type;
      if (type == "content_block_delta") {
        count_output(data);
      } else if (type == "message_start" || type == "message_delta") {
        od::document doc;
        if (thread_parser().iterate(padded(data)).get(doc)) return false;
        UsageFields u;
        bool ok = false;
        if (type == "message_start") {
          ok = with_top_level(doc, "message", [&](od::value v) {
            od::object m;
            if (v.get_object().get(m)) return false;
            for (auto f : m) {
              std::string_view k;
              if (f.unescaped_key().get(k)) return false;
              if (k == "usage") return read_usage_object(f.value(), u);
            }
            return false;
          });
        } else {
          ok = with_top_level(doc, "usage", [&](od::value v) { return read_usage_object(v, u); });
        }
        if (!ok) return false;
        merge(anthropic_reported_, u);
        counts_ = normalise(anthropic_reported_, true);
        if (type == "message_start")
          input_known_ = true;
        else
          known_ = true;
      } else if (type == "message_stop") {
        finished_ = true;
      } else if (type == "error") {
        saw_error_ = true;
        od::document doc;
        if (!thread_parser().iterate(padded(data)).get(doc)) {
          with_top_level(doc, "error", [&](od::value v) {
            od::object e;
            if (v.get_object().get(e)) return false;
            for (auto f : e) {
              std::string_view k;
              if (f.unescaped_key().get(k)) return false;
              std::string_view t;
              if (k == "type" && !f.value().get_string().get(t)) error_type_ = std::string(t);
            }
            return true;
          });
        }
        if (error_type_.empty()) error_type_ = "error";
      }  // ping, content_block_start/stop and unknown event types carry no usage
      return false;
    }
    case UsageShape::GeminiGenerate: {
      // Every chunk may carry usageMetadata (cumulative); the one with a finishReason is final.
      const GeminiChunk chunk = read_gemini_chunk(data);
      if (chunk.usage) {
        counts_ = *chunk.usage;
        input_known_ = true;
      }
      if (chunk.finished) {
        finished_ = true;
        known_ = known_ || chunk.usage.has_value();
      }
      if (chunk.error) {
        saw_error_ = true;
        if (error_type_.empty()) error_type_ = chunk.error_status;
      }
      if (!known_) count_output(data);
      return false;
    }
    case UsageShape::OpenAIEmbeddings:
    case UsageShape::None:
      return false;
  }
  return false;
}

namespace {

bool is_text_key(std::string_view k) {
  return k == "content" || k == "text" || k == "arguments" || k == "partial_json" || k == "thinking" ||
         k == "delta" || k == "refusal" || k == "name";
}

void collect_text(od::value v, std::string& out, int depth) {
  if (depth > 16) return;
  od::json_type t;
  if (v.type().get(t)) return;
  if (t == od::json_type::object) {
    od::object o;
    if (v.get_object().get(o)) return;
    for (auto f : o) {
      std::string_view k;
      if (f.unescaped_key().get(k)) return;
      od::value fv;
      if (f.value().get(fv)) return;
      od::json_type ft;
      if (fv.type().get(ft)) return;
      std::string_view s;
      if (ft == od::json_type::string) {
        if (is_text_key(k) && !fv.get_string().get(s)) out.append(s);
      } else if (ft == od::json_type::object || ft == od::json_type::array) {
        collect_text(fv, out, depth + 1);
      }
    }
  } else if (t == od::json_type::array) {
    od::array a;
    if (v.get_array().get(a)) return;
    for (auto item : a) {
      od::value iv;
      if (item.get(iv)) return;
      collect_text(iv, out, depth + 1);
    }
  }
}

}  // namespace

void StreamUsageReader::count_output(std::string_view event_data) {
  od::document doc;
  if (thread_parser().iterate(padded(event_data)).get(doc)) return;
  od::value root;
  if (doc.get_value().get(root)) return;
  thread_local std::string text;  // this event's text, handed on at once
  text.clear();
  collect_text(root, text, 0);
  if (text.empty()) return;
  output_text_bytes_ += text.size();
  if (!output_) {
    if (deferred_text_.size() + text.size() <= kDeferredTextBytes) {
      deferred_text_ += text;
      return;
    }
    output_.emplace(tokens::Encoding::embedded(output_encoding_));
    output_->append(deferred_text_);
    std::string().swap(deferred_text_);
  }
  output_->append(text);
}

uint64_t StreamUsageReader::output_tokens() const {
  if (output_) return output_->tokens();
  tokens::RunningTokenCount count(tokens::Encoding::embedded(output_encoding_));
  count.append(deferred_text_);
  return count.tokens();
}

}  // namespace tollway::providers

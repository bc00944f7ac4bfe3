#include "tokens/estimator.h"

#include <simdjson.h>

#include <cmath>

#include "tokens/image_size.h"

namespace tollway::tokens {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
// A value that may be missing or of another type: errors propagate through lookups instead of crashing.
struct Node : simdjson::simdjson_result<element> {
  Node(const simdjson::simdjson_result<element>& r) : simdjson::simdjson_result<element>(r) {}  // NOLINT
  Node(element e) : simdjson::simdjson_result<element>(std::move(e)) {}                         // NOLINT
  Node(simdjson::error_code e) : simdjson::simdjson_result<element>(e) {}                       // NOLINT
};

// Per OpenAI's cookbook "How to count tokens with tiktoken": every message costs 3 tokens of framing, a "name"
// field one more, and every reply is primed with 3 (<|start|>assistant<|message|>).
constexpr std::size_t kTokensPerMessage = 3;
constexpr std::size_t kTokensPerName = 1;
constexpr std::size_t kReplyPriming = 3;

class ParsedBody {
 public:
  explicit ParsedBody(std::string_view json) {
    thread_local simdjson::dom::parser parser;
    auto result = parser.parse(json.data(), json.size());
    if (result.error()) {
      error_ = std::string("request body is not valid JSON: ") + simdjson::error_message(result.error());
      return;
    }
    root_ = result.value_unsafe();
    if (!root_.is_object()) error_ = "request body is not a JSON object";
  }
  const std::string& error() const { return error_; }
  element root() const { return root_; }

 private:
  element root_;
  std::string error_;
};

std::string_view string_or_empty(Node e) {
  std::string_view s;
  return e.get(s) == simdjson::SUCCESS ? s : std::string_view{};
}

Node field(Node obj, std::string_view key) {
  if (!obj.is_object()) return Node(simdjson::INCORRECT_TYPE);
  return Node(obj.at_key(key));
}

bool has_field(Node obj, std::string_view key) { return field(obj, key).error() == simdjson::SUCCESS; }

struct Counter {
  const Encoding& enc;
  std::size_t count(std::string_view text) const { return enc.count(text, SpecialPolicy::Ordinary); }
  std::size_t count(Node e) const {
    if (e.error()) return 0;
    if (e.is_string()) return count(string_or_empty(e));
    return count(simdjson::minify(e.value_unsafe()));
  }
};

std::size_t image_tokens_openai(Node part, std::string_view model) {
  const Node url_field = field(part, "image_url");
  std::string_view url, detail;
  if (url_field.is_string()) url = string_or_empty(url_field);  // Responses: "image_url": "..."
  else {
    url = string_or_empty(field(url_field, "url"));
    detail = string_or_empty(field(url_field, "detail"));
  }
  if (detail.empty()) detail = string_or_empty(field(part, "detail"));
  const bool mini = model.find("gpt-4o-mini") != std::string_view::npos;
  const std::size_t base = mini ? 2833 : 85, tile = mini ? 5667 : 170;
  const auto size = data_url_image_size(url);
  return openai_image_tokens(detail == "low", size ? long(size->width) : -1, size ? long(size->height) : -1, base, tile);
}

// OpenAI function definitions, counted as the cookbook's rule for tools (constants for gpt-4o-class models;
// gpt-4/3.5 start each function at 10 instead of 7).
std::size_t function_definitions(const Counter& c, Node tools, bool responses_shape, bool o200k) {
  array list;
  if (tools.get(list) != simdjson::SUCCESS || list.size() == 0) return 0;
  const long func_init = o200k ? 7 : 10, prop_init = 3, prop_key = 3, enum_init = -3, enum_item = 3, func_end = 12;
  long total = 0;
  for (element tool : list) {
    Node fn = responses_shape ? Node(tool) : field(tool, "function");
    if (!has_field(fn, "name")) fn = Node(tool);  // legacy "functions" entries are the function itself
    if (!has_field(fn, "name")) continue;   // non-function tools (web search, ...) have no text we can count
    total += func_init;
    std::string_view desc = string_or_empty(field(fn, "description"));
    if (!desc.empty() && desc.back() == '.') desc.remove_suffix(1);
    total += long(c.count(std::string(string_or_empty(field(fn, "name"))) + ":" + std::string(desc)));
    object props;
    if (field(field(fn, "parameters"), "properties").get(props) != simdjson::SUCCESS || props.size() == 0) continue;
    total += prop_init;
    for (auto [key, prop] : props) {
      total += prop_key;
      array values;
      if (field(prop, "enum").get(values) == simdjson::SUCCESS) {
        total += enum_init;
        for (element v : values) total += enum_item + long(c.count(Node(v)));
      }
      std::string_view pdesc = string_or_empty(field(prop, "description"));
      if (!pdesc.empty() && pdesc.back() == '.') pdesc.remove_suffix(1);
      std::string line(key);
      line += ':';
      line += string_or_empty(field(prop, "type"));
      line += ':';
      line += pdesc;
      total += long(c.count(line));
    }
  }
  total += func_end;
  return total > 0 ? std::size_t(total) : 0;
}

// Content of a chat message or Responses item: a string, or an array of parts.
std::size_t content_tokens(const Counter& c, Node content, std::string_view model) {
  if (content.is_string()) return c.count(string_or_empty(content));
  array parts;
  if (content.get(parts) != simdjson::SUCCESS) return 0;
  std::size_t n = 0;
  for (element part : parts) {
    const std::string_view type = string_or_empty(field(part, "type"));
    if (type == "image_url" || type == "input_image") n += image_tokens_openai(part, model);
    else if (has_field(part, "text")) n += c.count(string_or_empty(field(part, "text")));
    else if (has_field(part, "refusal")) n += c.count(string_or_empty(field(part, "refusal")));
  }
  return n;
}

std::size_t tool_calls_tokens(const Counter& c, Node calls) {
  array list;
  if (calls.get(list) != simdjson::SUCCESS) return 0;
  std::size_t n = 0;
  for (element call : list) {
    const Node fn = field(call, "function");
    n += kTokensPerMessage + c.count(string_or_empty(field(fn, "name"))) + c.count(string_or_empty(field(fn, "arguments")));
  }
  return n;
}

PromptEstimate failure(std::string why) {
  PromptEstimate e;
  e.error = std::move(why);
  return e;
}

template <class Body>
PromptEstimate with_encoding(EncodingName name, Body&& body) {
  PromptEstimate e;
  e.encoding = name;
  e.tokens = body(Counter{Encoding::embedded(name)});
  e.ok = true;
  return e;
}

}  // namespace

std::size_t openai_image_tokens(bool low_detail, long width, long height, std::size_t base, std::size_t tile) {
  if (low_detail) return base;
  if (width <= 0 || height <= 0) return base + 8 * tile;
  double w = double(width), h = double(height);
  if (w > 2048 || h > 2048) {
    const double s = 2048.0 / std::max(w, h);
    w = std::floor(w * s);
    h = std::floor(h * s);
  }
  if (std::min(w, h) > 768) {
    const double s = 768.0 / std::min(w, h);
    w = std::floor(w * s);
    h = std::floor(h * s);
  }
  const auto tiles = std::size_t(std::ceil(w / 512.0) * std::ceil(h / 512.0));
  return base + tiles * tile;
}

std::size_t anthropic_image_tokens(long width, long height) {
  if (width <= 0 || height <= 0) return 1600;
  double w = double(width), h = double(height);
  if (std::max(w, h) > 1568) {
    const double s = 1568.0 / std::max(w, h);
    w *= s;
    h *= s;
  }
  return std::min<std::size_t>(1600, std::size_t(std::ceil(w * h / 750.0)));
}

PromptEstimator::PromptEstimator(ModelEncodingTable models, EncodingName anthropic_encoding)
    : models_(std::move(models)), anthropic_encoding_(anthropic_encoding) {}

PromptEstimate PromptEstimator::estimate_openai_chat(std::string_view body_json) const {
  const ParsedBody body(body_json);
  if (!body.error().empty()) return failure(body.error());
  const std::string_view model = string_or_empty(field(body.root(), "model"));
  array messages;
  if (field(body.root(), "messages").get(messages) != simdjson::SUCCESS) return failure("\"messages\" must be an array");
  const EncodingName name = models_.encoding_for(model);
  return with_encoding(name, [&](const Counter& c) {
    std::size_t n = kReplyPriming;
    for (element msg : messages) {
      object fields;
      if (msg.get(fields) != simdjson::SUCCESS) continue;
      n += kTokensPerMessage;
      for (auto [key, value] : fields) {
        if (key == "content") n += content_tokens(c, value, model);
        else if (key == "tool_calls") n += tool_calls_tokens(c, value);
        else if (key == "function_call") n += c.count(string_or_empty(field(value, "name"))) + c.count(string_or_empty(field(value, "arguments")));
        else if (value.is_string()) {
          n += c.count(string_or_empty(value));
          if (key == "name") n += kTokensPerName;
        }
      }
    }
    const bool o200k = name == EncodingName::O200kBase;
    n += function_definitions(c, field(body.root(), "tools"), false, o200k);
    n += function_definitions(c, field(body.root(), "functions"), false, o200k);
    return n;
  });
}

PromptEstimate PromptEstimator::estimate_openai_responses(std::string_view body_json) const {
  const ParsedBody body(body_json);
  if (!body.error().empty()) return failure(body.error());
  const std::string_view model = string_or_empty(field(body.root(), "model"));
  const Node input = field(body.root(), "input");
  if (!input.is_string() && !input.is_array()) return failure("\"input\" must be a string or an array");
  const EncodingName name = models_.encoding_for(model);
  return with_encoding(name, [&](const Counter& c) {
    std::size_t n = kReplyPriming;
    const std::string_view instructions = string_or_empty(field(body.root(), "instructions"));
    if (!instructions.empty()) n += kTokensPerMessage + c.count("developer") + c.count(instructions);
    if (input.is_string()) {
      n += kTokensPerMessage + c.count("user") + c.count(string_or_empty(input));
    } else {
      array items;
      if (input.get(items) != simdjson::SUCCESS) return n;
      for (element item : items) {
        const std::string_view type = string_or_empty(field(item, "type"));
        n += kTokensPerMessage;
        if (type == "function_call") {
          n += c.count(string_or_empty(field(item, "name"))) + c.count(string_or_empty(field(item, "arguments")));
        } else if (type == "function_call_output") {
          const Node out = field(item, "output");
          n += out.is_string() ? c.count(string_or_empty(out)) : content_tokens(c, out, model);
        } else if (has_field(item, "role")) {
          n += c.count(string_or_empty(field(item, "role"))) + content_tokens(c, field(item, "content"), model);
        }
      }
    }
    n += function_definitions(c, field(body.root(), "tools"), true, name == EncodingName::O200kBase);
    return n;
  });
}

PromptEstimate PromptEstimator::estimate_anthropic_messages(std::string_view body_json) const {
  const ParsedBody body(body_json);
  if (!body.error().empty()) return failure(body.error());
  array messages;
  if (field(body.root(), "messages").get(messages) != simdjson::SUCCESS) return failure("\"messages\" must be an array");
  // Calibrated on Anthropic's documented count_tokens examples (docs/tokens.md): 1 token of conversation
  // framing, 3 per system prompt and per message; with tools, Anthropic's documented tool-use system prompt.
  constexpr std::size_t kFraming = 1, kPerBlock = 3, kToolSystemAuto = 346, kToolSystemForced = 313;
  return with_encoding(anthropic_encoding_, [&](const Counter& c) {
    std::size_t n = kFraming;
    auto blocks = [&](Node content) {
      std::size_t t = 0;
      if (content.is_string()) return c.count(string_or_empty(content));
      array list;
      if (content.get(list) != simdjson::SUCCESS) return t;
      for (element b : list) {
        const std::string_view type = string_or_empty(field(b, "type"));
        if (type == "text") t += c.count(string_or_empty(field(b, "text")));
        else if (type == "thinking") t += c.count(string_or_empty(field(b, "thinking")));
        else if (type == "tool_use") t += c.count(string_or_empty(field(b, "name"))) + c.count(field(b, "input"));
        else if (type == "tool_result") {
          const Node inner = field(b, "content");
          t += inner.is_string() ? c.count(string_or_empty(inner)) : 0;
          array parts;
          if (inner.get(parts) == simdjson::SUCCESS)
            for (element p : parts) t += c.count(string_or_empty(field(p, "text")));
        } else if (type == "image") {
          const Node src = field(b, "source");
          std::optional<ImageSize> size;
          if (string_or_empty(field(src, "type")) == "base64")
            size = data_url_image_size(std::string("data:image/x;base64,") + std::string(string_or_empty(field(src, "data"))));
          t += anthropic_image_tokens(size ? long(size->width) : -1, size ? long(size->height) : -1);
        }
      }
      return t;
    };
    const Node system = field(body.root(), "system");
    if (system.is_string() || system.is_array()) n += kPerBlock + blocks(system);
    for (element msg : messages) n += kPerBlock + blocks(field(msg, "content"));
    array tools;
    if (field(body.root(), "tools").get(tools) == simdjson::SUCCESS && tools.size() > 0) {
      const std::string_view choice = string_or_empty(field(field(body.root(), "tool_choice"), "type"));
      n += (choice == "any" || choice == "tool") ? kToolSystemForced : kToolSystemAuto;
      for (element t : tools)
        n += c.count(string_or_empty(field(t, "name"))) + c.count(string_or_empty(field(t, "description"))) +
             c.count(field(t, "input_schema"));
    }
    return n;
  });
}

}  // namespace tollway::tokens

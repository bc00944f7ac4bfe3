#include "providers/translation/anthropic_to_openai.h"

#include "core/json.h"
#include "providers/translation/error_translation.h"

namespace tollway::providers::translation {
namespace {

constexpr std::string_view kTarget = "OpenAI chat completions API";

using Items = std::vector<std::string>;  // JSON texts

std::string join(const Items& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  out += ']';
  return out;
}

bool fail(TranslationError& error, bool unsupported, std::string message) {
  error = {unsupported, std::move(message)};
  return false;
}

bool refuse_block(std::string_view type, const std::string& where, TranslationError& error) {
  return fail(error, true, "`" + where + "`: content block type \"" + std::string(type) +
                               "\" cannot be translated to the " + std::string(kTarget));
}

// A text block {type: "text", text, cache_control?, citations?}; cache_control is a caching hint OpenAI has no
// switch for (it caches long prompts by itself).
bool read_text_block(dom::object o, const std::string& where, std::string_view& text, TranslationError& error) {
  static constexpr std::string_view kKnown[] = {"type", "text", "cache_control", "citations"};
  Members m;
  if (!m.read(o, kKnown, where, kTarget, error)) return false;
  if (m.has("citations")) return fail(error, true, "`" + where + ".citations` cannot be translated to the " + std::string(kTarget));
  if (!m.has("text") || !string_of(*m.get("text"), text)) return fail(error, false, "`" + where + ".text` must be a string");
  return true;
}

// Content that may only hold text: a string, or text blocks; joined into one string.
bool read_text_only(dom::element content, const std::string& where, std::string& out, TranslationError& error) {
  std::string_view s;
  if (string_of(content, s)) {
    out = s;
    return true;
  }
  dom::array blocks;
  if (content.get_array().get(blocks)) return fail(error, false, "`" + where + "` must be a string or an array");
  std::size_t i = 0;
  for (auto block : blocks) {
    const std::string block_where = index_path(where, i++);
    dom::object o;
    std::string_view type;
    if (block.get_object().get(o) || o["type"].get_string().get(type))
      return fail(error, false, "`" + block_where + "` must be an object with a type");
    if (type != "text") return refuse_block(type, block_where, error);
    std::string_view text;
    if (!read_text_block(o, block_where, text, error)) return false;
    if (!out.empty()) out += "\n\n";
    out += text;
  }
  return true;
}

bool image_part(dom::object o, const std::string& where, std::string& out, TranslationError& error) {
  static constexpr std::string_view kKnown[] = {"type", "source", "cache_control"};
  Members m;
  if (!m.read(o, kKnown, where, kTarget, error)) return false;
  dom::object source;
  std::string_view type;
  const std::string source_where = field_path(where, "source");
  if (!m.has("source") || m.get("source")->get_object().get(source) || source["type"].get_string().get(type))
    return fail(error, false, "`" + source_where + "` must be an object with a type");
  std::string url;
  if (type == "base64") {
    std::string_view media, data;
    if (source["media_type"].get_string().get(media) || source["data"].get_string().get(data))
      return fail(error, false, "`" + source_where + "` needs media_type and data strings");
    url = "data:" + std::string(media) + ";base64," + std::string(data);
  } else if (type == "url") {
    std::string_view u;
    if (source["url"].get_string().get(u)) return fail(error, false, "`" + source_where + ".url` must be a string");
    url = u;
  } else {
    return fail(error, true, "`" + source_where + ".type` \"" + std::string(type) + "\" cannot be translated to the " +
                                 std::string(kTarget) + " (base64 and url can)");
  }
  out = "{\"type\":\"image_url\",\"image_url\":{\"url\":";
  json::append_quoted(out, url);
  out += "}}";
  return true;
}

std::string text_part(std::string_view text) {
  std::string out = "{\"type\":\"text\",\"text\":";
  json::append_quoted(out, text);
  out += '}';
  return out;
}

// One user message: its tool_result blocks become tool messages (first, as OpenAI wants them right after the
// assistant's tool calls), the rest one user message.
bool user_message(dom::element content, const std::string& where, Items& messages, TranslationError& error) {
  std::string_view s;
  if (string_of(content, s)) {
    std::string m = "{\"role\":\"user\",\"content\":";
    json::append_quoted(m, s);
    m += '}';
    messages.push_back(std::move(m));
    return true;
  }
  dom::array blocks;
  if (content.get_array().get(blocks)) return fail(error, false, "`" + where + "` must be a string or an array");
  Items parts;
  std::string_view first_text;
  bool only_text = true;
  std::size_t i = 0;
  for (auto block : blocks) {
    const std::string block_where = index_path(where, i++);
    dom::object o;
    std::string_view type;
    if (block.get_object().get(o) || o["type"].get_string().get(type))
      return fail(error, false, "`" + block_where + "` must be an object with a type");
    if (type == "text") {
      std::string_view text;
      if (!read_text_block(o, block_where, text, error)) return false;
      if (parts.empty()) first_text = text;
      parts.push_back(text_part(text));
    } else if (type == "image") {
      std::string part;
      if (!image_part(o, block_where, part, error)) return false;
      parts.push_back(std::move(part));
      only_text = false;
    } else if (type == "tool_result") {
      // is_error has no field in a tool message; the result's text is passed as it is.
      static constexpr std::string_view kKnown[] = {"type", "tool_use_id", "content", "is_error", "cache_control"};
      Members m;
      if (!m.read(o, kKnown, block_where, kTarget, error)) return false;
      std::string_view id;
      if (!m.has("tool_use_id") || !string_of(*m.get("tool_use_id"), id))
        return fail(error, false, "`" + block_where + ".tool_use_id` must be a string");
      std::string text;
      if (auto c = m.get("content"); c && !read_text_only(*c, field_path(block_where, "content"), text, error))
        return false;
      std::string message = "{\"role\":\"tool\",\"tool_call_id\":";
      json::append_quoted(message, id);
      message += ",\"content\":";
      json::append_quoted(message, text);
      message += '}';
      messages.push_back(std::move(message));
    } else {
      return refuse_block(type, block_where, error);
    }
  }
  if (parts.empty()) return true;
  std::string message = "{\"role\":\"user\",\"content\":";
  if (only_text && parts.size() == 1) {  // one text: the plain string form
    json::append_quoted(message, first_text);
  } else {
    message += join(parts);
  }
  message += '}';
  messages.push_back(std::move(message));
  return true;
}

bool assistant_message(dom::element content, const std::string& where, Items& messages, TranslationError& error) {
  std::string text;
  Items calls;
  std::string_view s;
  if (string_of(content, s)) {
    text = s;
  } else {
    dom::array blocks;
    if (content.get_array().get(blocks)) return fail(error, false, "`" + where + "` must be a string or an array");
    std::size_t i = 0;
    for (auto block : blocks) {
      const std::string block_where = index_path(where, i++);
      dom::object o;
      std::string_view type;
      if (block.get_object().get(o) || o["type"].get_string().get(type))
        return fail(error, false, "`" + block_where + "` must be an object with a type");
      if (type == "text") {
        std::string_view t;
        if (!read_text_block(o, block_where, t, error)) return false;
        text += t;
      } else if (type == "tool_use") {
        static constexpr std::string_view kKnown[] = {"type", "id", "name", "input", "cache_control"};
        Members m;
        if (!m.read(o, kKnown, block_where, kTarget, error)) return false;
        std::string_view id, name;
        if (!m.has("id") || !string_of(*m.get("id"), id) || !m.has("name") || !string_of(*m.get("name"), name))
          return fail(error, false, "`" + block_where + "` needs id and name strings");
        const auto input = m.get("input");
        if (!input || !input->is_object()) return fail(error, false, "`" + block_where + ".input` must be an object");
        std::string call = "{\"id\":";
        json::append_quoted(call, id);
        call += ",\"type\":\"function\",\"function\":{\"name\":";
        json::append_quoted(call, name);
        call += ",\"arguments\":";
        json::append_quoted(call, json_text(*input));
        call += "}}";
        calls.push_back(std::move(call));
      } else {
        return refuse_block(type, block_where, error);
      }
    }
  }
  if (text.empty() && calls.empty()) return true;  // nothing said: no message
  std::string message = "{\"role\":\"assistant\",\"content\":";
  if (text.empty()) message += "null";
  else json::append_quoted(message, text);
  if (!calls.empty()) message += ",\"tool_calls\":" + join(calls);
  message += '}';
  messages.push_back(std::move(message));
  return true;
}

bool read_tools(dom::element tools, std::string& out, TranslationError& error) {
  dom::array list;
  if (tools.get_array().get(list)) return fail(error, false, "`tools` must be an array");
  Items items;
  std::size_t i = 0;
  for (auto tool : list) {
    const std::string where = index_path("tools", i++);
    dom::object o;
    if (tool.get_object().get(o)) return fail(error, false, "`" + where + "` must be an object");
    static constexpr std::string_view kKnown[] = {"type", "name", "description", "input_schema", "cache_control"};
    Members m;
    if (!m.read(o, kKnown, where, kTarget, error)) return false;
    std::string_view type = "custom", name, description;
    if (auto t = m.get("type"); t && (!string_of(*t, type) || type != "custom"))
      return fail(error, true, "`" + where + ".type` \"" + std::string(type) +
                                   "\": server tools cannot be translated; only client tools with an input_schema");
    if (!m.has("name") || !string_of(*m.get("name"), name)) return fail(error, false, "`" + where + ".name` must be a string");
    const auto schema = m.get("input_schema");
    if (!schema || !schema->is_object()) return fail(error, false, "`" + where + ".input_schema` must be an object");
    std::string item = "{\"type\":\"function\",\"function\":{\"name\":";
    json::append_quoted(item, name);
    if (auto d = m.get("description")) {
      if (!string_of(*d, description)) return fail(error, false, "`" + where + ".description` must be a string");
      item += ",\"description\":";
      json::append_quoted(item, description);
    }
    item += ",\"parameters\":" + json_text(*schema) + "}}";
    items.push_back(std::move(item));
  }
  out = join(items);
  return true;
}

// tool_choice -> (tool_choice, parallel_tool_calls) fields for the body, with their leading commas.
bool read_tool_choice(dom::element choice, std::string& out, TranslationError& error) {
  dom::object o;
  if (choice.get_object().get(o)) return fail(error, false, "`tool_choice` must be an object");
  static constexpr std::string_view kKnown[] = {"type", "name", "disable_parallel_tool_use"};
  Members m;
  if (!m.read(o, kKnown, "tool_choice", kTarget, error)) return false;
  std::string_view type;
  if (!m.has("type") || !string_of(*m.get("type"), type)) return fail(error, false, "`tool_choice.type` is required");
  if (type == "auto" || type == "none") {
    out = ",\"tool_choice\":\"" + std::string(type) + "\"";
  } else if (type == "any") {
    out = ",\"tool_choice\":\"required\"";
  } else if (type == "tool") {
    std::string_view name;
    if (!m.has("name") || !string_of(*m.get("name"), name)) return fail(error, false, "`tool_choice.name` must be a string");
    out = ",\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":";
    json::append_quoted(out, name);
    out += "}}";
  } else {
    return fail(error, false, "`tool_choice.type` must be auto, any, tool or none");
  }
  if (auto d = m.get("disable_parallel_tool_use")) {
    bool disable = false;
    if (!bool_of(*d, disable)) return fail(error, false, "`tool_choice.disable_parallel_tool_use` must be a boolean");
    if (disable && type != "none") out += ",\"parallel_tool_calls\":false";
  }
  return true;
}

}  // namespace

std::optional<TranslatedRequest> anthropic_to_openai_chat_request(std::string_view body, TranslationError& error) {
  dom::parser parser;
  dom::element root;
  dom::object top;
  if (!parse_json(parser, body, root) || root.get_object().get(top)) {
    error = {false, "the body is not a JSON object"};
    return std::nullopt;
  }
  // service_tier: a capacity/billing choice that changes nothing in the answer.
  static constexpr std::string_view kKnown[] = {"model",       "max_tokens", "messages", "system",   "stop_sequences",
                                                "temperature", "top_p",      "tools",    "tool_choice", "metadata",
                                                "stream",      "service_tier"};
  Members m;
  if (!m.read(top, kKnown, "", kTarget, error)) return std::nullopt;
  TranslatedRequest out;
  std::string_view model;
  if (!m.has("model") || !string_of(*m.get("model"), model)) {
    error = {false, "`model` must be a string"};
    return std::nullopt;
  }
  if (!m.has("max_tokens") || !uint_of(*m.get("max_tokens"), out.max_tokens) || out.max_tokens == 0) {
    error = {false, "`max_tokens` is required: a positive integer"};
    return std::nullopt;
  }
  Items messages;
  if (auto system = m.get("system")) {
    std::string text;
    if (!read_text_only(*system, "system", text, error)) return std::nullopt;
    std::string message = "{\"role\":\"system\",\"content\":";
    json::append_quoted(message, text);
    message += '}';
    messages.push_back(std::move(message));
  }
  dom::array list;
  if (!m.has("messages") || m.get("messages")->get_array().get(list) || list.size() == 0) {
    error = {false, "`messages` must be a non-empty array"};
    return std::nullopt;
  }
  std::size_t i = 0;
  for (auto message : list) {
    const std::string where = index_path("messages", i++);
    dom::object o;
    if (message.get_object().get(o)) {
      error = {false, "`" + where + "` must be an object"};
      return std::nullopt;
    }
    static constexpr std::string_view kMessageKnown[] = {"role", "content"};
    Members mm;
    if (!mm.read(o, kMessageKnown, where, kTarget, error)) return std::nullopt;
    std::string_view role;
    const auto content = mm.get("content");
    if (!mm.has("role") || !string_of(*mm.get("role"), role) || !content) {
      error = {false, "`" + where + "` needs a role and content"};
      return std::nullopt;
    }
    const std::string content_where = field_path(where, "content");
    if (role == "user") {
      if (!user_message(*content, content_where, messages, error)) return std::nullopt;
    } else if (role == "assistant") {
      if (!assistant_message(*content, content_where, messages, error)) return std::nullopt;
    } else {
      error = {false, "`" + where + ".role` must be user or assistant"};
      return std::nullopt;
    }
  }

  std::string& b = out.body;
  b.reserve(body.size() + 256);
  b = "{\"model\":";
  json::append_quoted(b, model);
  b += ",\"messages\":" + join(messages);
  b += ",\"max_completion_tokens\":" + std::to_string(out.max_tokens);
  if (auto stop = m.get("stop_sequences")) {
    dom::array seqs;
    Items items;
    if (stop->get_array().get(seqs)) {
      error = {false, "`stop_sequences` must be an array of strings"};
      return std::nullopt;
    }
    for (auto s : seqs) {
      std::string_view v;
      if (!string_of(s, v)) {
        error = {false, "`stop_sequences` must be an array of strings"};
        return std::nullopt;
      }
      items.push_back(json::quoted(v));
    }
    if (!items.empty()) b += ",\"stop\":" + join(items);
  }
  for (const char* key : {"temperature", "top_p"}) {
    if (auto v = m.get(key)) {
      if (!is_number(*v)) {
        error = {false, "`" + std::string(key) + "` must be a number"};
        return std::nullopt;
      }
      b += ",\"" + std::string(key) + "\":" + json_text(*v);
    }
  }
  if (auto tools = m.get("tools")) {
    std::string t;
    if (!read_tools(*tools, t, error)) return std::nullopt;
    b += ",\"tools\":" + t;
  }
  if (auto choice = m.get("tool_choice")) {
    std::string c;
    if (!read_tool_choice(*choice, c, error)) return std::nullopt;
    b += c;
  }
  if (auto metadata = m.get("metadata")) {
    dom::object o;
    if (metadata->get_object().get(o)) {
      error = {false, "`metadata` must be an object"};
      return std::nullopt;
    }
    static constexpr std::string_view kMetaKnown[] = {"user_id"};
    Members mm;
    if (!mm.read(o, kMetaKnown, "metadata", kTarget, error)) return std::nullopt;
    if (auto user = mm.get("user_id")) {
      std::string_view u;
      if (!string_of(*user, u)) {
        error = {false, "`metadata.user_id` must be a string"};
        return std::nullopt;
      }
      b += ",\"user\":";
      json::append_quoted(b, u);
    }
  }
  if (auto stream = m.get("stream"); stream && !bool_of(*stream, out.stream)) {
    error = {false, "`stream` must be a boolean"};
    return std::nullopt;
  }
  if (out.stream) {
    b += ",\"stream\":true,\"stream_options\":{\"include_usage\":true}";
    out.include_usage = true;
  }
  b += '}';
  return out;
}

std::string_view anthropic_stop_reason(std::string_view finish_reason) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
  if (finish_reason == "content_filter") return "refusal";
  return "end_turn";  // stop: OpenAI does not say whether a stop sequence matched
}

namespace {

struct OpenAIUsage {
  uint64_t prompt = 0, completion = 0, cached = 0;
  void read(dom::element usage) {
    uint64_t v = 0;
    if (usage["prompt_tokens"].get_uint64().get(v) == simdjson::SUCCESS) prompt = v;
    if (usage["completion_tokens"].get_uint64().get(v) == simdjson::SUCCESS) completion = v;
    if (usage["prompt_tokens_details"]["cached_tokens"].get_uint64().get(v) == simdjson::SUCCESS) cached = v;
  }
};

// Anthropic's usage: input_tokens excludes cache reads (OpenAI's cached_tokens are part of prompt_tokens).
std::string anthropic_usage(uint64_t prompt, uint64_t completion, uint64_t cached) {
  const uint64_t uncached = prompt >= cached ? prompt - cached : 0;
  return "{\"input_tokens\":" + std::to_string(uncached) +
         ",\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":" + std::to_string(cached) +
         ",\"output_tokens\":" + std::to_string(completion) + "}";
}

}  // namespace

std::optional<std::string> openai_completion_to_anthropic_message(std::string_view body) {
  dom::parser parser;
  dom::element root, message;
  dom::array choices;
  std::string_view id, model, finish = "stop";
  if (!parse_json(parser, body, root) || root["choices"].get_array().get(choices) || choices.size() == 0 ||
      root["id"].get_string().get(id))
    return std::nullopt;
  model = string_or(root["model"], model);
  dom::element choice = choices.at(0).value_unsafe();
  if (choice["message"].get(message)) return std::nullopt;
  finish = string_or(choice["finish_reason"], finish);
  Items content;
  std::string_view text, refusal;
  if (message["content"].get_string().get(text) == simdjson::SUCCESS && !text.empty()) {
    std::string block = "{\"type\":\"text\",\"text\":";
    json::append_quoted(block, text);
    content.push_back(block + "}");
  } else if (message["refusal"].get_string().get(refusal) == simdjson::SUCCESS && !refusal.empty()) {
    std::string block = "{\"type\":\"text\",\"text\":";
    json::append_quoted(block, refusal);
    content.push_back(block + "}");
  }
  if (dom::array calls; message["tool_calls"].get_array().get(calls) == simdjson::SUCCESS) {
    for (auto call : calls) {
      std::string_view call_id, name, arguments;
      if (call["id"].get_string().get(call_id) || call["function"]["name"].get_string().get(name)) return std::nullopt;
      arguments = string_or(call["function"]["arguments"], arguments);
      std::string input = "{}";
      if (arguments.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        dom::parser args_parser;
        dom::element e;
        if (!parse_json(args_parser, arguments, e) || !e.is_object()) return std::nullopt;
        input = json_text(e);
      }
      std::string block = "{\"type\":\"tool_use\",\"id\":";
      json::append_quoted(block, call_id);
      block += ",\"name\":";
      json::append_quoted(block, name);
      block += ",\"input\":" + input + "}";
      content.push_back(std::move(block));
    }
  }
  OpenAIUsage usage;
  if (dom::element u; root["usage"].get(u) == simdjson::SUCCESS && u.is_object()) usage.read(u);
  std::string out = "{\"id\":";
  json::append_quoted(out, id);
  out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  json::append_quoted(out, model);
  out += ",\"content\":" + join(content);
  out += ",\"stop_reason\":\"" + std::string(anthropic_stop_reason(finish)) + "\",\"stop_sequence\":null";
  out += ",\"usage\":" + anthropic_usage(usage.prompt, usage.completion, usage.cached) + "}";
  return out;
}

// ---- stream ----------------------------------------------------------------------------------------------

namespace {

void sse_event(std::string_view type, std::string_view data, std::string& out) {
  out += "event: ";
  out += type;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
}

}  // namespace

void OpenAIToAnthropicStream::start(std::string& out) {
  started_ = true;
  std::string data = "{\"type\":\"message_start\",\"message\":{\"id\":";
  json::append_quoted(data, id_);
  data += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
  json::append_quoted(data, model_);
  // OpenAI reports usage only at the end: message_delta carries it (input included, as Anthropic allows).
  data += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
          "\"usage\":{\"input_tokens\":0,\"output_tokens\":0}}}";
  sse_event("message_start", data, out);
}

void OpenAIToAnthropicStream::close_block(std::string& out) {
  if (open_block_ < 0) return;
  sse_event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + std::to_string(open_block_) + "}", out);
  open_block_ = -1;
}

void OpenAIToAnthropicStream::end_message(std::string& out) {
  close_block(out);
  std::string data = "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" +
                     std::string(anthropic_stop_reason(finish_reason_)) + "\",\"stop_sequence\":null},\"usage\":" +
                     anthropic_usage(prompt_tokens_, completion_tokens_, cached_tokens_) + "}";
  sse_event("message_delta", data, out);
  sse_event("message_stop", "{\"type\":\"message_stop\"}", out);
  done_ = true;
}

void OpenAIToAnthropicStream::error_event(std::string_view type, std::string_view message, std::string& out) {
  std::string data = "{\"type\":\"error\",\"error\":{\"type\":";
  json::append_quoted(data, type);
  data += ",\"message\":";
  json::append_quoted(data, message);
  data += "}}";
  sse_event("error", data, out);
  done_ = true;
}

void OpenAIToAnthropicStream::on_event(const http::SseEvent& event, std::string& out) {
  if (done_) return;
  if (event.data == "[DONE]") {
    if (!started_) start(out);
    end_message(out);
    return;
  }
  dom::element chunk;
  if (!parse_json(parser_, event.data, chunk) || !chunk.is_object()) {
    error_event("api_error", "The provider sent a stream event that is not valid JSON.", out);
    return;
  }
  if (dom::element e; chunk["error"].get(e) == simdjson::SUCCESS) {
    const ProviderError pe = read_provider_error(event.data);
    error_event("api_error", pe.message.empty() ? "The provider reported an error mid-stream." : pe.message, out);
    return;
  }
  if (!started_) {
    std::string_view id, model;
    id = string_or(chunk["id"], id);
    model = string_or(chunk["model"], model);
    id_ = id;
    model_ = model;
    start(out);
  }
  if (dom::element usage; chunk["usage"].get(usage) == simdjson::SUCCESS && usage.is_object()) {
    OpenAIUsage u;
    u.read(usage);
    prompt_tokens_ = u.prompt;
    completion_tokens_ = u.completion;
    cached_tokens_ = u.cached;
  }
  dom::array choices;
  if (chunk["choices"].get_array().get(choices) || choices.size() == 0) return;
  dom::element choice = choices.at(0).value_unsafe();
  dom::element delta;
  if (choice["delta"].get(delta) == simdjson::SUCCESS && delta.is_object()) {
    std::string_view text;
    if ((delta["content"].get_string().get(text) == simdjson::SUCCESS ||
         delta["refusal"].get_string().get(text) == simdjson::SUCCESS) &&
        !text.empty()) {
      if (open_block_ < 0 || !open_is_text_) {
        close_block(out);
        open_block_ = blocks_++;
        open_is_text_ = true;
        sse_event("content_block_start", "{\"type\":\"content_block_start\",\"index\":" + std::to_string(open_block_) +
                                             ",\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
                  out);
      }
      std::string data = "{\"type\":\"content_block_delta\",\"index\":" + std::to_string(open_block_) +
                         ",\"delta\":{\"type\":\"text_delta\",\"text\":";
      json::append_quoted(data, text);
      data += "}}";
      sse_event("content_block_delta", data, out);
    }
    if (dom::array calls; delta["tool_calls"].get_array().get(calls) == simdjson::SUCCESS) {
      for (auto call : calls) {
        uint64_t index = 0;
        if (call["index"].get_uint64().get(index) || index > 4096) continue;
        if (block_of_tool_.size() <= index) block_of_tool_.resize(index + 1, -1);
        if (block_of_tool_[index] < 0) {  // the first delta of a call carries its id and name
          std::string_view id, name;
          id = string_or(call["id"], id);
          name = string_or(call["function"]["name"], name);
          close_block(out);
          open_block_ = blocks_++;
          open_is_text_ = false;
          block_of_tool_[index] = open_block_;
          std::string data = "{\"type\":\"content_block_start\",\"index\":" + std::to_string(open_block_) +
                             ",\"content_block\":{\"type\":\"tool_use\",\"id\":";
          json::append_quoted(data, id);
          data += ",\"name\":";
          json::append_quoted(data, name);
          data += ",\"input\":{}}}";
          sse_event("content_block_start", data, out);
        }
        std::string_view arguments;
        if (call["function"]["arguments"].get_string().get(arguments) == simdjson::SUCCESS && !arguments.empty()) {
          std::string data = "{\"type\":\"content_block_delta\",\"index\":" + std::to_string(block_of_tool_[index]) +
                             ",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":";
          json::append_quoted(data, arguments);
          data += "}}";
          sse_event("content_block_delta", data, out);
        }
      }
    }
  }
  if (std::string_view finish; choice["finish_reason"].get_string().get(finish) == simdjson::SUCCESS) {
    finish_reason_ = finish;
    close_block(out);
  }
}

void OpenAIToAnthropicStream::finish(std::string& out) {
  if (done_) return;
  if (!finish_reason_.empty()) {  // complete, only the [DONE] line was left out
    end_message(out);
    return;
  }
  error_event("api_error", "The provider's stream ended before the answer was complete.", out);
}

}  // namespace tollway::providers::translation

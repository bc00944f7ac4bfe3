#include "providers/translation/openai_to_anthropic.h"

#include "core/json.h"
#include "providers/translation/error_translation.h"

namespace tollway::providers::translation {
namespace {

constexpr std::string_view kTarget = "Anthropic Messages API";

using Blocks = std::vector<std::string>;  // Anthropic content blocks, each as JSON text

struct Turn {
  std::string_view role;  // "user" or "assistant"
  Blocks blocks;
};

std::string join(const Blocks& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  out += ']';
  return out;
}

std::string text_block(std::string_view text) {
  std::string out = "{\"type\":\"text\",\"text\":";
  json::append_quoted(out, text);
  out += '}';
  return out;
}

bool fail(TranslationError& error, bool unsupported, std::string message) {
  error = {unsupported, std::move(message)};
  return false;
}

// A text content part {type: "text", text}.
bool read_text_part(dom::element part, const std::string& where, std::string_view& text, TranslationError& error) {
  dom::object o;
  if (part.get_object().get(o)) return fail(error, false, "`" + where + "` must be an object");
  static constexpr std::string_view kKnown[] = {"type", "text"};
  Members m;
  if (!m.read(o, kKnown, where, kTarget, error)) return false;
  std::string_view type;
  if (!m.has("type") || !string_of(*m.get("type"), type)) return fail(error, false, "`" + where + ".type` is required");
  if (type != "text")
    return fail(error, true, "`" + where + "`: content part type \"" + std::string(type) +
                                 "\" is not supported here when translating to the " + std::string(kTarget));
  if (!m.has("text") || !string_of(*m.get("text"), text))
    return fail(error, false, "`" + where + ".text` must be a string");
  return true;
}

// Content that may only hold text: a string, or an array of text parts.
bool read_text_content(dom::element content, const std::string& where, Blocks& out, TranslationError& error) {
  std::string_view s;
  if (string_of(content, s)) {
    out.push_back(text_block(s));
    return true;
  }
  dom::array parts;
  if (content.get_array().get(parts)) return fail(error, false, "`" + where + "` must be a string or an array");
  std::size_t i = 0;
  for (auto part : parts) {
    std::string_view text;
    if (!read_text_part(part, index_path(where, i++), text, error)) return false;
    out.push_back(text_block(text));
  }
  return true;
}

bool image_block(dom::element part, const std::string& where, Blocks& out, TranslationError& error) {
  dom::object o;
  if (part.get_object().get(o)) return fail(error, false, "`" + where + "` must be an object");
  static constexpr std::string_view kKnown[] = {"type", "image_url"};
  Members m;
  if (!m.read(o, kKnown, where, kTarget, error)) return false;
  dom::object image;
  if (!m.has("image_url") || m.get("image_url")->get_object().get(image))
    return fail(error, false, "`" + where + ".image_url` must be an object with a url");
  static constexpr std::string_view kImageKnown[] = {"url", "detail"};  // detail: a resolution hint, no equivalent
  Members im;
  const std::string image_where = field_path(where, "image_url");
  if (!im.read(image, kImageKnown, image_where, kTarget, error)) return false;
  std::string_view url;
  if (!im.has("url") || !string_of(*im.get("url"), url))
    return fail(error, false, "`" + image_where + ".url` must be a string");
  std::string block = "{\"type\":\"image\",\"source\":";
  if (url.starts_with("data:")) {
    const auto comma = url.find(',');
    const std::string_view meta = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
    if (comma == std::string_view::npos || !meta.ends_with(";base64"))
      return fail(error, true, "`" + image_where + ".url`: only base64 data URLs can be translated");
    const std::string_view media = meta.substr(0, meta.size() - 7);
    if (media != "image/jpeg" && media != "image/png" && media != "image/gif" && media != "image/webp")
      return fail(error, true, "`" + image_where + ".url`: media type \"" + std::string(media) +
                                   "\" is not accepted by the " + std::string(kTarget) +
                                   " (image/jpeg, image/png, image/gif, image/webp)");
    block += "{\"type\":\"base64\",\"media_type\":";
    json::append_quoted(block, media);
    block += ",\"data\":";
    json::append_quoted(block, url.substr(comma + 1));
    block += "}}";
  } else if (url.starts_with("https://") || url.starts_with("http://")) {
    block += "{\"type\":\"url\",\"url\":";
    json::append_quoted(block, url);
    block += "}}";
  } else {
    return fail(error, false, "`" + image_where + ".url` must be an http(s) URL or a base64 data URL");
  }
  out.push_back(std::move(block));
  return true;
}

// User content: a string, or text and image parts.
bool read_user_content(dom::element content, const std::string& where, Blocks& out, TranslationError& error) {
  std::string_view s;
  if (string_of(content, s)) {
    out.push_back(text_block(s));
    return true;
  }
  dom::array parts;
  if (content.get_array().get(parts)) return fail(error, false, "`" + where + "` must be a string or an array");
  std::size_t i = 0;
  for (auto part : parts) {
    const std::string part_where = index_path(where, i++);
    dom::object o;
    if (part.get_object().get(o)) return fail(error, false, "`" + part_where + "` must be an object");
    std::string_view type;
    if (o["type"].get_string().get(type)) return fail(error, false, "`" + part_where + ".type` is required");
    if (type == "image_url") {
      if (!image_block(part, part_where, out, error)) return false;
      continue;
    }
    std::string_view text;
    if (!read_text_part(part, part_where, text, error)) return false;
    out.push_back(text_block(text));
  }
  return true;
}

// Arguments of an assistant tool call: a JSON object as text ("" counts as {}).
bool tool_input(std::string_view arguments, const std::string& where, std::string& out, TranslationError& error) {
  if (arguments.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    out = "{}";
    return true;
  }
  dom::parser parser;
  dom::element e;
  if (!parse_json(parser, arguments, e) || !e.is_object())
    return fail(error, false, "`" + where + "` must be a JSON object in a string");
  out = json_text(e);
  return true;
}

bool assistant_blocks(const Members& m, const std::string& where, Blocks& out, TranslationError& error) {
  if (auto content = m.get("content")) {
    std::string_view s;
    if (string_of(*content, s)) {
      if (!s.empty()) out.push_back(text_block(s));
    } else {
      dom::array parts;
      if (content->get_array().get(parts))
        return fail(error, false, "`" + field_path(where, "content") + "` must be a string, an array or null");
      std::size_t i = 0;
      for (auto part : parts) {
        const std::string part_where = index_path(field_path(where, "content"), i++);
        dom::object o;
        std::string_view type;
        if (part.get_object().get(o) || o["type"].get_string().get(type))
          return fail(error, false, "`" + part_where + "` must be an object with a type");
        std::string_view text;
        if (type == "refusal") {  // an earlier refusal, replayed as what the assistant said
          static constexpr std::string_view kKnown[] = {"type", "refusal"};
          Members pm;
          if (!pm.read(o, kKnown, part_where, kTarget, error)) return false;
          if (!pm.has("refusal") || !string_of(*pm.get("refusal"), text))
            return fail(error, false, "`" + part_where + ".refusal` must be a string");
        } else if (!read_text_part(part, part_where, text, error)) {
          return false;
        }
        if (!text.empty()) out.push_back(text_block(text));
      }
    }
  }
  if (auto refusal = m.get("refusal")) {
    std::string_view s;
    if (!string_of(*refusal, s)) return fail(error, false, "`" + field_path(where, "refusal") + "` must be a string");
    if (!s.empty() && out.empty()) out.push_back(text_block(s));
  }
  for (const char* key : {"audio", "function_call"}) {
    if (m.has(key))
      return fail(error, true, "`" + field_path(where, key) + "` is not supported when the request is translated to the " +
                                   std::string(kTarget));
  }
  if (auto calls = m.get("tool_calls")) {
    dom::array list;
    const std::string calls_where = field_path(where, "tool_calls");
    if (calls->get_array().get(list)) return fail(error, false, "`" + calls_where + "` must be an array");
    std::size_t i = 0;
    for (auto call : list) {
      const std::string call_where = index_path(calls_where, i++);
      dom::object o;
      if (call.get_object().get(o)) return fail(error, false, "`" + call_where + "` must be an object");
      static constexpr std::string_view kKnown[] = {"id", "type", "function"};
      Members cm;
      if (!cm.read(o, kKnown, call_where, kTarget, error)) return false;
      std::string_view id, type = "function", name, arguments;
      if (!cm.has("id") || !string_of(*cm.get("id"), id)) return fail(error, false, "`" + call_where + ".id` must be a string");
      if (cm.has("type") && (!string_of(*cm.get("type"), type) || type != "function"))
        return fail(error, true, "`" + call_where + ".type`: only function tool calls can be translated");
      dom::object fn;
      if (!cm.has("function") || cm.get("function")->get_object().get(fn))
        return fail(error, false, "`" + call_where + ".function` must be an object");
      static constexpr std::string_view kFnKnown[] = {"name", "arguments", "parsed_arguments"};
      Members fm;
      const std::string fn_where = field_path(call_where, "function");
      if (!fm.read(fn, kFnKnown, fn_where, kTarget, error)) return false;
      if (!fm.has("name") || !string_of(*fm.get("name"), name))
        return fail(error, false, "`" + fn_where + ".name` must be a string");
      if (fm.has("arguments") && !string_of(*fm.get("arguments"), arguments))
        return fail(error, false, "`" + fn_where + ".arguments` must be a string");
      std::string input;
      if (!tool_input(arguments, fn_where + ".arguments", input, error)) return false;
      std::string block = "{\"type\":\"tool_use\",\"id\":";
      json::append_quoted(block, id);
      block += ",\"name\":";
      json::append_quoted(block, name);
      block += ",\"input\":" + input + "}";
      out.push_back(std::move(block));
    }
  }
  return true;
}

void add_turn(std::vector<Turn>& turns, std::string_view role, Blocks blocks) {
  if (blocks.empty()) return;
  if (!turns.empty() && turns.back().role == role) {  // consecutive turns of one role become one
    for (auto& b : blocks) turns.back().blocks.push_back(std::move(b));
    return;
  }
  turns.push_back({role, std::move(blocks)});
}

bool read_messages(dom::element messages, Blocks& system, std::vector<Turn>& turns, TranslationError& error) {
  dom::array list;
  if (messages.get_array().get(list) || list.size() == 0)
    return fail(error, false, "`messages` must be a non-empty array");
  std::size_t i = 0;
  for (auto message : list) {
    const std::string where = index_path("messages", i++);
    dom::object o;
    if (message.get_object().get(o)) return fail(error, false, "`" + where + "` must be an object");
    // parsed (message) and parsed_arguments (tool call): what the openai SDK's helpers derive from content and
    // arguments and leave on a message that is sent back; the text they were parsed from is translated.
    static constexpr std::string_view kKnown[] = {"role",    "content",     "name",  "tool_calls",    "tool_call_id",
                                                  "refusal", "annotations", "audio", "function_call", "parsed"};
    Members m;
    if (!m.read(o, kKnown, where, kTarget, error)) return false;
    std::string_view role;
    if (!m.has("role") || !string_of(*m.get("role"), role)) return fail(error, false, "`" + where + ".role` is required");
    const auto content = m.get("content");
    if (role == "system" || role == "developer") {
      if (!content) return fail(error, false, "`" + where + ".content` is required");
      if (!read_text_content(*content, field_path(where, "content"), system, error)) return false;
    } else if (role == "user") {
      if (!content) return fail(error, false, "`" + where + ".content` is required");
      Blocks blocks;
      if (!read_user_content(*content, field_path(where, "content"), blocks, error)) return false;
      add_turn(turns, "user", std::move(blocks));
    } else if (role == "assistant") {
      Blocks blocks;
      if (!assistant_blocks(m, where, blocks, error)) return false;
      add_turn(turns, "assistant", std::move(blocks));
    } else if (role == "tool") {
      std::string_view call_id;
      if (!m.has("tool_call_id") || !string_of(*m.get("tool_call_id"), call_id))
        return fail(error, false, "`" + where + ".tool_call_id` must be a string");
      if (!content) return fail(error, false, "`" + where + ".content` is required");
      std::string block = "{\"type\":\"tool_result\",\"tool_use_id\":";
      json::append_quoted(block, call_id);
      block += ",\"content\":";
      if (std::string_view s; string_of(*content, s)) {
        json::append_quoted(block, s);  // a string result stays a string ("" is valid there, an empty block is not)
      } else {
        Blocks result;
        if (!read_text_content(*content, field_path(where, "content"), result, error)) return false;
        block += join(result);
      }
      block += '}';
      add_turn(turns, "user", Blocks{std::move(block)});
    } else {
      return fail(error, role == "function", "`" + where + ".role` \"" + std::string(role) +
                                                 "\" cannot be translated (system, developer, user, assistant, tool)");
    }
    if (role != "tool" && m.has("tool_call_id"))
      return fail(error, false, "`" + where + ".tool_call_id` is only valid on tool messages");
    if (role != "assistant") {
      for (const char* key : {"tool_calls", "refusal", "audio", "function_call"})
        if (m.has(key)) return fail(error, false, "`" + field_path(where, key) + "` is only valid on assistant messages");
    }
  }
  if (turns.empty()) return fail(error, false, "`messages` holds no user or assistant message");
  return true;
}

bool read_tools(dom::element tools, std::string& out, TranslationError& error) {
  dom::array list;
  if (tools.get_array().get(list)) return fail(error, false, "`tools` must be an array");
  Blocks items;
  std::size_t i = 0;
  for (auto tool : list) {
    const std::string where = index_path("tools", i++);
    dom::object o;
    if (tool.get_object().get(o)) return fail(error, false, "`" + where + "` must be an object");
    std::string_view type;
    if (o["type"].get_string().get(type) || type != "function")
      return fail(error, true, "`" + where + ".type`: only function tools can be translated");
    static constexpr std::string_view kKnown[] = {"type", "function"};
    Members m;
    if (!m.read(o, kKnown, where, kTarget, error)) return false;
    dom::object fn;
    const std::string fn_where = field_path(where, "function");
    if (!m.has("function") || m.get("function")->get_object().get(fn))
      return fail(error, false, "`" + fn_where + "` must be an object");
    // strict: OpenAI's structured-output switch for arguments; Anthropic validates against input_schema anyway.
    static constexpr std::string_view kFnKnown[] = {"name", "description", "parameters", "strict"};
    Members fm;
    if (!fm.read(fn, kFnKnown, fn_where, kTarget, error)) return false;
    std::string_view name, description;
    if (!fm.has("name") || !string_of(*fm.get("name"), name))
      return fail(error, false, "`" + fn_where + ".name` must be a string");
    std::string item = "{\"name\":";
    json::append_quoted(item, name);
    if (auto d = fm.get("description")) {
      if (!string_of(*d, description)) return fail(error, false, "`" + fn_where + ".description` must be a string");
      item += ",\"description\":";
      json::append_quoted(item, description);
    }
    item += ",\"input_schema\":";
    if (auto p = fm.get("parameters")) {
      if (!p->is_object()) return fail(error, false, "`" + fn_where + ".parameters` must be an object");
      item += json_text(*p);
    } else {
      item += "{\"type\":\"object\",\"properties\":{}}";
    }
    item += '}';
    items.push_back(std::move(item));
  }
  out = join(items);
  return true;
}

bool read_tool_choice(const Members& m, std::string& out, TranslationError& error) {
  bool parallel = true;
  if (auto p = m.get("parallel_tool_calls"); p && !bool_of(*p, parallel))
    return fail(error, false, "`parallel_tool_calls` must be a boolean");
  const auto choice = m.get("tool_choice");
  std::string_view mode = "auto";
  std::string name;
  if (choice) {
    std::string_view s;
    if (string_of(*choice, s)) {
      if (s != "none" && s != "auto" && s != "required")
        return fail(error, false, "`tool_choice` must be none, auto, required or a function");
      mode = s == "required" ? "any" : s;
    } else {
      dom::object o;
      if (choice->get_object().get(o)) return fail(error, false, "`tool_choice` must be a string or an object");
      static constexpr std::string_view kKnown[] = {"type", "function"};
      Members cm;
      if (!cm.read(o, kKnown, "tool_choice", kTarget, error)) return false;
      std::string_view type, fn_name;
      dom::object fn;
      if (!cm.has("type") || !string_of(*cm.get("type"), type) || type != "function")
        return fail(error, true, "`tool_choice.type`: only a function tool choice can be translated");
      if (!cm.has("function") || cm.get("function")->get_object().get(fn) || fn["name"].get_string().get(fn_name))
        return fail(error, false, "`tool_choice.function.name` must be a string");
      mode = "tool";
      name = fn_name;
    }
  } else if (parallel) {
    return true;  // the provider's default (auto) applies
  }
  out = "{\"type\":";
  json::append_quoted(out, mode);
  if (mode == "tool") {
    out += ",\"name\":";
    json::append_quoted(out, name);
  }
  if (!parallel && mode != "none") out += ",\"disable_parallel_tool_use\":true";
  out += '}';
  return true;
}

// Fields whose default value is harmless and whose other values have no Anthropic equivalent.
bool check_defaults_only(const Members& m, TranslationError& error) {
  if (auto n = m.get("n")) {
    uint64_t v = 0;
    if (!uint_of(*n, v) || v != 1)
      return fail(error, true, "`n`: the " + std::string(kTarget) + " returns one choice; only n = 1 can be translated");
  }
  if (auto lp = m.get("logprobs")) {
    bool v = false;
    if (!bool_of(*lp, v) || v)
      return fail(error, true, "`logprobs` is not available from the " + std::string(kTarget));
  }
  if (m.has("top_logprobs"))
    return fail(error, true, "`top_logprobs` is not available from the " + std::string(kTarget));
  for (const char* key : {"presence_penalty", "frequency_penalty"}) {
    if (auto p = m.get(key)) {
      double v = 1;
      if (p->get_double().get(v) || v != 0)
        return fail(error, true, "`" + std::string(key) + "` has no equivalent in the " + std::string(kTarget) +
                                     " (only 0 can be translated)");
    }
  }
  if (auto rf = m.get("response_format")) {
    std::string_view type;
    dom::object o;
    if (rf->get_object().get(o) || o["type"].get_string().get(type) || type != "text")
      return fail(error, true, "`response_format` (JSON mode / structured outputs) cannot be translated to the " +
                                   std::string(kTarget) + "; only {\"type\":\"text\"}");
  }
  if (auto lb = m.get("logit_bias")) {
    dom::object o;
    if (lb->get_object().get(o) || o.size() != 0)
      return fail(error, true, "`logit_bias` has no equivalent in the " + std::string(kTarget));
  }
  return true;
}

}  // namespace

std::optional<TranslatedRequest> openai_chat_to_anthropic_request(std::string_view body, TranslationError& error) {
  dom::parser parser;
  dom::element root;
  dom::object top;
  if (!parse_json(parser, body, root) || root.get_object().get(top)) {
    error = {false, "the body is not a JSON object"};
    return std::nullopt;
  }
  // Mapped, checked for defaults, or ignored (store, metadata, service_tier, seed: stored-completion and
  // billing options and a best-effort determinism hint that change nothing in the answer's meaning).
  static constexpr std::string_view kKnown[] = {
      "model",     "messages",       "max_tokens",       "max_completion_tokens", "temperature",       "top_p",
      "stop",      "stream",         "stream_options",   "tools",                 "tool_choice",       "parallel_tool_calls",
      "user",      "n",              "logprobs",         "top_logprobs",          "presence_penalty",  "frequency_penalty",
      "response_format", "logit_bias", "store",          "metadata",              "service_tier",      "seed"};
  Members m;
  if (!m.read(top, kKnown, "", kTarget, error)) return std::nullopt;
  if (!check_defaults_only(m, error)) return std::nullopt;

  TranslatedRequest out;
  std::string_view model;
  if (!m.has("model") || !string_of(*m.get("model"), model)) {
    error = {false, "`model` must be a string"};
    return std::nullopt;
  }
  out.max_tokens = kDefaultAnthropicMaxTokens;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {  // the latter wins when both are set
    if (auto v = m.get(key)) {
      if (!uint_of(*v, out.max_tokens) || out.max_tokens == 0) {
        error = {false, "`" + std::string(key) + "` must be a positive integer"};
        return std::nullopt;
      }
    }
  }
  Blocks system;
  std::vector<Turn> turns;
  if (!m.has("messages")) {
    error = {false, "`messages` is required"};
    return std::nullopt;
  }
  if (!read_messages(*m.get("messages"), system, turns, error)) return std::nullopt;

  std::string& b = out.body;
  b.reserve(body.size() + 256);
  b = "{\"model\":";
  json::append_quoted(b, model);
  b += ",\"max_tokens\":" + std::to_string(out.max_tokens);
  if (!system.empty()) b += ",\"system\":" + join(system);
  b += ",\"messages\":[";
  for (std::size_t i = 0; i < turns.size(); ++i) {
    if (i) b += ',';
    b += "{\"role\":\"" + std::string(turns[i].role) + "\",\"content\":" + join(turns[i].blocks) + "}";
  }
  b += ']';
  if (auto stop = m.get("stop")) {
    std::string_view s;
    Blocks sequences;
    if (string_of(*stop, s)) {
      sequences.push_back(json::quoted(s));
    } else {
      dom::array list;
      if (stop->get_array().get(list)) {
        error = {false, "`stop` must be a string or an array of strings"};
        return std::nullopt;
      }
      for (auto item : list) {
        if (!string_of(item, s)) {
          error = {false, "`stop` must be a string or an array of strings"};
          return std::nullopt;
        }
        sequences.push_back(json::quoted(s));
      }
    }
    if (!sequences.empty()) b += ",\"stop_sequences\":" + join(sequences);
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
    std::string list;
    if (!read_tools(*tools, list, error)) return std::nullopt;
    b += ",\"tools\":" + list;
  }
  std::string choice;
  if (!read_tool_choice(m, choice, error)) return std::nullopt;
  if (!choice.empty()) b += ",\"tool_choice\":" + choice;
  if (auto user = m.get("user")) {
    std::string_view s;
    if (!string_of(*user, s)) {
      error = {false, "`user` must be a string"};
      return std::nullopt;
    }
    b += ",\"metadata\":{\"user_id\":";
    json::append_quoted(b, s);
    b += '}';
  }
  if (auto stream = m.get("stream")) {
    if (!bool_of(*stream, out.stream)) {
      error = {false, "`stream` must be a boolean"};
      return std::nullopt;
    }
  }
  if (auto options = m.get("stream_options")) {
    dom::object o;
    if (options->get_object().get(o)) {
      error = {false, "`stream_options` must be an object"};
      return std::nullopt;
    }
    static constexpr std::string_view kOptions[] = {"include_usage", "include_obfuscation"};
    Members om;
    if (!om.read(o, kOptions, "stream_options", kTarget, error)) return std::nullopt;
    if (auto iu = om.get("include_usage"); iu && !bool_of(*iu, out.include_usage)) {
      error = {false, "`stream_options.include_usage` must be a boolean"};
      return std::nullopt;
    }
  }
  if (out.stream) b += ",\"stream\":true";
  b += '}';
  return out;
}

std::string_view openai_finish_reason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn
}

namespace {

struct AnthropicUsage {
  uint64_t input = 0, output = 0, cache_read = 0, cache_creation = 0;
  void read(dom::element usage) {
    uint64_t v = 0;
    if (usage["input_tokens"].get_uint64().get(v) == simdjson::SUCCESS) input = v;
    if (usage["output_tokens"].get_uint64().get(v) == simdjson::SUCCESS) output = v;
    if (usage["cache_read_input_tokens"].get_uint64().get(v) == simdjson::SUCCESS) cache_read = v;
    if (usage["cache_creation_input_tokens"].get_uint64().get(v) == simdjson::SUCCESS) cache_creation = v;
  }
};

// OpenAI's usage object: prompt_tokens counts every prompt token (Anthropic's input + cache read + creation).
std::string openai_usage(uint64_t input, uint64_t output, uint64_t cache_read, uint64_t cache_creation) {
  const uint64_t prompt = input + cache_read + cache_creation;
  return "{\"prompt_tokens\":" + std::to_string(prompt) + ",\"completion_tokens\":" + std::to_string(output) +
         ",\"total_tokens\":" + std::to_string(prompt + output) +
         ",\"prompt_tokens_details\":{\"cached_tokens\":" + std::to_string(cache_read) + "}}";
}

}  // namespace

std::optional<std::string> anthropic_message_to_openai_completion(std::string_view body, int64_t created) {
  dom::parser parser;
  dom::element root;
  std::string_view type, id, model, stop_reason = "end_turn";
  dom::array content;
  if (!parse_json(parser, body, root) || root["type"].get_string().get(type) || type != "message" ||
      root["id"].get_string().get(id) || root["content"].get_array().get(content))
    return std::nullopt;
  model = string_or(root["model"], model);
  stop_reason = string_or(root["stop_reason"], stop_reason);
  std::string text;
  Blocks calls;
  for (auto block : content) {
    std::string_view block_type;
    if (block["type"].get_string().get(block_type)) return std::nullopt;
    if (block_type == "text") {
      std::string_view t;
      if (block["text"].get_string().get(t)) return std::nullopt;
      text += t;
    } else if (block_type == "tool_use") {
      std::string_view call_id, name;
      dom::element input;
      if (block["id"].get_string().get(call_id) || block["name"].get_string().get(name) || block["input"].get(input))
        return std::nullopt;
      std::string call = "{\"id\":";
      json::append_quoted(call, call_id);
      call += ",\"type\":\"function\",\"function\":{\"name\":";
      json::append_quoted(call, name);
      call += ",\"arguments\":";
      json::append_quoted(call, json_text(input));
      call += "}}";
      calls.push_back(std::move(call));
    }
    // thinking / redacted_thinking blocks only come back when thinking was requested, which a translated
    // request never does; other block types belong to server tools a translated request cannot name.
  }
  AnthropicUsage usage;
  if (dom::element u; root["usage"].get(u) == simdjson::SUCCESS) usage.read(u);
  std::string out = "{\"id\":";
  json::append_quoted(out, id);
  out += ",\"object\":\"chat.completion\",\"created\":" + std::to_string(created) + ",\"model\":";
  json::append_quoted(out, model);
  out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
  if (text.empty() && !calls.empty()) out += "null";
  else json::append_quoted(out, text);
  out += ",\"refusal\":null";
  if (!calls.empty()) out += ",\"tool_calls\":" + join(calls);
  out += "},\"logprobs\":null,\"finish_reason\":\"" + std::string(openai_finish_reason(stop_reason)) + "\"}]";
  out += ",\"usage\":" + openai_usage(usage.input, usage.output, usage.cache_read, usage.cache_creation) + "}";
  return out;
}

// ---- stream ----------------------------------------------------------------------------------------------

void AnthropicToOpenAIStream::chunk(std::string_view delta_json, std::string_view finish_reason,
                                    std::string& out) const {
  out += "data: {\"id\":";
  json::append_quoted(out, id_);
  out += ",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(created_) + ",\"model\":";
  json::append_quoted(out, model_);
  out += ",\"choices\":[{\"index\":0,\"delta\":";
  out += delta_json;
  out += ",\"logprobs\":null,\"finish_reason\":";
  if (finish_reason.empty()) out += "null";
  else json::append_quoted(out, finish_reason);
  out += "}]";
  if (include_usage_) out += ",\"usage\":null";  // as OpenAI writes it when include_usage is on
  out += "}\n\n";
}

void AnthropicToOpenAIStream::error_event(std::string_view type, std::string_view message, std::string& out) {
  out += "data: {\"error\":{\"message\":";
  json::append_quoted(out, message);
  out += ",\"type\":";
  json::append_quoted(out, type);
  out += ",\"param\":null,\"code\":";
  json::append_quoted(out, type);
  out += "}}\n\n";
  done_ = true;
}

void AnthropicToOpenAIStream::on_event(const http::SseEvent& event, std::string& out) {
  if (done_) return;
  dom::element data;
  std::string_view type;
  if (!parse_json(parser_, event.data, data) || data["type"].get_string().get(type)) {
    error_event("api_error", "The provider sent a stream event that is not valid JSON.", out);
    return;
  }
  if (type == "ping") return;
  if (type == "error") {
    const ProviderError e = read_provider_error(event.data);
    error_event(e.type.empty() ? "api_error" : e.type, e.message, out);
    return;
  }
  if (type == "message_start") {
    dom::element message;
    if (data["message"].get(message)) return;
    std::string_view id, model;
    id = string_or(message["id"], id);
    model = string_or(message["model"], model);
    id_ = id;
    model_ = model;
    AnthropicUsage u;
    if (dom::element usage; message["usage"].get(usage) == simdjson::SUCCESS) u.read(usage);
    input_tokens_ = u.input;
    output_tokens_ = u.output;
    cache_read_ = u.cache_read;
    cache_creation_ = u.cache_creation;
    started_ = true;
    chunk("{\"role\":\"assistant\",\"content\":\"\"}", {}, out);
    return;
  }
  if (!started_) return;
  if (type == "content_block_start") {
    uint64_t index = 0;
    dom::element block;
    std::string_view block_type;
    if (data["index"].get_uint64().get(index) || data["content_block"].get(block) ||
        block["type"].get_string().get(block_type) || index > 4096)
      return;
    if (tool_index_of_block_.size() <= index) tool_index_of_block_.resize(index + 1, -1);
    if (block_type == "tool_use") {
      std::string_view id, name;
      id = string_or(block["id"], id);
      name = string_or(block["name"], name);
      const int tool = tools_++;
      tool_index_of_block_[index] = tool;
      std::string delta = "{\"tool_calls\":[{\"index\":" + std::to_string(tool) + ",\"id\":";
      json::append_quoted(delta, id);
      delta += ",\"type\":\"function\",\"function\":{\"name\":";
      json::append_quoted(delta, name);
      delta += ",\"arguments\":\"\"}}]}";
      chunk(delta, {}, out);
    } else if (block_type == "text") {
      std::string_view text;
      if (block["text"].get_string().get(text) == simdjson::SUCCESS && !text.empty()) {
        std::string delta = "{\"content\":";
        json::append_quoted(delta, text);
        delta += '}';
        chunk(delta, {}, out);
      }
    }
    return;
  }
  if (type == "content_block_delta") {
    uint64_t index = 0;
    dom::element delta;
    std::string_view delta_type;
    if (data["index"].get_uint64().get(index) || data["delta"].get(delta) ||
        delta["type"].get_string().get(delta_type))
      return;
    if (delta_type == "text_delta") {
      std::string_view text;
      if (delta["text"].get_string().get(text)) return;
      std::string d = "{\"content\":";
      json::append_quoted(d, text);
      d += '}';
      chunk(d, {}, out);
    } else if (delta_type == "input_json_delta") {
      std::string_view partial;
      if (delta["partial_json"].get_string().get(partial) || index >= tool_index_of_block_.size() ||
          tool_index_of_block_[index] < 0)
        return;
      std::string d = "{\"tool_calls\":[{\"index\":" + std::to_string(tool_index_of_block_[index]) +
                      ",\"function\":{\"arguments\":";
      json::append_quoted(d, partial);
      d += "}}]}";
      chunk(d, {}, out);
    }
    return;
  }
  if (type == "message_delta") {
    std::string_view stop_reason = "end_turn";
    stop_reason = string_or(data["delta"]["stop_reason"], stop_reason);
    if (dom::element usage; data["usage"].get(usage) == simdjson::SUCCESS) {
      uint64_t v = 0;  // cumulative totals: overwrite what they carry
      if (usage["output_tokens"].get_uint64().get(v) == simdjson::SUCCESS) output_tokens_ = v;
      if (usage["input_tokens"].get_uint64().get(v) == simdjson::SUCCESS) input_tokens_ = v;
      if (usage["cache_read_input_tokens"].get_uint64().get(v) == simdjson::SUCCESS) cache_read_ = v;
      if (usage["cache_creation_input_tokens"].get_uint64().get(v) == simdjson::SUCCESS) cache_creation_ = v;
    }
    chunk("{}", openai_finish_reason(stop_reason), out);
    return;
  }
  if (type == "message_stop") {
    if (include_usage_) {
      out += "data: {\"id\":";
      json::append_quoted(out, id_);
      out += ",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(created_) + ",\"model\":";
      json::append_quoted(out, model_);
      out += ",\"choices\":[],\"usage\":" + openai_usage(input_tokens_, output_tokens_, cache_read_, cache_creation_) +
             "}\n\n";
    }
    out += "data: [DONE]\n\n";
    done_ = true;
  }
}

void AnthropicToOpenAIStream::finish(std::string& out) {
  if (done_) return;
  error_event("api_error", "The provider's stream ended before the answer was complete.", out);
}

}  // namespace tollway::providers::translation

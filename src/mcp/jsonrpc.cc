#include "mcp/jsonrpc.h"

namespace tollway::mcp {
namespace {

bool valid_id(const Json& id) { return id.is_string() || id.is_integer(); }

// Where a message sits, for error messages: "" for a single one, "batch item 3: " in a batch.
std::string where(bool batch, std::size_t index) {
  return batch ? "batch item " + std::to_string(index + 1) + ": " : std::string();
}

bool read_message(std::string_view text, const Json& value, bool batch, std::size_t index, Message& out,
                  ReadError& error) {
  auto fail = [&](std::string what) {
    error.code = kInvalidRequest;
    error.message = where(batch, index) + std::move(what);
    return false;
  };
  if (!value.is_object()) return fail("a JSON-RPC message must be an object");
  const Json *jsonrpc = nullptr, *id = nullptr, *method = nullptr, *params = nullptr, *result = nullptr,
             *err = nullptr;
  for (const auto& [key, member] : value.members()) {
    if (key == "jsonrpc") jsonrpc = &member;
    else if (key == "id") id = &member;
    else if (key == "method") method = &member;
    else if (key == "params") params = &member;
    else if (key == "result") result = &member;
    else if (key == "error") err = &member;
    else return fail("a member other than jsonrpc, id, method, params, result and error");
  }
  if (jsonrpc == nullptr || !jsonrpc->is_string() || jsonrpc->as_string() != "2.0")
    return fail("\"jsonrpc\" must be the string \"2.0\"");
  out.value = &value;
  if (id != nullptr) {
    if (id->is_null() && err != nullptr) {
      // an error answering an unreadable request: id null is allowed there
    } else if (!valid_id(*id)) {
      return fail("\"id\" must be a string or an integer");
    } else {
      out.id = std::string(text.substr(id->begin(), id->end() - id->begin()));
      out.id_key = id->is_string() ? "s:" + id->as_string() : "i:" + std::to_string(id->as_int());
    }
  }
  if (method != nullptr) {
    if (result != nullptr || err != nullptr) return fail("a message with \"method\" cannot carry a result or error");
    if (!method->is_string() || method->as_string().empty()) return fail("\"method\" must be a non-empty string");
    if (params != nullptr && !params->is_object()) return fail("\"params\" must be an object");
    out.kind = id != nullptr ? Message::Kind::Request : Message::Kind::Notification;
    out.method = method->as_string();
    out.params = params;
    return true;
  }
  if (params != nullptr) return fail("\"params\" belongs to a request or notification, which needs \"method\"");
  if ((result == nullptr) == (err == nullptr))
    return fail("a message needs \"method\", or exactly one of \"result\" and \"error\"");
  if (result != nullptr) {
    if (id == nullptr) return fail("a result needs the \"id\" of the request it answers");
    if (!result->is_object()) return fail("\"result\" must be an object");
    out.kind = Message::Kind::Result;
    out.result = result;
    return true;
  }
  const Json* code = err->find("code");
  const Json* message = err->find("message");
  if (!err->is_object() || code == nullptr || !code->is_integer() || message == nullptr || !message->is_string())
    return fail("\"error\" must be an object with an integer \"code\" and a string \"message\"");
  for (const auto& [key, member] : err->members())
    if (key != "code" && key != "message" && key != "data")
      return fail("\"error\" may hold only \"code\", \"message\" and \"data\"");
  out.kind = Message::Kind::Error;
  out.error = err;
  return true;
}

}  // namespace

std::optional<Envelope> read_envelope(std::string_view text, ReadError& error, const ReadLimits& limits) {
  std::string parse_error;
  auto root = core::strict_json::parse(text, parse_error, {limits.max_bytes, limits.max_depth});
  if (!root) {
    error.code = kParseError;
    error.message = "the body is not valid JSON: " + parse_error;
    return std::nullopt;
  }
  Envelope envelope;
  envelope.root = std::make_unique<const Json>(std::move(*root));
  const Json& tree = *envelope.root;
  envelope.batch = tree.is_array();
  if (envelope.batch) {
    if (tree.items().empty()) {
      error.code = kInvalidRequest;
      error.message = "an empty batch";
      return std::nullopt;
    }
    envelope.messages.resize(tree.items().size());
    for (std::size_t i = 0; i < envelope.messages.size(); ++i)
      if (!read_message(text, tree.items()[i], true, i, envelope.messages[i], error)) return std::nullopt;
  } else {
    envelope.messages.resize(1);
    if (!read_message(text, tree, false, 0, envelope.messages[0], error)) return std::nullopt;
  }
  return envelope;
}

}  // namespace tollway::mcp

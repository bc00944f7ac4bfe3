// JsonRpc: a strict reader of JSON-RPC 2.0 messages as MCP carries them (one message or a batch in an HTTP body,
// one message per SSE event), and the error responses a proxy writes itself. Strict as the MCP TypeScript SDK's
// schemas are: "jsonrpc" exactly "2.0", ids strings or integers (never null in a request), params an object,
// no members JSON-RPC does not define, no duplicate keys anywhere, nothing after the value. Pure: no I/O, and an
// error message never echoes the input's bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strict_json.h"

namespace tollway::mcp {

using Json = core::strict_json::Value;

// JSON-RPC 2.0 error codes (section 5.1) and the ones tollway answers denials with (its data says more).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kForbidden = -32003;    // refused by an authorization rule (HTTP 403)
inline constexpr int kRateLimited = -32029;  // refused by a limit or budget (HTTP 429)

struct Message {
  enum class Kind { Request, Notification, Result, Error } kind = Kind::Request;
  std::string id;      // the id's JSON text as sent ("7", "\"a\""); "" for a notification or an id-less error
  // The id as a response is matched to its request: "s:" + the decoded string or "i:" + the integer ("" none).
  std::string id_key;
  std::string method;  // requests and notifications
  const Json* params = nullptr;  // an object, or null when absent
  const Json* result = nullptr;  // Kind::Result
  const Json* error = nullptr;   // Kind::Error: {code, message, data?}
  const Json* value = nullptr;   // the whole message
};

// A body read whole: the tree (owning every pointer in `messages`; held by pointer so that moving the envelope
// keeps them valid) and whether it was a batch (an array).
struct Envelope {
  std::unique_ptr<const Json> root;
  bool batch = false;
  std::vector<Message> messages;
};

struct ReadLimits {
  std::size_t max_bytes = 4 << 20;
  int max_depth = 64;
};

// Why a body is not JSON-RPC: kParseError (not JSON) or kInvalidRequest (JSON, not JSON-RPC 2.0), with what a
// person reads: which message of a batch and which member.
struct ReadError {
  int code = kParseError;
  std::string message;
};

// Reads one HTTP body or SSE event's data. `root` is moved into the result; nullopt with `error` set on failure.
std::optional<Envelope> read_envelope(std::string_view text, ReadError& error, const ReadLimits& limits = {});

}  // namespace tollway::mcp

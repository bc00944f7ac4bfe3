// Edits of MCP message text made by splicing at the offsets the reader recorded: everything an edit does not
// concern (numbers, escapes, key order, other members) is passed on byte for byte as it was sent. Used to carry
// trace context in params._meta and to filter list results down to what a caller may use; and the JSON-RPC error
// responses a proxy answers with itself. Pure: no I/O.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/jsonrpc.h"
#include "mcp/operation.h"

namespace tollway::mcp {

// The trace context to write into one request's params._meta ("" traceparent: leave the message alone).
struct TraceMeta {
  std::string traceparent;
  std::string tracestate;  // "" drops a tracestate the message carried
};

// `text` (the body `envelope` was read from) with params._meta.traceparent / tracestate of messages[i] set from
// `metas[i]` (same length as envelope.messages; only requests and notifications are edited). Other _meta members
// stay.
std::string with_trace_meta(std::string_view text, const Envelope& envelope, const std::vector<TraceMeta>& metas);

// Result message `result` of `text` with its list (shape.array) reduced to the items whose shape.key `keep`
// accepts; an item that is not an object with a string key is dropped. False when the result has no such array
// (nothing can be filtered: the caller must not pass it on).
bool filter_list_result(std::string_view text, const Message& result, const ListShape& shape,
                        const std::function<bool(std::string_view)>& keep, std::string& out);

// The items of result message `result`'s list (shape.array), each as its own text with its shape.key renamed to
// `prefix` + the name (items that are not objects with a string key are left out), and the result's
// "nextCursor" ("" when none). False when the result has no such array.
bool list_items(std::string_view text, const Message& result, const ListShape& shape, std::string_view prefix,
                std::vector<std::string>& items, std::string& next_cursor);

// `text` with request `message`'s params member `key` set to the string `value` (added when absent, unless
// `value` is empty). The message must have params.
std::string with_param_string(std::string_view text, const Message& message, std::string_view key,
                              std::string_view value);

// {"jsonrpc":"2.0","id":ID,"error":{"code":C,"message":M[,"data":DATA]}}; `id` is JSON text ("" writes null),
// `data_json` JSON text or "".
std::string error_response(std::string_view id, int code, std::string_view message, std::string_view data_json = {});

}  // namespace tollway::mcp

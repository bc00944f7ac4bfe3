// Operation: what one MCP request or notification asks for, as authorization, limits and spans see it — its method,
// the tool, prompt or resource it names, its id, and the W3C trace context in params._meta (OpenTelemetry's MCP
// conventions). Reading checks the params a policy depends on (tools/call and prompts/get need a string "name",
// resources/read, subscribe and unsubscribe a string "uri", _meta an object with string trace members) and
// refuses a message without them, so a rule is never decided on a guess. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mcp/jsonrpc.h"

namespace tollway::mcp {

// What a rule names: a tool, a resource (by URI) or a prompt; None for the protocol's own methods (initialize,
// ping, lists, notifications), which policy never refuses.
enum class TargetKind { None, Tool, Resource, Prompt };

struct Operation {
  std::string method;  // mcp.method.name
  TargetKind kind = TargetKind::None;
  std::string target;  // the tool or prompt name, or the resource URI ("" for kind None)
  std::string id;      // the request id's JSON text; "" for a notification
  std::string id_key;  // Message::id_key
  std::string traceparent, tracestate;  // from params._meta ("" when absent)
};

// The operation of a Request or Notification; false with `why` (for an Invalid params error) when the params a
// policy reads are missing or of the wrong type.
bool read_operation(const Message& message, Operation& out, std::string& why);

// The list methods whose results name targets: tools/list -> "tools" by "name", prompts/list -> "prompts" by
// "name", resources/list -> "resources" by "uri", resources/templates/list -> "resourceTemplates" by
// "uriTemplate". Null for any other method.
struct ListShape {
  std::string_view method, array, key;
  TargetKind kind;
};
const ListShape* list_shape(std::string_view method);

}  // namespace tollway::mcp

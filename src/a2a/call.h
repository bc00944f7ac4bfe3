// A2aCall: what one A2A JSON-RPC request asks for, as authorization and spans see it — which method (A2A
// 0.3's `message/send`, `tasks/get`, … and A2A 1.0's `SendMessage`, `GetTask`, …), the skill it names and the
// task and context it continues; and the task and context ids a result or stream event carries.
//
// How a call names its skill. A2A messages carry no skill field (a2aproject/A2A#143 and #1812 propose one;
// none is in the 1.0 specification), and the convention implementations use is the message's metadata.
// tollway reads the string `skillId` (the AgentSkill's `id`) from params.message.metadata, or from
// params.metadata (the request's); when both carry one they must be equal. A message method whose skillId is
// present but not a string, whose two skillIds differ, or whose params.message is not an object is invalid
// (nothing ambiguous is decided on); a message naming no skill leaves `skill` empty and the sidecar's policy
// decides what that means. Methods that send no message (task reads, cancels, subscriptions, push configs,
// the extended card) name no skill.
//
// Pure: no I/O; it never reads parts of a message (the user's content) and never echoes input bytes in `why`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mcp/jsonrpc.h"

namespace tollway::a2a {

using Json = mcp::Json;
using mcp::Message;

// The code of the errors tollway answers A2A calls with itself (a refusal, a limit): A2A 1.0 reserves -32001
// and up for its own errors (-32003 is PushNotificationNotSupportedError), so tollway uses JSON-RPC's generic
// server error and says why in error.data.code.
inline constexpr int kRefused = -32000;

// The metadata key a message names its skill with.
inline constexpr std::string_view kSkillKey = "skillId";

enum class MethodKind {
  Send,          // message/send, SendMessage
  Stream,        // message/stream, SendStreamingMessage
  ExtendedCard,  // agent/getAuthenticatedExtendedCard, GetExtendedAgentCard: its result is an agent card
  Task,          // every other method: tasks and push configs, or a method A2A does not define
};

struct Call {
  std::string method;
  MethodKind kind = MethodKind::Task;
  std::optional<std::string>
      skill;               // the skill a message names; none for other methods or a message naming none
  std::string id, id_key;  // mcp::Message's
  std::string task_id, context_id;  // params.message.taskId / contextId ("" when absent)
};

MethodKind method_kind(std::string_view method);

// The call of a Request; false with `why` (for an Invalid params error) when a message method's params are
// not what the skill is read from.
bool read_call(const Message& message, Call& out, std::string& why);

// The task and context a result or stream event names: a Task (`id`, `contextId`), a Message or a status or
// artifact update (`taskId`, `contextId`), in A2A 0.3's shape or wrapped as A2A 1.0's SendMessageResponse /
// StreamResponse (`task`, `message`, `statusUpdate`, `artifactUpdate`). Empty strings when it names none.
struct TaskRef {
  std::string task_id, context_id;
};
TaskRef task_ref(const Json& result);

}  // namespace tollway::a2a

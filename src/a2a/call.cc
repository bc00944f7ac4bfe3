#include "a2a/call.h"

#include <array>
#include <utility>

namespace tollway::a2a {
namespace {

struct MethodName {
  std::string_view name;
  MethodKind kind;
};

constexpr std::array<MethodName, 6> kMessageMethods{{
    {"message/send", MethodKind::Send},
    {"SendMessage", MethodKind::Send},
    {"message/stream", MethodKind::Stream},
    {"SendStreamingMessage", MethodKind::Stream},
    {"agent/getAuthenticatedExtendedCard", MethodKind::ExtendedCard},
    {"GetExtendedAgentCard", MethodKind::ExtendedCard},
}};

// `object`'s string member `key` into `out`; false when present and not a string.
bool optional_string(const Json* object, std::string_view key, std::optional<std::string>& out) {
  const Json* v = object != nullptr ? object->find(key) : nullptr;
  if (v == nullptr) return true;
  if (!v->is_string()) return false;
  out = v->as_string();
  return true;
}

std::string string_or_empty(const Json& object, std::string_view key) {
  const auto v = object.string_member(key);
  return v ? std::string(*v) : std::string();
}

}  // namespace

MethodKind method_kind(std::string_view method) {
  for (const auto& m : kMessageMethods)
    if (m.name == method) return m.kind;
  return MethodKind::Task;
}

bool read_call(const Message& message, Call& out, std::string& why) {
  out = Call{};
  out.method = message.method;
  out.kind = method_kind(message.method);
  out.id = message.id;
  out.id_key = message.id_key;
  if (out.kind != MethodKind::Send && out.kind != MethodKind::Stream) return true;
  const Json* msg = message.params != nullptr ? message.params->find("message") : nullptr;
  if (msg == nullptr || !msg->is_object()) {
    why = message.method + " needs params.message as an object";
    return false;
  }
  using Place = std::pair<const Json*, std::string_view>;
  for (const auto& [owner, path] :
       {Place{msg, "params.message.metadata"}, Place{message.params, "params.metadata"}}) {
    const Json* metadata = owner->find("metadata");
    if (metadata == nullptr || metadata->is_null()) continue;
    if (!metadata->is_object()) {
      why = std::string(path) + " must be an object";
      return false;
    }
    std::optional<std::string> skill;
    if (!optional_string(metadata, kSkillKey, skill)) {
      why = std::string(path) + "." + std::string(kSkillKey) + " must be a string";
      return false;
    }
    if (!skill) continue;
    if (out.skill && *out.skill != *skill) {
      why = "params.message.metadata and params.metadata name different skills";
      return false;
    }
    out.skill = std::move(skill);
  }
  if (const auto task = msg->string_member("taskId")) out.task_id = *task;
  if (const auto context = msg->string_member("contextId")) out.context_id = *context;
  return true;
}

TaskRef task_ref(const Json& result) {
  TaskRef ref;
  if (!result.is_object()) return ref;
  const Json* inner = &result;
  bool task = false;
  for (const std::string_view wrapper : {"task", "message", "statusUpdate", "artifactUpdate"}) {
    const Json* v = result.find(wrapper);
    if (v != nullptr && v->is_object()) {
      inner = v;
      task = wrapper == "task";
      break;
    }
  }
  if (!task) {
    const auto kind = inner->string_member("kind");
    task = kind && *kind == "task";
  }
  ref.task_id = string_or_empty(*inner, task ? "id" : "taskId");
  ref.context_id = string_or_empty(*inner, "contextId");
  return ref;
}

}  // namespace tollway::a2a

#include "a2a/call.h"

#include <gtest/gtest.h>

namespace tollway::a2a {
namespace {

// Reads `body` as one JSON-RPC request and its A2A call; `why` set when the call is refused.
struct Read {
  mcp::Envelope envelope;
  Call call;
  std::string why;
  bool ok = false;
};

Read read(std::string_view body) {
  Read r;
  mcp::ReadError error;
  auto envelope = mcp::read_envelope(body, error);
  EXPECT_TRUE(envelope) << error.message;
  if (!envelope) return r;
  r.envelope = std::move(*envelope);
  r.ok = read_call(r.envelope.messages.front(), r.call, r.why);
  return r;
}

TEST(A2aCall, MethodsOfBothVersions) {
  EXPECT_EQ(method_kind("message/send"), MethodKind::Send);
  EXPECT_EQ(method_kind("SendMessage"), MethodKind::Send);
  EXPECT_EQ(method_kind("message/stream"), MethodKind::Stream);
  EXPECT_EQ(method_kind("SendStreamingMessage"), MethodKind::Stream);
  EXPECT_EQ(method_kind("GetExtendedAgentCard"), MethodKind::ExtendedCard);
  EXPECT_EQ(method_kind("agent/getAuthenticatedExtendedCard"), MethodKind::ExtendedCard);
  EXPECT_EQ(method_kind("tasks/get"), MethodKind::Task);
  EXPECT_EQ(method_kind("SubscribeToTask"), MethodKind::Task);
  EXPECT_EQ(method_kind("sendmessage"), MethodKind::Task);  // names are exact
}

TEST(A2aCall, ReadsTheSkillFromTheMessageOrTheRequestMetadata) {
  auto r = read(R"({"jsonrpc":"2.0","id":1,"method":"message/stream","params":{"message":{"role":"user",
      "parts":[{"kind":"text","text":"hi"}],"messageId":"m","taskId":"t1","contextId":"c1",
      "metadata":{"skillId":"summarize","other":1}}}})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.call.kind, MethodKind::Stream);
  ASSERT_TRUE(r.call.skill);
  EXPECT_EQ(*r.call.skill, "summarize");
  EXPECT_EQ(r.call.task_id, "t1");
  EXPECT_EQ(r.call.context_id, "c1");
  EXPECT_EQ(r.call.id, "1");

  r = read(R"({"jsonrpc":"2.0","id":"x","method":"SendMessage","params":{"message":{"messageId":"m"},
      "metadata":{"skillId":"translate"}}})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(*r.call.skill, "translate");

  r = read(R"({"jsonrpc":"2.0","id":2,"method":"SendMessage","params":{"message":{"messageId":"m",
      "metadata":{"skillId":"a"}},"metadata":{"skillId":"a"}}})");
  ASSERT_TRUE(r.ok) << r.why;  // both places, equal
  EXPECT_EQ(*r.call.skill, "a");

  r = read(R"({"jsonrpc":"2.0","id":3,"method":"message/send","params":{"message":{"messageId":"m"}}})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_FALSE(r.call.skill);  // names none: the policy decides
}

TEST(A2aCall, RefusesWhatCannotBeDecidedOn) {
  for (
      const std::string_view body : {
          R"({"jsonrpc":"2.0","id":1,"method":"message/send","params":{}})",
          R"({"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":"hi"}})",
          R"({"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"metadata":{"skillId":7}}}})",
          R"({"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"metadata":[]}}})",
          R"({"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"metadata":{"skillId":"a"}},
               "metadata":{"skillId":"b"}}})",
      }) {
    const auto r = read(body);
    EXPECT_FALSE(r.ok) << body;
    EXPECT_FALSE(r.why.empty());
    EXPECT_EQ(r.why.find("\"b\""), std::string::npos);  // never echoes values
  }
  // Methods that send no message are not read for a skill.
  const auto r = read(R"({"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"t"}})");
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.call.kind, MethodKind::Task);
  EXPECT_FALSE(r.call.skill);
}

TaskRef ref_of(std::string_view json) {
  std::string error;
  const auto v = core::strict_json::parse(json, error);
  EXPECT_TRUE(v) << error;
  return v ? task_ref(*v) : TaskRef{};
}

TEST(A2aCall, TaskAndContextOfResultsAndEvents) {
  // A2A 0.3: a Task, a status update, a Message.
  auto r = ref_of(R"({"kind":"task","id":"t","contextId":"c","status":{"state":"submitted"}})");
  EXPECT_EQ(r.task_id, "t");
  EXPECT_EQ(r.context_id, "c");
  r = ref_of(R"({"kind":"status-update","taskId":"t2","contextId":"c2","final":true})");
  EXPECT_EQ(r.task_id, "t2");
  EXPECT_EQ(r.context_id, "c2");
  r = ref_of(R"({"kind":"message","messageId":"m","contextId":"c3"})");
  EXPECT_EQ(r.task_id, "");
  EXPECT_EQ(r.context_id, "c3");
  // A2A 1.0: SendMessageResponse and StreamResponse wrappers.
  r = ref_of(R"({"task":{"id":"t4","contextId":"c4"}})");
  EXPECT_EQ(r.task_id, "t4");
  EXPECT_EQ(r.context_id, "c4");
  r = ref_of(R"({"artifactUpdate":{"taskId":"t5","contextId":"c5","artifact":{}}})");
  EXPECT_EQ(r.task_id, "t5");
  r = ref_of(R"([1])");
  EXPECT_EQ(r.task_id, "");
}

}  // namespace
}  // namespace tollway::a2a

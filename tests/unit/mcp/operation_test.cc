// What policy reads of an MCP message: the method's target and the trace context in params._meta.
#include "mcp/operation.h"

#include <gtest/gtest.h>

namespace tollway::mcp {
namespace {

struct Read {
  bool ok = false;
  Operation op;
  std::string why;
};

Read read(std::string_view text) {
  ReadError error;
  auto envelope = read_envelope(text, error);
  EXPECT_TRUE(envelope) << error.message;
  Read r;
  if (envelope) r.ok = read_operation(envelope->messages[0], r.op, r.why);
  return r;
}

TEST(McpOperation, NamesTheToolPromptOrResourceAMethodActsOn) {
  auto r = read(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{"location":"NYC"}}})");
  ASSERT_TRUE(r.ok) << r.why;
  EXPECT_EQ(r.op.kind, TargetKind::Tool);
  EXPECT_EQ(r.op.target, "get_weather");
  EXPECT_EQ(r.op.id_key, "i:1");
  r = read(R"({"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"code_review","arguments":{"code":"x"}}})");
  EXPECT_EQ(r.op.kind, TargetKind::Prompt);
  EXPECT_EQ(r.op.target, "code_review");
  for (const char* method : {"resources/read", "resources/subscribe", "resources/unsubscribe"}) {
    r = read(std::string(R"({"jsonrpc":"2.0","id":3,"method":")") + method + R"(","params":{"uri":"file:///project/src/main.rs"}})");
    EXPECT_EQ(r.op.kind, TargetKind::Resource) << method;
    EXPECT_EQ(r.op.target, "file:///project/src/main.rs");
  }
  r = read(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.op.kind, TargetKind::None);
  EXPECT_TRUE(r.op.id.empty());
}

TEST(McpOperation, RefusesParamsAPolicyCannotBeDecidedOn) {
  EXPECT_EQ(read(R"({"jsonrpc":"2.0","id":1,"method":"tools/call"})").why, "tools/call needs params.name as a string");
  EXPECT_FALSE(read(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}})").ok);
  EXPECT_FALSE(read(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":[1]}})").ok);
  EXPECT_FALSE(read(R"({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"url":"x"}})").ok);
  EXPECT_FALSE(read(R"({"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{}})").ok);
  EXPECT_FALSE(read(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":[]}})").ok);
  EXPECT_FALSE(read(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"traceparent":1}}})").ok);
}

TEST(McpOperation, ReadsTheTraceContextInMeta) {
  const auto r = read(R"({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"t","_meta":{"progressToken":1,
    "traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","tracestate":"rojo=00f067aa0ba902b7"}}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.op.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(r.op.tracestate, "rojo=00f067aa0ba902b7");
}

TEST(McpOperation, ListShapes) {
  EXPECT_EQ(list_shape("tools/list")->array, "tools");
  EXPECT_EQ(list_shape("resources/templates/list")->key, "uriTemplate");
  EXPECT_EQ(list_shape("prompts/list")->kind, TargetKind::Prompt);
  EXPECT_EQ(list_shape("tools/call"), nullptr);
}

}  // namespace
}  // namespace tollway::mcp

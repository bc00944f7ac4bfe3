// The JSON-RPC reader against the JSON-RPC 2.0 specification's examples (section 7) and MCP's stricter rules.
#include "mcp/jsonrpc.h"

#include <gtest/gtest.h>

namespace tollway::mcp {
namespace {

ReadError fails(std::string_view text) {
  ReadError error;
  EXPECT_FALSE(read_envelope(text, error).has_value()) << text;
  EXPECT_FALSE(error.message.empty());
  return error;
}

TEST(JsonRpc, ReadsRequestsNotificationsResultsAndErrors) {
  ReadError error;
  auto e = read_envelope(R"({"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3})", error);
  ASSERT_TRUE(e) << error.message;
  ASSERT_EQ(e->messages.size(), 1u);
  EXPECT_FALSE(e->batch);
  EXPECT_EQ(e->messages[0].kind, Message::Kind::Request);
  EXPECT_EQ(e->messages[0].method, "subtract");
  EXPECT_EQ(e->messages[0].id, "3");
  EXPECT_EQ(e->messages[0].id_key, "i:3");
  ASSERT_NE(e->messages[0].params, nullptr);

  e = read_envelope(R"({"jsonrpc": "2.0", "method": "update", "params": {"a": [1,2,3,4,5]}})", error);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->messages[0].kind, Message::Kind::Notification);
  EXPECT_TRUE(e->messages[0].id.empty());

  e = read_envelope(R"({"jsonrpc": "2.0", "result": {"value": 19}, "id": "a\u0062"})", error);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->messages[0].kind, Message::Kind::Result);
  EXPECT_EQ(e->messages[0].id, R"("a\u0062")");  // as sent, for echoing
  EXPECT_EQ(e->messages[0].id_key, "s:ab");      // decoded, for matching

  e = read_envelope(R"({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null})", error);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->messages[0].kind, Message::Kind::Error);
  EXPECT_TRUE(e->messages[0].id.empty());
}

TEST(JsonRpc, ReadsABatchInOrder) {
  ReadError error;
  const auto e = read_envelope(R"([
    {"jsonrpc": "2.0", "method": "sum", "params": {"v": [1,2,4]}, "id": "1"},
    {"jsonrpc": "2.0", "method": "notify_hello", "params": {"v": [7]}},
    {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
  ])", error);
  ASSERT_TRUE(e) << error.message;
  EXPECT_TRUE(e->batch);
  ASSERT_EQ(e->messages.size(), 3u);
  EXPECT_EQ(e->messages[1].kind, Message::Kind::Notification);
  EXPECT_EQ(e->messages[2].id_key, "s:9");
  EXPECT_EQ(e->messages[2].params, nullptr);
}

TEST(JsonRpc, TheSpecificationsInvalidExamplesAreRefusedWithTheirCodes) {
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])").code, kParseError);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": 1, "params": "bar"})").code, kInvalidRequest);
  EXPECT_EQ(fails("[]").code, kInvalidRequest);
  EXPECT_EQ(fails("[1]").code, kInvalidRequest);
  EXPECT_EQ(fails("[1,2,3]").code, kInvalidRequest);
  EXPECT_EQ(fails(R"([{"jsonrpc": "2.0", "method": "sum", "params": {}, "id": "1"}, {"foo": "boo"}])").message,
            "batch item 2: a member other than jsonrpc, id, method, params, result and error");
}

TEST(JsonRpc, MoreStrictThanJsonRpcWhereMcpIs) {
  // MCP: params is an object, ids are strings or integers and never null in a request, no extra members.
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "ping", "id": null})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "ping", "id": 1.5})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "ping", "id": 1, "x": 0})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "1.0", "method": "ping", "id": 1})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"method": "ping", "id": 1})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "id": 1})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "m"}})").code,
            kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "m"}})").code, kInvalidRequest);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "", "id": 1})").code, kInvalidRequest);
  // Ambiguity is a parse error: a duplicate key anywhere, bytes after the value, invalid UTF-8.
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "a", "name": "b"}, "id": 1})").code,
            kParseError);
  EXPECT_EQ(fails(R"({"jsonrpc": "2.0", "method": "ping", "id": 1}{})").code, kParseError);
  EXPECT_EQ(fails("{\"jsonrpc\": \"2.0\", \"method\": \"\xff\", \"id\": 1}").code, kParseError);
}

TEST(JsonRpc, ErrorsNeverEchoTheInputsBytes) {
  const auto error = fails(R"({"jsonrpc": "2.0", "method": "ping", "id": 1, "secret-token-123": 0})");
  EXPECT_EQ(error.message.find("secret-token-123"), std::string::npos);
}

}  // namespace
}  // namespace tollway::mcp

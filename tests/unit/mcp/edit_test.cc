// Splice edits of MCP messages: trace context into params._meta, list results filtered, every other byte kept.
#include "mcp/edit.h"

#include <gtest/gtest.h>

namespace tollway::mcp {
namespace {

constexpr std::string_view kParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

std::string with_meta(std::string_view text, std::string tracestate = {}) {
  ReadError error;
  auto envelope = read_envelope(text, error);
  EXPECT_TRUE(envelope) << error.message;
  std::vector<TraceMeta> metas(envelope->messages.size(), TraceMeta{std::string(kParent), std::move(tracestate)});
  return with_trace_meta(text, *envelope, metas);
}

TEST(McpEdit, WritesTraceContextIntoMetaWhereverParamsStand) {
  EXPECT_EQ(with_meta(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"),
            R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"traceparent":")" + std::string(kParent) + R"("}}})");
  EXPECT_EQ(with_meta(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{ }})"),
            R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"traceparent":")" + std::string(kParent) + R"("}}})");
  // Numbers, escapes and spacing of the arguments stay exactly as sent.
  EXPECT_EQ(with_meta(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params": {"name":"t","arguments":{"n":1.50e3,"s":"\u00e9"}}})", "a=b"),
            R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params": {"_meta":{"traceparent":")" + std::string(kParent) +
                R"(","tracestate":"a=b"},"name":"t","arguments":{"n":1.50e3,"s":"\u00e9"}}})");
}

TEST(McpEdit, ReplacesTheCallersTraceContextAndKeepsOtherMetaMembers) {
  EXPECT_EQ(with_meta(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"progressToken":7,"traceparent":"forged","tracestate":"x=y"}}})"),
            R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"progressToken":7,"traceparent":")" +
                std::string(kParent) + R"("}}})");
}

TEST(McpEdit, EditsEachCallOfABatchAndLeavesResponsesAlone) {
  const std::string out = with_meta(R"([{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","method":"notifications/initialized"}])");
  EXPECT_EQ(out, R"([{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","method":"notifications/initialized","params":{"_meta":{"traceparent":")" +
                     std::string(kParent) + R"("}}}])");
}

TEST(McpEdit, FiltersAListResultToTheItemsKept) {
  const std::string text =
      R"({"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"get_weather","inputSchema":{"type":"object"}}, {"name":"delete_all"},{"title":"no name"}],"nextCursor":"n"}})";
  ReadError error;
  auto envelope = read_envelope(text, error);
  ASSERT_TRUE(envelope);
  std::string out;
  ASSERT_TRUE(filter_list_result(text, envelope->messages[0], *list_shape("tools/list"),
                                 [](std::string_view name) { return name != "delete_all"; }, out));
  EXPECT_EQ(out, R"({"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"get_weather","inputSchema":{"type":"object"}}],"nextCursor":"n"}})");
  const std::string no_list = R"({"jsonrpc":"2.0","id":2,"result":{"tools":{}}})";
  envelope = read_envelope(no_list, error);
  EXPECT_FALSE(filter_list_result(no_list, envelope->messages[0], *list_shape("tools/list"),
                                  [](std::string_view) { return true; }, out));
}

TEST(McpEdit, ErrorResponses) {
  EXPECT_EQ(error_response("\"a\"", kForbidden, "no \"x\"", R"({"code":"forbidden"})"),
            R"({"jsonrpc":"2.0","id":"a","error":{"code":-32003,"message":"no \"x\"","data":{"code":"forbidden"}}})");
  EXPECT_EQ(error_response({}, kParseError, "m"), R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"m"}})");
}

}  // namespace
}  // namespace tollway::mcp

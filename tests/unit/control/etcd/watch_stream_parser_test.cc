// The watch stream's parser against bytes as etcd 3.4's v3 JSON gateway sends them (recorded from `curl -N --raw
// POST /v3/watch`): a chunked 200 answer, one JSON line per watch response; split at every byte the result is the
// same; a malformed head, chunk, line or JSON ends the stream with an error.
#include <gtest/gtest.h>

#include "control/etcd/etcd_json.h"
#include "control/etcd/watch_stream_parser.h"

namespace tollway::control::etcd {
namespace {

const std::string kHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nGrpc-Metadata-Content-Type: application/grpc\r\n"
    "Date: Mon, 07 Dec 2026 20:48:14 GMT\r\nTransfer-Encoding: chunked\r\n\r\n";
const std::string kCreated =
    R"({"result":{"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"2","raft_term":"2"},"created":true}})";
const std::string kPut =
    R"({"result":{"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"2"},"events":[{"kv":{"key":"L3QvYg==","create_revision":"3","mod_revision":"3","version":"1","value":"Mg=="}}]}})";
const std::string kDelete =
    R"({"result":{"header":{"cluster_id":"1","member_id":"2","revision":"4","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"L3QvYQ==","mod_revision":"4"}}]}})";
const std::string kCompacted =
    R"({"result":{"header":{"cluster_id":"1","member_id":"2","raft_term":"2"},"canceled":true,"compact_revision":"4"}})";

std::string chunk(const std::string& line) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", line.size() + 1);
  return std::string(size) + "\r\n" + line + "\n\r\n";
}

TEST(WatchStreamParser, ReadsTheGatewaysStream) {
  const std::string stream = kHead + chunk(kCreated) + chunk(kPut) + chunk(kDelete) + chunk(kCompacted);
  WatchStreamParser parser;
  std::vector<WatchResponse> out;
  ASSERT_EQ(parser.feed(stream, out), WatchStreamParser::Status::Ok) << parser.error();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0].created);
  EXPECT_EQ(out[0].revision, 2);
  EXPECT_TRUE(out[0].events.empty());
  ASSERT_EQ(out[1].events.size(), 1u);
  EXPECT_EQ(out[1].events[0].type, WatchEvent::Type::Put);
  EXPECT_EQ(out[1].events[0].key, "/t/b");
  EXPECT_EQ(out[1].events[0].mod_revision, 3);
  ASSERT_EQ(out[2].events.size(), 1u);
  EXPECT_EQ(out[2].events[0].type, WatchEvent::Type::Delete);
  EXPECT_EQ(out[2].events[0].key, "/t/a");
  EXPECT_EQ(out[2].revision, 4);
  EXPECT_TRUE(out[3].canceled);
  EXPECT_EQ(out[3].compact_revision, 4);
  EXPECT_EQ(out[3].revision, 0);
  EXPECT_EQ(parser.feed("0\r\n\r\n", out), WatchStreamParser::Status::Ended);
}

TEST(WatchStreamParser, TheSameSplitAtEveryByte) {
  const std::string stream = kHead + chunk(kCreated) + chunk(kPut + "\n" + kDelete) + "0\r\n\r\n";
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchStreamParser parser;
    std::vector<WatchResponse> out;
    parser.feed(std::string_view(stream).substr(0, cut), out);
    const auto status = parser.feed(std::string_view(stream).substr(cut), out);
    ASSERT_EQ(status, WatchStreamParser::Status::Ended) << "cut at " << cut << ": " << parser.error();
    ASSERT_EQ(out.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(out[2].events.at(0).key, "/t/a");
  }
  WatchStreamParser bytewise;
  std::vector<WatchResponse> out;
  for (char c : stream) bytewise.feed(std::string_view(&c, 1), out);
  EXPECT_EQ(out.size(), 3u);
}

TEST(WatchStreamParser, RefusesWhatIsNotAWatchStream) {
  const auto fails = [](const std::string& bytes, std::string_view why) {
    WatchStreamParser parser(4096);
    std::vector<WatchResponse> out;
    EXPECT_EQ(parser.feed(bytes, out), WatchStreamParser::Status::Failed) << bytes;
    EXPECT_NE(parser.error().find(why), std::string::npos) << parser.error();
    EXPECT_EQ(parser.feed(chunk(kPut), out), WatchStreamParser::Status::Failed) << "it stays failed";
  };
  fails("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "HTTP 404");
  fails("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", "not a chunked stream");
  fails("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n", "head");
  fails(kHead + "zz\r\n", "chunked framing");
  fails(kHead + chunk("{\"result\":"), "not JSON");
  fails(kHead + chunk(R"({"error":{"grpc_code":9,"http_code":400,"message":"etcdserver: mvcc: required revision has been compacted"}})"),
        "etcd ended the watch: etcdserver: mvcc");
  fails(kHead + chunk(R"({"result":{"header":{"revision":"5"},"events":[{"type":"PATCH","kv":{"key":"YQ==","mod_revision":"5"}}]}})"),
        "neither PUT nor DELETE");
  fails(kHead + chunk(R"({"result":{"header":{"revision":"5"},"events":[{"kv":{"key":"%%%%","mod_revision":"5"}}]}})"),
        "key is not base64");
  fails(kHead + chunk(R"({"result":{"header":{}}})"), "header.revision is missing");
  fails(kHead + "2000\r\n" + std::string(4097, 'x'), "longer than 4096 bytes");
}

TEST(WatchStreamParser, WatchRequestIsTheGatewaysCreateRequest) {
  EXPECT_EQ(watch_request("/t/", "/t0", 0), R"({"create_request":{"key":"L3Qv","range_end":"L3Qw"}})");
  EXPECT_EQ(watch_request("/t/", "/t0", 17),
            R"({"create_request":{"key":"L3Qv","range_end":"L3Qw","start_revision":"17"}})");
}

TEST(EtcdJsonLeases, GrantKeepAliveAndTheClaim) {
  std::string error;
  auto granted = parse_lease_response(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"4","raft_term":"2"},"ID":"4111120509064513032","TTL":"5"})", error);
  ASSERT_TRUE(granted) << error;
  EXPECT_EQ(granted->id, 4111120509064513032);
  EXPECT_EQ(granted->ttl, 5);
  auto kept = parse_lease_response(R"({"result":{"header":{"revision":"4"},"ID":"4111120509064513032","TTL":"5"}})" "\n", error);
  ASSERT_TRUE(kept) << error;
  EXPECT_EQ(kept->ttl, 5);
  auto gone = parse_lease_response(R"({"result":{"header":{"revision":"4"},"ID":"123"}})", error);
  ASSERT_TRUE(gone) << error;
  EXPECT_EQ(gone->ttl, 0);
  EXPECT_FALSE(parse_lease_response(R"({"error":{"message":"etcdserver: requested lease not found"}})", error));
  EXPECT_EQ(error, "etcdserver: requested lease not found");
  EXPECT_FALSE(parse_lease_response(R"({"header":{"revision":"4"},"TTL":"5"})", error));
  EXPECT_EQ(lease_grant_request(10), R"({"TTL":"10"})");
  EXPECT_EQ(lease_keepalive_request(42), R"({"ID":"42"})");
  EXPECT_EQ(claim_txn_request("/w", "me", 7),
            R"({"compare":[{"key":"L3c=","target":"CREATE","result":"EQUAL","create_revision":"0"}],)"
            R"("success":[{"request_put":{"key":"L3c=","value":"bWU=","lease":"7"}}],)"
            R"("failure":[{"request_range":{"key":"L3c="}}]})");
  EXPECT_EQ(fenced_create_txn_request("/w", 5, "/h/1", "x"),
            R"({"compare":[{"key":"L3c=","target":"CREATE","result":"EQUAL","create_revision":"5"},)"
            R"({"key":"L2gvMQ==","target":"CREATE","result":"EQUAL","create_revision":"0"}],)"
            R"("success":[{"request_put":{"key":"L2gvMQ==","value":"eA=="}}]})");
  // A failed claim: the holder comes back from the failure's range (as etcd 3.4 answered it).
  auto held = parse_txn_response(
      R"({"header":{"revision":"5"},"responses":[{"response_range":{"header":{"revision":"5"},"kvs":[{"key":"L3cK","create_revision":"5","mod_revision":"5","version":"1","value":"eA==","lease":"4111120509064513032"}],"count":"1"}}]})",
      error);
  ASSERT_TRUE(held) << error;
  EXPECT_FALSE(held->succeeded);
  ASSERT_EQ(held->kvs.size(), 1u);
  EXPECT_EQ(held->kvs[0].value, "x");
  EXPECT_EQ(held->kvs[0].lease, 4111120509064513032);
  EXPECT_EQ(held->kvs[0].create_revision, 5);
}

}  // namespace
}  // namespace tollway::control::etcd

// etcd's v3 JSON gateway as documented (etcd.io dev-guide/api_grpc_gateway and the 3.4 gateway's own answers):
// base64 keys and values, int64 as decimal strings, empty fields left out.
#include <gtest/gtest.h>

#include "control/etcd/etcd_json.h"
#include "control/etcd/etcd_policy.h"

namespace tollway::control::etcd {
namespace {

TEST(EtcdJson, Base64AsTheDocumentationWritesIt) {
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("bar"), "YmFy");
  EXPECT_EQ(base64_encode("x: 1"), "eDogMQ==");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_decode("eDogMQ==").value(), "x: 1");
  EXPECT_EQ(base64_decode("YWI=").value(), "ab");
  const std::string all_bytes = [] {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
  }();
  EXPECT_EQ(base64_decode(base64_encode(all_bytes)).value(), all_bytes);
  EXPECT_FALSE(base64_decode("Zm9"));      // not a multiple of 4
  EXPECT_FALSE(base64_decode("Zm=v"));     // padding in the middle
  EXPECT_FALSE(base64_decode("Zm9v-_=="));  // URL alphabet
  EXPECT_FALSE(base64_decode("Zg==Zm9v"));  // padding before the end
}

TEST(EtcdJson, PrefixRangeEndIncrementsTheLastByte) {
  EXPECT_EQ(prefix_range_end("foo"), "fop");  // the documentation's {"key":"Zm9v","range_end":"Zm9w"}
  EXPECT_EQ(prefix_range_end("/tollway/policy/"), "/tollway/policy0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
}

TEST(EtcdJson, RangeRequestIsBase64) {
  EXPECT_EQ(range_request("foo", "fop", false), R"({"key":"Zm9v","range_end":"Zm9w"})");
  EXPECT_EQ(range_request("foo", "fop", true), R"({"key":"Zm9v","range_end":"Zm9w","keys_only":true})");
}

TEST(EtcdJson, ReadsTheDocumentedRangeAnswer) {
  const std::string body =
      R"({"header":{"cluster_id":"12585971608760269493","member_id":"13847567121247652255","revision":"2",)"
      R"("raft_term":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1",)"
      R"("value":"YmFy"}],"count":"1"})";
  std::string error;
  const auto range = parse_range_response(body, error);
  ASSERT_TRUE(range) << error;
  EXPECT_EQ(range->revision, 2);
  ASSERT_EQ(range->kvs.size(), 1u);
  EXPECT_EQ(range->kvs[0].key, "foo");
  EXPECT_EQ(range->kvs[0].value, "bar");
  EXPECT_EQ(range->kvs[0].create_revision, 2);
  EXPECT_EQ(range->kvs[0].mod_revision, 2);
  EXPECT_EQ(range->kvs[0].version, 1);
}

TEST(EtcdJson, AnEmptyRangeHasNoKvsAndAnEmptyValueNoValue) {
  std::string error;
  auto empty = parse_range_response(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"7","raft_term":"2"}})", error);
  ASSERT_TRUE(empty) << error;
  EXPECT_EQ(empty->revision, 7);
  EXPECT_TRUE(empty->kvs.empty());
  auto keys_only = parse_range_response(
      R"({"header":{"revision":"9"},"kvs":[{"key":"Zm9v","create_revision":"3","mod_revision":"9","version":"4"}],"count":"1"})",
      error);
  ASSERT_TRUE(keys_only) << error;
  EXPECT_EQ(keys_only->kvs[0].value, "");
  EXPECT_EQ(keys_only->kvs[0].mod_revision, 9);
}

TEST(EtcdJson, MalformedRangeAnswersAreErrors) {
  std::string error;
  EXPECT_FALSE(parse_range_response("not json", error));
  EXPECT_NE(error.find("not JSON"), std::string::npos);
  EXPECT_FALSE(parse_range_response(R"({"kvs":[]})", error));
  EXPECT_EQ(error, "no header in the answer");
  EXPECT_FALSE(parse_range_response(R"({"header":{"revision":2}})", error));  // a number, not a string
  EXPECT_FALSE(parse_range_response(R"({"header":{"revision":"2"},"kvs":[{"key":"%%%"}]})", error));
  EXPECT_EQ(error, "key is not base64");
  EXPECT_FALSE(parse_range_response(R"({"header":{"revision":"2"},"kvs":{}})", error));
}

TEST(EtcdJson, GuardedTxnComparesModRevisionOverTheRange) {
  const std::string request = guarded_txn_request(
      "/p/", "/p0", 41, {{TxnWrite::Kind::Put, "/p/a.yaml", "x: 1"}, {TxnWrite::Kind::Delete, "/p/b.yaml", ""}});
  EXPECT_EQ(request,
            R"({"compare":[{"key":"L3Av","range_end":"L3Aw","target":"MOD","result":"LESS","mod_revision":"42"}],)"
            R"("success":[{"request_put":{"key":"L3AvYS55YW1s","value":"eDogMQ=="}},)"
            R"({"request_delete_range":{"key":"L3AvYi55YW1s"}}]})");
}

TEST(EtcdJson, ReadsTxnAnswersSucceededOrNot) {
  std::string error;
  const auto won = parse_txn_response(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"2","raft_term":"2"},"succeeded":true,)"
      R"("responses":[{"response_put":{"header":{"revision":"2"}}},{"response_delete_range":{"header":{"revision":"2"}}}]})",
      error);
  ASSERT_TRUE(won) << error;
  EXPECT_TRUE(won->succeeded);
  EXPECT_EQ(won->revision, 2);
  // A failed compare: the gateway leaves "succeeded" (false) and "responses" (empty) out.
  const auto lost = parse_txn_response(
      R"({"header":{"cluster_id":"1","member_id":"2","revision":"2","raft_term":"2"}})", error);
  ASSERT_TRUE(lost) << error;
  EXPECT_FALSE(lost->succeeded);
  EXPECT_FALSE(parse_txn_response(R"({"header":{"revision":"2"},"succeeded":"yes"})", error));
}

TEST(EtcdJson, ErrorAnswersGiveTheirMessage) {
  EXPECT_EQ(error_message(R"({"error":"etcdserver: mvcc: required revision is a future revision",)"
                          R"("message":"etcdserver: mvcc: required revision is a future revision","code":11})"),
            "etcdserver: mvcc: required revision is a future revision");
  EXPECT_EQ(error_message("<html>"), "");
}

TEST(EtcdJson, MemberUrlsAreHttpOrHttpsWithAPort) {
  std::string error;
  const EtcdTlsFiles no_tls;
  const auto members = parse_member_urls("http://127.0.0.1:2379,http://[::1]:2380/", no_tls, error);
  ASSERT_TRUE(members) << error;
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].host, "127.0.0.1");
  EXPECT_EQ((*members)[0].port, 2379);
  EXPECT_FALSE((*members)[0].tls);
  EXPECT_EQ((*members)[1].host, "::1");
  // https with the system store: one client context shared by the https members, none for the http one.
  const auto mixed = parse_member_urls("https://127.0.0.1:2379,http://127.0.0.1:2380,https://10.0.0.1:2379", no_tls, error);
  ASSERT_TRUE(mixed) << error;
  EXPECT_TRUE((*mixed)[0].tls);
  EXPECT_FALSE((*mixed)[1].tls);
  EXPECT_EQ((*mixed)[0].tls_context, (*mixed)[2].tls_context);
  EXPECT_NE((*mixed)[0].tls_context, nullptr);
  EXPECT_FALSE(parse_member_urls("http://127.0.0.1", no_tls, error));
  EXPECT_FALSE(parse_member_urls("http://127.0.0.1:2379/v3", no_tls, error));
  EXPECT_FALSE(parse_member_urls("grpc://127.0.0.1:2379", no_tls, error));
  EXPECT_FALSE(parse_member_urls("http://127.0.0.1:2379", EtcdTlsFiles{"/ca.pem", "", ""}, error));
  EXPECT_EQ(error, "--etcd-ca, --etcd-cert and --etcd-key go with https:// member URLs");
  EXPECT_FALSE(parse_member_urls("https://127.0.0.1:2379", EtcdTlsFiles{"/nonexistent/ca.pem", "", ""}, error));
  EXPECT_TRUE(error.starts_with("--etcd-ca: ")) << error;
}

TEST(EtcdPolicy, TheKeysUnderThePrefixAreThePolicyFiles) {
  RangeResult range;
  range.revision = 12;
  range.kvs.push_back({"/p/base.yaml", "version: 1\n", 3, 12, 2});
  range.kvs.push_back({"/p/groups/zone-a.yaml", "selector: {zone: a}\n", 3, 3, 1});
  range.kvs.push_back({"/p/.publish", R"({"author":"ana","content_hash":"abc"})", 3, 12, 2});
  range.kvs.push_back({"/p/notes.txt", "hi", 4, 4, 1});
  const auto read = policy_from_range("/p", range);
  EXPECT_EQ(read.files.root, "/p");
  ASSERT_EQ(read.files.files.size(), 2u);
  EXPECT_EQ(read.files.files.at("base.yaml"), "version: 1\n");
  EXPECT_EQ(read.files.name_of("groups/zone-a.yaml"), "/p/groups/zone-a.yaml");
  ASSERT_TRUE(read.meta);
  EXPECT_EQ(read.meta->author, "ana");
  ASSERT_EQ(read.errors.size(), 1u);
  EXPECT_EQ(read.errors[0], "/p/notes.txt: not a policy file (keys under /p/ are NAME.yaml, groups/NAME.yaml and .publish)");
  std::string error;
  EXPECT_EQ(normalize_prefix("/tollway/policy//", error).value(), "/tollway/policy");
  EXPECT_FALSE(normalize_prefix("tollway", error));
  EXPECT_FALSE(normalize_prefix("/", error));
}

TEST(EtcdPolicy, TheFingerprintChangesWithAnyKeyOrModRevision) {
  RangeResult a;
  a.kvs.push_back({"/p/a.yaml", "", 1, 5, 1});
  RangeResult b = a;
  EXPECT_EQ(range_fingerprint(a), range_fingerprint(b));
  b.kvs[0].mod_revision = 6;
  EXPECT_NE(range_fingerprint(a), range_fingerprint(b));
  RangeResult c = a;
  c.kvs.push_back({"/p/b.yaml", "", 7, 7, 1});
  EXPECT_NE(range_fingerprint(a), range_fingerprint(c));
}

}  // namespace
}  // namespace tollway::control::etcd

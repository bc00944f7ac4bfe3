// The history shared through etcd: keys sort as counters beside (never under) the policy prefix, a record
// round-trips with its files byte for byte, and another plane's history imports it under the same revision, with
// its changes against the parent; a different version under a counter already taken is refused.
#include <gtest/gtest.h>

#include "control/ha/etcd_history.h"

namespace tollway::control::ha {
namespace {

TEST(EtcdHistory, KeysLiveBesideThePolicyPrefixAndSortAsCounters) {
  EXPECT_EQ(writer_key("/tollway/policy"), "/tollway/policy.control/writer");
  EXPECT_EQ(history_key("/tollway/policy", 42), "/tollway/policy.control/history/00000000000000000042");
  EXPECT_LT(history_key("/p", 9), history_key("/p", 10));
  EXPECT_FALSE(writer_key("/p").starts_with("/p/"));
  EXPECT_EQ(history_counter("/p", history_key("/p", 42)), 42);
  EXPECT_FALSE(history_counter("/p", "/p.control/history/42"));
  EXPECT_FALSE(history_counter("/p", "/q.control/history/00000000000000000042"));
  EXPECT_FALSE(history_counter("/p", "/p.control/history/0000000000000000004x"));
  EXPECT_FALSE(history_counter("/p", writer_key("/p")));
}

TEST(EtcdHistory, ARecordRoundTripsAndImportsUnderTheSameRevision) {
  std::string error;
  auto writer = PolicyHistory::open("", false, error);
  auto follower = PolicyHistory::open("", false, error);
  ASSERT_TRUE(writer && follower) << error;
  PublishMeta meta;
  meta.author = "Ana";
  meta.note = "first";
  const PolicyFiles first{"/p", {{"base.yaml", "version: 1\n"}, {"nodes.yaml", std::string("a\0\xff", 3)}}};
  const PolicyFiles second{"/p", {{"base.yaml", "version: 1\ngateway: {}\n"}, {"nodes.yaml", "n"}}};
  for (const auto* files : {&first, &second}) {
    auto version = writer->record(*files, "etcd /p", meta, error);
    ASSERT_TRUE(version) << error;
    auto shared = parse_version_json(version_json(*version, files->files), error);
    ASSERT_TRUE(shared) << error;
    EXPECT_EQ(shared->files, files->files);
    EXPECT_EQ(shared->record.meta.author, "Ana");
    ASSERT_TRUE(follower->import(shared->record, shared->files, error)) << error;
    ASSERT_TRUE(follower->import(shared->record, shared->files, error)) << "importing twice changes nothing";
  }
  auto mine = writer->list(error);
  auto theirs = follower->list(error);
  ASSERT_TRUE(mine && theirs);
  ASSERT_EQ(theirs->size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*theirs)[i].revision, (*mine)[i].revision);
    EXPECT_EQ((*theirs)[i].published_at, (*mine)[i].published_at);
    EXPECT_EQ((*theirs)[i].parent, (*mine)[i].parent);
    ASSERT_EQ((*theirs)[i].changes.size(), (*mine)[i].changes.size());
  }
  // A different version under counter 2 is refused.
  auto other = follower->next_version(PolicyFiles{"/p", {{"base.yaml", "other"}}}, "etcd /p", meta, error);
  ASSERT_TRUE(other);
  other->counter = 2;
  other->revision = "2-" + other->content_hash.substr(0, 12);
  EXPECT_FALSE(follower->import(*other, {{"base.yaml", "other"}}, error));
  EXPECT_NE(error.find("holds 2-"), std::string::npos) << error;
}

TEST(EtcdHistory, RefusesWhatIsNotARecord) {
  std::string error;
  EXPECT_FALSE(parse_version_json("{}", error));
  EXPECT_FALSE(parse_version_json(
      R"({"counter":3,"revision":"4-abc","content_hash":"abc","parent":"","published_at":"t","store":"s","meta":{},"files":{}})",
      error));
  EXPECT_EQ(error, "revision does not start with its counter");
  EXPECT_FALSE(parse_version_json(
      R"({"counter":3,"revision":"3-abc","content_hash":"abc","parent":"","published_at":"t","store":"s","meta":{},"files":{"a.yaml":"!"}})",
      error));
  EXPECT_EQ(error, "files.a.yaml is not base64");
}

}  // namespace
}  // namespace tollway::control::ha

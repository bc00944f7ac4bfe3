// The history store (SQLite): versions numbered in order, the same content keeps its version, per-file and
// per-key changes, every version's files, lookups by revision, counter and hash prefix, and a version written
// before a crash is there after it (a second connection to the same file sees it); NACKs kept newest first, bounded.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "control/policy_history.h"
#include "control/unified_diff.h"

namespace tollway::control {
namespace {

PolicyFiles files(std::map<std::string, std::string> f) { return PolicyFiles{"/policy", std::move(f)}; }

class HistoryFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tollway-history-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/history.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(HistoryFile, RecordsVersionsInOrderWithTheirChangesAndFiles) {
  std::string error;
  auto history = PolicyHistory::open(path_, false, error);
  ASSERT_TRUE(history) << error;
  EXPECT_FALSE(history->latest(error));
  PublishMeta ana;
  ana.author = "Ana <ana@example.com>";
  ana.commit = "0123456789abcdef0123456789abcdef01234567";
  const auto v1 = history->record(files({{"base.yaml", "version: 1\n"}, {"nodes.yaml", "nodes: {}\n"}}),
                                  "etcd /p", ana, error);
  ASSERT_TRUE(v1) << error;
  EXPECT_EQ(v1->counter, 1);
  EXPECT_EQ(v1->revision, "1-" + v1->content_hash.substr(0, 12));
  EXPECT_EQ(v1->parent, "");
  ASSERT_EQ(v1->changes.size(), 2u);
  EXPECT_EQ(v1->changes[0].change, "added");

  // The same content again keeps its version.
  const auto same = history->record(files({{"base.yaml", "version: 1\n"}, {"nodes.yaml", "nodes: {}\n"}}),
                                    "etcd /p", PublishMeta{}, error);
  ASSERT_TRUE(same) << error;
  EXPECT_EQ(same->revision, v1->revision);

  PublishMeta bo;
  bo.author = "bo";
  const auto v2 = history->record(
      files({{"base.yaml", "version: 1\ngateway:\n  workers: 2\n"}, {"groups/a.yaml", "selector: {zone: a}\n"}}),
      "etcd /p", bo, error);
  ASSERT_TRUE(v2) << error;
  EXPECT_EQ(v2->counter, 2);
  EXPECT_EQ(v2->parent, v1->revision);
  EXPECT_EQ(describe_changes(v2->changes),
            "removed nodes.yaml\nchanged base.yaml (gateway)\nadded groups/a.yaml");

  // Back to the first content: a new version (3) with the first one's hash.
  const auto v3 = history->record(files({{"base.yaml", "version: 1\n"}, {"nodes.yaml", "nodes: {}\n"}}), "etcd /p",
                                  PublishMeta{}, error);
  ASSERT_TRUE(v3) << error;
  EXPECT_EQ(v3->counter, 3);
  EXPECT_EQ(v3->content_hash, v1->content_hash);

  // A second connection (as after a crash, or `tollway control history`) reads what was committed.
  auto reader = PolicyHistory::open(path_, true, error);
  ASSERT_TRUE(reader) << error;
  const auto all = reader->list(error);
  ASSERT_TRUE(all) << error;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].revision, v3->revision);
  EXPECT_EQ((*all)[2].meta.author, "Ana <ana@example.com>");
  EXPECT_EQ((*all)[2].meta.commit, ana.commit);
  EXPECT_EQ((*all)[1].changes.size(), 3u);
  const auto v2_files = reader->files_of(2, error);
  ASSERT_TRUE(v2_files) << error;
  EXPECT_EQ(v2_files->at("groups/a.yaml"), "selector: {zone: a}\n");

  EXPECT_EQ(reader->find(v2->revision, error)->counter, 2);
  EXPECT_EQ(reader->find("2", error)->counter, 2);
  EXPECT_EQ(reader->find(v2->content_hash.substr(0, 8), error)->counter, 2);
  EXPECT_EQ(reader->find(v1->content_hash.substr(0, 8), error)->counter, 3);  // the newest with that content
  EXPECT_FALSE(reader->find("9", error));
  EXPECT_EQ(error, "no version \"9\" in the history");
  EXPECT_FALSE(reader->find("latest", error));
  EXPECT_NE(error.find("is not a version"), std::string::npos);
}

TEST_F(HistoryFile, AFileThatIsNotAHistoryIsRefused) {
  { std::ofstream(path_) << "not sqlite"; }
  std::string error;
  EXPECT_FALSE(PolicyHistory::open(path_, true, error));
  EXPECT_FALSE(error.empty());
}

TEST(PolicyHistory, InMemoryWithoutAStateDir) {
  std::string error;
  auto history = PolicyHistory::open("", false, error);
  ASSERT_TRUE(history) << error;
  EXPECT_EQ(history->record(files({{"a.yaml", "a: 1\n"}}), "directory /policy", PublishMeta{}, error)->counter, 1);
}

TEST_F(HistoryFile, NacksAreKeptNewestFirstAcrossARestart) {
  std::string error;
  {
    auto history = PolicyHistory::open(path_, false, error);
    ASSERT_TRUE(history) << error;
    const auto none = history->nacks(10, error);
    ASSERT_TRUE(none) << error;
    EXPECT_EQ(none->total, 0);
    EXPECT_TRUE(none->newest.empty());
    ASSERT_TRUE(history->record_nack({"2026-12-07T10:00:00Z", "gw-a", "v1", "pricing.file: cannot read"}, error));
    ASSERT_TRUE(history->record_nack({"2026-12-07T10:00:01Z", "gw-b", "v1", "pricing.file: cannot read"}, error));
    ASSERT_TRUE(history->record_nack({"2026-12-07T10:05:00Z", "gw-a", "v2", "limits: unknown key"}, error));
  }
  auto reopened = PolicyHistory::open(path_, false, error);
  ASSERT_TRUE(reopened) << error;
  const auto nacks = reopened->nacks(2, error);
  ASSERT_TRUE(nacks) << error;
  EXPECT_EQ(nacks->total, 3);
  EXPECT_EQ(nacks->nodes, 2);
  ASSERT_EQ(nacks->newest.size(), 2u);
  EXPECT_EQ(nacks->newest[0].node, "gw-a");
  EXPECT_EQ(nacks->newest[0].version, "v2");
  EXPECT_EQ(nacks->newest[0].reason, "limits: unknown key");
  EXPECT_EQ(nacks->newest[1].node, "gw-b");
}

TEST(PolicyHistory, OnlyTheNewestNacksAreKept) {
  std::string error;
  auto history = PolicyHistory::open("", false, error);
  ASSERT_TRUE(history) << error;
  for (int64_t i = 0; i < kNackHistoryLimit + 5; ++i)
    ASSERT_TRUE(history->record_nack({"2026-12-07T10:00:00Z", "node-" + std::to_string(i % 3), std::to_string(i), "x"},
                                     error));
  const auto nacks = history->nacks(1, error);
  ASSERT_TRUE(nacks) << error;
  EXPECT_EQ(nacks->total, kNackHistoryLimit);
  EXPECT_EQ(nacks->newest.front().version, std::to_string(kNackHistoryLimit + 4));
}

TEST(UnifiedDiff, HunksWithThreeLinesOfContext) {
  // Changes 7 lines apart are two hunks; 6 apart, one (as GNU diff -u).
  const std::string before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
  const std::string after = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\n";
  EXPECT_EQ(unified_diff("1/x.yaml", before, "2/x.yaml", after),
            "--- 1/x.yaml\n+++ 2/x.yaml\n"
            "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
            "@@ -9,3 +9,4 @@\n i\n j\n k\n+l\n");
  EXPECT_EQ(unified_diff("1/x.yaml", "a\nb\nc\nd\ne\nf\ng\nh\n", "2/x.yaml", "A\nb\nc\nd\ne\nf\ng\nH\n"),
            "--- 1/x.yaml\n+++ 2/x.yaml\n@@ -1,8 +1,8 @@\n-a\n+A\n b\n c\n d\n e\n f\n g\n-h\n+H\n");
  EXPECT_EQ(unified_diff("a", "same\n", "b", "same\n"), "");
  EXPECT_EQ(unified_diff("/dev/null", "", "2/n.yaml", "x: 1\n"), "--- /dev/null\n+++ 2/n.yaml\n@@ -0,0 +1,1 @@\n+x: 1\n");
  EXPECT_EQ(unified_diff("1/n.yaml", "x: 1\ny: 2\n", "/dev/null", ""),
            "--- 1/n.yaml\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-x: 1\n-y: 2\n");
}

}  // namespace
}  // namespace tollway::control

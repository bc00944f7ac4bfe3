// Spend queries: strict parameter parsing (each error names its parameter), RFC 3339 / unix-second times, and
// grouping, bucketing, range and totals on a real spend log file — plus the schema migration of a file written
// before cached_input_tokens existed.
#include "limits/spend_query.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "limits/spend_log.h"

namespace tollway::limits {
namespace {

constexpr int64_t kNow = 1'796'000'000'000;  // 2026-11-30T...Z
constexpr int64_t kHour = 3'600'000;

std::optional<SpendQuery> parse(std::string_view q, SpendQueryError* error = nullptr) {
  SpendQueryError e;
  auto out = parse_spend_query(q, kNow, e);
  if (error) *error = e;
  return out;
}

TEST(SpendQueryParse, DefaultsToTheLastThirtyDaysAsOneGroup) {
  auto q = parse("");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->group_by.empty());
  EXPECT_EQ(q->bucket, SpendBucket::None);
  EXPECT_EQ(q->to_ms, kNow);
  EXPECT_EQ(q->from_ms, kNow - 30 * 24 * kHour);
}

TEST(SpendQueryParse, ReadsEveryParameter) {
  auto q = parse("group_by=tenant,model,key&bucket=day&from=2026-12-01T00:00:00Z&to=1796169600");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->group_by, (std::vector{SpendDimension::Tenant, SpendDimension::Model, SpendDimension::Key}));
  EXPECT_EQ(q->bucket, SpendBucket::Day);
  EXPECT_EQ(q->from_ms, 1'796'083'200'000);
  EXPECT_EQ(q->to_ms, 1'796'169'600'000);
}

TEST(SpendQueryParse, Rfc3339OffsetsFractionsAndPercentEncoding) {
  auto q = parse("from=2026-12-01T02:30:00.250%2B02:30&to=2026-12-01t01:00:00z");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->from_ms, 1'796'083'200'250);
  EXPECT_EQ(q->to_ms, 1'796'083'200'000 + kHour);
  EXPECT_EQ(rfc3339_ms(q->from_ms), "2026-12-01T00:00:00.250Z");
  EXPECT_EQ(rfc3339_ms(q->to_ms), "2026-12-01T01:00:00Z");
}

TEST(SpendQueryParse, RefusesNamingTheParameter) {
  const std::pair<const char*, const char*> cases[] = {
      {"group_by=tenant,colour", "group_by"}, {"group_by=tenant,tenant", "group_by"},
      {"group_by=", "group_by"},              {"group_by=model&group_by=key", "group_by"},
      {"bucket=week", "bucket"},              {"bucket=", "bucket"},
      {"from=yesterday", "from"},             {"from=2026-13-01T00:00:00Z", "from"},
      {"from=2026-12-01T00:00:00", "from"},   {"to=2026-12-01T00:00:00Z&to=1", "to"},
      {"to=-5", "to"},                        {"limit=10", "limit"},
      {"from=2000&to=1000", "from"},          {"from=%zz", "from"},
  };
  for (const auto& [query, parameter] : cases) {
    SpendQueryError error;
    EXPECT_FALSE(parse(query, &error)) << query;
    EXPECT_EQ(error.parameter, parameter) << query;
    EXPECT_NE(error.message.find(parameter), std::string::npos) << query << ": " << error.message;
  }
}

TEST(SpendQueryFormat, UsdDecimalIsExact) {
  EXPECT_EQ(usd_decimal(0), "0.000000");
  EXPECT_EQ(usd_decimal(1), "0.000001");
  EXPECT_EQ(usd_decimal(12'345'678), "12.345678");
  EXPECT_EQ(usd_decimal(-1'500'000), "-1.500000");
}

class SpendQueryFileTest : public ::testing::Test {
 protected:
  SpendQueryFileTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("tollway-spend-query-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "spend.db").string();
  }
  ~SpendQueryFileTest() override { std::filesystem::remove_all(dir_); }

  static SpendRecord record(int64_t at_ms, std::string tenant, std::string model, std::string key, int64_t tokens) {
    SpendRecord r;
    r.at_ms = at_ms;
    r.request_id = "r" + std::to_string(at_ms);
    r.tenant = std::move(tenant);
    r.model = std::move(model);
    r.key_id = std::move(key);
    r.provider = "openai";
    r.input_tokens = tokens;
    r.output_tokens = 2 * tokens;
    r.cached_input_tokens = tokens / 10;
    r.cost_micro_usd = 7 * tokens;
    return r;
  }

  void write(const std::vector<SpendRecord>& records) {
    SpendLogOptions options;
    options.path = path_;
    auto log = SpendLog::open(options);
    for (const auto& r : records) log->append(r);
    log->flush();
  }

  std::filesystem::path dir_;
  std::string path_;
};

// 2026-12-01T00:00:00Z and three hours of calls.
constexpr int64_t kDay = 1'796'083'200'000;

TEST_F(SpendQueryFileTest, GroupsBucketsAndRespectsTheRange) {
  write({record(kDay - 1, "acme", "gpt-4o", "vk_a", 1000),  // before the range
         record(kDay, "acme", "gpt-4o", "vk_a", 100), record(kDay + 10, "acme", "gpt-4o", "vk_b", 200),
         record(kDay + kHour, "acme", "claude", "vk_a", 300), record(kDay + kHour + 5, "beta", "gpt-4o", "vk_c", 400),
         record(kDay + 3 * kHour, "acme", "gpt-4o", "vk_a", 5000)});  // at `to`: excluded
  SpendQuery q{{SpendDimension::Tenant, SpendDimension::Model}, SpendBucket::Hour, kDay, kDay + 3 * kHour};
  const auto rows = query_spend_file(path_, q);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].bucket, "2026-12-01T00:00:00Z");
  EXPECT_EQ(rows[0].group, (std::vector<std::string>{"acme", "gpt-4o"}));
  EXPECT_EQ(rows[0].totals.requests, 2);
  EXPECT_EQ(rows[0].totals.input_tokens, 300);
  EXPECT_EQ(rows[0].totals.output_tokens, 600);
  EXPECT_EQ(rows[0].totals.cached_input_tokens, 30);
  EXPECT_EQ(rows[0].totals.cost_micro_usd, 2100);
  EXPECT_EQ(rows[1].bucket, "2026-12-01T01:00:00Z");
  EXPECT_EQ(rows[1].group, (std::vector<std::string>{"acme", "claude"}));
  EXPECT_EQ(rows[2].group, (std::vector<std::string>{"beta", "gpt-4o"}));
  EXPECT_EQ(rows[2].totals.input_tokens, 400);

  q = SpendQuery{{SpendDimension::Key}, SpendBucket::None, kDay, kDay + 3 * kHour};
  const auto by_key = query_spend_file(path_, q);
  ASSERT_EQ(by_key.size(), 3u);
  EXPECT_EQ(by_key[0].group[0], "vk_a");
  EXPECT_EQ(by_key[0].totals.requests, 2);
  EXPECT_EQ(by_key[0].totals.input_tokens, 400);
  EXPECT_EQ(by_key[0].bucket, "");

  q = SpendQuery{{}, SpendBucket::Month, kDay - kHour, kDay + 4 * kHour};
  const auto months = query_spend_file(path_, q);
  ASSERT_EQ(months.size(), 2u);
  EXPECT_EQ(months[0].bucket, "2026-11-01T00:00:00Z");
  EXPECT_EQ(months[1].bucket, "2026-12-01T00:00:00Z");
  EXPECT_EQ(months[1].totals.requests, 5);

  const std::string json = spend_report_json(SpendQuery{{SpendDimension::Tenant}, SpendBucket::Day, kDay, kDay + kHour},
                                             {SpendRow{{"acme"}, "2026-12-01T00:00:00Z", {2, 300, 600, 30, 2100, 1}}});
  EXPECT_EQ(json,
            "{\"from\":\"2026-12-01T00:00:00Z\",\"to\":\"2026-12-01T01:00:00Z\",\"bucket\":\"day\","
            "\"group_by\":[\"tenant\"],\"groups\":[{\"tenant\":\"acme\",\"bucket\":\"2026-12-01T00:00:00Z\","
            "\"requests\":2,\"input_tokens\":300,\"output_tokens\":600,\"total_tokens\":900,"
            "\"cached_input_tokens\":30,\"cost_micro_usd\":2100,\"cost_usd\":\"0.002100\",\"estimated_requests\":1}],"
            "\"total\":{\"requests\":2,\"input_tokens\":300,\"output_tokens\":600,\"total_tokens\":900,"
            "\"cached_input_tokens\":30,\"cost_micro_usd\":2100,\"cost_usd\":\"0.002100\",\"estimated_requests\":1}}\n");
}

TEST_F(SpendQueryFileTest, KeySpendSinceUsesOnlyThatKey) {
  write({record(kDay, "acme", "m", "vk_a", 10), record(kDay + 1, "acme", "m", "vk_b", 20),
         record(kDay + 2, "acme", "m", "vk_a", 30)});
  EXPECT_EQ(key_spend_since(path_, "vk_a", kDay).cost_micro_usd, 7 * 40);
  EXPECT_EQ(key_spend_since(path_, "vk_a", kDay + 1).requests, 1);
  EXPECT_EQ(key_spend_since(path_, "vk_none", 0).requests, 0);
}

// A file written by the first schema (no cached_input_tokens, no key index, user_version 0) is readable as is and
// migrated in place when the gateway opens it.
TEST_F(SpendQueryFileTest, MigratesAFileOfTheFirstSchema) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE spend (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, request_id TEXT NOT NULL,"
                         " tenant TEXT NOT NULL, agent_group TEXT NOT NULL, agent TEXT NOT NULL, key_id TEXT NOT NULL,"
                         " model TEXT NOT NULL, session TEXT NOT NULL, provider TEXT NOT NULL, fanout_root TEXT NOT NULL,"
                         " requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,"
                         " cost_micro_usd INTEGER NOT NULL, estimated INTEGER NOT NULL);"
                         "INSERT INTO spend VALUES (1, 1796083200000, 'r1', 'acme', '', '', 'vk_a', 'm', '', 'p', '',"
                         " 1, 50, 5, 900, 0);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const SpendQuery all{{SpendDimension::Tenant}, SpendBucket::None, 0, kDay + 10 * kHour};
  auto rows = query_spend_file(path_, all);  // read-only, before any migration
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].totals.cached_input_tokens, 0);
  write({record(kDay + 1, "acme", "m", "vk_a", 100)});  // opens, migrates, appends
  rows = query_spend_file(path_, all);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].totals.requests, 2);
  EXPECT_EQ(rows[0].totals.cached_input_tokens, 10);
  EXPECT_EQ(key_spend_since(path_, "vk_a", 0).cost_micro_usd, 900 + 700);
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'spend_by_key'", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 1);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

}  // namespace
}  // namespace tollway::limits

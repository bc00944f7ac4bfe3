#include "limits/redis/redis_url.h"

#include <gtest/gtest.h>

namespace tollway::limits::redis {
namespace {

TEST(RedisUrl, ReadsEveryPart) {
  std::string error;
  auto o = parse_redis_url("redis://127.0.0.1:6390/2", error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 6390);
  EXPECT_EQ(o->db, 2);
  EXPECT_TRUE(o->password.empty());
  o = parse_redis_url("redis://:s3cr@t@redis.internal", error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->host, "redis.internal");
  EXPECT_EQ(o->port, 6379);
  EXPECT_EQ(o->password, "s3cr@t");
  EXPECT_TRUE(o->username.empty());
  o = parse_redis_url("redis://gateway:pw@localhost:7000/", error);
  ASSERT_TRUE(o) << error;
  EXPECT_EQ(o->username, "gateway");
  EXPECT_EQ(o->db, 0);
}

TEST(RedisUrl, ErrorsSayWhatIsWrongWithoutThePassword) {
  std::string error;
  for (const char* bad : {"rediss://h:1", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x",
                          "redis://h/x", "redis://pw@h", "redis://:@h", "redis://[::1]:6379"}) {
    EXPECT_FALSE(parse_redis_url(bad, error)) << bad;
    EXPECT_NE(error.find("allowed: redis://"), std::string::npos) << bad;
  }
  EXPECT_FALSE(parse_redis_url("redis://user:hunter2@h:99999", error));
  EXPECT_EQ(error.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace tollway::limits::redis

#include "telemetry/error_type.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace tollway::telemetry {
namespace {

bool listed(std::string_view v) {
  return std::find(kErrorTypes.begin(), kErrorTypes.end(), v) != kErrorTypes.end();
}

TEST(GenAiErrorType, SuccessHasNone) {
  for (int status : {200, 201, 204, 304}) EXPECT_EQ(genai_error_type({.status = status}), "") << status;
}

TEST(GenAiErrorType, ListedStatusesAreTheirCodeOthersAreOther) {
  EXPECT_EQ(genai_error_type({.status = 400}), "400");
  EXPECT_EQ(genai_error_type({.status = 429}), "429");
  EXPECT_EQ(genai_error_type({.status = 502}), "502");
  EXPECT_EQ(genai_error_type({.status = 529}), "529");
  EXPECT_EQ(genai_error_type({.status = 418}), "_OTHER");
  EXPECT_EQ(genai_error_type({.status = 599}), "_OTHER");
  EXPECT_EQ(genai_error_type({.status = 12345}), "_OTHER");
  EXPECT_EQ(genai_error_type({}), "_OTHER") << "no status sent and no other reason";
}

TEST(GenAiErrorType, TimeoutsWinOverTheStatus) {
  EXPECT_EQ(genai_error_type({.status = 504, .gateway_timeout = true}), "timeout");
  EXPECT_EQ(genai_error_type({.status = 504}), "504") << "a provider's own 504 keeps its code";
  EXPECT_EQ(genai_error_type({.status = 200, .body_timeout = true}), "timeout");
}

TEST(GenAiErrorType, A2xxThatDidNotEndNormally) {
  EXPECT_EQ(genai_error_type({.status = 200, .client_gone = true}), "client_closed");
  EXPECT_EQ(genai_error_type({.status = 200, .body_broken = true}), "response_cut");
  EXPECT_EQ(genai_error_type({.status = 200, .provider_error_event = true}), "provider_error_event");
  EXPECT_EQ(genai_error_type({.status = 200, .client_gone = true, .provider_error_event = true}),
            "client_closed");
}

TEST(GenAiErrorType, EveryStatusMapsIntoTheBoundedSet) {
  std::set<std::string> seen;
  for (int status = 0; status < 1000; ++status)
    for (int flags = 0; flags < 32; ++flags) {
      const CallEnding e{.status = status,
                         .gateway_timeout = (flags & 1) != 0,
                         .client_gone = (flags & 2) != 0,
                         .body_timeout = (flags & 4) != 0,
                         .body_broken = (flags & 8) != 0,
                         .provider_error_event = (flags & 16) != 0};
      const std::string_view v = genai_error_type(e);
      if (v.empty()) continue;
      EXPECT_TRUE(listed(v)) << v;
      seen.emplace(v);
    }
  EXPECT_EQ(seen.size(), kErrorTypes.size()) << "every listed value is reachable";
}

}  // namespace
}  // namespace tollway::telemetry

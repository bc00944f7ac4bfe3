#include "telemetry/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace tollway::telemetry {
namespace {

TraceId id_with_lower(uint64_t lower) {
  TraceId id;
  id.bytes[0] = 0xAB;  // upper bytes must not matter
  for (int i = 0; i < 8; ++i) id.bytes[static_cast<std::size_t>(15 - i)] = static_cast<uint8_t>(lower >> (8 * i));
  return id;
}

TEST(ParentBasedRatioSampler, FollowsTheParent) {
  const ParentBasedRatioSampler never(0.0), always(1.0);
  const TraceId id = generate_trace_id();
  EXPECT_TRUE(never.should_sample(true, id));
  EXPECT_FALSE(always.should_sample(false, id));
  EXPECT_TRUE(always.should_sample(std::nullopt, id));
  EXPECT_FALSE(never.should_sample(std::nullopt, id));
}

TEST(ParentBasedRatioSampler, RootDecisionUsesTheLowerEightBytesBigEndian) {
  const ParentBasedRatioSampler half(0.5);
  EXPECT_EQ(half.threshold(), uint64_t{1} << 62);
  // (lower >> 1) < 2^62  <=>  lower < 2^63
  EXPECT_TRUE(half.should_sample_root(id_with_lower(0)));
  EXPECT_TRUE(half.should_sample_root(id_with_lower((uint64_t{1} << 63) - 1)));
  EXPECT_FALSE(half.should_sample_root(id_with_lower(uint64_t{1} << 63)));
  EXPECT_FALSE(half.should_sample_root(id_with_lower(std::numeric_limits<uint64_t>::max())));
  // Changing the upper 8 bytes never changes the decision.
  TraceId a = id_with_lower(uint64_t{1} << 63), b = a;
  b.bytes[3] = 0x55;
  EXPECT_EQ(half.should_sample_root(a), half.should_sample_root(b));
  EXPECT_TRUE(ParentBasedRatioSampler(1.0).should_sample_root(id_with_lower(std::numeric_limits<uint64_t>::max())));
}

TEST(ParentBasedRatioSampler, ClampsTheRatio) {
  EXPECT_EQ(ParentBasedRatioSampler(-1).ratio(), 0.0);
  EXPECT_EQ(ParentBasedRatioSampler(7).ratio(), 1.0);
  EXPECT_EQ(ParentBasedRatioSampler(std::nan("")).ratio(), 0.0);
  EXPECT_FALSE(ParentBasedRatioSampler(0).should_sample_root(id_with_lower(0)));
}

TEST(ParentBasedRatioSampler, IsDeterministicAcrossInstances) {
  const ParentBasedRatioSampler a(0.25), b(0.25);
  for (int i = 0; i < 1000; ++i) {
    const TraceId id = generate_trace_id();
    EXPECT_EQ(a.should_sample_root(id), b.should_sample_root(id));
    EXPECT_EQ(a.should_sample_root(id), a.should_sample_root(id));
  }
}

TEST(ParentBasedRatioSampler, SampledFractionMatchesTheRatio) {
  std::mt19937_64 rng(12345);
  constexpr int kIds = 200000;
  for (double ratio : {0.001, 0.01, 0.1, 0.25, 0.5, 0.9}) {
    const ParentBasedRatioSampler sampler(ratio);
    int sampled = 0;
    for (int i = 0; i < kIds; ++i) {
      TraceId id;
      const uint64_t hi = rng(), lo = rng();
      for (int k = 0; k < 8; ++k) {
        id.bytes[static_cast<std::size_t>(k)] = static_cast<uint8_t>(hi >> (8 * k));
        id.bytes[static_cast<std::size_t>(8 + k)] = static_cast<uint8_t>(lo >> (8 * k));
      }
      sampled += sampler.should_sample_root(id) ? 1 : 0;
    }
    // Binomial: 5 standard deviations.
    const double expected = ratio * kIds;
    const double tolerance = 5 * std::sqrt(kIds * ratio * (1 - ratio));
    EXPECT_NEAR(sampled, expected, tolerance) << "ratio " << ratio;
  }
}

TEST(ParentBasedRatioSampler, NestedRatiosSampleSubsets) {
  // A trace sampled at 10% is also sampled at 50%: the threshold is monotonic in the ratio.
  const ParentBasedRatioSampler low(0.1), high(0.5);
  for (int i = 0; i < 10000; ++i) {
    const TraceId id = generate_trace_id();
    if (low.should_sample_root(id)) {
      EXPECT_TRUE(high.should_sample_root(id));
    }
  }
}

}  // namespace
}  // namespace tollway::telemetry

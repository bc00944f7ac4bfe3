#include "sidecar/trace_config.h"

#include <gtest/gtest.h>

namespace tollway::sidecar {
namespace {

const std::string kHead =
    "version: 1\nsidecar:\n  spiffe_id: spiffe://example.org/a\n  agent: 127.0.0.1:8000\n"
    "  tls: {cert_file: a, key_file: b, bundle_file: c}\n";

config::EnvLookup env_with_secret() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (name == "FANOUT_SECRET") return std::string(40, 's');
    return std::nullopt;
  };
}

std::string errors_of(const SidecarLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

TEST(SidecarTraceConfig, DefaultsLogOrphansSixteenHopsNoExportNoFanout) {
  const auto r = parse_sidecar_config(kHead, "s.yaml", env_with_secret());
  ASSERT_TRUE(r.config) << errors_of(r);
  EXPECT_EQ(r.config->orphans, SidecarConfig::Orphans::Log);
  EXPECT_EQ(r.config->max_hops, 16);
  EXPECT_FALSE(r.config->telemetry);
  EXPECT_TRUE(r.config->fanout_secret.empty());
}

TEST(SidecarTraceConfig, ReadsTheGatewaysTelemetrySectionAndTheRunawayKeys) {
  const auto r =
      parse_sidecar_config(kHead +
                               "telemetry:\n  tracing: {sample_ratio: 0.25}\n"
                               "  otlp: {endpoint: http://127.0.0.1:4318}\n"
                               "orphans: repair\nmax_hops: 3\nfanout: {secret: \"${env:FANOUT_SECRET}\"}\n",
                           "s.yaml", env_with_secret());
  ASSERT_TRUE(r.config) << errors_of(r);
  const SidecarConfig& c = *r.config;
  ASSERT_TRUE(c.telemetry);
  EXPECT_EQ(c.telemetry->service_name, "tollway-sidecar");
  EXPECT_DOUBLE_EQ(c.telemetry->sample_ratio, 0.25);
  EXPECT_EQ(c.telemetry->otlp.port, 4318);
  EXPECT_EQ(c.orphans, SidecarConfig::Orphans::Repair);
  EXPECT_EQ(c.max_hops, 3);
  EXPECT_EQ(c.fanout_secret, std::string(40, 's'));
  const auto off = parse_sidecar_config(kHead + "telemetry: {enabled: false}\n", "s.yaml", env_with_secret());
  ASSERT_TRUE(off.config) << errors_of(off);
  EXPECT_FALSE(off.config->telemetry);
}

TEST(SidecarTraceConfig, ErrorsNameTheKey) {
  for (const auto& [yaml, expected] : std::vector<std::pair<std::string, std::string>>{
           {"orphans: guess\n", "orphans: \"guess\" is not log or repair"},
           {"max_hops: 0\n", "max_hops: \"0\" is not a hop count from 1 to 255"},
           {"max_hops: 256\n", "max_hops"},
           {"fanout: {secret: short}\n", "fanout.secret: must be at least 32 bytes"},
           {"fanout: {}\n", "fanout.secret: required"},
           {"fanout: {secret: x, ttl: 1h}\n", "fanout.ttl"},
           {"telemetry: {tracing: {sample_ratio: 2}}\n", "telemetry.tracing.sample_ratio"},
       }) {
    const auto r = parse_sidecar_config(kHead + yaml, "s.yaml", env_with_secret());
    EXPECT_FALSE(r.config) << yaml;
    EXPECT_NE(errors_of(r).find(expected), std::string::npos) << yaml << " -> " << errors_of(r);
  }
}

}  // namespace
}  // namespace tollway::sidecar

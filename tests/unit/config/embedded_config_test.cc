// The default config compiled into the binary: it is config/gateway.yaml byte for byte, it validates, and its
// relative price file is the embedded copy of config/pricing.yaml (no file is read); a relative file that is not
// embedded is an error rather than a lookup in the working directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "config/embedded_config.h"

namespace tollway::config {
namespace {

std::string source_file(const std::string& relative) {
  const char* root = std::getenv("TOLLWAY_SOURCE_DIR");
  std::ifstream in(std::string(root ? root : ".") + "/" + relative, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const EnvLookup kNoEnvironment = [](const std::string&) { return std::optional<std::string>(); };

TEST(EmbeddedConfig, IsTheSourceTreesDefaultConfigAndPriceTable) {
  EXPECT_EQ(kEmbeddedGatewayYaml, source_file("config/gateway.yaml"));
  EXPECT_EQ(kEmbeddedPricingYaml, source_file("config/pricing.yaml"));
  EXPECT_EQ(embedded_config_file("pricing.yaml"), kEmbeddedPricingYaml);
  EXPECT_EQ(embedded_config_file("gateway.yaml"), std::nullopt);
}

TEST(EmbeddedConfig, ValidatesWithTheEmbeddedPriceTable) {
  const LoadResult result = load_embedded_gateway_config(kNoEnvironment);
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors.front().to_string());
  EXPECT_EQ(result.config->source, kEmbeddedConfigName);
  EXPECT_EQ(result.config->pricing.file, "embedded:pricing.yaml");
  EXPECT_FALSE(result.config->pricing.table_version.empty());
  EXPECT_FALSE(result.config->pricing.models.empty());
}

TEST(EmbeddedConfig, ARelativeFileThatIsNotEmbeddedIsAnError) {
  const std::string yaml = std::string(kEmbeddedGatewayYaml) + "\n";
  const std::string other = yaml.substr(0, yaml.find("file: pricing.yaml")) + "file: other.yaml" +
                            yaml.substr(yaml.find("file: pricing.yaml") + std::string("file: pricing.yaml").size());
  const LoadResult result = parse_gateway_config(other, std::string(kEmbeddedConfigName), kNoEnvironment);
  ASSERT_FALSE(result.config);
  ASSERT_FALSE(result.errors.empty());
  EXPECT_NE(result.errors.front().message.find("not embedded"), std::string::npos) << result.errors.front().to_string();
}

}  // namespace
}  // namespace tollway::config

#include "config/config_version.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/loader.h"

namespace tollway::config {
namespace {

VersionInputs base_inputs() {
  VersionInputs in;
  in.document = "version: 1\n";
  in.environment = {{"OPENAI_KEY", "sk-1"}, {"REGION", std::nullopt}};
  in.files = {{"/etc/tollway/pricing.yaml", "version: a\n"}, {"/etc/tollway/ca.pem", std::nullopt}};
  return in;
}

TEST(ConfigVersion, SameInputsSameVersionWhateverTheirOrder) {
  const std::string v = config_version(base_inputs());
  EXPECT_EQ(v.size(), 12u);
  EXPECT_EQ(config_version(base_inputs()), v);
  VersionInputs reordered = base_inputs();
  std::swap(reordered.environment[0], reordered.environment[1]);
  std::swap(reordered.files[0], reordered.files[1]);
  EXPECT_EQ(config_version(reordered), v);
}

TEST(ConfigVersion, ChangingAnyInputChangesTheVersion) {
  const std::string v = config_version(base_inputs());
  std::vector<VersionInputs> changed(9, base_inputs());
  changed[0].document = "version: 1\n# comment\n";
  changed[1].environment[0].value = "sk-2";          // an env value
  changed[2].environment[1].value = "";              // unset -> set to empty
  changed[3].environment[0].name = "OPENAI_KEY2";    // a different variable
  changed[4].environment.pop_back();                 // one variable fewer
  changed[5].files[0].value = "version: b\n";        // the price file's bytes
  changed[6].files[1].value = "";                    // unreadable -> empty
  changed[7].files[0].name = "/etc/tollway/p.yaml";  // the same bytes at another path
  changed[8].files.push_back({"/jwks.json", "{}"});  // one more file
  for (std::size_t i = 0; i < changed.size(); ++i) EXPECT_NE(config_version(changed[i]), v) << "change " << i;
}

TEST(ConfigVersion, InputsDoNotRunIntoEachOther) {
  VersionInputs a;
  a.environment = {{"A", "B"}};
  VersionInputs b;
  b.environment = {{"A=B", std::nullopt}};
  VersionInputs c;
  c.files = {{"A", "B"}};
  EXPECT_NE(config_version(a), config_version(b));
  EXPECT_NE(config_version(a), config_version(c));
}

const char* kConfig = R"(version: 1
providers:
  openai:
    api: openai
    base_url: http://127.0.0.1:9/v1
    api_key: ${env:TEST_KEY}
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
pricing:
  file: prices.yaml
auth:
  jwt:
    - issuer: https://issuer.example
      jwks_file: keys.json
credentials:
  providers:
    openai:
      - env: OPENAI_FROM_ENV
      - file: openai.key
)";

TEST(ConfigVersion, ReferencedFilesAreResolvedAsTheirReadersResolveThem) {
  const std::string dir = ::testing::TempDir() + "config_version_files";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/prices.yaml") << "version: \"p1\"\nmodels: []\n";
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TEST_KEY") return "sk-test";
    return std::nullopt;
  };
  const LoadResult r = parse_gateway_config(kConfig, dir + "/gateway.yaml", env);
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors.front().to_string());
  const auto files = referenced_files(*r.config);
  EXPECT_EQ(files, (std::vector<std::string>{dir + "/prices.yaml", dir + "/keys.json", dir + "/openai.key"}));
  EXPECT_EQ(referenced_variables(*r.config), std::vector<std::string>{"OPENAI_FROM_ENV"});
}

TEST(ConfigVersion, TheLoaderHashesEnvValuesAndFileBytes) {
  const std::string dir = ::testing::TempDir() + "config_version_loader";
  std::filesystem::remove_all(dir);  // the credential file must not exist yet
  std::filesystem::create_directories(dir);
  const std::string prices = dir + "/prices.yaml";
  std::ofstream(prices) << "version: \"p1\"\nmodels: []\n";
  std::string key = "sk-test";
  std::string from_env = "sk-env";
  const EnvLookup env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "TEST_KEY") return key;
    if (name == "OPENAI_FROM_ENV") return from_env;
    return std::nullopt;
  };
  auto version = [&] {
    const LoadResult r = parse_gateway_config(kConfig, dir + "/gateway.yaml", env);
    EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors.front().to_string());
    return r.config ? r.config->version : std::string();
  };
  const std::string v1 = version();
  EXPECT_EQ(version(), v1);
  key = "sk-other";  // an ${env:...} value
  const std::string v2 = version();
  EXPECT_NE(v2, v1);
  from_env = "sk-env-2";  // a credential source's variable
  const std::string v3 = version();
  EXPECT_NE(v3, v2);
  std::ofstream(prices) << "version: \"p2\"\nmodels: []\n";  // the price file only
  const std::string v4 = version();
  EXPECT_NE(v4, v3);
  std::ofstream(dir + "/openai.key") << "sk-from-file\n";  // a credential file appears
  EXPECT_NE(version(), v4);
}

}  // namespace
}  // namespace tollway::config

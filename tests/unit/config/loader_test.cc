#include "config/loader.h"

#include <gtest/gtest.h>

#include "../config_text.h"

#include <fstream>

#include "../test_pki.h"

namespace tollway::config {
namespace {

using test_text::all_errors;

EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

const char* kMinimal = R"(version: 1
providers:
  openai:
    api: openai
    base_url: https://api.openai.com/v1/
    api_key: sk-x
  local:
    api: openai
    base_url: http://127.0.0.1:8000
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
    max_body: 1MiB
models:
  - match: "llama-*"
    provider: local
)";

LoadResult parse(const std::string& text) { return parse_gateway_config(text, "test.yaml", no_env()); }

TEST(GatewayConfigLoader, ParsesAMinimalConfigWithDefaults) {
  auto r = parse(kMinimal);
  ASSERT_TRUE(r.config) << all_errors(r);
  const auto& c = *r.config;
  EXPECT_EQ(c.listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c.admin.to_string(), "127.0.0.1:9901");
  ASSERT_EQ(c.providers.size(), 2u);
  EXPECT_TRUE(c.providers[0].tls);
  EXPECT_EQ(c.providers[0].host, "api.openai.com");
  EXPECT_EQ(c.providers[0].port, 443);
  EXPECT_EQ(c.providers[0].path_prefix, "/v1");
  EXPECT_FALSE(c.providers[1].tls);
  EXPECT_EQ(c.providers[1].port, 8000);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].max_body, 1u << 20);
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].provider, 1u);
  EXPECT_EQ(c.version.size(), 12u);
  EXPECT_EQ(c.timeouts.header_read.count(), 10'000);
}

TEST(GatewayConfigLoader, ContentVersionIgnoresOnlyTheControlPlanesFirstLine) {
  const std::string body = "version: 1\nmodels: []\n";
  EXPECT_EQ(content_version(body), document_version(body));
  EXPECT_EQ(content_version("# tollway control plane: node gw-a, policy 3fa9c2d1e0b4\n" + body),
            document_version(body));
  EXPECT_EQ(content_version("# tollway control plane: node gw-a, policy 000000000000\n" + body),
            content_version(body));
  // Any other comment is content, and so is the header anywhere but the first line.
  EXPECT_NE(content_version("# my gateway\n" + body), content_version(body));
  EXPECT_NE(content_version(body + "# tollway control plane: node gw-a\n"), content_version(body));
  EXPECT_EQ(content_version("# tollway control plane: node gw-a"), document_version(""));
}

TEST(GatewayConfigLoader, TheShippedDefaultConfigIsValid) {
  const char* root = std::getenv("TOLLWAY_SOURCE_DIR");
  ASSERT_NE(root, nullptr);
  auto r = load_gateway_config_file(std::string(root) + "/config/gateway.yaml", no_env());
  ASSERT_TRUE(r.config) << all_errors(r);
  EXPECT_EQ(r.config->listen.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(r.config->admin.to_string(), "127.0.0.1:9901");
  EXPECT_EQ(r.config->providers.size(), 2u);
}

TEST(GatewayConfigLoader, ReportsFileLineKeyPathAndWhatIsAllowed) {
  auto r = parse(std::string(kMinimal) + "  - match: \"x-*\"\n    provider: nowhere\n");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "test.yaml:19: models[1].provider: unknown provider \"nowhere\" (defined: openai, local)");
}

// YAML allows any node as a key (`? [a]`, `{[a]: 1}`); found by fuzz_config_documents, it once threw from the
// top-level key check and ended the process.
TEST(GatewayConfigLoader, AKeyThatIsNotAStringIsAnErrorAtItsLine) {
  auto r = parse("version: 1\n? [a, b]\n: 1\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("test.yaml:2: a key must be a plain string (allowed here: version, gateway"),
            std::string::npos)
      << all_errors(r);
  r = parse(std::string(kMinimal) + "gateway:\n  {[x]: 1}: 2\n");
  ASSERT_FALSE(r.config);
  EXPECT_FALSE(r.errors.empty());
}

// A directory opens like a file and fails on the first read (found by fuzz_config_documents: it ended the process).
TEST(GatewayConfigLoader, APriceFileThatIsADirectoryIsAnError) {
  auto r = parse(std::string(kMinimal) + "pricing:\n  file: /tmp\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("pricing.file: cannot read \"/tmp\" (not a readable regular file)"), std::string::npos)
      << all_errors(r);
}

TEST(GatewayConfigLoader, CollectsEveryErrorNotJustTheFirst) {
  auto r = parse(R"(version: 2
gateway:
  listen: nowhere
  workers: many
  colour: blue
timeouts:
  idle: 10 seconds
providers:
  openai:
    api: grpc
    base_url: ftp://x
routes:
  - path: v1/chat
    api: openai
    provider: openai
)");
  ASSERT_FALSE(r.config);
  const std::string text = all_errors(r);
  EXPECT_NE(text.find("test.yaml:1: version: unsupported schema version \"2\" (supported: 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("test.yaml:3: gateway.listen:"), std::string::npos) << text;
  EXPECT_NE(text.find("test.yaml:4: gateway.workers:"), std::string::npos) << text;
  EXPECT_NE(text.find("test.yaml:5: gateway.colour: unknown key (allowed here: listen, admin, tls, admin_tls, workers)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("test.yaml:7: timeouts.idle: \"10 seconds\" is not a positive duration"), std::string::npos) << text;
  EXPECT_NE(text.find("test.yaml:10: providers.openai.api: \"grpc\" is not an API (allowed: openai, anthropic, gemini)"),
            std::string::npos) << text;
  EXPECT_NE(text.find("test.yaml:11: providers.openai.base_url:"), std::string::npos) << text;
  EXPECT_NE(text.find("test.yaml:13: routes[0].path: \"v1/chat\" must start with '/'"), std::string::npos) << text;
}

// The connection and request counts are plain whole numbers in range; the per-peer limit alone may be 0 (off).
TEST(GatewayConfigLoader, ConnectionAndRequestLimitsAreWholeNumbersInRange) {
  auto ok = parse(std::string(kMinimal) +
                  "limits:\n  max_connections: 500\n  max_connections_per_peer: 0\n  max_requests_in_flight: 64\n");
  ASSERT_TRUE(ok.config) << all_errors(ok);
  EXPECT_EQ(ok.config->limits.max_connections, 500u);
  EXPECT_EQ(ok.config->limits.max_connections_per_peer, 0u);
  EXPECT_EQ(ok.config->limits.max_requests_in_flight, 64u);
  auto bad = parse(std::string(kMinimal) +
                   "limits:\n  max_connections: 0\n  max_connections_per_peer: 10k\n  max_requests_in_flight: -1\n");
  ASSERT_FALSE(bad.config);
  const std::string text = all_errors(bad);
  EXPECT_NE(text.find("limits.max_connections: \"0\" is not a whole number from 1 to 10000000"), std::string::npos)
      << text;
  EXPECT_NE(text.find("limits.max_connections_per_peer: \"10k\" is not a whole number from 0 to 10000000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("limits.max_requests_in_flight: \"-1\" is not a whole number from 1 to 10000000"),
            std::string::npos)
      << text;
}

TEST(GatewayConfigLoader, ListenerTlsFilesAreCheckedAtTheirKeys) {
  TestPki pki;
  const auto with_gateway = [](const std::string& gateway) {
    return parse(std::string(kMinimal).replace(std::string(kMinimal).find("providers:"), 0, "gateway:\n" + gateway));
  };
  auto ok = with_gateway("  tls:\n    cert_file: " + pki.file("server.pem") + "\n    key_file: " +
                         pki.file("server.key") + "\n    client_ca_file: " + pki.file("ca.pem") +
                         "\n    require_client_cert: true\n");
  ASSERT_TRUE(ok.config) << all_errors(ok);
  ASSERT_TRUE(ok.config->tls);
  EXPECT_TRUE(ok.config->tls->require_client_cert);
  EXPECT_FALSE(ok.config->admin_tls);

  auto mismatch = with_gateway("  admin_tls:\n    cert_file: " + pki.file("server.pem") + "\n    key_file: " +
                               pki.file("other.key") + "\n");
  ASSERT_FALSE(mismatch.config);
  EXPECT_NE(all_errors(mismatch).find("test.yaml:5: gateway.admin_tls.key_file: \"" + pki.file("other.key") +
                                      "\" is not the private key of the certificate"),
            std::string::npos)
      << all_errors(mismatch);

  auto bad_ca = with_gateway("  tls:\n    cert_file: " + pki.file("server.pem") + "\n    key_file: " +
                             pki.file("server.key") + "\n    client_ca_file: " + pki.file("garbage.pem") + "\n");
  EXPECT_NE(all_errors(bad_ca).find("test.yaml:6: gateway.tls.client_ca_file:"), std::string::npos)
      << all_errors(bad_ca);

  auto incomplete = with_gateway("  tls:\n    cert_file: " + pki.file("server.pem") +
                                 "\n    require_client_cert: true\n");
  EXPECT_NE(all_errors(incomplete).find("gateway.tls.key_file: required"), std::string::npos)
      << all_errors(incomplete);

  auto no_ca = with_gateway("  tls:\n    cert_file: " + pki.file("server.pem") + "\n    key_file: " +
                            pki.file("server.key") + "\n    require_client_cert: true\n");
  EXPECT_NE(all_errors(no_ca).find("test.yaml:6: gateway.tls.require_client_cert: require_client_cert needs "
                                   "client_ca_file"),
            std::string::npos)
      << all_errors(no_ca);
}

TEST(GatewayConfigLoader, ListenerTrustDomainIsCheckedAndNeedsAClientCa) {
  TestPki pki;
  const auto with_tls = [&](const std::string& extra) {
    const std::string gateway = "gateway:\n  tls:\n    cert_file: " + pki.file("server.pem") + "\n    key_file: " +
                                pki.file("server.key") + "\n" + extra;
    return parse(std::string(kMinimal).replace(std::string(kMinimal).find("providers:"), 0, gateway));
  };
  auto ok = with_tls("    client_ca_file: " + pki.file("ca.pem") + "\n    trust_domain: example.org\n");
  ASSERT_TRUE(ok.config) << all_errors(ok);
  EXPECT_EQ(ok.config->tls->trust_domain, "example.org");
  auto upper = with_tls("    client_ca_file: " + pki.file("ca.pem") + "\n    trust_domain: Example.org\n");
  EXPECT_NE(all_errors(upper).find("test.yaml:7: gateway.tls.trust_domain: trust domain must be lowercase"),
            std::string::npos)
      << all_errors(upper);
  auto no_ca = with_tls("    trust_domain: example.org\n");
  EXPECT_NE(all_errors(no_ca).find("test.yaml:6: gateway.tls.trust_domain: trust_domain needs client_ca_file"),
            std::string::npos)
      << all_errors(no_ca);
}

TEST(GatewayConfigLoader, SpiffeCallersAndDenyList) {
  TestPki pki;
  const std::string mtls = "gateway:\n  tls:\n    cert_file: " + pki.file("server.pem") + "\n    key_file: " +
                           pki.file("server.key") + "\n    client_ca_file: " + pki.file("ca.pem") + "\n";
  auto ok = parse(mtls + kMinimal + R"(auth:
  spiffe:
    callers:
      - {id: spiffe://example.org/ns/prod/sa/billing, tenant: acme, agent: billing-bot}
      - id: "spiffe://example.org/ns/prod/sa/*"
        tenant: acme
        agent_group: prod
        allow: {models: ["gpt-4o*"]}
    deny: [spiffe://example.org/ns/prod/sa/compromised, "spiffe://example.org/ns/quarantine/sa/*"]
)");
  ASSERT_TRUE(ok.config) << all_errors(ok);
  const auto& spiffe = ok.config->auth.spiffe;
  ASSERT_EQ(spiffe.callers.size(), 2u);
  EXPECT_EQ(spiffe.callers[0].agent, "billing-bot");
  EXPECT_EQ(spiffe.callers[1].id, "spiffe://example.org/ns/prod/sa/*");
  EXPECT_EQ(spiffe.callers[1].agent_group, "prod");
  EXPECT_EQ(spiffe.callers[1].policy.models, std::vector<std::string>{"gpt-4o*"});
  EXPECT_EQ(spiffe.deny.size(), 2u);

  auto bad = parse(std::string(kMinimal) + R"(auth:
  spiffe:
    callers:
      - {id: "spiffe://example.org/ns/prod*", tenant: acme}
      - {id: spiffe://example.org, tenant: acme}
      - {id: spiffe://example.org/a}
      - {id: spiffe://example.org/a, tenant: acme}
    deny: [spiffe://Example.org/x]
)");
  ASSERT_FALSE(bad.config);
  const std::string errors = all_errors(bad);
  EXPECT_NE(errors.find("test.yaml:20: auth.spiffe: needs gateway.tls with client_ca_file"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("test.yaml:21: auth.spiffe.callers[0].id: \"spiffe://example.org/ns/prod*\" is not a SPIFFE "
                        "ID or pattern: path has an invalid character '*'"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("test.yaml:22: auth.spiffe.callers[1].agent: required when the ID has no path"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("test.yaml:23: auth.spiffe.callers[2].tenant: required"), std::string::npos) << errors;
  EXPECT_NE(errors.find("test.yaml:24: auth.spiffe.callers[3].id: \"spiffe://example.org/a\" is listed twice"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("test.yaml:25: auth.spiffe.deny[0]: \"spiffe://Example.org/x\" is not a SPIFFE ID or "
                        "pattern: trust domain must be lowercase"),
            std::string::npos)
      << errors;
}

TEST(GatewayConfigLoader, RejectsDuplicateKeysAndRoutes) {
  auto r = parse(R"(version: 1
providers:
  p: {api: openai, base_url: "http://h"}
routes:
  - {path: /a, api: openai, provider: p}
  - {path: /a, api: openai, provider: p}
)");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("routes[1].path: \"/a\" is already routed"), std::string::npos) << all_errors(r);
}

TEST(GatewayConfigLoader, RouteBodyIsJsonUnlessDeclaredRaw) {
  auto r = parse(kMinimal);
  ASSERT_TRUE(r.config) << all_errors(r);
  EXPECT_EQ(r.config->routes[0].body, RouteBody::Json);

  const std::string with_raw = std::string(kMinimal).replace(std::string(kMinimal).find("    max_body: 1MiB\n"),
                                                              19, "    max_body: 1MiB\n"
                                                                  "  - prefix: /v1/audio/\n"
                                                                  "    api: openai\n"
                                                                  "    provider: openai\n"
                                                                  "    body: raw\n");
  r = parse(with_raw);
  ASSERT_TRUE(r.config) << all_errors(r);
  ASSERT_EQ(r.config->routes.size(), 2u);
  EXPECT_EQ(r.config->routes[0].body, RouteBody::Json);
  EXPECT_EQ(r.config->routes[1].body, RouteBody::Raw);
  EXPECT_EQ(r.config->routes[1].line, 15);

  r = parse(std::string(kMinimal).replace(std::string(kMinimal).find("    max_body: 1MiB\n"), 19,
                                          "    body: form\n"));
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(), "test.yaml:14: routes[0].body: \"form\" is not a body kind (allowed: json, raw)");
}

// A raw route's body is never read, so nothing configured may depend on it there.
TEST(GatewayConfigLoader, RefusesBodyDependentPolicyOnARawRoute) {
  const std::string raw_route = R"(version: 1
providers:
  openai: {api: openai, base_url: "https://api.openai.com"}
  azure: {api: openai, base_url: "https://example.openai.azure.com"}
  anthropic: {api: anthropic, base_url: "https://api.anthropic.com"}
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
  - prefix: /v1/audio/
    api: openai
    provider: openai
    body: raw
    fallback:
      - {provider: azure}
)";
  auto r = parse(raw_route);
  ASSERT_TRUE(r.config) << all_errors(r);

  r = parse(raw_route + "      - {provider: azure, model: whisper-2}\n      - {provider: anthropic}\n");
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "test.yaml:16: routes[1].fallback[1].model: this route has `body: raw`: its body is forwarded unread, "
            "so its model cannot be replaced");
  EXPECT_NE(r.errors[1].to_string().find("test.yaml:17: routes[1].fallback[2].provider: provider \"anthropic\""),
            std::string::npos)
      << r.errors[1].to_string();

  const std::string issuer = R"(auth:
  jwt:
    - issuer: https://idp.example
      jwks_file: jwks.json
      allow:
)";
  // Allowed: the issuer's callers cannot reach the raw route, or its policy needs no body.
  EXPECT_TRUE(parse(raw_route + issuer + "        routes: [\"/v1/chat/*\"]\n        models: [gpt-4o-mini]\n").config);
  EXPECT_TRUE(parse(raw_route + issuer + "        routes: [\"/v1/*\"]\n").config);
  // Refused: models or max_tokens for callers who may call the raw route (every route, or a glob reaching it).
  for (const std::string allow : {"        models: [gpt-4o-mini]\n",
                                  "        routes: [\"/v1/*\"]\n        max_tokens: 64\n",
                                  "        routes: [\"/v1/audio/transcriptions\"]\n        models: [whisper-1]\n"}) {
    r = parse(raw_route + issuer + allow);
    ASSERT_FALSE(r.config) << allow;
    ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
    EXPECT_EQ(r.errors[0].line, 21) << all_errors(r);
    EXPECT_EQ(r.errors[0].key_path, "auth.jwt[0].allow");
    EXPECT_NE(r.errors[0].message.find("prefix /v1/audio/ (line 10), whose `body: raw` is forwarded unread"),
              std::string::npos)
        << r.errors[0].message;
  }
}

TEST(GatewayConfigLoader, RouteProviderMustSpeakTheRouteApi) {
  auto r = parse(R"(version: 1
providers:
  claude: {api: anthropic, base_url: "https://api.anthropic.com"}
routes:
  - {path: /v1/chat/completions, api: openai, provider: claude}
)");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("speaks the anthropic API but this route's api is openai"), std::string::npos)
      << all_errors(r);
}

TEST(GatewayConfigLoader, EnvInterpolationFeedsValues) {
  auto env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "KEY") return std::string("sk-from-env");
    return std::nullopt;
  };
  auto r = parse_gateway_config(R"(version: 1
providers:
  p: {api: openai, base_url: "http://h", api_key: "${env:KEY}"}
  q: {api: openai, base_url: "http://h", api_key: "${env:NOPE}"}
routes:
  - {path: /a, api: openai, provider: p}
)",
                                "t.yaml", env);
  ASSERT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_NE(r.errors[0].message.find("NOPE is not set"), std::string::npos);
}

TEST(GatewayConfigLoader, YamlSyntaxErrorsHaveALine) {
  auto r = parse("version: 1\nproviders: {\n  bad\n");
  ASSERT_FALSE(r.config);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_GT(r.errors[0].line, 0);
  EXPECT_NE(r.errors[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(GatewayConfigLoader, MissingFileIsAnError) {
  auto r = load_gateway_config_file("/nonexistent/tollway.yaml", no_env());
  ASSERT_FALSE(r.config);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/tollway.yaml: cannot open the file");
}

TEST(ListenAddress, ParsesV4V6AndLocalhost) {
  EXPECT_EQ(parse_listen_address("0.0.0.0:80")->to_string(), "0.0.0.0:80");
  EXPECT_EQ(parse_listen_address("[::1]:0")->to_string(), "[::1]:0");
  EXPECT_EQ(parse_listen_address("localhost:9")->host, "localhost");
  EXPECT_FALSE(parse_listen_address("example.com:80"));
  EXPECT_FALSE(parse_listen_address("127.0.0.1"));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:65536"));
  EXPECT_FALSE(parse_listen_address("::1:80"));
}

TEST(LoaderTest, AliasesUnpricedPolicyPassThroughAndWarnings) {
  const auto r = parse(R"(version: 1
providers:
  openai: {api: openai, base_url: "https://api.openai.com"}
models:
  rules:
    - {match: gpt-4o-mini, provider: openai}
    - {match: gpt-4.1, provider: openai}
  aliases:
    fast: [gpt-4o-mini, gpt-4.1]
routes:
  - {path: /v1/chat/completions, api: openai, provider: openai}
pricing:
  unpriced: allow
  models:
    - {match: "gpt-4o-mini*", input: "0.15", output: "0.60", max_output_tokens: 16384}
auth: {}
)");
  ASSERT_TRUE(r.config) << all_errors(r);
  const GatewayConfig& c = *r.config;
  ASSERT_EQ(c.model_aliases.size(), 1u);
  EXPECT_EQ(c.model_aliases[0].models, (std::vector<std::string>{"gpt-4o-mini", "gpt-4.1"}));
  EXPECT_EQ(find_model_alias(c, "fast"), &c.model_aliases[0]);
  EXPECT_EQ(c.pricing.unpriced, Unpriced::Allow);
  EXPECT_EQ(c.pricing.models[0].max_output_tokens, 16384u);
  EXPECT_FALSE(c.passthrough_caller_keys) << "off by default with auth";
  std::string warnings;
  for (const auto& w : r.warnings) warnings += w.to_string() + "\n";
  EXPECT_NE(warnings.find("test.yaml:7: models.rules[1].match: model \"gpt-4.1\" has no price"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("models.aliases.fast: model \"gpt-4.1\" has no price"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("providers.openai: no api_key"), std::string::npos) << warnings;
  EXPECT_EQ(warnings.find("\"gpt-4o-mini\" has no price"), std::string::npos) << warnings;
}

TEST(LoaderTest, AnAliasModelMustBeServedByAModelRule) {
  const auto bad = parse(R"(version: 1
providers:
  openai: {api: openai, base_url: "https://api.openai.com"}
models:
  rules: [{match: "gpt-*", provider: openai}]
  aliases: {fast: [gpt-4o-mini, mystery-7]}
routes:
  - {path: /v1/chat/completions, api: openai, provider: openai}
)");
  EXPECT_FALSE(bad.config);
  EXPECT_NE(all_errors(bad).find("models.aliases.fast[1]: \"mystery-7\" matches no model rule"), std::string::npos)
      << all_errors(bad);
}

}  // namespace
}  // namespace tollway::config

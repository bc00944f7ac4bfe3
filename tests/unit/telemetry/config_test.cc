#include <gtest/gtest.h>

#include "../config_text.h"

#include <filesystem>

#include "../test_pki.h"
#include "config/loader.h"
#include "tls/node_identity_files.h"

namespace tollway::config {
namespace {

using test_text::all_errors;
const auto parse = test_text::parse_without_env;

const std::string kBase =
    "version: 1\nproviders:\n  openai:\n    api: openai\n    base_url: http://127.0.0.1:9000\n"
    "routes:\n  - path: /v1/chat/completions\n    api: openai\n    provider: openai\n";

TEST(TelemetryConfig, Defaults) {
  auto r = parse(kBase);
  ASSERT_TRUE(r.config) << all_errors(r);
  const TelemetryConfig& t = r.config->telemetry;
  EXPECT_TRUE(t.enabled);
  EXPECT_EQ(t.service_name, "tollway");
  EXPECT_EQ(t.sample_ratio, 1.0);
  EXPECT_EQ(t.trust_incoming, TrustIncoming::Authenticated);
  EXPECT_TRUE(t.baggage);
  EXPECT_FALSE(t.capture_content);
  EXPECT_TRUE(t.otlp.endpoint.empty());
  EXPECT_EQ(t.access_log.kind, LogDestination::Off);
  EXPECT_EQ(t.decision_log.kind, LogDestination::Stderr);
  EXPECT_EQ(t.max_tenants, 100u);
}

TEST(TelemetryConfig, EveryKey) {
  auto r = parse(kBase +
                 "telemetry:\n  enabled: true\n  service_name: edge-gw\n"
                 "  tracing:\n    sample_ratio: 0.25\n    trust_incoming: never\n    baggage: false\n"
                 "    capture_content: true\n"
                 "  otlp:\n    endpoint: http://collector:4318/otel\n    gzip: true\n    timeout: 3s\n"
                 "    traces_interval: 500ms\n    metrics_interval: 15s\n    queue_size: 1024\n    batch_size: 64\n"
                 "  metrics:\n    max_tenants: 5\n    max_agents: 6\n    max_sessions: 7\n    max_models: 8\n"
                 "  access_log: /var/log/tollway/access.log\n  decision_log: stdout\n");
  ASSERT_TRUE(r.config) << all_errors(r);
  const TelemetryConfig& t = r.config->telemetry;
  EXPECT_EQ(t.service_name, "edge-gw");
  EXPECT_EQ(t.sample_ratio, 0.25);
  EXPECT_EQ(t.trust_incoming, TrustIncoming::Never);
  EXPECT_FALSE(t.baggage);
  EXPECT_TRUE(t.capture_content);
  EXPECT_EQ(t.otlp.host, "collector");
  EXPECT_EQ(t.otlp.port, 4318);
  EXPECT_EQ(t.otlp.path_prefix, "/otel");
  EXPECT_TRUE(t.otlp.gzip);
  EXPECT_EQ(t.otlp.timeout.count(), 3000);
  EXPECT_EQ(t.otlp.traces_interval.count(), 500);
  EXPECT_EQ(t.otlp.metrics_interval.count(), 15000);
  EXPECT_EQ(t.otlp.queue_size, 1024u);
  EXPECT_EQ(t.otlp.batch_size, 64u);
  EXPECT_EQ(t.max_tenants, 5u);
  EXPECT_EQ(t.max_agents, 6u);
  EXPECT_EQ(t.max_sessions, 7u);
  EXPECT_EQ(t.max_models, 8u);
  EXPECT_EQ(t.access_log.kind, LogDestination::File);
  EXPECT_EQ(t.access_log.path, "/var/log/tollway/access.log");
  EXPECT_EQ(t.decision_log.kind, LogDestination::Stdout);
}

TEST(TelemetryConfig, ErrorsNameFileLineKeyAndWhatIsAllowed) {
  auto r = parse(kBase +
                 "telemetry:\n"                                  // line 10
                 "  tracing:\n"                                  // 11
                 "    sample_ratio: 1.5\n"                       // 12
                 "    trust_incoming: sometimes\n"               // 13
                 "  otlp:\n"                                     // 14
                 "    endpoint: ftp://collector:4318\n"          // 15
                 "    queue_size: 3\n"                           // 16
                 "  metrics:\n"                                  // 17
                 "    max_tenants: lots\n"                       // 18
                 "  access_log: \"\"\n"                          // 19
                 "  colour: blue\n");                            // 20
  ASSERT_FALSE(r.config);
  const std::string e = all_errors(r);
  EXPECT_NE(e.find("test.yaml:12: telemetry.tracing.sample_ratio: \"1.5\" is not a ratio from 0 to 1"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:13: telemetry.tracing.trust_incoming: \"sometimes\" is not allowed (allowed: always, never, "
                   "authenticated, or a mapping {peers: [CIDR, ...], authenticated: true|false})"),
            std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:15: telemetry.otlp.endpoint: \"ftp://collector:4318\" must start with http:// or https://"),
            std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:16: telemetry.otlp.queue_size: \"3\" is not a whole number from 16 to 1048576"),
            std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:18: telemetry.metrics.max_tenants: \"lots\" is not a whole number"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:19: telemetry.access_log: \"\" is not a log destination (allowed: off, stdout, stderr, or a file path)"),
            std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:20: telemetry.colour: unknown key (allowed here: enabled, service_name, tracing, otlp"),
            std::string::npos) << e;
}

TEST(TelemetryConfig, EndpointMustBeAUrl) {
  auto r = parse(kBase + "telemetry:\n  otlp:\n    endpoint: collector:4318\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("telemetry.otlp.endpoint: \"collector:4318\" must start with http:// or https://"),
            std::string::npos) << all_errors(r);
}

TEST(TelemetryConfig, TrustIncomingPeersList) {
  auto r = parse(kBase +
                 "telemetry:\n  tracing:\n    trust_incoming:\n"
                 "      peers: [\"10.0.0.0/8\", 127.0.0.1, \"::1/128\", \"::ffff:192.168.0.0/112\"]\n"
                 "      authenticated: true\n");
  ASSERT_TRUE(r.config) << all_errors(r);
  const TelemetryConfig& t = r.config->telemetry;
  EXPECT_EQ(t.trust_incoming, TrustIncoming::Listed);
  EXPECT_TRUE(t.trust_authenticated);
  ASSERT_EQ(t.trusted_peers.size(), 4u);
  EXPECT_EQ(t.trusted_peers[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(t.trusted_peers[1].to_string(), "127.0.0.1/32");
  EXPECT_EQ(t.trusted_peers[2].to_string(), "::1/128");
  EXPECT_EQ(t.trusted_peers[3].to_string(), "192.168.0.0/16");

  auto only_peers = parse(kBase + "telemetry:\n  tracing:\n    trust_incoming: {peers: [\"0.0.0.0/0\"]}\n");
  ASSERT_TRUE(only_peers.config) << all_errors(only_peers);
  EXPECT_EQ(only_peers.config->telemetry.trust_incoming, TrustIncoming::Listed);
  EXPECT_FALSE(only_peers.config->telemetry.trust_authenticated) << "authenticated defaults to false in the list form";
}

TEST(TelemetryConfig, TrustIncomingPeersErrorsNameLineKeyAndWhatIsAllowed) {
  auto r = parse(kBase +
                 "telemetry:\n"                                  // line 10
                 "  tracing:\n"                                  // 11
                 "    trust_incoming:\n"                         // 12
                 "      peers:\n"                                // 13
                 "        - 10.1.2.3/8\n"                        // 14
                 "        - 10.0.0.0/33\n"                       // 15
                 "        - not-an-ip\n"                         // 16
                 "        - \"::1/128\"\n"                       // 17
                 "        - \"::1\"\n"                           // 18
                 "      authenticated: maybe\n"                  // 19
                 "      cidrs: []\n");                           // 20
  ASSERT_FALSE(r.config);
  const std::string e = all_errors(r);
  const std::string p = "telemetry.tracing.trust_incoming.";
  EXPECT_NE(e.find("test.yaml:14: " + p + "peers[0]: 10.1.2.3/8 has host bits set (the network is 10.0.0.0/8; for one "
                   "address use /32) (allowed: an IPv4 or IPv6 network such as 10.0.0.0/8"),
            std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:15: " + p + "peers[1]: \"33\" is not a prefix length from 0 to 32 (IPv4)"),
            std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:16: " + p + "peers[2]: \"not-an-ip\" is not an IPv4 or IPv6 address"), std::string::npos)
      << e;
  EXPECT_NE(e.find("test.yaml:18: " + p + "peers[4]: duplicate network ::1/128 (already listed)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("test.yaml:19: " + p + "authenticated: \"maybe\" is not a boolean (true or false)"),
            std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml:20: " + p + "cidrs: unknown key (allowed here: peers, authenticated)"), std::string::npos)
      << e;
  EXPECT_EQ(e.find("test.yaml:17:"), std::string::npos) << e;

  auto empty = parse(kBase + "telemetry:\n  tracing:\n    trust_incoming:\n      authenticated: true\n");
  ASSERT_FALSE(empty.config);
  EXPECT_NE(all_errors(empty).find("test.yaml:13: " + p + "peers: must be a non-empty list of IPv4 / IPv6 networks"),
            std::string::npos) << all_errors(empty);
  auto list = parse(kBase + "telemetry:\n  tracing:\n    trust_incoming: [\"10.0.0.0/8\"]\n");
  ASSERT_FALSE(list.config);
  EXPECT_NE(all_errors(list).find("test.yaml:12: telemetry.tracing.trust_incoming: must be one of: always, never, "
                                  "authenticated, or a mapping {peers: [CIDR, ...], authenticated: true|false}"),
            std::string::npos) << all_errors(list);
}

// https:// endpoints and the TLS files (made by the openssl CLI at test time).
class OtlpTlsConfig : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() { delete pki_; }
  static std::string file(const std::string& name) { return pki_->file(name); }

  static LoadResult otlp(const std::string& endpoint, const std::string& tls_keys) {
    return parse(kBase + "telemetry:\n  otlp:\n    endpoint: " + endpoint + "\n" + tls_keys);
  }

  static TestPki* pki_;
};
TestPki* OtlpTlsConfig::pki_ = nullptr;

TEST_F(OtlpTlsConfig, HttpsEndpointVerifiesWithTheSystemStoreByDefault) {
  auto r = otlp("https://collector.example:4318/otel", "");
  ASSERT_TRUE(r.config) << all_errors(r);
  const OtlpConfig& o = r.config->telemetry.otlp;
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.host, "collector.example");
  EXPECT_EQ(o.port, 4318);
  EXPECT_EQ(o.path_prefix, "/otel");
  EXPECT_TRUE(o.ca_file.empty());
  EXPECT_TRUE(o.client_cert.empty());
  auto default_port = otlp("https://collector.example", "");
  ASSERT_TRUE(default_port.config) << all_errors(default_port);
  EXPECT_EQ(default_port.config->telemetry.otlp.port, 443);
  auto plain = otlp("http://127.0.0.1:4318", "");
  ASSERT_TRUE(plain.config) << all_errors(plain);
  EXPECT_FALSE(plain.config->telemetry.otlp.tls);
}

TEST_F(OtlpTlsConfig, CaFileAndClientIdentity) {
  auto r = otlp("https://127.0.0.1:4318", "    ca_file: " + file("ca.pem") + "\n    client_cert: " +
                                              file("tollway-client.pem") + "\n    client_key: " + file("tollway-client.key") + "\n");
  ASSERT_TRUE(r.config) << all_errors(r);
  const OtlpConfig& o = r.config->telemetry.otlp;
  EXPECT_EQ(o.ca_file, file("ca.pem"));
  EXPECT_EQ(o.client_cert, file("tollway-client.pem"));
  EXPECT_EQ(o.client_key, file("tollway-client.key"));
}

TEST_F(OtlpTlsConfig, TlsKeysNeedAnHttpsEndpoint) {
  auto r = otlp("http://127.0.0.1:4318", "    ca_file: " + file("ca.pem") + "\n");  // line 13
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("test.yaml:13: telemetry.otlp.ca_file: only meaningful with an https:// endpoint"),
            std::string::npos) << all_errors(r);
}

TEST_F(OtlpTlsConfig, MissingCaFile) {
  auto r = otlp("https://127.0.0.1:4318", "    ca_file: " + file("absent.pem") + "\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("test.yaml:13: telemetry.otlp.ca_file: cannot read \"" + file("absent.pem") +
                               "\": No such file or directory"),
            std::string::npos) << all_errors(r);
}

TEST_F(OtlpTlsConfig, CaFileWithoutCertificates) {
  for (const char* name : {"garbage.pem", "ca.key"}) {
    auto r = otlp("https://127.0.0.1:4318", "    ca_file: " + file(name) + "\n");
    ASSERT_FALSE(r.config) << name;
    EXPECT_NE(all_errors(r).find("test.yaml:13: telemetry.otlp.ca_file: \"" + file(name) +
                                 "\" is not a PEM file of CA certificates (OpenSSL: "),
              std::string::npos) << all_errors(r);
  }
}

TEST_F(OtlpTlsConfig, ClientCertAndKeyGoTogether) {
  auto cert_only = otlp("https://127.0.0.1:4318", "    client_cert: " + file("tollway-client.pem") + "\n");
  ASSERT_FALSE(cert_only.config);
  EXPECT_NE(all_errors(cert_only).find("test.yaml:13: telemetry.otlp.client_key: required with client_cert"),
            std::string::npos) << all_errors(cert_only);
  auto key_only = otlp("https://127.0.0.1:4318", "    client_key: " + file("tollway-client.key") + "\n");
  ASSERT_FALSE(key_only.config);
  EXPECT_NE(all_errors(key_only).find("test.yaml:13: telemetry.otlp.client_cert: required with client_key"),
            std::string::npos) << all_errors(key_only);
}

TEST_F(OtlpTlsConfig, BadClientCertificate) {
  auto r = otlp("https://127.0.0.1:4318",
                "    client_cert: " + file("garbage.pem") + "\n    client_key: " + file("tollway-client.key") + "\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("test.yaml:13: telemetry.otlp.client_cert: \"" + file("garbage.pem") +
                               "\" is not a PEM certificate (OpenSSL: "),
            std::string::npos) << all_errors(r);
}

TEST_F(OtlpTlsConfig, KeyOfAnotherCertificate) {
  auto r = otlp("https://127.0.0.1:4318",
                "    client_cert: " + file("tollway-client.pem") + "\n    client_key: " + file("other.key") + "\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("test.yaml:14: telemetry.otlp.client_key: \"" + file("other.key") +
                               "\" is not the private key of the certificate in \"" + file("tollway-client.pem") + "\""),
            std::string::npos) << all_errors(r);
}

TEST_F(OtlpTlsConfig, EncryptedKeyIsRefusedWithoutAPrompt) {
  auto r = otlp("https://127.0.0.1:4318",
                "    client_cert: " + file("tollway-client.pem") + "\n    client_key: " + file("encrypted.key") + "\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(all_errors(r).find("test.yaml:14: telemetry.otlp.client_key: \"" + file("encrypted.key") +
                               "\" is not an unencrypted PEM private key (OpenSSL: "),
            std::string::npos) << all_errors(r);
}

TEST_F(OtlpTlsConfig, ProviderCaFileMustHoldCertificates) {
  const std::string base = "version: 1\nproviders:\n  openai:\n    api: openai\n    base_url: https://127.0.0.1:9000\n"
                           "    ca_file: ";  // line 6
  const std::string routes = "\nroutes:\n  - path: /v1/chat/completions\n    api: openai\n    provider: openai\n";
  auto good = parse(base + file("ca.pem") + routes);
  ASSERT_TRUE(good.config) << all_errors(good);
  EXPECT_EQ(good.config->providers[0].ca_file, file("ca.pem"));
  auto bad = parse(base + file("garbage.pem") + routes);
  ASSERT_FALSE(bad.config);
  EXPECT_NE(all_errors(bad).find("test.yaml:6: providers.openai.ca_file: \"" + file("garbage.pem") +
                                 "\" is not a PEM file of CA certificates"),
            std::string::npos) << all_errors(bad);
}

// identity: node — the node's SVID and bundle (checked on the node that declared them; a control plane checking the
// document for another node does not look for them).
TEST_F(OtlpTlsConfig, NodeIdentity) {
  auto elsewhere = otlp("https://127.0.0.1:7070", "    identity: node\n");
  ASSERT_TRUE(elsewhere.config) << all_errors(elsewhere);
  EXPECT_TRUE(elsewhere.config->telemetry.otlp.client_cert.empty());

  auto plain = otlp("http://127.0.0.1:7070", "    identity: node\n");  // line 13
  ASSERT_FALSE(plain.config);
  EXPECT_NE(all_errors(plain).find("test.yaml:13: telemetry.otlp.identity: only meaningful with an https:// endpoint"),
            std::string::npos) << all_errors(plain);
  auto other = otlp("https://127.0.0.1:7070", "    identity: workload\n");
  EXPECT_NE(all_errors(other).find("telemetry.otlp.identity: \"workload\" is not an identity (allowed: node)"),
            std::string::npos) << all_errors(other);
  auto mixed = otlp("https://127.0.0.1:7070", "    identity: node\n    ca_file: " + file("ca.pem") + "\n");
  EXPECT_NE(all_errors(mixed).find("test.yaml:14: telemetry.otlp.ca_file: not with identity: node"), std::string::npos)
      << all_errors(mixed);

  // On a node holding its identity: its files; on a node without one: refused.
  const std::filesystem::path dir = std::filesystem::path(file("ca.pem")).parent_path() / "node-identity";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(file("tollway-client.pem"), tls::node_cert_path(dir.string()),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(file("tollway-client.key"), tls::node_key_path(dir.string()),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(file("ca.pem"), tls::node_bundle_path(dir.string()),
                             std::filesystem::copy_options::overwrite_existing);
  tls::declare_node_identity_dir(dir.string());
  auto node = otlp("https://127.0.0.1:7070", "    identity: node\n");
  ASSERT_TRUE(node.config) << all_errors(node);
  EXPECT_EQ(node.config->telemetry.otlp.client_cert, tls::node_cert_path(dir.string()));
  EXPECT_EQ(node.config->telemetry.otlp.client_key, tls::node_key_path(dir.string()));
  EXPECT_EQ(node.config->telemetry.otlp.ca_file, tls::node_bundle_path(dir.string()));
  tls::declare_node_identity_dir("");
  auto none = otlp("https://127.0.0.1:7070", "    identity: node\n");
  EXPECT_NE(all_errors(none).find("telemetry.otlp.identity: this node holds no identity: start it with --identity-dir"),
            std::string::npos) << all_errors(none);
}

}  // namespace
}  // namespace tollway::config

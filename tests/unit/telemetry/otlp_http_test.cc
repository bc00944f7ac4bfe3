// The OTLP client against a real TLS server in the test process (OpenSSL, 127.0.0.1, an ephemeral port):
// https with the configured CA, a server certificate from another CA, a certificate naming another host, an
// mTLS collector with and without the client certificate, a rotated ca_file, a server that never answers the
// handshake (the overall timeout holds), and plain http alongside.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "../loopback_collector.h"
#include "../test_pki.h"
#include "telemetry/otlp_http.h"

namespace tollway::telemetry {
namespace {

class OtlpHttpTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() { delete pki_; }
  static std::string file(const std::string& name) { return pki_->file(name); }

  static config::OtlpConfig collector(const std::string& host, uint16_t port, const std::string& ca_file) {
    config::OtlpConfig c;
    c.tls = true;
    c.host = host;
    c.port = port;
    c.ca_file = ca_file;
    c.timeout = std::chrono::milliseconds(3000);
    return c;
  }

  static TestPki* pki_;
};
TestPki* OtlpHttpTls::pki_ = nullptr;

const std::string kBody = R"({"resourceSpans":[]})";

// One export with a client of its own (its connection closes with it).
HttpPostResult post_once(const config::OtlpConfig& collector, const std::string& path, const std::string& body) {
  return OtlpClient(collector).post(path, body);
}

TEST_F(OtlpHttpTls, VerifiedCollectorReceivesTheRequest) {
  LoopbackCollector server(file("server.pem"), file("server.key"));
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    const HttpPostResult r =
        post_once(collector(host, server.port(), file("ca.pem")), "/otel/v1/traces", kBody);
    ASSERT_TRUE(r.status) << host << ": " << r.error;
    EXPECT_EQ(*r.status, 200);
    EXPECT_EQ(r.body, "{}");
  }
  const auto got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].request.rfind("POST /otel/v1/traces HTTP/1.1\r\n", 0), 0u) << got[0].request;
  EXPECT_NE(got[0].request.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(got[1].request.find("\r\nHost: localhost:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(got[0].request.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(got[0].request.substr(got[0].request.size() - kBody.size()), kBody);
  EXPECT_EQ(got[0].client_subject, "");
}

TEST_F(OtlpHttpTls, CertificateFromAnotherCaIsRefusedBeforeAnyByteIsSent) {
  LoopbackCollector server(file("other-server.pem"), file("other-server.key"));
  const HttpPostResult r =
      post_once(collector("127.0.0.1", server.port(), file("ca.pem")), "/v1/traces", kBody);
  EXPECT_FALSE(r.status);
  EXPECT_NE(r.error.find("TLS handshake failed: certificate verification failed: unable to get local issuer"),
            std::string::npos)
      << r.error;
  EXPECT_TRUE(server.received().empty());
}

TEST_F(OtlpHttpTls, CertificateForAnotherNameIsRefused) {
  LoopbackCollector server(file("elsewhere.pem"), file("elsewhere.key"));
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    const HttpPostResult r = post_once(collector(host, server.port(), file("ca.pem")), "/v1/traces", kBody);
    EXPECT_FALSE(r.status) << host;
    EXPECT_NE(r.error.find("certificate verification failed: "), std::string::npos)
        << host << ": " << r.error;
    EXPECT_NE(r.error.find("mismatch"), std::string::npos) << host << ": " << r.error;
  }
  EXPECT_TRUE(server.received().empty());
}

TEST_F(OtlpHttpTls, MutualTlsCollector) {
  LoopbackCollector server(file("server.pem"), file("server.key"), file("ca.pem"));
  config::OtlpConfig c = collector("127.0.0.1", server.port(), file("ca.pem"));
  const HttpPostResult anonymous = post_once(c, "/v1/traces", kBody);
  EXPECT_FALSE(anonymous.status);
  // TLS 1.3: the client's handshake is done before the server judges its certificate; the refusal is an
  // alert.
  EXPECT_NE(anonymous.error.find("(TLS: tlsv13 alert certificate required)"), std::string::npos)
      << anonymous.error;
  for (int i = 0; i < 100 && server.failed_handshakes() == 0;
       ++i)  // the server counts after sending its alert
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(server.failed_handshakes(), 1);
  c.client_cert = file("tollway-client.pem");
  c.client_key = file("tollway-client.key");
  const HttpPostResult r = post_once(c, "/v1/traces", kBody);
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_EQ(*r.status, 200);
  const auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].client_subject, "/CN=tollway-client");
}

TEST_F(OtlpHttpTls, ReplacedCaFileIsReadAgain) {
  LoopbackCollector server(file("server.pem"), file("server.key"));
  const std::string ca = file("rotating-ca.pem");
  std::filesystem::copy_file(file("ca.pem"), ca);
  const config::OtlpConfig c = collector("127.0.0.1", server.port(), ca);
  ASSERT_TRUE(post_once(c, "/v1/traces", kBody).status);
  std::filesystem::copy_file(file("other-ca.pem"), ca, std::filesystem::copy_options::overwrite_existing);
  const HttpPostResult after_rotation = post_once(c, "/v1/traces", kBody);
  EXPECT_FALSE(after_rotation.status);
  EXPECT_NE(after_rotation.error.find("certificate verification failed"), std::string::npos)
      << after_rotation.error;
}

TEST_F(OtlpHttpTls, SilentServerTimesOutWithinTheTimeout) {
  uint16_t port = 0;
  const int listener = listen_on_loopback(port);  // the kernel completes the TCP connect; nobody speaks TLS
  config::OtlpConfig c = collector("127.0.0.1", port, file("ca.pem"));
  c.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  const HttpPostResult r = post_once(c, "/v1/traces", kBody);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(listener);
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.error, "TLS handshake timed out");
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::milliseconds(1000));
}

TEST_F(OtlpHttpTls, PlainHttpCollectorIsNotTls) {
  LoopbackCollector server;
  config::OtlpConfig c;
  c.host = "127.0.0.1";
  c.port = server.port();
  c.gzip = true;
  const HttpPostResult r = post_once(c, "/v1/metrics", kBody);
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_EQ(*r.status, 200);
  const auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].request.rfind("POST /v1/metrics HTTP/1.1\r\n", 0), 0u) << got[0].request;
  EXPECT_NE(got[0].request.find("\r\nContent-Encoding: gzip\r\n"), std::string::npos) << got[0].request;
}

// Persistent connections: one TCP connect and TLS handshake for many exports while the collector keeps the
// connection; a collector that closes after each answer costs a reconnect, never a failed export.
TEST_F(OtlpHttpTls, ExportsShareOneConnectionWhileTheCollectorKeepsIt) {
  for (const bool tls : {false, true}) {
    LoopbackCollector server = tls ? LoopbackCollector(file("server.pem"), file("server.key")) : LoopbackCollector();
    config::OtlpConfig c = collector("127.0.0.1", server.port(), tls ? file("ca.pem") : "");
    c.tls = tls;
    OtlpClient client(c);
    for (int i = 0; i < 5; ++i) {
      const HttpPostResult r = client.post("/v1/traces", kBody);
      ASSERT_TRUE(r.status) << (tls ? "https: " : "http: ") << r.error;
      EXPECT_EQ(*r.status, 200);
    }
    EXPECT_EQ(server.received().size(), 5u);
    EXPECT_EQ(client.connections_opened(), 1u) << (tls ? "https" : "http");
    EXPECT_EQ(server.connections(), 1);

    server.close_after_each();
    for (int i = 0; i < 3; ++i) {
      const HttpPostResult r = client.post("/v1/traces", kBody);
      ASSERT_TRUE(r.status) << "after the collector closed: " << r.error;
    }
    EXPECT_EQ(server.received().size(), 8u) << "every request delivered once";
    EXPECT_GE(client.connections_opened(), 3u);
  }
}

TEST_F(OtlpHttpTls, RenewedTlsFileClosesTheKeptConnection) {
  LoopbackCollector server(file("server.pem"), file("server.key"));
  const std::string ca = file("kept-rotating-ca.pem");
  std::filesystem::copy_file(file("ca.pem"), ca, std::filesystem::copy_options::overwrite_existing);
  OtlpClient client(collector("127.0.0.1", server.port(), ca));
  ASSERT_TRUE(client.post("/v1/traces", kBody).status);
  ASSERT_TRUE(client.post("/v1/traces", kBody).status);
  EXPECT_EQ(client.connections_opened(), 1u);
  std::filesystem::copy_file(file("other-ca.pem"), ca, std::filesystem::copy_options::overwrite_existing);
  const HttpPostResult after = client.post("/v1/traces", kBody);
  EXPECT_FALSE(after.status) << "the new trust store applies at once, not on the old connection";
  EXPECT_NE(after.error.find("certificate verification failed"), std::string::npos) << after.error;
}

}  // namespace
}  // namespace tollway::telemetry

// The OTLP client against a real TLS server in the test process (OpenSSL, 127.0.0.1, an ephemeral port):
// https with the configured CA, a server certificate from another CA, a certificate naming another host, an
// mTLS collector with and without the client certificate, a rotated ca_file, a server that never answers the
// handshake (the overall timeout holds), and plain http alongside.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "../test_pki.h"
#include "telemetry/otlp_http.h"

namespace tollway::telemetry {
namespace {

// A listening socket on 127.0.0.1 with an ephemeral port.
int listen_on_loopback(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1");
  port = ntohs(addr.sin_port);
  return fd;
}

// One-thread HTTPS server: completes the handshake, reads one request (head + Content-Length body), answers
// 200 {} and closes. Records what it received and the client certificate's subject, and counts the handshakes
// that failed.
class TlsCollector {
 public:
  struct Received {
    std::string request;         // head and body as received
    std::string client_subject;  // "" without a client certificate
  };

  TlsCollector(const std::string& cert, const std::string& key, const std::string& client_ca = "")
      : context_(SSL_CTX_new(TLS_server_method())) {
    if (SSL_CTX_use_certificate_chain_file(context_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context_, key.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("test server: bad certificate or key");
    if (!client_ca.empty()) {
      SSL_CTX_load_verify_locations(context_, client_ca.c_str(), nullptr);
      SSL_CTX_set_verify(context_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    listener_ = listen_on_loopback(port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsCollector() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
    SSL_CTX_free(context_);
  }
  uint16_t port() const { return port_; }
  int failed_handshakes() const { return failed_handshakes_; }
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval two_seconds{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
      SSL* ssl = SSL_new(context_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        answer(ssl);
      } else {
        ++failed_handshakes_;
      }
      ERR_clear_error();
      SSL_free(ssl);
      ::close(fd);
    }
  }

  void answer(SSL* ssl) {
    Received r;
    if (X509* peer = SSL_get1_peer_certificate(ssl)) {
      char name[256];
      X509_NAME_oneline(X509_get_subject_name(peer), name, sizeof name);
      r.client_subject = name;
      X509_free(peer);
    }
    char buf[4096];
    while (true) {
      const auto head_end = r.request.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const auto at = r.request.find("Content-Length: ");
        const std::size_t length = at == std::string::npos ? 0 : std::stoul(r.request.substr(at + 16));
        if (r.request.size() >= head_end + 4 + length) break;
      }
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return;
      r.request.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(
          mutex_);  // recorded before answering: the client may look as soon as it has the answer
      received_.push_back(std::move(r));
    }
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    SSL_write(ssl, response.data(), static_cast<int>(response.size()));
    SSL_shutdown(ssl);
  }

  SSL_CTX* context_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> failed_handshakes_{0};
  std::mutex mutex_;
  std::vector<Received> received_;
  std::thread thread_;
};

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

TEST_F(OtlpHttpTls, VerifiedCollectorReceivesTheRequest) {
  TlsCollector server(file("server.pem"), file("server.key"));
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    const HttpPostResult r =
        http_post(collector(host, server.port(), file("ca.pem")), "/otel/v1/traces", kBody);
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
  TlsCollector server(file("other-server.pem"), file("other-server.key"));
  const HttpPostResult r =
      http_post(collector("127.0.0.1", server.port(), file("ca.pem")), "/v1/traces", kBody);
  EXPECT_FALSE(r.status);
  EXPECT_NE(r.error.find("TLS handshake failed: certificate verification failed: unable to get local issuer"),
            std::string::npos)
      << r.error;
  EXPECT_TRUE(server.received().empty());
}

TEST_F(OtlpHttpTls, CertificateForAnotherNameIsRefused) {
  TlsCollector server(file("elsewhere.pem"), file("elsewhere.key"));
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    const HttpPostResult r = http_post(collector(host, server.port(), file("ca.pem")), "/v1/traces", kBody);
    EXPECT_FALSE(r.status) << host;
    EXPECT_NE(r.error.find("certificate verification failed: "), std::string::npos)
        << host << ": " << r.error;
    EXPECT_NE(r.error.find("mismatch"), std::string::npos) << host << ": " << r.error;
  }
  EXPECT_TRUE(server.received().empty());
}

TEST_F(OtlpHttpTls, MutualTlsCollector) {
  TlsCollector server(file("server.pem"), file("server.key"), file("ca.pem"));
  config::OtlpConfig c = collector("127.0.0.1", server.port(), file("ca.pem"));
  const HttpPostResult anonymous = http_post(c, "/v1/traces", kBody);
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
  const HttpPostResult r = http_post(c, "/v1/traces", kBody);
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_EQ(*r.status, 200);
  const auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].client_subject, "/CN=tollway-client");
}

TEST_F(OtlpHttpTls, ReplacedCaFileIsReadAgain) {
  TlsCollector server(file("server.pem"), file("server.key"));
  const std::string ca = file("rotating-ca.pem");
  std::filesystem::copy_file(file("ca.pem"), ca);
  const config::OtlpConfig c = collector("127.0.0.1", server.port(), ca);
  ASSERT_TRUE(http_post(c, "/v1/traces", kBody).status);
  std::filesystem::copy_file(file("other-ca.pem"), ca, std::filesystem::copy_options::overwrite_existing);
  const HttpPostResult after_rotation = http_post(c, "/v1/traces", kBody);
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
  const HttpPostResult r = http_post(c, "/v1/traces", kBody);
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(listener);
  EXPECT_FALSE(r.status);
  EXPECT_EQ(r.error, "TLS handshake timed out");
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::milliseconds(1000));
}

TEST_F(OtlpHttpTls, PlainHttpCollectorIsNotTls) {
  uint16_t port = 0;
  const int listener = listen_on_loopback(port);
  std::string request;
  std::thread server([&] {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    char buf[4096];
    while (request.find(kBody) == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
  });
  config::OtlpConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.gzip = true;
  const HttpPostResult r = http_post(c, "/v1/metrics", kBody);
  server.join();
  ::close(listener);
  ASSERT_TRUE(r.status) << r.error;
  EXPECT_EQ(*r.status, 200);
  EXPECT_EQ(request.rfind("POST /v1/metrics HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nContent-Encoding: gzip\r\n"), std::string::npos) << request;
}

}  // namespace
}  // namespace tollway::telemetry

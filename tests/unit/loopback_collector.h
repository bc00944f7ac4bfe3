// A one-thread HTTP/1.1 server on 127.0.0.1 (an ephemeral port) standing in for an OTLP collector in tests and
// benchmarks: plain, or TLS with a given certificate and key, optionally requiring a client certificate signed by
// a given CA. Per connection it reads requests (head + Content-Length body), records each with the client
// certificate's subject and answers 200 {}, until the client closes (an HTTP/1.1 persistent connection) or, with
// close_after_each(), closes after every answer; it counts connections and the TLS handshakes that failed. One
// connection at a time. Never used outside tests and benchmarks.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tollway {

// A listening socket on 127.0.0.1 with an ephemeral port.
inline int listen_on_loopback(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1");
  port = ntohs(addr.sin_port);
  return fd;
}

class LoopbackCollector {
 public:
  struct Received {
    std::string request;         // head and body as received
    std::string client_subject;  // "" without a client certificate
  };

  // Plain http.
  LoopbackCollector() { start(); }
  // https with this certificate and key; with client_ca, a client certificate signed by it is required.
  LoopbackCollector(const std::string& cert, const std::string& key, const std::string& client_ca = "")
      : context_(SSL_CTX_new(TLS_server_method())) {
    if (SSL_CTX_use_certificate_chain_file(context_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context_, key.c_str(), SSL_FILETYPE_PEM) != 1)
      throw std::runtime_error("test collector: bad certificate or key");
    if (!client_ca.empty()) {
      SSL_CTX_load_verify_locations(context_, client_ca.c_str(), nullptr);
      SSL_CTX_set_verify(context_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    start();
  }
  ~LoopbackCollector() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
    if (context_ != nullptr) SSL_CTX_free(context_);
  }
  LoopbackCollector(const LoopbackCollector&) = delete;
  LoopbackCollector& operator=(const LoopbackCollector&) = delete;

  uint16_t port() const { return port_; }
  int failed_handshakes() const { return failed_handshakes_; }
  int connections() const { return connections_; }
  // From now on, close each connection after its first answer (as a collector with keep-alive off does).
  void close_after_each() { close_after_each_ = true; }
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void start() {
    listener_ = listen_on_loopback(port_);
    thread_ = std::thread([this] { serve(); });
  }

  void serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      timeval two_seconds{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
      if (context_ == nullptr) {
        while (!stop_ && answer(fd, nullptr) && !close_after_each_) {
        }
      } else {
        SSL* ssl = SSL_new(context_);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
          while (!stop_ && answer(fd, ssl) && !close_after_each_) {
          }
          SSL_shutdown(ssl);
        } else {
          ++failed_handshakes_;
        }
        ERR_clear_error();
        SSL_free(ssl);
      }
      ::close(fd);
    }
  }

  // One request and its answer; false when the client closed or went quiet (2 s) instead.
  bool answer(int fd, SSL* ssl) {
    Received r;
    if (X509* peer = ssl != nullptr ? SSL_get1_peer_certificate(ssl) : nullptr) {
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
      const long n = ssl != nullptr ? SSL_read(ssl, buf, sizeof buf) : ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      r.request.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(mutex_);  // recorded before answering: the client may look as soon as it is answered
      received_.push_back(std::move(r));
    }
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    if (ssl != nullptr)
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
    else
      ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    return true;
  }

  SSL_CTX* context_ = nullptr;  // nullptr: plain http
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> failed_handshakes_{0}, connections_{0};
  std::atomic<bool> close_after_each_{false};
  std::mutex mutex_;
  std::vector<Received> received_;
  std::thread thread_;
};

}  // namespace tollway

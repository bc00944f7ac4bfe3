#include "telemetry/otlp_http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <boost/asio/ssl/context.hpp>

#include "http/chunked.h"
#include "http/parser.h"
#include "tls/client_context.h"

namespace tollway::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

int connect_to(const std::string& host, uint16_t port, Clock::time_point deadline, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc =
          ::getaddrinfo(host == "localhost" ? "127.0.0.1" : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    error = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline)) {
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error == 0) break;
      error = std::string("connect: ") + std::strerror(so_error);
    } else {
      error = errno == EINPROGRESS ? "connect timed out" : std::string("connect: ") + std::strerror(errno);
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  return fd;
}

// The collector's TLS context, kept between exports: loading the system trust store costs about 20 ms of CPU,
// more than a handshake. Rebuilt when the settings change or a file named in them was replaced or rewritten
// (certificate rotation), so a renewed client certificate is presented from the next export on.
class CollectorTlsContext {
 public:
  std::shared_ptr<boost::asio::ssl::context> get(const config::OtlpConfig& collector, std::string& error) {
    const tls::ClientTlsFiles files{collector.ca_file, collector.client_cert, collector.client_key};
    const std::string stamp = file_stamps(files);
    std::lock_guard lock(mutex_);
    if (context_ && files_.ca_file == files.ca_file && files_.cert_file == files.cert_file &&
        files_.key_file == files.key_file && stamp_ == stamp)
      return context_;
    std::optional<tls::ClientTlsError> failure;
    auto fresh = tls::make_client_context(files, failure);
    if (!fresh) {
      error = failure->message;
      return nullptr;
    }
    context_ = fresh;
    files_ = files;
    stamp_ = stamp;
    return fresh;
  }

 private:
  // Device, inode, size and modification time of each named file: any change means "load again".
  static std::string file_stamps(const tls::ClientTlsFiles& files) {
    std::string out;
    for (const std::string* path : {&files.ca_file, &files.cert_file, &files.key_file}) {
      struct stat st {};
      if (!path->empty() && ::stat(path->c_str(), &st) == 0)
        out += std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
               std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec);
      out += '|';
    }
    return out;
  }

  std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  tls::ClientTlsFiles files_;
  std::string stamp_;
};

CollectorTlsContext& collector_tls_context() {
  static CollectorTlsContext context;
  return context;
}

}  // namespace

// A connected non-blocking socket, plain or TLS, whose every operation ends by the same deadline.
class OtlpClient::Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() {
    if (ssl_ != nullptr) {
      // One try at close_notify after a finished handshake; the socket is closed either way.
      if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
      ERR_clear_error();
      SSL_free(ssl_);
    }
    ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The TLS handshake, the peer's chain and name verified; false with `error` set.
  bool start_tls(SSL_CTX* context, const std::string& host, Clock::time_point deadline, std::string& error) {
    ssl_ = SSL_new(context);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 || !tls::expect_peer_name(ssl_, host)) {
      error = "TLS setup for " + host + " failed: " + tls::handshake_failure_reason(ssl_);
      return false;
    }
    if (tls_call([this] { return SSL_connect(ssl_); }, deadline) > 0) return true;
    error = timed_out_ ? "TLS handshake timed out" : "TLS handshake failed: " + tls_failure_;
    return false;
  }

  TlsContext made_with;  // https: the TLS context of the handshake

  // An idle connection the collector has closed (or sent something unasked on) is not used again.
  bool still_open() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

  bool send_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      ssize_t n = 0;
      if (ssl_ != nullptr) {
        n = tls_call(
            [&] {
              return SSL_write(ssl_, data.data(),
                               static_cast<int>(std::min<std::size_t>(data.size(), 1 << 20)));
            },
            deadline);
        if (n <= 0) return false;
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
          if (!wait_for(fd_, POLLOUT, deadline)) return false;
          continue;
        }
        if (n <= 0) return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Why a TLS connection failed after the handshake, " (TLS: ...)", or "" when it did not say. TLS 1.3 servers
  // judge the client's certificate after the client's handshake is done, so a refusal ("certificate
  // required") arrives as an alert while the request is sent: a failed write looks once for one already here.
  std::string tls_failure() {
    if (ssl_ != nullptr && tls_failure_.empty()) {
      char byte;
      ERR_clear_error();
      if (const int n = SSL_read(ssl_, &byte, 1); n <= 0 && SSL_get_error(ssl_, n) == SSL_ERROR_SSL)
        tls_failure_ = tls::handshake_failure_reason(ssl_);
    }
    return tls_failure_.empty() ? "" : " (TLS: " + tls_failure_ + ")";
  }

  // Appends what arrives; 0 at EOF, -1 on error or timeout.
  ssize_t receive(std::string& into, Clock::time_point deadline) {
    char buf[8192];
    if (ssl_ != nullptr) {
      const int n = tls_call([&] { return SSL_read(ssl_, buf, sizeof buf); }, deadline);
      if (n > 0) into.append(buf, static_cast<std::size_t>(n));
      return n > 0 ? n : (last_tls_error_ == SSL_ERROR_ZERO_RETURN ? 0 : -1);
    }
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n >= 0) {
        into.append(buf, static_cast<std::size_t>(n));
        return n;
      }
      if (errno != EAGAIN && errno != EINTR) return -1;
      if (!wait_for(fd_, POLLIN, deadline)) return -1;
    }
  }

 private:
  // Repeats an OpenSSL call while it wants the socket readable or writable, until the deadline. Returns the
  // call's last result (> 0: done); on failure last_tls_error_ and timed_out_ say why.
  template <typename Call>
  int tls_call(Call call, Clock::time_point deadline) {
    while (true) {
      ERR_clear_error();
      const int n = call();
      if (n > 0) return n;
      last_tls_error_ = SSL_get_error(ssl_, n);
      const short wanted = last_tls_error_ == SSL_ERROR_WANT_READ    ? POLLIN
                           : last_tls_error_ == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                                     : 0;
      if (wanted == 0) {
        if (last_tls_error_ == SSL_ERROR_SSL) tls_failure_ = tls::handshake_failure_reason(ssl_);
        return n;
      }
      if (!wait_for(fd_, wanted, deadline)) {
        timed_out_ = true;
        return -1;
      }
    }
  }

  int fd_;
  SSL* ssl_ = nullptr;
  int last_tls_error_ = SSL_ERROR_NONE;
  bool timed_out_ = false;
  std::string tls_failure_;  // OpenSSL's reason for the last failed TLS call ("" for none)
};

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // Level 1: telemetry is compressed on every export; the fastest level keeps most of the gain (JSON is
  // redundant).
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

OtlpClient::OtlpClient(config::OtlpConfig collector) : collector_(std::move(collector)) {}
OtlpClient::~OtlpClient() = default;

std::unique_ptr<OtlpClient::Connection> OtlpClient::open(const TlsContext& tls_context, Clock::time_point deadline,
                                                         std::string& error) {
  const int fd = connect_to(collector_.host, collector_.port, deadline, error);
  if (fd < 0) return nullptr;
  // On a kept connection, Nagle's algorithm would hold the body back until the collector's delayed ACK of the
  // head (40 ms per export).
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto connection = std::make_unique<Connection>(fd);
  if (tls_context && !connection->start_tls(tls_context->native_handle(), collector_.host, deadline, error))
    return nullptr;
  connection->made_with = tls_context;
  ++connections_opened_;
  return connection;
}

HttpPostResult OtlpClient::post(const std::string& path, std::string_view body) {
  const auto deadline = Clock::now() + collector_.timeout;
  HttpPostResult result;
  // https: the current TLS context, once per export (it is rebuilt when a TLS file was renewed on disk).
  TlsContext tls_context;
  if (collector_.tls && !(tls_context = collector_tls_context().get(collector_, result.error))) return result;
  std::unique_ptr<Connection> connection = std::move(idle_);
  // A kept connection is used again only while it is open and was made with the current TLS context (a new
  // client certificate or CA takes effect at once).
  if (connection && (!connection->still_open() || connection->made_with != tls_context)) connection.reset();
  const bool reused = connection != nullptr;
  if (!connection && !(connection = open(tls_context, deadline, result.error))) return result;
  bool keep = false, answered = false;
  result = exchange(*connection, path, body, deadline, keep, answered);
  if (!result.status && reused && !answered) {
    // The collector closed the kept connection as the request went out (its idle timeout): nothing was answered,
    // so the request is sent once more on a new connection.
    connection.reset();
    if (!(connection = open(tls_context, deadline, result.error))) return result;
    result = exchange(*connection, path, body, deadline, keep, answered);
  }
  if (keep) idle_ = std::move(connection);
  return result;
}

HttpPostResult OtlpClient::exchange(Connection& connection, const std::string& path, std::string_view body,
                                    Clock::time_point deadline, bool& keep, bool& answered) {
  HttpPostResult result;
  keep = answered = false;
  const bool ipv6_literal = collector_.host.find(':') != std::string::npos;
  std::string request =
      "POST " + path + " HTTP/1.1\r\nHost: " + (ipv6_literal ? "[" + collector_.host + "]" : collector_.host) +
      ":" + std::to_string(collector_.port) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nUser-Agent: tollway\r\n";
  if (collector_.gzip) request += "Content-Encoding: gzip\r\n";
  request += "\r\n";
  if (!connection.send_all(request, deadline) || !connection.send_all(body, deadline)) {
    result.error = "sending the export request failed or timed out" + connection.tls_failure();
    return result;
  }
  std::string in;
  http::ResponseHead head;
  http::ParseError parse_error;
  http::ParseLimits limits;
  http::ParseStatus status = http::ParseStatus::Incomplete;
  while (status == http::ParseStatus::Incomplete) {
    if (connection.receive(in, deadline) <= 0) {
      result.error = "no complete response from the collector" + connection.tls_failure();
      return result;
    }
    answered = true;
    status = http::parse_response_head(in, "POST", limits, head, parse_error);
    if (status == http::ParseStatus::Complete && head.status >= 100 && head.status < 200) {
      in.erase(0, head.head_size);
      status = http::ParseStatus::Incomplete;
    }
  }
  if (status == http::ParseStatus::Error) {
    result.error = "malformed response from the collector: " + std::string(parse_error.message);
    return result;
  }
  const int code = head.status;
  const std::string retry_after(head.find("retry-after").value_or(""));
  const http::BodyFraming framing = head.framing;
  const uint64_t length = head.content_length;
  std::string raw = in.substr(head.head_size);
  constexpr std::size_t kMaxBody = 1 << 20;
  // The body (partialSuccess) matters only for a 2xx; read it within the same deadline. The connection is kept
  // for the next export only when the body ended exactly where the response says and the collector allows it.
  bool complete = false;
  if (framing == http::BodyFraming::ContentLength) {
    while (raw.size() < length && raw.size() < kMaxBody && connection.receive(raw, deadline) > 0) {
    }
    complete = raw.size() == length;
    result.body = raw.substr(0, length);
  } else if (framing == http::BodyFraming::Chunked) {
    http::ChunkedDecoder decoder;
    std::size_t used = 0;
    while (result.body.size() < kMaxBody) {
      bool done = false, need_more = false;
      while (used < raw.size()) {
        const auto step = decoder.next(std::string_view(raw).substr(used));
        used += step.consumed;
        if (step.status == http::ChunkedDecoder::Status::Data) result.body.append(step.data);
        if (step.status == http::ChunkedDecoder::Status::Done) {
          done = complete = used == raw.size();
          break;
        }
        if (step.status == http::ChunkedDecoder::Status::Error) {
          done = true;
          break;
        }
        if (step.status == http::ChunkedDecoder::Status::NeedMore) {
          need_more = true;
          break;
        }
      }
      if (done || (!need_more && used < raw.size())) break;
      if (connection.receive(raw, deadline) <= 0) break;
    }
  } else if (framing == http::BodyFraming::UntilClose) {
    while (raw.size() < kMaxBody && connection.receive(raw, deadline) > 0) {
    }
    result.body = std::move(raw);
  } else {
    complete = raw.empty();  // no body (204, 304)
  }
  keep = complete && head.keep_alive;
  result.status = code;
  result.retry_after = retry_after;
  return result;
}

}  // namespace tollway::telemetry

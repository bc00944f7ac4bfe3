#include "telemetry/otlp_http.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "http/chunked.h"
#include "http/parser.h"

namespace tollway::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

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
  if (const int rc = ::getaddrinfo(host == "localhost" ? "127.0.0.1" : host.c_str(), service.c_str(), &hints, &found);
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

bool send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Appends what arrives; 0 at EOF, -1 on error or timeout.
ssize_t receive(int fd, std::string& into, Clock::time_point deadline) {
  char buf[8192];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n >= 0) {
      into.append(buf, static_cast<std::size_t>(n));
      return n;
    }
    if (errno != EAGAIN && errno != EINTR) return -1;
    if (!wait_for(fd, POLLIN, deadline)) return -1;
  }
}

}  // namespace

std::string gzip_compress(std::string_view data) {
  z_stream z{};
  // Level 1: telemetry is compressed on every export; the fastest level keeps most of the gain (JSON is redundant).
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

HttpPostResult http_post(const std::string& host, uint16_t port, const std::string& path,
                         std::string_view content_type, bool gzip_encoded, std::string_view body,
                         std::chrono::milliseconds timeout) {
  HttpPostResult result;
  const auto deadline = Clock::now() + timeout;
  const int fd = connect_to(host, port, deadline, result.error);
  if (fd < 0) return result;
  Socket socket(fd);
  std::string request = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                        "\r\nContent-Type: " + std::string(content_type) + "\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\nUser-Agent: tollway\r\n";
  if (gzip_encoded) request += "Content-Encoding: gzip\r\n";
  request += "\r\n";
  if (!send_all(fd, request, deadline) || !send_all(fd, body, deadline)) {
    result.error = "sending the export request failed or timed out";
    return result;
  }
  std::string in;
  http::ResponseHead head;
  http::ParseError parse_error;
  http::ParseLimits limits;
  http::ParseStatus status = http::ParseStatus::Incomplete;
  while (status == http::ParseStatus::Incomplete) {
    if (receive(fd, in, deadline) <= 0) {
      result.error = "no complete response from the collector";
      return result;
    }
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
  // The body (partialSuccess) matters only for a 2xx; read it within the same deadline.
  if (framing == http::BodyFraming::ContentLength) {
    while (raw.size() < length && raw.size() < kMaxBody && receive(fd, raw, deadline) > 0) {}
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
        if (step.status == http::ChunkedDecoder::Status::Done || step.status == http::ChunkedDecoder::Status::Error) {
          done = true;
          break;
        }
        if (step.status == http::ChunkedDecoder::Status::NeedMore) {
          need_more = true;
          break;
        }
      }
      if (done || (!need_more && used < raw.size())) break;
      if (receive(fd, raw, deadline) <= 0) break;
    }
  } else if (framing == http::BodyFraming::UntilClose) {
    while (raw.size() < kMaxBody && receive(fd, raw, deadline) > 0) {}
    result.body = std::move(raw);
  }
  result.status = code;
  result.retry_after = retry_after;
  return result;
}

}  // namespace tollway::telemetry

#include "nginx_oracle.h"

#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace tollway::fuzz {
namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "fuzz_http_framing_nginx: %s\n", why.c_str());
  std::exit(2);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    die("cannot pick a loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits until fd is ready for `events` or the deadline passes.
bool wait_for(int fd, short events, long long deadline_ms) {
  const long long left = deadline_ms - now_ms();
  if (left <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left)) > 0;
}

// One access-log line: client port, status, request length, method and target, tab-separated (log_format
// `framing`). False for a line of another connection than the one from `port`.
bool parse_access_line(std::string_view line, int port, NginxRequest& out) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (fields.size() < 4) {
    const std::size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) return false;
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
  fields.push_back(line.substr(start));
  if (std::atoi(std::string(fields[0]).c_str()) != port) return false;
  out.status = std::atoi(std::string(fields[1]).c_str());
  out.head_bytes = static_cast<std::size_t>(std::strtoull(std::string(fields[2]).c_str(), nullptr, 10));
  out.method = fields[3];
  out.target = fields[4];
  return true;
}

// The message of an error-log line: "... [info] PID#TID: *CONN MESSAGE, client: ..." -> MESSAGE.
std::string error_message(std::string_view line) {
  std::size_t start = line.find(": *");
  if (start == std::string_view::npos) return {};
  start = line.find(' ', start + 3);
  if (start == std::string_view::npos) return {};
  const std::size_t end = line.find(", client:", start);
  return std::string(line.substr(start + 1, end == std::string_view::npos ? std::string_view::npos : end - start - 1));
}

}  // namespace

NginxOracle::NginxOracle() {
  const char* bin = std::getenv("NGINX_BIN");
  const std::string nginx = bin != nullptr ? bin : "/usr/sbin/nginx";
  if (::access(nginx.c_str(), X_OK) != 0) die(nginx + " is not installed (scripts/install-deps.sh installs nginx)");
  char pattern[] = "/tmp/tollway-fuzz-nginx-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) die("cannot create a temporary directory");
  dir_ = pattern;
  ::mkdir((dir_ + "/logs").c_str(), 0700);
  port_ = free_port();
  {
    std::ofstream conf(dir_ + "/nginx.conf");
    conf << "worker_processes 1;\nmaster_process off;\ndaemon off;\npid " << dir_ << "/nginx.pid;\n"
         << "error_log " << dir_ << "/logs/error.log info;\n"
         << "events { worker_connections 64; }\n"
         << "http {\n"
         << "  log_format framing '$remote_port\\t$status\\t$request_length\\t$request_method\\t$request_uri';\n"
         << "  access_log " << dir_ << "/logs/access.log framing;\n"
         << "  client_body_temp_path " << dir_ << "/body; proxy_temp_path " << dir_ << "/proxy;\n"
         << "  fastcgi_temp_path " << dir_ << "/fcgi; uwsgi_temp_path " << dir_ << "/uwsgi; scgi_temp_path " << dir_
         << "/scgi;\n"
         // tollway's head limits (8 KiB request line, 64 KiB head) are above what a fuzz input holds; nginx gets
         // room to match, and no body limit (tollway's is per route, not the parser's).
         << "  client_header_buffer_size 64k; large_client_header_buffers 4 64k; client_max_body_size 0;\n"
         << "  client_header_timeout 3s; client_body_timeout 3s; keepalive_timeout 5s; keepalive_requests 100000;\n"
         // Without lingering close nginx logs a connection's requests before it closes it, so its last line is
         // written by the time the client sees the end of the connection.
         << "  lingering_close off;\n"
         << "  server {\n    listen 127.0.0.1:" << port_ << ";\n    location / { return 200 \"ok\\n\"; }\n  }\n"
         << "}\n";
  }
  pid_ = ::fork();
  if (pid_ < 0) die("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    const std::string conf = dir_ + "/nginx.conf";
    ::execl(nginx.c_str(), nginx.c_str(), "-p", dir_.c_str(), "-c", conf.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  const long long deadline = now_ms() + 10000;
  for (;;) {
    const int fd = connect_to(port_);
    if (fd >= 0) {
      ::close(fd);
      break;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      die("nginx exited at start; see " + dir_ + "/logs/error.log");
    }
    if (now_ms() > deadline) die("nginx did not listen within 10 s");
    ::usleep(10000);
  }
  // The readiness probe above may have left an access-log or error-log line: start after it.
  ::usleep(20000);
  take_new(dir_ + "/logs/access.log", access_offset_);
  take_new(dir_ + "/logs/error.log", error_offset_);
}

NginxOracle::~NginxOracle() { stop(); }

void NginxOracle::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (!dir_.empty()) {
    const std::string command = "rm -rf '" + dir_ + "'";
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir_.c_str());
    dir_.clear();
  }
}

std::string NginxOracle::take_new(const std::string& path, off_t& offset) {
  std::string text;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  struct stat st {};
  ::fstat(fd, &st);
  if (st.st_size < offset) offset = 0;
  char chunk[16384];
  for (;;) {
    const ssize_t n = ::pread(fd, chunk, sizeof chunk, offset);
    if (n <= 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
    offset += n;
  }
  ::close(fd);
  // Keep a long campaign's logs small: nginx appends (O_APPEND), so truncating between connections is safe.
  if (offset > (64 << 20)) {
    if (::truncate(path.c_str(), 0) == 0) offset = 0;
  }
  return text;
}

NginxReading NginxOracle::read(std::string_view stream, int timeout_ms) {
  NginxReading reading;
  int fd = connect_to(port_);
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {  // a port still held by the kernel: try again
    ::usleep(50000);
    fd = connect_to(port_);
  }
  if (fd < 0) die(std::string("cannot connect to nginx: ") + std::strerror(errno));
  sockaddr_in local{};
  socklen_t local_size = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size);
  const int client_port = ntohs(local.sin_port);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const long long deadline = now_ms() + timeout_ms;
  std::size_t sent = 0;
  char sink[65536];
  // Write everything (reading nginx's answers meanwhile so that neither side blocks), then close the write side
  // and read until nginx closes.
  while (sent < stream.size()) {
    pollfd p{fd, POLLIN | POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(deadline - now_ms())) <= 0) break;
    if (p.revents & POLLIN) {
      if (::recv(fd, sink, sizeof sink, 0) == 0) break;
    }
    if (p.revents & (POLLERR | POLLHUP)) break;
    if (p.revents & POLLOUT) {
      const ssize_t n = ::send(fd, stream.data() + sent, stream.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) break;
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
  }
  ::shutdown(fd, SHUT_WR);
  reading.closed = false;
  while (wait_for(fd, POLLIN, deadline)) {
    const ssize_t n = ::recv(fd, sink, sizeof sink, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      reading.closed = true;
      break;
    }
  }
  // Millions of connections would leave as many sockets in TIME_WAIT on this side (it closed first) and run the
  // ephemeral ports out: nginx has closed too by now, so the connection ends with a reset instead.
  const linger no_time_wait{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_time_wait, sizeof no_time_wait);
  ::close(fd);

  const std::string access = take_new(dir_ + "/logs/access.log", access_offset_);
  for (std::size_t start = 0; start < access.size();) {
    std::size_t end = access.find('\n', start);
    if (end == std::string::npos) end = access.size();
    NginxRequest request;
    if (parse_access_line(std::string_view(access).substr(start, end - start), client_port, request)) {
      reading.requests.push_back(std::move(request));
    }
    start = end + 1;
  }
  const std::string errors = take_new(dir_ + "/logs/error.log", error_offset_);
  for (std::size_t start = 0; start < errors.size();) {
    std::size_t end = errors.find('\n', start);
    if (end == std::string::npos) end = errors.size();
    std::string message = error_message(std::string_view(errors).substr(start, end - start));
    if (!message.empty() && message.find("closed keepalive connection") == std::string::npos) {
      reading.reasons.push_back(std::move(message));
    }
    start = end + 1;
  }
  return reading;
}

}  // namespace tollway::fuzz

// NginxOracle: a real nginx (one process, no master) on a 127.0.0.1 port, used by fuzz_http_framing_nginx as the
// reference reader of HTTP/1.1 request streams. It writes a byte stream on a new connection, closes the write
// side, waits for nginx to close, and reports how nginx framed it: each request it logged (status, bytes of request
// line and headers, method, target) and the reasons its error log gave. It must never run outside tests/fuzz, and
// never leaves nginx behind: nginx dies with the fuzzer (PR_SET_PDEATHSIG) and is killed at exit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace tollway::fuzz {

struct NginxRequest {
  int status = 0;
  std::size_t head_bytes = 0;  // $request_length: request line and headers (a discarded body is not counted)
  std::string method;
  std::string target;  // $request_uri, as sent
};

struct NginxReading {
  std::vector<NginxRequest> requests;  // in the order nginx finished them
  std::vector<std::string> reasons;    // error-log messages about the client's bytes ("client sent ...")
  bool closed = true;                  // nginx closed the connection within the time allowed
};

class NginxOracle {
 public:
  // Starts nginx from NGINX_BIN (default /usr/sbin/nginx) in a new temporary prefix; exits the process with a
  // message when nginx cannot be started (the fuzz target cannot run without its reference).
  NginxOracle();
  ~NginxOracle();
  NginxOracle(const NginxOracle&) = delete;
  NginxOracle& operator=(const NginxOracle&) = delete;

  // Gives nginx `timeout_ms` to answer and close (a starved machine can take seconds).
  NginxReading read(std::string_view stream, int timeout_ms);

 private:
  void stop();
  std::string take_new(const std::string& path, off_t& offset);

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  off_t access_offset_ = 0;
  off_t error_offset_ = 0;
};

}  // namespace tollway::fuzz

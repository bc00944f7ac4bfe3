// WatchStreamParser: reads the bytes of one answer to etcd's `POST /v3/watch` (the v3 JSON gateway's server
// stream: an HTTP/1.1 200 head with chunked transfer coding, then one JSON object per line, `{"result":{...}}` or
// `{"error":{...}}`) as they arrive from the socket, split anywhere, and hands out each watch response: its
// header revision, created / canceled, the compact revision of a canceled watch, and the events (PUT or DELETE,
// key, mod_revision). Pure (no I/O, no Asio: the fuzz target links it) and strict: a malformed head, chunk,
// line or JSON is an error that ends the stream, never a guess. It never keeps more than one line of a line
// longer than max_line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/chunked.h"

namespace tollway::control::etcd {

struct WatchEvent {
  enum class Type { Put, Delete };
  Type type = Type::Put;
  std::string key;
  int64_t mod_revision = 0;
};

struct WatchResponse {
  int64_t revision = 0;         // header.revision (absent on a canceled watch)
  bool created = false;         // the watch is open from here on
  bool canceled = false;        // etcd ended the watch (see compact_revision and cancel_reason)
  int64_t compact_revision = 0; // > 0: the start revision was compacted; re-read everything
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};

// The body of `POST /v3/watch` that watches [key, range_end) from start_revision (0: from now).
std::string watch_request(std::string_view key, std::string_view range_end, int64_t start_revision);

// One line of the stream; nullopt with `error` when it is not a watch response (an `{"error":...}` line's
// message is the error).
std::optional<WatchResponse> parse_watch_line(std::string_view line, std::string& error);

class WatchStreamParser {
 public:
  explicit WatchStreamParser(std::size_t max_line = 16u << 20) : max_line_(max_line) {}

  enum class Status { Ok, Ended, Failed };
  // Consumes `bytes` whole, appending every complete watch response to `out`. Ended: the server finished the
  // stream (the last chunk); Failed: see error(). Once not Ok, it stays so.
  Status feed(std::string_view bytes, std::vector<WatchResponse>& out);
  const std::string& error() const { return error_; }

 private:
  Status fail(std::string message);
  Status take_lines(std::vector<WatchResponse>& out);

  std::size_t max_line_;
  std::string head_;   // the response head until it is complete
  bool in_body_ = false;
  http::ChunkedDecoder chunked_{4096, 16 * 1024};
  std::string line_;   // decoded body bytes not yet ending in '\n'
  Status status_ = Status::Ok;
  std::string error_;
};

}  // namespace tollway::control::etcd

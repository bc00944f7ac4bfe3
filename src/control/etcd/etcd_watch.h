// EtcdWatch: the control plane's etcd watch — one `POST /v3/watch` stream over [key, range_end) held open on one
// member of the list (plain, or TLS for an https:// member, through http::connect_endpoint). Each response with events moves the next start revision past it and calls `changed`;
// a stream that ends (member killed, network, a server that ends it) is opened again at once on the next
// member, from the revision after the last one seen, and after every member failed in a row, after a backoff
// (0.2 s doubling to 5 s) with `reachable(false, why)`. A canceled watch (its start revision compacted) is opened
// again from now, and a stream opened from now (the first, or after a compaction) is reported as a change once
// it is open, so that the caller reads everything again with nothing missed in between. It never reads values (the
// caller reads the keys whole in one range), never logs keys or values, and does nothing after stop().
#pragma once

#include <boost/asio.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control/etcd/watch_stream_parser.h"
#include "http/stream.h"
#include "http/upstream_pool.h"

namespace tollway::control::etcd {

class EtcdWatch {
 public:
  struct Callbacks {
    std::function<void(const WatchResponse&)> changed;  // a response with events, or a stream opened from now
    std::function<void(bool reachable, const std::string& why)> reachable;  // the stream opened, or every member failed
  };
  EtcdWatch(boost::asio::any_io_executor executor, std::vector<http::UpstreamEndpoint> members, std::string key,
            std::string range_end, std::chrono::milliseconds connect_timeout, Callbacks callbacks);

  // Runs until stop().
  boost::asio::awaitable<void> run();
  // Ends the open stream; run() opens the next one (on the next member) from where it was.
  void reconnect();
  void stop();

  int64_t next_revision() const { return next_revision_; }
  uint64_t streams_opened() const { return streams_opened_; }

 private:
  // One stream on member `index`; returns why it ended.
  boost::asio::awaitable<std::string> stream_once(std::size_t index, bool& opened);

  boost::asio::any_io_executor executor_;
  std::vector<http::UpstreamEndpoint> members_;
  std::string key_, range_end_;
  std::chrono::milliseconds connect_timeout_;
  Callbacks callbacks_;
  std::shared_ptr<http::Stream> stream_;  // the open stream, for reconnect() and stop()
  int64_t next_revision_ = 0;  // 0: from now
  uint64_t streams_opened_ = 0;
  bool stopping_ = false;
};

}  // namespace tollway::control::etcd

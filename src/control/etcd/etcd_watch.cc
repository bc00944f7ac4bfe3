#include "control/etcd/etcd_watch.h"

#include <algorithm>
#include <array>

namespace tollway::control::etcd {
namespace {

namespace asio = boost::asio;

constexpr auto kFirstBackoff = std::chrono::milliseconds(200);
constexpr auto kLastBackoff = std::chrono::milliseconds(5000);

std::string member_text(const http::UpstreamEndpoint& e) { return "etcd at " + e.host + ":" + std::to_string(e.port); }

}  // namespace

EtcdWatch::EtcdWatch(asio::any_io_executor executor, std::vector<http::UpstreamEndpoint> members, std::string key,
                     std::string range_end, std::chrono::milliseconds connect_timeout, Callbacks callbacks)
    : executor_(std::move(executor)),
      members_(std::move(members)),
      key_(std::move(key)),
      range_end_(std::move(range_end)),
      connect_timeout_(connect_timeout),
      callbacks_(std::move(callbacks)) {}

void EtcdWatch::reconnect() {
  if (stream_) stream_->close();
}

void EtcdWatch::stop() {
  stopping_ = true;
  reconnect();
}

asio::awaitable<std::string> EtcdWatch::stream_once(std::size_t index, bool& opened) {
  const http::UpstreamEndpoint& member = members_[index];
  http::ConnectFailure failure;
  std::shared_ptr<http::Stream> stream =
      co_await http::connect_endpoint(executor_, member, connect_timeout_, failure);
  if (!stream) co_return member_text(member) + ": cannot connect: " + failure.reason;
  if (stopping_) co_return "stopped";
  stream_ = stream;
  // The deadline covers the stream's creation; an open stream may stay quiet for as long as nothing changes.
  asio::steady_timer deadline(executor_);
  auto created = std::make_shared<bool>(false);  // shared with the deadline's handler, which may run after return
  deadline.expires_after(connect_timeout_);
  deadline.async_wait([stream, created](const boost::system::error_code& ec) {
    if (!ec && !*created) stream->close();
  });
  struct CancelDeadline {
    asio::steady_timer& timer;
    ~CancelDeadline() { timer.cancel(); }
  } cancel_deadline{deadline};
  boost::system::error_code ec;
  const std::string body = watch_request(key_, range_end_, next_revision_);
  const std::string request = "POST /v3/watch HTTP/1.1\r\nHost: " + member.host + ":" + std::to_string(member.port) +
                              "\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  co_await stream->write(request, ec);
  if (ec) co_return member_text(member) + ": cannot send the watch: " + stream->failure_reason(ec);
  WatchStreamParser parser;
  std::vector<WatchResponse> responses;
  std::array<char, 16 * 1024> buffer;
  while (!stopping_) {
    const std::size_t n = co_await stream->read_some(asio::buffer(buffer), ec);
    if (ec)
      co_return member_text(member) + (*created ? ": the watch stream ended: " : ": no watch stream: ") +
          stream->failure_reason(ec);
    responses.clear();
    const auto status = parser.feed(std::string_view(buffer.data(), n), responses);
    for (const auto& response : responses) {
      if (stopping_) co_return "stopped";
      if (response.canceled) {
        next_revision_ = 0;  // the next stream starts from now, and its creation is a change: everything is read again
        if (response.compact_revision > 0) {
          co_return member_text(member) + ": the watch's start revision was compacted (compact revision " +
                    std::to_string(response.compact_revision) + ")";
        }
        co_return member_text(member) + ": etcd canceled the watch" +
                  (response.cancel_reason.empty() ? "" : ": " + response.cancel_reason);
      }
      if (response.created) {
        *created = true;
        opened = true;
        ++streams_opened_;
        callbacks_.reachable(true, "");
        if (next_revision_ == 0) {
          // From now (the first stream, or after a compaction): the caller reads everything once the stream is
          // open, so that nothing written after its revision is missed.
          next_revision_ = response.revision + 1;
          callbacks_.changed(response);
        }
        continue;
      }
      if (response.events.empty()) continue;  // a progress notification
      int64_t last = response.revision;
      for (const auto& event : response.events) last = std::max(last, event.mod_revision);
      next_revision_ = last + 1;
      callbacks_.changed(response);
    }
    if (status == WatchStreamParser::Status::Ended) co_return member_text(member) + ": etcd ended the watch stream";
    if (status == WatchStreamParser::Status::Failed) co_return member_text(member) + ": " + parser.error();
  }
  co_return "stopped";
}

asio::awaitable<void> EtcdWatch::run() {
  asio::steady_timer timer(executor_);
  std::size_t index = 0;
  std::size_t failed_in_a_row = 0;
  auto backoff = std::chrono::milliseconds(0);
  std::string failures;
  while (!stopping_) {
    bool opened = false;
    const std::string why = co_await stream_once(index, opened);
    stream_.reset();
    if (stopping_) co_return;
    if (opened) {
      failed_in_a_row = 0;
      failures.clear();
      backoff = std::chrono::milliseconds(0);
    }
    failures += (failures.empty() ? "" : "; ") + why;
    ++failed_in_a_row;
    index = (index + 1) % members_.size();
    if (failed_in_a_row < members_.size()) continue;  // the next member, at once
    callbacks_.reachable(false, failures);
    failures.clear();
    failed_in_a_row = 0;
    backoff = backoff == std::chrono::milliseconds(0) ? kFirstBackoff : std::min(backoff * 2, kLastBackoff);
    timer.expires_after(backoff);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace tollway::control::etcd

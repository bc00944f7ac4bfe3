#include "proxy/config_source.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tollway::proxy {

namespace asio = boost::asio;

FileConfigSource::FileConfigSource(asio::io_context& context, std::string path)
    : path_(std::move(path)), timer_(context), seen_(core::stamp_file(path_)) {}

std::optional<ConfigDocument> FileConfigSource::read(std::string& error) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    error = path_ + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return ConfigDocument{std::move(bytes).str(), path_, {}};
}

void FileConfigSource::mark_read() {
  seen_ = core::stamp_file(path_);
}

void FileConfigSource::cancel() {
  cancelled_ = true;
  timer_.cancel();
}

asio::awaitable<bool> FileConfigSource::changed() {
  core::FileStamp candidate = seen_;
  while (!cancelled_) {
    timer_.expires_after(std::chrono::milliseconds(500));
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (cancelled_) break;
    const core::FileStamp now = core::stamp_file(path_);
    if (now == seen_ || now.size < 0) {
      candidate = seen_;
    } else if (now == candidate) {
      seen_ = now;
      co_return true;
    } else {
      candidate = now;
    }
  }
  co_return false;
}

}  // namespace tollway::proxy

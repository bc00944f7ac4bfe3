// Runs one phase of a filter in a unit test: the awaitable to completion on a private io_context, its result
// returned (exceptions rethrown), so a test reads `EXPECT_EQ(run_phase(f.admit(ctx)), Verdict::Continue)`.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace tollway::testing {

template <typename T>
T run_phase(boost::asio::awaitable<T> phase) {
  boost::asio::io_context io;
  std::optional<T> result;
  boost::asio::co_spawn(io, std::move(phase), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result = std::move(value);
  });
  io.run();
  return std::move(*result);
}

inline void run_phase(boost::asio::awaitable<void> phase) {
  boost::asio::io_context io;
  boost::asio::co_spawn(io, std::move(phase), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
}

}  // namespace tollway::testing

// ReadBuffer: the bytes received on a connection and not yet consumed. Parsed heads are views into it, so
// it never moves its bytes while they are in use: it only grows into fresh storage when asked to prepare()
// more room than is left, which callers do only between messages or before a head is parsed.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace tollway::http {

class ReadBuffer {
 public:
  explicit ReadBuffer(std::size_t initial_capacity = 16 * 1024)
      : storage_(new char[initial_capacity]), capacity_(initial_capacity) {}

  std::string_view data() const { return {storage_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  // A writable region of at least `min_free` bytes after the data (moves the data to the front or to a
  // larger allocation if needed; invalidates views).
  char* prepare(std::size_t min_free, std::size_t& available);
  void commit(std::size_t n) { end_ += n; }
  void consume(std::size_t n);
  void append(std::string_view bytes);
  std::size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace tollway::http

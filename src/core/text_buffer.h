// TextBuffer: a growable byte buffer for the hot text writers (the telemetry thread's spans and log lines).
// Writers reserve room and store through a raw cursor, so a piece of known size (a literal) compiles to plain
// stores instead of a std::string append call. Its memory is kept across clear() (a reused buffer costs no
// fresh pages) and is never zero-filled. Strings written as JSON go through json::escape_to: never invalid
// JSON.
#pragma once

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/json.h"

namespace tollway {

class TextBuffer {
 public:
  std::string_view view() const { return {data_.get(), size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }

  // Bytes of known length: a literal's size is a compile-time constant.
  template <std::size_t N>
  void literal(const char (&text)[N]) {
    std::memcpy(reserve(N - 1), text, N - 1);
    size_ += N - 1;
  }
  void append(std::string_view text) {
    if (!text.empty()) std::memcpy(reserve(text.size()), text.data(), text.size());
    size_ += text.size();
  }
  // For writers with their own formatting: at least n bytes to write at the result, then commit what was
  // written.
  char* reserve(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    return data_.get() + size_;
  }
  void commit(std::size_t written) { size_ += written; }
  void push_back(char c) {
    *reserve(1) = c;
    ++size_;
  }
  // JSON: a quoted, escaped string; the same without quotes; an integer in decimal.
  void quoted(std::string_view text) {
    char* p = reserve(text.size() * 6 + 2);
    *p++ = '"';
    p = json::escape_to(p, text);
    *p++ = '"';
    size_ = static_cast<std::size_t>(p - data_.get());
  }
  void escaped(std::string_view text) {
    size_ = static_cast<std::size_t>(json::escape_to(reserve(text.size() * 6), text) - data_.get());
  }
  template <std::integral Integer>
  void decimal(Integer value) {
    char* p = reserve(24);
    size_ = static_cast<std::size_t>(std::to_chars(p, p + 24, value).ptr - data_.get());
  }
  // units / 10^decimals as a JSON number with the trailing fraction zeros dropped: fixed_point(1234, 6)
  // writes 0.001234, fixed_point(250000, 3) writes 250. Exact, and without the cost of a double's shortest
  // form.
  void fixed_point(int64_t units, int decimals);  // decimals 0..18

 private:
  void grow(std::size_t n);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0, capacity_ = 0;
};

}  // namespace tollway

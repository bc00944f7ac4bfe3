#include "core/text_buffer.h"

#include <algorithm>

namespace tollway {

void TextBuffer::grow(std::size_t n) {
  const std::size_t capacity = std::max({capacity_ * 2, size_ + n, std::size_t{4096}});
  std::unique_ptr<char[]> data(new char[capacity]);  // default-initialized: not zero-filled
  if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
  data_ = std::move(data);
  capacity_ = capacity;
}

void TextBuffer::fixed_point(int64_t units, int decimals) {
  char* p = reserve(48);
  char* const start = p;
  // The magnitude as unsigned: INT64_MIN has no positive int64.
  uint64_t magnitude = units < 0 ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  if (units < 0) *p++ = '-';
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  p = std::to_chars(p, p + 24, magnitude / scale).ptr;
  uint64_t fraction = magnitude % scale;
  if (fraction != 0) {
    int digits = decimals;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    *p++ = '.';
    char* const end = p + digits;
    for (char* d = end; d > p; fraction /= 10) *--d = static_cast<char>('0' + fraction % 10);
    p = end;
  }
  size_ += static_cast<std::size_t>(p - start);
}

}  // namespace tollway

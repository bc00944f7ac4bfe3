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

}  // namespace tollway

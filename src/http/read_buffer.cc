#include "http/read_buffer.h"

namespace tollway::http {

char* ReadBuffer::prepare(std::size_t min_free, std::size_t& available) {
  if (capacity_ - end_ < min_free) {
    const std::size_t used = end_ - begin_;
    if (capacity_ - used >= min_free && begin_ > 0) {
      std::memmove(storage_.get(), storage_.get() + begin_, used);
    } else {
      std::size_t next = capacity_ * 2;
      while (next - used < min_free) next *= 2;
      std::unique_ptr<char[]> grown(new char[next]);
      std::memcpy(grown.get(), storage_.get() + begin_, used);
      storage_ = std::move(grown);
      capacity_ = next;
    }
    begin_ = 0;
    end_ = used;
  }
  available = capacity_ - end_;
  return storage_.get() + end_;
}

void ReadBuffer::consume(std::size_t n) {
  begin_ += n;
  if (begin_ >= end_) begin_ = end_ = 0;
}

void ReadBuffer::append(std::string_view bytes) {
  std::size_t available;
  char* out = prepare(bytes.size(), available);
  std::memcpy(out, bytes.data(), bytes.size());
  commit(bytes.size());
}

}  // namespace tollway::http

#include "http/sse.h"

#include <cstring>

namespace tollway::http {

std::size_t SseReader::scan_line(std::string_view bytes, std::size_t i, std::size_t& line_end, bool& terminated) {
  terminated = false;
  line_is_blank_ = false;
  // A UTF-8 byte order mark at the very start of the stream is skipped (possibly split across feeds).
  if (!bom_checked_) {
    static constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};
    while (i < bytes.size() && bom_matched_ < 3 && static_cast<unsigned char>(bytes[i]) == kBom[bom_matched_]) {
      ++bom_matched_;
      ++i;
      ++offset_;
    }
    if (bom_matched_ == 3) {
      bom_checked_ = true;
      block_begin_ = offset_;
    } else if (i < bytes.size()) {  // mismatch: the bytes matched so far were ordinary line content
      line_.append(reinterpret_cast<const char*>(kBom), bom_matched_);
      bom_checked_ = true;
    } else {
      return i;  // all bytes so far are a BOM prefix: wait for more
    }
  }
  if (skip_lf_ && i < bytes.size()) {
    skip_lf_ = false;
    if (bytes[i] == '\n') {
      if (block_begin_ == offset_) ++block_begin_;  // the LF completes the CR that ended the previous block
      ++i;
      ++offset_;
    }
  }
  if (i >= bytes.size()) return i;
  const char* start = bytes.data() + i;
  const std::size_t left = bytes.size() - i;
  const void* nl = std::memchr(start, '\n', left);
  const std::size_t nl_at = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : left;
  const void* cr = std::memchr(start, '\r', nl_at);
  const std::size_t term_at = cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - start) : nl_at;
  if (term_at == left) {  // no terminator yet: keep the partial line
    line_.append(start, left);
    offset_ += left;
    return bytes.size();
  }
  std::size_t consumed = term_at + 1;
  terminator_end_ = offset_ + term_at + 1;  // just past the CR or LF that ends the line
  last_terminator_was_cr_ = start[term_at] == '\r';
  if (last_terminator_was_cr_) {
    if (term_at + 1 < left) {
      if (start[term_at + 1] == '\n') ++consumed;
    } else {
      skip_lf_ = true;  // the LF may come with the next feed
    }
  }
  std::string_view line(start, term_at);
  if (!line_.empty()) {
    line_.append(line);
    line = line_;
  }
  offset_ += consumed;
  line_end = i + term_at;
  terminated = true;
  if (line.empty()) {
    line_is_blank_ = true;
  } else {
    process_line(line);
  }
  line_.clear();
  return i + consumed;
}

void SseReader::process_line(std::string_view line) {
  if (line.front() == ':') return;  // comment
  std::string_view field = line;
  std::string_view value;
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      event_id_.assign(value);
      id_.assign(value);
    }
  } else if (field == "retry") {
    if (value.empty()) return;
    uint64_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return;
      if (n > (UINT64_MAX - 9) / 10) return;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    retry_ms_ = n;
  }  // other fields are ignored, as the spec says
}

void SseReader::reset_event() {
  data_.clear();
  type_.clear();
  id_ = event_id_;
  has_data_ = false;
}

}  // namespace tollway::http

// SseReader: an incremental reader of a text/event-stream body (WHATWG HTML "Server-sent events", section
// "Parsing an event stream"). It accepts every valid framing — lines ended by CRLF, LF or a lone CR, a CRLF
// split across two reads, comment lines, a leading UTF-8 BOM, fields without a value, data over several lines —
// and reports each dispatched event with its type, its data and the exact byte range it occupied in the stream,
// so a caller can pass the stream on untouched or drop whole events without ever re-framing the others.
// It is pure (no I/O, no allocation per byte) and never modifies, reorders or re-serialises the input bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tollway::http {

// One dispatched event. Views are valid only during the callback.
struct SseEvent {
  std::string_view type;  // the `event:` field, "message" when none was given
  std::string_view data;  // the `data:` lines joined by '\n' (trailing '\n' removed, as the spec says)
  std::string_view id;    // the last `id:` of this event, "" when none
  // Stream offsets of the event block: from the first byte after the previous blank line (or the BOM) to just
  // past the first character (CR or LF) of the terminator of the blank line that dispatched it. Comment lines
  // and fields that precede the blank line belong to the block. When that terminator is CR LF, the LF lies
  // between `end` and the next block's begin; `ended_with_cr` says so. Offsets never depend on read splits.
  uint64_t begin = 0;
  uint64_t end = 0;
  bool ended_with_cr = false;
};

class SseReader {
 public:
  // Feeds the next bytes of the stream; calls `on_event(const SseEvent&)` for every event they complete.
  template <typename OnEvent>
  void feed(std::string_view bytes, OnEvent&& on_event) {
    std::size_t i = 0;
    while (i < bytes.size()) {
      std::size_t line_end = 0;
      bool terminated = false;
      i = scan_line(bytes, i, line_end, terminated);
      if (!terminated) break;
      if (line_is_blank_) {
        if (has_data_) {  // an event without data lines is not dispatched (spec)
          SseEvent e;
          e.type = type_.empty() ? std::string_view("message") : std::string_view(type_);
          std::string_view d(data_);
          if (!d.empty() && d.back() == '\n') d.remove_suffix(1);
          e.data = d;
          e.id = id_;
          e.begin = block_begin_;
          e.end = terminator_end_;
          e.ended_with_cr = last_terminator_was_cr_;
          ++events_;
          on_event(static_cast<const SseEvent&>(e));
        }
        reset_event();
        block_begin_ = offset_;
      }
    }
  }

  // Offset of the first byte of the event block not yet dispatched (what a caller holding back bytes keeps).
  uint64_t pending_block_begin() const { return block_begin_; }
  // Total bytes fed so far.
  uint64_t offset() const { return offset_; }
  uint64_t events() const { return events_; }
  // Retry value announced by the server (`retry:` with only digits), 0 when none.
  uint64_t retry_ms() const { return retry_ms_; }
  // Bytes of an unterminated line or an undispatched event are pending (what the spec discards at end of stream).
  bool has_pending_event() const { return !line_.empty() || has_data_ || !type_.empty() || offset_ > block_begin_; }

 private:
  // Consumes one line (or the rest of `bytes` when no terminator is found); returns the next index.
  std::size_t scan_line(std::string_view bytes, std::size_t i, std::size_t& line_end, bool& terminated);
  void process_line(std::string_view line);
  void reset_event();

  std::string line_;   // a line split across feeds
  std::string data_;
  std::string type_;
  std::string id_;
  std::string event_id_;  // the stream's last event ID buffer (persists across events, per the spec)
  uint64_t offset_ = 0;
  uint64_t block_begin_ = 0;
  uint64_t terminator_end_ = 0;
  uint64_t events_ = 0;
  uint64_t retry_ms_ = 0;
  bool has_data_ = false;
  bool skip_lf_ = false;      // the previous line ended with CR: a following LF belongs to that terminator
  bool line_is_blank_ = false;
  bool last_terminator_was_cr_ = false;
  bool bom_checked_ = false;
  uint8_t bom_matched_ = 0;   // BOM bytes matched at the very start so far
};

}  // namespace tollway::http

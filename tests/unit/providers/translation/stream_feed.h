// Test helper: feeds an SSE text to a translator stream in pieces of `piece` bytes (every split point is a
// valid framing) and returns what the translator wrote for the client.
#pragma once

#include <string>
#include <string_view>

#include "http/sse.h"

namespace tollway::providers::translation {

template <typename Stream>
std::string feed_sse(Stream& stream, std::string_view text, std::size_t piece = 1 << 20, bool finish = true) {
  http::SseReader sse;
  std::string out;
  for (std::size_t at = 0; at < text.size(); at += piece)
    sse.feed(text.substr(at, piece), [&](const http::SseEvent& e) { stream.on_event(e, out); });
  if (finish) stream.finish(out);
  return out;
}

}  // namespace tollway::providers::translation

// Writing HTTP/1.1 heads: status lines, request lines and header fields appended to one string, so a head
// and the first body bytes go out in a single write. It never emits a CR or LF from a caller's value:
// callers pass values that came from a strict parser or from validated config.
#pragma once

#include <string>
#include <string_view>

namespace tollway::http {

std::string_view reason_phrase(int status);
void append_status_line(std::string& out, int status, int version_minor = 1);
void append_request_line(std::string& out, std::string_view method, std::string_view target);
void append_header(std::string& out, std::string_view name, std::string_view value);
inline void end_head(std::string& out) { out.append("\r\n"); }

}  // namespace tollway::http

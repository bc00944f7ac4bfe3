#include "http/serializer.h"

#include <cstring>

namespace tollway::http {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void append_status_line(std::string& out, int status, int version_minor) {
  // "HTTP/1.x NNN reason\r\n" in one growth of `out`.
  const std::string_view reason = reason_phrase(status);
  const char* version = version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  if (status < 100 || status > 999) {  // not three digits: written as it is
    out.append(version).append(std::to_string(status)).append(" ").append(reason).append("\r\n");
    return;
  }
  const std::size_t at = out.size();
  out.resize(at + 13 + reason.size() + 2);
  char* p = out.data() + at;
  std::memcpy(p, version, 9);
  p[9] = static_cast<char>('0' + status / 100);
  p[10] = static_cast<char>('0' + status / 10 % 10);
  p[11] = static_cast<char>('0' + status % 10);
  p[12] = ' ';
  std::memcpy(p + 13, reason.data(), reason.size());
  std::memcpy(p + 13 + reason.size(), "\r\n", 2);
}

void append_request_line(std::string& out, std::string_view method, std::string_view target) {
  out.append(method).push_back(' ');
  out.append(target).append(" HTTP/1.1\r\n");
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  // One growth of `out` and four copies: this runs for every header of every proxied message.
  const std::size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  std::memcpy(p, ": ", 2);
  p += 2;
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  std::memcpy(p, "\r\n", 2);
}

}  // namespace tollway::http

#include "limits/redis/resp.h"

#include <algorithm>
#include <charconv>

namespace tollway::limits::redis {
namespace {

// Strict RESP integer: optional '-', then "0" or a digit string without a leading zero; "-0" is rejected.
bool parse_integer(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  std::string_view digits = s[0] == '-' ? s.substr(1) : s;
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return false;
  if (s[0] == '-' && digits == "0") return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (std::string_view a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out.append(a);
    out += "\r\n";
  }
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_command(out, std::span<const std::string_view>(args.begin(), args.size()));
}

RespParser::Status RespParser::fail(std::string message) {
  failed_ = true;
  error_ = std::move(message);
  return Status::Failed;
}

bool RespParser::complete(RespValue value, RespValue& reply) {
  while (!open_.empty()) {
    OpenArray& top = open_.back();
    top.array.elements.push_back(std::move(value));
    if (--top.remaining > 0) return false;
    value = std::move(top.array);
    open_.pop_back();
  }
  reply = std::move(value);
  return true;
}

RespParser::Status RespParser::on_line(RespValue& reply, bool& done) {
  done = false;
  if (line_.empty()) return fail("empty line where a RESP type byte was expected");
  const char type = line_[0];
  std::string_view body = std::string_view(line_).substr(1);
  RespValue value;
  switch (type) {
    case '+':
    case '-':
      value.type = type == '+' ? RespType::SimpleString : RespType::Error;
      value.text.assign(body);
      break;
    case ':':
      value.type = RespType::Integer;
      if (!parse_integer(body, value.integer)) return fail("malformed integer reply \":" + std::string(body) + "\"");
      break;
    case '$': {
      int64_t length = 0;
      if (!parse_integer(body, length)) return fail("malformed bulk string length \"" + std::string(body) + "\"");
      if (length == -1) {
        value.type = RespType::Null;
        break;
      }
      if (length < 0) return fail("negative bulk string length " + std::to_string(length));
      if (length > limits_.max_bulk_bytes)
        return fail("bulk string of " + std::to_string(length) + " bytes exceeds the limit of " +
                    std::to_string(limits_.max_bulk_bytes));
      in_bulk_ = true;
      bulk_left_ = length + 2;
      bulk_.clear();
      bulk_.reserve(static_cast<std::size_t>(std::min<int64_t>(length, 64 * 1024)));
      line_.clear();
      return Status::NeedMore;
    }
    case '*': {
      int64_t count = 0;
      if (!parse_integer(body, count)) return fail("malformed array length \"" + std::string(body) + "\"");
      if (count == -1) {
        value.type = RespType::Null;
        break;
      }
      if (count < 0) return fail("negative array length " + std::to_string(count));
      if (count > limits_.max_array_elements)
        return fail("array of " + std::to_string(count) + " elements exceeds the limit of " +
                    std::to_string(limits_.max_array_elements));
      value.type = RespType::Array;
      if (count == 0) break;
      if (open_.size() >= limits_.max_depth)
        return fail("arrays nested deeper than " + std::to_string(limits_.max_depth));
      value.elements.reserve(static_cast<std::size_t>(std::min<int64_t>(count, 1024)));
      open_.push_back({std::move(value), count});
      line_.clear();
      return Status::NeedMore;
    }
    default:
      return fail("unknown RESP type byte 0x" + std::string(1, "0123456789abcdef"[(type >> 4) & 15]) +
                  std::string(1, "0123456789abcdef"[type & 15]));
  }
  line_.clear();
  done = complete(std::move(value), reply);
  return done ? Status::Reply : Status::NeedMore;
}

RespParser::Status RespParser::parse(std::string_view& input, RespValue& reply) {
  if (failed_) return Status::Failed;
  while (!input.empty()) {
    if (in_bulk_) {
      const int64_t payload_left = bulk_left_ - 2;
      if (payload_left > 0) {
        const std::size_t n = static_cast<std::size_t>(std::min<int64_t>(payload_left, input.size()));
        bulk_.append(input.substr(0, n));
        input.remove_prefix(n);
        bulk_left_ -= static_cast<int64_t>(n);
        continue;
      }
      const char expected = bulk_left_ == 2 ? '\r' : '\n';
      if (input[0] != expected) return fail("bulk string not terminated by CRLF");
      input.remove_prefix(1);
      if (--bulk_left_ > 0) continue;
      in_bulk_ = false;
      RespValue value;
      value.type = RespType::BulkString;
      value.text = std::move(bulk_);
      bulk_.clear();
      if (complete(std::move(value), reply)) return Status::Reply;
      continue;
    }
    const std::size_t newline = input.find('\n');
    const std::string_view piece = input.substr(0, newline == std::string_view::npos ? input.size() : newline);
    // A CR is only allowed as the last byte before LF; a CR seen earlier in the line is an error.
    const std::size_t cr = piece.find('\r');
    if (cr != std::string_view::npos && cr + 1 != piece.size()) return fail("bare CR inside a RESP line");
    if (!line_.empty() && line_.back() == '\r' && !piece.empty()) return fail("bare CR inside a RESP line");
    if (line_.size() + piece.size() > limits_.max_line_bytes + 1)
      return fail("RESP line longer than " + std::to_string(limits_.max_line_bytes) + " bytes");
    line_.append(piece);
    if (newline == std::string_view::npos) {
      input.remove_prefix(input.size());
      return Status::NeedMore;
    }
    input.remove_prefix(newline + 1);
    if (line_.empty() || line_.back() != '\r') return fail("bare LF inside a RESP line (lines end in CRLF)");
    line_.pop_back();
    bool done = false;
    const Status status = on_line(reply, done);
    if (status == Status::Failed || done) return status;
  }
  return Status::NeedMore;
}

}  // namespace tollway::limits::redis

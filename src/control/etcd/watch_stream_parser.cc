#include "control/etcd/watch_stream_parser.h"

#include "control/etcd/etcd_json.h"
#include "core/json.h"
#include "http/parser.h"

namespace tollway::control::etcd {
namespace {

namespace sj = core::strict_json;

constexpr std::size_t kMaxHead = 16 * 1024;

bool read_events(const sj::Value& result, std::vector<WatchEvent>& out, std::string& error) {
  const sj::Value* events = result.find("events");
  if (!events) return true;
  if (!events->is_array()) {
    error = "events is not an array";
    return false;
  }
  for (const auto& item : events->items()) {
    const sj::Value* kv = item.is_object() ? item.find("kv") : nullptr;
    if (!kv || !kv->is_object()) {
      error = "an event has no kv object";
      return false;
    }
    WatchEvent event;
    if (const sj::Value* type = item.find("type")) {
      if (!type->is_string() || (type->as_string() != "PUT" && type->as_string() != "DELETE")) {
        error = "an event's type is neither PUT nor DELETE";
        return false;
      }
      if (type->as_string() == "DELETE") event.type = WatchEvent::Type::Delete;
    }
    if (!read_bytes_field(*kv, "key", event.key, error) ||
        !read_int_field(*kv, "mod_revision", event.mod_revision, error))
      return false;
    if (event.key.empty() || event.mod_revision <= 0) {
      error = "an event has no key or no mod_revision";
      return false;
    }
    out.push_back(std::move(event));
  }
  return true;
}

}  // namespace

std::string watch_request(std::string_view key, std::string_view range_end, int64_t start_revision) {
  json::ObjectWriter create;
  create.field("key", base64_encode(key)).field("range_end", base64_encode(range_end));
  if (start_revision > 0) create.field("start_revision", std::to_string(start_revision));
  json::ObjectWriter w;
  w.raw_field("create_request", std::move(create).finish());
  return std::move(w).finish();
}

std::optional<WatchResponse> parse_watch_line(std::string_view line, std::string& error) {
  auto root = parse_json_object(line, error);
  if (!root) return std::nullopt;
  const sj::Value* result = root->find("result");
  if (!result) {
    const sj::Value* failure = root->find("error");
    const sj::Value* message = failure && failure->is_object() ? failure->find("message") : nullptr;
    error = message && message->is_string() ? "etcd ended the watch: " + message->as_string()
                                            : "a line that is neither a result nor an error";
    return std::nullopt;
  }
  if (!result->is_object()) {
    error = "result is not an object";
    return std::nullopt;
  }
  WatchResponse response;
  const sj::Value* header = result->find("header");
  if (!header || !header->is_object()) {
    error = "no header in a watch response";
    return std::nullopt;
  }
  if (!read_int_field(*header, "revision", response.revision, error) ||
      !read_int_field(*result, "compact_revision", response.compact_revision, error))
    return std::nullopt;
  for (const auto& [name, flag] : {std::pair{"created", &response.created}, std::pair{"canceled", &response.canceled}}) {
    if (const sj::Value* v = result->find(name)) {
      if (!v->is_bool()) {
        error = std::string(name) + " is not a boolean";
        return std::nullopt;
      }
      *flag = v->as_bool();
    }
  }
  if (const sj::Value* reason = result->find("cancel_reason")) {
    if (!reason->is_string()) {
      error = "cancel_reason is not a string";
      return std::nullopt;
    }
    response.cancel_reason = reason->as_string();
  }
  if (!read_events(*result, response.events, error)) return std::nullopt;
  if (!response.canceled && response.revision <= 0) {
    error = "header.revision is missing";
    return std::nullopt;
  }
  return response;
}

WatchStreamParser::Status WatchStreamParser::fail(std::string message) {
  status_ = Status::Failed;
  error_ = std::move(message);
  return status_;
}

WatchStreamParser::Status WatchStreamParser::take_lines(std::vector<WatchResponse>& out) {
  std::size_t start = 0;
  while (true) {
    const auto newline = line_.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(line_.data() + start, newline - start);
    start = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::string error;
    auto response = parse_watch_line(line, error);
    if (!response) return fail(std::move(error));
    out.push_back(std::move(*response));
  }
  line_.erase(0, start);
  if (line_.size() > max_line_) return fail("a watch response longer than " + std::to_string(max_line_) + " bytes");
  return Status::Ok;
}

WatchStreamParser::Status WatchStreamParser::feed(std::string_view bytes, std::vector<WatchResponse>& out) {
  if (status_ != Status::Ok) return status_;
  if (!in_body_) {
    const std::size_t before = head_.size();
    head_.append(bytes.substr(0, kMaxHead + 1 - std::min(head_.size(), kMaxHead + 1)));
    http::ResponseHead head;
    http::ParseError parse_error;
    http::ParseLimits limits;
    limits.max_header_block = kMaxHead;
    const auto parsed = http::parse_response_head(head_, "POST", limits, head, parse_error);
    if (parsed == http::ParseStatus::Incomplete) {
      if (head_.size() > kMaxHead) return fail("the watch answer's head is longer than 16 KiB");
      return Status::Ok;
    }
    if (parsed == http::ParseStatus::Error) return fail("the watch answer's head: " + std::string(parse_error.message));
    if (head.status != 200) return fail("the watch was refused: HTTP " + std::to_string(head.status));
    if (head.framing != http::BodyFraming::Chunked)
      return fail("the watch answer is not a chunked stream (etcd's v3 JSON gateway streams it)");
    in_body_ = true;
    const std::size_t body_starts = head.head_size - before;
    head_.clear();
    head_.shrink_to_fit();
    bytes.remove_prefix(std::min(body_starts, bytes.size()));
  }
  while (!bytes.empty()) {
    const http::ChunkedDecoder::Step step = chunked_.next(bytes);
    bytes.remove_prefix(step.consumed);
    switch (step.status) {
      case http::ChunkedDecoder::Status::Data:
        line_.append(step.data);
        if (take_lines(out) != Status::Ok) return status_;
        break;
      case http::ChunkedDecoder::Status::NeedMore:
        return Status::Ok;
      case http::ChunkedDecoder::Status::Done:
        if (take_lines(out) != Status::Ok) return status_;
        status_ = Status::Ended;
        return status_;
      case http::ChunkedDecoder::Status::Error:
        return fail("the watch stream's chunked framing: " + std::string(chunked_.error()));
    }
  }
  return Status::Ok;
}

}  // namespace tollway::control::etcd

#include "control/publish_meta.h"

#include <chrono>
#include <ctime>

#include "core/json.h"
#include "core/strict_json.h"

namespace tollway::control {

std::string PublishMeta::to_json() const {
  json::ObjectWriter w;
  w.field("author", author)
      .field("commit", commit)
      .field("commit_author", commit_author)
      .field("published_at", published_at)
      .field("content_hash", content_hash)
      .field("note", note);
  if (!canary.empty()) w.field("canary", canary);
  return std::move(w).finish();
}

std::optional<PublishMeta> PublishMeta::from_json(std::string_view text, std::string& error) {
  std::string parse_error;
  const auto root = core::strict_json::parse(text, parse_error);
  if (!root || !root->is_object()) {
    error = "not a JSON object" + (parse_error.empty() ? std::string() : ": " + parse_error);
    return std::nullopt;
  }
  PublishMeta meta;
  for (const auto& [key, value] : root->members()) {
    std::string* field = key == "author"          ? &meta.author
                         : key == "commit"        ? &meta.commit
                         : key == "commit_author" ? &meta.commit_author
                         : key == "published_at"  ? &meta.published_at
                         : key == "content_hash"  ? &meta.content_hash
                         : key == "note"          ? &meta.note
                         : key == "canary"        ? &meta.canary
                                                  : nullptr;
    if (!field) {
      error = "unknown field \"" + key + "\"";
      return std::nullopt;
    }
    if (!value.is_string()) {
      error = "field \"" + key + "\" must be a string";
      return std::nullopt;
    }
    *field = value.as_string();
  }
  return meta;
}

std::string utc_now_text() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace tollway::control

#include "a2a/card.h"

#include "core/json.h"

namespace tollway::a2a {
namespace {

std::string_view raw(std::string_view text, const core::strict_json::Value& v) {
  return text.substr(v.begin(), v.end() - v.begin());
}

}  // namespace

CardFilter filter_card(std::string_view text, const core::strict_json::Value& card,
                       const std::function<bool(std::string_view)>& keep, std::string& out) {
  const core::strict_json::Value* skills = card.is_object() ? card.find("skills") : nullptr;
  if (skills == nullptr || !skills->is_array()) return CardFilter::Unreadable;
  std::string kept = "[";
  bool dropped = false;
  for (const auto& skill : skills->items()) {
    const auto id = skill.is_object() ? skill.string_member("id") : std::nullopt;
    if (!id) return CardFilter::Unreadable;
    if (!keep(*id)) {
      dropped = true;
      continue;
    }
    if (kept.size() > 1) kept += ',';
    kept += raw(text, skill);
  }
  kept += ']';
  if (!dropped) return CardFilter::Unchanged;
  // The object again, member by member: values as they were, `skills` reduced, `signatures` gone.
  out = "{";
  for (const auto& [key, value] : card.members()) {
    if (key == "signatures") continue;
    if (out.size() > 1) out += ',';
    json::append_quoted(out, key);
    out += ':';
    if (key == "skills")
      out += kept;
    else
      out += raw(text, value);
  }
  out += '}';
  return CardFilter::Filtered;
}

CardFilter filter_card_text(std::string_view text, std::size_t max_bytes,
                            const std::function<bool(std::string_view)>& keep, std::string& out) {
  std::string error;
  const auto card = core::strict_json::parse(text, error, {max_bytes, 64});
  if (!card) return CardFilter::Unreadable;
  // A document is read whole: leading or trailing whitespace stays outside the value and is not passed on.
  return filter_card(text, *card, keep, out);
}

}  // namespace tollway::a2a

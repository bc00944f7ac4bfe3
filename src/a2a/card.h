// AgentCard filtering: an A2A agent card (`/.well-known/agent-card.json`, or the result of an extended-card
// call) reduced to the skills a caller may use. The card is read strictly (core/strict_json.h); only its
// top-level `skills` array is rewritten, every other member is passed on byte for byte. A card whose skills
// were reduced loses its `signatures` (they sign the whole card and no longer verify; a client checking
// signatures then sees an unsigned card, never a signed card that lies). Pure: no I/O. It never passes on a
// card it could not read: the caller gets Unreadable and must not forward the original.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/strict_json.h"

namespace tollway::a2a {

enum class CardFilter {
  Unchanged,   // every skill may be used: pass the card on as it was (`out` is left alone)
  Filtered,    // `out` is the card without the skills `keep` refused
  Unreadable,  // not a JSON object with a `skills` array of objects with a string `id`
};

// The card `card`, a value parsed from `text`, with its skills reduced to those whose `id` `keep` accepts.
CardFilter filter_card(std::string_view text, const core::strict_json::Value& card,
                       const std::function<bool(std::string_view)>& keep, std::string& out);

// Parses `text` (at most `max_bytes`) and filters it as above.
CardFilter filter_card_text(std::string_view text, std::size_t max_bytes,
                            const std::function<bool(std::string_view)>& keep, std::string& out);

}  // namespace tollway::a2a

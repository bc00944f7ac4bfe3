// NodeScope: what of the policy's shared text a gateway node's document keeps — only the providers its own routes,
// route fallbacks and model rules name, in `providers:` and in `credentials.providers:` — cut line for line from
// the policy's original text, so that a node never receives the API keys and credential sources of providers it
// cannot reach (another tenant's). It never re-serializes YAML, and never keeps a provider it was asked to drop: a
// block it cannot cut safely is a problem, not a document that holds everything.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/text_blocks.h"

namespace tollway::control {

// A run of lines of a block's text (0-based, `count` lines) that the node's document keeps.
struct KeptLines {
  std::size_t first = 0;
  std::size_t count = 0;
};

// The provider names the `routes` and `models` blocks (either may be null) refer to: routes[].provider,
// routes[].fallback[].provider, and the rules' provider (`models` as a list or models.rules). A name written with
// `${env:…}` cannot be known before the node resolves it: a problem ("file:line: key.path: message"), nullopt.
// References that are not strings are left to the node's own check.
std::optional<std::set<std::string>> referenced_providers(const TextBlock* routes, const TextBlock* models,
                                                          std::vector<std::string>& problems);

// The lines of `block` to keep when the mapping at `path` below its key (empty: the block's own value, as for
// `providers`; {"providers"} for `credentials`) keeps only the children named in `keep`. A mapping at `path` with
// no child kept is dropped with its own `key:` line when it is nested, kept as `key:` alone otherwise; no mapping
// at `path` keeps the whole block. A mapping that is not written one `key:` per line (flow style, `? key`, keys
// the cut does not agree with the YAML parser on) is a problem, and nullopt.
std::optional<std::vector<KeptLines>> keep_children(const TextBlock& block, const std::vector<std::string>& path,
                                                     const std::set<std::string>& keep,
                                                     std::vector<std::string>& problems);

}  // namespace tollway::control

// ${env:NAME} and ${env:NAME:-default} substitution in config scalars; "$${" writes a literal "${".
// A variable that is unset and has no default is an error, never an empty string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/loader.h"

namespace tollway::config {

std::optional<std::string> interpolate_env(std::string_view text, const EnvLookup& env, std::string& error);

}  // namespace tollway::config

// Structured logging: one JSON object per line on stderr ({"ts","level","msg",...fields}), through spdlog.
// Callers pass already-named fields; this never logs secrets on its own and never blocks on a full disk.
#pragma once

#include <string_view>

#include "core/json.h"

namespace tollway::log {

enum class Level { Debug, Info, Warn, Error };

void init(Level min_level);
void write(Level level, std::string_view message, const json::ObjectWriter& fields);

inline void debug(std::string_view m, const json::ObjectWriter& f = {}) { write(Level::Debug, m, f); }
inline void info(std::string_view m, const json::ObjectWriter& f = {}) { write(Level::Info, m, f); }
inline void warn(std::string_view m, const json::ObjectWriter& f = {}) { write(Level::Warn, m, f); }
inline void error(std::string_view m, const json::ObjectWriter& f = {}) { write(Level::Error, m, f); }

}  // namespace tollway::log

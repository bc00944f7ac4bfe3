// The --log-level flag every long-running command takes: its allowed values and the logger set-up it selects.
// It never accepts a level the logger does not have.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "core/log.h"

namespace tollway::app {

inline void add_log_level_option(CLI::App& cmd, std::string& level) {
  cmd.add_option("--log-level", level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}

inline void init_logging(const std::string& level) {
  log::init(level == "debug"   ? log::Level::Debug
            : level == "warn"  ? log::Level::Warn
            : level == "error" ? log::Level::Error
                               : log::Level::Info);
}

}  // namespace tollway::app

#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace tollway::log {
namespace {

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_logger_mt("tollway");
    l->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::Debug: return spdlog::level::debug;
    case Level::Info: return spdlog::level::info;
    case Level::Warn: return spdlog::level::warn;
    case Level::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void init(Level min_level) { logger()->set_level(to_spdlog(min_level)); }

void write(Level level, std::string_view message, const json::ObjectWriter& fields) {
  auto& l = logger();
  const auto spd_level = to_spdlog(level);
  if (!l->should_log(spd_level)) return;
  std::string body = "\"msg\":";
  json::append_quoted(body, message);
  const std::string_view extra = fields.fields();
  if (!extra.empty()) {
    body.push_back(',');
    body.append(extra);
  }
  l->log(spd_level, std::string_view(body));
}

}  // namespace tollway::log

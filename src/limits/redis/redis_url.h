// Reads `limits.redis.url` (redis://[[user]:password@]host[:port][/db]) into RedisOptions. Pure; it never
// resolves the host and never logs the password (errors name the part that is wrong, not its value).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "limits/redis/connection.h"

namespace tollway::limits::redis {

// The options with host, port (default 6379), username, password and db set from `url`, or nullopt and `error`
// saying what is wrong and what is allowed.
std::optional<RedisOptions> parse_redis_url(std::string_view url, std::string& error);

}  // namespace tollway::limits::redis

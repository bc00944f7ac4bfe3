// Request ids: keeps a caller's x-request-id when it is safe to echo and log, otherwise makes a new random one.
// Never returns an id containing bytes that could split a header or a log line.
#pragma once

#include <string>
#include <string_view>

namespace tollway {

// True for 1..128 visible ASCII bytes (0x21..0x7E) except '"' and '\\'.
bool is_acceptable_request_id(std::string_view id);
// 32 lowercase hex digits from a per-thread generator seeded from the OS.
std::string new_request_id();

}  // namespace tollway

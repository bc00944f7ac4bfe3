// AtomicFile: writing a whole small file so that a reader (or a restart after a crash) sees the old content or the
// new, never a mix — a temporary file beside it with the final mode, written, fsynced, renamed over the target,
// then the directory fsynced. For keys, certificates and persisted state. It never follows the target's old mode
// (the mode is the caller's) and never logs the bytes it writes.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace tollway::core {

// false with `error` (naming the file and the cause) when any step fails; the target is then untouched.
bool write_file_atomically(const std::string& path, std::string_view text, mode_t mode, std::string& error);

}  // namespace tollway::core

// Releases the code and read-only data pages a process touched while starting (config parsing, TLS set-up,
// library initialisation) from its resident set once it is ready, the way a kernel frees its init sections: every
// private, read-only mapping of a file (the executable's and the shared libraries' code and constant data) whose
// pages are all still the file's own is unmapped from the page tables with MADV_DONTNEED, and what serving uses
// comes back on first touch as a minor fault from the page cache. It never touches a mapping holding a page of
// its own (relocated data, a debugger's breakpoint, a uprobe), a writable or a shared mapping, and never drops a
// byte the process wrote.
#pragma once

#include <cstddef>

namespace tollway::core {

struct ReleasedPages {
  std::size_t mappings = 0;        // mappings released
  std::size_t resident_bytes = 0;  // their resident bytes before the release (from /proc/self/smaps)
};

// Linux only; {} when /proc/self/smaps cannot be read.
ReleasedPages release_startup_pages();

}  // namespace tollway::core

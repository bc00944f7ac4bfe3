#include "core/startup_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace tollway::core {
namespace {

struct Mapping {
  std::uintptr_t start = 0, end = 0;
  bool releasable = false;  // private, read-only, a file's
  std::size_t rss_kb = 0;
  std::size_t anonymous_kb = 0;  // pages copied on write: the process's own, never released
};

// "Rss:    1234 kB" -> 1234 when the line starts with `field`.
bool read_kb(const std::string& line, const char* field, std::size_t& kb) {
  const std::string prefix = std::string(field) + ":";
  if (line.compare(0, prefix.size(), prefix) != 0) return false;
  kb = std::stoull(line.substr(prefix.size()));
  return true;
}

std::vector<Mapping> read_mappings() {
  std::vector<Mapping> mappings;
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  while (std::getline(smaps, line)) {
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    const bool header = dash != std::string::npos && space != std::string::npos && dash < space &&
                        line.find(':') > space;  // field lines are "Name: value"
    if (header) {
      Mapping m;
      m.start = std::stoull(line.substr(0, dash), nullptr, 16);
      m.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      const std::string perms = line.substr(space + 1, 4);
      const auto path = line.find('/', space);
      m.releasable = perms.size() == 4 && perms[1] == '-' && perms[3] == 'p' && path != std::string::npos;
      mappings.push_back(m);
      continue;
    }
    if (mappings.empty()) continue;
    Mapping& m = mappings.back();
    // (Private_Dirty also counts the file's own pages not yet written back, as after a fresh build: not ours.)
    read_kb(line, "Rss", m.rss_kb) || read_kb(line, "Anonymous", m.anonymous_kb);
  }
  return mappings;
}

}  // namespace

ReleasedPages release_startup_pages() {
  ReleasedPages released;
  for (const Mapping& m : read_mappings()) {
    if (!m.releasable || m.rss_kb == 0 || m.anonymous_kb != 0) continue;
    if (::madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) != 0) continue;
    ++released.mappings;
    released.resident_bytes += m.rss_kb * 1024;
  }
  return released;
}

}  // namespace tollway::core

// FileStamp: what tells a file's content may have changed without reading it — modification time, size and
// inode, so an atomic rename or a Kubernetes symlink swap counts as a change. Used by the watchers that poll
// the config file and the listeners' certificate files. It never reads the file's bytes.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace tollway::core {

struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;  // -1: the file could not be stat'ed (missing, no permission)
  uint64_t inode = 0;
  bool operator==(const FileStamp&) const = default;
};

// stat(2) follows symlinks, so a link pointing elsewhere stamps differently.
inline FileStamp stamp_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
}

}  // namespace tollway::core

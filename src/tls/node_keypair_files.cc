#include "tls/node_keypair_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "tls/node_identity_files.h"

namespace tollway::tls {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPairsDir = "keypairs";
constexpr const char* kCurrentLink = "current";
constexpr const char* kKeyName = "svid.key";
constexpr const char* kChainName = "svid.pem";

bool sync_directory(const fs::path& dir, std::string& error) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (!synced) error = "cannot sync " + dir.string() + ": " + std::strerror(errno);
  if (fd >= 0) ::close(fd);
  return synced;
}

// `link` becomes a symlink to `target` in one rename(2) (replacing whatever was there).
bool point_symlink(const fs::path& link, const std::string& target, std::string& error) {
  const fs::path temporary = link.string() + ".tmp";
  ::unlink(temporary.c_str());
  if (::symlink(target.c_str(), temporary.c_str()) != 0 || ::rename(temporary.c_str(), link.c_str()) != 0) {
    error = "cannot point " + link.string() + " at " + target + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

bool is_symlink_to(const fs::path& link, const std::string& target) {
  std::error_code ec;
  return fs::is_symlink(fs::symlink_status(link, ec)) && fs::read_symlink(link, ec).string() == target && !ec;
}

// A new, empty directory under DIR/keypairs/ for one pair; its name relative to DIR.
bool make_pair_directory(const fs::path& dir, std::string& name, std::string& error) {
  const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
  for (int attempt = 0; attempt < 100; ++attempt) {
    name = std::string(kPairsDir) + "/" + std::to_string(stamp) + "-" + std::to_string(attempt);
    if (::mkdir((dir / name).c_str(), 0700) == 0) return true;
    if (errno != EEXIST) break;
  }
  error = "cannot create " + (dir / name).string() + ": " + std::strerror(errno);
  return false;
}

// svid.key and svid.pem as symlinks through `current` (each replaced in one rename, key first).
bool link_through_current(const fs::path& dir, std::string& error) {
  for (const char* file : {kKeyName, kChainName}) {
    const std::string target = std::string(kCurrentLink) + "/" + file;
    if (!is_symlink_to(dir / file, target) && !point_symlink(dir / file, target, error)) return false;
  }
  return true;
}

// The flat layout (svid.key and svid.pem regular files): hard-linked into a pair directory that `current` points
// to, then the two files replaced by symlinks to the same bytes — at every step the two names hold a matching pair.
bool adopt_flat_layout(const fs::path& dir, std::string& error) {
  std::error_code ec;
  const auto key = fs::symlink_status(dir / kKeyName, ec);
  const auto chain = fs::symlink_status(dir / kChainName, ec);
  if (!fs::is_regular_file(key) || !fs::is_regular_file(chain)) return true;
  std::string name;
  if (!make_pair_directory(dir, name, error)) return false;
  for (const char* file : {kKeyName, kChainName}) {
    fs::create_hard_link(dir / file, dir / name / file, ec);
    if (ec) {
      error = "cannot adopt " + (dir / file).string() + ": " + ec.message();
      return false;
    }
  }
  return sync_directory(dir / name, error) && point_symlink(dir / kCurrentLink, name, error) &&
         link_through_current(dir, error) && sync_directory(dir, error);
}

// Every pair directory but the current one (and any symlink left half-made by a killed swap).
void remove_stale_pairs(const fs::path& dir, const std::string& current) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / kPairsDir, ec)) {
    if (std::string(kPairsDir) + "/" + entry.path().filename().string() != current) fs::remove_all(entry.path(), ec);
  }
  for (const char* file : {kCurrentLink, kKeyName, kChainName}) fs::remove(dir / (std::string(file) + ".tmp"), ec);
}

}  // namespace

bool install_node_keypair(const std::string& dir_text, std::string_view key_pem, std::string_view chain_pem,
                          std::string& error) {
  const fs::path dir(dir_text);
  std::error_code ec;
  fs::create_directories(dir / kPairsDir, ec);
  if (ec) {
    error = "cannot create " + (dir / kPairsDir).string() + ": " + ec.message();
    return false;
  }
  if (!adopt_flat_layout(dir, error)) return false;
  std::string name;
  if (!make_pair_directory(dir, name, error)) return false;
  if (!core::write_file_atomically((dir / name / kKeyName).string(), key_pem, 0600, error) ||
      !core::write_file_atomically((dir / name / kChainName).string(), chain_pem, 0644, error) ||
      !sync_directory(dir / kPairsDir, error))
    return false;
  // The swap: from here on the new pair is the node's.
  if (!point_symlink(dir / kCurrentLink, name, error) || !link_through_current(dir, error) ||
      !sync_directory(dir, error))
    return false;
  remove_stale_pairs(dir, name);
  return true;
}

}  // namespace tollway::tls

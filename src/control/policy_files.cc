#include "control/policy_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/sha256.h"

namespace tollway::control {
namespace {

namespace fs = std::filesystem;

bool is_yaml_name(std::string_view name) {
  return name.size() > 5 && name.ends_with(".yaml") && !name.starts_with(".") &&
         name.find('/') == std::string_view::npos;
}

std::vector<std::string> yaml_files_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_yaml_name(name) && it->is_regular_file(ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The relative paths of a directory's policy files: its own first, then groups/, then sidecars/ (each in name
// order).
std::vector<std::string> relative_policy_paths(const std::string& dir) {
  std::vector<std::string> paths = yaml_files_in(dir);
  for (const std::string_view sub : {kGroupsDir, kSidecarsDir})
    for (const auto& name : yaml_files_in(fs::path(dir) / sub)) paths.push_back(std::string(sub) + name);
  return paths;
}

}  // namespace

std::string PolicyFiles::name_of(const std::string& path) const { return (fs::path(root) / path).string(); }

std::string PolicyFiles::content_hash() const {
  // Top-level files first, then those of subdirectories (groups/, sidecars/), as a directory lists them.
  std::string hashed;
  const auto add = [&](const std::string& name, const std::string& bytes) {
    hashed += std::to_string(name.size()) + ":" + name + std::to_string(bytes.size()) + ":" + bytes;
  };
  for (const auto& [path, bytes] : files)
    if (path.find('/') == std::string::npos) add(path, bytes);
  for (const auto& [path, bytes] : files)
    if (path.find('/') != std::string::npos) add(path, bytes);
  return sha256_hex(hashed);
}

bool is_policy_file(std::string_view path) {
  for (const std::string_view sub : {kGroupsDir, kSidecarsDir})
    if (path.starts_with(sub)) return is_yaml_name(path.substr(sub.size()));
  return is_yaml_name(path);
}

PolicyFiles read_policy_directory(const std::string& dir, std::vector<std::string>& errors) {
  PolicyFiles policy;
  policy.root = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.push_back(dir + ": not a directory");
    return policy;
  }
  for (const auto& path : relative_policy_paths(dir)) {
    std::ifstream in(fs::path(dir) / path, std::ios::binary);
    if (!in) {
      errors.push_back(policy.name_of(path) + ": cannot read the file");
      continue;
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    policy.files.emplace(path, std::move(bytes).str());
  }
  return policy;
}

std::vector<std::string> policy_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& path : relative_policy_paths(dir)) files.push_back((fs::path(dir) / path).string());
  return files;
}

}  // namespace tollway::control

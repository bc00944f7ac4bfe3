// GitCommit: the commit a policy directory is at, when it is in a Git work tree — `git -C DIR log -1` for the
// commit and its author, `git -C DIR status --porcelain -- .` for uncommitted changes under DIR — so that the
// history says where a version came from. Runs git directly (no shell; DIR is an argument, never interpolated)
// and blocks until it ends; it never changes the work tree and never fails the caller: no git, or no work tree,
// is nullopt.
#pragma once

#include <optional>
#include <string>

namespace tollway::control {

struct GitCommit {
  std::string id;      // full hex
  std::string author;  // "NAME <EMAIL>"
  bool uncommitted_changes = false;  // DIR differs from the commit
};

std::optional<GitCommit> git_commit_of(const std::string& dir);

}  // namespace tollway::control

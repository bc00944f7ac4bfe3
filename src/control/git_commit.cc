#include "control/git_commit.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

extern char** environ;

namespace tollway::control {
namespace {

// git's standard output, or nullopt when it could not run or exited non-zero. stderr goes to /dev/null.
std::optional<std::string> run_git(std::vector<std::string> args) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  args.insert(args.begin(), "git");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "git", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  if (spawned == 0) {
    char buffer[4096];
    for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) != 0;) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (text.size() < (1 << 20)) text.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(out[0]);
  if (spawned != 0) return std::nullopt;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return text;
}

}  // namespace

std::optional<GitCommit> git_commit_of(const std::string& dir) {
  const auto log = run_git({"-C", dir, "log", "-1", "--format=%H%n%an <%ae>"});
  if (!log) return std::nullopt;
  const auto newline = log->find('\n');
  if (newline == std::string::npos || newline == 0) return std::nullopt;
  GitCommit commit;
  commit.id = log->substr(0, newline);
  commit.author = log->substr(newline + 1);
  while (!commit.author.empty() && commit.author.back() == '\n') commit.author.pop_back();
  const auto status = run_git({"-C", dir, "status", "--porcelain", "--", "."});
  commit.uncommitted_changes = status && !status->empty();
  return commit;
}

}  // namespace tollway::control

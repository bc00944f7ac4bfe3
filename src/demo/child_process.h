// ChildProcess: one process `tollway demo` starts and owns (a tollway role, or redis-server): started with its
// stdout and stderr appended to a log file, asked for its ready line by reading that file, and stopped with
// SIGTERM (SIGKILL after a grace period). The child gets PR_SET_PDEATHSIG, so it ends with the demo even when the
// demo itself is killed. It never leaves a started child running past its own destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strict_json.h"

namespace tollway::demo {

struct ChildSpec {
  std::string name;               // how progress and errors name it ("control plane", "sidecar tools")
  std::string program;            // an absolute path
  std::vector<std::string> args;  // argv[1..]
  std::string log_file;           // stdout and stderr go here (appended)
};

class ChildProcess {
 public:
  // Forks and execs `spec`; null with `error` set when it cannot.
  static std::unique_ptr<ChildProcess> start(const ChildSpec& spec, std::string& error);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until a line of the log satisfies `ready`. False with `error` set (naming the child and quoting the
  // log's last lines) when the child exits first or `timeout` passes.
  bool wait_for_line(const std::function<bool(std::string_view)>& ready, std::chrono::milliseconds timeout,
                     std::string& error);
  // Waits for tollway's JSON log line whose "msg" is `message` and returns it parsed.
  std::optional<core::strict_json::Value> wait_for_log(std::string_view message, std::chrono::milliseconds timeout,
                                                       std::string& error);
  // SIGTERM, then SIGKILL when it has not exited within `grace`; returns once it has been reaped.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(8));

  pid_t pid() const { return pid_; }
  const std::string& name() const { return spec_.name; }
  const std::string& log_file() const { return spec_.log_file; }

 private:
  ChildProcess(ChildSpec spec, pid_t pid) : spec_(std::move(spec)), pid_(pid) {}
  // True (and reaps it) when the child has exited.
  bool exited();
  std::string last_lines(std::size_t count) const;

  ChildSpec spec_;
  pid_t pid_;
  bool reaped_ = false;
  int exit_status_ = 0;
};

}  // namespace tollway::demo

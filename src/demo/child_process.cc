#include "demo/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace tollway::demo {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(50);

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::start(const ChildSpec& spec, std::string& error) {
  // Everything the child needs is made before fork: between fork and exec only async-signal-safe calls run.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(spec.program.c_str()));
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int log_fd = ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    error = "cannot open " + spec.log_file + ": " + std::strerror(errno);
    return nullptr;
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork failed: ") + std::strerror(errno);
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return nullptr;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the demo died before the line above took effect
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  return std::unique_ptr<ChildProcess>(new ChildProcess(spec, pid));
}

ChildProcess::~ChildProcess() { stop(); }

bool ChildProcess::exited() {
  if (reaped_) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    exit_status_ = status;
  }
  return reaped_;
}

std::string ChildProcess::last_lines(std::size_t count) const {
  std::ifstream in(spec_.log_file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  std::string out;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i)
    out += "  " + lines[i] + "\n";
  return out;
}

bool ChildProcess::wait_for_line(const std::function<bool(std::string_view)>& ready,
                                 std::chrono::milliseconds timeout, std::string& error) {
  const auto deadline = Clock::now() + timeout;
  std::ifstream in;
  std::string pending;
  for (;;) {
    if (!in.is_open()) in.open(spec_.log_file);
    if (in.is_open()) {
      std::string chunk(std::istreambuf_iterator<char>(in), {});
      in.clear();  // at EOF: the next read continues from here
      pending += chunk;
      std::size_t start = 0;
      for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1)
        if (ready(std::string_view(pending).substr(start, nl - start))) return true;
      pending.erase(0, start);
    }
    if (exited()) {
      const std::string how = WIFEXITED(exit_status_) ? "exited with status " + std::to_string(WEXITSTATUS(exit_status_))
                                                      : "was killed by signal " + std::to_string(WTERMSIG(exit_status_));
      error = spec_.name + " " + how + " before it was ready; the end of " + spec_.log_file + ":\n" + last_lines(12);
      return false;
    }
    if (Clock::now() >= deadline) {
      error = spec_.name + " was not ready within " + std::to_string(timeout.count()) + " ms; the end of " +
              spec_.log_file + ":\n" + last_lines(12);
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::optional<core::strict_json::Value> ChildProcess::wait_for_log(std::string_view message,
                                                                   std::chrono::milliseconds timeout,
                                                                   std::string& error) {
  std::optional<core::strict_json::Value> found;
  const auto is_ready = [&](std::string_view line) {
    if (line.empty() || line.front() != '{') return false;
    std::string parse_error;
    auto value = core::strict_json::parse(line, parse_error);
    if (!value || value->string_member("msg") != message) return false;
    found = std::move(value);
    return true;
  };
  if (!wait_for_line(is_ready, timeout, error)) return std::nullopt;
  return found;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (exited()) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + grace;
  while (!exited()) {
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      reaped_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace tollway::demo

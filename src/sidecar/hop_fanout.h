// ExhaustedFanoutRoots: the fan-out trees (roots of tollway-fanout grants) an upstream answered 429
// fanout_budget_exceeded for, each until its grant expires, so a sidecar refuses further calls of a spent
// tree without asking anyone. Bounded (the entries expiring first make room); shared by all workers behind
// one mutex. It remembers only root ids and expiries; it never decides that a tree is spent on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace tollway::sidecar {

class ExhaustedFanoutRoots {
 public:
  explicit ExhaustedFanoutRoots(std::size_t capacity = 4096) : capacity_(capacity) {}

  // Remembers `root` as spent until `expires_s` (Unix seconds); an already expired grant is not remembered.
  void add(std::string_view root, int64_t expires_s, int64_t now_s);
  // Whether `root` is remembered as spent and its grant has not expired at `now_s`.
  bool contains(std::string_view root, int64_t now_s) const;
  std::size_t size() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::map<std::string, int64_t, std::less<>> expires_;  // root -> Unix seconds
};

}  // namespace tollway::sidecar

// SharedCell: one immutable value (std::shared_ptr<const T>) that the control thread replaces and every
// worker reads. Replacing takes a mutex and bumps a version; a reader on the request path checks the version
// (one atomic load) and uses its thread's cached copy while nothing changed, so steady-state reads take no
// lock and touch no shared reference count. It exists because libstdc++ 12's std::atomic<std::shared_ptr> has
// a load/store race (use-after-free, seen under ASan here). It never blocks a reader behind a slow writer:
// the writer's critical section is one pointer swap.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tollway::core {

inline std::atomic<uint64_t> shared_cell_ids{1};

template <typename T>
class SharedCell {
 public:
  explicit SharedCell(std::shared_ptr<const T> value = std::make_shared<const T>())
      : value_(std::move(value)), id_(shared_cell_ids.fetch_add(1)) {}
  SharedCell(const SharedCell&) = delete;
  SharedCell& operator=(const SharedCell&) = delete;

  void store(std::shared_ptr<const T> value) {
    {
      std::lock_guard lock(mutex_);
      value_ = std::move(value);
    }
    version_.fetch_add(1, std::memory_order_acq_rel);
  }

  // A counted copy (takes the mutex): for the control thread and for holding the value across co_await.
  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

  // The current value from this thread's cache, refreshed when the version moved. The reference is valid
  // until this thread's next read() of a SharedCell<T>: use it synchronously, never across co_await.
  const std::shared_ptr<const T>& read() const {
    struct Entry {
      uint64_t version = ~uint64_t{0};
      std::shared_ptr<const T> value;
    };
    thread_local std::unordered_map<uint64_t, Entry> cache;
    const uint64_t version = version_.load(std::memory_order_acquire);
    auto it = cache.find(id_);
    if (it == cache.end()) {
      if (cache.size() >= 256) cache.clear();  // cells of old snapshots
      it = cache.emplace(id_, Entry{}).first;
    }
    if (it->second.version != version) {
      it->second.value = load();
      it->second.version = version;
    }
    return it->second.value;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
  std::atomic<uint64_t> version_{0};
  const uint64_t id_;
};

}  // namespace tollway::core

// BoundedQueue: the fixed-capacity hand-off of finished requests' records from request threads (producers) to
// the telemetry thread (consumer). A full queue drops the new item and counts it; it never grows, never allocates after
// construction, and never blocks a producer (no lock, no wait: a failed push returns at once). Bounded MPMC
// array queue with a sequence number per cell (D. Vyukov's design): a producer claims a cell with one CAS on the
// tail, writes the item, then publishes it with a release store of the cell's sequence.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace tollway::telemetry {

template <typename T>
class BoundedQueue {
 public:
  // Capacity is rounded up to a power of two (at least 2).
  // Only the sequence numbers are written here; an item's storage is untouched (so not resident) until a push
  // first reaches it, and a queue that is never used costs 8 bytes of memory per cell.
  explicit BoundedQueue(std::size_t capacity)
      : mask_(round_up_pow2(capacity) - 1),
        sequences_(std::make_unique<std::atomic<std::size_t>[]>(mask_ + 1)),
        storage_(static_cast<T*>(::operator new((mask_ + 1) * sizeof(T), std::align_val_t{alignof(T)}))) {
    for (std::size_t i = 0; i <= mask_; ++i) sequences_[i].store(i, std::memory_order_relaxed);
  }
  ~BoundedQueue() {
    while (try_consume([](T&) {})) {
    }
    ::operator delete(storage_, std::align_val_t{alignof(T)});
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Moves `item` in and returns true, or leaves it, counts a drop and returns false when the queue is full.
  bool try_push(T&& item) {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    while (true) {
      std::atomic<std::size_t>& sequence = sequences_[pos & mask_];
      const std::size_t seq = sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          new (&storage_[pos & mask_]) T(std::move(item));
          sequence.store(pos + 1, std::memory_order_release);
          pushed_.fetch_add(1, std::memory_order_relaxed);
          return true;
        }
      } else if (diff < 0) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // Hands the next published item to `use` where it lies (no move out), then destroys it and frees its cell;
  // false when none is ready. A producer meeting the cell while `use` runs counts the queue as full.
  template <typename Use>
  bool try_consume(Use&& use) {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    while (true) {
      std::atomic<std::size_t>& sequence = sequences_[pos & mask_];
      const std::size_t seq = sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          T& stored = storage_[pos & mask_];
          use(stored);
          stored.~T();
          sequence.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // Whether try_consume would find an item now (the head cell is published). Consumer side.
  bool front_ready() const {
    const std::size_t pos = head_.load(std::memory_order_relaxed);
    return sequences_[pos & mask_].load(std::memory_order_acquire) == pos + 1;
  }
  std::size_t capacity() const { return mask_ + 1; }
  uint64_t pushed() const { return pushed_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Approximate under concurrency; exact when quiescent.
  std::size_t size_approx() const {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t head = head_.load(std::memory_order_relaxed);
    return tail >= head ? tail - head : 0;
  }

 private:
  static std::size_t round_up_pow2(std::size_t n) {
    std::size_t p = 2;
    while (p < n) p <<= 1;
    return p;
  }
  static constexpr std::size_t kLine = 64;
  const std::size_t mask_;
  std::unique_ptr<std::atomic<std::size_t>[]> sequences_;  // per cell: D. Vyukov's sequence number
  T* storage_;  // raw storage of mask_ + 1 items; an item lives there from its push to its pop
  alignas(kLine) std::atomic<std::size_t> tail_{0};
  alignas(kLine) std::atomic<std::size_t> head_{0};
  alignas(kLine) std::atomic<uint64_t> pushed_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace tollway::telemetry

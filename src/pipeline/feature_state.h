// FeatureStates: the per-request state of the features a request passes (the limits filter's reservation, the
// trace's spans, a sidecar hop's count, an MCP body's calls), held by RequestCtx but declared in each feature's
// own folder, so that adding a feature never edits RequestCtx. A state is found by its C++ type — one slot per
// type, numbered on first use — never by a string key. It must never hold anything shared between requests:
// every state is destroyed with the request.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace tollway::pipeline {

// Numbers the state types in the order they are first used (aborts past FeatureStates::kSlots).
std::size_t next_feature_slot();

template <class State>
std::size_t feature_slot() {
  static const std::size_t slot = next_feature_slot();
  return slot;
}

class FeatureStates {
 public:
  static constexpr std::size_t kSlots = 12;

  FeatureStates() = default;
  FeatureStates(FeatureStates&& other) noexcept : slots_(std::exchange(other.slots_, {})) {}
  FeatureStates& operator=(FeatureStates&& other) noexcept {
    if (this != &other) {
      clear();
      slots_ = std::exchange(other.slots_, {});
    }
    return *this;
  }
  FeatureStates(const FeatureStates&) = delete;
  FeatureStates& operator=(const FeatureStates&) = delete;
  ~FeatureStates() { clear(); }

  // The request's State, value-initialised on first use.
  template <class State>
  State& get() {
    static_assert(std::is_default_constructible_v<State>);
    Slot& s = slots_[feature_slot<State>()];
    if (s.object == nullptr) {
      s.object = new State();
      s.destroy = [](void* p) { delete static_cast<State*>(p); };
    }
    return *static_cast<State*>(s.object);
  }
  // The request's State, or null when no filter has created it.
  template <class State>
  State* find() {
    return static_cast<State*>(slots_[feature_slot<State>()].object);
  }
  template <class State>
  const State* find() const {
    return static_cast<const State*>(slots_[feature_slot<State>()].object);
  }
  // Destroys the request's State (a later get() starts afresh).
  template <class State>
  void reset() {
    const Slot old = std::exchange(slots_[feature_slot<State>()], {});
    if (old.object != nullptr) old.destroy(old.object);
  }

 private:
  struct Slot {
    void* object = nullptr;
    void (*destroy)(void*) = nullptr;
  };
  void clear() {
    for (Slot& s : slots_)
      if (s.object != nullptr) s.destroy(std::exchange(s.object, nullptr));
  }
  std::array<Slot, kSlots> slots_{};
};

}  // namespace tollway::pipeline

// RootSchedule: the generated root's rotation as times, after SPIRE's prepared / active / old key model. Every root
// the control plane generated is a generation (1 = the first, STATE_DIR/ca/root.pem; N = ca/root-N.pem) with when it
// was made, when it starts signing and, once a newer one is scheduled, when it leaves the trust bundle. What each root
// is at an instant follows from these times alone, so a control plane restarted mid-rotation — or one that never saw
// the `ca rotate` command run — computes the same trust bundle and signer. Pure: no I/O, no OpenSSL, times passed in;
// it never decides a time that a rotation did not record.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tollway::control {

struct RootGeneration {
  using Clock = std::chrono::system_clock;
  int64_t generation = 1;
  Clock::time_point created_at{};
  Clock::time_point activates_at{};            // from here it signs (until a newer one activates)
  std::optional<Clock::time_point> retires_at;  // from here it is out of the bundle; none = no successor yet
};

enum class RootState {
  Prepared,  // in the bundle, not signing yet: nodes learn to trust it at their next certificate
  Active,    // in the bundle and signing every new certificate
  Old,       // in the bundle, no longer signing: certificates it issued still verify
  Retired,   // out of the bundle; its key is deleted
};
std::string_view root_state_name(RootState state);

// The roots in force at one instant: which generations the bundle holds (ascending), which one signs the SVIDs,
// which one signs the control plane's own listener certificate (the oldest root that has signed and is still
// trusted, so a node that has not yet taken the new bundle can still reach the control plane to take it), and the
// bundle's sequence number (spiffe_sequence: 1, plus one per root added and per root removed).
struct RootView {
  std::vector<int64_t> bundle;
  int64_t signing = 1;
  int64_t listener_signing = 1;
  uint64_t sequence = 1;
  bool operator==(const RootView&) const = default;
};

// The schedule as recorded; an empty list means the first root alone (a state directory from before rotation).
RootState root_state(const std::vector<RootGeneration>& schedule, const RootGeneration& root,
                     RootGeneration::Clock::time_point now);
RootView root_view(const std::vector<RootGeneration>& schedule, RootGeneration::Clock::time_point now);

// The next rotation, started at `now`: a new generation that activates after `prepare` and the active root's
// retirement `overlap` after that. nullopt with `error` while a rotation is in progress (a root prepared or old).
struct PlannedRotation {
  RootGeneration next;    // the new root
  RootGeneration active;  // the root active now, with its retires_at set
};
std::optional<PlannedRotation> plan_rotation(const std::vector<RootGeneration>& schedule,
                                             RootGeneration::Clock::time_point now, std::chrono::seconds prepare,
                                             std::chrono::seconds overlap, std::string& error);

// STATE_DIR/ca/root.pem and root.key for generation 1, ca/root-N.pem and root-N.key after.
std::string root_certificate_file(const std::string& state_dir, int64_t generation);
std::string root_key_file(const std::string& state_dir, int64_t generation);

}  // namespace tollway::control

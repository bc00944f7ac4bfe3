#include "control/ca/root_schedule.h"

#include <algorithm>
#include <filesystem>

#include "control/ca/identity_store.h"

namespace tollway::control {
namespace {

using Clock = RootGeneration::Clock;

std::vector<RootGeneration> or_first_root(const std::vector<RootGeneration>& schedule) {
  if (!schedule.empty()) return schedule;
  return {RootGeneration{}};
}

// The newest generation that has activated by `now` (the one that signs).
int64_t signing_generation(const std::vector<RootGeneration>& roots, Clock::time_point now) {
  int64_t signing = roots.front().generation;
  for (const auto& root : roots)
    if (root.activates_at <= now) signing = std::max(signing, root.generation);
  return signing;
}

}  // namespace

std::string_view root_state_name(RootState state) {
  switch (state) {
    case RootState::Prepared: return "prepared";
    case RootState::Active: return "active";
    case RootState::Old: return "old";
    case RootState::Retired: return "retired";
  }
  return "?";
}

RootState root_state(const std::vector<RootGeneration>& schedule, const RootGeneration& root, Clock::time_point now) {
  if (root.retires_at && now >= *root.retires_at) return RootState::Retired;
  if (now < root.activates_at) return RootState::Prepared;
  return root.generation == signing_generation(or_first_root(schedule), now) ? RootState::Active : RootState::Old;
}

RootView root_view(const std::vector<RootGeneration>& schedule, Clock::time_point now) {
  const auto roots = or_first_root(schedule);
  RootView view;
  view.signing = signing_generation(roots, now);
  view.listener_signing = view.signing;
  for (const auto& root : roots) {
    const RootState state = root_state(roots, root, now);
    if (root.generation > roots.front().generation) ++view.sequence;  // added when it was prepared
    if (state == RootState::Retired) {
      ++view.sequence;
      continue;
    }
    view.bundle.push_back(root.generation);
    if (state == RootState::Old) view.listener_signing = std::min(view.listener_signing, root.generation);
  }
  return view;
}

std::optional<PlannedRotation> plan_rotation(const std::vector<RootGeneration>& schedule, Clock::time_point now,
                                             std::chrono::seconds prepare, std::chrono::seconds overlap,
                                             std::string& error) {
  const auto roots = or_first_root(schedule);
  const RootGeneration* active = nullptr;
  for (const auto& root : roots) {
    const RootState state = root_state(roots, root, now);
    if (state == RootState::Prepared) {
      error = "a rotation is in progress: root generation " + std::to_string(root.generation) +
              " is prepared and starts signing at " + utc_text(root.activates_at) + "; rotate again once the old "
              "root has left the bundle";
      return std::nullopt;
    }
    if (state == RootState::Old) {
      error = "a rotation is in progress: root generation " + std::to_string(root.generation) +
              " is still in the bundle until " + utc_text(*root.retires_at) + "; rotate again after that";
      return std::nullopt;
    }
    if (state == RootState::Active) active = &root;
  }
  if (active == nullptr) {  // every root retired: cannot happen with a schedule this module wrote
    error = "the schedule has no active root";
    return std::nullopt;
  }
  PlannedRotation plan;
  plan.next.generation = roots.back().generation + 1;
  plan.next.created_at = now;
  plan.next.activates_at = now + prepare;
  plan.active = *active;
  plan.active.retires_at = plan.next.activates_at + overlap;
  return plan;
}

std::string root_certificate_file(const std::string& state_dir, int64_t generation) {
  const std::string name = generation == 1 ? "root.pem" : "root-" + std::to_string(generation) + ".pem";
  return (std::filesystem::path(state_dir) / "ca" / name).string();
}

std::string root_key_file(const std::string& state_dir, int64_t generation) {
  const std::string name = generation == 1 ? "root.key" : "root-" + std::to_string(generation) + ".key";
  return (std::filesystem::path(state_dir) / "ca" / name).string();
}

}  // namespace tollway::control

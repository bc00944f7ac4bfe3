#include "telemetry/label_cap.h"

namespace tollway::telemetry {

bool LabelAdmission::admit(std::string_view value, std::size_t cap) {
  std::lock_guard lock(mutex_);
  if (values_.find(value) != values_.end()) return true;
  if (values_.size() >= cap) return false;
  values_.emplace(value);
  return true;
}

std::size_t LabelAdmission::admitted() const {
  std::lock_guard lock(mutex_);
  return values_.size();
}

std::shared_ptr<LabelAdmissions> LabelAdmissions::process_wide() {
  static const auto instance = std::make_shared<LabelAdmissions>();
  return instance;
}

std::string_view CappedLabel::resolve(std::string_view value, std::size_t cap, LabelAdmission& admission,
                                      uint64_t& overflows) {
  if (value.empty()) return value;
  if (auto it = known_.find(value); it != known_.end()) {
    if (it->second) return it->first;
    ++overflows;
    return kOverflowLabel;
  }
  const bool admitted = admission.admit(value, cap);
  if (admitted || rejected_cached_ < kMaxRejectedCached) {
    auto it = known_.emplace(std::string(value), admitted).first;
    if (admitted) return it->first;
    ++rejected_cached_;
  }
  ++overflows;
  return kOverflowLabel;
}

}  // namespace tollway::telemetry

// Label cardinality caps for caller-controlled label values (tenant, agent, session, model): the first `cap`
// distinct values of a dimension, process-wide, keep their own series; every later value is reported as
// kOverflowLabel and counted. LabelAdmission is the process-wide set (a mutex, taken only the first time a worker
// meets a value); CappedLabel is a worker's cache in front of it, so a known value costs one map lookup and no
// lock. Admitted values stay admitted for the life of the process (series never flip between scrapes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace tollway::telemetry {

inline constexpr std::string_view kOverflowLabel = "_overflow";

class LabelAdmission {
 public:
  // True when `value` was admitted before or is admitted now (fewer than `cap` values admitted so far).
  bool admit(std::string_view value, std::size_t cap);
  std::size_t admitted() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> values_;
};

// The dimensions that are capped, one LabelAdmission each.
struct LabelAdmissions {
  LabelAdmission tenant, agent, session, model;
  static std::shared_ptr<LabelAdmissions> process_wide();
};

class CappedLabel {
 public:
  // `value` itself when admitted ("" is always admitted: no label value), else kOverflowLabel (and ++overflows).
  std::string_view resolve(std::string_view value, std::size_t cap, LabelAdmission& admission, uint64_t& overflows);

 private:
  // Rejected values are remembered too, up to kMaxRejectedCached (beyond that they ask the admission each time).
  static constexpr std::size_t kMaxRejectedCached = 4096;
  std::map<std::string, bool, std::less<>> known_;
  std::size_t rejected_cached_ = 0;
};

}  // namespace tollway::telemetry

#include "telemetry/explicit_histogram.h"

#include <algorithm>
#include <charconv>

namespace tollway::telemetry {

void append_number(std::string& out, double value) {
  char text[32];
  const auto r = std::to_chars(text, text + sizeof text, value);
  out.append(text, r.ptr);
}

void ExplicitHistogram::observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);  // first bound >= value: le semantics
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

void ExplicitHistogram::merge(const ExplicitHistogram& other) {
  for (std::size_t i = 0; i < counts_.size() && i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
}

void ExplicitHistogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string_view sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out.append(name).append("_bucket{").append(labels).append(sep).append("le=\"");
    append_number(out, bounds_[i]);
    out.append("\"} ").append(std::to_string(cumulative)).push_back('\n');
  }
  out.append(name).append("_bucket{").append(labels).append(sep).append("le=\"+Inf\"} ");
  out.append(std::to_string(count_)).push_back('\n');
  out.append(name).append("_sum");
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.push_back(' ');
  append_number(out, sum_);
  out.push_back('\n');
  out.append(name).append("_count");
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(std::to_string(count_)).push_back('\n');
}

}  // namespace tollway::telemetry

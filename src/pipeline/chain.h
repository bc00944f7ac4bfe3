// Chain: the ordered list of filters of one role, built once per snapshot (see src/gateway/assembly.cc).
// It only holds and orders filters; it never decides anything itself.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "pipeline/filter.h"

namespace tollway::pipeline {

class Chain {
 public:
  template <typename F, typename... Args>
  Chain& add(Args&&... args) {
    filters_.push_back(std::make_unique<F>(std::forward<Args>(args)...));
    return *this;
  }
  const std::vector<std::unique_ptr<Filter>>& filters() const { return filters_; }

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
};

}  // namespace tollway::pipeline

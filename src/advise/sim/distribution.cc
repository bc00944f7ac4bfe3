#include "advise/sim/distribution.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

namespace tollway::sim {

namespace {
constexpr double kZ99 = 2.3263478740408408;  // the standard normal's 99th percentile
}

Distribution Distribution::constant(double value) {
  Distribution d;
  d.shape_ = Shape::Constant;
  d.a_ = value;
  d.mean_ = value;
  d.second_moment_ = value * value;
  return d;
}

Distribution Distribution::lognormal_p50_p99(double p50, double p99) {
  if (p99 <= p50) return constant(p50);
  Distribution d;
  d.shape_ = Shape::LogNormal;
  d.p50_ = p50;
  d.p99_ = p99;
  d.a_ = std::log(p50);
  d.b_ = std::log(p99 / p50) / kZ99;
  d.mean_ = std::exp(d.a_ + d.b_ * d.b_ / 2);
  d.second_moment_ = std::exp(2 * d.a_ + 2 * d.b_ * d.b_);
  return d;
}

Distribution Distribution::empirical(std::vector<double> samples) {
  Distribution d;
  d.shape_ = Shape::Empirical;
  const double n = static_cast<double>(samples.size());
  d.mean_ = std::accumulate(samples.begin(), samples.end(), 0.0) / n;
  d.second_moment_ = std::inner_product(samples.begin(), samples.end(), samples.begin(), 0.0) / n;
  d.values_ = std::move(samples);
  return d;
}

Distribution Distribution::discrete(std::vector<double> values, std::vector<double> weights) {
  Distribution d;
  d.shape_ = Shape::Discrete;
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double running = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double p = weights[i] / total;
    running += p;
    d.cumulative_.push_back(running);
    d.mean_ += p * values[i];
    d.second_moment_ += p * values[i] * values[i];
  }
  d.cumulative_.back() = 1.0;
  d.values_ = std::move(values);
  return d;
}

double Distribution::sample(SimRng& rng) const {
  switch (shape_) {
    case Shape::Constant:
      return a_;
    case Shape::LogNormal:
      return std::exp(a_ + b_ * rng.normal());
    case Shape::Empirical:
      return values_[static_cast<std::size_t>(rng.uniform() * static_cast<double>(values_.size()))];
    case Shape::Discrete: {
      const double u = rng.uniform();
      std::size_t i = 0;
      while (cumulative_[i] <= u) ++i;
      return values_[i];
    }
  }
  return 0;
}

std::string Distribution::describe() const {
  std::ostringstream out;
  out.precision(4);
  switch (shape_) {
    case Shape::Constant:
      out << "constant " << a_;
      break;
    case Shape::LogNormal:
      out << "lognormal p50 " << p50_ << " p99 " << p99_;
      break;
    case Shape::Empirical:
      out << "empirical n=" << values_.size() << " mean " << mean_;
      break;
    case Shape::Discrete:
      out << "discrete mean " << mean_;
      break;
  }
  return out.str();
}

}  // namespace tollway::sim

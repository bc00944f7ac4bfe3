// Distribution: one scalar quantity the simulator draws per event — a hop's added latency, an agent's own work, an
// LLM call's latency, a request's tokens. Four shapes: a constant; a log-normal fitted to a median and a 99th
// percentile (the way docs/benchmarks.md reports latencies); an empirical list resampled uniformly (costs measured
// in a run, e.g. by the validation test); a discrete table of values and weights (fan-out counts). It draws without
// allocating and knows its mean and second moment in closed form; it never changes after it is built.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "advise/sim/rng.h"

namespace tollway::sim {

class Distribution {
 public:
  enum class Shape { Constant, LogNormal, Empirical, Discrete };

  Distribution() = default;  // the constant 0
  static Distribution constant(double value);
  // Log-normal with this median and 99th percentile (p99 >= p50 > 0; equal: a constant).
  static Distribution lognormal_p50_p99(double p50, double p99);
  // Uniform resampling of `samples` (not empty, all >= 0).
  static Distribution empirical(std::vector<double> samples);
  // values[i] with probability weights[i] / sum(weights) (same sizes, not empty, weights >= 0, sum > 0).
  static Distribution discrete(std::vector<double> values, std::vector<double> weights);

  double sample(SimRng& rng) const;
  double mean() const { return mean_; }
  double second_moment() const { return second_moment_; }  // E[X²]
  Shape shape() const { return shape_; }
  // "constant 3000", "lognormal p50 56 p99 439", "empirical n=120 mean 80", "discrete mean 1.5" (units: the caller's).
  std::string describe() const;

 private:
  Shape shape_ = Shape::Constant;
  double a_ = 0;  // Constant: the value; LogNormal: mu
  double b_ = 0;  // LogNormal: sigma
  double p50_ = 0, p99_ = 0;
  std::vector<double> values_;      // Empirical, Discrete
  std::vector<double> cumulative_;  // Discrete: cumulative probabilities
  double mean_ = 0;
  double second_moment_ = 0;
};

}  // namespace tollway::sim

// FUZZ_CHECK: a fuzz target's invariant. When it does not hold, prints the condition and where, then aborts so
// that libFuzzer keeps the input as a reproducer. Never used outside tests/fuzz.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

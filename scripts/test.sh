#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. Release build + every test through ctest (unit, integration on loopback, e2e with the official SDKs),
#   2. the asan preset (ASan+UBSan) build + every test again,
#   3. the libFuzzer targets for a bounded time (FUZZ_SECONDS each, default 20).
# Set TOLLWAY_SKIP_ASAN=1 or FUZZ_SECONDS=0 to skip a stage locally; CI runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)

echo "== release build and tests"
# Tests and benchmarks are switched on explicitly: scripts/run.sh configures the same build tree without them.
cmake --preset release -DBUILD_TESTING=ON -DTOLLWAY_BENCH=ON >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs" --timeout 600

if [[ "${TOLLWAY_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== asan (ASan+UBSan) build and tests"
  # The benchmarks are measured in the release build; the sanitizers check the tests' code paths only.
  cmake --preset asan -DBUILD_TESTING=ON -DTOLLWAY_BENCH=OFF >/dev/null
  cmake --build --preset asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan -j "$jobs" --timeout 900
fi

if [[ "${FUZZ_SECONDS:-20}" != 0 ]]; then
  echo "== fuzz (${FUZZ_SECONDS:-20}s per target)"
  FUZZ_SECONDS="${FUZZ_SECONDS:-20}" tests/fuzz/run.sh
fi
echo "== all tests passed"

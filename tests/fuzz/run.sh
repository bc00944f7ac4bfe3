#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz", clang-14) and runs each one for FUZZ_SECONDS (default 30) on a
# scratch copy of its seed corpus under build/fuzz-run/ (the committed corpus is replayed first, so every input a
# campaign kept is a regression test), with its dictionary tests/fuzz/dict/<target>.dict when there is one. Exits non-zero if any target crashes or fails an
# invariant; the reproducer is kept in build/fuzz-run/<target>/artifacts/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-30}"

cmake --preset fuzz
cmake --build --preset fuzz

bin_dir="$root/build/fuzz/tests/fuzz"
run_dir="$root/build/fuzz-run"
mkdir -p "$run_dir"

status=0
found=0
for target in "$bin_dir"/fuzz_*; do
  [[ -x "$target" && -f "$target" ]] || continue
  found=1
  name="$(basename "$target")"
  seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
  work="$run_dir/$name"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  if [[ -d "$seeds" ]]; then
    cp -R "$seeds/." "$work/corpus/"
  fi
  dict="$root/tests/fuzz/dict/${name#fuzz_}.dict"
  dict_args=()
  [[ -f "$dict" ]] && dict_args=("-dict=$dict")
  echo "== $name: ${seconds}s, seeds from ${seeds#"$root"/}${dict_args[*]:+, dictionary ${dict#"$root"/}}"
  if ! "$target" "${dict_args[@]}" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
      "$work/corpus" >"$work/log.txt" 2>&1; then
    echo "!! $name failed; last lines of $work/log.txt:"
    tail -n 40 "$work/log.txt"
    status=1
  else
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$work/log.txt" || true
  fi
done

if [[ "$found" -eq 0 ]]; then
  echo "no fuzz targets found in $bin_dir" >&2
  exit 1
fi
exit "$status"

#!/usr/bin/env bash
# Long fuzzing campaign (outside CI): builds the libFuzzer targets (preset "fuzz", clang-14), runs each one for
# -t seconds (default an hour) with its dictionary (tests/fuzz/dict/<target>.dict, when there is one) on a scratch
# copy of its committed corpus, then minimizes what it found into tests/fuzz/corpus/<target>/ (libFuzzer -merge=1:
# only inputs that add coverage are kept), which CI's tests/fuzz/run.sh replays. A crash, leak, timeout or failed
# invariant stops nothing else: its reproducer is minimized into build/fuzz-campaign/<target>/crashes/ and the
# script exits 1 at the end. It never deletes a committed corpus file (merge only adds) and never commits.
#
# Usage: tests/fuzz/campaign.sh [-t SECONDS] [-j JOBS] [-w WORKERS] [-r RSS_LIMIT_MB] [--no-build] [--no-merge]
#                               [TARGET...]     (names without the fuzz_ prefix; default: every target)
#   -t  seconds per target (default 3600, -max_total_time)      -j  libFuzzer -jobs (default 1)
#   -w  libFuzzer -workers (default: JOBS)                       -r  -rss_limit_mb (default 2048)
# Env: NICE (default 10): niceness of the fuzzers.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
seconds=3600
jobs=1
workers=""
rss_limit=2048
build=1
merge=1
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -t) seconds="$2"; shift 2 ;;
    -j) jobs="$2"; shift 2 ;;
    -w) workers="$2"; shift 2 ;;
    -r) rss_limit="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-merge) merge=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "campaign.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
workers="${workers:-$jobs}"
for n in "$seconds" "$jobs" "$workers" "$rss_limit"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "campaign.sh: not a positive whole number: $n" >&2; exit 2; }
done

if [[ "$build" -eq 1 ]]; then
  cmake --preset fuzz >/dev/null
  nice cmake --build --preset fuzz -j2
fi

bin_dir="$root/build/fuzz/tests/fuzz"
out_dir="$root/build/fuzz-campaign"
mkdir -p "$out_dir"
if [[ ${#targets[@]} -eq 0 ]]; then
  for t in "$bin_dir"/fuzz_*; do [[ -x "$t" && -f "$t" ]] && targets+=("$(basename "${t#"$bin_dir"/fuzz_}")"); done
fi
[[ ${#targets[@]} -gt 0 ]] || { echo "campaign.sh: no fuzz targets in $bin_dir" >&2; exit 1; }

status=0
summary=()
for name in "${targets[@]}"; do
  bin="$bin_dir/fuzz_$name"
  [[ -x "$bin" ]] || { echo "campaign.sh: no target fuzz_$name in $bin_dir" >&2; exit 2; }
  corpus="$root/tests/fuzz/corpus/$name"
  dict="$root/tests/fuzz/dict/$name.dict"
  work="$out_dir/$name"
  rm -rf "$work"
  mkdir -p "$work/found" "$work/artifacts" "$work/crashes" "$corpus"
  cp -R "$corpus/." "$work/found/"
  before_files=$(find "$corpus" -type f | wc -l)
  before_bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  dict_args=()
  [[ -f "$dict" ]] && dict_args=("-dict=$dict")
  echo "== fuzz_$name: ${seconds}s, jobs $jobs, workers $workers${dict_args[*]:+, ${dict#"$root"/}}"
  # -jobs 1 runs in this process; more jobs run as child processes, each writing fuzz-<n>.log.
  parallel_args=()
  [[ "$jobs" -gt 1 ]] && parallel_args=("-jobs=$jobs" "-workers=$workers")
  fuzz_rc=0
  (cd "$work" && nice -n "${NICE:-10}" "$bin" "${dict_args[@]}" "${parallel_args[@]}" -max_total_time="$seconds" \
      -rss_limit_mb="$rss_limit" -timeout=25 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" "$work/found" >"$work/log.txt" 2>&1) || fuzz_rc=$?
  # With -jobs the parent's exit status does not tell which job crashed; the artifacts say what was found.
  crashed=0
  for artifact in "$work"/artifacts/*; do
    [[ -f "$artifact" ]] || continue
    crashed=1
    base="$(basename "$artifact")"
    echo "!! fuzz_$name found $base; minimizing"
    (cd "$work" && "$bin" -minimize_crash=1 -max_total_time=60 -runs=100000 \
        -exact_artifact_path="$work/crashes/$base" "$artifact" >"$work/minimize-$base.txt" 2>&1) || true
    [[ -f "$work/crashes/$base" ]] || cp "$artifact" "$work/crashes/$base"
  done
  if [[ "$crashed" -eq 1 || ( "$fuzz_rc" -ne 0 && "$jobs" -eq 1 ) ]]; then
    status=1
    echo "!! fuzz_$name failed (exit $fuzz_rc); reproducers in ${work#"$root"/}/crashes/, last log lines:"
    tail -n 30 "$work/log.txt" "$work"/fuzz-*.log 2>/dev/null | tail -n 40 || true
  fi
  if [[ "$merge" -eq 1 ]]; then
    "$bin" -merge=1 -rss_limit_mb="$rss_limit" -timeout=25 "${dict_args[@]}" "$corpus" "$work/found" \
      >"$work/merge.txt" 2>&1 || { echo "!! merge for fuzz_$name failed, see ${work#"$root"/}/merge.txt"; status=1; }
  fi
  after_files=$(find "$corpus" -type f | wc -l)
  after_bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  execs=$(cat "$work/log.txt" "$work"/fuzz-*.log 2>/dev/null | awk '/^stat::number_of_executed_units/ {s += $2} END {print s + 0}' || true)
  line="fuzz_$name: ${execs} runs, corpus ${before_files} -> ${after_files} files (${before_bytes} -> ${after_bytes} bytes), crashes ${crashed}"
  echo "   $line"
  summary+=("$line")
done

echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$status"

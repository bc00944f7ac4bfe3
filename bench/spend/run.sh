#!/usr/bin/env bash
# bench/spend: `tollway spend` reading a spend log of RECORDS (10,000,000) records against the sqlite3 shell running
# the equivalent SQL on the same file, in the same run, interleaved (the order alternates each repetition), pinned
# to CPU $CPU (1) with taskset, REPEATS (5) timed runs each after one untimed run whose output is checked: the bench
# fails when the two disagree on any group or total. Two queries: spend per tenant and model over the 30 days, and
# spend per tenant per day over one week. Then the write path: spend_bench append (1,000,000 appends through the
# gateway's SpendLog). The spend log is written by spend_bench generate with the gateway's own SpendLog and kept
# in BUILD_DIR/bench/spend/ for the next run (SPEND_LOG=FILE to put it elsewhere). Writes the
# "## Spend (bench/spend)" section of docs/benchmarks.md. Run it niced on a shared machine:
#   nice -n 10 bench/spend/run.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/release}"
repeats="${2:-5}"
records="${RECORDS:-10000000}"
appends="${APPENDS:-1000000}"
cpu="${CPU:-1}"
cd "$root"
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: scripts/install-deps.sh --bench" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing: scripts/install-deps.sh --bench" >&2; exit 1; }
cmake --build "$build" --target tollway spend_bench >/dev/null
tollway_bin="$build/tollway"
spend_bench="$build/bench/spend/spend_bench"
log="${SPEND_LOG:-$build/bench/spend/spend-$records.sqlite}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The 30 days end at 2026-12-01T00:00:00Z; the weekly query reads 2026-11-10 to 2026-11-17.
end_s=1796083200
month=(--from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z)
week=(--from 2026-11-10T00:00:00Z --to 2026-11-17T00:00:00Z)
month_where="at_ms >= 1793491200000 AND at_ms < 1796083200000"
week_where="at_ms >= 1794268800000 AND at_ms < 1794873600000"
sums="SUM(requests), SUM(input_tokens), SUM(output_tokens), SUM(cached_input_tokens), SUM(cost_micro_usd), SUM(estimated)"
sql_month="SELECT tenant, model, $sums FROM spend WHERE $month_where GROUP BY tenant, model ORDER BY tenant, model;"
sql_week="SELECT date(at_ms / 1000, 'unixepoch') AS day, tenant, $sums FROM spend WHERE $week_where GROUP BY day, tenant ORDER BY day, tenant;"

if [[ -f "$log" && "$(sqlite3 "$log" 'SELECT count(*) FROM spend' 2>/dev/null)" == "$records" ]]; then
  echo "spend log: reusing $log"
  echo "{\"records\":$records,\"reused\":true,\"bytes\":$(stat -c %s "$log")}" > "$work/generate.json"
else
  echo "spend log: writing $records records to $log"
  mkdir -p "$(dirname "$log")"
  "$spend_bench" generate "$log" "$records" "$end_s" | tee "$work/generate.json"
fi

pin=(taskset -c "$cpu")
command -v taskset >/dev/null || pin=()
cut -d' ' -f1-3 /proc/loadavg > "$work/load_before"

# Untimed first runs: warm the page cache, and the outputs the report compares.
"${pin[@]}" "$tollway_bin" spend --spend-log "$log" --group-by tenant,model "${month[@]}" --json > "$work/month.tollway.json"
"${pin[@]}" sqlite3 -json "$log" "$sql_month" > "$work/month.sqlite3.json"
"${pin[@]}" "$tollway_bin" spend --spend-log "$log" --group-by tenant --bucket day "${week[@]}" --json > "$work/week.tollway.json"
"${pin[@]}" sqlite3 -json "$log" "$sql_week" > "$work/week.sqlite3.json"
for query in month week; do
  sqlite3 "$log" "EXPLAIN QUERY PLAN $( [[ $query == month ]] && echo "$sql_month" || echo "$sql_week")" \
    > "$work/$query.plan"
done

# One timed run: "<query> <side> <rep> wall user sys" appended to times.txt.
timed() {
  local query="$1" side="$2" rep="$3"
  shift 3
  "${pin[@]}" /usr/bin/time -f '%e %U %S' -o "$work/t" "$@" > /dev/null
  echo "$query $side $rep $(cat "$work/t")" >> "$work/times.txt"
}
for ((rep = 1; rep <= repeats; rep++)); do
  for query in month week; do
    if [[ $query == month ]]; then
      ours=("$tollway_bin" spend --spend-log "$log" --group-by tenant,model "${month[@]}")
      theirs=(sqlite3 "$log" "$sql_month")
    else
      ours=("$tollway_bin" spend --spend-log "$log" --group-by tenant --bucket day "${week[@]}")
      theirs=(sqlite3 "$log" "$sql_week")
    fi
    if ((rep % 2)); then
      timed "$query" tollway "$rep" "${ours[@]}"
      timed "$query" sqlite3 "$rep" "${theirs[@]}"
    else
      timed "$query" sqlite3 "$rep" "${theirs[@]}"
      timed "$query" tollway "$rep" "${ours[@]}"
    fi
  done
  tail -4 "$work/times.txt"
done

"${pin[@]}" "$spend_bench" append "$appends" | tee "$work/append.json"
cut -d' ' -f1-3 /proc/loadavg > "$work/load_after"

node bench/spend/report.mjs --work "$work" --repeats "$repeats" --cpu "$cpu" --log "$log" \
  --sql-month "$sql_month" --sql-week "$sql_week" --sqlite-version "$(sqlite3 --version | cut -d' ' -f1)"

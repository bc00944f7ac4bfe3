#!/usr/bin/env bash
# bench/tokens: tollway vs npm tiktoken (WASM) on the same generated 8 MiB mixed corpus, single thread pinned to
# CPU 1, REPEATS runs each (median), both sides in this one run; plus tollway without its PieceCache, the cache's
# hit rate, 1,000,000 identical characters and the p50/p99 latency of estimating one ~4 KB chat request. Writes the
# "## Tokenizer (bench/tokens)" section of docs/benchmarks.md (with the load average before and after).
# Usage: bench/tokens/run.sh [BUILD_DIR] [REPEATS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/release}"
repeats="${2:-7}"
cd "$root"
if [[ ! -d "$build" ]]; then cmake --preset release >/dev/null; fi
cmake --build "$build" --target tokens_bench >/dev/null
bench_bin="$(find "$build" -name tokens_bench -type f -perm -u+x | head -1)"
[[ -x "$bench_bin" ]] || { echo "tokens_bench not built under $build" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node bench/tokens/make_inputs.mjs "$work"
pin=(taskset -c 1)
command -v taskset >/dev/null || pin=()
cut -d' ' -f1-3 /proc/loadavg > "$work/load_before"
"${pin[@]}" "$bench_bin" "$work/corpus.txt" "$repeats" "$work/chat_request.json" > "$work/tollway.jsonl"
"${pin[@]}" node bench/tokens/tiktoken_bench.mjs "$work/corpus.txt" "$repeats" > "$work/tiktoken.jsonl"
cut -d' ' -f1-3 /proc/loadavg > "$work/load_after"
cat "$work/tollway.jsonl" "$work/tiktoken.jsonl"
node - "$work" "$repeats" <<'NODE'
const fs = require('fs');
const [work, repeats] = process.argv.slice(2);
const rows = (f) => fs.readFileSync(`${work}/${f}`, 'utf8').trim().split('\n').map(JSON.parse);
const ours = rows('tollway.jsonl'), ref = rows('tiktoken.jsonl');
const chat = ours.find((r) => r.p99_us !== undefined);
const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || 'unknown CPU';
const load = (f) => fs.readFileSync(`${work}/${f}`, 'utf8').trim().replace(/ /g, ' / ');
const lines = ['## Tokenizer (bench/tokens)', '',
  `\`bench/tokens/run.sh\`, ${new Date().toISOString().slice(0, 10)}, ${cpu}, single thread pinned with \`taskset -c 1\`, ` +
  `median of ${repeats} runs, both sides in the same run on the same generated 8 MiB corpus (Zipf-distributed words ` +
  `from 60,000-word vocabularies in 14 languages/scripts, code with varied identifiers, JSON, Markdown, numbers, ` +
  `emoji/ZWJ, whitespace runs, random code points; see docs/tokens.md), ids checked identical by ` +
  `tests/integration/tokens. Rank-file load time excluded. Load average (1/5/15 min) ${load('load_before')} before, ` +
  `${load('load_after')} after (2 cores shared with other builds: expect ±10 % between runs).`, '',
  '| encoding | tollway MB/s | tiktoken-wasm MB/s | ratio | tollway without PieceCache MB/s | ratio | tollway tokens/s | tiktoken-wasm tokens/s | same token count |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---|'];
for (const o of ours.filter((r) => r.encoding)) {
  const t = ref.find((r) => r.encoding === o.encoding);
  lines.push(`| ${o.encoding} | ${o.mb_per_s.toFixed(1)} | ${t.mb_per_s.toFixed(1)} | **${(o.mb_per_s / t.mb_per_s).toFixed(1)}x** | ` +
             `${o.nocache_mb_per_s.toFixed(1)} | ${(o.nocache_mb_per_s / t.mb_per_s).toFixed(1)}x | ` +
             `${(o.tokens_per_s / 1e6).toFixed(2)} M | ${(t.tokens_per_s / 1e6).toFixed(2)} M | ${o.tokens === t.tokens ? 'yes' : 'NO'} |`);
}
lines.push('');
for (const o of ours.filter((r) => r.encoding)) {
  lines.push(`- ${o.encoding}: ${o.pieces.toLocaleString('en')} pieces, ${(100 * o.whole_token_pieces / o.pieces).toFixed(1)} % whole tokens ` +
             `(one lookup), ${o.merged_pieces.toLocaleString('en')} merged; PieceCache hit rate ${(100 * o.cache_hits / o.merged_pieces).toFixed(1)} % ` +
             `of merged pieces (${(100 * o.cache_hits / o.pieces).toFixed(1)} % of all pieces). Worst case, 1,000,000 × "a": ` +
             `${(o.same_1m_s * 1000).toFixed(0)} ms (${o.same_1m_tokens.toLocaleString('en')} tokens); 100,000 × "a": ` +
             `${(o.same_100k_s * 1000).toFixed(1)} ms vs tiktoken-wasm ${ref.find((r) => r.encoding === o.encoding).same_100k_s.toFixed(2)} s ` +
             `(tiktoken-wasm aborts on 1,000,000 with "RuntimeError: unreachable").`);
}
if (chat) lines.push('', `Estimating one ${chat.chat_request_bytes}-byte chat-completions request (${chat.prompt_tokens} prompt tokens, ` +
  `o200k_base, 20,000 runs): p50 ${chat.p50_us.toFixed(1)} µs, p99 ${chat.p99_us.toFixed(1)} µs (target ≤ 100 µs).`);
const section = lines.join('\n') + '\n';
const { pathToFileURL } = require('url');
import(pathToFileURL(`${process.cwd()}/bench/lib/doc_section.mjs`).href)
  .then(({ writeDocSection }) => writeDocSection('docs/benchmarks.md', '## Tokenizer (bench/tokens)', section));
console.log(section);
NODE

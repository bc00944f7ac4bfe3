// npm tiktoken (WASM) on the same corpus file, single thread: median seconds over REPEATS, one JSON line per
// encoding, same fields as tokens_bench, plus one run on 100,000 identical characters. Usage: node bench/tokens/tiktoken_bench.mjs CORPUS [REPEATS]
import { readFileSync } from 'node:fs';
import { get_encoding } from 'tiktoken';

const [corpusPath, repeatsArg] = process.argv.slice(2);
const bytes = readFileSync(corpusPath);
const text = bytes.toString('utf8');
const repeats = Number(repeatsArg || 5);
for (const name of ['cl100k_base', 'o200k_base']) {
  const enc = get_encoding(name);
  const secs = [];
  let tokens = 0;
  for (let r = 0; r < repeats; ++r) {
    const t0 = process.hrtime.bigint();
    tokens = enc.encode(text).length;
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  secs.sort((a, b) => a - b);
  const s = secs[Math.floor(secs.length / 2)];
  // Worst case, one run: 100,000 identical characters (1,000,000 aborts with "RuntimeError: unreachable").
  const t0 = process.hrtime.bigint();
  enc.encode('a'.repeat(100000));
  const same100k = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ impl: 'tiktoken-wasm', encoding: name, bytes: bytes.length, tokens, median_s: s,
                               mb_per_s: bytes.length / s / 1e6, tokens_per_s: tokens / s, same_100k_s: same100k }));
  enc.free();
}

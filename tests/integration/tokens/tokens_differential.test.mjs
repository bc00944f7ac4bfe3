// Differential test: `tollway tokens encode` against npm tiktoken (WASM, the reference) on a generated ~1.2 MB
// mixed corpus, for cl100k_base and o200k_base, exact ids. Needs TOLLWAY_BIN (set by ctest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get_encoding } from 'tiktoken';
import { makeCorpus } from './corpus.mjs';

const BIN = process.env.TOLLWAY_BIN;
const dir = mkdtempSync(join(tmpdir(), 'tollway-tokens-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function tollwayEncode(encoding, file, special = 'none') {
  const out = execFileSync(BIN, ['tokens', 'encode', '--encoding', encoding, '--special', special, file],
                           { maxBuffer: 1 << 28 }).toString().trim();
  return out === '' ? [] : out.split(' ').map(Number);
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ++i) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function compare(encoding, bytes, label) {
  const file = join(dir, `${label}.txt`);
  writeFileSync(file, bytes);
  const text = bytes.toString('utf8');  // invalid UTF-8 -> U+FFFD, as a JS caller hands it to tiktoken
  const enc = get_encoding(encoding);
  try {
    const expected = Array.from(enc.encode(text));
    const actual = tollwayEncode(encoding, file);
    const at = firstDifference(actual, expected);
    if (at >= 0) {
      const ctx = (ids) => JSON.stringify(new TextDecoder().decode(enc.decode(new Uint32Array(ids.slice(Math.max(0, at - 8), at + 8)))));
      assert.fail(`${encoding}/${label}: first difference at token ${at} of ${expected.length}: ` +
                  `tollway ${JSON.stringify(actual.slice(at, at + 8))} vs tiktoken ${JSON.stringify(expected.slice(at, at + 8))}\n` +
                  `  tiktoken context: ${ctx(expected)}\n  tollway context:  ${ctx(actual)}`);
    }
    return expected.length;
  } finally {
    enc.free();
  }
}

for (const encoding of ['cl100k_base', 'o200k_base']) {
  test(`${encoding}: 1.2 MB mixed corpus gives tiktoken's ids`, () => {
    const corpus = makeCorpus(1_200_000, { seed: 11 });
    assert.ok(corpus.length >= 1_000_000);
    const n = compare(encoding, corpus, 'mixed');
    assert.ok(n > 100_000, `only ${n} tokens`);
  });

  test(`${encoding}: corpus with invalid UTF-8 bytes gives the ids of its U+FFFD repair`, () => {
    compare(encoding, makeCorpus(200_000, { seed: 12, invalidUtf8: true }), 'invalid');
  });

  test(`${encoding}: every assigned letter, mark, digit and space of the BMP and beyond splits like tiktoken`, () => {
    // One line per 64 consecutive code points, each followed by "'s", a digit or a space so that the class of
    // every code point changes the split (catches Unicode-version and category differences).
    const lines = [];
    for (let base = 0x80; base < 0x110000; base += 64) {
      if (base >= 0xd800 && base < 0xe000) continue;
      let s = '';
      for (let cp = base; cp < base + 64; ++cp) s += String.fromCodePoint(cp) + ["'s", '1', ' ', 'a', 'A', "'S "][cp % 6];
      lines.push(s);
    }
    compare(encoding, Buffer.from(lines.join('\n'), 'utf8'), 'allcodepoints');
  });
}

// `tollway tokens` on the command line: encode/count/decode, stdin, special-token policies, errors and --help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const BIN = process.env.TOLLWAY_BIN;
const run = (args, input) => spawnSync(BIN, ['tokens', ...args], { input, maxBuffer: 1 << 26 });

test('encode prints ids on one line separated by single spaces', () => {
  const r = run(['encode', '--encoding', 'cl100k_base', '-'], 'hello world');
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), '15339 1917\n');
  const o = run(['encode', '--encoding', 'o200k_base'], 'hello world');
  assert.equal(o.stdout.toString(), '24912 2375\n');
});

test('count prints the number of tokens', () => {
  const r = run(['count', '--encoding', 'cl100k_base', '-'], 'hello world, this is tollway');
  assert.equal(r.status, 0);
  assert.equal(r.stdout.toString(), '7\n');
});

test('decode reverses encode, byte for byte', () => {
  const text = 'Zwölf Boxkämpfer 👨‍👩‍👧 jagen Viktor quer über den großen Sylter Deich.\r\n\t 12345';
  const ids = run(['encode', '-e', 'o200k_base'], text).stdout.toString();
  const back = run(['decode', '-e', 'o200k_base'], ids);
  assert.equal(back.status, 0);
  assert.equal(back.stdout.toString(), text);
  assert.equal(run(['decode', '-e', 'cl100k_base'], '[15339, 1917]').stdout.toString(), 'hello world');
});

test('a disallowed special token is a clear error with exit 1', () => {
  const r = run(['encode', '-e', 'cl100k_base'], 'hi <|endoftext|>');
  assert.equal(r.status, 1);
  assert.equal(r.stdout.toString(), '');
  assert.match(r.stderr.toString(), /special token <\|endoftext\|> at byte 3.*--special all/);
  assert.equal(run(['count', '-e', 'o200k_base'], '<|endofprompt|>').status, 1);
});

test('--special all encodes specials, --special ordinary encodes them as text', () => {
  assert.equal(run(['encode', '-e', 'cl100k_base', '--special', 'all'], 'hi <|endoftext|>').stdout.toString(), '6151 220 100257\n');
  assert.equal(run(['encode', '-e', 'cl100k_base', '--special', 'ordinary'], '<|endoftext|>').stdout.toString(), '27 91 8862 728 428 91 29\n');
});

test('bad input never crashes', () => {
  const bad = run(['encode', '-e', 'cl100k_base'], Buffer.from([0x61, 0xff, 0xed, 0xa0, 0x80, 0x62]));
  assert.equal(bad.status, 0);
  assert.equal(bad.stdout.toString(), run(['encode', '-e', 'cl100k_base'], 'a\ufffd\ufffd\ufffd\ufffdb').stdout.toString());
  const id = run(['decode', '-e', 'cl100k_base'], '15339 999999');
  assert.equal(id.status, 1);
  assert.match(id.stderr.toString(), /999999/);
  assert.equal(run(['decode', '-e', 'cl100k_base'], '12 abc').status, 1);
  assert.notEqual(run(['encode', '-e', 'no_such_encoding'], 'x').status, 0);
  assert.equal(run(['encode', '/nonexistent/file'], '').status, 1);
});

test('each subcommand has --help', () => {
  for (const sub of ['encode', 'count', 'decode']) {
    const r = run([sub, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), /--encoding/);
  }
});

// `tollway validate FILE`: exit 0 with "ok: FILE (version ...)" for a valid config (the shipped default too),
// exit 1 with FILE:LINE: path: message for each problem; env interpolation with defaults; a missing file.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runTollway, tempDir, removeTempDir, SOURCE_DIR } from '../../lib/harness.mjs';

const dir = tempDir('tollway-validate-');
after(() => removeTempDir(dir));
const write = (name, text) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };

const GOOD = `version: 1
providers:
  openai:
    api: openai
    base_url: http://127.0.0.1:9
    api_key: sk-test-openai
  anthropic:
    api: anthropic
    base_url: \${env:TW_TEST_ANTHROPIC_URL:-http://127.0.0.1:10}
    api_key: \${env:TW_TEST_ANTHROPIC_KEY}
models:
  - match: "claude-*"
    provider: anthropic
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
  - path: /v1/messages
    api: anthropic
    provider: anthropic
`;

describe('tollway validate', () => {
  it('the shipped config/gateway.yaml is valid', async () => {
    const f = path.join(SOURCE_DIR, 'config', 'gateway.yaml');
    const r = await runTollway(['validate', f]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ok: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(version [0-9a-f]{12}[;)]`));
  });

  it('a valid config with env interpolation: exit 0, ok line with a version', async () => {
    const f = write('good.yaml', GOOD);
    const r = await runTollway(['validate', f], { env: { TW_TEST_ANTHROPIC_KEY: 'sk-ant-x' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: .*good\.yaml \(version [0-9a-f]{12}[;)]/);
  });

  it('an unset ${env:NAME} without default is an error naming the variable and line', async () => {
    const f = write('noenv.yaml', GOOD);
    const r = await runTollway(['validate', f], { env: { TW_TEST_ANTHROPIC_KEY: undefined } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /noenv\.yaml:10: .*TW_TEST_ANTHROPIC_KEY/);
  });

  it('unknown provider in a route: exit 1, FILE:LINE: routes[N].provider with the defined names', async () => {
    const f = write('badprov.yaml', `${GOOD}  - path: /v1/embeddings
    api: openai
    provider: foo
`);
    const r = await runTollway(['validate', f], { env: { TW_TEST_ANTHROPIC_KEY: 'k' } });
    assert.equal(r.code, 1);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:23: routes\\[2\\]\\.provider: unknown provider "foo" \\(defined: openai, anthropic\\)`), out);
  });

  it('several errors are all reported, each with its line', async () => {
    const f = write('multi.yaml', `version: 1
providers:
  openai:
    api: openia
    base_url: not a url
models:
  - match: "gpt-*"
    provider: nobody
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
timeouts:
  upstream_connect: 5 parsecs
`);
    const r = await runTollway(['validate', f]);
    assert.equal(r.code, 1);
    const out = r.stdout + r.stderr;
    assert.match(out, /multi\.yaml:4: providers\.openai\.api: /, out);
    assert.match(out, /multi\.yaml:5: providers\.openai\.base_url: /, out);
    assert.match(out, /multi\.yaml:8: models\[0\]\.provider: unknown provider "nobody"/, out);
    assert.match(out, /multi\.yaml:14: timeouts\.upstream_connect: /, out);
  });

  it('a YAML syntax error: exit 1 with the line', async () => {
    const f = write('syntax.yaml', 'version: 1\nproviders:\n  openai: [unclosed\n');
    const r = await runTollway(['validate', f]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /syntax\.yaml:\d+:/);
  });

  it('a missing file: exit 1 with a message naming it', async () => {
    const r = await runTollway(['validate', path.join(dir, 'nope.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /nope\.yaml/);
  });
});

// `tollway validate DIR`: a policy directory is checked exactly as the control plane checks it before publishing;
// a bad policy prints `file:line: key.path: problem` for each error and exits 1, a good one exits 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runTollway } from '../../lib/harness.mjs';
import { policyDir, sha256 } from './control_harness.mjs';

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function goodPolicy() {
  const p = policyDir();
  p.write('base.yaml', 'version: 1\ngateway:\n  workers: 1\n');
  p.write('providers.yaml', `providers:
  openai:
    api: openai
    base_url: http://127.0.0.1:9
    api_key: sk-test
models:
  - match: "gpt-*"
    provider: openai
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
`);
  p.write('nodes.yaml', `nodes:
  gw-a:
    labels: {role: gateway, zone: a}
    token_sha256: ${sha256('a')}
  gw-b:
    labels: {role: gateway, zone: b}
    token_sha256: ${sha256('b')}
`);
  return p;
}

describe('tollway validate DIR', () => {
  it('a valid policy: exit 0 with the policy hash and its node count', async () => {
    const p = goodPolicy();
    const r = await runTollway(['validate', p.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^ok: ${esc(p.dir)} \\(policy [0-9a-f]{12}; 2 nodes\\)`));
  });

  it('an error in a group section is reported at its file and line; exit 1', async () => {
    const p = goodPolicy();
    p.write('groups/zone-b.yaml', `selector:
  zone: b
sections:
  gateway:
    workers: many
`);
    const r = await runTollway(['validate', p.dir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`^${esc(p.file('groups/zone-b.yaml'))}:5: gateway\\.workers: `, 'm'));
    assert.match(r.stderr, /^1 error in /m);
  });

  it('structure errors: a key in two files, a selector that matches nobody, a node in two groups', async () => {
    const p = goodPolicy();
    p.write('more.yaml', 'routes: []\n');
    p.write('groups/nobody.yaml', 'selector: {zone: c}\n');
    p.write('groups/all.yaml', 'selector: {role: gateway}\n');
    p.write('groups/zone-a.yaml', 'selector: {zone: a}\n');
    const r = await runTollway(['validate', p.dir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`^${esc(p.file('providers.yaml'))}:9: routes: also defined at ${esc(p.file('more.yaml'))}:1`, 'm'));
    assert.match(r.stderr, new RegExp(`^${esc(p.file('groups/nobody.yaml'))}:1: selector: matches none`, 'm'));
    assert.match(r.stderr, new RegExp(`^${esc(p.file('nodes.yaml'))}:2: nodes\\.gw-a: selected by two groups, "all" and "zone-a"`, 'm'));
  });
});

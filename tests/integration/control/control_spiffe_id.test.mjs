// A node checks which SPIFFE ID the control plane presents, as real processes on loopback: `tollway control
// --trust-domain --tls` issues an SVID for another workload (spiffe://TD/ns/prod/sa/impostor), which a Node HTTPS
// server presents in place of the control plane. Its chain verifies against the bundle, yet a gateway joining
// through it is refused at the handshake — the error names the ID expected and the one presented — and the impostor
// receives nothing (no join token, no CSR). With --control-spiffe-id naming the impostor, the same gateway does
// send its join to it (the flag is what is checked); a malformed --control-spiffe-id is refused at start.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { runTollway, tempDir } from '../../lib/harness.mjs';
import { BASE, httpsJson, policyDir, startControl } from './control_harness.mjs';

const TD = 'example.org';
const IMPOSTOR = `spiffe://${TD}/ns/prod/sa/impostor`;
const GW = `spiffe://${TD}/ns/prod/sa/gw-a`;

async function mint(stateDir, identity) {
  const r = await runTollway(['control', 'token', 'create', '--state-dir', stateDir, '--identity', identity]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

describe('the node requires the control plane to present its SPIFFE ID', () => {
  let cp; let impostor; let dir; let bundleFile; const received = [];

  before(async () => {
    const policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('nodes.yaml', 'nodes: {}\n');
    cp = await startControl({ policy: policy.dir, extraArgs: ['--trust-domain', TD, '--tls'] });
    dir = tempDir('tollway-control-id-');
    const bundle = fs.readFileSync(path.join(cp.stateDir, 'ca', 'root.pem'), 'utf8');
    bundleFile = path.join(dir, 'bundle.pem');
    fs.writeFileSync(bundleFile, bundle);
    // A genuine SVID of the trust domain, for another workload, with 127.0.0.1 as its only other name.
    const key = path.join(dir, 'impostor.key');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=x'], { encoding: 'utf8' });
    const issued = await httpsJson(`${cp.url}/v1/certs`,
      { method: 'POST', ca: bundle, body: { csr, token: await mint(cp.stateDir, IMPOSTOR) } });
    assert.equal(issued.status, 200, issued.text);
    impostor = https.createServer({ key: fs.readFileSync(key), cert: issued.json.chain }, (req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        received.push({ url: req.url, body });
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'invalid_token', message: 'the impostor refuses' } }));
      });
    });
    await new Promise((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    impostor?.close();
    await cp?.stop();
  });

  const joinThroughImpostor = async (name, extraArgs, timeoutMs) => {
    const sub = path.join(dir, name);
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'node.token'), 'node-token');
    fs.writeFileSync(path.join(sub, 'join.token'), await mint(cp.stateDir, GW));
    return runTollway(['gateway', '--control', `https://127.0.0.1:${impostor.address().port}`, '--node', 'gw-a',
      '--token-file', path.join(sub, 'node.token'), '--state-dir', path.join(sub, 'state'),
      '--identity-dir', path.join(sub, 'identity'), '--control-ca', bundleFile,
      '--join-token-file', path.join(sub, 'join.token'), '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
      '--workers', '1', ...extraArgs], { timeoutMs });
  };

  it('refuses a server of the trust domain presenting another ID, naming both, and sends it nothing', async () => {
    const r = await joinThroughImpostor('default', [], 3000);
    const retries = r.stderr.split('\n').filter((l) => l.includes('cannot join yet; retrying')).map((l) => JSON.parse(l));
    assert.ok(retries.length >= 2, r.stderr);
    assert.match(retries[0].error,
      new RegExp(`presented ${IMPOSTOR}, not spiffe://${TD}/tollway/control`.replaceAll('.', '\\.')));
    assert.deepEqual(received, [], 'the impostor received no request');
    assert.ok(!fs.existsSync(path.join(dir, 'default', 'identity', 'svid.pem')));
  });

  it('--control-spiffe-id is the ID checked: naming the impostor, the join goes to it', async () => {
    const r = await joinThroughImpostor('flag', ['--control-spiffe-id', IMPOSTOR], 10000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /refused the join: HTTP 401: the impostor refuses/);
    assert.equal(received.length, 1);
    assert.equal(received[0].url, '/v1/certs');
    assert.match(JSON.parse(received[0].body).token, /^twjoin_/);
  });

  it('a malformed --control-spiffe-id is refused at start', async () => {
    const r = await joinThroughImpostor('malformed', ['--control-spiffe-id', 'spiffe://Example.org/x'], 10000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /--control-spiffe-id: /);
    assert.equal(received.length, 1);
  });
});

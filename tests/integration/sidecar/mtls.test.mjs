// Two agents, each behind its own sidecar: A's calls reach B only over mTLS between the sidecars, B's sidecar
// authorizes A's SPIFFE ID by rule, and what the directory or the certificates do not vouch for is refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import fs from 'node:fs';
import { makeCA, rawRequest, metricValue, getText, startSidecar } from '../../lib/harness.mjs';

const TD = 'example.org';
const A_ID = `spiffe://${TD}/ns/prod/sa/agent-a`;
const B_ID = `spiffe://${TD}/ns/prod/sa/agent-b`;

// Agent B: answers every call with what reached it.
function startAgent() {
  return new Promise((resolve) => {
    const agent = { calls: 0 };
    const server = http.createServer((req, res) => {
      agent.calls += 1;
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
      });
    });
    server.listen(0, '127.0.0.1', () => resolve(Object.assign(agent, {
      port: server.address().port, close: () => new Promise((r) => server.close(r)) })));
  });
}

const portOf = (address) => Number(String(address).split(':').pop());

// A request from agent A through its sidecar's outbound listener, as HTTP_PROXY clients send it.
function viaProxy(port, url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, headers: { host: u.host, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

describe('sidecar: mTLS between agents, authorization by SPIFFE ID', () => {
  let ca, foreign, agentB, sidecarA, sidecarB, wrongPeer;
  before(async () => {
    ca = makeCA({ name: 'agents-ca' });
    foreign = makeCA({ name: 'another-ca' });
    const a = ca.svid('agent-a', A_ID);
    const b = ca.svid('agent-b', B_ID);
    agentB = await startAgent();
    sidecarB = await startSidecar({
      version: 1,
      sidecar: { spiffe_id: B_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: `127.0.0.1:${agentB.port}`,
        tls: { cert_file: b.certFile, key_file: b.keyFile, bundle_file: ca.caFile } },
      authorization: [
        { action: 'deny', from: [A_ID], paths: ['/admin'] },
        { action: 'allow', from: [`spiffe://${TD}/ns/prod/sa/*`] },
      ],
    });
    const inboundB = portOf(sidecarB.ready.listeners.inbound);
    const sidecarADocument = (peerId) => ({
      version: 1,
      sidecar: { spiffe_id: A_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: '127.0.0.1:9',
        tls: { cert_file: a.certFile, key_file: a.keyFile, bundle_file: ca.caFile } },
      peers: { 'agent-b': { address: `127.0.0.1:${inboundB}`, spiffe_id: peerId } },
    });
    sidecarA = await startSidecar(sidecarADocument(B_ID));
    // A directory that names another identity for agent-b than the one its certificate carries.
    wrongPeer = await startSidecar(sidecarADocument(`spiffe://${TD}/ns/prod/sa/agent-z`));
  });
  after(async () => {
    await sidecarA?.stop(); await sidecarB?.stop(); await wrongPeer?.stop(); await agentB?.close();
    ca?.cleanup(); foreign?.cleanup();
  });

  it('A reaches B through both sidecars; B learns who called, and a forged caller header is replaced', async () => {
    const r = await viaProxy(portOf(sidecarA.ready.listeners.outbound), 'http://agent-b/tasks?id=7', {
      method: 'POST', body: '{"task":1}', headers: { 'content-type': 'application/json', 'x-tollway-caller-spiffe-id': 'spiffe://example.org/forged' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.method, 'POST');
    assert.equal(r.json.url, '/tasks?id=7');
    assert.equal(r.json.body, '{"task":1}');
    assert.equal(r.json.headers['x-tollway-caller-spiffe-id'], A_ID);
    assert.equal(r.json.headers.host, 'agent-b');
  });

  it('a deny rule refuses with 403 naming both identities, and the decision is logged with both', async () => {
    const r = await viaProxy(portOf(sidecarA.ready.listeners.outbound), 'http://agent-b/admin/reset', { method: 'POST', body: '{}' });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, 'forbidden');
    assert.match(r.json.error.message, new RegExp(`${A_ID}.*${B_ID}`));
    const line = await sidecarB.waitForLog((o) => o?.msg === 'authorization decision' && o.decision === 'deny');
    assert.equal(line.source_spiffe_id, A_ID);
    assert.equal(line.destination_spiffe_id, B_ID);
    assert.equal(line.path, '/admin/reset');
  });

  it('a host outside the directory and CONNECT are refused as egress; origin-form is not a proxy request', async () => {
    const outbound = portOf(sidecarA.ready.listeners.outbound);
    const unknown = await viaProxy(outbound, 'http://agent-q/x');
    assert.equal(unknown.status, 403);
    assert.equal(unknown.json.error.code, 'egress_denied');
    const connect = await rawRequest(outbound, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
    assert.match(connect.text, /^HTTP\/1\.1 403 /);
    const origin = await rawRequest(outbound, 'GET /x HTTP/1.1\r\nHost: agent-b\r\n\r\n');
    assert.match(origin.text, /^HTTP\/1\.1 400 [^]*not_a_proxy_request/);
  });

  it('a peer whose certificate carries another SPIFFE ID than the directory names is never sent the request', async () => {
    const before = agentB.calls;
    const r = await viaProxy(portOf(wrongPeer.ready.listeners.outbound), 'http://agent-b/tasks');
    assert.equal(r.status, 502, r.text);
    assert.match(r.json.error.message, /agent-b.*not spiffe:\/\/example\.org\/ns\/prod\/sa\/agent-z|presented/);
    assert.equal(agentB.calls, before);
  });

  it('the inbound listener refuses plaintext and a certificate from another CA, and counts them', async () => {
    const inbound = portOf(sidecarB.ready.listeners.inbound);
    const plain = await rawRequest(inbound, 'GET /tasks HTTP/1.1\r\nHost: agent-b\r\n\r\n');
    assert.doesNotMatch(plain.text, /^HTTP\/1\.1 200/);
    const intruder = foreign.svid('intruder', A_ID);
    const refused = await new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: inbound, cert: fs.readFileSync(intruder.certFile), key: fs.readFileSync(intruder.keyFile), rejectUnauthorized: false });
      s.on('secureConnect', () => { s.write('GET / HTTP/1.1\r\nHost: b\r\n\r\n'); });
      let got = '';
      s.on('data', (c) => { got += c; });
      s.on('error', () => resolve(true));
      s.on('close', () => resolve(!got.startsWith('HTTP/1.1 200')));
    });
    assert.ok(refused);
    const metrics = await getText(`${sidecarB.adminUrl}/metrics`);
    assert.ok(metricValue(metrics.text, 'tollway_tls_handshake_failures_total', { listener: 'inbound' }) >= 2);
  });
});

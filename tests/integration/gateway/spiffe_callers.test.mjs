// SPIFFE callers at the gateway: an mTLS listener with `tls.trust_domain` refuses, at the handshake, a client
// certificate from another CA, from another trust domain, without a SPIFFE ID, expired or not yet valid, no
// certificate at all and plaintext HTTP, and counts each under its reason in
// tollway_tls_handshake_failures_total{listener,reason} (the /metrics text passes `promtool check metrics`) with one
// log line naming the reason and the peer. With `auth.spiffe`, an SVID holder that sends no credential is the caller
// its SPIFFE ID maps to (tenant, agent group, agent): attributed in the access log and limited by its tenant's rule; a
// credential it sends wins; a denied ID gets 403 in the caller's API format, and a deny-list change applies at the
// next reload. Certificates are made with the openssl CLI; real processes on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startMock, startGateway, testConfig, makeCA, tempDir, removeTempDir, waitFor, metricValue, getText,
  rawRequest, runTollway, toYaml, issueCertificate } from '../../lib/harness.mjs';

const TRUST_DOMAIN = 'example.org';

// One HTTPS request on a new connection: {status, json} or a rejection when the handshake fails.
function request(port, { ca, cert, key, method = 'GET', path: target = '/v1/models', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: target, ca, cert, key, agent: false,
      servername: 'localhost', headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, text, json });
      });
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is required (scripts/install-deps.sh installs it): ${r.error.message}`);
  return r;
}

describe('mTLS listener with a trust domain: handshake refusals by reason', () => {
  let ca; let other; let mock; let gw; let dir; let certs;
  const metrics = async () => (await getText(`${gw.adminUrl}/metrics`)).text;
  const refusals = async (reason) => metricValue(await metrics(), 'tollway_tls_handshake_failures_total',
    { listener: 'api', reason });

  before(async () => {
    ca = makeCA();
    other = makeCA({ name: 'other-ca' });
    dir = tempDir('tollway-spiffe-');
    certs = {
      svid: issueCertificate(ca, 'billing', `URI:spiffe://${TRUST_DOMAIN}/ns/prod/sa/billing`),
      foreignCa: issueCertificate(other, 'stranger', `URI:spiffe://${TRUST_DOMAIN}/ns/prod/sa/stranger`),
      otherDomain: issueCertificate(ca, 'outsider', 'URI:spiffe://other.org/ns/prod/sa/outsider'),
      noSpiffe: issueCertificate(ca, 'plain', 'DNS:plain.example.org'),
      twoUris: issueCertificate(ca, 'twice', `URI:spiffe://${TRUST_DOMAIN}/ns/a/sa/x,URI:spiffe://${TRUST_DOMAIN}/ns/b/sa/y`),
      expired: issueCertificate(ca, 'expired', `URI:spiffe://${TRUST_DOMAIN}/ns/prod/sa/old`,
        { start: '20200101000000Z', end: '20200102000000Z' }),
      notYetValid: issueCertificate(ca, 'future', `URI:spiffe://${TRUST_DOMAIN}/ns/prod/sa/new`,
        { start: '20990101000000Z', end: '20990102000000Z' }),
    };
    mock = await startMock();
    const cfg = testConfig({ openaiUrl: mock.url });
    cfg.gateway.tls = { cert_file: ca.certFile, key_file: ca.keyFile, client_ca_file: ca.caFile,
      require_client_cert: true, trust_domain: TRUST_DOMAIN };
    gw = await startGateway({ config: cfg });
  });
  after(async () => {
    await gw?.stop(); await mock?.close();
    ca?.cleanup(); other?.cleanup(); if (dir) removeTempDir(dir);
  });

  it('an X.509-SVID of the trust domain is served', async () => {
    const r = await request(gw.port, { ca: ca.ca, ...certs.svid });
    assert.equal(r.status, 200, r.text);
  });

  for (const [name, reason] of [['foreignCa', 'unknown_ca'], ['otherDomain', 'other_trust_domain'],
    ['noSpiffe', 'bad_spiffe_id'], ['twoUris', 'bad_spiffe_id'], ['expired', 'certificate_expired'],
    ['notYetValid', 'certificate_not_yet_valid']]) {
    it(`a certificate (${name}) is refused at the handshake and counted as ${reason}`, async () => {
      const before = await refusals(reason);
      await assert.rejects(request(gw.port, { ca: ca.ca, ...certs[name] }));
      assert.ok(await waitFor(async () => (await refusals(reason)) === before + 1), `${reason} counted once`);
      const line = await waitFor(() => gw.logs.findLast((o) => o.msg === 'TLS handshake refused' && o.reason === reason));
      assert.ok(line, 'a log line');
      assert.equal(line.listener, 'api');
      assert.match(line.peer, /^127\.0\.0\.1:\d+$/);
    });
  }

  it('no client certificate is counted as no_client_certificate', async () => {
    const before = await refusals('no_client_certificate');
    await assert.rejects(request(gw.port, { ca: ca.ca }));
    assert.ok(await waitFor(async () => (await refusals('no_client_certificate')) === before + 1));
  });

  it('plain HTTP on the TLS listener is counted as plaintext', async () => {
    const before = await refusals('plaintext');
    await rawRequest(gw.port, 'GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await waitFor(async () => (await refusals('plaintext')) === before + 1));
  });

  it('/metrics passes promtool with every reason of both listeners', async () => {
    const text = await metrics();
    const r = promtool(text);
    assert.equal(r.status, 0, r.stderr);
    for (const reason of ['no_client_certificate', 'unknown_ca', 'certificate_expired', 'certificate_not_yet_valid',
      'bad_spiffe_id', 'other_trust_domain', 'plaintext', 'timeout', 'other'])
      for (const listener of ['api', 'admin'])
        assert.match(text, new RegExp(`tollway_tls_handshake_failures_total\\{listener="${listener}",reason="${reason}"\\} \\d+`));
    assert.equal(metricValue(text, 'tollway_tls_handshake_failures_total', { listener: 'api', reason: 'other' }), 0);
  });
});

describe('auth.spiffe: SVID holders are callers without a secret', () => {
  let ca; let mock; let gw; let cfg; let accessPath; let certs;
  const chat = { model: 'gpt-4o', max_tokens: 3, messages: [{ role: 'user', content: 'hello' }] };
  const accessLines = () => (fs.existsSync(accessPath) ? fs.readFileSync(accessPath, 'utf8') : '').split('\n')
    .filter(Boolean).map((l) => JSON.parse(l));
  const call = (who, extra = {}) => request(gw.port, { ca: ca.ca, ...certs[who], method: 'POST',
    path: '/v1/chat/completions', body: chat, ...extra });

  before(async () => {
    ca = makeCA();
    certs = {
      billing: issueCertificate(ca, 'billing', `URI:spiffe://${TRUST_DOMAIN}/ns/prod/sa/billing`),
      web: issueCertificate(ca, 'web', `URI:spiffe://${TRUST_DOMAIN}/ns/dev/sa/web`),
      unmapped: issueCertificate(ca, 'unmapped', `URI:spiffe://${TRUST_DOMAIN}/ns/other/sa/x`),
      compromised: issueCertificate(ca, 'compromised', `URI:spiffe://${TRUST_DOMAIN}/ns/prod/sa/compromised`),
    };
    mock = await startMock();
    accessPath = path.join(ca.dir, 'access.log');
    cfg = testConfig({ openaiUrl: mock.url });
    cfg.gateway.tls = { cert_file: ca.certFile, key_file: ca.keyFile, client_ca_file: ca.caFile,
      require_client_cert: true, trust_domain: TRUST_DOMAIN };
    cfg.telemetry = { access_log: accessPath, decision_log: 'off' };
    cfg.auth = {
      virtual_keys: { store: ':memory:' },
      spiffe: {
        callers: [
          { id: `spiffe://${TRUST_DOMAIN}/ns/prod/sa/*`, tenant: 'acme', agent_group: 'prod' },
          { id: `spiffe://${TRUST_DOMAIN}/ns/dev/sa/web`, tenant: 'beta', agent: 'web-dev' },
        ],
        deny: [`spiffe://${TRUST_DOMAIN}/ns/prod/sa/compromised`],
      },
    };
    cfg.limits.rules = [{ name: 'acme-requests', match: { tenant: 'acme' }, unit: 'requests', limit: 2, window: '1h' }];
    gw = await startGateway({ config: cfg });
  });
  after(async () => {
    await gw?.stop(); await mock?.close();
    ca?.cleanup();
  });

  it('a mapped SVID is its tenant\'s caller: attributed in the access log, limited by the tenant\'s rule', async () => {
    const first = await call('billing');
    assert.equal(first.status, 200, first.text);
    const line = await waitFor(() => accessLines().find((l) => l.route === '/v1/chat/completions'));
    assert.ok(line, 'an access line');
    assert.equal(line.tenant, 'acme');
    assert.equal(line.agent, 'billing', 'the last path segment names the agent');
    assert.equal(line.key_id, `spiffe://${TRUST_DOMAIN}/ns/prod/sa/billing`);
    assert.equal(line.peer_spiffe_id, `spiffe://${TRUST_DOMAIN}/ns/prod/sa/billing`);
    assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-test-openai');
    assert.equal((await call('billing')).status, 200);
    const third = await call('billing');
    assert.equal(third.status, 429, third.text);
    assert.match(third.json.error.message, /acme-requests/);
    // Another tenant's caller is not limited by acme's rule.
    const web = await call('web');
    assert.equal(web.status, 200, web.text);
    const webLine = await waitFor(() => accessLines().find((l) => l.tenant === 'beta'));
    assert.equal(webLine.agent, 'web-dev');
  });

  it('a credential wins over the peer identity: a bad key is 401 even from a mapped SVID', async () => {
    const r = await call('web', { headers: { authorization: 'Bearer tw-not-a-key' } });
    assert.equal(r.status, 401, r.text);
  });

  it('an SVID that no mapping covers and that sends no credential gets 401 missing_credential', async () => {
    const r = await call('unmapped');
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.code, 'missing_credential');
  });

  it('a denied SPIFFE ID gets 403 in the caller\'s API format, with or without a credential', async () => {
    const openai = await call('compromised');
    assert.equal(openai.status, 403, openai.text);
    assert.equal(openai.json.error.code, 'spiffe_id_denied');
    assert.match(openai.json.error.message, /denied/);
    const anthropic = await request(gw.port, { ca: ca.ca, ...certs.compromised, method: 'POST', path: '/v1/messages',
      body: { model: 'claude-3-5-haiku', max_tokens: 3, messages: [{ role: 'user', content: 'x' }] },
      headers: { 'x-api-key': 'tw-anything' } });
    assert.equal(anthropic.status, 403, anthropic.text);
    assert.equal(anthropic.json.type, 'error');
    assert.match(anthropic.json.error.message, /denied/);
    const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_auth_requests_total', { method: 'spiffe', result: 'spiffe_id_denied' }), 2);
    assert.equal(promtool(metrics).status, 0, promtool(metrics).stderr);
  });

  it('tollway validate refuses a bad SPIFFE pattern at its file:line and key path', async () => {
    const bad = structuredClone(cfg);
    bad.auth.spiffe.callers.push({ id: `spiffe://${TRUST_DOMAIN}/ns/prod*`, tenant: 'acme' });
    const file = path.join(ca.dir, 'bad.yaml');
    fs.writeFileSync(file, toYaml(bad));
    const r = await runTollway(['validate', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout,
      /bad\.yaml:\d+: auth\.spiffe\.callers\[2\]\.id: "spiffe:\/\/example\.org\/ns\/prod\*" is not a SPIFFE ID or pattern/);
  });

  it('a deny-list change applies at the next reload', async () => {
    assert.equal((await call('web')).status, 200);
    const next = structuredClone(cfg);
    next.auth.spiffe.deny.push(`spiffe://${TRUST_DOMAIN}/ns/dev/sa/*`);
    const reloads = gw.logs.filter((o) => o.msg === 'config reloaded').length;
    gw.writeConfig(next);
    gw.proc.kill('SIGHUP');
    assert.ok(await waitFor(() => gw.logs.filter((o) => o.msg === 'config reloaded').length > reloads), 'reloaded');
    const denied = await call('web');
    assert.equal(denied.status, 403, denied.text);
    assert.equal(denied.json.error.code, 'spiffe_id_denied');
  });
});

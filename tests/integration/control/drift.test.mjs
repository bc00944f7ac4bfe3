// Fleet drift made visible (issue 15, item 5): a gateway run from its own file reports what it runs with
// --report-to and shows as UNMANAGED, matching the policy while its file holds the policy's sections and DRIFTED
// once the file is edited (and reloaded); a node STALE for longer than --drift-after raises the control plane's
// drift gauges (the /metrics text passes `promtool check metrics`) and one log line; every node's build shows in
// /v1/fleet and `tollway control status`. Real processes on 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startMock, tempDir, metricValue, runTollway, postJson, sleep } from '../../lib/harness.mjs';
import { policyDir, startControl, startReportingGateway, eventually, sha256, BASE, MODELS, providers } from './control_harness.mjs';

const TOKENS = { 'gw-u': 'token-of-gw-u', 'gw-s': 'token-of-gw-s' };
const NODES = `nodes:
  gw-u:
    labels: {role: gateway, zone: u}
    token_sha256: ${sha256(TOKENS['gw-u'])}
  gw-s:
    labels: {role: gateway, zone: s}
    token_sha256: ${sha256(TOKENS['gw-s'])}
`;

// Both providers routed: a node's document holds only the providers its routes and models name (scoped
// documents), so a file matches it only when it names no other.
const MODELS_BOTH = `${MODELS}  - match: "alt-*"
    provider: alt
`;

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is required (scripts/install-deps.sh installs it): ${r.error.message}`);
  return r;
}

describe('fleet drift: UNMANAGED nodes, drift_after, build versions', () => {
  let mock; let policy; let cp; let gw; let configFile;
  const nodeOf = (fleet, id) => fleet.nodes.find((n) => n.id === id);
  const status = async () => {
    const r = await runTollway(['control', 'status', '--url', cp.url, '--admin-token-file', cp.tokenFile]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    mock = await startMock();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('models.yaml', MODELS_BOTH);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('nodes.yaml', NODES);
    // A poll timeout long enough that the STALE node below is not DISCONNECTED while it drifts.
    cp = await startControl({ policy: policy.dir, pollTimeout: '10s', driftAfter: '2s' });
    // The unmanaged node's own file: the policy's shared files, in name order, as they are (no header line).
    configFile = path.join(tempDir('tollway-unmanaged-'), 'gateway.yaml');
    fs.writeFileSync(configFile, BASE + MODELS_BOTH + providers(mock.url, mock.url));
    gw = await startReportingGateway({ config: configFile, reportTo: cp.url, node: 'gw-u', token: TOKENS['gw-u'] });
  });
  after(async () => {
    await gw?.stop();
    await cp?.stop();
    await mock?.close();
  });

  it('a gateway whose file holds the policy\'s sections is UNMANAGED and MATCHES; its build is shown', async () => {
    const f = await eventually(async () => {
      const x = await cp.fleet();
      return nodeOf(x, 'gw-u').state === 'UNMANAGED' && x;
    }, 15000, 'gw-u UNMANAGED');
    const n = nodeOf(f, 'gw-u');
    assert.equal(n.match, 'MATCHES');
    assert.equal(n.reported_version, n.desired_content_version);
    assert.equal(n.config_version, (await gw.config()).version, 'its resolved version, as its /config shows it');
    assert.match(f.build, /^\d+\.\d+\.\d+/);
    assert.equal(n.build, f.build, 'the same binary runs both');
    assert.ok(n.last_report);
    assert.equal(n.drifted, false);
    assert.match(await status(), new RegExp(`^gw-u +UNMANAGED MATCHES +${n.desired_content_version} +${n.reported_version} +${f.build.replace(/\./g, '\\.')} `, 'm'));
    assert.match(await status(), new RegExp(`^revision \\S+ \\(control plane build ${f.build.replace(/\./g, '\\.')}\\)`, 'm'));
    assert.equal(metricValue(await cp.metrics(), 'tollway_control_unmanaged_nodes', { match: 'MATCHES' }), 1);
    assert.equal(metricValue(await gw.metrics(), 'tollway_control_connected'), 1);
    assert.ok(metricValue(await gw.metrics(), 'tollway_control_reports_total', { result: 'ok' }) >= 1);
    assert.ok(gw.logs.some((o) => o.msg === 'reported to the control plane: the config matches the policy'));
  });

  it('the file edited (reloaded): DRIFTED, while the policy and the gateway\'s traffic stay as they are', async () => {
    const before = nodeOf(await cp.fleet(), 'gw-u');
    fs.writeFileSync(`${configFile}.tmp`, `${BASE}${MODELS}  - match: "mistral-*"\n    provider: openai\n${providers(mock.url, mock.url)}`);
    fs.renameSync(`${configFile}.tmp`, configFile);
    const f = await eventually(async () => {
      const x = await cp.fleet();
      return nodeOf(x, 'gw-u').match === 'DRIFTED' && x;
    }, 15000, 'gw-u DRIFTED');
    const n = nodeOf(f, 'gw-u');
    assert.equal(n.state, 'UNMANAGED');
    assert.notEqual(n.reported_version, before.reported_version);
    assert.equal(n.desired_content_version, before.desired_content_version);
    assert.equal(n.config_version, (await gw.config()).version);
    assert.match(await status(), /^gw-u +UNMANAGED DRIFTED /m);
    const m = await cp.metrics();
    assert.equal(metricValue(m, 'tollway_control_unmanaged_nodes', { match: 'DRIFTED' }), 1);
    assert.equal(metricValue(m, 'tollway_control_unmanaged_nodes', { match: 'MATCHES' }), 0);
    await gw.waitForLog((o) => o.msg === 'reported to the control plane: the config DRIFTED from the policy');
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`,
      { model: 'mistral-small', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] })).status, 200);
  });

  it('reports are checked: the node\'s own token, known fields, hex versions', async () => {
    const report = (body, token = TOKENS['gw-u']) => postJson(`${cp.url}/v1/report`, body, { authorization: `Bearer ${token}` });
    assert.equal((await report({ node: 'gw-u', version: 'abcdef012345' }, TOKENS['gw-s'])).status, 401);
    let r = await report({ node: 'gw-u', version: 'abcdef012345', extra: '1' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /unknown field "extra"/);
    r = await report({ node: 'gw-u', version: 'not hex!' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_version');
    r = await report({ node: 'gw-u', version: 'abcdef012345', build: 'a b' });
    assert.equal(r.json.error.code, 'invalid_build');
  });

  it('a node STALE longer than --drift-after raises the drift gauges and logs one line; its build shows', async () => {
    // gw-s takes its snapshot (saying its build) and never ACKs it: STALE.
    const r = await fetch(`${cp.url}/v1/snapshot?node=gw-s&have=&build=9.8.7-test`,
      { headers: { authorization: `Bearer ${TOKENS['gw-s']}` } });
    assert.equal(r.status, 200);
    const snap = await r.json();
    // The document the policy gives a node is its header line and the shared files: what gw-u's file held at first.
    assert.equal(snap.document.slice(snap.document.indexOf('\n') + 1), BASE + MODELS_BOTH + providers(mock.url, mock.url));
    assert.equal(nodeOf(await cp.fleet(), 'gw-s').state, 'STALE');
    assert.equal(metricValue(await cp.metrics(), 'tollway_control_nodes_drifted'), 0);
    const line = await cp.waitForLog((o) => o.msg === 'node drifted: STALE or in ERROR for longer than drift_after'
      && o.node === 'gw-s', 8000);
    assert.equal(line.state, 'STALE');
    assert.equal(line.drift_after_s, 2);
    assert.equal(line.desired_version, snap.version);
    const m = await cp.metrics();
    assert.equal(promtool(m).status, 0, promtool(m).stderr);
    assert.match(m, /^tollway_build_info\{version="[^"]+"\} 1$/m, 'the control plane names its build as every node does');
    assert.equal(metricValue(m, 'tollway_control_nodes_drifted'), 1);
    assert.equal(metricValue(m, 'tollway_control_node_drifted', { node: 'gw-s' }), 1);
    assert.equal(metricValue(m, 'tollway_control_node_drifted', { node: 'gw-u' }), 0);
    assert.equal(metricValue(m, 'tollway_control_nodes', { state: 'STALE' }), 1);
    assert.equal(metricValue(m, 'tollway_control_drift_after_seconds'), 2);
    const n = nodeOf(await cp.fleet(), 'gw-s');
    assert.equal(n.drifted, true);
    assert.equal(n.build, '9.8.7-test');
    assert.match(await status(), /^gw-s +STALE DRIFTED +[0-9a-f]{12} +- +9\.8\.7-test /m);
    await sleep(2500);
    assert.equal(cp.logs.filter((o) => o.msg.startsWith('node drifted') && o.node === 'gw-s').length, 1,
      'one line when it crosses, not one per check');
    // The ACK arrives: SYNCED, the gauge falls back and one line says so.
    const ack = await postJson(`${cp.url}/v1/ack`, { node: 'gw-s', version: snap.version, nonce: snap.nonce },
      { authorization: `Bearer ${TOKENS['gw-s']}` });
    assert.equal(ack.status, 200);
    await cp.waitForLog((o) => o.msg === 'node no longer drifted' && o.node === 'gw-s', 5000);
    assert.equal(metricValue(await cp.metrics(), 'tollway_control_nodes_drifted'), 0);
    assert.equal(nodeOf(await cp.fleet(), 'gw-s').state, 'SYNCED');
  });
});

// Helpers for the control-plane integration tests: a policy directory in a temp folder, `tollway control` and
// `tollway gateway --control` as real processes on 127.0.0.1 ephemeral ports (or a port given back after a
// restart), and polling until a condition holds. Every process started here is killed when the test process
// exits, pass or fail.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { TOLLWAY_BIN, tempDir, sleep, unusedPort } from '../../lib/harness.mjs';

const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

export const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

/** A policy directory: write(name, text) relative to it, remove(name). */
// The policy texts both control-plane tests start from: the shared base, two providers and a route, the models.
export const BASE = `version: 1
gateway:
  workers: 1
timeouts:
  upstream_connect: 1s
  upstream_total: 10s
  drain: 2s
`;
export const providers = (mockUrl, altUrl) => `providers:
  openai:
    api: openai
    base_url: ${mockUrl}
    api_key: sk-test-openai
  alt:
    api: openai
    base_url: ${altUrl}
    api_key: sk-test-alt
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
`;
export const MODELS = `models:
  - match: "gpt-*"
    provider: openai
`;
export function policyDir() {
  const dir = tempDir('tollway-policy-');
  return {
    dir,
    file: (name) => path.join(dir, name),
    write(name, text) {
      const f = path.join(dir, name);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(`${f}.tmp`, text);
      fs.renameSync(`${f}.tmp`, f);
    },
    remove(name) { fs.rmSync(path.join(dir, name), { recursive: true, force: true }); },
  };
}

/** Starts `tollway <args>` and waits for the log line `readyMsg`; returns {proc, logs, ready, waitForLog, stop}. */
async function startProcess(args, readyMsg, { timeoutMs = 15000 } = {}) {
  const proc = spawn(TOLLWAY_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const logs = [];
  const lines = [];
  const waiters = [];
  let exited = null;
  const exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => {
    exited = { code, signal }; children.delete(proc); resolve(exited);
  }));
  let partial = '';
  proc.stderr.on('data', (c) => {
    partial += c.toString('utf8');
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      let obj = null;
      try { obj = JSON.parse(line); } catch { /* not JSON */ }
      if (obj) logs.push(obj); else if (line.trim()) process.stderr.write(`[tollway stderr] ${line}\n`);
      for (const w of [...waiters]) if (obj && w.pred(obj)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(obj); }
    }
  });
  const waitForLog = (pred, ms = 10000) => {
    const hit = logs.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (v) => { clearTimeout(t); resolve(v); } };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for a log line; stderr:\n${lines.slice(-20).join('\n')}`));
      }, ms);
      waiters.push(w);
    });
  };
  const ready = await Promise.race([
    waitForLog((o) => o.msg === readyMsg, timeoutMs),
    exitPromise.then((e) => { throw new Error(`exited before ready (${JSON.stringify(e)}):\n${lines.join('\n')}`); }),
  ]);
  return {
    proc, logs, lines, ready, waitForLog, exitPromise,
    async stop(signal = 'SIGTERM') {
      if (exited) return exited;
      proc.kill(signal);
      const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, 8000);
      const r = await exitPromise;
      clearTimeout(t);
      return r;
    },
  };
}

/**
 * `tollway control` on `listen` (default an ephemeral port), on a policy directory (`policy`) or on etcd
 * (`etcd` URLs and `prefix`), with `extraArgs` after the others: {url, port, adminToken, stateDir, fleet(), metrics(),
 * stop()}.
 */
export async function startControl({ policy, etcd, prefix, stateDir, listen = '127.0.0.1:0', pollTimeout = '2s',
  adminToken = 'admin-secret', driftAfter, extraArgs = [] }) {
  const dir = tempDir('tollway-control-');
  const tokenFile = path.join(dir, 'admin.token');
  fs.writeFileSync(tokenFile, `${adminToken}\n`);
  const state = stateDir ?? path.join(dir, 'state');
  const store = policy ? ['--policy', policy] : ['--etcd', etcd, '--prefix', prefix];
  const p = await startProcess(['control', ...store, '--listen', listen, '--admin-token-file', tokenFile,
    '--state-dir', state, '--poll-timeout', pollTimeout, ...(driftAfter ? ['--drift-after', driftAfter] : []),
    ...extraArgs],
  'control plane ready');
  const port = Number(String(p.ready.listen).split(':').pop());
  const url = `${p.ready.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    ...p, port, url, tokenFile, stateDir: state, adminToken,
    async fleet() {
      const r = await fetch(`${url}/v1/fleet`, { headers: { authorization: `Bearer ${adminToken}` } });
      return r.json();
    },
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
  };
}

/** `--token-file FILE` holding `token` (written to a new temporary directory), or nothing when `token` is null. */
function tokenFileArgs(token) {
  if (token == null) return [];
  const tokenFile = path.join(tempDir('tollway-node-'), 'node.token');
  fs.writeFileSync(tokenFile, token);
  return ['--token-file', tokenFile];
}

/** `tollway gateway --config FILE --report-to URLS --node ID [extraArgs]` (unmanaged): {url, adminUrl, config(), metrics(), stop()}. */
export async function startReportingGateway({ config, reportTo, node, token, extraArgs = [] }) {
  const p = await startProcess(['gateway', '--config', config, '--report-to', reportTo, '--node', node,
    ...tokenFileArgs(token), '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1', ...extraArgs],
  'gateway ready');
  const port = Number(String(p.ready.listen).split(':').pop());
  const adminUrl = `http://127.0.0.1:${Number(String(p.ready.admin).split(':').pop())}`;
  return {
    ...p, url: `http://127.0.0.1:${port}`, adminUrl,
    config: async () => (await fetch(`${adminUrl}/config`)).json(),
    metrics: async () => (await fetch(`${adminUrl}/metrics`)).text(),
  };
}

/**
 * `tollway gateway --control URLS --node ID [--token-file] [extraArgs]` (no --token-file when `token` is null: a
 * node with --identity-dir): {url, adminUrl, stateDir, config(), metrics(), stop()}.
 */
export async function startManagedGateway({ control, node, token, stateDir, extraArgs = [], timeoutMs }) {
  const p = await startProcess(['gateway', '--control', control, '--node', node, ...tokenFileArgs(token),
    '--state-dir', stateDir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1', ...extraArgs],
  'gateway ready', { timeoutMs });
  const port = Number(String(p.ready.listen).split(':').pop());
  const adminPort = Number(String(p.ready.admin).split(':').pop());
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  return {
    ...p, url: `http://127.0.0.1:${port}`, adminUrl, stateDir,
    config: async () => (await fetch(`${adminUrl}/config`)).json(),
    metrics: async () => (await fetch(`${adminUrl}/metrics`)).text(),
  };
}

/**
 * `tollway sidecar --control URLS --node ID --state-dir DIR [--token-file] [extraArgs]`: {listeners {outbound, inbound} (ports),
 * adminUrl, stateDir, config(), metrics(), stop()}.
 */
export async function startManagedSidecar({ control, node, token, stateDir, extraArgs = [], timeoutMs }) {
  const p = await startProcess(['sidecar', '--control', control, '--node', node, ...tokenFileArgs(token),
    '--state-dir', stateDir, '--admin', '127.0.0.1:0', ...extraArgs], 'sidecar ready', { timeoutMs });
  const port = (address) => Number(String(address).split(':').pop());
  const adminUrl = `http://127.0.0.1:${port(p.ready.admin)}`;
  return {
    ...p, adminUrl, stateDir,
    listeners: { outbound: port(p.ready.listeners.outbound), inbound: port(p.ready.listeners.inbound) },
    config: async () => (await fetch(`${adminUrl}/config`)).json(),
    metrics: async () => (await fetch(`${adminUrl}/metrics`)).text(),
  };
}

/**
 * One HTTPS request verified against `ca` (PEM), with an optional client `cert`/`key` (PEM) and `headers`:
 * {status, json, text, peerCertificate}. With `spiffeId` the server is checked by that SPIFFE ID (its only URI
 * SAN), as SPIFFE peers are, instead of by host name.
 */
export function httpsJson(url, { method = 'GET', body, ca, cert, key, headers = {}, spiffeId } = {}) {
  const options = { method, ca, cert, key, headers, agent: false };
  if (spiffeId) {
    options.checkServerIdentity = (host, peer) => (peer.subjectaltname === `URI:${spiffeId}` ? undefined
      : new Error(`the server is ${peer.subjectaltname}, not ${spiffeId}`));
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, options, (res) => {
      const peerCertificate = res.socket.getPeerCertificate();
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, json, text, peerCertificate });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

/** Polls `fn` until it returns a truthy value (returned) or `ms` pass (throws with the last value seen). */
export async function eventually(fn, ms = 15000, what = 'a condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.stack : JSON.stringify(last)}`);
}

/**
 * A one-member etcd (the `etcd` binary of Debian's etcd-server) on 127.0.0.1 ports found free, with its data in a
 * temp dir: {url, dataDir, kv(path, body) (POST to its v3 JSON gateway), stop(), start() (again, same ports and
 * data)}; with `tls` it serves HTTPS only and requires client certificates. Killed when the test process exits.
 */
export async function startEtcd({ tls } = {}) {
  const dataDir = tempDir('tollway-etcd-');
  const clientPort = await unusedPort();
  const peerPort = await unusedPort();
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcd = { url, dataDir, proc: null };
  etcd.kv = async (what, body) => {
    if (tls) {
      const r = await httpsJson(`${url}/v3/kv/${what}`, { method: 'POST', body, ca: tls.ca, cert: tls.clientCert,
        key: tls.clientKey });
      return r.json;
    }
    const r = await fetch(`${url}/v3/kv/${what}`, { method: 'POST', body: JSON.stringify(body) });
    return r.json();
  };
  // With `tls` ({certFile, keyFile, caFile, ca, clientCert, clientKey}): HTTPS only, client certificates required.
  const tlsArgs = tls ? ['--cert-file', tls.certFile, '--key-file', tls.keyFile, '--client-cert-auth',
    '--trusted-ca-file', tls.caFile] : [];
  etcd.start = async () => {
    const proc = spawn('etcd', ['--name', 'tollway-test', '--data-dir', path.join(dataDir, 'data'),
      '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer, '--initial-cluster', `tollway-test=${peer}`, '--logger', 'zap', '--log-level', 'error',
      ...tlsArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    const errors = [];
    proc.stderr.on('data', (c) => errors.push(c.toString('utf8')));
    proc.on('error', (e) => errors.push(`etcd is required (scripts/install-deps.sh installs etcd-server): ${e.message}`));
    children.add(proc);
    proc.on('exit', () => children.delete(proc));
    etcd.proc = proc;
    await eventually(async () => proc.exitCode === null && (await etcd.kv('range', { key: 'AA==' })).header, 15000,
      `etcd on ${url} (${errors.join('')})`);
  };
  etcd.stop = async () => {
    const proc = etcd.proc;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise((r) => proc.on('exit', r));
    proc.kill('SIGKILL');
    await gone;
  };
  await etcd.start();
  return etcd;
}

export const base64 = (text) => Buffer.from(text, 'utf8').toString('base64');

/**
 * A `size`-member etcd cluster on 127.0.0.1 ports found free (each member's data in its own temp dir):
 * {urls (client URLs, in member order), url (all of them, comma-separated), members [{name, url, proc, stop()}],
 * kv(path, body) (to the first member still running), stop()}. Killed when the test process exits.
 */
export async function startEtcdCluster(size = 3) {
  const token = `tollway-test-${process.pid}-${Date.now()}`;
  const members = [];
  for (let i = 0; i < size; i += 1) {
    const clientPort = await unusedPort();
    const peerPort = await unusedPort();
    members.push({ name: `m${i}`, url: `http://127.0.0.1:${clientPort}`, peer: `http://127.0.0.1:${peerPort}`,
      dataDir: tempDir('tollway-etcd-'), proc: null, errors: [] });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const running = () => members.filter((m) => m.proc && m.proc.exitCode === null && m.proc.signalCode === null);
  const cluster = { members, urls: members.map((m) => m.url), url: members.map((m) => m.url).join(',') };
  cluster.kv = async (what, body) => {
    const r = await fetch(`${running()[0].url}/v3/kv/${what}`, { method: 'POST', body: JSON.stringify(body) });
    return r.json();
  };
  for (const m of members) {
    const proc = spawn('etcd', ['--name', m.name, '--data-dir', path.join(m.dataDir, 'data'),
      '--listen-client-urls', m.url, '--advertise-client-urls', m.url, '--listen-peer-urls', m.peer,
      '--initial-advertise-peer-urls', m.peer, '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
      '--initial-cluster-token', token, '--heartbeat-interval', '50', '--election-timeout', '500',
      '--logger', 'zap', '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr.on('data', (c) => m.errors.push(c.toString('utf8')));
    proc.on('error', (e) => m.errors.push(`etcd is required (scripts/install-deps.sh installs etcd-server): ${e.message}`));
    children.add(proc);
    proc.on('exit', () => children.delete(proc));
    m.proc = proc;
    m.stop = async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.on('exit', r));
      proc.kill('SIGKILL');
      await gone;
    };
  }
  // Ready when every member answers a range (which needs a leader).
  for (const m of members) {
    await eventually(async () => {
      const r = await fetch(`${m.url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==' }) });
      return r.ok && (await r.json()).header;
    }, 20000, `etcd member ${m.name} on ${m.url} (${m.errors.join('')})`);
  }
  cluster.stop = async () => { for (const m of members) await m.stop(); };
  return cluster;
}

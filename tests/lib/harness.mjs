// Test harness for tollway's integration and e2e suites: starts the mock provider and the gateway binary on
// 127.0.0.1 ephemeral ports, writes temp configs, makes throwaway CAs with the openssl CLI, and speaks raw
// bytes to a socket. Every child process it starts is killed when the test process exits, pass or fail.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startMockProvider } from '../mock/provider.mjs';

export const SOURCE_DIR = process.env.TOLLWAY_SOURCE_DIR
  ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOLLWAY_BIN = process.env.TOLLWAY_BIN ?? path.join(SOURCE_DIR, 'build', 'release', 'tollway');

const children = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  for (const d of tempDirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* gone */ } }
});

// The binary under test is built with ASan+UBSan: its memory and CPU are the sanitizers', not tollway's.
export const SANITIZED = process.env.TOLLWAY_SANITIZED === '1';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function tempDir(prefix = 'tollway-test-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}
export function removeTempDir(d) {
  fs.rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

export function gatewayAvailable() {
  try { fs.accessSync(TOLLWAY_BIN, fs.constants.X_OK); return true; } catch { return false; }
}

/** Starts the mock provider (see tests/mock/provider.mjs). */
export async function startMock(opts = {}) {
  return startMockProvider(opts);
}

// ---- YAML ----------------------------------------------------------------------------------------------
function yamlScalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(String(v)); // a JSON string is a valid YAML double-quoted scalar
}

/** Serializes plain objects/arrays/scalars to block YAML (enough for gateway configs). */
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value.map((item) => {
      if (item && typeof item === 'object' && !Array.isArray(item)) {
        const inner = toYaml(item, indent + 2);
        return `${pad}- ${inner.slice(indent + 2)}`;
      }
      if (Array.isArray(item)) return `${pad}-\n${toYaml(item, indent + 2)}`;
      return `${pad}- ${yamlScalar(item)}\n`;
    }).join('');
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) return `${pad}{}\n`;
    return keys.map((k) => {
      const v = value[k];
      if (Array.isArray(v)) return v.length ? `${pad}${k}:\n${toYaml(v, indent + 2)}` : `${pad}${k}: []\n`;
      if (v && typeof v === 'object') return Object.keys(v).length ? `${pad}${k}:\n${toYaml(v, indent + 2)}` : `${pad}${k}: {}\n`;
      return `${pad}${k}: ${yamlScalar(v)}\n`;
    }).join('');
  }
  return `${pad}${yamlScalar(value)}\n`;
}

/**
 * A gateway config for tests: OpenAI and Anthropic providers pointing at `openaiUrl` / `anthropicUrl`
 * (usually the same mock), literal test keys, the usual routes, short timeouts. `over` is merged on top
 * (top-level keys replaced; `providers`, `timeouts`, `limits`, `gateway` merged one level deep; a provider set
 * to null is removed).
 */
export function testConfig({ openaiUrl, anthropicUrl, over = {} } = {}) {
  const cfg = {
    version: 1, // schema version; the config's own version is a hash of the file's bytes
    gateway: { listen: '127.0.0.1:0', admin: '127.0.0.1:0', workers: 1 },
    limits: { max_request_line: '8KiB', max_header_block: '64KiB', max_body: '1MiB' },
    timeouts: { header_read: '2s', body_read: '2s', idle: '5s', upstream_connect: '1s', upstream_first_byte: '2s',
      upstream_total: '20s', drain: '5s' },
    providers: {
      openai: { api: 'openai', base_url: openaiUrl, api_key: 'sk-test-openai' },
      anthropic: { api: 'anthropic', base_url: anthropicUrl ?? openaiUrl, api_key: 'sk-ant-test-anthropic',
        anthropic_version: '2023-06-01' },
    },
    models: [
      { match: 'gpt-*', provider: 'openai' },
      { match: 'o[0-9]*', provider: 'openai' },
      { match: 'text-embedding-*', provider: 'openai' },
      { match: 'claude-*', provider: 'anthropic' },
    ],
    routes: [
      { path: '/v1/chat/completions', api: 'openai', provider: 'openai' },
      { path: '/v1/responses', api: 'openai', provider: 'openai' },
      { prefix: '/v1/responses/', api: 'openai', provider: 'openai' },
      { path: '/v1/embeddings', api: 'openai', provider: 'openai' },
      { path: '/v1/models', api: 'openai', provider: 'openai' },
      { prefix: '/v1/models/', api: 'openai', provider: 'openai' },
      { path: '/v1/messages', api: 'anthropic', provider: 'anthropic' },
      { path: '/v1/messages/count_tokens', api: 'anthropic', provider: 'anthropic' },
    ],
  };
  for (const [k, v] of Object.entries(over)) {
    if (['providers', 'timeouts', 'limits', 'gateway'].includes(k) && v && typeof v === 'object' && !Array.isArray(v)) {
      cfg[k] = { ...cfg[k], ...v };
      if (k === 'providers') for (const [p, pv] of Object.entries(v)) cfg.providers[p] = pv === null ? undefined : { ...(cfg.providers[p] ?? {}), ...pv };
    } else {
      cfg[k] = v;
    }
  }
  return cfg;
}

// ---- gateway process ------------------------------------------------------------------------------------
/**
 * Starts `tollway gateway` on ephemeral ports. Options: configYaml (string) or config (object), env (extra
 * environment), workers, args (extra CLI args), readyTimeoutMs. Returns {url, port, adminUrl, adminPort,
 * proc, stderrLines, logs (parsed JSON lines), configPath, dir, ready, writeConfig(yamlOrObj), stop(signal)}.
 */
export async function startGateway(opts = {}) {
  const dir = tempDir('tollway-gw-');
  const configPath = path.join(dir, 'gateway.yaml');
  const text = opts.configYaml ?? toYaml(opts.config ?? testConfig(opts.configOpts ?? {}));
  fs.writeFileSync(configPath, text);
  // opts.listen: the API listener (default 127.0.0.1:0; e.g. '[::]:0' for a dual-stack one). gw.url stays IPv4.
  // opts.argv(configPath): the whole command line instead (another role; opts.readyMsg names its ready line).
  const args = opts.argv ? opts.argv(configPath) : ['gateway', '--config', configPath, '--listen', opts.listen ?? '127.0.0.1:0',
    '--admin', '127.0.0.1:0', '--workers', String(opts.workers ?? 1), ...(opts.args ?? [])];
  const proc = spawn(TOLLWAY_BIN, args, { env: { ...process.env, ...(opts.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  const stderrLines = [];
  const logs = [];
  const stdoutChunks = [];
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { exited = { code, signal }; children.delete(proc); resolve(exited); });
    proc.on('error', (err) => { exited = { code: null, signal: null, error: `${err.code ?? err.message} (${TOLLWAY_BIN})` }; children.delete(proc); resolve(exited); });
  });
  proc.stdout.on('data', (c) => stdoutChunks.push(c));
  let partial = '';
  const lineWaiters = [];
  proc.stderr.on('data', (c) => {
    partial += c.toString('utf8');
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      stderrLines.push(line);
      let obj = null;
      try { obj = JSON.parse(line); } catch { /* non-JSON line */ }
      if (obj) logs.push(obj);
      // tollway logs JSON only: anything else (a sanitizer report, a crash) goes to the test output.
      else if (line.trim()) process.stderr.write(`[tollway stderr] ${line}\n`);
      for (const w of [...lineWaiters]) if (w.pred(obj, line)) { lineWaiters.splice(lineWaiters.indexOf(w), 1); w.resolve(obj ?? line); }
    }
  });
  const waitForLog = (pred, timeoutMs = 5000) => {
    const hit = logs.find((o) => pred(o, JSON.stringify(o)));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (v) => { clearTimeout(t); resolve(v); } };
      const t = setTimeout(() => {
        lineWaiters.splice(lineWaiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for a log line; stderr:\n${stderrLines.slice(-30).join('\n')}`));
      }, timeoutMs);
      lineWaiters.push(w);
    });
  };

  const gw = {
    proc, dir, configPath, stderrLines, logs, exitPromise, waitForLog,
    get exited() { return exited; },
    stdout: () => Buffer.concat(stdoutChunks).toString('utf8'),
    writeConfig(cfg) {
      const t = typeof cfg === 'string' ? cfg : toYaml(cfg);
      const tmp = configPath + '.tmp';
      fs.writeFileSync(tmp, t);
      fs.renameSync(tmp, configPath);
    },
    /** Sends `signal` (default SIGTERM), waits for exit (SIGKILL after timeoutMs), returns {code, signal}. */
    async stop(signal = 'SIGTERM', timeoutMs = 8000) {
      if (exited) { removeTempDir(dir); return exited; }
      try { proc.kill(signal); } catch { /* gone */ }
      const timer = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, timeoutMs);
      const r = await exitPromise;
      clearTimeout(timer);
      removeTempDir(dir);
      return r;
    },
  };

  const ready = await Promise.race([
    waitForLog((o) => o && o.msg === (opts.readyMsg ?? 'gateway ready'), opts.readyTimeoutMs ?? 10000),
    exitPromise.then((e) => { throw new Error(`tollway exited before ready (${JSON.stringify(e)}); stderr:\n${stderrLines.join('\n')}`); }),
  ]).catch(async (err) => { await gw.stop('SIGKILL'); throw err; });
  gw.ready = ready;
  gw.port = Number(String(ready.listen).split(':').pop());
  gw.adminPort = Number(String(ready.admin).split(':').pop());
  gw.url = `http://127.0.0.1:${gw.port}`;
  gw.adminUrl = `http://127.0.0.1:${gw.adminPort}`;
  return gw;
}

/** Runs `tollway <args>` to completion: {code, stdout, stderr}. */
/** A sidecar (`tollway sidecar --config`) from `document` (an object, written as YAML), admin on a free port; the
 * startGateway handle, ready once it logs "sidecar ready". */
export function startSidecar(document) {
  return startGateway({
    configYaml: toYaml(document),
    argv: (configPath) => ['sidecar', '--config', configPath, '--admin', '127.0.0.1:0'],
    readyMsg: 'sidecar ready',
  });
}

export function runTollway(args, { env, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(TOLLWAY_BIN, args, { env: { ...process.env, ...(env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    const out = []; const err = [];
    p.stdout.on('data', (c) => out.push(c));
    p.stderr.on('data', (c) => err.push(c));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(t); children.delete(p);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// ---- TLS ------------------------------------------------------------------------------------------------
/** A throwaway CA and a server certificate for 127.0.0.1 (SAN IP:127.0.0.1, DNS:localhost), via openssl. */
export function makeCA({ name = 'tollway-test-ca' } = {}) {
  const dir = tempDir('tollway-ca-');
  const f = (n) => path.join(dir, n);
  const ossl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'),
    '-out', f('ca.pem'), '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('server.key'),
    '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n'
    + 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf'));
  return {
    dir, caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key'),
    ca: fs.readFileSync(f('ca.pem'), 'utf8'), cert: fs.readFileSync(f('server.pem'), 'utf8'),
    key: fs.readFileSync(f('server.key'), 'utf8'),
    /** A client certificate (CN=`cn`, extendedKeyUsage clientAuth) signed by this CA: {certFile, keyFile}. */
    clientCert(cn) {
      ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${cn}.key`),
        '-out', f(`${cn}.csr`), '-subj', `/CN=${cn}`);
      fs.writeFileSync(f(`${cn}.cnf`), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
      ossl('x509', '-req', '-in', f(`${cn}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
        '-out', f(`${cn}.pem`), '-days', '2', '-extfile', f(`${cn}.cnf`));
      return { certFile: f(`${cn}.pem`), keyFile: f(`${cn}.key`) };
    },
    /** An X.509-SVID for `spiffeId` (its only SAN; server and client auth) signed by this CA: {certFile, keyFile}. */
    svid(name, spiffeId) {
      ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`),
        '-out', f(`${name}.csr`), '-subj', `/O=SPIFFE`);
      fs.writeFileSync(f(`${name}.cnf`), `subjectAltName=URI:${spiffeId}\nbasicConstraints=critical,CA:FALSE\n`
        + 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n');
      ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
        '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.cnf`));
      return { certFile: f(`${name}.pem`), keyFile: f(`${name}.key`) };
    },
    cleanup: () => removeTempDir(dir),
  };
}

/**
 * Issues NAME.pem / NAME.key (a client certificate) signed by `ca` ({dir} holding ca.pem and ca.key, as makeCA
 * makes) with the given subjectAltName ('' for none); `dates` = {start, end} (YYYYMMDDHHMMSSZ) signs it with
 * `openssl ca`, which sets any validity period. Returns {cert, key} (Buffers).
 */
export function issueCertificate(ca, name, san, dates = null) {
  const f = (n) => path.join(ca.dir, n);
  const ossl = (...a) => execFileSync('openssl', a, { cwd: ca.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`),
    '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
  fs.writeFileSync(f(`${name}.cnf`), `${san ? `subjectAltName=${san}\n` : ''}basicConstraints=CA:FALSE\n`
    + 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  if (dates) {
    fs.writeFileSync(f('signing.cnf'), '[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\n'
      + 'default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n');
    if (!fs.existsSync(f('index.txt'))) { fs.writeFileSync(f('index.txt'), ''); fs.writeFileSync(f('serial'), '1000\n'); }
    ossl('ca', '-batch', '-config', f('signing.cnf'), '-cert', f('ca.pem'), '-keyfile', f('ca.key'), '-in',
      f(`${name}.csr`), '-out', f(`${name}.pem`), '-startdate', dates.start, '-enddate', dates.end, '-extfile',
      f(`${name}.cnf`), '-notext');
  } else {
    ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.cnf`));
  }
  return { cert: fs.readFileSync(f(`${name}.pem`)), key: fs.readFileSync(f(`${name}.key`)) };
}

// ---- raw sockets ----------------------------------------------------------------------------------------
/**
 * Writes `bytes` (string or Buffer, or an array of them written with `gapMs` between) to 127.0.0.1:port and
 * collects the reply until the server closes, `timeoutMs` passes, or (untilResponses: n) n complete responses
 * arrived. Returns {response: Buffer, text, closed, timedOut, responses (parsed), error}.
 */
export function rawRequest(port, bytes, { timeoutMs = 2000, untilResponses = 0, gapMs = 0, host = '127.0.0.1', endWrite = false } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const chunks = [];
    let closed = false; let timedOut = false; let error = null; let done = false;
    const finish = () => {
      if (done) return; done = true;
      clearTimeout(timer);
      const response = Buffer.concat(chunks);
      const { responses } = parseResponses(response);
      sock.destroy();
      resolve({ response, text: response.toString('latin1'), closed, timedOut, responses, error });
    };
    const timer = setTimeout(() => { timedOut = true; finish(); }, timeoutMs);
    sock.on('data', (c) => {
      chunks.push(c);
      if (untilResponses && parseResponses(Buffer.concat(chunks)).responses.length >= untilResponses) finish();
    });
    sock.on('end', () => { closed = true; finish(); });
    sock.on('close', () => { closed = true; finish(); });
    sock.on('error', (e) => { error = e; closed = true; finish(); });
    sock.on('connect', async () => {
      const parts = Array.isArray(bytes) ? bytes : [bytes];
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && gapMs) await sleep(gapMs);
        if (sock.destroyed) return;
        sock.write(typeof parts[i] === 'string' ? Buffer.from(parts[i], 'latin1') : parts[i]);
      }
      if (endWrite) sock.end();
    });
  });
}

/**
 * Parses consecutive HTTP/1.1 responses from a buffer (Content-Length, chunked, or no body for 1xx/204/304).
 * Returns {responses: [{status, reason, headers (lowercase, last wins), headerList, body: Buffer}], rest}.
 * A response without a length is taken to run to the end of the buffer.
 */
export function parseResponses(buf) {
  const responses = [];
  let off = 0;
  while (off < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', off);
    if (headEnd < 0) break;
    const head = buf.subarray(off, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(head[0]);
    if (!m) break;
    const status = Number(m[2]);
    const headers = {}; const headerList = [];
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const k = line.slice(0, i).trim().toLowerCase(); const v = line.slice(i + 1).trim();
      headerList.push([k, v]);
      headers[k] = headers[k] !== undefined && k !== 'set-cookie' ? `${headers[k]}, ${v}` : v;
    }
    let p = headEnd + 4;
    let body = Buffer.alloc(0);
    let complete = true;
    if (status < 200 || status === 204 || status === 304) {
      // no body
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts = [];
      complete = false;
      while (true) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1').split(';')[0], 16);
        if (Number.isNaN(size)) break;
        p = le + 2;
        if (size === 0) {
          const te = buf.indexOf('\r\n\r\n', p - 2);
          if (te < 0) break;
          p = te + 4; complete = true; break;
        }
        if (p + size + 2 > buf.length) break;
        parts.push(buf.subarray(p, p + size));
        p += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (p + n > buf.length) { complete = false; body = buf.subarray(p); p = buf.length; } else { body = buf.subarray(p, p + n); p += n; }
    } else {
      body = buf.subarray(p); p = buf.length;
    }
    if (!complete) break;
    responses.push({ status, reason: m[3] ?? '', version: m[1], headers, headerList, body, text: body.toString('utf8') });
    off = p;
  }
  return { responses, rest: buf.subarray(off) };
}

/** fetch() with a JSON body; returns {status, headers, text, json}. */
export async function postJson(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let json; try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

/** Parses an SSE body into [{event, data}] (data lines joined with \n). */
export function parseSse(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    let event = null; const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    out.push({ event, data: data.join('\n') });
  }
  return out;
}

/** Fetches an admin URL; {status, text, json}. */
export async function getText(url) {
  const r = await fetch(url);
  const text = await r.text();
  let json; try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

/** Value of one Prometheus sample (name + exact label set as written, e.g. '{result="failure"}'), or 0. */
export function metricValue(metricsText, name, labels = null) {
  let total = 0; let found = false;
  for (const line of metricsText.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labels) {
      const want = Object.entries(labels);
      const have = m[2] ?? '';
      if (!want.every(([k, v]) => have.includes(`${k}="${v}"`))) continue;
    }
    total += Number(m[3]); found = true;
  }
  return found ? total : 0;
}

/** Polls `fn` until it returns truthy or timeoutMs passes; returns the last value. */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 50 } = {}) {
  const end = Date.now() + timeoutMs;
  let v;
  while (Date.now() < end) {
    v = await fn();
    if (v) return v;
    await sleep(intervalMs);
  }
  return v;
}

// ---- error envelopes --------------------------------------------------------------------------------------
/** Asserts an OpenAI error envelope {"error":{"message","type","param","code"}}; returns the inner error. */
export function assertOpenAIError(json, { type, code } = {}) {
  if (!json || typeof json !== 'object' || !json.error || typeof json.error !== 'object') {
    throw new Error(`not an OpenAI error envelope: ${JSON.stringify(json)}`);
  }
  const e = json.error;
  const keys = Object.keys(e).sort().join(',');
  if (keys !== 'code,message,param,type') throw new Error(`OpenAI error keys are ${keys}: ${JSON.stringify(json)}`);
  if (typeof e.message !== 'string' || !e.message) throw new Error(`OpenAI error without message: ${JSON.stringify(json)}`);
  if (typeof e.type !== 'string' || !e.type) throw new Error(`OpenAI error without type: ${JSON.stringify(json)}`);
  if (type && e.type !== type) throw new Error(`OpenAI error type ${e.type}, expected ${type}`);
  if (code && e.code !== code) throw new Error(`OpenAI error code ${e.code}, expected ${code}`);
  return e;
}

/** Asserts an Anthropic error envelope {"type":"error","error":{"type","message"}}; returns the inner error. */
export function assertAnthropicError(json, { type } = {}) {
  if (!json || json.type !== 'error' || !json.error || typeof json.error !== 'object') {
    throw new Error(`not an Anthropic error envelope: ${JSON.stringify(json)}`);
  }
  if (typeof json.error.message !== 'string' || !json.error.message) throw new Error(`no message: ${JSON.stringify(json)}`);
  if (typeof json.error.type !== 'string' || !json.error.type) throw new Error(`no type: ${JSON.stringify(json)}`);
  if (type && json.error.type !== type) throw new Error(`Anthropic error type ${json.error.type}, expected ${type}`);
  return json.error;
}

/** A 127.0.0.1 port with nothing listening on it (bound, then released). */
export async function unusedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** A minimal raw HTTP/1.1 request: method, target, headers object, body string/Buffer (adds Content-Length). */
export function httpBytes(method, target, headers = {}, body = null) {
  const lines = [`${method} ${target} HTTP/1.1`];
  const h = { host: '127.0.0.1', ...headers };
  if (body !== null && body !== undefined && !Object.keys(h).some((k) => /^(content-length|transfer-encoding)$/i.test(k))) {
    h['content-length'] = Buffer.byteLength(body);
  }
  for (const [k, v] of Object.entries(h)) {
    if (Array.isArray(v)) for (const x of v) lines.push(`${k}: ${x}`);
    else lines.push(`${k}: ${v}`);
  }
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body === null || body === undefined ? head : Buffer.concat([head, Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

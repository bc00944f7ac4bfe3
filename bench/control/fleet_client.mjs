// The bench client of bench/control: N simulated proxies against a real `tollway control`, and N watchers on a
// real etcd, in one Node process on plain sockets (hand-written HTTP/1.1: a poll is one small write and one read,
// so the client does little more per event than the servers do, and says how much CPU it used).
// - Control plane: each simulated node holds one keep-alive connection on which it long-polls
//   GET /v1/snapshot?node=ID&have=VERSION with its bootstrap token and, on a new document, POSTs /v1/ack
//   {node, version, nonce} and polls again with the new version. A round rewrites one policy file (write + rename),
//   then waits for every node to ACK a new version; per node: publish -> document received and publish -> ACK
//   answered, where "publish" is both the file's rename (end to end: the control plane's 500 ms directory poll,
//   the whole policy's check, the history) and the control plane's own `policy published` log line (fan-out only).
// - etcd: N watchers, each its own connection streaming POST /v3/watch (the v3 JSON gateway) on one key; a round
//   puts the key and measures put sent -> each watcher's event.
// - Memory: the control plane's VmRSS with no poll and with N polls waiting (and etcd's with 0 and N watchers);
//   CPU: utime+stime of the control plane (etcd) over each round, from /proc/PID/stat.
// It never measures what it did not wait for: a round ends only when every node (watcher) has reported.
// Usage: node fleet_client.mjs CONFIG.json  -> results JSON on stdout. CONFIG: {control, nodes: [{id, token}],
//        policyDir, policyFile, cpLog, cpPid, etcd, etcdPid, reps, settleMs}
import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const now = () => performance.timeOrigin + performance.now();  // epoch ms, sub-ms resolution
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICKS = 100;  // USER_HZ

function cpuMs(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;  // utime, stime
}
function rssKb(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(m[1]);
}
function pct(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s[s.length - 1] };
}

// One HTTP/1.1 connection: request(text) resolves with {status, body} of a Content-Length response; or, for a
// streaming chunked response, onChunk(data) is called per chunk.
class Connection {
  constructor(host, port) {
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    this.pending = null;
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d) => { this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d; this.parse(); });
    this.socket.on('error', (e) => { if (this.pending) this.pending.reject(e); });
    this.socket.on('close', () => { if (this.pending) this.pending.reject(new Error('connection closed')); });
  }
  request(text, onChunk = null) {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, onChunk, head: null };
      this.socket.write(text);
    });
  }
  parse() {
    const p = this.pending;
    if (!p) return;
    if (!p.head) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      this.buf = this.buf.subarray(end + 4);
      const status = Number(head.slice(9, 12));
      const length = head.match(/\r\ncontent-length:\s*(\d+)/i);
      p.head = { status, length: length ? Number(length[1]) : null, chunked: /\r\ntransfer-encoding:\s*chunked/i.test(head) };
      if (p.head.length === null && !p.head.chunked) { p.reject(new Error(`no framing: ${head}`)); return; }
    }
    if (p.head.chunked) {
      for (;;) {
        const line = this.buf.indexOf('\r\n');
        if (line < 0) return;
        const size = parseInt(this.buf.subarray(0, line).toString('latin1'), 16);
        if (this.buf.length < line + 2 + size + 2) return;
        const data = this.buf.subarray(line + 2, line + 2 + size);
        this.buf = this.buf.subarray(line + 2 + size + 2);
        if (size === 0) { this.pending = null; p.resolve({ status: p.head.status }); return; }
        p.onChunk(data);
      }
    }
    if (this.buf.length < p.head.length) return;
    const body = this.buf.subarray(0, p.head.length).toString('utf8');
    this.buf = this.buf.subarray(p.head.length);
    this.pending = null;
    p.resolve({ status: p.head.status, body });
  }
}

const target = (url) => { const u = new URL(url); return { host: u.hostname, port: Number(u.port) }; };

// ---- control plane --------------------------------------------------------------------------------------------------
async function controlPlane() {
  const { host, port } = target(cfg.control);
  const rss0 = rssKb(cfg.cpPid);
  let round = null;  // {start, received: Map, acked: Map}
  let failures = 0;
  const nodes = cfg.nodes.map((n) => ({ ...n, version: '', conn: new Connection(host, port) }));
  await Promise.all(nodes.map((n) => n.conn.ready));
  const initial = { acked: new Map(), received: new Map() };
  round = initial;
  const loop = async (n) => {
    for (;;) {
      let r;
      try {
        r = await n.conn.request(`GET /v1/snapshot?node=${n.id}&have=${n.version} HTTP/1.1\r\nHost: ${host}\r\n`
          + `Authorization: Bearer ${n.token}\r\n\r\n`);
      } catch (e) {
        if (stopping) return;
        throw e;
      }
      if (r.status === 304) continue;
      if (r.status !== 200) { failures++; throw new Error(`${n.id}: snapshot ${r.status} ${r.body}`); }
      const t = now();
      // The answer starts {"version":"…","revision":"…","nonce":"…": read those two, not the whole document.
      const snap = { version: /"version":"([0-9a-f]+)"/.exec(r.body)?.[1], nonce: /"nonce":"([^"]+)"/.exec(r.body)?.[1] };
      if (!snap.version || !snap.nonce) throw new Error(`${n.id}: no version or nonce in ${r.body.slice(0, 200)}`);
      const current = round;
      current.received.set(n.id, t);
      const body = JSON.stringify({ node: n.id, version: snap.version, nonce: snap.nonce });
      const a = await n.conn.request(`POST /v1/ack HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${n.token}\r\n`
        + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      if (a.status !== 200) { failures++; throw new Error(`${n.id}: ack ${a.status} ${a.body}`); }
      current.acked.set(n.id, now());
      n.version = snap.version;
      if (current.acked.size === nodes.length && current.done) current.done();
    }
  };
  let stopping = false;
  const loops = nodes.map((n) => loop(n).catch((e) => { if (!stopping) { console.error(e.message); process.exit(1); } }));
  const untilAll = (r) => new Promise((resolve) => {
    if (r.acked.size === nodes.length) resolve(); else r.done = resolve;
  });
  await untilAll(initial);
  console.error(`control: ${nodes.length} nodes synced`);
  await sleep(cfg.settleMs);  // every node's next poll is waiting at the control plane
  const rssN = rssKb(cfg.cpPid);
  const rounds = [];
  const original = fs.readFileSync(cfg.policyFile, 'utf8');
  for (let rep = 1; rep <= cfg.reps; rep++) {
    const r = { received: new Map(), acked: new Map() };
    const cpu0 = cpuMs(cfg.cpPid);
    const client0 = process.cpuUsage();
    const logSize = fs.statSync(cfg.cpLog).size;
    round = r;
    // A value every node's document holds (a comment after the last key would belong to no key: no change).
    const text = original.replace(/upstream_total: \d+s/, `upstream_total: ${10 + rep}s`);
    if (text === original) throw new Error(`${cfg.policyFile} has no upstream_total: nothing to change`);
    fs.writeFileSync(`${cfg.policyFile}.tmp`, text);
    const written = now();
    fs.renameSync(`${cfg.policyFile}.tmp`, cfg.policyFile);
    const progress = setInterval(() => console.error(`control round ${rep}: ${r.received.size} received, ${r.acked.size} acked`), 5000);
    await untilAll(r);
    clearInterval(progress);
    const end = now();
    const cpu1 = cpuMs(cfg.cpPid);
    const client = process.cpuUsage(client0);
    // The control plane's `policy published` line of this round.
    const fd = fs.openSync(cfg.cpLog, 'r');
    const tail = Buffer.alloc(fs.statSync(cfg.cpLog).size - logSize);
    fs.readSync(fd, tail, 0, tail.length, logSize);
    fs.closeSync(fd);
    const line = tail.toString('utf8').split('\n').map((l) => { try { return JSON.parse(l); } catch { return null; } })
      .find((o) => o && o.msg === 'policy published');
    if (!line) throw new Error('no "policy published" line in the control plane log for this round');
    const published = Date.parse(line.ts);
    const received = [...r.received.values()];
    const acked = [...r.acked.values()];
    rounds.push({
      rep,
      revision: line.revision,
      detect_ms: published - written,  // rename -> published (ms resolution of the log)
      received_from_publish: summary(received.map((t) => t - published)),
      acked_from_publish: summary(acked.map((t) => t - published)),
      acked_from_write: summary(acked.map((t) => t - written)),
      last_ack_from_write_ms: Math.max(...acked) - written,
      wall_ms: end - written,
      cp_cpu_ms: cpu1 - cpu0,
      client_cpu_ms: (client.user + client.system) / 1000,
    });
    await sleep(cfg.settleMs);
  }
  fs.writeFileSync(cfg.policyFile, original);
  stopping = true;
  for (const n of nodes) n.conn.socket.destroy();
  await Promise.allSettled(loops);
  return { nodes: nodes.length, rss0_kb: rss0, rssN_kb: rssN, failures, rounds };
}

// ---- etcd -----------------------------------------------------------------------------------------------------------
async function etcd() {
  const { host, port } = target(cfg.etcd);
  const key = Buffer.from('/bench/control/key').toString('base64');
  const put = async (value) => {
    const c = new Connection(host, port);
    await c.ready;
    const body = JSON.stringify({ key, value: Buffer.from(value).toString('base64') });
    const r = await c.request(`POST /v3/kv/put HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${body.length}\r\n\r\n${body}`);
    c.socket.destroy();
    if (r.status !== 200) throw new Error(`etcd put: ${r.status} ${r.body}`);
  };
  await put('initial');
  const rss0 = rssKb(cfg.etcdPid);
  let round = null;
  const watchers = [];
  const created = [];
  for (let i = 0; i < cfg.nodes.length; i++) {
    const c = new Connection(host, port);
    const w = { conn: c, text: '' };
    watchers.push(w);
    created.push(new Promise((resolve) => { w.created = resolve; }));
  }
  await Promise.all(watchers.map((w) => w.conn.ready));
  const body = JSON.stringify({ create_request: { key } });
  for (const w of watchers) {
    w.conn.request(`POST /v3/watch HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${body.length}\r\n\r\n${body}`, (data) => {
      const t = now();
      w.text += data.toString('utf8');
      // The gateway writes one JSON object per message, each followed by a newline.
      let nl;
      while ((nl = w.text.indexOf('\n')) >= 0) {
        const msg = JSON.parse(w.text.slice(0, nl));
        w.text = w.text.slice(nl + 1);
        if (msg.result?.created) w.created();
        for (const ev of msg.result?.events ?? []) {
          const value = Buffer.from(ev.kv.value ?? '', 'base64').toString('utf8');
          if (round && value === round.value) {
            round.notified.push(t);
            if (round.notified.length === watchers.length) round.done();
          }
        }
      }
    }).catch(() => { /* destroyed at the end */ });
  }
  await Promise.all(created);
  console.error(`etcd: ${watchers.length} watchers created`);
  await sleep(cfg.settleMs);
  const rssN = rssKb(cfg.etcdPid);
  const rounds = [];
  for (let rep = 1; rep <= cfg.reps; rep++) {
    const r = { value: `round-${rep}-${Date.now()}`, notified: [] };
    const all = new Promise((resolve) => { r.done = resolve; });
    const cpu0 = cpuMs(cfg.etcdPid);
    const client0 = process.cpuUsage();
    round = r;
    const sent = now();
    await put(r.value);
    const putDone = now();
    const progress = setInterval(() => console.error(`etcd round ${rep}: ${r.notified.length} notified`), 5000);
    await all;
    clearInterval(progress);
    const end = now();
    const client = process.cpuUsage(client0);
    rounds.push({
      rep,
      put_ms: putDone - sent,
      notified_from_put: summary(r.notified.map((t) => t - sent)),
      wall_ms: end - sent,
      etcd_cpu_ms: cpuMs(cfg.etcdPid) - cpu0,
      client_cpu_ms: (client.user + client.system) / 1000,
    });
    round = null;
    await sleep(cfg.settleMs);
  }
  for (const w of watchers) w.conn.socket.destroy();
  return { watchers: watchers.length, rss0_kb: rss0, rssN_kb: rssN, rounds };
}

const result = { control: await controlPlane(), etcd: await etcd() };
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
process.exit(0);

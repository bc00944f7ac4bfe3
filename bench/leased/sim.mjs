// Simulated nodes for bench/leased: N declared nodes (ids sim-0 … sim-{N-1}, bootstrap tokens token-of-sim-I)
// spend one leased budget key of the control plane through the real POST /v1/usage, in one Node process. What is
// simulated is the node's side only: each node decides its requests in memory the way LeasedLedger does with the
// defaults (on_lease_exhausted: deny, on_control_unreachable: last_lease) — a request of `amount` units is admitted
// iff the node holds a lease (now < the report's send time + ttl_ms) and used + amount <= granted; it reports its
// cumulative use every sync interval the answer names, and at once when a request was denied or its lease ran under
// a quarter of what was left at its last report (one report in flight per node); a node's first requests are
// denied until its first lease. The control plane, its LeaseBook, SQLite store and HTTP handling are the real ones.
// Demand is skewed: node i asks for units at a rate proportional to 1/(i+1) (Zipf, s = 1), in requests of 1 to 64
// units every 10 ms tick (actual = reserved: no settlement error, R = 0).
// Lost nodes: with --lost L, the L busiest nodes are killed once the fleet spent --kill-at of the limit, at the worst
// moment for the bound: each spends at once everything its lease still allows beyond its last report, then never
// reports again (term K of docs/operations.md: their unreported use, given back to the pool when the lease expires).
// The run ends when no node was admitted anything for --quiet-ms (and, with lost nodes, one lease lifetime after the
// kill has passed), or after --max-seconds. Prints one JSON line: the limit, what the nodes really spent, overspend,
// the bound K computed from the lost nodes' leases, reports sent / refused and their latency.
// Usage: node sim.mjs --control URL --key KEY --limit L --nodes N --rate UNITS_PER_S [--lost L] [--kill-at 0.5]
//                     [--quiet-ms 1500] [--max-seconds 30] [--admin-token T]
import http from 'node:http';
import crypto from 'node:crypto';

const args = process.argv.slice(2);
const opt = (k, d = '') => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const control = new URL(opt('control'));
const key = opt('key');
const limit = Number(opt('limit'));
const nodeCount = Number(opt('nodes', '100'));
const unitsPerSecond = Number(opt('rate', '100000'));
const lostCount = Number(opt('lost', '0'));
const killAt = Number(opt('kill-at', '0.5'));
const quietMs = Number(opt('quiet-ms', '1500'));
const maxSeconds = Number(opt('max-seconds', '30'));
const adminToken = opt('admin-token', 'admin-secret');
const endsAt = (() => { const d = new Date(); d.setUTCHours(24, 0, 0, 0); return d.getTime(); })();
const TICK_MS = 10;
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

let seed = 4242;
const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const harmonic = Array.from({ length: nodeCount }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);

const nodes = Array.from({ length: nodeCount }, (_, i) => ({
  id: `sim-${i}`, token: `token-of-sim-${i}`, incarnation: crypto.randomBytes(6).toString('hex'), seq: 0,
  demand: unitsPerSecond * (1 / (i + 1)) / harmonic,  // units per second
  used: 0,          // cumulative reserved = actual (what this node really spent)
  granted: 0, expires: 0, everGranted: false,
  reportedUsed: 0, reportedAt: 0, syncIntervalMs: 1000, nextReport: 0,
  inFlight: false, wantSync: true, dead: false, dying: false, debt: 0,
}));

const inflight = { units: 0, events: 0, shrinks: 0 };  // see the answer handler
let expiredUnits = 0;  // admitted on an expired lease (on_control_unreachable: last_lease)
const report = { sent: 0, accepted: 0, refused: 0, failed: 0, latencies: [], first_refusal: '' };
function post(node) {
  node.inFlight = true;
  node.wantSync = false;
  node.seq += 1;
  const now = Date.now();
  const seconds = node.reportedAt ? Math.max(0.001, (now - node.reportedAt) / 1000) : node.syncIntervalMs / 1000;
  const used = node.used;
  const body = JSON.stringify({ node: node.id, incarnation: node.incarnation, seq: node.seq, keys: [{
    key, limit, used, rate: Math.max(0, used - node.reportedUsed) / seconds,
    // What it may still spend against: with last_lease an expired lease too, as LeasedLedger reports it.
    held: node.everGranted ? node.granted : 0, ends_in_ms: endsAt - now,
  }] });
  report.sent += 1;
  const t0 = process.hrtime.bigint();
  const req = http.request({ host: control.hostname, port: control.port, path: '/v1/usage', method: 'POST', agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
      authorization: `Bearer ${node.token}` } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      report.latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      node.inFlight = false;
      node.nextReport = Date.now() + node.syncIntervalMs;
      if (res.statusCode !== 200) {
        report.refused += 1;
        report.first_refusal ||= `${res.statusCode} ${Buffer.concat(chunks)}`;
        return;
      }
      report.accepted += 1;
      const answer = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      node.syncIntervalMs = answer.sync_interval_ms;
      node.reportedUsed = used;
      node.reportedAt = now;
      const lease = answer.leases.find((l) => l.key === key);
      if (lease) {
        // A grant below what the node already spent while the report was in flight: the control plane handed the
        // difference to others (the in-flight term W, not in docs/operations.md's bound).
        if (node.everGranted && lease.granted < node.granted) inflight.shrinks += 1;
        if (lease.granted < node.used) { inflight.units += node.used - lease.granted; inflight.events += 1; }
        node.granted = lease.granted;
        node.expires = now + lease.ttl_ms;  // from when the report was sent, as LeasedLedger does
        node.everGranted = true;
        leaseTtlMs = lease.ttl_ms;
      }
    });
  });
  req.on('error', () => { report.failed += 1; node.inFlight = false; node.nextReport = Date.now() + node.syncIntervalMs; });
  req.end(body);
}

// One request of `amount` units on `node`: admitted or denied, as LeasedLedger decides with the defaults.
function decide(node, amount, now) {
  if (!node.everGranted) { node.wantSync = true; return false; }
  if (now >= node.expires) {  // last_lease: what the expired lease still allows
    node.wantSync = true;
    if (node.used + amount > node.granted) return false;
    expiredUnits += amount;
    node.used += amount;
    return true;
  }
  else if (node.used + amount > node.granted) { node.wantSync = true; return false; }
  else if ((node.granted - node.used - amount) * 4 < node.granted - node.reportedUsed) node.wantSync = true;
  node.used += amount;
  return true;
}

const start = Date.now();
let lastAdmit = start;
let killedAt = 0;
let admitted = 0; let denied = 0;
const lost = [];
let leaseTtlMs = 2000;  // the lease lifetime the control plane grants (from its answers)
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const now = Date.now();
    let spentNow = 0;
    for (const node of nodes) {
      spentNow += node.used;
      if (node.dead) continue;
      if (node.dying) {
        if (node.inFlight) continue;  // killed right after its answer, so its last report is the one it knows
        // The worst moment: it spends all its lease still allows, beyond its last report, and is gone.
        if (node.everGranted && now < node.expires && node.granted > node.used) node.used = node.granted;
        node.dead = true;
        lost.push({ id: node.id, granted: node.granted, reported_used: node.reportedUsed, used: node.used });
        continue;
      }
      // This tick's demand: whole requests of 1 to 64 units, the fraction carried to the next tick.
      node.debt += node.demand * TICK_MS / 1000;
      while (node.debt >= 1) {
        const amount = 1 + Math.floor(random() * 64);
        node.debt -= amount;
        if (decide(node, amount, now)) { admitted += 1; lastAdmit = now; } else denied += 1;
      }
      if (!node.inFlight && (node.wantSync || now >= node.nextReport)) post(node);
    }
    if (lostCount > 0 && !killedAt && spentNow >= killAt * limit) {
      killedAt = now;
      for (const node of nodes.slice(0, lostCount)) node.dying = true;
    }
    const settled = lostCount === 0 || (killedAt && now - killedAt > leaseTtlMs + 1000);
    if ((settled && now - lastAdmit > quietMs) || now - start > maxSeconds * 1000) {
      clearInterval(timer);
      resolve();
    }
  }, TICK_MS);
});

const spent = nodes.reduce((s, n) => s + n.used, 0);
const boundK = lost.reduce((s, l) => s + Math.max(0, l.granted - l.reported_used), 0);
// The control plane's view: what every holder reported, and the lost nodes' last grant and use it knows.
let cp = null;
try {
  const res = await fetch(`${control.origin}/v1/fleet`, { headers: { authorization: `Bearer ${adminToken}` } });
  const fleet = await res.json();
  const b = fleet.budgets.find((x) => x.key === key);
  if (b) {
    const lostIds = new Set(lost.map((l) => l.id));
    const lostHolders = b.holders.filter((h) => lostIds.has(h.holder.split('/')[0]));
    cp = { spent: b.spent, leased: b.leased, remaining: b.remaining,
      lost_granted_minus_used: lostHolders.reduce((s, h) => s + Math.max(0, h.granted - h.used), 0) };
  }
} catch (e) { cp = { error: e.message }; }
report.latencies.sort((a, b) => a - b);
const pct = (p) => report.latencies[Math.min(report.latencies.length - 1, Math.floor(p * report.latencies.length))] ?? 0;
const seconds = (Date.now() - start) / 1000;
agent.destroy();
console.log(JSON.stringify({
  nodes: nodeCount, lost: lostCount, limit, spent, overspend: Math.max(0, spent - limit), bound: boundK,
  inflight_beyond_grant: inflight.units, inflight_events: inflight.events, grants_lowered: inflight.shrinks,
  expired_lease_units: expiredUnits,
  usable: Math.min(spent, limit) / limit, admitted, denied, seconds,
  reports: { sent: report.sent, accepted: report.accepted, refused: report.refused, failed: report.failed,
    per_second: report.sent / seconds, p50_ms: pct(0.5), p99_ms: pct(0.99), first_refusal: report.first_refusal },
  control_plane: cp, lost_nodes: lost,
}));

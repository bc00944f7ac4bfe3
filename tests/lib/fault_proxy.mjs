// FaultProxy: a fault-injecting TCP proxy for the dependency-fault tests. It listens on 127.0.0.1 (an ephemeral
// port), forwards every accepted connection to one target, and injects the fault of its current mode, which
// can be switched at any time and applies to open connections from their next chunk on (a gateway's pooled or
// pipelined connection sees the fault without reconnecting). It knows nothing of the protocol it carries and
// must never be used outside tests (no backpressure beyond the kernel's, every held byte is kept in memory).
//
// Modes (setMode):
//   {kind: 'pass'}                                      forward both ways
//   {kind: 'delay', ms, direction: 'up'|'down'|'both'}  each chunk leaves ms after it arrived (order kept);
//                                                       up = client → target, down = target → client
//   {kind: 'hang-before-head'}                          forward the request, hold every byte of the answer
//   {kind: 'hang-after', bytes: N}                      forward the next N answer bytes of each connection (counted
//                                                       from the switch, or from its accept), hold the rest
//   {kind: 'reset', afterBytes: N}                      RST to the client (socket.resetAndDestroy()) once N answer
//                                                       bytes were forwarded; N = 0: as soon as the client sends
//   {kind: 'blackhole'}                                 accept and read, never forward nor answer (new connections
//                                                       do not even reach the target)
// Held bytes are never released: switching back to 'pass' forwards only what arrives afterwards.
import net from 'node:net';

const DIRECTIONS = new Set(['up', 'down', 'both']);

function checkMode(mode) {
  const m = { ...mode };
  switch (m.kind) {
    case 'pass': case 'hang-before-head': case 'blackhole': break;
    case 'delay':
      if (!(m.ms >= 0)) throw new Error('fault proxy: delay needs ms >= 0');
      m.direction = m.direction ?? 'both';
      if (!DIRECTIONS.has(m.direction)) throw new Error(`fault proxy: delay direction ${m.direction} is not up, down or both`);
      break;
    case 'hang-after':
      if (!(m.bytes >= 0)) throw new Error('fault proxy: hang-after needs bytes >= 0');
      break;
    case 'reset':
      m.afterBytes = m.afterBytes ?? 0;
      if (!(m.afterBytes >= 0)) throw new Error('fault proxy: reset needs afterBytes >= 0');
      break;
    default: throw new Error(`fault proxy: unknown mode ${JSON.stringify(mode)}`);
  }
  return m;
}

/**
 * Starts a proxy to `target` ({host, port}) in `mode` (default pass). Returns {host, port, url(scheme), setMode,
 * mode, stats, destroyConnections, close}. stats: accepted, open, upBytes / downBytes forwarded, heldBytes
 * (answer bytes withheld), swallowedBytes (client bytes a blackhole read), resets.
 */
export async function startFaultProxy({ target, mode = { kind: 'pass' } }) {
  if (!target || !target.port) throw new Error('fault proxy: target {host, port} is required');
  let current = checkMode(mode);
  const stats = { accepted: 0, open: 0, upBytes: 0, downBytes: 0, heldBytes: 0, swallowedBytes: 0, resets: 0 };
  const conns = new Set();

  // Writes `chunk` to `to` now, or `ms` later when the mode delays this direction; chunk null = end (half-close)
  // after what was sent before. The per-direction `ready` time keeps chunks in order when the delay changes.
  function send(conn, dir, to, chunk) {
    const delayed = current.kind === 'delay' && (current.direction === 'both' || current.direction === dir);
    const due = Math.max(Date.now() + (delayed ? current.ms : 0), conn.ready[dir]);
    conn.ready[dir] = due;
    const write = () => {
      if (to.destroyed) return;
      if (chunk === null) { to.end(); return; }
      to.write(chunk);
      if (dir === 'up') stats.upBytes += chunk.length; else stats.downBytes += chunk.length;
    };
    const wait = due - Date.now();
    if (wait <= 0 && conn.pending[dir] === 0) { write(); return; }
    conn.pending[dir] += 1;
    const t = setTimeout(() => { conn.timers.delete(t); conn.pending[dir] -= 1; write(); }, Math.max(0, wait));
    conn.timers.add(t);
  }

  function reset(conn) {
    stats.resets += 1;
    conn.client.resetAndDestroy();
    conn.upstream?.destroy();
  }

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    stats.accepted += 1;
    stats.open += 1;
    const conn = { client, upstream: null, answered: 0, ready: { up: 0, down: 0 }, pending: { up: 0, down: 0 },
      timers: new Set() };
    conns.add(conn);
    client.on('close', () => {
      stats.open -= 1;
      conns.delete(conn);
      for (const t of conn.timers) clearTimeout(t);
      conn.upstream?.destroy();
    });
    client.on('error', () => conn.upstream?.destroy());

    if (current.kind !== 'blackhole') {
      const upstream = net.connect({ host: target.host ?? '127.0.0.1', port: target.port, allowHalfOpen: true });
      conn.upstream = upstream;
      upstream.on('data', (chunk) => {
        const m = current;
        if (m.kind === 'blackhole' || m.kind === 'hang-before-head') { stats.heldBytes += chunk.length; return; }
        let pass = chunk;
        if (m.kind === 'hang-after' || m.kind === 'reset') {
          const limit = m.kind === 'hang-after' ? m.bytes : m.afterBytes;
          const room = Math.max(0, limit - conn.answered);
          pass = chunk.subarray(0, room);
          stats.heldBytes += chunk.length - pass.length;
        }
        conn.answered += pass.length;
        if (pass.length) send(conn, 'down', client, pass);
        if (m.kind === 'reset' && conn.answered >= m.afterBytes) {
          // Let what was forwarded leave first, then reset.
          const t = setTimeout(() => { conn.timers.delete(t); reset(conn); }, 0);
          conn.timers.add(t);
        }
      });
      // The target's end reaches the client unless the answer is being held (a hang stays a hang).
      upstream.on('end', () => { if (current.kind === 'pass' || current.kind === 'delay') send(conn, 'down', client, null); });
      // The target reset or vanished: the client sees a reset too.
      upstream.on('error', () => { if (!client.destroyed) client.resetAndDestroy(); });
    }

    client.on('data', (chunk) => {
      const m = current;
      if (m.kind === 'blackhole' || !conn.upstream) { stats.swallowedBytes += chunk.length; return; }
      if (m.kind === 'reset' && m.afterBytes === 0) { reset(conn); return; }
      send(conn, 'up', conn.upstream, chunk);
    });
    client.on('end', () => { if (conn.upstream && current.kind !== 'blackhole') send(conn, 'up', conn.upstream, null); });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();

  return {
    host: '127.0.0.1',
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    stats,
    get mode() { return { ...current }; },
    /** Switches the fault; open connections follow it from their next chunk, and count the answer bytes of
     * hang-after / reset from this call on. */
    setMode(next) {
      current = checkMode(next);
      for (const c of conns) c.answered = 0;
    },
    /** Closes every open connection (client and target side) at once, without a reset. */
    destroyConnections() {
      for (const c of conns) { c.client.destroy(); c.upstream?.destroy(); }
    },
    async close() {
      for (const c of conns) { c.client.destroy(); c.upstream?.destroy(); }
      await new Promise((r) => server.close(() => r()));
    },
  };
}

// Dependency faults, the provider closes its idle keep-alive connections: the gateway's pool notices each close
// while the connection sits idle (it waits for the socket to turn readable) and drops it at once, so no
// connection of the gateway stays in CLOSE-WAIT (read from /proc/net/tcp and /proc/PID/fd), and the next request is
// served on a new connection. docs/operations.md, "Upstream connections".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startMock, startGateway, testConfig, waitFor, postJson, sleep } from '../../lib/harness.mjs';
import { startFaultProxy } from '../../lib/fault_proxy.mjs';

const TCP_CLOSE_WAIT = '08';

/** The gateway's TCP sockets to `port` (its own descriptors only), as their /proc/net/tcp states. */
function socketStatesTo(pid, port) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try { target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }  // closed meanwhile
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]);
  }
  const states = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try { text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const remotePort = parseInt(f[2].split(':')[1], 16);
      if (remotePort === port && inodes.has(f[9])) states.push(f[3]);
    }
  }
  return states;
}

const chat = () => ({ model: 'gpt-4o-mini', max_tokens: 8, messages: [{ role: 'user', content: 'pool' }] });

describe('faults: the provider closes idle keep-alive connections', () => {
  let mock; let proxy; let gw;
  before(async () => {
    mock = await startMock();
    proxy = await startFaultProxy({ target: { port: mock.port } });
    gw = await startGateway({ config: testConfig({ openaiUrl: proxy.url('http') }) });
  });
  after(async () => { await gw?.stop(); await proxy?.close(); await mock?.close(); });

  it('drops them from the pool at once (no CLOSE-WAIT), and the next request is served', async (t) => {
    // Eight requests at once, each answer held 150 ms: eight upstream connections, then idle in the pool.
    proxy.setMode({ kind: 'delay', ms: 150, direction: 'down' });
    const answers = await Promise.all(Array.from({ length: 8 }, () => postJson(`${gw.url}/v1/chat/completions`, chat())));
    for (const a of answers) assert.equal(a.status, 200);
    proxy.setMode({ kind: 'pass' });
    const pid = gw.proc.pid;
    const open = socketStatesTo(pid, proxy.port);
    assert.ok(open.length >= 2, `pooled connections to the provider: ${open.length}`);

    proxy.destroyConnections();  // the provider closes every keep-alive connection (a FIN each)
    const closedAt = Date.now();
    const gone = await waitFor(() => socketStatesTo(pid, proxy.port).length === 0, { timeoutMs: 3000, intervalMs: 20 });
    const left = socketStatesTo(pid, proxy.port);
    t.diagnostic(`${open.length} idle connections closed by the provider; ${gone ? `all dropped within ${Date.now() - closedAt} ms` : `left: ${left.join(',')}`}`);
    assert.equal(left.filter((s) => s === TCP_CLOSE_WAIT).length, 0, `CLOSE-WAIT sockets: ${left.join(',')}`);
    assert.ok(gone, `sockets still open to the provider: ${left.join(',')}`);

    const accepted = proxy.stats.accepted;
    const next = await postJson(`${gw.url}/v1/chat/completions`, chat());
    assert.equal(next.status, 200);
    assert.equal(proxy.stats.accepted - accepted, 1, 'served on one new connection (none of the dead ones was tried)');
    await sleep(50);
    assert.equal(socketStatesTo(pid, proxy.port).length, 1, 'the new connection waits in the pool');
  });
});

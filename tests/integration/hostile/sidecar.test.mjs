// The process-wide connection limits on a sidecar (its `limits:` takes the gateway's max_connections,
// max_connections_per_peer and max_requests_in_flight, read by the same code and enforced by the same engine):
// one address (127.0.0.2) opening 12 connections to the outbound listener keeps 4, the rest are closed at accept
// and counted, and another address is still answered. docs/sidecar.md, docs/configuration.md (limits).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSidecar, makeCA, getText, metricValue } from '../../lib/harness.mjs';
import { openConnection, closedWithin } from './hostile_lib.mjs';

const TD = 'example.org';
const A_ID = `spiffe://${TD}/ns/prod/sa/agent-a`;

describe('sidecar: connection limits against one hoarding address', () => {
  let ca; let sidecar; let outbound;
  before(async () => {
    ca = makeCA({ name: 'hostile-sidecar-ca' });
    const svid = ca.svid('agent-a', A_ID);
    sidecar = await startSidecar({
      version: 1,
      sidecar: { spiffe_id: A_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: '127.0.0.1:9',
        tls: { cert_file: svid.certFile, key_file: svid.keyFile, bundle_file: ca.caFile } },
      limits: { max_connections_per_peer: 4, max_connections: 100, max_requests_in_flight: 50 },
    });
    outbound = Number(String(sidecar.ready.listeners.outbound).split(':').pop());
  });
  after(async () => { await sidecar?.stop('SIGKILL'); ca?.cleanup(); });

  it('max_connections_per_peer: 4 of 12 connections from one address stay, 8 are closed at accept', async (t) => {
    const socks = [];
    for (let i = 0; i < 12; i++) socks.push(await openConnection(outbound, { localAddress: '127.0.0.2' }));
    try {
      const closed = await Promise.all(socks.map((s) => (s ? closedWithin(s, 500) : true)));
      const kept = closed.filter((c) => !c).length;
      t.diagnostic(`${kept} of 12 connections from 127.0.0.2 kept`);
      assert.equal(kept, 4);
      const m = (await getText(`${sidecar.adminUrl}/metrics`)).text;
      assert.equal(metricValue(m, 'tollway_connections_refused_total', { reason: 'max_connections_per_peer' }), 8);
      // Another address is not held to 127.0.0.2's count: its request is answered (by the forward proxy's policy).
      const status = await new Promise((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: outbound, localAddress: '127.0.0.3', path: 'http://nobody/x',
          headers: { host: 'nobody' }, agent: false }, (res) => { res.resume(); resolve(res.statusCode); });
        req.on('error', (e) => resolve(e.code));
        req.end();
      });
      assert.equal(typeof status, 'number', `answered: ${status}`);
    } finally {
      for (const s of socks) s?.destroy();
    }
  });
});

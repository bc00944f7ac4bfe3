// A2A through sidecars, with the official SDK (@a2a-js/sdk) on both ends: agent A's A2A client delegates tasks to
// agent B ("writer", three skills) through A's sidecar and B's (mTLS between them). B's sidecar serves the agent
// card with only the skills A may use, lets a streamed task (SendStreamingMessage) for an allowed skill through,
// refuses a forbidden skill, a skill no rule allows and a message naming no skill with JSON-RPC errors the SDK
// raises (the agent never sees them), and traces the task as a span under B's hop, one trace from A's sidecar to
// the agent's handler.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Role, TaskState } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { makeCA, getText, metricValue, waitFor, unusedPort, startSidecar } from '../../lib/harness.mjs';
import { proxyFetch } from '../../lib/proxy_fetch.mjs';
import { startA2aAgent } from '../../mock/a2a_agent.mjs';
import { startOtlpReceiver, allSpans, attrs } from '../../mock/otlp_receiver.mjs';

const TD = 'example.org';
const ID = { a: `spiffe://${TD}/ns/prod/sa/agent-a`, b: `spiffe://${TD}/ns/prod/sa/writer` };
const REFUSED = -32000;  // tollway's code for A2A refusals (A2A's own codes start at -32001)

const portOf = (address) => Number(String(address).split(':').pop());
const parentOf = (traceparent) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? '');

const SUMMARY_LIMIT = 3;

function message(text, metadata) {
  return {
    tenant: '',
    message: { messageId: randomUUID(), contextId: '', taskId: '', role: Role.ROLE_USER,
      parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
      metadata, extensions: [], referenceTaskIds: [] },
    configuration: undefined,
    metadata: undefined,
  };
}

describe('sidecar: A2A delegations authorized by skill, filtered and traced by name', () => {
  let ca, receiver, dummyAgent, writer, sidecars = {}, proxyPort, fetchImpl;

  async function connect() {
    const factory = new ClientFactory({
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    });
    return factory.createFromUrl('http://writer/');
  }

  before(async () => {
    ca = makeCA({ name: 'a2a-ca' });
    receiver = await startOtlpReceiver();
    dummyAgent = http.createServer((req, res) => res.end('a'));
    await new Promise((r) => dummyAgent.listen(0, '127.0.0.1', r));
    writer = await startA2aAgent({ name: 'writer', url: 'http://writer/', skills: ['summarize', 'translate', 'admin_reset'] });
    const inbound = { a: await unusedPort(), b: await unusedPort() };
    const doc = (k, agentPort, extra) => ({
      version: 1,
      sidecar: { spiffe_id: ID[k], outbound: '127.0.0.1:0', inbound: `127.0.0.1:${inbound[k]}`, agent: `127.0.0.1:${agentPort}`,
        tls: (() => { const s = ca.svid(`agent-${k}`, ID[k]); return { cert_file: s.certFile, key_file: s.keyFile, bundle_file: ca.caFile }; })() },
      telemetry: { service_name: `agent-${k}`, tracing: { sample_ratio: '1.0' }, otlp: { endpoint: receiver.url, traces_interval: '100ms' } },
      ...extra,
    });
    sidecars.a = await startSidecar(doc('a', dummyAgent.address().port, {
      peers: { writer: { address: `127.0.0.1:${inbound.b}`, spiffe_id: ID.b } },
    }));
    sidecars.b = await startSidecar(doc('b', writer.port, {
      a2a: { agent: 'writer', rules: [
        { action: 'allow', from: [ID.a], skills: ['summarize'] },
        { action: 'deny', from: [ID.a], skills: ['admin_*'] },
      ] },
      limits: { rules: [{ name: 'summaries', match: { skills: ['summarize'] }, per: ['from', 'skill'], limit: SUMMARY_LIMIT, window: '1m' }] },
    }));
    proxyPort = portOf(sidecars.a.ready.listeners.outbound);
    fetchImpl = proxyFetch(proxyPort);
  });
  after(async () => {
    // The agent first: its open SSE streams end, so the sidecars have nothing to drain.
    await writer?.close();
    for (const s of Object.values(sidecars)) await s?.stop();
    await new Promise((r) => dummyAgent?.close(r));
    await receiver?.close();
    ca?.cleanup();
  });

  it('the agent card offers only the skills the caller may use', async () => {
    const card = await new DefaultAgentCardResolver({ fetchImpl }).resolve('http://writer/');
    assert.equal(card.name, 'writer');
    assert.deepEqual(card.skills.map((s) => s.id), ['summarize']);  // translate: no rule allows it; admin_reset: denied
    assert.equal(card.supportedInterfaces[0].url, 'http://writer/');  // the rest of the card as the agent wrote it
    const { text } = await getText(`http://127.0.0.1:${sidecars.b.adminPort}/metrics`);
    assert.ok(metricValue(text, 'tollway_sidecar_a2a_agent_cards_total', { result: 'filtered' }) >= 1);
  });

  it('a task for an allowed skill is delegated with streaming, and traced from A\'s sidecar to the agent', async () => {
    const client = await connect();
    const events = [];
    for await (const event of client.sendMessageStream(message('the quarterly report', { skillId: 'summarize' }))) events.push(event);
    const cases = events.map((e) => e.payload?.$case ?? e.constructor?.name);
    assert.equal(cases[0], 'task');
    const artifact = events.find((e) => e.payload?.$case === 'artifactUpdate').payload.value.artifact;
    assert.equal(artifact.parts[0].content.value, 'writer/summarize: the quarterly report');
    assert.equal(events.at(-1).payload.value.status.state, TaskState.TASK_STATE_COMPLETED);
    const taskId = events[0].payload.value.id;
    const contextId = events[0].payload.value.contextId;

    const seen = writer.messages.at(-1);
    assert.equal(seen.skill, 'summarize');
    assert.equal(seen.caller, ID.a);  // the verified identity of the caller, from its sidecar
    const parent = parentOf(seen.traceparent);
    assert.ok(parent, `traceparent at the agent: ${seen.traceparent}`);
    const [, traceId, taskSpanId] = parent;
    const spans = await waitFor(() => {
      const s = allSpans(receiver.requests).filter((x) => x.traceId === traceId);
      return s.some((x) => x.spanId === taskSpanId) && s.length >= 3 ? s : null;
    });
    // One trace: A's sidecar's CLIENT span -> B's sidecar's SERVER span -> the task span -> the agent's handler.
    const taskSpan = spans.find((x) => x.spanId === taskSpanId);
    assert.equal(taskSpan.name, 'SendStreamingMessage summarize');
    const a = attrs(taskSpan.attributes);
    assert.equal(a['rpc.method'], 'SendStreamingMessage');
    assert.equal(a['tollway.a2a.skill'], 'summarize');
    assert.equal(a['gen_ai.operation.name'], 'invoke_agent');
    assert.equal(a['gen_ai.agent.name'], 'writer');
    assert.equal(a['tollway.a2a.task.id'], taskId);
    assert.equal(a['tollway.a2a.context.id'], contextId);
    assert.equal(a['gen_ai.conversation.id'], contextId);
    assert.equal(a['tollway.a2a.protocol.version'], '1.0');
    assert.equal(a['tollway.source.spiffe_id'], ID.a);
    assert.equal(a['tollway.destination.spiffe_id'], ID.b);
    assert.equal(a['error.type'], undefined);
    const hop = spans.find((x) => x.spanId === taskSpan.parentSpanId);
    assert.ok(hop, 'the task span has the inbound hop span as parent');
    const clientSpan = spans.find((x) => x.spanId === hop.parentSpanId);
    assert.ok(clientSpan, 'the inbound hop continues the caller sidecar\'s span');
    assert.equal(attrs(clientSpan.attributes)['tollway.destination.spiffe_id'], ID.b);
  });

  it('a forbidden skill is a JSON-RPC error the SDK raises, logged, and never reaches the agent', async () => {
    const client = await connect();
    const before = writer.messages.length;
    await assert.rejects(client.sendMessage(message('reset everything', { skillId: 'admin_reset' })), (err) => {
      assert.equal(err.envelopeCode, REFUSED);
      assert.equal(err.data?.code, 'forbidden');
      assert.match(err.message, /may not use skill "admin_reset" of A2A agent writer \(denied by rule\)/);
      return true;
    });
    const line = await sidecars.b.waitForLog((o) => o?.msg === 'authorization decision' && o.skill === 'admin_reset');
    assert.equal(line.decision, 'deny');
    assert.equal(line.source_spiffe_id, ID.a);
    assert.equal(line.a2a_method, 'SendMessage');
    assert.ok(line.rule_line > 0);
    // Streaming too, for a skill no rule allows: the error comes before any event.
    await assert.rejects(async () => {
      for await (const _ of client.sendMessageStream(message('bonjour', { skillId: 'translate' }))) { /* none */ }
    }, (err) => err.envelopeCode === REFUSED && /no rule allows it/.test(err.message));
    assert.equal(writer.messages.length, before);
  });

  it('a message naming no skill is refused while the rules depend on it', async () => {
    const client = await connect();
    const before = writer.messages.length;
    await assert.rejects(client.sendMessage(message('do something')), (err) => {
      assert.equal(err.envelopeCode, REFUSED);
      assert.equal(err.data?.code, 'skill_required');
      assert.match(err.message, /names no skill \(params\.message\.metadata\.skillId\)/);
      return true;
    });
    assert.equal(writer.messages.length, before);
    const { text } = await getText(`http://127.0.0.1:${sidecars.b.adminPort}/metrics`);
    assert.ok(metricValue(text, 'tollway_sidecar_a2a_refusals_total', { reason: 'forbidden' }) >= 2);
    assert.ok(metricValue(text, 'tollway_sidecar_a2a_refusals_total', { reason: 'skill_required' }) >= 1);
  });

  it('a per-skill limit refuses the message past it with a JSON-RPC error and a retry time', async () => {
    const client = await connect();
    let refused = null;
    for (let i = 0; i <= SUMMARY_LIMIT && !refused; ++i) {
      try {
        await client.sendMessage(message(`report ${i}`, { skillId: 'summarize' }));
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused, 'a message past the limit is refused');
    assert.equal(refused.envelopeCode, REFUSED);
    assert.equal(refused.data?.code, 'rate_limit_exceeded');
    assert.match(refused.message, /by skill "summarize"/);
    assert.ok(Number(refused.data?.retry_after_s) >= 1);
    assert.equal(writer.messages.filter((m) => m.skill === 'summarize').length, SUMMARY_LIMIT);
  });

  it('the refused task\'s span names the skill and the refusal', async () => {
    const spans = await waitFor(() => {
      const s = allSpans(receiver.requests).filter((x) => x.name === 'SendMessage admin_reset');
      return s.length ? s : null;
    });
    const a = attrs(spans[0].attributes);
    assert.equal(a['error.type'], 'forbidden');
    assert.equal(a['tollway.source.spiffe_id'], ID.a);
  });
});

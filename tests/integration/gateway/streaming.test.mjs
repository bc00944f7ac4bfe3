// Gateway streaming: an SSE event reaches the client before the provider sends the next one (no buffering);
// chunked upstream stays chunked to the client, Content-Length upstream keeps its length; usage chunks and the
// Anthropic event sequence arrive byte-identical to what the provider sent.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startMock, startGateway, testConfig, rawRequest, httpBytes, parseSse, parseResponses,
} from '../../lib/harness.mjs';

/** Sends one request on a raw socket; calls onData(chunk, now) per read; resolves with all bytes at close/timeout. */
function streamRaw(port, bytes, onData, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const chunks = [];
    const t = setTimeout(() => { s.destroy(); resolve(Buffer.concat(chunks)); }, timeoutMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (c) => {
      chunks.push(c);
      onData(Buffer.concat(chunks), performance.timeOrigin + performance.now());
      const { responses } = parseResponses(Buffer.concat(chunks));
      if (responses.length) { clearTimeout(t); s.destroy(); resolve(Buffer.concat(chunks)); }
    });
    s.on('error', reject);
    s.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks)); });
  });
}

describe('gateway streaming', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });
  const last = () => mock.requests[mock.requests.length - 1];

  async function checkOneAtATime(path, body, countEvents) {
    const gapMs = 150;
    const arrivals = []; // time each event (by index) was first seen complete at the client
    const raw = await streamRaw(gw.port, httpBytes('POST', path,
      { 'content-type': 'application/json', 'x-mock-scenario': `slow-stream:${gapMs}` }, JSON.stringify(body)),
    (buf, now) => {
      const n = countEvents(buf.toString('utf8'));
      while (arrivals.length < n) arrivals.push(now);
    });
    const sent = last().sentEvents;
    assert.ok(sent.length >= 5, `mock sent ${sent.length} events`);
    assert.equal(arrivals.length, sent.length, `client saw ${arrivals.length} of ${sent.length} events`);
    for (let i = 0; i + 1 < sent.length; i++) {
      assert.ok(arrivals[i] < sent[i + 1].at,
        `event ${i} arrived at +${(arrivals[i] - sent[i].at).toFixed(1)} ms, after event ${i + 1} was sent `
        + `(+${(sent[i + 1].at - sent[i].at).toFixed(1)} ms)`);
    }
    return raw;
  }

  it('openai SSE: each event reaches the client before the next one is sent', async () => {
    const raw = await checkOneAtATime('/v1/chat/completions',
      { model: 'gpt-4o', stream: true, max_tokens: 4, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'a b' }] },
      (text) => (text.match(/\n\n/g) ?? []).length /* the head ends in \r\n\r\n, not \n\n */);
    const { responses } = parseResponses(raw);
    assert.equal(responses[0].status, 200);
    assert.match(responses[0].headers['content-type'], /^text\/event-stream/);
    const events = parseSse(responses[0].text);
    assert.equal(events[events.length - 1].data, '[DONE]');
    const usage = JSON.parse(events[events.length - 2].data);
    assert.deepEqual(usage.choices, []);
    assert.deepEqual([usage.usage.prompt_tokens, usage.usage.completion_tokens, usage.usage.total_tokens], [2, 4, 6]);
  });

  it('anthropic SSE: each event reaches the client before the next one is sent, sequence intact', async () => {
    const raw = await checkOneAtATime('/v1/messages',
      { model: 'claude-sonnet-4-6', stream: true, max_tokens: 3, messages: [{ role: 'user', content: 'a b c d' }] },
      (text) => (text.match(/\n\n/g) ?? []).length);
    const events = parseSse(parseResponses(raw).responses[0].text);
    assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'ping', 'content_block_delta',
      'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(JSON.parse(events[0].data).message.usage.input_tokens, 4);
    assert.equal(JSON.parse(events[7].data).usage.output_tokens, 3);
  });

  it('chunked upstream is chunked to the client; the SSE bytes are unchanged', async () => {
    // include_usage asked by the caller: the gateway removes nothing (tests/integration/providers covers removal).
    const body = { model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, max_tokens: 3,
      messages: [{ role: 'user', content: 'q' }] };
    const res = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions',
      { 'content-type': 'application/json' }, JSON.stringify(body)), { untilResponses: 1, timeoutMs: 3000 });
    const r = res.responses[0];
    assert.equal(r?.status, 200, res.text);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-length'], undefined);
    const sentBytes = last().sentEvents.reduce((n, e) => n + e.bytes, 0);
    assert.equal(r.body.length, sentBytes);
  });

  it('a Content-Length upstream response keeps its length; chunked JSON stays chunked', async () => {
    const body = JSON.stringify({ model: 'gpt-4o', max_tokens: 3, messages: [{ role: 'user', content: 'q' }] });
    const cl = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions',
      { 'content-type': 'application/json', 'x-mock-scenario': 'content-length' }, body), { untilResponses: 1 });
    assert.equal(cl.responses[0]?.status, 200, cl.text);
    assert.equal(cl.responses[0].headers['content-length'], String(cl.responses[0].body.length));
    assert.equal(cl.responses[0].headers['transfer-encoding'], undefined);
    const ch = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions',
      { 'content-type': 'application/json', 'x-mock-scenario': 'chunked' }, body), { untilResponses: 1 });
    assert.equal(ch.responses[0]?.status, 200, ch.text);
    assert.equal(ch.responses[0].headers['transfer-encoding'], 'chunked');
    assert.equal(JSON.parse(ch.responses[0].text).usage.completion_tokens, 3);
  });

  it('responses API SSE passes through event names and order', async () => {
    const body = { model: 'gpt-4o', stream: true, input: 'one two', max_output_tokens: 2 };
    const res = await rawRequest(gw.port, httpBytes('POST', '/v1/responses',
      { 'content-type': 'application/json' }, JSON.stringify(body)), { untilResponses: 1, timeoutMs: 3000 });
    const events = parseSse(res.responses[0].text);
    assert.equal(events[0].event, 'response.created');
    assert.equal(events[events.length - 1].event, 'response.completed');
    assert.equal(JSON.parse(events[events.length - 1].data).response.usage.input_tokens, 2);
  });
});

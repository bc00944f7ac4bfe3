// Usage extraction through the real gateway: recorded provider streams replayed by the mock reach the client
// byte-identical (except the usage chunk the gateway asked for on the caller's behalf), and the usage line
// and metrics carry the recorded numbers; JSON bodies, cut streams (estimate, flagged) and clients that hang up
// mid-stream (usage still recorded) too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, sleep,
} from '../../lib/harness.mjs';
import { recordedStream } from '../../mock/provider.mjs';

const PRICING = {
  default: { input: '1', output: '2' },
  models: [
    { match: 'gpt-4o-mini*', input: '0.15', cached_input: '0.075', output: '0.60' },
    { match: 'claude-sonnet-4*', input: '3', cache_write: '3.75', cached_input: '0.30', output: '15' },
  ],
};

async function streamBody(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

/** The recorded stream without its usage-only chunk (the event holding `"choices":[]`). */
function withoutUsageChunk(buf) {
  const text = buf.toString('latin1');
  const at = text.indexOf('data: {"id"', text.lastIndexOf('"choices":[]') - 400);
  const start = text.lastIndexOf('\n\n', text.lastIndexOf('"choices":[]')) + 2;
  const end = text.indexOf('\n\n', start) + 2;
  assert.ok(at >= 0 && start > 1 && end > start);
  return Buffer.from(text.slice(0, start) + text.slice(end), 'latin1');
}

describe('provider usage', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: { pricing: PRICING } }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });
  const usageLine = (requestId) => gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === requestId);

  it('JSON chat completion: usage and cost from the body', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'one two three four' }], max_tokens: 5 });
    assert.equal(r.status, 200);
    const u = await usageLine(r.headers.get('x-request-id'));
    assert.equal(u.usage_known, true);
    assert.equal(u.usage_estimated, false);
    assert.equal(u.input_tokens, r.json.usage.prompt_tokens);
    assert.equal(u.output_tokens, 5);
    // 4 x $0.15/M + 5 x $0.60/M = 3.6 micro-dollars -> 4 (rounded once, half up)
    assert.equal(u.cost_micro_usd, Math.round((r.json.usage.prompt_tokens * 0.15 + 5 * 0.60)));
    assert.equal(u.priced_at_default, false);
  });

  it('unknown model: default price, counted', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-unknown-x',
      messages: [{ role: 'user', content: 'a b' }], max_tokens: 3 });
    const u = await usageLine(r.headers.get('x-request-id'));
    assert.equal(u.priced_at_default, true);
    assert.equal(u.cost_micro_usd, u.input_tokens * 1 + 3 * 2);
    const m = await getText(`${gw.adminUrl}/metrics`);
    assert.ok(metricValue(m.text, 'tollway_pricing_default_price_total', { provider: 'openai' }) >= 1);
  });

  it('OpenAI stream without include_usage: asked upstream, usage chunk removed, rest byte-identical', async () => {
    const recorded = recordedStream('openai_chat_logprobs_usage');
    const r = await streamBody(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', stream: true, logprobs: true,
      messages: [{ role: 'user', content: 'hi' }] }, { 'x-mock-scenario': 'replay:openai_chat_logprobs_usage' });
    assert.equal(r.status, 200);
    const upstreamBody = mock.requests[mock.requests.length - 1].json;
    assert.deepEqual(upstreamBody.stream_options, { include_usage: true });
    assert.ok(!r.bytes.toString().includes('"choices":[]'));
    assert.deepEqual(r.bytes, withoutUsageChunk(recorded));
    const u = await usageLine(r.headers.get('x-request-id'));
    assert.deepEqual([u.input_tokens, u.output_tokens, u.cached_input_tokens], [1342, 7, 1024]);
    assert.equal(u.include_usage_added, true);
    // (1342-1024) x 0.15 + 1024 x 0.075 + 7 x 0.60 = 47.7 + 76.8 + 4.2 = 128.7 -> 129
    assert.equal(u.cost_micro_usd, 129);
  });

  it('OpenAI stream with include_usage: the whole recorded stream, byte-identical', async () => {
    const r = await streamBody(`${gw.url}/v1/chat/completions`, { model: 'o4-mini', stream: true,
      stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'weather?' }] },
    { 'x-mock-scenario': 'replay:openai_chat_tool_call_usage' });
    assert.deepEqual(r.bytes, recordedStream('openai_chat_tool_call_usage'));
    const u = await usageLine(r.headers.get('x-request-id'));
    assert.deepEqual([u.input_tokens, u.output_tokens, u.reasoning_tokens], [81, 215, 192]);
    assert.equal(u.include_usage_added, undefined);
  });

  it('Anthropic stream with ping and tool use: byte-identical, message_start + cumulative message_delta', async () => {
    const r = await streamBody(`${gw.url}/v1/messages`, { model: 'claude-sonnet-4-5', max_tokens: 100, stream: true,
      messages: [{ role: 'user', content: 'weather?' }] }, { 'x-mock-scenario': 'replay:anthropic_messages_tool_use' });
    assert.deepEqual(r.bytes, recordedStream('anthropic_messages_tool_use'));
    const u = await usageLine(r.headers.get('x-request-id'));
    assert.deepEqual([u.input_tokens, u.output_tokens, u.cached_input_tokens, u.cache_creation_input_tokens],
      [6616, 89, 4096, 2048]);
    // 472 x 3 + 4096 x 0.30 + 2048 x 3.75 + 89 x 15 = 1416 + 1228.8 + 7680 + 1335 = 11659.8 -> 11660
    assert.equal(u.cost_micro_usd, 11660);
  });

  it('Anthropic error event mid-stream: relayed, input exact, output estimated and flagged', async () => {
    const r = await streamBody(`${gw.url}/v1/messages`, { model: 'claude-haiku-4-5', max_tokens: 100, stream: true,
      messages: [{ role: 'user', content: 'hello' }] }, { 'x-mock-scenario': 'replay:anthropic_messages_error_midstream' });
    assert.deepEqual(r.bytes, recordedStream('anthropic_messages_error_midstream'));
    const u = await usageLine(r.headers.get('x-request-id'));
    assert.equal(u.usage_known, false);
    assert.equal(u.usage_estimated, true);
    assert.equal(u.input_tokens, 25);
    assert.ok(u.output_tokens >= 4, `estimated output ${u.output_tokens}`);
    assert.equal(u.error_event, 'overloaded_error');
  });

  it('provider cuts the stream: usage estimated and flagged', async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json',
      'x-mock-scenario': 'replay:openai_chat_logprobs_usage,cut' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'a b c' }] }) });
    await r.arrayBuffer().catch(() => {});
    const u = await usageLine(r.headers.get('x-request-id'));
    assert.equal(u.usage_estimated, true);
    // The prompt is estimated from the request; the output from whatever text arrived before the cut (a socket
    // destroyed mid-write may deliver none of it).
    assert.ok(u.input_tokens > 0, JSON.stringify(u));
    assert.equal(u.usage_known, false);
    const m = await getText(`${gw.adminUrl}/metrics`);
    assert.ok(metricValue(m.text, 'tollway_usage_calls_total', { provider: 'openai', usage: 'estimated' }) >= 1);
  });

  it('client hangs up mid-stream: the gateway reads on and records the provider usage', async () => {
    const before = mock.requests.length;
    const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 100, stream: true,
      messages: [{ role: 'user', content: 'weather?' }] });
    await new Promise((resolve) => {
      const s = net.connect({ port: gw.port, host: '127.0.0.1' }, () => {
        s.write(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `x-mock-scenario: replay:anthropic_messages_tool_use,slow-stream:40\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      });
      s.once('data', () => { s.destroy(); resolve(); });  // first bytes seen: hang up
    });
    await waitFor(() => mock.requests.length > before);
    const u = await gw.waitForLog((o) => o && o.msg === 'usage' && o.model === 'claude-sonnet-4-5' &&
      o.usage_known === true && o.status === 200 && o.output_tokens === 89 && o.request_id !== undefined &&
      gw.logs.filter((x) => x.msg === 'usage').length > 0, 10000);
    assert.equal(u.input_tokens, 6616);
    assert.equal(u.usage_estimated, false);
  });

  it('metrics: usage tokens and cost counters pass through /metrics', async () => {
    const m = await getText(`${gw.adminUrl}/metrics`);
    assert.ok(metricValue(m.text, 'tollway_usage_tokens_total', { provider: 'anthropic', kind: 'output' }) >= 89);
    assert.ok(metricValue(m.text, 'tollway_cost_usd_micros_total', { provider: 'openai' }) > 0);
  });
});

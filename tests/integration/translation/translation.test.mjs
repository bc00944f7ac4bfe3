// Translation through the real gateway (src/providers/translation): an OpenAI chat-completions caller using a
// claude-* model (served by the Anthropic provider) and an Anthropic Messages caller using a gpt-* model (served
// by the OpenAI provider). Asserts what reached the mock (the translated request, the provider's credential
// and headers), what the caller got back (JSON, SSE event by event, recorded real streams, error bodies with
// the same status), the usage line (read from the provider's format), and what is refused before the provider
// is contacted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock, startGateway, testConfig, postJson, parseSse, assertOpenAIError, assertAnthropicError,
} from '../../lib/harness.mjs';
import { recordedStream, MOCK_TOOL_ARGUMENTS } from '../../mock/provider.mjs';

const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'tools-2024-04-04' };

async function post(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

/** OpenAI SSE `data:` payloads, parsed (except [DONE]). */
function openaiChunks(text) {
  return parseSse(text).map((e) => (e.data === '[DONE]' ? '[DONE]' : JSON.parse(e.data)));
}

/** Recorded Anthropic stream's usage: message_start updated by message_delta. */
function recordedAnthropicUsage(name) {
  const events = parseSse(recordedStream(name).toString('utf8')).map((e) => JSON.parse(e.data));
  const u = { ...events.find((e) => e.type === 'message_start').message.usage };
  for (const e of events.filter((x) => x.type === 'message_delta')) Object.assign(u, e.usage);
  return u;
}

describe('translation', () => {
  let mock; let gw; let gwOff;
  before(async () => {
    mock = await startMock();
    // No retries: each provider error is answered once, through the response transformer (the e2e suite covers
    // the held-and-released 429 of the default retry policy), and the breaker never opens on these tests.
    const on = testConfig({ openaiUrl: mock.url });
    on.routes = on.routes.map((r) => ({ ...r, retries: { attempts: 0 } }));
    gw = await startGateway({ config: on });
    const off = testConfig({ openaiUrl: mock.url });
    off.routes = off.routes.map((r) => ({ ...r, translate: false }));
    gwOff = await startGateway({ config: off });
  });
  after(async () => { await gw?.stop(); await gwOff?.stop(); await mock?.close(); });
  const last = () => mock.requests[mock.requests.length - 1];
  const usageLine = (id) => gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === id);

  describe('OpenAI caller -> Anthropic provider', () => {
    it('JSON: the Messages request reaches the provider with its own key; the answer is a chat completion', async () => {
      const r = await postJson(`${gw.url}/v1/chat/completions`, {
        model: 'claude-sonnet-4-5', max_completion_tokens: 5, temperature: 0.5, top_p: 0.9, stop: ['END'],
        user: 'agent-7',
        messages: [{ role: 'system', content: 'be brief' }, { role: 'developer', content: [{ type: 'text', text: 'no lists' }] },
          { role: 'user', content: 'one two three four' }],
      }, { authorization: 'Bearer sk-caller', 'openai-organization': 'org-x' });
      assert.equal(r.status, 200, r.text);
      const req = last();
      assert.equal(req.url, '/v1/messages');
      assert.equal(req.headers['x-api-key'], 'sk-ant-test-anthropic');
      assert.equal(req.headers.authorization, undefined);
      assert.equal(req.headers['anthropic-version'], '2023-06-01');
      assert.equal(req.headers['openai-organization'], undefined);
      assert.deepEqual(req.json, {
        model: 'claude-sonnet-4-5', max_tokens: 5,
        system: [{ type: 'text', text: 'be brief' }, { type: 'text', text: 'no lists' }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'one two three four' }] }],
        stop_sequences: ['END'], temperature: 0.5, top_p: 0.9, metadata: { user_id: 'agent-7' },
      });
      const c = r.json;
      assert.equal(c.object, 'chat.completion');
      assert.match(c.id, /^msg_01/);
      assert.equal(c.model, 'claude-sonnet-4-5');
      assert.ok(Number.isInteger(c.created) && Math.abs(c.created - Date.now() / 1000) < 60);
      assert.deepEqual(c.choices, [{ index: 0, message: { role: 'assistant', content: 'Hello from the tollway mock',
        refusal: null }, logprobs: null, finish_reason: 'length' }]);
      assert.deepEqual(c.usage, { prompt_tokens: 8, completion_tokens: 5, total_tokens: 13,
        prompt_tokens_details: { cached_tokens: 0 } });
      assert.equal(r.headers.get('transfer-encoding'), 'chunked');  // the body's length changed: the gateway frames it
      const u = await usageLine(r.headers.get('x-request-id'));
      assert.equal(u.provider, 'anthropic');
      assert.deepEqual([u.usage_known, u.input_tokens, u.output_tokens], [true, 8, 5]);
    });

    it('no output limit: max_tokens 4096 is sent (Anthropic requires one); end_turn -> stop', async () => {
      const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'claude-haiku-4-5',
        messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.status, 200, r.text);
      assert.equal(last().json.max_tokens, 4096);
      assert.equal(r.json.choices[0].finish_reason, 'stop');
    });

    it('stream with include_usage: role chunk, content deltas, finish chunk, usage chunk, [DONE]', async () => {
      const r = await post(`${gw.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5', max_tokens: 4, stream: true,
        stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'alpha beta gamma' }] });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /text\/event-stream/);
      assert.equal(last().json.stream, true);
      assert.equal(last().json.stream_options, undefined);
      const chunks = openaiChunks(r.text);
      assert.equal(chunks.at(-1), '[DONE]');
      const data = chunks.slice(0, -1);
      assert.ok(data.every((c) => c.object === 'chat.completion.chunk' && c.id === data[0].id && c.model === 'claude-sonnet-4-5'));
      assert.deepEqual(data[0].choices[0].delta, { role: 'assistant', content: '' });
      const text = data.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
      assert.equal(text, 'Hello from the tollway');
      const finish = data.filter((c) => c.choices[0]?.finish_reason);
      assert.deepEqual(finish.map((c) => c.choices[0].finish_reason), ['length']);
      const usage = data.at(-1);
      assert.deepEqual(usage.choices, []);
      assert.deepEqual(usage.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7,
        prompt_tokens_details: { cached_tokens: 0 } });
      assert.ok(data.slice(0, -1).every((c) => c.usage === null));
      const u = await usageLine(r.headers.get('x-request-id'));
      assert.deepEqual([u.usage_known, u.input_tokens, u.output_tokens], [true, 3, 4]);
    });

    it('stream without include_usage: no usage chunk, no usage fields', async () => {
      const r = await post(`${gw.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5', max_tokens: 2, stream: true,
        messages: [{ role: 'user', content: 'x' }] });
      const chunks = openaiChunks(r.text);
      assert.equal(chunks.at(-1), '[DONE]');
      assert.ok(chunks.slice(0, -1).every((c) => c.choices.length === 1 && !('usage' in c)));
      const u = await usageLine(r.headers.get('x-request-id'));
      assert.equal(u.usage_known, true);
    });

    it('recorded Anthropic tool-use stream: tool_calls deltas with id/name first, then arguments; usage exact', async () => {
      const r = await post(`${gw.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5', stream: true,
        stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'weather?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }] },
      { 'x-mock-scenario': 'replay:anthropic_messages_tool_use' });
      assert.equal(r.status, 200);
      const chunks = openaiChunks(r.text);
      assert.equal(chunks.at(-1), '[DONE]');
      const data = chunks.slice(0, -1);
      const calls = data.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
      assert.ok(calls.length >= 2);
      assert.equal(calls[0].index, 0);
      assert.match(calls[0].id, /^toolu_/);
      assert.equal(calls[0].type, 'function');
      assert.equal(calls[0].function.name, 'get_weather');
      assert.ok(calls.slice(1).every((c) => c.index === 0 && c.id === undefined));
      const args = calls.map((c) => c.function.arguments).join('');
      assert.equal(typeof JSON.parse(args), 'object');
      assert.equal(data.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
      const rec = recordedAnthropicUsage('anthropic_messages_tool_use');
      const prompt = rec.input_tokens + rec.cache_read_input_tokens + rec.cache_creation_input_tokens;
      assert.deepEqual(data.at(-1).usage, { prompt_tokens: prompt, completion_tokens: rec.output_tokens,
        total_tokens: prompt + rec.output_tokens, prompt_tokens_details: { cached_tokens: rec.cache_read_input_tokens } });
      const u = await usageLine(r.headers.get('x-request-id'));
      assert.deepEqual([u.input_tokens, u.output_tokens, u.cached_input_tokens, u.cache_creation_input_tokens],
        [prompt, rec.output_tokens, rec.cache_read_input_tokens, rec.cache_creation_input_tokens]);
    });

    it('recorded stream with an error event mid-stream: an OpenAI error chunk, no [DONE]', async () => {
      const r = await post(`${gw.url}/v1/chat/completions`, { model: 'claude-haiku-4-5', stream: true,
        messages: [{ role: 'user', content: 'hi' }] }, { 'x-mock-scenario': 'replay:anthropic_messages_error_midstream' });
      const chunks = openaiChunks(r.text);
      assert.notEqual(chunks.at(-1), '[DONE]');
      const e = assertOpenAIError(chunks.at(-1), { code: 'overloaded_error' });
      assert.equal(e.message, 'Overloaded');
      assert.equal(chunks.slice(0, -1).map((c) => c.choices[0].delta.content ?? '').join(''), 'Hello! I am Claude');
      const u = await usageLine(r.headers.get('x-request-id'));
      assert.equal(u.error_event, 'overloaded_error');
    });

    it('tool round trip: assistant tool_calls and tool messages become tool_use and tool_result blocks', async () => {
      const r = await postJson(`${gw.url}/v1/chat/completions`, {
        model: 'claude-sonnet-4-5', max_tokens: 3, parallel_tool_calls: false, tool_choice: 'required',
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather by city',
          parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } } }],
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'weather in Paris?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
          { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_1', type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '18C, cloudy' },
          { role: 'user', content: 'thanks' },
        ] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(last().json.messages, [
        { role: 'user', content: [{ type: 'text', text: 'weather in Paris?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18C, cloudy' },
          { type: 'text', text: 'thanks' }] },
      ]);
      assert.deepEqual(last().json.tools, [{ name: 'get_weather', description: 'Weather by city',
        input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } }]);
      assert.deepEqual(last().json.tool_choice, { type: 'any', disable_parallel_tool_use: true });
    });

    it('JSON tool use answer: tool_calls with arguments as JSON text, finish_reason tool_calls', async () => {
      const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5',
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
        messages: [{ role: 'user', content: 'weather?' }] }, { 'x-mock-scenario': 'tool-call' });
      assert.equal(r.status, 200, r.text);
      const m = r.json.choices[0].message;
      assert.equal(m.content, 'Let me check.');
      assert.deepEqual(m.tool_calls, [{ id: 'toolu_mock0001', type: 'function',
        function: { name: 'get_weather', arguments: MOCK_TOOL_ARGUMENTS } }]);
      assert.equal(r.json.choices[0].finish_reason, 'tool_calls');
    });

    for (const status of [429, 500, 529]) {
      it(`provider error ${status}: same status, OpenAI error body, provider headers kept`, async () => {
        const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5',
          messages: [{ role: 'user', content: 'x' }] }, { 'x-mock-scenario': `fail:${status}` });
        assert.equal(r.status, status);
        const e = assertOpenAIError(r.json);
        assert.equal(e.code, { 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error' }[status]);
        assert.equal(e.type, status === 429 ? 'rate_limit_error' : 'server_error');
        if (status === 429) assert.equal(r.headers.get('retry-after'), '20');
      });
    }

    it('refused before the provider: n > 1, logprobs, response_format json_schema, audio parts, unknown fields', async () => {
      const before = mock.requests.length;
      const base = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] };
      const cases = [
        [{ ...base, n: 2 }, /`n`/],
        [{ ...base, logprobs: true }, /`logprobs`/],
        [{ ...base, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }, /`response_format`/],
        [{ ...base, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] }] },
          /messages\[0\]\.content\[0\].*input_audio/],
        [{ ...base, reasoning_effort: 'high' }, /`reasoning_effort` is not supported/],
        [{ ...base, tools: [{ type: 'custom', custom: { name: 'x' } }] }, /only function tools/],
      ];
      for (const [body, re] of cases) {
        const r = await postJson(`${gw.url}/v1/chat/completions`, body);
        assert.equal(r.status, 400, JSON.stringify(body));
        const e = assertOpenAIError(r.json, { type: 'invalid_request_error', code: 'translation_unsupported' });
        assert.match(e.message, re);
      }
      const bad = await postJson(`${gw.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5', messages: [] });
      assert.equal(bad.status, 400);
      assertOpenAIError(bad.json, { code: 'invalid_request' });
      const args = await postJson(`${gw.url}/v1/chat/completions`, { ...base, messages: [{ role: 'assistant',
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{not json' } }] }] });
      assert.equal(args.status, 400);
      assert.match(assertOpenAIError(args.json, { code: 'invalid_request' }).message, /arguments/);
      const embed = await postJson(`${gw.url}/v1/embeddings`, { model: 'claude-sonnet-4-5', input: 'x' });
      assert.equal(embed.status, 400);
      assert.match(assertOpenAIError(embed.json, { code: 'translation_unsupported' }).message, /chat\/completions/);
      assert.equal(mock.requests.length, before, 'nothing reached the provider');
    });

    it('translate: false on the route keeps refusing with model_api_mismatch', async () => {
      const r = await postJson(`${gwOff.url}/v1/chat/completions`, { model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: 'x' }] });
      assert.equal(r.status, 400);
      assert.match(assertOpenAIError(r.json, { code: 'model_api_mismatch' }).message, /translation is off/);
    });
  });

  describe('Anthropic caller -> OpenAI provider', () => {
    it('JSON: the chat request reaches the provider with its own key; the answer is a Message', async () => {
      const r = await postJson(`${gw.url}/v1/messages`, {
        model: 'gpt-4o-mini', max_tokens: 5, system: 'be brief', stop_sequences: ['END'], temperature: 0.2,
        metadata: { user_id: 'agent-9' }, messages: [{ role: 'user', content: 'one two three four' }],
      }, { 'x-api-key': 'sk-ant-caller', ...ANTHROPIC_HEADERS });
      assert.equal(r.status, 200, r.text);
      const req = last();
      assert.equal(req.url, '/v1/chat/completions');
      assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
      for (const h of ['x-api-key', 'anthropic-version', 'anthropic-beta']) assert.equal(req.headers[h], undefined, h);
      assert.deepEqual(req.json, { model: 'gpt-4o-mini',
        messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'one two three four' }],
        max_completion_tokens: 5, stop: ['END'], temperature: 0.2, user: 'agent-9' });
      assert.equal(r.json.type, 'message');
      assert.equal(r.json.role, 'assistant');
      assert.equal(r.json.model, 'gpt-4o-mini');
      assert.deepEqual(r.json.content, [{ type: 'text', text: 'Hello from the tollway mock' }]);
      assert.equal(r.json.stop_reason, 'max_tokens');
      assert.deepEqual(r.json.usage, { input_tokens: 6, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
        output_tokens: 5 });
      const u = await usageLine(r.headers.get('x-request-id'));
      assert.equal(u.provider, 'openai');
      assert.deepEqual([u.usage_known, u.input_tokens, u.output_tokens], [true, 6, 5]);
    });

    it('stream: include_usage asked upstream; message_start … message_stop with usage in message_delta', async () => {
      const r = await post(`${gw.url}/v1/messages`, { model: 'gpt-4o-mini', max_tokens: 3, stream: true,
        messages: [{ role: 'user', content: 'a b' }] }, ANTHROPIC_HEADERS);
      assert.equal(r.status, 200);
      assert.deepEqual(last().json.stream_options, { include_usage: true });
      const events = parseSse(r.text);
      assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta',
        'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
      const data = events.map((e) => JSON.parse(e.data));
      assert.ok(events.every((e, i) => e.event === data[i].type));
      assert.equal(data[0].message.model, 'gpt-4o-mini');
      assert.equal(data.filter((d) => d.type === 'content_block_delta').map((d) => d.delta.text).join(''), 'Hello from the');
      assert.deepEqual(data[6].delta, { stop_reason: 'max_tokens', stop_sequence: null });
      assert.deepEqual(data[6].usage, { input_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
        output_tokens: 3 });
      const u = await usageLine(r.headers.get('x-request-id'));
      assert.deepEqual([u.usage_known, u.input_tokens, u.output_tokens, u.include_usage_added], [true, 2, 3, undefined]);
    });

    it('recorded OpenAI tool-call stream: a tool_use block with input_json_delta pieces; stop_reason tool_use', async () => {
      const r = await post(`${gw.url}/v1/messages`, { model: 'o4-mini', max_tokens: 100, stream: true,
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: 'weather?' }] }, { 'x-mock-scenario': 'replay:openai_chat_tool_call_usage' });
      const data = parseSse(r.text).map((e) => JSON.parse(e.data));
      const start = data.find((d) => d.type === 'content_block_start');
      assert.equal(start.content_block.type, 'tool_use');
      assert.equal(start.content_block.name, 'get_weather');
      assert.match(start.content_block.id, /^call_/);
      const json = data.filter((d) => d.type === 'content_block_delta').map((d) => d.delta.partial_json).join('');
      assert.equal(typeof JSON.parse(json), 'object');
      const delta = data.find((d) => d.type === 'message_delta');
      assert.equal(delta.delta.stop_reason, 'tool_use');
      const recorded = parseSse(recordedStream('openai_chat_tool_call_usage').toString('utf8'))
        .filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data)).find((c) => c.usage)?.usage;
      assert.equal(delta.usage.output_tokens, recorded.completion_tokens);
      assert.equal(delta.usage.input_tokens + delta.usage.cache_read_input_tokens, recorded.prompt_tokens);
      assert.equal(data.at(-1).type, 'message_stop');
    });

    it('tool round trip: tool_use and tool_result blocks become tool_calls and tool messages', async () => {
      const r = await postJson(`${gw.url}/v1/messages`, { model: 'gpt-4o', max_tokens: 3,
        tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: {} } }],
        tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: [{ type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] },
            { type: 'text', text: 'and tomorrow?' }, { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }] },
        ] }, ANTHROPIC_HEADERS);
      assert.equal(r.status, 200, r.text);
      const j = last().json;
      assert.deepEqual(j.messages, [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
        { role: 'user', content: [{ type: 'text', text: 'and tomorrow?' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
      ]);
      assert.deepEqual(j.tools, [{ type: 'function', function: { name: 'get_weather', description: 'Weather',
        parameters: { type: 'object', properties: {} } } }]);
      assert.deepEqual(j.tool_choice, { type: 'function', function: { name: 'get_weather' } });
      assert.equal(j.parallel_tool_calls, false);
    });

    it('JSON tool call answer: a tool_use block with the parsed input', async () => {
      const r = await postJson(`${gw.url}/v1/messages`, { model: 'gpt-4o', max_tokens: 50,
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'w?' }] },
      { ...ANTHROPIC_HEADERS, 'x-mock-scenario': 'tool-call' });
      assert.deepEqual(r.json.content, [{ type: 'tool_use', id: 'call_mock0001', name: 'get_weather',
        input: JSON.parse(MOCK_TOOL_ARGUMENTS) }]);
      assert.equal(r.json.stop_reason, 'tool_use');
    });

    for (const status of [429, 500]) {
      it(`provider error ${status}: same status, Anthropic error body`, async () => {
        const r = await postJson(`${gw.url}/v1/messages`, { model: 'gpt-4o-mini', max_tokens: 5,
          messages: [{ role: 'user', content: 'x' }] }, { ...ANTHROPIC_HEADERS, 'x-mock-scenario': `fail:${status}` });
        assert.equal(r.status, status);
        const e = assertAnthropicError(r.json, { type: status === 429 ? 'rate_limit_error' : 'api_error' });
        assert.match(e.message, status === 429 ? /Rate limit reached/ : /server had an error/);
      });
    }

    it('refused before the provider: top_k, thinking, documents, server tools, missing max_tokens', async () => {
      const before = mock.requests.length;
      const base = { model: 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
      const cases = [
        [{ ...base, top_k: 5 }, /`top_k`/, true],
        [{ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } }, /`thinking`/, true],
        [{ ...base, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }] }] },
          /document/, true],
        [{ ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, /server tools/, true],
        [{ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, /max_tokens/, false],
      ];
      for (const [body, re] of cases) {
        const r = await postJson(`${gw.url}/v1/messages`, body, ANTHROPIC_HEADERS);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(assertAnthropicError(r.json, { type: 'invalid_request_error' }).message, re);
      }
      const count = await postJson(`${gw.url}/v1/messages/count_tokens`, base, ANTHROPIC_HEADERS);
      assert.equal(count.status, 400);
      assert.match(assertAnthropicError(count.json).message, /only POST \/v1\/messages/);
      assert.equal(mock.requests.length, before, 'nothing reached the provider');
    });
  });
});

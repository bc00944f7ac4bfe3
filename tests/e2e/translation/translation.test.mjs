// E2E: the official SDKs through translation. The `openai` SDK uses claude-* models (served by the Anthropic
// provider) and the `@anthropic-ai/sdk` SDK uses gpt-* models (served by the OpenAI provider), unchanged:
// JSON, streams (raw iteration, include_usage, the stream helpers' accumulators), a tool-call round trip, and
// provider errors raised as the caller SDK's own typed errors. The mock's records show the translated request.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { RateLimitError as OpenAIRateLimitError, InternalServerError as OpenAIInternalServerError,
  BadRequestError as OpenAIBadRequestError, APIError as OpenAIAPIError } from 'openai';
import Anthropic, { RateLimitError as AnthropicRateLimitError, InternalServerError as AnthropicInternalServerError,
  BadRequestError as AnthropicBadRequestError } from '@anthropic-ai/sdk';
import { startMock, startGateway, testConfig } from '../../lib/harness.mjs';
import { MOCK_TOOL_ARGUMENTS } from '../../mock/provider.mjs';

const WEATHER_TOOL_OPENAI = { type: 'function', function: { name: 'get_weather', description: 'Weather by city',
  parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string' } }, required: ['location'] } } };
const WEATHER_TOOL_ANTHROPIC = { name: 'get_weather', description: 'Weather by city',
  input_schema: WEATHER_TOOL_OPENAI.function.parameters };

async function rejects(promise, ErrorClass) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ErrorClass, `got ${err?.constructor?.name}: ${err?.message}`);
    return err;
  }
  assert.fail(`expected ${ErrorClass.name}`);
}

describe('sdk translation', () => {
  let mock; let gw; let openai; let anthropic;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });
    openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10000 });
    anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: gw.url, maxRetries: 0, timeout: 10000 });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });
  const last = () => mock.requests[mock.requests.length - 1];
  const usageLine = (id) => gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === id);

  describe('openai sdk -> claude-*', () => {
    it('chat.completions.create, non-streaming', async () => {
      const { data: r, response } = await openai.chat.completions.create({
        model: 'claude-sonnet-4-5', max_tokens: 5,
        messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'one two three four' }],
      }).withResponse();
      assert.equal(r.object, 'chat.completion');
      assert.equal(r.choices[0].message.content, 'Hello from the tollway mock');
      assert.equal(r.choices[0].finish_reason, 'length');
      assert.deepEqual([r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens], [6, 5, 11]);
      const req = last();
      assert.equal(req.url, '/v1/messages');
      assert.equal(req.headers['x-api-key'], 'sk-ant-test-anthropic');
      assert.deepEqual(req.json.system, [{ type: 'text', text: 'be brief' }]);
      assert.equal(req.json.max_tokens, 5);
      const u = await usageLine(response.headers.get('x-request-id'));
      assert.deepEqual([u.provider, u.input_tokens, u.output_tokens], ['anthropic', 6, 5]);
    });

    it('streaming with include_usage: deltas, one finish_reason, final usage chunk', async () => {
      const stream = await openai.chat.completions.create({
        model: 'claude-sonnet-4-5', max_tokens: 7, stream: true, stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'alpha beta gamma' }],
      });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      assert.equal(chunks.flatMap((c) => c.choices.map((ch) => ch.delta?.content ?? '')).join(''),
        'Hello from the tollway mock provider.');
      assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1);
      const lastChunk = chunks.at(-1);
      assert.deepEqual(lastChunk.choices, []);
      assert.deepEqual([lastChunk.usage.prompt_tokens, lastChunk.usage.completion_tokens], [3, 7]);
      assert.equal(last().json.stream, true);
    });

    it('chat.completions.stream() accumulator: finalChatCompletion()', async () => {
      const runner = openai.chat.completions.stream({
        model: 'claude-haiku-4-5', max_tokens: 3, stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'x y' }],
      });
      const deltas = [];
      runner.on('content', (d) => deltas.push(d));
      const final = await runner.finalChatCompletion();
      assert.equal(final.choices[0].message.content, 'Hello from the');
      assert.equal(final.choices[0].message.role, 'assistant');
      assert.equal(final.choices[0].finish_reason, 'length');
      assert.equal(deltas.join(''), 'Hello from the');
      assert.equal(final.usage.completion_tokens, 3);
    });

    it('tool calls round trip: stream accumulator assembles the call, the tool result goes back', async () => {
      const messages = [{ role: 'user', content: 'weather in Paris?' }];
      const runner = openai.chat.completions.stream({ model: 'claude-sonnet-4-5', tools: [WEATHER_TOOL_OPENAI],
        messages }, { headers: { 'x-mock-scenario': 'tool-call' } });
      const final = await runner.finalChatCompletion();
      const msg = final.choices[0].message;
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      assert.equal(msg.content, 'Let me check.');
      assert.equal(msg.tool_calls.length, 1);
      assert.equal(msg.tool_calls[0].id, 'toolu_mock0001');
      assert.equal(msg.tool_calls[0].function.name, 'get_weather');
      assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), JSON.parse(MOCK_TOOL_ARGUMENTS));
      // The assistant message goes back as the SDK returned it, followed by the tool's result.
      const next = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', max_tokens: 4,
        tools: [WEATHER_TOOL_OPENAI], messages: [...messages, msg,
          { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: '18C, cloudy' }] });
      assert.equal(next.choices[0].finish_reason, 'length');
      const sent = last().json.messages;
      assert.deepEqual(sent[1], { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_mock0001', name: 'get_weather', input: JSON.parse(MOCK_TOOL_ARGUMENTS) }] });
      assert.deepEqual(sent[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_mock0001',
        content: '18C, cloudy' }] });
    });

    it('non-streaming tool call: tool_calls with JSON arguments', async () => {
      const r = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', tools: [WEATHER_TOOL_OPENAI],
        tool_choice: 'required', messages: [{ role: 'user', content: 'w?' }] }, { headers: { 'x-mock-scenario': 'tool-call' } });
      assert.equal(r.choices[0].finish_reason, 'tool_calls');
      assert.deepEqual(JSON.parse(r.choices[0].message.tool_calls[0].function.arguments), JSON.parse(MOCK_TOOL_ARGUMENTS));
      assert.deepEqual(last().json.tool_choice, { type: 'any' });
    });

    it('typed errors: Anthropic 429 -> RateLimitError, 500 -> InternalServerError, refusal -> BadRequestError', async () => {
      const body = { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] };
      const e429 = await rejects(openai.chat.completions.create(body, { headers: { 'x-mock-scenario': 'fail:429' } }),
        OpenAIRateLimitError);
      assert.equal(e429.status, 429);
      assert.equal(e429.code, 'rate_limit_error');
      assert.match(e429.message, /per-minute rate limit/);
      assert.equal(e429.headers.get('retry-after'), '20');
      const e500 = await rejects(openai.chat.completions.create(body, { headers: { 'x-mock-scenario': 'fail:500' } }),
        OpenAIInternalServerError);
      assert.equal(e500.status, 500);
      const refused = await rejects(openai.chat.completions.create({ ...body, n: 3 }), OpenAIBadRequestError);
      assert.equal(refused.code, 'translation_unsupported');
    });

    it('an error event mid-stream raises APIError from the stream', async () => {
      const stream = await openai.chat.completions.create({ model: 'claude-haiku-4-5', stream: true,
        messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'replay:anthropic_messages_error_midstream' } });
      const seen = [];
      const err = await rejects((async () => { for await (const c of stream) seen.push(c); })(), OpenAIAPIError);
      assert.match(err.message, /Overloaded/);
      assert.ok(seen.length > 0);
    });
  });

  describe('anthropic sdk -> gpt-*', () => {
    it('messages.create, non-streaming', async () => {
      const m = await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 6, system: 'be terse',
        messages: [{ role: 'user', content: 'one two three' }] });
      assert.equal(m.type, 'message');
      assert.equal(m.content[0].text, 'Hello from the tollway mock provider');
      assert.equal(m.stop_reason, 'max_tokens');
      assert.deepEqual([m.usage.input_tokens, m.usage.output_tokens], [5, 6]);
      const req = last();
      assert.equal(req.url, '/v1/chat/completions');
      assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
      assert.equal(req.headers['anthropic-version'], undefined);
      assert.deepEqual(req.json.messages[0], { role: 'system', content: 'be terse' });
      assert.equal(req.json.max_completion_tokens, 6);
    });

    it('messages.stream() + finalMessage(): text events and usage', async () => {
      const stream = anthropic.messages.stream({ model: 'gpt-4o', max_tokens: 4,
        messages: [{ role: 'user', content: 'a b c' }] });
      const texts = [];
      stream.on('text', (t) => texts.push(t));
      const final = await stream.finalMessage();
      assert.equal(final.content[0].text, 'Hello from the tollway');
      assert.equal(texts.join(''), 'Hello from the tollway');
      assert.equal(final.stop_reason, 'max_tokens');
      assert.deepEqual([final.usage.input_tokens, final.usage.output_tokens], [3, 4]);
      assert.deepEqual(last().json.stream_options, { include_usage: true });
    });

    it('tool use round trip: finalMessage() has the tool_use input; the tool_result goes back', async () => {
      const messages = [{ role: 'user', content: 'weather in Paris?' }];
      const stream = anthropic.messages.stream({ model: 'gpt-4o', max_tokens: 100, tools: [WEATHER_TOOL_ANTHROPIC],
        messages }, { headers: { 'x-mock-scenario': 'tool-call' } });
      const final = await stream.finalMessage();
      assert.equal(final.stop_reason, 'tool_use');
      const use = final.content.find((b) => b.type === 'tool_use');
      assert.equal(use.name, 'get_weather');
      assert.deepEqual(use.input, JSON.parse(MOCK_TOOL_ARGUMENTS));
      const next = await anthropic.messages.create({ model: 'gpt-4o', max_tokens: 4, tools: [WEATHER_TOOL_ANTHROPIC],
        messages: [...messages, { role: 'assistant', content: final.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18C' }] }] });
      assert.equal(next.stop_reason, 'max_tokens');
      const sent = last().json.messages;
      assert.deepEqual(sent[1].tool_calls, [{ id: use.id, type: 'function',
        function: { name: 'get_weather', arguments: JSON.stringify(JSON.parse(MOCK_TOOL_ARGUMENTS)) } }]);
      assert.deepEqual(sent[2], { role: 'tool', tool_call_id: use.id, content: '18C' });
    });

    it('typed errors: OpenAI 429 -> RateLimitError, 500 -> InternalServerError, refusal -> BadRequestError', async () => {
      const body = { model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
      const e429 = await rejects(anthropic.messages.create(body, { headers: { 'x-mock-scenario': 'fail:429' } }),
        AnthropicRateLimitError);
      assert.equal(e429.status, 429);
      assert.equal(e429.error.error.type, 'rate_limit_error');
      await rejects(anthropic.messages.create(body, { headers: { 'x-mock-scenario': 'fail:500' } }),
        AnthropicInternalServerError);
      const refused = await rejects(anthropic.messages.create({ ...body, top_k: 3 }), AnthropicBadRequestError);
      assert.match(refused.message, /top_k/);
    });
  });
});

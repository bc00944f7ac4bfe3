// E2E: the official Anthropic TypeScript SDK against the mock provider directly, then through the gateway.
// Messages (JSON; raw SSE events; messages.stream() + finalMessage()), count_tokens, usage intact, and errors
// mapped to the SDK's typed APIError subclasses.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic, { APIError, RateLimitError, InternalServerError, NotFoundError, BadRequestError } from '@anthropic-ai/sdk';
import { TARGETS, startTarget } from './common.mjs';

const SDK_ANTHROPIC_VERSION = '2026-10-21'; // the anthropic-version header @anthropic-ai/sdk 1.13.0 sends

for (const target of TARGETS) {
  describe(`anthropic sdk -> ${target}`, () => {
    let t; let client;
    before(async () => {
      t = await startTarget(target);
      client = new Anthropic({ apiKey: 'sk-ant-client-own-key', baseURL: t.base, maxRetries: 0, timeout: 10000 });
    });
    after(async () => { await t?.close(); });

    const lastRequest = () => t.mock.requests[t.mock.requests.length - 1];

    it('messages, non-streaming: content and usage intact, key handling', async () => {
      const m = await client.messages.create({
        model: 'claude-sonnet-4-6', max_tokens: 6, system: 'be terse',
        messages: [{ role: 'user', content: 'one two three' }],
      });
      assert.equal(m.type, 'message');
      assert.equal(m.role, 'assistant');
      assert.equal(m.content[0].type, 'text');
      assert.equal(m.content[0].text, 'Hello from the tollway mock provider');
      assert.equal(m.usage.input_tokens, 5);
      assert.equal(m.usage.output_tokens, 6);
      assert.equal(m.stop_reason, 'max_tokens');
      const req = lastRequest();
      assert.equal(req.url, '/v1/messages');
      // The caller's own anthropic-version is kept (the configured one is only a default).
      assert.equal(req.headers['anthropic-version'], SDK_ANTHROPIC_VERSION);
      if (target === 'gateway') {
        assert.equal(req.headers['x-api-key'], 'sk-ant-test-anthropic');
        assert.equal(req.headers.authorization, undefined);
      } else {
        // @anthropic-ai/sdk 1.13.0 sends the key as Authorization: Bearer.
        assert.equal(req.headers.authorization, 'Bearer sk-ant-client-own-key');
      }
    });

    it('messages, raw SSE: the full event sequence in order', async () => {
      const stream = await client.messages.create({
        model: 'claude-haiku-4-5', max_tokens: 4, stream: true, messages: [{ role: 'user', content: 'a b' }],
      });
      const types = []; let text = ''; let delta = null; let start = null;
      for await (const ev of stream) {
        types.push(ev.type);
        if (ev.type === 'message_start') start = ev.message;
        if (ev.type === 'content_block_delta') text += ev.delta.text;
        if (ev.type === 'message_delta') delta = ev;
      }
      assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta',
        'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
      assert.equal(text, 'Hello from the tollway');
      assert.equal(start.usage.input_tokens, 2);
      assert.equal(delta.usage.output_tokens, 4);
      // ping is on the wire (the SDK drops it): check the mock sent it.
      assert.ok(lastRequest().sentEvents.length === 10, `mock sent ${lastRequest().sentEvents.length} events`);
    });

    it('messages.stream() + finalMessage(): text events and final usage', async () => {
      const stream = client.messages.stream({
        model: 'claude-sonnet-4-6', max_tokens: 9, messages: [{ role: 'user', content: 'count to nine please' }],
      });
      const pieces = [];
      stream.on('text', (d) => pieces.push(d));
      const final = await stream.finalMessage();
      assert.equal(pieces.length, 9);
      assert.equal(final.content[0].text, pieces.join(''));
      assert.equal(final.usage.input_tokens, 4);
      assert.equal(final.usage.output_tokens, 9);
      assert.equal(final.stop_reason, 'max_tokens');
    });

    it('count_tokens', async () => {
      const r = await client.messages.countTokens({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x y z' }] });
      assert.equal(r.input_tokens, 3);
    });

    it('429 from the provider surfaces as RateLimitError with the provider body', async () => {
      await assert.rejects(
        client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-mock-scenario': 'fail:429' } }),
        (err) => {
          assert.ok(err instanceof RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
          assert.equal(err.status, 429);
          assert.equal(err.error.type, 'error');
          assert.equal(err.error.error.type, 'rate_limit_error');
          assert.equal(err.headers.get('retry-after'), '20');
          return true;
        });
    });

    it('500 from the provider surfaces as InternalServerError', async () => {
      await assert.rejects(
        client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-mock-scenario': 'fail:500' } }),
        (err) => {
          assert.ok(err instanceof InternalServerError, `got ${err?.constructor?.name}`);
          assert.equal(err.status, 500);
          assert.equal(err.error.error.type, 'api_error');
          return true;
        });
    });

    it('404 surfaces as NotFoundError', async () => {
      // Through the gateway: no route serves the path. Direct: the mock's own 404.
      await assert.rejects(client.get('/v1/no-such-endpoint'), (err) => {
        assert.ok(err instanceof NotFoundError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 404);
        return true;
      });
    });

    it('400 surfaces as BadRequestError (gateway: a gpt model asked for what translation cannot express)', async () => {
      const before = t.mock.requests.length;
      const p = target === 'gateway'
        ? client.messages.create({ model: 'gpt-4o-mini', max_tokens: 5, top_k: 3, messages: [{ role: 'user', content: 'hi' }] })
        : client.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-mock-scenario': 'fail:400' } });
      await assert.rejects(p, (err) => {
        assert.ok(err instanceof BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.ok(err instanceof APIError);
        assert.equal(err.status, 400);
        assert.equal(err.error.type, 'error');
        assert.equal(err.error.error.type, 'invalid_request_error');
        return true;
      });
      if (target === 'gateway') assert.equal(t.mock.requests.length, before, 'a gateway 400 never reaches the provider');
    });
  });
}

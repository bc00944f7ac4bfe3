// E2E: the official OpenAI Node SDK against the mock provider directly, then through the tollway gateway.
// Chat completions (JSON and SSE with include_usage), responses (JSON and SSE), embeddings (base64 default and
// float), models list, and errors mapped to the SDK's typed APIError subclasses.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { APIError, RateLimitError, InternalServerError, NotFoundError, BadRequestError } from 'openai';
import { TARGETS, startTarget } from './common.mjs';

for (const target of TARGETS) {
  describe(`openai sdk -> ${target}`, () => {
    let t; let client;
    before(async () => {
      t = await startTarget(target);
      client = new OpenAI({ apiKey: 'sk-client-own-key', baseURL: `${t.base}/v1`, maxRetries: 0, timeout: 10000 });
    });
    after(async () => { await t?.close(); });

    const lastRequest = () => t.mock.requests[t.mock.requests.length - 1];

    it('chat completion, non-streaming: content and usage intact', async () => {
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini', max_tokens: 5,
        messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'one two three four' }],
      });
      assert.equal(r.object, 'chat.completion');
      assert.equal(r.choices[0].message.role, 'assistant');
      assert.equal(r.choices[0].message.content, 'Hello from the tollway mock');
      assert.deepEqual({ p: r.usage.prompt_tokens, c: r.usage.completion_tokens, t: r.usage.total_tokens },
        { p: 6, c: 5, t: 11 });
      const req = lastRequest();
      assert.equal(req.url, '/v1/chat/completions');
      assert.equal(req.json.model, 'gpt-4o-mini');
      if (target === 'gateway') assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
      else assert.equal(req.headers.authorization, 'Bearer sk-client-own-key');
    });

    it('chat completion, streaming with include_usage: every delta, final usage chunk with empty choices', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini', max_tokens: 7, stream: true, stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'alpha beta gamma' }],
      });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta?.content ?? '')).join('');
      assert.equal(text, 'Hello from the tollway mock provider.');
      const last = chunks[chunks.length - 1];
      assert.deepEqual(last.choices, []);
      assert.deepEqual({ p: last.usage.prompt_tokens, c: last.usage.completion_tokens, t: last.usage.total_tokens },
        { p: 3, c: 7, t: 10 });
      assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'earlier chunks carry usage: null');
      assert.equal(chunks.filter((c) => c.choices[0]?.finish_reason).length, 1);
    });

    it('chat completion stream helper: finalChatCompletion assembles the message', async () => {
      const runner = client.chat.completions.stream({
        model: 'gpt-4o', max_tokens: 3, messages: [{ role: 'user', content: 'x y' }],
        stream_options: { include_usage: true },
      });
      const final = await runner.finalChatCompletion();
      assert.equal(final.choices[0].message.content, 'Hello from the');
      assert.equal(final.usage.prompt_tokens, 2);
      assert.equal(final.usage.completion_tokens, 3);
    });

    it('responses: non-streaming output_text and usage', async () => {
      const r = await client.responses.create({ model: 'gpt-4o-mini', input: 'tell me a b c', max_output_tokens: 4 });
      assert.equal(r.object, 'response');
      assert.equal(r.status, 'completed');
      assert.equal(r.output_text, 'Hello from the tollway');
      assert.equal(r.usage.input_tokens, 5);
      assert.equal(r.usage.output_tokens, 4);
      assert.equal(r.usage.total_tokens, 9);
    });

    it('responses: streaming events end with response.completed carrying usage', async () => {
      const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'p q', max_output_tokens: 3, stream: true });
      const types = []; let text = ''; let completed = null;
      for await (const ev of stream) {
        types.push(ev.type);
        if (ev.type === 'response.output_text.delta') text += ev.delta;
        if (ev.type === 'response.completed') completed = ev.response;
      }
      assert.equal(types[0], 'response.created');
      assert.equal(types[types.length - 1], 'response.completed');
      assert.equal(types.filter((x) => x === 'response.output_text.delta').length, 3);
      assert.equal(text, 'Hello from the');
      assert.equal(completed.usage.input_tokens, 2);
      assert.equal(completed.usage.output_tokens, 3);
    });

    it('embeddings: SDK default base64 decodes to floats; float format as-is', async () => {
      const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a b', 'c d e'] });
      assert.equal(r.data.length, 2);
      assert.equal(r.data[0].embedding.length, 8);
      assert.equal(typeof r.data[0].embedding[0], 'number');
      assert.equal(r.usage.prompt_tokens, 5);
      assert.equal(lastRequest().json.encoding_format, 'base64');
      const f = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a b', encoding_format: 'float', dimensions: 4 });
      assert.equal(f.data[0].embedding.length, 4);
      assert.deepEqual(r.data[0].embedding.map((x) => Math.fround(x)), r.data[0].embedding);
    });

    it('models: list pages through the data', async () => {
      const ids = [];
      for await (const m of client.models.list()) ids.push(m.id);
      assert.ok(ids.includes('gpt-4o-mini'));
      assert.ok(ids.includes('text-embedding-3-small'));
      const one = await client.models.retrieve('gpt-4o');
      assert.equal(one.id, 'gpt-4o');
    });

    it('429 from the provider surfaces as RateLimitError with the provider body and retry headers', async () => {
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-mock-scenario': 'fail:429' } }),
        (err) => {
          assert.ok(err instanceof RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
          assert.equal(err.status, 429);
          assert.equal(err.code, 'rate_limit_exceeded');
          assert.equal(err.type, 'requests');
          assert.equal(err.headers.get('retry-after'), '20');
          assert.equal(err.headers.get('x-ratelimit-remaining-requests'), '0');
          return true;
        });
    });

    it('500 from the provider surfaces as InternalServerError', async () => {
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-mock-scenario': 'fail:500' } }),
        (err) => {
          assert.ok(err instanceof InternalServerError, `got ${err?.constructor?.name}`);
          assert.equal(err.status, 500);
          assert.equal(err.type, 'server_error');
          return true;
        });
    });

    it('404 surfaces as NotFoundError', async () => {
      // Through the gateway: a path no route serves (gateway-generated 404). Direct: an unknown model.
      const p = target === 'gateway' ? client.get('/no-such-endpoint') : client.models.retrieve('no-such-model');
      await assert.rejects(p, (err) => {
        assert.ok(err instanceof NotFoundError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 404);
        assert.equal(typeof err.error?.message, 'string');
        return true;
      });
    });

    it('400 surfaces as BadRequestError (gateway: a claude model asked for what translation cannot express)', async () => {
      const before = t.mock.requests.length;
      const p = target === 'gateway'
        ? client.chat.completions.create({ model: 'claude-sonnet-4-5', n: 2, messages: [{ role: 'user', content: 'hi' }] })
        : client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
          { headers: { 'x-mock-scenario': 'fail:400' } });
      await assert.rejects(p, (err) => {
        assert.ok(err instanceof BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
        assert.ok(err instanceof APIError);
        assert.equal(err.status, 400);
        assert.equal(err.type, 'invalid_request_error');
        return true;
      });
      if (target === 'gateway') assert.equal(t.mock.requests.length, before, 'a gateway 400 never reaches the provider');
    });
  });
}

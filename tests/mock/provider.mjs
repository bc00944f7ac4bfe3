// Mock LLM provider for tollway's tests and benchmarks: serves OpenAI (/v1/chat/completions, /v1/responses and
// GET /v1/responses/{id},
// /v1/embeddings, /v1/models, /v1/audio/transcriptions answering a fixed text whatever the upload; also under
// Azure OpenAI's /openai/deployments/{deployment}/... and /openai/v1/...), Anthropic (/v1/messages,
// /v1/messages/count_tokens) and Gemini (models/{model}:generateContent and :streamGenerateContent, answered
// with the recorded responses) with the providers' real response, SSE and error shapes, and records what
// reached it (rec.azureDeployment, rec.geminiModel). Node built-ins only.
//
// Module:  const mock = await startMockProvider({ tls?: {key, cert}, port?: 0, fast?: false });
//          mock.url, mock.port, mock.requests (every request: method, url, headers, rawHeaders, body bytes),
//          mock.rawBytes() (bytes read on every connection, counted by the kernel socket, parsed or not),
//          mock.connections (per connection: id, bytesRead(), requests, closed), mock.setScenario(s),
//          mock.failNext(n, status = 500, {retryAfter, retryAfterMs}) (the next n requests fail with `status`,
//          whatever their scenario; retry-after headers as given), mock.reset(), await mock.close().
// CLI:     node tests/mock/provider.mjs --port N [--host H] [--fast]   (prints one JSON "ready" line on stdout)
//
// Scenarios, per request via header `x-mock-scenario` (comma-separated), or for all via setScenario():
//   slow-first-byte:<ms>  wait before the response head          slow-stream:<ms>  wait between SSE events
//   fail:<status>         the provider's own error body/headers   cut               close the socket mid-body
//   hang                  never answer                            chunked | content-length  framing of JSON bodies
//   hop-by-hop            add hop-by-hop response headers (Keep-Alive, Connection: x-hop, x-hop, Proxy-Connection)
//   status:<code>         answer the normal body with this status (for passthrough checks)
//   replay:<name>         send tests/mock/recorded/<name>.sse byte for byte as a 200 SSE body, in 61-byte
//                         writes (slow-stream applies between writes; cut closes the socket halfway)
//   tool-call             chat completions / messages with `tools`: answer with a call of the first tool
//                         (arguments {"location":"Paris","unit":"celsius"}), JSON or SSE, in the API's own shape
//
// Usage numbers are derived from the request (see usageFor) so a test can assert they arrive intact.
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const RECORDED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'recorded');
/** The bytes of a recorded stream (tests/mock/recorded/<name>.sse). */
export function recordedStream(name) {
  return fs.readFileSync(path.join(RECORDED_DIR, `${name}.sse`));
}

const WORDS = ['Hello', ' from', ' the', ' tollway', ' mock', ' provider', '.', ' It', ' streams', ' one',
  ' token', ' per', ' event', ' so', ' tests', ' can', ' count', ' them'];

/** Whitespace-separated words in every text field of the prompt; the mock's "token" count. */
export function promptTokensFor(body) {
  let n = 0;
  const visit = (v) => {
    if (typeof v === 'string') n += v.split(/\s+/).filter(Boolean).length;
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      if (typeof v.text === 'string') visit(v.text);
      if (v.content !== undefined) visit(v.content);
    }
  };
  if (body) {
    if (body.system !== undefined) visit(body.system);
    if (body.instructions !== undefined) visit(body.instructions);
    if (body.messages !== undefined) visit(body.messages);
    if (body.input !== undefined) visit(body.input);
    if (body.prompt !== undefined) visit(body.prompt);
  }
  return Math.max(1, n);
}

/** Completion "tokens": max_tokens-style limit if given (capped at 64), else 8. */
export function completionTokensFor(body) {
  const lim = body?.max_completion_tokens ?? body?.max_tokens ?? body?.max_output_tokens;
  if (Number.isInteger(lim) && lim > 0) return Math.min(lim, 64);
  return 8;
}

export function usageFor(body) {
  const prompt = promptTokensFor(body);
  const completion = completionTokensFor(body);
  return { prompt, completion, total: prompt + completion };
}

export function completionText(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += WORDS[i % WORDS.length];
  return s;
}

function tokenPieces(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(WORDS[i % WORDS.length]);
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rid = (prefix, n = 24) => prefix + crypto.randomBytes(n).toString('base64url').slice(0, n);

export function parseScenario(str) {
  const s = { slowFirstByte: 0, slowStream: 0, fail: 0, cut: false, hang: false, framing: null, hop: false,
    status: 0, replay: null, toolCall: false };
  if (!str) return s;
  for (const part of String(str).split(',').map((x) => x.trim()).filter(Boolean)) {
    const [name, arg] = part.split(':');
    switch (name) {
      case 'slow-first-byte': s.slowFirstByte = Number(arg) || 0; break;
      case 'slow-stream': s.slowStream = Number(arg) || 0; break;
      case 'fail': s.fail = Number(arg) || 500; break;
      case 'status': s.status = Number(arg) || 200; break;
      case 'cut': s.cut = true; break;
      case 'hang': s.hang = true; break;
      case 'chunked': s.framing = 'chunked'; break;
      case 'content-length': s.framing = 'content-length'; break;
      case 'hop-by-hop': s.hop = true; break;
      case 'replay': s.replay = arg; break;
      case 'tool-call': s.toolCall = true; break;
      default: break;
    }
  }
  return s;
}

// ---- error bodies in each provider's own shape --------------------------------------------------------
const OPENAI_ERRORS = {
  400: ['invalid_request_error', null, 'Invalid request (mock).'],
  401: ['invalid_request_error', 'invalid_api_key', 'Incorrect API key provided: sk-mock***. (mock)'],
  403: ['invalid_request_error', 'unsupported_country_region_territory', 'Country, region, or territory not supported (mock).'],
  404: ['invalid_request_error', 'model_not_found', 'The model does not exist or you do not have access to it (mock).'],
  429: ['requests', 'rate_limit_exceeded', 'Rate limit reached for gpt-4o-mini in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.'],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later'],
};
function openaiError(status) {
  const [type, code, message] = OPENAI_ERRORS[status] ?? ['server_error', null, `Mock failure with status ${status}`];
  return { error: { message, type, param: null, code } };
}
const ANTHROPIC_ERRORS = {
  400: ['invalid_request_error', 'messages: field required (mock)'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit (mock).'],
  500: ['api_error', 'An unexpected error has occurred internal to Anthropic\'s systems.'],
  529: ['overloaded_error', 'Overloaded'],
};
const GEMINI_STATUS = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };
function geminiError(status, message) {
  return { error: { code: status, message: message ?? `mock error ${status}`, status: GEMINI_STATUS[status] ?? 'UNKNOWN' } };
}

function anthropicError(status, requestId) {
  const [type, message] = ANTHROPIC_ERRORS[status] ?? ['api_error', `Mock failure with status ${status}`];
  return { type: 'error', error: { type, message }, request_id: requestId };
}

// ---- response builders ---------------------------------------------------------------------------------
function chatCompletion(body, created) {
  const u = usageFor(body);
  return {
    id: rid('chatcmpl-'), object: 'chat.completion', created, model: body.model ?? 'gpt-4o-mini',
    choices: [{
      index: 0,
      message: { role: 'assistant', content: completionText(u.completion), refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: completionTokensFor(body) === (body.max_tokens ?? body.max_completion_tokens) ? 'length' : 'stop',
    }],
    usage: {
      prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.total,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0 },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_mock0001',
  };
}

function chatCompletionEvents(body, created) {
  const u = usageFor(body);
  const id = rid('chatcmpl-');
  const model = body.model ?? 'gpt-4o-mini';
  const withUsage = body.stream_options?.include_usage === true;
  const base = () => ({ id, object: 'chat.completion.chunk', created, model, service_tier: 'default',
    system_fingerprint: 'fp_mock0001' });
  const chunk = (delta, finish) => {
    const c = { ...base(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (withUsage) c.usage = null;
    return c;
  };
  const events = [];
  events.push({ data: JSON.stringify(chunk({ role: 'assistant', content: '', refusal: null }, null)) });
  for (const p of tokenPieces(u.completion)) events.push({ data: JSON.stringify(chunk({ content: p }, null)) });
  const finish = completionTokensFor(body) === (body.max_tokens ?? body.max_completion_tokens) ? 'length' : 'stop';
  events.push({ data: JSON.stringify(chunk({}, finish)) });
  if (withUsage) {
    events.push({ data: JSON.stringify({ ...base(), choices: [], usage: {
      prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.total,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0 } } }) });
  }
  events.push({ data: '[DONE]' });
  return events;
}

function responsesObject(body, createdAt, status, text, u, ids) {
  const done = status === 'completed';
  return {
    id: ids.resp, object: 'response', created_at: createdAt, status, background: false, error: null,
    incomplete_details: null, instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null,
    model: body.model ?? 'gpt-4o-mini',
    output: done ? [{ id: ids.msg, type: 'message', status: 'completed', role: 'assistant',
      content: [{ type: 'output_text', annotations: [], logprobs: [], text }] }] : [],
    parallel_tool_calls: true, previous_response_id: body.previous_response_id ?? null, reasoning: { effort: null, summary: null },
    service_tier: 'default', store: body.store ?? true, temperature: body.temperature ?? 1,
    text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: body.top_p ?? 1, truncation: 'disabled',
    usage: done ? { input_tokens: u.prompt, input_tokens_details: { cached_tokens: 0 }, output_tokens: u.completion,
      output_tokens_details: { reasoning_tokens: 0 }, total_tokens: u.total } : null,
    user: null, metadata: body.metadata ?? {},
  };
}

function responsesEvents(body, createdAt) {
  const u = usageFor(body);
  const ids = { resp: rid('resp_', 32), msg: rid('msg_', 32) };
  const text = completionText(u.completion);
  const events = [];
  let seq = 0;
  const ev = (type, obj) => events.push({ event: type, data: JSON.stringify({ type, sequence_number: seq++, ...obj }) });
  ev('response.created', { response: responsesObject(body, createdAt, 'in_progress', '', u, ids) });
  ev('response.in_progress', { response: responsesObject(body, createdAt, 'in_progress', '', u, ids) });
  ev('response.output_item.added', { output_index: 0, item: { id: ids.msg, type: 'message', status: 'in_progress',
    content: [], role: 'assistant' } });
  ev('response.content_part.added', { item_id: ids.msg, output_index: 0, content_index: 0,
    part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
  for (const p of tokenPieces(u.completion)) {
    ev('response.output_text.delta', { item_id: ids.msg, output_index: 0, content_index: 0, delta: p, logprobs: [] });
  }
  ev('response.output_text.done', { item_id: ids.msg, output_index: 0, content_index: 0, text, logprobs: [] });
  ev('response.content_part.done', { item_id: ids.msg, output_index: 0, content_index: 0,
    part: { type: 'output_text', annotations: [], logprobs: [], text } });
  ev('response.output_item.done', { output_index: 0, item: { id: ids.msg, type: 'message', status: 'completed',
    content: [{ type: 'output_text', annotations: [], logprobs: [], text }], role: 'assistant' } });
  ev('response.completed', { response: responsesObject(body, createdAt, 'completed', text, u, ids) });
  return events;
}

function embedding(index, dims, seed) {
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = Math.fround(Math.sin(seed * 31 + index * 7 + i) / 10);
  return v;
}

function embeddings(body) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const dims = Number.isInteger(body.dimensions) ? body.dimensions : 8;
  const tokens = promptTokensFor({ input: inputs.filter((x) => typeof x === 'string') });
  const data = inputs.map((inp, index) => {
    const v = embedding(index, dims, String(inp).length);
    const emb = body.encoding_format === 'base64' ? Buffer.from(v.buffer).toString('base64') : Array.from(v);
    return { object: 'embedding', index, embedding: emb };
  });
  return { object: 'list', data, model: body.model ?? 'text-embedding-3-small',
    usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'o3-mini', 'text-embedding-3-small'];
function modelsList() {
  return { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })) };
}

function anthropicMessage(body, u, id) {
  const stop = completionTokensFor(body) === body.max_tokens ? 'max_tokens' : 'end_turn';
  return {
    id, type: 'message', role: 'assistant', model: body.model ?? 'claude-sonnet-4-5',
    content: [{ type: 'text', text: completionText(u.completion) }],
    stop_reason: stop, stop_sequence: null,
    usage: { input_tokens: u.prompt, cache_creation_input_tokens: 0, cache_read_input_tokens: 0,
      output_tokens: u.completion, service_tier: 'standard' },
  };
}

function anthropicEvents(body) {
  const u = usageFor(body);
  const id = rid('msg_01', 22);
  const events = [];
  const ev = (type, obj) => events.push({ event: type, data: JSON.stringify({ type, ...obj }) });
  ev('message_start', { message: { id, type: 'message', role: 'assistant', model: body.model ?? 'claude-sonnet-4-5',
    content: [], stop_reason: null, stop_sequence: null,
    usage: { input_tokens: u.prompt, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1,
      service_tier: 'standard' } } });
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  ev('ping', {});
  for (const p of tokenPieces(u.completion)) ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } });
  ev('content_block_stop', { index: 0 });
  const stop = completionTokensFor(body) === body.max_tokens ? 'max_tokens' : 'end_turn';
  ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: u.completion } });
  ev('message_stop', {});
  return events;
}

// ---- tool calls (scenario tool-call) -------------------------------------------------------------------
export const MOCK_TOOL_ARGUMENTS = '{"location":"Paris","unit":"celsius"}';
const TOOL_ARGUMENT_PIECES = ['{"loc', 'ation":"Pa', 'ris","unit"', ':"celsius"}'];

function firstToolName(body) {
  const t = body.tools?.[0];
  return t?.function?.name ?? t?.name ?? 'tool';
}

function chatToolCall(body, created) {
  const c = chatCompletion(body, created);
  c.choices[0].message = { role: 'assistant', content: null, refusal: null, annotations: [],
    tool_calls: [{ id: 'call_mock0001', type: 'function', function: { name: firstToolName(body), arguments: MOCK_TOOL_ARGUMENTS } }] };
  c.choices[0].finish_reason = 'tool_calls';
  return c;
}

function chatToolCallEvents(body, created) {
  const events = chatCompletionEvents({ ...body, max_tokens: 1, max_completion_tokens: undefined }, created);
  const first = JSON.parse(events[0].data);
  const chunk = (delta, finish) => JSON.stringify({ ...first, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const out = [{ data: chunk({ role: 'assistant', content: null, refusal: null }, null) }];
  out.push({ data: chunk({ tool_calls: [{ index: 0, id: 'call_mock0001', type: 'function',
    function: { name: firstToolName(body), arguments: '' } }] }, null) });
  for (const p of TOOL_ARGUMENT_PIECES) out.push({ data: chunk({ tool_calls: [{ index: 0, function: { arguments: p } }] }, null) });
  out.push({ data: chunk({}, 'tool_calls') });
  const usage = events.find((e) => e.data.includes('"choices":[]'));
  if (usage) out.push(usage);
  out.push({ data: '[DONE]' });
  return out;
}

function anthropicToolUse(body, u, id) {
  const m = anthropicMessage(body, u, id);
  m.content = [{ type: 'text', text: 'Let me check.' },
    { type: 'tool_use', id: 'toolu_mock0001', name: firstToolName(body), input: JSON.parse(MOCK_TOOL_ARGUMENTS) }];
  m.stop_reason = 'tool_use';
  return m;
}

function anthropicToolUseEvents(body) {
  const all = anthropicEvents(body);
  const start = all[0];
  const u = usageFor(body);
  const events = [start];
  const ev = (type, obj) => events.push({ event: type, data: JSON.stringify({ type, ...obj }) });
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Let me check.' } });
  ev('content_block_stop', { index: 0 });
  ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_mock0001', name: firstToolName(body), input: {} } });
  ev('ping', {});
  for (const p of TOOL_ARGUMENT_PIECES) ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: p } });
  ev('content_block_stop', { index: 1 });
  ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: u.completion } });
  ev('message_stop', {});
  return events;
}

// ---- the server --------------------------------------------------------------------------------------
const FAST_BODY = JSON.stringify(chatCompletion({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] },
  1735689600));

export async function startMockProvider(opts = {}) {
  const host = opts.host ?? '127.0.0.1';
  const fast = !!opts.fast;
  const requests = [];
  const connections = [];
  const sockets = new Set();
  let defaultScenario = opts.scenario ?? '';
  let failures = { left: 0, status: 500, retryAfter: undefined, retryAfterMs: undefined };
  let nextConn = 1;

  const handler = (req, res) => {
    if (fast) return fastHandler(req, res);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const conn = req.socket.__mockConn;
      const rec = {
        method: req.method, url: req.url, httpVersion: req.httpVersion, headers: { ...req.headers },
        rawHeaders: [...req.rawHeaders], body, bodyText: body.toString('utf8'), json: undefined,
        connectionId: conn?.id ?? 0, receivedAt: Date.now(), sentEvents: [], aborted: false,
      };
      try { rec.json = body.length ? JSON.parse(rec.bodyText) : undefined; } catch { rec.json = undefined; }
      requests.push(rec);
      if (conn) conn.requests++;
      res.on('close', () => { if (!res.writableFinished) rec.aborted = true; });
      respond(req, res, rec).catch((err) => {
        rec.error = String(err);
        if (!res.headersSent) { res.statusCode = 500; res.end(); } else res.destroy();
      });
    });
  };

  function fastHandler(req, res) {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/chat/completions') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(FAST_BODY) });
        res.end(FAST_BODY);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(openaiError(404)));
      }
    });
  }

  async function respond(req, res, rec) {
    const sc = parseScenario([defaultScenario, req.headers['x-mock-scenario']].filter(Boolean).join(','));
    let retryAfterOverride = null;
    if (failures.left > 0) {
      failures.left--;
      sc.fail = failures.status;
      retryAfterOverride = { 'retry-after': failures.retryAfter, 'retry-after-ms': failures.retryAfterMs };
      rec.failedByFailNext = true;
    }
    rec.scenario = sc;
    if (sc.hang) return; // never answer; close() destroys the socket
    if (sc.slowFirstByte) await sleep(sc.slowFirstByte);
    if (res.destroyed) return;

    // A base_url path prefix (e.g. /base/v1/...) is ignored: route on the part from /v1/ on. Azure OpenAI's
    // deployment URLs (/openai/deployments/{deployment}/chat/completions) are served as the OpenAI path.
    const fullPath = req.url.split('?')[0];
    const azure = fullPath.match(/\/openai\/deployments\/([^/]+)(\/.*)$/);
    if (azure) rec.azureDeployment = decodeURIComponent(azure[1]);
    const v1 = fullPath.indexOf('/v1/');
    const path = azure ? '/v1' + azure[2] : v1 > 0 ? fullPath.slice(v1) : fullPath;
    const gemini = fullPath.match(/\/models\/([^/:]+):(generateContent|streamGenerateContent)$/);
    if (gemini) return respondGemini(req, res, rec, sc, gemini[1], gemini[2]);
    const isAnthropic = path.startsWith('/v1/messages');
    const requestId = isAnthropic ? rid('req_011', 21) : rid('req_', 32);
    const baseHeaders = isAnthropic
      ? { 'request-id': requestId, 'anthropic-organization-id': 'mock-org' }
      : { 'x-request-id': requestId, 'openai-organization': 'mock-org', 'openai-processing-ms': '7',
          'openai-version': '2020-10-01' };
    if (sc.hop) {
      Object.assign(baseHeaders, { 'keep-alive': 'timeout=5, max=100', connection: 'keep-alive, x-hop',
        'x-hop': 'must-be-removed', 'proxy-connection': 'keep-alive', 'x-end-to-end': 'kept' });
    }
    rec.responseRequestId = requestId;

    if (sc.fail) {
      const errBody = isAnthropic ? anthropicError(sc.fail, requestId) : openaiError(sc.fail);
      const h = { ...baseHeaders };
      if (sc.fail === 429) {
        h['retry-after'] = '20';
        if (isAnthropic) {
          h['anthropic-ratelimit-requests-limit'] = '50';
          h['anthropic-ratelimit-requests-remaining'] = '0';
          h['anthropic-ratelimit-requests-reset'] = new Date(Date.now() + 20000).toISOString();
        } else {
          h['x-ratelimit-limit-requests'] = '3';
          h['x-ratelimit-remaining-requests'] = '0';
          h['x-ratelimit-reset-requests'] = '20s';
        }
      }
      if (isAnthropic && (sc.fail >= 500)) h['x-should-retry'] = 'true';
      if (retryAfterOverride) {
        delete h['retry-after'];
        for (const [k, v] of Object.entries(retryAfterOverride)) if (v !== undefined) h[k] = String(v);
      }
      return sendJson(res, sc.fail, errBody, h, sc);
    }

    if (req.method === 'POST' && path === '/v1/audio/transcriptions') {  // a multipart upload, not JSON
      return sendJson(res, sc.status || 200, { text: 'mock transcription' }, baseHeaders, sc);
    }
    let body = rec.json;
    const needsJson = req.method === 'POST';
    if (needsJson && (body === undefined || body === null || typeof body !== 'object')) {
      const err = isAnthropic ? anthropicError(400, requestId) : openaiError(400);
      if (isAnthropic) err.error.message = 'Invalid JSON body (mock)';
      else err.error.message = 'We could not parse the JSON body of your request. (mock)';
      return sendJson(res, 400, err, baseHeaders, sc);
    }
    body = body ?? {};
    const created = Math.floor(Date.now() / 1000);
    const status = sc.status || 200;

    if (sc.replay) return sendRecorded(res, recordedStream(sc.replay), baseHeaders, sc, rec);
    const toolCall = sc.toolCall && Array.isArray(body.tools) && body.tools.length > 0;
    if (req.method === 'POST' && path === '/v1/chat/completions' && toolCall) {
      if (body.stream === true) return sendSse(res, status, chatToolCallEvents(body, created), baseHeaders, sc, rec);
      return sendJson(res, status, chatToolCall(body, created), baseHeaders, sc);
    }
    if (req.method === 'POST' && path === '/v1/messages' && toolCall) {
      if (body.stream === true) return sendSse(res, status, anthropicToolUseEvents(body), baseHeaders, sc, rec);
      return sendJson(res, status, anthropicToolUse(body, usageFor(body), rid('msg_01', 22)), baseHeaders, sc);
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if (body.stream === true) return sendSse(res, status, chatCompletionEvents(body, created), baseHeaders, sc, rec);
      return sendJson(res, status, chatCompletion(body, created), baseHeaders, sc);
    }
    if (req.method === 'POST' && path === '/v1/responses') {
      const evs = responsesEvents(body, created);
      if (body.stream === true) return sendSse(res, status, evs, baseHeaders, sc, rec);
      return sendJson(res, status, JSON.parse(evs[evs.length - 1].data).response, baseHeaders, sc);
    }
    if (req.method === 'POST' && path === '/v1/embeddings') return sendJson(res, status, embeddings(body), baseHeaders, sc);
    if (req.method === 'GET' && path.startsWith('/v1/responses/')) {  // retrieve a response: always a completed one
      const id = decodeURIComponent(path.slice('/v1/responses/'.length));
      return sendJson(res, status, { id, object: 'response', created_at: created, status: 'completed', output: [] }, baseHeaders, sc);
    }
    if (req.method === 'GET' && path === '/v1/models') return sendJson(res, status, modelsList(), baseHeaders, sc);
    if (req.method === 'GET' && path.startsWith('/v1/models/')) {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      if (!MODELS.includes(id)) return sendJson(res, 404, openaiError(404), baseHeaders, sc);
      return sendJson(res, status, { id, object: 'model', created: 1715367049, owned_by: 'system' }, baseHeaders, sc);
    }
    if (req.method === 'POST' && path === '/v1/messages') {
      if (body.stream === true) return sendSse(res, status, anthropicEvents(body), baseHeaders, sc, rec);
      const u = usageFor(body);
      return sendJson(res, status, anthropicMessage(body, u, rid('msg_01', 22)), baseHeaders, sc);
    }
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      return sendJson(res, status, { input_tokens: promptTokensFor(body) }, baseHeaders, sc);
    }
    return sendJson(res, 404, isAnthropic ? anthropicError(404, requestId) : openaiError(404), baseHeaders, sc);
  }

  // Gemini generateContent / streamGenerateContent: the recorded response (tests/mock/recorded/gemini_*), its
  // modelVersion set to the path's model; the stream as SSE with ?alt=sse, else as one JSON array. Errors in
  // Gemini's envelope.
  function respondGemini(req, res, rec, sc, model, method) {
    rec.geminiModel = model;
    const headers = { 'x-goog-request-id': rid('g', 16) };
    if (sc.fail) return sendJson(res, sc.fail, geminiError(sc.fail), headers, sc);
    if (req.method !== 'POST' || !rec.json || typeof rec.json !== 'object' || !Array.isArray(rec.json.contents))
      return sendJson(res, 400, geminiError(400, 'Invalid JSON payload: contents is required (mock)'), headers, sc);
    if (method === 'generateContent') {
      const obj = JSON.parse(fs.readFileSync(path.join(RECORDED_DIR, 'gemini_generate_content.json'), 'utf8'));
      obj.modelVersion = model;
      return sendJson(res, sc.status || 200, obj, headers, sc);
    }
    const stream = recordedStream('gemini_stream_generate_content');
    if (new URL(req.url, 'http://mock').searchParams.get('alt') === 'sse') return sendRecorded(res, stream, headers, sc, rec);
    const chunks = stream.toString('utf8').split('\r\n\r\n').filter(Boolean).map((e) => JSON.parse(e.slice('data: '.length)));
    return sendJson(res, sc.status || 200, chunks, headers, sc);
  }

  function sendJson(res, status, obj, headers, sc) {
    const buf = Buffer.from(JSON.stringify(obj));
    const h = { 'content-type': 'application/json', ...headers };
    if (sc.framing === 'chunked' || sc.cut) {
      // chunked: the body leaves in two chunks so the framing is visible
      res.writeHead(status, h);
      const half = Math.floor(buf.length / 2);
      res.write(buf.subarray(0, half));
      if (sc.cut) { setTimeout(() => res.socket?.destroy(), 20); return; }
      res.end(buf.subarray(half));
      return;
    }
    h['content-length'] = String(buf.length);
    res.writeHead(status, h);
    res.end(buf);
  }

  async function sendSse(res, status, events, headers, sc, rec) {
    res.writeHead(status, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    res.flushHeaders();
    let i = 0;
    for (const e of events) {
      if (res.destroyed) return;
      if (sc.cut && i === 2) { res.socket?.destroy(); rec.cut = true; return; }
      if (i > 0 && sc.slowStream) await sleep(sc.slowStream);
      if (res.destroyed) return;
      const frame = (e.event ? `event: ${e.event}\n` : '') + `data: ${e.data}\n\n`;
      rec.sentEvents.push({ index: i, at: performance.now() + performance.timeOrigin, bytes: frame.length });
      res.write(frame);
      i++;
    }
    res.end();
  }

  async function sendRecorded(res, bytes, headers, sc, rec) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    res.flushHeaders();
    for (let at = 0; at < bytes.length; at += 61) {
      if (res.destroyed) return;
      if (sc.cut && at >= bytes.length / 2) { res.socket?.destroy(); rec.cut = true; return; }
      if (at > 0 && sc.slowStream) await sleep(sc.slowStream);
      if (res.destroyed) return;
      res.write(bytes.subarray(at, at + 61));
      rec.sentEvents.push({ index: at, at: performance.now() + performance.timeOrigin, bytes: Math.min(61, bytes.length - at) });
    }
    res.end();
  }

  const server = opts.tls
    ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert, keepAliveTimeout: opts.keepAliveTimeout ?? 5000 },
      handler)
    : http.createServer({ keepAliveTimeout: opts.keepAliveTimeout ?? 5000 }, handler);
  if (!opts.tls) server.keepAliveTimeout = opts.keepAliveTimeout ?? 5000;
  server.requestTimeout = 0;
  server.headersTimeout = 60000;
  server.maxRequestsPerSocket = 0;

  // Count bytes on every TCP connection, including ones whose bytes never form a request.
  const onConnection = (socket) => {
    const conn = { id: nextConn++, openedAt: Date.now(), requests: 0, closed: false, bytesRead: () => socket.bytesRead };
    socket.__mockConn = conn;
    connections.push(conn);
    sockets.add(socket);
    socket.on('close', () => {
      conn.closed = true;
      const n = socket.bytesRead;
      conn.bytesRead = () => n;
      sockets.delete(socket);
    });
  };
  if (opts.tls) server.on('secureConnection', onConnection);
  else server.on('connection', onConnection);
  // For TLS, count raw TCP too (a handshake that fails still reached us).
  const tcpSockets = new Set();
  const tcpConns = [];
  server.on('connection', (s) => {
    const c = { bytesRead: () => s.bytesRead };
    tcpConns.push(c);
    tcpSockets.add(s);
    s.on('close', () => { const n = s.bytesRead; c.bytesRead = () => n; tcpSockets.delete(s); });
  });
  server.on('clientError', (err, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy(); });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const port = server.address().port;
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;

  return {
    url, port, host, requests, connections, server,
    /** Bytes the mock read from all TCP connections so far (TLS: ciphertext, handshake included). */
    rawBytes: () => tcpConns.reduce((n, c) => n + c.bytesRead(), 0),
    tcpConnectionCount: () => tcpConns.length,
    setScenario(s) { defaultScenario = s ?? ''; },
    failNext(n, status = 500, { retryAfter, retryAfterMs } = {}) { failures = { left: n, status, retryAfter, retryAfterMs }; },
    reset() { requests.length = 0; },
    async close() {
      for (const s of tcpSockets) s.destroy();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

// ---- CLI ---------------------------------------------------------------------------------------------
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const get = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
  const mock = await startMockProvider({ port: Number(get('--port') ?? 0), host: get('--host') ?? '127.0.0.1',
    fast: args.includes('--fast'), scenario: get('--scenario') });
  process.stdout.write(JSON.stringify({ mock: 'ready', url: mock.url, port: mock.port, fast: args.includes('--fast') }) + '\n');
  const stop = () => mock.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// What an open stream and an idle gateway cost, measured on the real process: 8 concurrent 2,000-chunk streams
// raise the gateway's peak anonymous memory no more than 8 concurrent 20-chunk ones do, give or take a few pages
// (the usage reader keeps counts, not chunks), and an idle gateway's threads do not wake up: the telemetry writer sleeps until there is a
// record, the workers' sweep timer sleeps while no connection is open (context switches over 2 s of idleness).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import { startGateway, testConfig, SANITIZED } from '../../lib/harness.mjs';

// An OpenAI-compatible origin streaming `x-chunks` content chunks, then the usage chunk and [DONE].
function startStreamingOrigin() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const n = Number(req.headers['x-chunks'] ?? 20);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini',
        system_fingerprint: 'fp_resource0001' };
      for (let i = 0; i < n; i++) {
        const chunk = { ...base, choices: [{ index: 0, delta: { content: ` word${i % 97}` }, logprobs: null,
          finish_reason: null }] };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: n,
        total_tokens: 9 + n } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) })));
}

function statusField(pid, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

// Context switches of each thread: { 'tid comm': voluntary + involuntary }.
function threadSwitches(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const n = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)[1]);
      out[`${tid} ${comm}`] = n('voluntary_ctxt_switches') + n('nonvoluntary_ctxt_switches');
    } catch { /* the thread ended */ }
  }
  return out;
}

// One streamed call on its own connection (closed after it: an open keep-alive connection is swept every 50 ms).
function stream(gw, chunks) {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'x-chunks': String(chunks), 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => {
        try {
          assert.equal(res.statusCode, 200);
          const text = Buffer.concat(parts).toString('utf8');
          assert.equal(text.split('data: {').length - 1, chunks, 'every content chunk arrives (the usage chunk is removed)');
          resolve();
        } catch (e) { reject(e); }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('resource use of the gateway process', () => {
  let origin; let gw;
  before(async () => {
    origin = await startStreamingOrigin();
    const cfg = testConfig({ openaiUrl: origin.url });
    gw = await startGateway({ config: cfg });
  });
  after(async () => { await gw?.stop(); await origin?.close(); });

  // ASan keeps freed memory in quarantine, so anonymous memory grows with the bytes a stream moves: measured in release.
  it("a stream's memory is small and does not grow with its length (1,000 vs 4,000 chunks)",
    { skip: SANITIZED && 'ASan build: its allocator quarantine makes memory grow with traffic' }, async () => {
    const CONCURRENT = 8;
    const streams = (chunks) => Promise.all(Array.from({ length: CONCURRENT }, () => stream(gw, chunks)));
    // Warm-up: buffers, allocator arenas, and one long stream (it loads the tokenizer's ranks, once per process).
    await streams(20);
    await stream(gw, 2000);
    const pid = gw.proc.pid;
    // Anonymous memory (heap, stacks), sampled every 2 ms while the streams run: the binary's file-backed pages,
    // such as the embedded tokenizer tables that long streams start to read, are shared by every process and are
    // not memory per stream.
    const peakAnon = async (work) => {
      let peak = statusField(pid, 'RssAnon');
      const sampler = setInterval(() => { peak = Math.max(peak, statusField(pid, 'RssAnon')); }, 2);
      try { await work(); } finally { clearInterval(sampler); }
      return Math.max(peak, statusField(pid, 'RssAnon'));
    };
    const before = statusField(pid, 'RssAnon');
    const peak20 = await peakAnon(() => streams(20));
    const peak1000 = await peakAnon(() => streams(1000));
    const peak4000 = await peakAnon(() => streams(4000));
    console.log(`RssAnon kB: start ${before}, peak ${peak20} with ${CONCURRENT} x 20 chunks, ${peak1000} with 1,000, ${peak4000} with 4,000; VmHWM ${statusField(pid, 'VmHWM')}`);
    // Constant whatever the stream's length: four times the chunks, the same peak give or take the allocator's
    // arenas (they drift by tens of kB with thread scheduling on a busy machine). Memory that grew with the chunks
    // would add three times what going from 20 to 1,000 chunks added; half of that, or 128 kB, is the bound.
    const slack = Math.max(128, (peak1000 - peak20) / 2);
    assert.ok(peak4000 <= peak1000 + slack, `4,000-chunk streams peaked at ${peak4000} kB of anonymous memory, 1,000-chunk ones at ${peak1000} kB`);
    // Small: a long stream holds its counts and at most 4 KiB of text to tokenize (plus its string's growth),
    // never its chunks (they used to cost ~560 kB per 2,000-chunk stream).
    const perStream = (peak1000 - peak20) / CONCURRENT;
    assert.ok(perStream <= 48, `a long stream costs ${perStream.toFixed(1)} kB more than a short one`);
  });

  it('an idle gateway\'s threads do not wake up (2 s without requests)', async () => {
    const pid = gw.proc.pid;
    await new Promise((r) => setTimeout(r, 300));  // the last request's connection is closed and swept
    const first = threadSwitches(pid);
    await new Promise((r) => setTimeout(r, 2000));
    const second = threadSwitches(pid);
    const woke = Object.fromEntries(Object.keys(second).map((k) => [k, second[k] - (first[k] ?? 0)]));
    console.log('context switches per thread over 2 s idle:', JSON.stringify(woke));
    const telemetry = Object.entries(woke).filter(([k]) => / tw-/.test(k));
    assert.ok(telemetry.length > 0, `no tw-* thread found: ${Object.keys(woke).join(', ')}`);
    for (const [k, n] of telemetry) assert.ok(n <= 2, `${k} woke ${n} times while idle`);
    // The control thread polls the config file every 500 ms (4 wake-ups); nothing else should tick.
    const total = Object.values(woke).reduce((a, b) => a + b, 0);
    assert.ok(total <= 12, `the process woke ${total} times in 2 s idle: ${JSON.stringify(woke)}`);
  });
});

// Renders bench/mcp/run.sh's raw results as the "## MCP awareness (bench/mcp)" section of docs/benchmarks.md (and
// stdout). Raw lines: "REP MODE KIND CPU_US_TOTAL JSON" (MODE mcp | plain, KIND cpu | latency; JSON from load.mjs).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { writeDocSection } from '../lib/doc_section.mjs';

const { values: o } = parseArgs({ options: Object.fromEntries(['raw', 'doc', 'reps', 'calls', 'concurrency',
  'latency-calls', 'trace', 'load-start', 'load-end', 'sent', 'settle', 'histogram-mcp', 'histogram-plain', 'responder',
  'forbidden-mcp', 'forbidden-plain', 'spans', 'sink', 'tollway-version', 'cpu']
  .map((k) => [k, { type: 'string' }]).concat([['no-doc', { type: 'boolean' }]])) });

const rows = fs.readFileSync(o.raw, 'utf8').trim().split('\n').map((l) => {
  const [rep, mode, kind, cpu, ...json] = l.split(' ');
  return { rep: Number(rep), mode, kind, cpu: Number(cpu), r: JSON.parse(json.join(' ')) };
});
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (xs, digits) => `[${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;
const withRange = (xs, digits = 1) => `${median(xs).toFixed(digits)} ${range(xs, digits)}`;
const reps = [...new Set(rows.map((r) => r.rep))];
const of = (mode, kind) => rows.filter((r) => r.mode === mode && r.kind === kind);
const perCall = (r) => r.cpu / r.r.count;  // µs of CPU per call = ms per 1,000 calls
const cpu = (mode) => of(mode, 'cpu').map(perCall);
const ratios = reps.map((rep) => {
  const at = (mode) => rows.find((r) => r.rep === rep && r.mode === mode && r.kind === 'cpu');
  return perCall(at('mcp')) / perCall(at('plain'));
});
const lat = (mode, p) => median(of(mode, 'latency').map((r) => r.r[p]));
const rate = (mode) => median(of(mode, 'cpu').map((r) => r.r.rate));
const traced = o.trace !== '0';

const lines = [];
const line = (s = '') => lines.push(s);
line('## MCP awareness (bench/mcp)');
line();
line(`\`bench/mcp/run.sh\` (REPS=${o.reps}${traced ? '' : ', TRACE=0'}), ` +
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${o.cpu} (2 cores, shared with other builds ` +
  `and benches: noisy, so the ratio measured in the same run is the result), ${o['tollway-version']}; load average ` +
  `${o['load-start']} before, ${o['load-end']} after. Medians over the repetitions, [min–max]; raw output in ` +
  '`build/bench/mcp/`.');
line();
line('**Method.** Two sidecar pairs run side by side, identical but for one section: client → A\'s forward proxy ' +
  '(absolute-form `POST http://files/mcp`) → mTLS (P-256 X.509-SVIDs, the peer\'s SPIFFE ID checked) → B\'s inbound ' +
  '(HTTP authorization: one allow rule naming the client) → the MCP server. *MCP-aware*: B\'s document has ' +
  '`mcp: {server: files, rules: [{action: allow, from: [client], tools: ["read_*"]}]}`, so B reads every ' +
  'POST /mcp body as strict JSON-RPC, authorizes the tools/call by tool name (and logs the decision), ' +
  (traced ? 'writes `params._meta.traceparent` into the forwarded body, ' : '') +
  'reads the JSON answer for the call\'s outcome' + (traced ? ', exports a span per operation' : '') +
  ' and records `mcp_server_operation_duration_seconds`. *Plain*: no `mcp:` section, the same request proxied as ' +
  `HTTP (nothing reads the body). All four sidecars 1 worker, ${traced
    ? 'tracing on (sample ratio 1.0, OTLP/HTTP to a local sink) in both pairs'
    : 'no telemetry section in either pair'}, default log level (each authorization decision is a log line). ` +
  'The MCP server is `bench/mcp/responder.mjs`: every tools/call answered at once with a fixed ~90-byte ' +
  '`application/json` result echoing the id (no SDK, so the CPU measured is the sidecars\'). The client ' +
  '(`bench/mcp/load.mjs`) sends `{"jsonrpc":"2.0","id":N,"method":"tools/call","params":{"name":"read_file",' +
  '"arguments":{"text":"x"}}}` with `mcp-session-id`, `mcp-protocol-version` and `accept: application/json, ' +
  'text/event-stream`, and counts an answer only when it is a 200 result echoing its id. Per repetition and pair: ' +
  `${o.calls} calls closed-loop over ${o.concurrency} kept-alive connections, CPU = utime+stime of both sidecars ` +
  `(\`/proc/PID/stat\`, read ${o.settle} s after the last answer so that the run's spans, exported every 2 s, ` +
  `are in it) / calls; then ${o['latency-calls']} calls one at a time for latency as the client sees it. ` +
  'The pair that goes first alternates per repetition. Sidecars pinned to core 1; client, responder and sink to ' +
  'core 0.');
line();
line('| | MCP-aware pair | plain HTTP pair | MCP ÷ plain |');
line('|---|---:|---:|---:|');
line(`| sidecar CPU (A + B) per 1,000 tools/call, ms | ${withRange(cpu('mcp'))} | ${withRange(cpu('plain'))} | ` +
  `${withRange(ratios, 2)}× |`);
line(`| tools/call per second (c=${o.concurrency}) | ${rate('mcp').toFixed(0)} | ${rate('plain').toFixed(0)} | ` +
  `${(rate('mcp') / rate('plain')).toFixed(2)}× |`);
const latencies = (mode) => `${lat(mode, 'p50_us').toFixed(0)} / ${lat(mode, 'p99_us').toFixed(0)}`;
line(`| latency p50 / p99, µs (one call at a time) | ${latencies('mcp')} | ${latencies('plain')} | ` +
  `${(lat('mcp', 'p50_us') / lat('plain', 'p50_us')).toFixed(2)}× (p50) |`);
line();
const runs = (mode) => of(mode, 'cpu').sort((x, y) => x.rep - y.rep).map((r) => perCall(r).toFixed(1)).join(', ');
line(`Runs in order (ms per 1,000 calls): MCP-aware ${runs('mcp')}; plain ${runs('plain')}. MCP ÷ plain per ` +
  `repetition: ${ratios.map((x) => x.toFixed(2)).join(', ')} (ratio of the two medians: ` +
  `${(median(cpu('mcp')) / median(cpu('plain'))).toFixed(2)}×).`);
line();
const bad = rows.filter((r) => r.r.ok !== r.r.count);
const badText = bad.map((r) => `${r.mode} rep ${r.rep} ${r.kind}: ${JSON.stringify(r.r)}`).join('; ');
const fm = JSON.parse(o['forbidden-mcp']);
const responder = JSON.parse(o.responder);
line('**The comparison is real** (checked by the run, which stops otherwise): ' +
  (bad.length ? `**answers not ok:** ${badText}; ` : 'every call of every run was answered 200 with its result; ') +
  `B of the MCP-aware pair counted ${o['histogram-mcp']} tools/call in ` +
  `\`mcp_server_operation_duration_seconds_count\` (${o.sent} allowed calls sent), B of the plain pair ` +
  `${o['histogram-plain']}; ` +
  (traced ? 'a check call through the MCP-aware pair reached the server with `params._meta.traceparent` in its ' +
    'body, one through the plain pair without; ' : '') +
  `a call of \`write_file\` (no rule allows it) was refused by the MCP-aware B with a JSON-RPC error ("${fm.first_error}") ` +
  `and forwarded by the plain one. The responder saw ${responder.calls} calls, ` +
  `${responder.with_traceparent} with a traceparent in params._meta, ${responder.bad} malformed.` +
  (traced ? ` Spans: ${o.spans}; the sink received ${o.sink}.` : ''));
line();
const r = median(ratios);
line('| target (issue 19) | measured | |');
line('|---|---|---|');
line(`| CPU per tools/call through an MCP-aware sidecar pair ≤ 1.2× the plain HTTP path | ${r.toFixed(2)}× | ` +
  `${r <= 1.2 ? '**met**' : '**not met**'} |`);
line();
line('Rerun: `bench/mcp/run.sh` (env REPS, CALLS, CONCURRENCY, LATENCY_CALLS, TRACE=0 for both pairs without ' +
  'telemetry; NO_DOC=1 leaves this file alone). Where the MCP-aware sidecar\'s extra CPU goes (perf) and earlier ' +
  'runs: bench/mcp/history.md.');
const section = lines.join('\n') + '\n';
process.stdout.write(section);
if (!o['no-doc']) writeDocSection(o.doc, '## MCP awareness (bench/mcp)', section);

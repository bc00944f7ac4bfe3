// Turns bench/control/run.sh's results (control_fleet_client's JSON) into medians over the rounds, the control plane's
// fan-out against etcd's watch fan-out, memory per connected proxy and CPU per push against the targets, and the
// "## Control plane (bench/control)" section of docs/benchmarks.md (printed; written into the doc unless --no-doc;
// no other section is touched).
import fs from 'node:fs';
import { writeDocSection } from '../lib/doc_section.mjs';

const args = process.argv.slice(2);
const opt = (k, d = '') => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const HEADING = '## Control plane (bench/control)';
const RATIO_TARGET = 2;           // control plane p99 / etcd p99
const P99_TARGET_MS = 1000;
const BYTES_PER_PROXY_TARGET = 16 * 1024;

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
const met = (ok) => (ok ? '**met**' : '**not met**');

const r = JSON.parse(fs.readFileSync(opt('results'), 'utf8'));
const cp = r.control; const et = r.etcd;
const n = cp.nodes;
const cpRounds = cp.rounds; const etRounds = et.rounds;
const m = (rounds, f) => median(rounds.map(f));

const recv50 = m(cpRounds, (x) => x.received_from_publish.p50);
const recv99 = m(cpRounds, (x) => x.received_from_publish.p99);
const ack50 = m(cpRounds, (x) => x.acked_from_publish.p50);
const ack99 = m(cpRounds, (x) => x.acked_from_publish.p99);
const e2e50 = m(cpRounds, (x) => x.acked_from_write.p50);
const e2e99 = m(cpRounds, (x) => x.acked_from_write.p99);
const detect = m(cpRounds, (x) => x.detect_ms);
const et50 = m(etRounds, (x) => x.notified_from_put.p50);
const et99 = m(etRounds, (x) => x.notified_from_put.p99);
const put = m(etRounds, (x) => x.put_ms);
const cpCpu = m(cpRounds, (x) => x.cp_cpu_ms);
const etCpu = m(etRounds, (x) => x.etcd_cpu_ms);
const cpClient = m(cpRounds, (x) => x.client_cpu_ms);
const cpWall = m(cpRounds, (x) => x.wall_ms - x.detect_ms);
const etClient = m(etRounds, (x) => x.client_cpu_ms);
const etWall = m(etRounds, (x) => x.wall_ms);
const perProxy = ((cp.rssN_kb - cp.rss0_kb) * 1024) / n;
const etPerWatcher = ((et.rssN_kb - et.rss0_kb) * 1024) / et.watchers;
const validateCpuMs = Number(opt('validate-cpu')) * 1000;
const ratio = ack99 / et99;
const list = (rounds, f) => rounds.map((x) => f(x).toFixed(1)).join(', ');

const date = new Date().toISOString().slice(0, 10);
const out = [];
out.push(HEADING);
out.push(`Run ${date} on ${opt('cpu')} (2 cores, shared with other builds and benches; load average ${opt('load-start')} at the start, ${opt('load-end')} at the end), ${opt('tollway-version')}, ${opt('etcd-version')}. Produced by \`bench/control/run.sh\`; raw output in \`build/bench/control/\`.`);
out.push('');
out.push(`**Method.** One \`tollway control --policy DIR --poll-timeout 60s\` with ${n} declared gateway nodes (each its own bootstrap token; one provider, one route; every node's document passes the gateway's prepare) and one etcd 3.4 member, both pinned to core 1. \`bench/control/fleet_client.cc\` (one single-threaded Asio process on core 0) holds ${n} long polls, one keep-alive connection per node; each node ACKs every new document (\`POST /v1/ack\`) and polls again with its new version. A round rewrites \`base.yaml\` (write + rename; a timeout every node's document holds) and ends when all ${n} nodes have ACKed. Then ${et.watchers} etcd watchers (\`POST /v3/watch\` on the JSON gateway, one connection each) on one key; a round puts the key (\`POST /v3/kv/put\`) and ends when all watchers have its event. ${cpRounds.length} rounds of each; per round p50/p99 over the nodes, then the median over the rounds. **Fan-out** is measured from the control plane's \`policy published\` log line (the new version is in the fleet, every waiting poll is woken; the log has millisecond resolution) — the counterpart of etcd's put → event; **end to end** from the file's rename, which adds the control plane's directory poll (every 200 ms, a change counted once two polls agree), the check (once per distinct document: here one, every node's document being the same sections under its own first line) and the history's write. Memory: VmRSS of the control plane with no poll connected and with all ${n} polls waiting (after every node's first ACK), difference / ${n}. CPU per push: utime+stime of the control plane over a round (/proc/PID/stat, 10 ms ticks) / ${n}.`);
out.push('');
out.push(`| measure (${n} nodes / watchers) | p50 | p99 | rounds (p99) |`);
out.push('|---|---|---|---|');
out.push(`| control plane: publish → document received | ${ms(recv50)} | ${ms(recv99)} | ${list(cpRounds, (x) => x.received_from_publish.p99)} |`);
out.push(`| control plane: publish → ACK answered | ${ms(ack50)} | ${ms(ack99)} | ${list(cpRounds, (x) => x.acked_from_publish.p99)} |`);
out.push(`| etcd: put sent → watcher's event | ${ms(et50)} | ${ms(et99)} | ${list(etRounds, (x) => x.notified_from_put.p99)} |`);
out.push(`| control plane end to end: file renamed → ACK answered | ${ms(e2e50)} | ${ms(e2e99)} | ${list(cpRounds, (x) => x.acked_from_write.p99)} |`);
out.push('');
out.push(`Renamed → published (the directory poll and the check): median ${ms(detect)} (rounds ${list(cpRounds, (x) => x.detect_ms)}). etcd's put answered in ${ms(put)} (median). \`tollway validate\` of the same directory (the whole policy's check in its own process, start-up included): ${validateCpuMs.toFixed(0)} ms CPU.`);
out.push('');
out.push(`| resource | control plane | etcd |`);
out.push('|---|---|---|');
out.push(`| VmRSS idle / with ${n} connected | ${(cp.rss0_kb / 1024).toFixed(1)} MB / ${(cp.rssN_kb / 1024).toFixed(1)} MB | ${(et.rss0_kb / 1024).toFixed(1)} MB / ${(et.rssN_kb / 1024).toFixed(1)} MB |`);
out.push(`| memory per connected proxy (watcher) | ${(perProxy / 1024).toFixed(1)} KB | ${(etPerWatcher / 1024).toFixed(1)} KB |`);
out.push(`| CPU per round (median) | ${cpCpu.toFixed(0)} ms (rounds ${cpRounds.map((x) => x.cp_cpu_ms).join(', ')}) | ${etCpu.toFixed(0)} ms (rounds ${etRounds.map((x) => x.etcd_cpu_ms).join(', ')}) |`);
out.push(`| CPU per push (per node) | ${((cpCpu * 1000) / n).toFixed(0)} µs (the check, the history and the fan-out) | ${((etCpu * 1000) / et.watchers).toFixed(0)} µs |`);
out.push('');
out.push(`The client (its own core): ${cpClient.toFixed(0)} ms CPU over a control-plane round's fan-out of ${cpWall.toFixed(0)} ms (publish to the last ACK: it reads ${n} documents and sends ${n} ACKs and ${n} polls), busy ${((100 * cpClient) / cpWall).toFixed(0)} % of it; ${etClient.toFixed(0)} ms over an etcd round of ${etWall.toFixed(0)} ms, busy ${((100 * etClient) / etWall).toFixed(0)} %. ${cpClient > 0.5 * cpWall ? 'The client\'s own queue is part of the control plane\'s figures (an upper bound of the control plane\'s share).' : 'It is not the bottleneck.'} Snapshot or ACK failures: ${cp.failures}.`);
out.push('');
out.push('| target | measured | |');
out.push('|---|---|---|');
out.push(`| control plane p99 (publish → ACK) ≤ 2× etcd's p99 (put → event) | ${ms(ack99)} vs ${ms(et99)}: ${ratio.toFixed(2)}× | ${met(ratio <= RATIO_TARGET)} |`);
out.push(`| control plane p99 ≤ 1 s | ${ms(ack99)} fan-out; ${ms(e2e99)} end to end | ${met(ack99 <= P99_TARGET_MS)} (fan-out), ${met(e2e99 <= P99_TARGET_MS)} (end to end) |`);
out.push(`| memory per connected proxy ≤ 16 KB | ${(perProxy / 1024).toFixed(1)} KB | ${met(perProxy <= BYTES_PER_PROXY_TARGET)} |`);
const section = `${out.join('\n')}\n`;
process.stdout.write(section);
if (!args.includes('--no-doc')) writeDocSection(opt('doc'), HEADING, section);

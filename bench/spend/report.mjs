// Turns bench/spend/run.sh's outputs into the "## Spend (bench/spend)" section of docs/benchmarks.md: checks that
// `tollway spend --json` and sqlite3 agree on every group and total (exits 1 when they do not, before writing
// anything), takes the medians of the interleaved timed runs and the tollway/sqlite3 ratios, and adds the write
// path's cost per record from spend_bench append.
import fs from 'node:fs';
import os from 'node:os';
import { writeDocSection } from '../lib/doc_section.mjs';

const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : undefined; };
const work = opt('work');
const read = (f) => fs.readFileSync(`${work}/${f}`, 'utf8');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- same answers -----------------------------------------------------------------------------------------------
const fields = ['requests', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'cost_micro_usd', 'estimated_requests'];
const sqlSums = ['SUM(requests)', 'SUM(input_tokens)', 'SUM(output_tokens)', 'SUM(cached_input_tokens)',
  'SUM(cost_micro_usd)', 'SUM(estimated)'];
const problems = [];
function compare(query, keyOfTollway, keyOfSqlite) {
  const ours = JSON.parse(read(`${query}.tollway.json`));
  const text = read(`${query}.sqlite3.json`).trim();
  const theirs = text ? JSON.parse(text) : [];
  const byKey = new Map(theirs.map((row) => [keyOfSqlite(row), row]));
  if (ours.groups.length !== theirs.length)
    problems.push(`${query}: tollway has ${ours.groups.length} groups, sqlite3 ${theirs.length}`);
  for (const g of ours.groups) {
    const row = byKey.get(keyOfTollway(g));
    if (!row) { problems.push(`${query}: group ${keyOfTollway(g)} is missing from sqlite3's answer`); continue; }
    fields.forEach((f, i) => {
      if (g[f] !== row[sqlSums[i]]) problems.push(`${query}: ${keyOfTollway(g)} ${f}: tollway ${g[f]}, sqlite3 ${row[sqlSums[i]]}`);
    });
  }
  fields.forEach((f, i) => {
    const sum = theirs.reduce((a, row) => a + row[sqlSums[i]], 0);
    if (ours.total[f] !== sum) problems.push(`${query}: total ${f}: tollway ${ours.total[f]}, sqlite3 ${sum}`);
  });
  return ours;
}
const month = compare('month', (g) => `${g.tenant}|${g.model}`, (r) => `${r.tenant}|${r.model}`);
const week = compare('week', (g) => `${g.bucket.slice(0, 10)}|${g.tenant}`, (r) => `${r.day}|${r.tenant}`);
if (problems.length) {
  console.error(`bench/spend: tollway spend and sqlite3 disagree:\n  ${problems.slice(0, 20).join('\n  ')}`);
  process.exit(1);
}

// ---- timings ----------------------------------------------------------------------------------------------------
const runs = read('times.txt').trim().split('\n').map((line) => {
  const [query, side, rep, wall, user, sys] = line.split(/\s+/);
  return { query, side, rep: Number(rep), wall: Number(wall), cpu: Number(user) + Number(sys) };
});
const stat = (query, side, what) => median(runs.filter((r) => r.query === query && r.side === side).map((r) => r[what]));
const generate = JSON.parse(read('generate.json'));
const append = JSON.parse(read('append.json'));
const plan = (q) => read(`${q}.plan`).trim().split('\n').filter((l) => !/^QUERY PLAN/.test(l))
  .map((l) => l.replace(/^[|`\s-]+/, '')).join('; ');
const load = (f) => read(f).trim().replace(/ /g, ' / ');
const cpuName = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || 'unknown CPU';
const repeats = opt('repeats');
const mb = (generate.bytes / 1e6).toFixed(0);

const rows = [];
for (const [query, title, groups] of [
  ['month', 'per tenant and model, 30 days (`--group-by tenant,model`)', month.groups.length],
  ['week', 'per tenant per day, one week (`--group-by tenant --bucket day`)', week.groups.length]]) {
  const ratio = stat(query, 'tollway', 'wall') / stat(query, 'sqlite3', 'wall');
  const cpuRatio = stat(query, 'tollway', 'cpu') / stat(query, 'sqlite3', 'cpu');
  const requests = (query === 'month' ? month : week).total.requests;
  rows.push(`| ${title} | ${requests.toLocaleString('en')} | ${groups} | ${stat(query, 'tollway', 'wall').toFixed(2)} | ` +
            `${stat(query, 'sqlite3', 'wall').toFixed(2)} | **${ratio.toFixed(2)}x** | ${stat(query, 'tollway', 'cpu').toFixed(2)} | ` +
            `${stat(query, 'sqlite3', 'cpu').toFixed(2)} | ${cpuRatio.toFixed(2)}x | ${ratio <= 1.2 ? 'yes' : '**no**'} |`);
}

const lines = ['## Spend (bench/spend)', '',
  `\`nice -n 10 bench/spend/run.sh\`, ${new Date().toISOString().slice(0, 10)}, ${cpuName}, ${os.cpus().length} cores, ` +
  `every run pinned with \`taskset -c ${opt('cpu')}\`; sqlite3 ${opt('sqlite-version')} (the library tollway links). ` +
  `The spend log: ${generate.records.toLocaleString('en')} records (${mb} MB) written by \`spend_bench generate\` through ` +
  `the gateway's own SpendLog (the real schema, its indexes and migrations): 50 tenants and 500 keys (Zipf-distributed), ` +
  `10 models across 4 providers, 30 days ending 2026-12-01 with a daily and weekly rhythm, 30 % of calls in a session, ` +
  `2 % fallbacks, 1 % fan-out, log-normal token counts. The file is in the page cache (one untimed run of each side ` +
  `first). Median of ${repeats} timed runs per side, interleaved in the same run (the order alternates each repetition); ` +
  `wall-clock and CPU (user + system) from \`/usr/bin/time\`. \`tollway spend\` prints its table; sqlite3 prints its ` +
  `default list output. The untimed runs' results (\`tollway spend --json\` and \`sqlite3 -json\`) are compared group by group ` +
  `and in total (requests, input, output and cached tokens, micro-USD, estimated requests): identical, or the bench fails. ` +
  `Load average (1/5/15 min) ${load('load_before')} before, ${load('load_after')} after (2 cores shared with other builds).`, '',
  '| query | requests in range | groups | tollway s | sqlite3 s | ratio (≤ 1.2x) | tollway CPU s | sqlite3 CPU s | CPU ratio | met |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
  ...rows, '',
  'The commands (the same file, `F`):', '',
  '```',
  'tollway spend --spend-log F --group-by tenant,model --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z',
  `sqlite3 F "${opt('sql-month')}"`,
  'tollway spend --spend-log F --group-by tenant --bucket day --from 2026-11-10T00:00:00Z --to 2026-11-17T00:00:00Z',
  `sqlite3 F "${opt('sql-week')}"`,
  '```', '',
  `SQLite's plan for sqlite3's SQL: month — ${plan('month')}; week — ${plan('week')}.`, '',
  `Write path (\`spend_bench append ${append.appends}\`, the gateway's default SpendLog options: a batch every 100 ms ` +
  `or 512 records, fsync per batch): what settle adds to a request — building the SpendRecord from the request's ` +
  `strings and \`SpendLog::append\` (a mutex, a vector push, a writer wake-up every 512 records) — costs ` +
  `**${append.append_ns_median.toFixed(0)} ns CPU per request** (median of ${append.rounds} rounds of 50,000 appends, ` +
  `range ${append.append_ns_min.toFixed(0)}–${append.append_ns_max.toFixed(0)} ns; target ≤ 1 µs: ` +
  `${append.append_ns_median <= 1000 ? 'met' : '**not met**'}), ${append.dropped} dropped. Off the request path, the ` +
  `writer thread spends ${(append.writer_ns_per_record / 1000).toFixed(1)} µs CPU per record (SQLite insert into the ` +
  `table and its two indexes, the batch's commit), on its own thread.`];
const section = lines.join('\n') + '\n';
writeDocSection('docs/benchmarks.md', '## Spend (bench/spend)', section);
console.log(section);

// Reads bench/sim/run.sh's raw output (OUT, REPS) and prints the markdown table: medians over the repetitions,
// [min–max] beside them.
import fs from 'node:fs';
import path from 'node:path';

const [dir, reps] = [process.argv[2], Number(process.argv[3])];
const read = (name) => {
  const times = fs.readFileSync(path.join(dir, `${name}.time`), 'utf8').trim().split(/\s+/).map(Number);
  const [wall, user, sys, rssKb] = times;
  const json = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  return { wall, cpu: user + sys, rssMb: rssKb / 1024, json };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const span = (xs, f) => `${f(median(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]`;
const runs = [...Array(reps).keys()].map((i) => ({ fleet: read(`fleet-${i + 1}`), ref: read(`reference-${i + 1}`) }));
const fleet = runs.map((r) => r.fleet);
const ref = runs.map((r) => r.ref);
const s = fleet[0].json.scenario;
const perTask = s.east_west_calls_per_task + s.north_south_calls_per_task;
const fmt = (v) => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : v >= 1e6 ? `${(v / 1e6).toFixed(1)} M` : v.toFixed(0));
const secs = (v) => v.toFixed(1);
const times = (v) => `${v.toFixed(0)}×`;
const represented = fleet.map((r) => r.json.scenario.requests / r.cpu);
const events = fleet.map((r) => r.json.events / r.cpu);
const oneByOne = ref.map((r) => (r.json.latency.samples * perTask) / r.cpu);
const hourOneByOne = oneByOne.map((rate) => s.requests / rate);
const cells = (rs) => [span(rs.map((r) => r.wall), secs), span(rs.map((r) => r.cpu), secs),
  span(rs.map((r) => r.rssMb), secs)].join(' | ');
const met = median(fleet.map((r) => r.wall)) <= 60 ? 'met' : 'not met';
console.log(`scenario: ${s.name}: ${s.agents} agents, ${fmt(s.requests)} requests in ${s.duration_s} s; ` +
            `${fleet[0].json.events} events simulated one by one (${fleet[0].json.latency.samples} sampled tasks + ` +
            `${fleet[0].json.budget.events} lease events); ${perTask.toFixed(2)} calls per task`);
console.log('');
console.log('| run | wall s | CPU s | peak RSS MB | requests represented / CPU s | events / CPU s | ≤ 60 s (wall) |');
console.log('|---|---:|---:|---:|---:|---:|---|');
console.log(`| fleet-10000, one hour | ${cells(fleet)} | ${span(represented, fmt)} | ${span(events, fmt)} | ${met} |`);
console.log(`| reference: every task one by one (${ref[0].json.latency.samples} tasks) | ${cells(ref)} | ` +
            `${span(oneByOne, fmt)} (one by one) | — | — |`);
console.log('');
console.log(`One by one, the hour would take ${span(hourOneByOne, (v) => `${(v / 3600).toFixed(1)} h`)} of CPU; ` +
            `the aggregated run represents ${span(represented.map((v, i) => v / oneByOne[i]), times)} ` +
            'as many requests per CPU second.');

// `tollway demo` as a user runs it: two demos at once (`--duration 20s`, each with its own --work-dir), as real
// processes. Each exits 0; its summary (stdout and summary.json) has the workload's tasks, tokens per tenant and
// agent whose total equals the mock provider's own usage log line by line, budgets left, the denials the policy
// causes (authorization, a sidecar rate limit, a gateway budget) and the first task's trace as a tree with a
// repaired orphan; the dashboard URL. After exit no process of either demo runs and every port either used is free
// again; the two never shared a port.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TOLLWAY_BIN, tempDir } from '../../lib/harness.mjs';

function runDemo(workDir) {
  return new Promise((resolve) => {
    const proc = spawn(TOLLWAY_BIN, ['demo', '--duration', '20s', '--work-dir', workDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = ''; let stderr = '';
    proc.stdout.on('data', (c) => { stdout += c; });
    proc.stderr.on('data', (c) => { stderr += c; });
    const killer = setTimeout(() => proc.kill('SIGKILL'), 150_000);
    proc.on('exit', (code, signal) => { clearTimeout(killer); resolve({ code, signal, stdout, stderr, pid: proc.pid }); });
  });
}

const portFree = (port) => new Promise((resolve) => {
  const server = net.createServer();
  server.once('error', () => resolve(false));
  server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
});

// Processes whose command line names `text` (the demo's children all name its work directory).
function processesNaming(text) {
  const found = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(text)) found.push(`${pid}: ${cmdline}`);
    } catch { /* gone */ }
  }
  return found;
}

const portsIn = (text) => new Set([...text.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));

describe('tollway demo', () => {
  it('two demos at once: each runs the hybrid, accounts every token, and leaves nothing behind', async () => {
    const dirs = [tempDir('tollway-demo-a-'), tempDir('tollway-demo-b-')];
    const runs = await Promise.all(dirs.map((d) => runDemo(d)));
    const allPorts = [];
    for (const [i, run] of runs.entries()) {
      const dir = dirs[i];
      assert.equal(run.code, 0, `demo ${i} exited ${run.code}/${run.signal}\n${run.stdout}\n${run.stderr}`);
      for (const section of ['tokens and cost per tenant and agent', 'budgets left', 'denials by reason', "one request's trace"])
        assert.ok(run.stdout.includes(section), `demo ${i} prints "${section}":\n${run.stdout}`);
      assert.match(run.stdout, /dashboard: https:\/\/127\.0\.0\.1:\d+\/ui/);
      assert.match(run.stdout, /fleet +4 nodes SYNCED/);

      const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
      assert.equal(summary.workload.tasks, 40);
      // Every token the gateway accounted for is one the provider logged, and the other way round.
      const logged = fs.readFileSync(path.join(dir, 'provider-usage.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const loggedTokens = logged.reduce((s, l) => s + l.prompt_tokens + l.completion_tokens, 0);
      assert.equal(summary.provider.total_tokens, loggedTokens);
      assert.equal(summary.provider.calls, logged.length);
      assert.equal(summary.tokens.total_tokens, loggedTokens);
      assert.equal(summary.tokens.requests, logged.length);
      assert.equal(summary.totals_match, true);
      const agents = new Set(summary.tokens.groups.map((g) => `${g.tenant}/${g.agent}`));
      assert.deepEqual([...agents].sort(), ['acme/orchestrator', 'acme/retrieval', 'initech/tools']);

      // The policy's refusals, each seen by its caller with its reason.
      const denial = (from, to, status) => summary.denials.find((d) => d.from === from && d.to === to && d.status === status);
      assert.ok(denial('tools', 'orchestrator', 403), `authorization: ${JSON.stringify(summary.denials)}`);
      assert.ok(denial('orchestrator', 'retrieval', 429), `retrieval's rate limit: ${JSON.stringify(summary.denials)}`);
      assert.ok(denial('tools', 'gateway', 429), `initech's budget: ${JSON.stringify(summary.denials)}`);
      const initech = summary.budgets.find((b) => b.name === 'initech-day');
      assert.ok(initech.spent <= initech.limit, JSON.stringify(initech));
      const mesh = summary.budgets.find((b) => b.name === 'mesh-llm-tokens');
      assert.ok(mesh && mesh.spent > 0, `the leased mesh budget: ${JSON.stringify(summary.budgets)}`);

      // The first task's trace: the orchestrator's span, every hop's spans, the tools agent's repaired orphan.
      assert.ok(summary.trace && summary.trace.spans >= 8, `trace: ${JSON.stringify(summary.trace)}\n${run.stdout}`);
      assert.match(run.stdout, /\[repaired orphan\]/);

      // Nothing left running, every port free again.
      assert.deepEqual(processesNaming(dir), []);
      for (const port of portsIn(run.stdout)) {
        assert.ok(await portFree(port), `port ${port} of demo ${i} is still in use`);
        allPorts.push(port);
      }
    }
    assert.equal(new Set(allPorts).size, allPorts.length, 'the two demos shared a port');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
});

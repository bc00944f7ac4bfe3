// Spend you can see and key budgets through the API, end to end (real gateway + mock provider, local ledger):
// GET /admin/spend sums equal the usage the mock reported, grouped by tenant / model / key and per hour, time
// ranges respected, bad parameters refused with 400 naming the parameter; `tollway spend --spend-log FILE --json`
// answers byte for byte what the API does; GET /admin/keys/{id} shows the key's spend and budgets; a key with
// max_budget is refused once spent, also after a restart (rebuilt from the spend log); PATCH takes effect on the
// next request (models narrowed -> 403, tpm lowered -> 429, expires_at passed -> 401 key_expired); unknown
// `limits` fields are refused; tollway_limits_budget_remaining has one series per key budget counter; `tollway
// spend` prints tables and CSV of reports larger than 64 KiB.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startMock, startGateway, testConfig, postJson, getText, tempDir, runTollway, assertOpenAIError,
  metricValue } from '../../lib/harness.mjs';

const ADMIN = 'admin-token-spend-0123456789abcdef';

describe('spend API and key budgets', () => {
  let mock; let gw; let dir; let storePath; let spendPath;
  const config = () => testConfig({
    openaiUrl: mock.url,
    over: {
      auth: { admin_token: ADMIN, virtual_keys: { store: storePath } },
      limits: { spend_log: { path: spendPath, flush_interval: '20ms' } },
      pricing: { models: [{ match: 'gpt-4o*', input: '2.50', output: '10.00' }] },
    },
  });
  const admin = async (method, p, body) => {
    const r = await fetch(`${gw.adminUrl}${p}`, { method, headers: { authorization: `Bearer ${ADMIN}` },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, text, json: text ? JSON.parse(text) : undefined, headers: r.headers };
  };
  const chat = (key, body = {}) => postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 16,
    messages: [{ role: 'user', content: 'say hello to the spend log please' }], ...body },
  { authorization: `Bearer ${key}`, connection: 'close' });
  const newKey = async (body) => {
    const r = await admin('POST', '/admin/keys', body);
    assert.equal(r.status, 201, r.text);
    return r.json;
  };

  before(async () => {
    mock = await startMock();
    dir = tempDir('tollway-spend-');
    storePath = path.join(dir, 'keys.db');
    spendPath = path.join(dir, 'spend.db');
    gw = await startGateway({ workers: 2, config: config() });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('sums what the mock reported, grouped, per hour, within the time range', async () => {
    const start = Math.floor(Date.now() / 1000);
    const a = await newKey({ tenant: 'acme', agent: 'bot-a' });
    const b = await newKey({ tenant: 'beta', agent: 'bot-b' });
    const expected = {}; // "tenant|model" -> {requests, input, output}
    for (const [key, tenant, model, words] of [[a, 'acme', 'gpt-4o-mini', 3], [a, 'acme', 'gpt-4o-mini', 9],
      [a, 'acme', 'gpt-4o', 5], [b, 'beta', 'gpt-4o-mini', 7]]) {
      const r = await chat(key.key, { model, messages: [{ role: 'user', content: 'w '.repeat(words) }] });
      assert.equal(r.status, 200, r.text);
      const e = expected[`${tenant}|${model}`] ??= { requests: 0, input: 0, output: 0 };
      e.requests += 1; e.input += r.json.usage.prompt_tokens; e.output += r.json.usage.completion_tokens;
    }
    const to = Math.floor(Date.now() / 1000) + 1;
    const range = `from=${start}&to=${to}`;
    const byTenantModel = await admin('GET', `/admin/spend?group_by=tenant,model&${range}`);
    assert.equal(byTenantModel.status, 200, byTenantModel.text);
    const report = byTenantModel.json;
    assert.deepEqual(report.group_by, ['tenant', 'model']);
    assert.equal(report.groups.length, 3);
    for (const g of report.groups) {
      const e = expected[`${g.tenant}|${g.model}`];
      assert.ok(e, `unexpected group ${g.tenant}|${g.model}`);
      assert.equal(g.requests, e.requests);
      assert.equal(g.input_tokens, e.input);
      assert.equal(g.output_tokens, e.output);
      assert.equal(g.total_tokens, e.input + e.output);
      assert.equal(g.cost_usd, (g.cost_micro_usd / 1e6).toFixed(6));
    }
    const sum = (f) => Object.values(expected).reduce((n, e) => n + e[f], 0);
    assert.equal(report.total.requests, 4);
    assert.equal(report.total.input_tokens, sum('input'));
    assert.equal(report.total.output_tokens, sum('output'));
    assert.equal(report.total.cost_micro_usd, report.groups.reduce((n, g) => n + g.cost_micro_usd, 0));

    const byKey = await admin('GET', `/admin/spend?group_by=key&bucket=hour&${range}`);
    assert.equal(byKey.status, 200, byKey.text);
    const hour = new Date(Math.floor(Date.now() / 3600000) * 3600000).toISOString().replace('.000Z', 'Z');
    const keyA = byKey.json.groups.filter((g) => g.key === a.id);
    assert.equal(keyA.reduce((n, g) => n + g.requests, 0), 3);
    for (const g of byKey.json.groups) assert.match(g.bucket, /^\d{4}-\d\d-\d\dT\d\d:00:00Z$/);
    assert.ok(byKey.json.groups.some((g) => g.bucket === hour));

    const later = await admin('GET', `/admin/spend?from=${to + 10}&to=${to + 3600}`);
    assert.equal(later.json.groups.length, 0);
    assert.equal(later.json.total.requests, 0);
    const earlier = await admin('GET', `/admin/spend?from=${start - 3600}&to=${start}`);
    assert.equal(earlier.json.total.requests, 0);
    const rfc = await admin('GET', `/admin/spend?from=${new Date(start * 1000).toISOString()}&to=${to}`);
    assert.equal(rfc.json.total.requests, 4);

    // `tollway spend --spend-log FILE --json` answers what the API answers.
    const cli = await runTollway(['spend', '--spend-log', spendPath, '--json', '--group-by', 'tenant,model',
      '--from', String(start), '--to', String(to)]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout, byTenantModel.text);
    const viaAdmin = await runTollway(['spend', '--admin', gw.adminUrl, '--token', ADMIN, '--json', '--group-by',
      'tenant,model', '--from', String(start), '--to', String(to)]);
    assert.equal(viaAdmin.stdout, byTenantModel.text, viaAdmin.stderr);
    const table = await runTollway(['spend', '--spend-log', spendPath, '--group-by', 'tenant', '--from', String(start),
      '--to', String(to)]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /acme .* 3 /);
    assert.match(table.stdout, /TOTAL .* 4 /);
    const csv = await runTollway(['spend', '--spend-log', spendPath, '--csv', '--group-by', 'tenant', '--from',
      String(start), '--to', String(to)]);
    assert.equal(csv.stdout.split('\n')[0], 'tenant,requests,input_tokens,output_tokens,cached_input_tokens,cost_usd');

    // The key's record shows its spend.
    const shown = await admin('GET', `/admin/keys/${a.id}`);
    assert.equal(shown.json.spend.requests, 3);
  });

  it('refuses bad parameters with 400 naming the parameter, and needs the admin token', async () => {
    for (const [query, param] of [['group_by=tenant,colour', 'group_by'], ['bucket=week', 'bucket'],
      ['from=yesterday', 'from'], ['to=2026-13-01T00:00:00Z', 'to'], ['limit=5', 'limit'], ['from=20&to=10', 'from']]) {
      const r = await admin('GET', `/admin/spend?${query}`);
      assert.equal(r.status, 400, query);
      assert.equal(r.json.error.param, param, query);
      assert.match(r.json.error.message, new RegExp(param));
    }
    assert.equal((await fetch(`${gw.adminUrl}/admin/spend`)).status, 401);
    const cli = await runTollway(['spend', '--spend-log', spendPath, '--bucket', 'week']);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /--bucket/);
  });

  it('refuses unknown fields inside limits, naming them', async () => {
    const r = await admin('POST', '/admin/keys', { tenant: 'acme', limits: { max_budget: 1, tpm_limit: 5 } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /limits\.tpm_limit/);
    const k = await newKey({ tenant: 'acme' });
    const p = await admin('PATCH', `/admin/keys/${k.id}`, { limits: { rpm: 5, budget: 2 } });
    assert.equal(p.status, 400);
    assert.match(p.json.error.message, /limits\.budget/);
    const top = await admin('PATCH', `/admin/keys/${k.id}`, { colour: 'red' });
    assert.equal(top.status, 400);
    assert.equal(top.json.error.param, 'colour');
    const bad = await admin('PATCH', `/admin/keys/${k.id}`, { limits: { max_budget: 1, budget_duration: '1w' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /limits\.budget_duration/);
  });

  it('PATCH takes effect on the next request: models, tpm, expiry', async () => {
    const k = await newKey({ tenant: 'acme', models: ['gpt-4o*'], limits: { tpm: 100000, rpm: 100 },
      metadata: { team: 'search' } });
    assert.equal((await chat(k.key, { model: 'gpt-4o' })).status, 200);
    const narrowed = await admin('PATCH', `/admin/keys/${k.id}`, { models: ['gpt-4o-mini'], metadata: { team: 'ads' } });
    assert.equal(narrowed.status, 200, narrowed.text);
    assert.deepEqual(narrowed.json.metadata, { team: 'ads' });
    assert.equal(narrowed.json.key, undefined, 'PATCH never issues a secret');
    const denied = await chat(k.key, { model: 'gpt-4o' });
    assert.equal(denied.status, 403);
    assertOpenAIError(denied.json, { code: 'model_not_allowed' });
    const ok = await chat(k.key);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-ratelimit-limit-tokens'), '100000');

    assert.equal((await admin('PATCH', `/admin/keys/${k.id}`, { limits: { tpm: 10 } })).status, 200);
    const limited = await chat(k.key);
    assert.equal(limited.status, 429);
    assertOpenAIError(limited.json, { code: 'rate_limit_exceeded' });
    assert.match(limited.json.error.message, /key_tpm/);
    assert.equal(limited.headers.get('x-ratelimit-limit-tokens'), '10');

    assert.equal((await admin('PATCH', `/admin/keys/${k.id}`, { limits: null })).status, 200);
    assert.equal((await chat(k.key)).status, 200);
    const expired = await admin('PATCH', `/admin/keys/${k.id}`, { expires_at: Math.floor(Date.now() / 1000) - 1 });
    assert.equal(expired.status, 200);
    const gone = await chat(k.key);
    assert.equal(gone.status, 401);
    assert.match(gone.headers.get('www-authenticate') ?? '', /key_expired/);
    assert.equal((await admin('PATCH', `/admin/keys/${k.id}`, { tenant: 'other' })).status, 400);
  });

  it('a key with max_budget is refused once spent, also after a restart', async () => {
    // One call's cost, measured, sizes a budget of about three calls.
    const probe = await newKey({ tenant: 'probe' });
    assert.equal((await chat(probe.key)).status, 200);
    const cost = (await admin('GET', `/admin/keys/${probe.id}`)).json.spend.cost_micro_usd;
    assert.ok(cost > 0, 'the mock model is priced');
    const maxBudget = (cost * 3.5) / 1e6;
    const k = await newKey({ tenant: 'acme', limits: { max_budget: Number(maxBudget.toFixed(6)), budget_duration: '30d' } });
    let served = 0; let refused;
    for (let i = 0; i < 20 && !refused; i++) {
      const r = await chat(k.key);
      if (r.status === 200) served += 1;
      else refused = r;
    }
    assert.ok(served >= 1, 'the budget admits calls until it is spent');
    assert.ok(refused, 'the budget is enforced');
    assert.equal(refused.status, 429);
    assertOpenAIError(refused.json, { code: 'budget_exceeded' });
    const shown = await admin('GET', `/admin/keys/${k.id}`);
    const budget = shown.json.budgets.find((x) => x.name === 'key_budget');
    assert.equal(budget.limit, Math.round(maxBudget * 1e6));
    assert.equal(budget.used, shown.json.spend.cost_micro_usd, 'no reservation is left open');
    assert.ok(budget.used <= budget.limit, 'never spent beyond the budget');
    assert.equal(budget.remaining, budget.limit - budget.used);
    assert.equal(shown.json.spend.requests, served);
    // A key's max_budget is a USD limit: a model without a price is refused under it (pricing.unpriced: deny).
    const budgeted = await newKey({ tenant: 'acme', limits: { max_budget: 1, budget_duration: '30d' } });
    const unpriced = await chat(budgeted.key, { model: 'text-unpriced-1' });
    assert.equal(unpriced.status, 403, unpriced.text);
    assertOpenAIError(unpriced.json, { code: 'model_not_priced' });
    // One series per key budget counter (as of its latest admission), not only the last one touched.
    const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
    for (const id of [k.id]) {
      assert.match(metrics, new RegExp(`tollway_limits_budget_remaining\\{budget="key_budget",counter="${id}"\\} \\d+`));
    }
    assert.ok(metricValue(metrics, 'tollway_limits_budget_remaining', { counter: k.id }) <= budget.limit);

    await gw.stop();
    gw = await startGateway({ workers: 2, config: config() });
    const after = await chat(k.key);
    assert.equal(after.status, 429, after.text);
    assertOpenAIError(after.json, { code: 'budget_exceeded' });
    assert.equal((await admin('GET', `/admin/keys/${k.id}`)).json.budgets[0].used, budget.used);
    // Raising the budget (same duration) keeps what was spent and admits again.
    assert.equal((await admin('PATCH', `/admin/keys/${k.id}`, { limits: { max_budget: 1000, budget_duration: '30d' } })).status, 200);
    assert.equal((await chat(k.key)).status, 200);
  });

  it('prints a table or CSV from a report of more than 64 KiB (hundreds of groups)', async () => {
    // From the next whole second on: no record of the tests before is in the range.
    const start = Math.floor(Date.now() / 1000) + 1;
    await new Promise((resolve) => setTimeout(resolve, start * 1000 - Date.now()));
    const k = await newKey({ tenant: 'many-sessions' });
    const sessions = 250;
    for (let i = 0; i < sessions; i++) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 16,
        messages: [{ role: 'user', content: 'hello' }] },
      { authorization: `Bearer ${k.key}`, 'x-session-id': `session-${i}-${'x'.repeat(110)}` });
      assert.equal(r.status, 200, r.text);
    }
    const range = ['--from', String(start), '--to', String(Math.floor(Date.now() / 1000) + 60)];
    let json;
    for (let tries = 0; tries < 100; tries++) {
      json = await runTollway(['spend', '--spend-log', spendPath, '--json', '--group-by', 'tenant,session', ...range]);
      if (JSON.parse(json.stdout).groups.length === sessions) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(JSON.parse(json.stdout).groups.length, sessions);
    assert.ok(json.stdout.length > 64 * 1024, `the report is ${json.stdout.length} bytes`);
    const table = await runTollway(['spend', '--spend-log', spendPath, '--group-by', 'tenant,session', ...range]);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout.trim().split('\n').length, 2 + sessions + 1, 'title, header, one line a group, total');
    assert.match(table.stdout, new RegExp(`TOTAL .* ${sessions} `));
    const csv = await runTollway(['spend', '--spend-log', spendPath, '--csv', '--group-by', 'tenant,session', ...range]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.trim().split('\n').length, 1 + sessions);
  });
});

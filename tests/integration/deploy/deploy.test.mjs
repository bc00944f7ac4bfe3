// What operators deploy (deploy/), checked against the code: the Prometheus rules pass `promtool check rules` and
// their unit tests (`promtool test rules`); every metric and label the rules and the Grafana dashboard query is one
// that a live gateway, sidecar and control plane export — a small fleet started like the Kubernetes manifests
// start it (control plane with its CA over HTTPS, a gateway and a sidecar under it holding identities, a leased
// budget, a little traffic) and scraped; the Kubernetes manifests are parsed and cross-checked: probe and Service
// ports exist, every volume mount has a volume, every tollway container's flags are in `tollway <command> --help`,
// the sidecar's HTTP_PROXY is its outbound listener, the policy and gateway ConfigMaps pass `tollway validate`,
// and etcd is three members whose --initial-cluster names them. Real processes on loopback, cleaned up.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import YAML from 'yaml';
import { SOURCE_DIR, makeCA, postJson, runTollway, startMock, tempDir, unusedPort } from '../../lib/harness.mjs';
import { BASE, MODELS, httpsJson, policyDir, providers, sha256, startControl, startManagedGateway,
  startManagedSidecar } from '../control/control_harness.mjs';

const DEPLOY = path.join(SOURCE_DIR, 'deploy');
const RULES = path.join(DEPLOY, 'prometheus', 'rules.yml');
const RULES_TEST = path.join(DEPLOY, 'prometheus', 'rules.test.yml');
const DASHBOARD = path.join(DEPLOY, 'grafana', 'tollway.json');
const K8S = path.join(DEPLOY, 'kubernetes');

// ---- PromQL: the metric names and label names an expression uses ---------------------------------------------
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);
const SCRAPE_LABELS = new Set(['job', 'instance', 'le', '__name__']);

/** {metrics: Set, selectors: [{metric, labels: []}], groupingLabels: Set} of one PromQL expression. */
export function promqlNames(expr) {
  const selectors = [];
  const groupingLabels = new Set();
  // Label matchers: name{a="x", b=~"y"}. Strings may hold anything, so match them whole.
  let rest = expr.replace(/([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}/g, (m, metric, body) => {
    const labels = [...body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"/g)].map((x) => x[1]);
    selectors.push({ metric: metric ?? null, labels });
    return metric ? ` ${metric} ` : ' ';
  });
  rest = rest.replace(/"(?:[^"\\]|\\.)*"/g, ' ');
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (m, kw, list) => {
    for (const l of list.split(',').map((s) => s.trim()).filter(Boolean)) groupingLabels.add(l);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');               // ranges and subqueries
  rest = rest.replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, ' '); // Grafana variables
  rest = rest.replace(/\b\d+(\.\d+)?([eE][+-]?\d+)?\b/g, ' ');
  const metrics = new Set(selectors.filter((s) => s.metric).map((s) => s.metric));
  for (const m of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1])) continue;            // a function call or a keyword
    metrics.add(m[1]);
  }
  return { metrics, selectors, groupingLabels };
}

/** Families of a Prometheus text exposition: Map name -> {type, labels: Set}, plus every label name seen. */
function parseExposition(text, into = { families: new Map(), allLabels: new Set() }) {
  const { families, allLabels } = into;
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (type) {
      if (!families.has(type[1])) families.set(type[1], { type: type[2], labels: new Set(), samples: 0 });
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s/.exec(line);
    if (!sample) continue;
    let fam = families.get(sample[1]);
    if (!fam) {
      const base = sample[1].replace(/_(bucket|sum|count)$/, '');
      fam = families.get(base)?.type === 'histogram' ? families.get(base) : null;
    }
    if (!fam) continue;
    fam.samples += 1;
    for (const l of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
      if (l[1] === 'le') continue;
      fam.labels.add(l[1]);
      allLabels.add(l[1]);
    }
  }
  return into;
}

/** The family a series name belongs to (histogram series end in _bucket, _sum, _count), or null. */
function familyOf(name, families) {
  if (families.has(name) && families.get(name).type !== 'histogram') return families.get(name);
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m && families.get(m[1])?.type === 'histogram') return families.get(m[1]);
  return null;
}

/** Problems with the names `expr` uses, given the live families and the recording rules' names. */
function checkExpr(where, expr, live, recorded) {
  const problems = [];
  const { metrics, selectors, groupingLabels } = promqlNames(expr);
  const raw = [...metrics].filter((m) => !recorded.has(m));
  for (const m of raw) if (!familyOf(m, live.families)) problems.push(`${where}: metric ${m} is not exported`);
  for (const s of selectors) {
    if (!s.metric || recorded.has(s.metric)) continue;
    const fam = familyOf(s.metric, live.families);
    if (!fam) continue;
    for (const l of s.labels) {
      if (SCRAPE_LABELS.has(l)) continue;
      // Samples seen: the label must be one of them. None seen (no such event yet): a label some family has.
      const known = fam.samples ? fam.labels.has(l) : live.allLabels.has(l);
      if (!known) problems.push(`${where}: ${s.metric} has no label ${l}`);
    }
  }
  for (const l of groupingLabels) {
    if (SCRAPE_LABELS.has(l)) continue;
    // Grouping may name a label only some events carry (a refusal's reason): it must exist on some exported series.
    if (!live.allLabels.has(l)) problems.push(`${where}: no exported series has the label ${l}`);
  }
  return problems;
}

function rulesOf() {
  const doc = YAML.parse(fs.readFileSync(RULES, 'utf8'));
  return doc.groups.flatMap((g) => g.rules);
}
function dashboardExprs() {
  const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  const out = [];
  const visit = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      visit(p.panels);
    }
  };
  visit(dash.panels);
  for (const v of dash.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    const lv = /^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(q ?? '');
    if (lv) out.push({ where: `variable ${v.name}`, expr: lv[1] });
  }
  return { dash, exprs: out };
}

describe('deploy/prometheus: rules', () => {
  it('promtool check rules and promtool test rules pass', () => {
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check rules (scripts/install-deps.sh installs prometheus):\n${check.stdout}${check.stderr}`);
    const test = spawnSync('promtool', ['test', 'rules', RULES_TEST], { encoding: 'utf8', cwd: path.dirname(RULES_TEST) });
    assert.equal(test.status, 0, `promtool test rules:\n${test.stdout}${test.stderr}`);
    assert.match(test.stdout, /SUCCESS/);
  });

  it('every alert is shown firing in rules.test.yml', () => {
    const tested = new Set(YAML.parse(fs.readFileSync(RULES_TEST, 'utf8')).tests
      .flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts?.length).map((a) => a.alertname)));
    const alerts = rulesOf().filter((r) => r.alert).map((r) => r.alert);
    assert.ok(alerts.length >= 20, `${alerts.length} alerts`);
    assert.deepEqual(alerts.filter((a) => !tested.has(a)), []);
  });
});

describe('deploy/grafana: dashboard', () => {
  it('is an importable dashboard with the datasource as the ${DS_PROMETHEUS} input', () => {
    const { dash, exprs } = dashboardExprs();
    assert.ok(dash.schemaVersion >= 36 && dash.schemaVersion <= 41, `schemaVersion ${dash.schemaVersion}`);
    assert.deepEqual(dash.__inputs.map((i) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
    const panels = dash.panels.filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 30 && exprs.length >= panels.length);
    for (const p of panels) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' }, p.title);
      for (const t of p.targets) assert.deepEqual(t.datasource, p.datasource, p.title);
    }
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  });
});

// ---- a fleet like the manifests' ---------------------------------------------------------------------------
const TD = 'example.org';
const GW_ID = `spiffe://${TD}/ns/tollway/sa/gw-0`;
const AGENT_ID = `spiffe://${TD}/ns/tollway/sa/agent-a`;

function startAgent() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end('{"jsonrpc":"2.0","id":1,"result":{"content":[]}}');
      });
    });
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => new Promise((r) => server.close(r)) }));
  });
}

// An HTTP_PROXY client's request through the sidecar's outbound listener.
function viaProxy(port, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: url,
      headers: { host: new URL(url).host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('deploy/: every metric the rules and the dashboard use is exported', () => {
  let mock; let agent; let cp; let gw; let sc; let caBundle;
  const live = { families: new Map(), allLabels: new Set() };

  before(async () => {
    mock = await startMock();
    agent = await startAgent();
    const inbound = await unusedPort();
    const policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    // A spend log, so that its series (TollwaySpendLogFailing) are exported too.
    const spendDir = tempDir('tollway-deploy-spend-');
    policy.write('limits.yaml', `limits:\n  ledger: leased\n  spend_log: {path: ${path.join(spendDir, 'spend.db')}}\n  budgets:\n`
      + '    - {name: team-day, unit: total_tokens, limit: 60, period: day, alerts: [10, 50, 80, 100],\n'
      + '       on_lease_exhausted: wait}\n');
    policy.write('sidecars/mesh.yaml', `version: 1\npeers:\n  agent-a: {address: 127.0.0.1:${inbound}, spiffe_id: ${AGENT_ID}}\n`
      + `authorization:\n  - {action: allow, from: ["${AGENT_ID}"]}\n`);
    policy.write('groups/agent-a.yaml', `selector:\n  app: agent-a\nsections:\n  sidecar:\n    spiffe_id: ${AGENT_ID}\n`
      + `    outbound: 127.0.0.1:0\n    inbound: 127.0.0.1:${inbound}\n    agent: 127.0.0.1:${agent.port}\n    tls: {identity: node}\n`
      + '  mcp:\n    server: tools\n  limits:\n    rules:\n'
      + '      - {name: calls-to-self, match: {to: agent-a}, unit: requests, limit: 2, window: 1h}\n');
    policy.write('nodes.yaml', `nodes:\n  gw-0:\n    labels: {role: gateway}\n    token_sha256: ${sha256('token-gw-0')}\n`
      + `    spiffe_id: ${GW_ID}\n  agent-a-0:\n    role: sidecar\n    labels: {app: agent-a}\n`
      + `    spiffe_id: ${AGENT_ID}\n`);
    cp = await startControl({ policy: policy.dir, extraArgs: ['--trust-domain', TD, '--tls', '--svid-lifetime', '1h',
      '--lease-sync-interval', '200ms', '--lease-ttl', '2s'] });
    const dir = tempDir('tollway-deploy-test-');
    const bundleFile = path.join(dir, 'bundle.pem');
    fs.copyFileSync(path.join(cp.stateDir, 'ca', 'root.pem'), bundleFile);
    caBundle = fs.readFileSync(bundleFile, 'utf8');
    const identity = async (name, spiffeId) => {
      const minted = await runTollway(['control', 'token', 'create', '--state-dir', cp.stateDir, '--identity', spiffeId]);
      assert.equal(minted.code, 0, minted.stderr);
      fs.writeFileSync(path.join(dir, `${name}.join`), minted.stdout.trim());
      return ['--identity-dir', path.join(dir, `${name}-identity`), '--join-token-file', path.join(dir, `${name}.join`),
        '--control-ca', bundleFile];
    };
    // The control plane by name, as the manifests address it (its certificate names localhost; nodes check its SPIFFE ID).
    const controlUrl = cp.url.replace('127.0.0.1', 'localhost');
    gw = await startManagedGateway({ control: controlUrl, node: 'gw-0', token: 'token-gw-0',
      stateDir: path.join(dir, 'gw-state'), extraArgs: await identity('gw', GW_ID) });
    sc = await startManagedSidecar({ control: controlUrl, node: 'agent-a-0', token: null,
      stateDir: path.join(dir, 'sc-state'), extraArgs: await identity('sc', AGENT_ID) });
    await new Promise((r) => setTimeout(r, 2200));  // the control plane's learning period (one lease TTL) after its start

    // A little traffic: LLM calls through the gateway until its small leased budget denies; calls, an MCP tool call
    // and a malformed MCP message through the sidecar, past its limit.
    const failed = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 4,
      messages: [{ role: 'user', content: 'fail' }] }, { 'x-mock-scenario': 'fail:500' });
    assert.equal(failed.status, 500, failed.text);
    const statuses = [];
    while (statuses.length < 30 && statuses.at(-1) !== 429) {
      statuses.push((await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 4,
        messages: [{ role: 'user', content: 'hello there' }] }, { 'x-session-id': 'deploy-test' })).status);
    }
    assert.deepEqual([statuses.includes(200), statuses.at(-1)], [true, 429], `gateway statuses ${statuses}`);
    // The gateway may get a 429 from its lease while the fleet still has budget (the sidecar holds a fair share), so
    // only the 10 % alert is certain to have crossed: the first admitted call reserves more than 6 tokens.
    await viaProxy(sc.listeners.outbound, 'http://agent-a/tasks', '{}');
    await viaProxy(sc.listeners.outbound, 'http://agent-a/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search' } }));
    await viaProxy(sc.listeners.outbound, 'http://agent-a/mcp', '{"jsonrpc":"1.0"}');
    await viaProxy(sc.listeners.outbound, 'http://agent-a/tasks', '{}');

    parseExposition(await gw.metrics(), live);
    parseExposition(await sc.metrics(), live);
    const cpMetrics = await httpsJson(`${cp.url}/metrics`, { ca: caBundle });
    assert.equal(cpMetrics.status, 200);
    parseExposition(cpMetrics.text, live);
  });
  after(async () => {
    await gw?.stop(); await sc?.stop(); await cp?.stop();
    await mock?.close(); await agent?.close();
  });

  it('the fleet exports the families of all three roles', () => {
    for (const f of ['tollway_requests_total', 'gen_ai_client_token_usage', 'tollway_attributed_tokens_total',
      'tollway_limits_budget_remaining', 'tollway_sidecar_orphan_calls_total', 'mcp_server_operation_duration_seconds',
      'tollway_control_nodes', 'tollway_control_budget_spent', 'tollway_identity_expiry_seconds']) {
      assert.ok(live.families.get(f)?.samples, `${f} has samples`);
    }
  });

  it('every metric and label in rules.yml is exported', () => {
    const rules = rulesOf();
    const recorded = new Set(rules.filter((r) => r.record).map((r) => r.record));
    const problems = rules.flatMap((r) => checkExpr(r.record ?? r.alert, r.expr, live, recorded));
    assert.deepEqual(problems, []);
    // The check sees what the rules use: each alert or record names some exported metric or a recorded one.
    for (const r of rules) assert.ok(promqlNames(r.expr).metrics.size > 0, r.record ?? r.alert);
  });

  it('every metric and label the dashboard queries is exported', () => {
    const { exprs } = dashboardExprs();
    const problems = exprs.flatMap(({ where, expr }) => checkExpr(where, expr, live, new Set()));
    assert.deepEqual(problems, []);
  });

  it('the check fails for a metric or label that is not exported', () => {
    const none = new Set();
    assert.match(checkExpr('x', 'rate(tollway_request_total[5m])', live, none).join(), /tollway_request_total is not exported/);
    assert.match(checkExpr('x', 'sum by (tenant) (rate(tollway_attributed_tokens_total{tennant="a"}[5m]))', live, none).join(),
      /has no label tennant/);
    assert.match(checkExpr('x', 'histogram_quantile(0.9, sum by (le) (rate(tollway_requests_total_bucket[5m])))', live, none).join(),
      /tollway_requests_total_bucket is not exported/);
    assert.match(checkExpr('x', 'sum by (tenat) (tollway_cost_usd_total)', live, none).join(), /label tenat/);
    assert.deepEqual(checkExpr('x', 'histogram_quantile(0.9, sum by (job, le) (rate(tollway_request_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))', live, none), []);
  });
});

// ---- Kubernetes manifests ----------------------------------------------------------------------------------
function manifests() {
  const docs = [];
  for (const f of fs.readdirSync(K8S).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const d of YAML.parseAllDocuments(fs.readFileSync(path.join(K8S, f), 'utf8'))) {
      assert.deepEqual(d.errors, [], f);
      const doc = d.toJS();
      if (doc) docs.push({ file: f, ...doc });
    }
  }
  return docs;
}
const named = (docs, kind, name) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const podSpec = (w) => (w.kind === 'Job' ? w.spec.template.spec : w.spec.template.spec);
const matches = (selector, labels) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);

describe('deploy/kubernetes: manifests', () => {
  const docs = manifests();
  const workloads = docs.filter((d) => ['Deployment', 'StatefulSet', 'Job'].includes(d.kind));
  const helpCache = new Map();
  const helpOf = async (command) => {
    if (!helpCache.has(command.join(' '))) {
      const r = await runTollway([...command, '--help']);
      assert.equal(r.code, 0, `tollway ${command.join(' ')} --help: ${r.stderr}`);
      helpCache.set(command.join(' '), r.stdout);
    }
    return helpCache.get(command.join(' '));
  };

  it('has the control plane, a 3-member etcd, the gateway with a disruption budget and an agent with its sidecar', () => {
    for (const [kind, name] of [['StatefulSet', 'tollway-etcd'], ['Service', 'tollway-etcd'], ['StatefulSet', 'tollway-control'],
      ['Service', 'tollway-control'], ['ConfigMap', 'tollway-policy'], ['Job', 'tollway-policy-publish'],
      ['ConfigMap', 'tollway-gateway'], ['Deployment', 'tollway-gateway'], ['Service', 'tollway-gateway'],
      ['PodDisruptionBudget', 'tollway-gateway'], ['StatefulSet', 'agent-a'], ['Service', 'agent-a']]) {
      assert.ok(named(docs, kind, name), `${kind} ${name}`);
    }
    const gateway = named(docs, 'Deployment', 'tollway-gateway');
    const pdb = named(docs, 'PodDisruptionBudget', 'tollway-gateway');
    assert.ok(matches(pdb.spec.selector.matchLabels, gateway.spec.template.metadata.labels));
    assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < gateway.spec.replicas, 'the PDB lets one pod go at a time');
  });

  it('every volume mount has a volume, every probe and Service port is a container port', () => {
    for (const w of workloads) {
      const spec = podSpec(w);
      const volumes = new Set([...(spec.volumes ?? []).map((v) => v.name),
        ...(w.spec.volumeClaimTemplates ?? []).map((v) => v.metadata.name)]);
      for (const c of spec.containers) {
        const where = `${w.kind} ${w.metadata.name} container ${c.name}`;
        for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${where}: volume ${m.name}`);
        const ports = c.ports ?? [];
        for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          const port = c[probe]?.httpGet?.port;
          if (port === undefined) continue;
          assert.ok(ports.some((p) => p.name === port || p.containerPort === port), `${where}: ${probe} port ${port}`);
        }
        for (const ref of JSON.stringify(c.args ?? []).matchAll(/\$\(([A-Z_]+)\)/g))
          assert.ok((c.env ?? []).some((e) => e.name === ref[1]), `${where}: $(${ref[1]}) is in env`);
      }
      if (w.kind !== 'Job') assert.ok(spec.containers.some((c) => c.readinessProbe && c.livenessProbe), `${w.metadata.name} has probes`);
      const scrapePort = w.spec.template.metadata?.annotations?.['prometheus.io/port'];
      if (scrapePort) assert.ok(spec.containers.some((c) => (c.ports ?? []).some((p) => p.containerPort === Number(scrapePort))),
        `${w.metadata.name}: prometheus.io/port ${scrapePort}`);
    }
    for (const svc of docs.filter((d) => d.kind === 'Service')) {
      const targets = workloads.filter((w) => w.kind !== 'Job' && matches(svc.spec.selector, w.spec.template.metadata.labels));
      assert.equal(targets.length, 1, `Service ${svc.metadata.name} selects one workload`);
      const ports = podSpec(targets[0]).containers.flatMap((c) => c.ports ?? []);
      for (const p of svc.spec.ports) {
        const t = p.targetPort ?? p.port;
        assert.ok(ports.some((cp) => cp.name === t || cp.containerPort === t), `Service ${svc.metadata.name} port ${p.name} -> ${t}`);
      }
    }
  });

  it('every tollway container\'s flags are ones `tollway <command> --help` accepts', async () => {
    let checked = 0;
    for (const w of workloads) {
      for (const c of podSpec(w).containers.filter((x) => /^tollway[:@]/.test(x.image))) {
        const args = c.args.map(String);
        const command = args[0] === 'control' && args[1] && !args[1].startsWith('-') ? args.slice(0, 2) : [args[0]];
        assert.ok(['gateway', 'sidecar', 'control'].includes(command[0]), `${w.metadata.name}: ${command}`);
        const help = await helpOf(command);
        for (const flag of args.filter((a) => a.startsWith('--'))) {
          const name = flag.split('=')[0];
          assert.ok(new RegExp(`(^|[\\s,])${name}\\b`).test(help), `${w.metadata.name}/${c.name}: ${name} is not in tollway ${command.join(' ')} --help`);
          checked += 1;
        }
      }
    }
    assert.ok(checked >= 24, `${checked} flags checked`);
  });

  it('etcd: three members, --initial-cluster names each by the headless Service, the control plane lists them', () => {
    const etcd = named(docs, 'StatefulSet', 'tollway-etcd');
    assert.equal(etcd.spec.replicas, 3);
    const svc = named(docs, 'Service', etcd.spec.serviceName);
    assert.equal(svc.spec.clusterIP, 'None', 'a headless Service');
    const c = etcd.spec.template.spec.containers[0];
    const arg = (name) => c.args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    const peerPort = c.ports.find((p) => p.name === 'peer').containerPort;
    const clientPort = c.ports.find((p) => p.name === 'client').containerPort;
    const members = arg('--initial-cluster').split(',');
    assert.deepEqual(members, [0, 1, 2].map((i) => `${etcd.metadata.name}-${i}=http://${etcd.metadata.name}-${i}.${svc.metadata.name}:${peerPort}`));
    assert.equal(arg('--name'), '$(POD_NAME)');
    assert.equal(arg('--initial-advertise-peer-urls'), `http://$(POD_NAME).${svc.metadata.name}:${peerPort}`);
    assert.equal(arg('--advertise-client-urls'), `http://$(POD_NAME).${svc.metadata.name}:${clientPort}`);
    const help = spawnSync('etcd', ['--help'], { encoding: 'utf8' });
    if (help.status === 0 || help.stdout) {
      for (const a of c.args) assert.match(help.stdout + help.stderr, new RegExp(`${a.split('=')[0]}\\b`), `etcd accepts ${a}`);
    }
    const clientUrls = [0, 1, 2].map((i) => `http://${etcd.metadata.name}-${i}.${svc.metadata.name}:${clientPort}`).join(',');
    for (const [kind, name] of [['StatefulSet', 'tollway-control'], ['Job', 'tollway-policy-publish']]) {
      const args = podSpec(named(docs, kind, name)).containers[0].args;
      assert.equal(args[args.indexOf('--etcd') + 1], clientUrls, `${name} --etcd`);
      assert.equal(args[args.indexOf('--prefix') + 1], '/tollway/policy', `${name} --prefix`);
    }
  });

  it('the policy ConfigMap, as the publish Job mounts it, passes `tollway validate`; the agent\'s sidecar matches it', async () => {
    const job = named(docs, 'Job', 'tollway-policy-publish');
    const policyVolume = podSpec(job).volumes.find((v) => v.configMap?.name === 'tollway-policy');
    const cm = named(docs, 'ConfigMap', 'tollway-policy');
    assert.deepEqual(policyVolume.configMap.items.map((i) => i.key).sort(), Object.keys(cm.data).sort(), 'every key is mapped');
    const dir = tempDir('tollway-k8s-policy-');
    for (const { key, path: p } of policyVolume.configMap.items) {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), cm.data[key]);
    }
    const mount = podSpec(job).containers[0].volumeMounts.find((m) => m.name === policyVolume.name).mountPath;
    assert.equal(podSpec(job).containers[0].args[2], mount, 'publish reads the mounted directory');
    const r = await runTollway(['validate', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);

    // The agent's pod: its node is the pod's name, declared as a sidecar with the pod's labels and its token's sha256.
    const agent = named(docs, 'StatefulSet', 'agent-a');
    const containers = agent.spec.template.spec.containers;
    const sidecar = containers.find((c) => c.args?.[0] === 'sidecar');
    const app = containers.find((c) => c !== sidecar);
    const argOf = (name) => sidecar.args[sidecar.args.indexOf(name) + 1];
    assert.equal(argOf('--node'), '$(POD_NAME)');
    const nodes = YAML.parse(cm.data['nodes.yaml']).nodes;
    const node = nodes[`${agent.metadata.name}-0`];
    assert.equal(node?.role, 'sidecar');
    assert.ok(matches(node.labels, agent.spec.template.metadata.labels));
    // It holds an identity, which alone authenticates it: nodes.yaml names its SPIFFE ID, and it has no token.
    assert.ok(sidecar.args.includes('--identity-dir'));
    assert.ok(!sidecar.args.includes('--token-file'), 'a node with an identity holds no bootstrap token');
    assert.equal(node.token_sha256, undefined);
    // Its document: the group that selects the pod.
    const group = YAML.parse(cm.data['groups.agent-a.yaml']);
    assert.ok(matches(group.selector, node.labels));
    const doc = group.sections.sidecar;
    const env = Object.fromEntries(app.env.map((e) => [e.name, e.value]));
    assert.equal(env.HTTP_PROXY, `http://${doc.outbound}`, 'HTTP_PROXY is the sidecar\'s outbound listener');
    assert.equal(env.OPENAI_BASE_URL, `http://${doc.outbound}/v1`);
    assert.match(doc.outbound, /^127\.0\.0\.1:/, 'the outbound listener stays on the pod\'s loopback');
    const portOf = (addr) => Number(addr.split(':').pop());
    assert.ok(sidecar.ports.some((p) => p.containerPort === portOf(doc.inbound)), 'inbound listener is a container port');
    assert.ok(app.ports.some((p) => p.containerPort === portOf(doc.agent)), 'sidecar.agent is the agent container\'s port');
    assert.equal(sidecar.ports.find((p) => p.name === sidecar.readinessProbe.httpGet.port).containerPort, portOf(argOf('--admin')),
      'probes ask the admin listener');
    // The addresses it dials are Services' pinned cluster IPs, sent to the right container ports.
    const byAddress = (addr) => docs.find((d) => d.kind === 'Service' && d.spec.clusterIP === addr.split(':')[0]
      && d.spec.ports.some((p) => p.port === portOf(addr)));
    const gatewaySvc = byAddress(doc.gateway.address);
    assert.equal(gatewaySvc?.metadata.name, 'tollway-gateway', 'sidecar.gateway.address');
    const mesh = YAML.parse(cm.data['sidecars.mesh.yaml']);
    for (const [peer, p] of Object.entries(mesh.peers)) {
      const svc = byAddress(p.address);
      assert.ok(svc, `peer ${peer}: a Service at ${p.address}`);
      const target = svc.spec.ports.find((sp) => sp.port === portOf(p.address)).targetPort;
      const pod = workloads.find((w) => w.kind !== 'Job' && matches(svc.spec.selector, w.spec.template.metadata.labels));
      const inboundOf = YAML.parse(Object.entries(cm.data).find(([k, v]) => k.startsWith('groups.')
        && matches(YAML.parse(v).selector, pod.spec.template.metadata.labels))[1]).sections.sidecar.inbound;
      assert.equal(podSpec(pod).containers.flatMap((c) => c.ports).find((cp) => cp.name === target).containerPort,
        portOf(inboundOf), `peer ${peer} reaches a sidecar's inbound listener`);
      assert.equal(YAML.parse(Object.entries(cm.data).find(([k]) => k === `groups.${peer}.yaml`)[1]).sections.sidecar.spiffe_id,
        p.spiffe_id, `peer ${peer}'s SPIFFE ID`);
    }
  });

  it('the gateway\'s ConfigMap passes `tollway validate` and agrees with its Deployment', async () => {
    const cm = named(docs, 'ConfigMap', 'tollway-gateway');
    const deployment = named(docs, 'Deployment', 'tollway-gateway');
    const c = deployment.spec.template.spec.containers[0];
    const config = YAML.parse(cm.data['gateway.yaml']);
    const portOf = (addr) => Number(addr.split(':').pop());
    assert.equal(c.ports.find((p) => p.name === 'api').containerPort, portOf(config.gateway.listen));
    assert.equal(c.ports.find((p) => p.name === 'admin').containerPort, portOf(config.gateway.admin));
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    const configPath = c.args[c.args.indexOf('--config') + 1];
    const configMount = c.volumeMounts.find((m) => configPath.startsWith(`${m.mountPath}/`));
    assert.equal(deployment.spec.template.spec.volumes.find((v) => v.name === configMount.name).configMap.name, 'tollway-gateway');
    assert.ok(cm.data[path.basename(configPath)], `the ConfigMap has ${path.basename(configPath)}`);
    assert.equal(cm.data['pricing.yaml'], fs.readFileSync(path.join(SOURCE_DIR, 'config', 'pricing.yaml'), 'utf8'),
      'the ConfigMap\'s price table is config/pricing.yaml');
    const tlsMount = c.volumeMounts.find((m) => m.name === 'tls').mountPath;
    for (const f of ['cert_file', 'key_file', 'client_ca_file']) assert.ok(config.gateway.tls[f].startsWith(`${tlsMount}/`), f);
    // Validate it with the Secret's files made here (an X.509-SVID for the gateway from a throwaway CA).
    const ca = makeCA({ name: 'deploy-test-ca' });
    const svid = ca.svid('gateway', `spiffe://${config.gateway.tls.trust_domain}/ns/tollway/sa/tollway-gateway`);
    const dir = tempDir('tollway-k8s-gateway-');
    fs.writeFileSync(path.join(dir, 'pricing.yaml'), cm.data['pricing.yaml']);
    fs.writeFileSync(path.join(dir, 'gateway.yaml'), cm.data['gateway.yaml']
      .replace(config.gateway.tls.cert_file, svid.certFile).replace(config.gateway.tls.key_file, svid.keyFile)
      .replace(config.gateway.tls.client_ca_file, ca.caFile));
    const r = await runTollway(['validate', path.join(dir, 'gateway.yaml')], { env: { OPENAI_API_KEY: 'sk-x', ANTHROPIC_API_KEY: 'sk-y' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    ca.cleanup();
  });

  it('the control plane serves HTTPS on its container port and keeps its state on a volume', () => {
    const control = named(docs, 'StatefulSet', 'tollway-control');
    const c = control.spec.template.spec.containers[0];
    const argOf = (name) => c.args[c.args.indexOf(name) + 1];
    assert.ok(c.args.includes('--tls'));
    assert.equal(c.readinessProbe.httpGet.scheme, 'HTTPS');
    assert.equal(c.ports.find((p) => p.name === c.readinessProbe.httpGet.port).containerPort, Number(argOf('--listen').split(':').pop()));
    assert.ok(c.volumeMounts.some((m) => m.mountPath === argOf('--state-dir')
      && control.spec.volumeClaimTemplates.some((v) => v.metadata.name === m.name)), '--state-dir is on a persistent volume');
    const agent = named(docs, 'StatefulSet', 'agent-a');
    const sidecar = agent.spec.template.spec.containers.find((x) => x.args?.[0] === 'sidecar');
    const controlUrl = new URL(sidecar.args[sidecar.args.indexOf('--control') + 1]);
    assert.equal(controlUrl.protocol, 'https:');
    assert.equal(controlUrl.hostname.split('.')[0], named(docs, 'Service', 'tollway-control').metadata.name);
    assert.equal(Number(controlUrl.port), named(docs, 'Service', 'tollway-control').spec.ports[0].port);
  });
});

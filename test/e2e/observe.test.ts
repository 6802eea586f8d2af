// Seeing inside a running cluster (issue 17), with the real CLI, kubectl and kernel: `clusterip
// trace` while seed 000's manifest is applied, `clusterip flows` for wget from a Pod, a refused
// connection, the outside host, and the Prometheus metrics of the API server, the proxy and DNS.
// One cluster for the file; `clusterip down --purge` and the leak check run at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { upCluster, type UpCluster } from '../harness/up.js';
import type { TraceList, TraceUpdate, TraceStep } from '../../src/inspect/tracemodel.js';
import type { FlowList, FlowUpdate } from '../../src/inspect/flowsmodel.js';
import { scrape, sampleValue } from '../../src/inspect/testing/prometheus.js';

let c: UpCluster;
const afterHooks: (() => Promise<void>)[] = [];
before(async () => {
  c = await upCluster({ after: (fn: () => Promise<void>) => { afterHooks.push(fn); } } as never);
});
after(async () => { for (const h of afterHooks) await h(); });

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ok(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  const r = await c.kubectl(args, opts);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * Starts a following CLI command (`trace -f`, `flows -f`) of this cluster; `ready` resolves at its
 * first output, i.e. once the daemon streams to it (a loaded machine can take seconds to start it),
 * and `result` when it is stopped after `ms`.
 */
function follow(args: string[], ms: number): { ready: Promise<void>; result: Promise<{ stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), args[0]!, '--name', c.name, '--state-dir', c.stateDir, ...args.slice(1)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = ''; let stderr = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => { onReady = r; });
  child.stdout.on('data', (d: Buffer) => { stdout += d; onReady(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d; onReady(); });
  const timer = setTimeout(() => child.kill('SIGINT'), ms);
  const result = new Promise<{ stdout: string; stderr: string }>((res) => child.on('close', () => { clearTimeout(timer); onReady(); res({ stdout, stderr }); }));
  afterHooks.unshift(async () => { child.kill('SIGKILL'); });
  return { ready, result };
}

const ndjson = <T>(text: string): T[] => text.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as T);

// Seed 000's Service, with Pods for its selector (app=my-app on 8080) as the seed's step 4 has.
const SEED000 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
spec:
  replicas: 2
  selector:
    matchLabels: {app: my-app}
  template:
    metadata:
      labels: {app: my-app}
    spec:
      containers:
      - name: app
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
        ports:
        - containerPort: 8080
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: my-service
spec:
  type: ClusterIP
  selector:
    app: my-app
  ports:
  - port: 80
    targetPort: 8080
`;

test('trace -f while seed 000 is applied: API write, slice, rules, DNS, first connection, in order with plausible times', async () => {
  const tracing = follow(['trace', 'svc/my-service', '-f', '-o', 'json'], 25_000);
  await tracing.ready;
  await ok(['apply', '-f', await c.file('seed000.yaml', SEED000)]);
  await ok(['rollout', 'status', 'deployment/my-app', '--timeout=60s'], { timeoutMs: 70_000 });
  await ok(['run', 'client', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
  await until('client running', async () => (await ok(['get', 'pod', 'client', '-o', 'jsonpath={.status.phase}'])) === 'Running');
  await ok(['exec', 'client', '--', 'sh', '-c', 'wget -qO- http://my-service/hostname']);
  const r = await tracing.result;
  const updates = ndjson<TraceUpdate>(r.stdout);
  assert.equal(updates[0]?.type, 'snapshot', r.stdout + r.stderr);
  // The change arrives as a 'change' update, or (if the CLI subscribed late on a busy machine)
  // already inside the snapshot; its steps likewise.
  const snapshot = updates[0]!.type === 'snapshot' ? updates[0]!.list.changes : [];
  const changes = [...snapshot, ...updates.flatMap((u) => (u.type === 'change' ? [u.change] : []))];
  const created = changes.find((x) => x.cause.startsWith('kubectl apply (create by '));
  assert.ok(created, `the apply's change was streamed:\n${r.stdout}\n${r.stderr}`);
  const change = { change: created };
  const seen = new Set<string>();
  const steps = [...created.steps, ...updates.flatMap((u) => (u.type === 'step' && u.changeId === created.id ? [u.step] : []))]
    .filter((st) => { const k = JSON.stringify(st); if (seen.has(k)) return false; seen.add(k); return true; })
    .sort((a, b) => a.at - b.at);
  const t0 = change.change.startedAt;
  const first = <K extends TraceStep['kind']>(k: K, pred: (s: Extract<TraceStep, { kind: K }>) => boolean = () => true) =>
    steps.find((s) => s.kind === k && pred(s as Extract<TraceStep, { kind: K }>)) as Extract<TraceStep, { kind: K }> | undefined;
  const write = first('api-write')!;
  assert.equal(steps[0], write, 'the API write comes first');
  assert.equal(write.resource, 'services');
  assert.equal(write.allocated, true);
  assert.match(write.clusterIP!, /^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
  const slice = first('slice-write')!;
  const rules = first('proxy-sync')!;
  const dns = first('dns-live')!;
  const ready = first('proxy-sync', (s) => (s.endpoints ?? 0) > 0)!;
  const conn = first('first-connection')!;
  for (const [name, s] of Object.entries({ slice, rules, dns, ready, conn })) assert.ok(s, `${name} step missing:\n${JSON.stringify(steps, null, 1)}`);
  assert.deepEqual(dns.addresses, [write.clusterIP]);
  assert.ok(slice.at >= t0 && rules.at >= t0 && dns.at >= t0, 'nothing before the write');
  assert.ok(rules.at - t0 < 2000 && dns.at - t0 < 2000 && slice.at - t0 < 2000, `apply → slice/rules/DNS within 2 s: ${slice.at - t0}, ${rules.at - t0}, ${dns.at - t0} ms`);
  assert.ok(ready.at >= rules.at && conn.at > ready.at, 'ready endpoints reach the rules before the first connection');
  assert.equal(conn.client.name, 'default/client');
  assert.match(conn.backend.pod ?? '', /^default\/my-app-/);
  assert.ok(steps.some((s) => s.kind === 'slice-write' && s.changed.concat(s.added).some((n) => /became ready|ready/.test(n.reason))), 'a slice step says a Pod became ready');

  // The same change as seed 000's table, with the outside step and the status tracker.
  const table = await c.cli(['trace', 'svc/my-service', '--last', '1']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /step +\+ms +action +resource state +result/);
  assert.match(table.stdout, new RegExp(`kubectl apply: create services/my-service → 201 +Service created \\(selector app=my-app\\) +ClusterIP ${write.clusterIP!.replace(/\./g, '\\.')} assigned \\(80/TCP→8080\\)`));
  assert.match(table.stdout, /access from outside the cluster +outside host: no route to the Service CIDR +not reachable/);
  assert.match(table.stdout, /Network is unreachable/);
  assert.match(table.stdout, /latency from the start: slice [\d.]+ ms → rules [\d.]+ ms/);
  assert.match(table.stdout, /status tracker\nvariable +start/);
  assert.match(table.stdout, /Served by +— .*default\/my-app-/);
});

test('wget five times from a Pod: flows name the client Pod, the Service and the backend Pod of each connection', async () => {
  const watching = follow(['flows', 'svc/my-service', '-f', '-o', 'json'], 8_000);
  await watching.ready;
  const out = await ok(['exec', 'client', '--', 'sh', '-c', 'for i in 1 2 3 4 5; do wget -qO- http://my-service/hostname; echo; done']);
  const served = out.trim().split('\n');
  assert.equal(served.length, 5);
  const r = await watching.result;
  const flows = ndjson<FlowUpdate>(r.stdout).flatMap((u) => (u.type === 'flow' && u.flow.event === 'new' ? [u.flow] : []));
  assert.equal(flows.length, 5, `${r.stdout}\n${r.stderr}`);
  for (const f of flows) {
    assert.equal(f.client.name, 'default/client');
    assert.equal(f.service?.name, 'default/my-service');
    assert.equal(f.service?.port, 80);
    assert.match(f.backend?.pod ?? '', /^default\/my-app-/);
    assert.equal(f.backend?.port, 8080);
  }
  // Load balancing made visible: the Pods the flows name are the Pods that answered.
  assert.deepEqual(flows.map((f) => f.backend!.pod!.slice('default/'.length)).sort(), [...served].sort());
  const list = await c.cli(['flows', 'svc/my-service']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /default\/client 10\.244\.\d+\.\d+:\d+ → svc default\/my-service 10\.\d+\.\d+\.\d+:80 → pod default\/my-app-\S+ 10\.244\.\d+\.\d+:8080 TCP (TIME_WAIT|CLOSE|ESTABLISHED|CLOSED) sent \d+ B received \d+ B/);
});

test('a Service without endpoints shows a refused flow; the outside host shows none, and trace says why', async () => {
  await ok(['create', 'service', 'clusterip', 'lonely', '--tcp=80:80']);
  const watching = follow(['flows', '-n', 'default', '-f'], 8_000);
  await watching.ready;
  const w = await c.kubectl(['exec', 'client', '--', 'sh', '-c', 'timeout 3 wget -qO- http://lonely 2>&1; echo exit=$?']);
  assert.match(w.stdout, /Connection refused/);
  const ip = (await ok(['get', 'svc', 'my-service', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  const outside = await c.cli(['outside', '--', 'busybox', 'timeout', '3', 'busybox', 'wget', '-qO-', `http://${ip}/hostname`]);
  assert.notEqual(outside.code, 0);
  const r = await watching.result;
  assert.match(r.stdout, /default\/client 10\.244\.\d+\.\d+:\d+ → svc default\/lonely 10\.\d+\.\d+\.\d+:80 TCP REJECTED \(no endpoints\)/, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /172\.31\.255\.2|outside/, 'nothing from the outside host reaches a node');
  const json = JSON.parse((await c.cli(['flows', 'svc/lonely', '-o', 'json'])).stdout) as FlowList;
  const refused = json.flows.find((f) => f.event === 'refused')!;
  assert.equal(refused.verdict, 'rejected');
  assert.match(refused.kernelRule ?? '', /reject/);
  const trace = JSON.parse((await c.cli(['trace', 'svc/my-service', '-o', 'json'])).stdout) as TraceList;
  assert.equal(trace.outside?.reachable, false);
  assert.match(trace.outside!.evidence, /Network is unreachable.*no route to the Service CIDR/);
});

test('bad input: unknown filters and targets get clear errors', async () => {
  const f = await c.cli(['flows', 'deploy/my-app']);
  assert.equal(f.code, 2);
  assert.match(f.stderr, /unknown filter "deploy\/my-app": use svc\/NAME, pod\/NAME or -n NAMESPACE/);
  const missing = await c.cli(['flows', 'svc/nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /services "nope" not found in namespace "default"/);
  const t = await c.cli(['trace', 'pod/client']);
  assert.equal(t.code, 2);
  assert.match(t.stderr, /unknown trace target "pod\/client": use svc\/NAME/);
  const q = await c.kubectl(['get', '--raw', '/debug/clusterip/trace?service=Bad_Name']);
  assert.notEqual(q.code, 0);
  assert.match(q.stderr, /service must be NAMESPACE\/NAME/);
});

function anonymousGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // The API server's own loopback listener (not a Pod or Service address).
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

test('metrics: API server (authenticated), the node\'s proxy and cluster DNS, in valid exposition format, moving with Service changes', async () => {
  assert.equal(await anonymousGet(c.record.apiPort, '/metrics'), 401, 'anonymous users get 401, as kube-apiserver without anonymous auth');
  const node = (await ok(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  const proxyPath = `/api/v1/nodes/${node}:10249/proxy/metrics`;
  const api0 = scrape(await ok(['get', '--raw', '/metrics']));
  const proxy0 = scrape(await ok(['get', '--raw', proxyPath]));
  const created = (m: typeof api0) => sampleValue(m, 'apiserver_request_total', { verb: 'POST', resource: 'services', scope: 'namespace', code: '201', component: 'apiserver', dry_run: '', group: '', version: 'v1' });

  await ok(['create', 'service', 'clusterip', 'metrics-probe', '--tcp=80:8080']);
  await ok(['delete', 'service', 'metrics-probe']);
  const api1 = scrape(await ok(['get', '--raw', '/metrics']));
  assert.equal(created(api1), created(api0) + 1);
  assert.ok(sampleValue(api1, 'apiserver_request_duration_seconds', { verb: 'DELETE', resource: 'services', scope: 'resource' }) >= 1);
  const proxy1 = await until('proxy metrics to move', async () => {
    const m = scrape(await ok(['get', '--raw', proxyPath]));
    return sampleValue(m, 'kubeproxy_sync_proxy_rules_service_changes_total') >= sampleValue(proxy0, 'kubeproxy_sync_proxy_rules_service_changes_total') + 2 && m;
  });
  assert.ok(sampleValue(proxy1, 'kubeproxy_sync_proxy_rules_duration_seconds') > sampleValue(proxy0, 'kubeproxy_sync_proxy_rules_duration_seconds'));
  assert.ok(sampleValue(proxy1, 'kubeproxy_network_programming_duration_seconds') >= 1);
  assert.equal(sampleValue(proxy1, 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total'), 0);
  const missingNode = await c.kubectl(['get', '--raw', '/api/v1/nodes/nope:10249/proxy/metrics']);
  assert.notEqual(missingNode.code, 0);

  // CoreDNS' metrics live on :9153 in its Pod; scraped from inside the node's namespace.
  const dnsPod = (await ok(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'jsonpath={.items[0].status.podIP}'])).trim();
  const dns0 = scrape(await c.onNode('wget', ['-qO-', `http://${dnsPod}:9153/metrics`]));
  await c.onNode('dig', ['+short', '+time=2', '+tries=1', '@10.96.0.10', 'my-service.default.svc.cluster.local']);
  const dns1 = scrape(await c.onNode('wget', ['-qO-', `http://${dnsPod}:9153/metrics`]));
  assert.equal(sampleValue(dns1, 'coredns_dns_requests_total', { proto: 'udp', type: 'A', zone: '.' }), sampleValue(dns0, 'coredns_dns_requests_total', { proto: 'udp', type: 'A', zone: '.' }) + 1);
  assert.ok(dns1.get('coredns_dns_request_duration_seconds')!.samples.length > 0);
  const svc = JSON.parse(await ok(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'json'])) as { spec: { ports: { name: string; port: number }[] } };
  assert.ok(svc.spec.ports.some((p) => p.name === 'metrics' && p.port === 9153), 'kube-dns has kubeadm\'s metrics port');
});

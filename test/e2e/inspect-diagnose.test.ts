// `clusterip diagnose` against a real cluster (`clusterip up`, real kubectl, real kernel): one
// broken manifest per common Service mistake, each in its own namespace, with the finding diagnose
// must name and the fix it must print (test/fixtures/broken-services.ts); the healthy seed-004 app
// gets all passes; headless, ExternalName and selectorless Services raise no false alarm; a probe
// that cannot be placed is its own finding; Ctrl-C removes the probe. After every diagnose no probe
// Pod and no extra network namespace is left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { upCluster, type UpCluster } from '../harness/up.js';
import { seed004Manifest } from '../fixtures/seed004.js';
import { BROKEN_CASES, HEALTHY_EXPECT, type Expect } from '../fixtures/broken-services.js';
import YAML from 'yaml';
import { listNetns } from '../../src/sys/netns.js';
import type { Finding, ServiceDiagnosis, ClusterDiagnosis } from '../../src/inspect/types.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
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
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ok(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
  const r = await c.kubectl(args, opts);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Objects as a multi-document YAML stream (kubectl's validation refuses a JSON List here; see the report). */
const yamlDocs = (...objs: object[]): string => objs.map((o) => YAML.stringify(o)).join('---\n');

const probePods = async (): Promise<string> => (await ok(['get', 'pods', '-A', '-l', 'diagnose.clusterip.dev/probe=true', '-o', 'name'])).trim();
const clusterNetns = async (): Promise<string[]> => (await listNetns()).filter((n) => n.startsWith(`cip-${c.record.id}-`)).sort();

/** Runs `clusterip diagnose ... -o json`; asserts nothing is left behind. */
async function diagnose(args: string[]): Promise<{ code: number; d: ServiceDiagnosis; stderr: string }> {
  const before = await clusterNetns();
  const r = await c.cli(['diagnose', ...args, '-o', 'json'], { timeoutMs: 60_000 });
  let d: ServiceDiagnosis;
  try { d = JSON.parse(r.stdout) as ServiceDiagnosis; } catch { throw new Error(`diagnose ${args.join(' ')} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`); }
  assert.equal(await probePods(), '', 'no probe Pod is left after diagnose');
  assert.deepEqual(await clusterNetns(), before, 'no network namespace is left after diagnose');
  return { code: r.code, d, stderr: r.stderr };
}

function assertExpect(findings: Finding[], e: Expect, label: string): void {
  const dump = findings.map((f) => `${f.verdict} ${f.code}: ${f.title}\n    ${f.evidence.join('\n    ')}\n    fix: ${f.fix.join(' | ')}`).join('\n');
  const f = findings.find((x) => x.code === e.code);
  assert.ok(f, `${label}: no finding ${e.code}; got:\n${dump}`);
  assert.equal(f.verdict, e.verdict, `${label}: ${e.code} verdict; got:\n${dump}`);
  if (e.fix) assert.ok(f.fix.some((l) => e.fix!.test(l)), `${label}: ${e.code} fix must match ${e.fix}; got:\n${f.fix.join('\n')}`);
  if (e.evidence) assert.ok(f.evidence.some((l) => e.evidence!.test(l)), `${label}: ${e.code} evidence must match ${e.evidence}; got:\n${f.evidence.join('\n')}`);
}

test('setup: seed 004 and one namespace per common mistake', async () => {
  await ok(['create', 'namespace', 'student-01']);
  await ok(['apply', '-f', await c.file('seed004.yaml', seed004Manifest('01'))]);
  for (const k of BROKEN_CASES.filter((x) => x.manifest)) await ok(['apply', '-f', await c.file(`${k.name}.yaml`, k.manifest)]);
  await ok(['rollout', 'status', 'deployment/nginx-deployment-01', '-n', 'student-01', '--timeout=60s'], { timeoutMs: 70_000 });
  // Every Pod settled: Running, or in the waiting state its case is about.
  await until('every case Pod settled', async () => {
    const pods = JSON.parse(await ok(['get', 'pods', '-A', '-o', 'json'])) as { items: { metadata: { namespace: string; name: string }; status: { phase?: string; podIP?: string; containerStatuses?: { ready: boolean; restartCount: number; state: { waiting?: { reason: string } } }[] } }[] };
    const byNs = (n: string) => pods.items.filter((p) => p.metadata.namespace === n);
    const running = (n: string, count: number) => byNs(n).filter((p) => p.status.phase === 'Running' && p.status.podIP).length === count;
    const ready = (n: string, count: number) => byNs(n).filter((p) => p.status.containerStatuses?.every((s) => s.ready)).length === count;
    return ready('c-typo', 2) && ready('c-swapped', 2) && ready('c-headless', 2) && ready('c-back', 2) && ready('c-loopback', 1) &&
      running('c-unready', 2) && byNs('c-image').some((p) => /ImagePull|ErrImage/.test(p.status.containerStatuses?.[0]?.state.waiting?.reason ?? '')) &&
      byNs('c-crash').some((p) => (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
  }, 60_000);
  // The readiness probe of c-unready has failed more than its failureThreshold by now.
  await new Promise((r) => setTimeout(r, 3500));
});

test('seed 004 healthy app: every check passes, exit 0', async () => {
  const { code, d } = await diagnose(['svc/nginx-service-01', '-n', 'student-01']);
  for (const e of HEALTHY_EXPECT) assertExpect(d.findings, e, 'seed 004');
  assert.deepEqual(d.findings.filter((f) => f.verdict === 'fail' || f.verdict === 'warn').map((f) => `${f.code}: ${f.title}`), []);
  assert.ok(d.findings.some((f) => f.code === 'HairpinWorks' || f.code === 'HairpinNotExercised'), 'hairpin tested');
  assert.equal(d.result, 'pass');
  assert.equal(code, 0);
  assert.ok(d.probe && /^clusterip-probe-/.test(d.probe.pod) && d.probe.namespace === 'student-01');
});

for (const k of BROKEN_CASES) {
  test(`${k.clean ? 'no false alarm' : 'finds'}: ${k.mistake}`, async () => {
    const { code, d } = await diagnose([`svc/${k.service}`, '-n', k.namespace, ...(k.args ?? [])]);
    for (const e of k.expect) assertExpect(d.findings, e, k.name);
    if (k.clean) {
      assert.deepEqual(d.findings.filter((f) => f.verdict === 'fail' || f.verdict === 'warn').map((f) => `${f.code}: ${f.title}`), [], `${k.name}: no false alarm`);
      assert.equal(code, 0);
    } else {
      assert.equal(code, k.expect.some((e) => e.verdict === 'fail') ? 1 : 0, `${k.name}: exit code`);
    }
  });
}

test('no false alarm: a selectorless Service with a hand-written EndpointSlice to a Pod', async () => {
  await ok(['create', 'namespace', 'c-selectorless']);
  await ok(['run', 'backend', '-n', 'c-selectorless', '--image=nginx:1.27', '--restart=Never']);
  const ip = await until('backend IP', async () => (await ok(['get', 'pod', 'backend', '-n', 'c-selectorless', '-o', 'jsonpath={.status.podIP}'])).trim());
  await ok(['apply', '-f', '-'], { input: yamlDocs(
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'c-selectorless' }, spec: { ports: [{ port: 80, targetPort: 80 }] } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'c-selectorless' }, subsets: [{ addresses: [{ ip }], ports: [{ port: 80 }] }] },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'manual-1', namespace: 'c-selectorless', labels: { 'kubernetes.io/service-name': 'manual' } },
      addressType: 'IPv4', ports: [{ name: '', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: [ip] }] },
  ) });
  const { code, d } = await until('rules for the hand-written slice', async () => {
    const r = await diagnose(['svc/manual', '-n', 'c-selectorless']);
    return r.d.findings.some((f) => f.code === 'Reachable') && r;
  });
  assertExpect(d.findings, { code: 'Selectorless', verdict: 'info' }, 'selectorless');
  assertExpect(d.findings, { code: 'EndpointsAgree', verdict: 'pass' }, 'selectorless');
  assertExpect(d.findings, { code: 'RulesAgree', verdict: 'pass' }, 'selectorless');
  assert.deepEqual(d.findings.filter((f) => f.verdict === 'fail' || f.verdict === 'warn').map((f) => `${f.code}: ${f.title}`), []);
  assert.equal(code, 0);
});

test('a selectorless Service with hand-written Endpoints only: mirrored into an EndpointSlice, carries traffic from a Pod, no alarm', async () => {
  await ok(['create', 'namespace', 'c-mirror']);
  await ok(['run', 'backend', '-n', 'c-mirror', '--image=nginx:1.27', '--restart=Never']);
  await ok(['run', 'client', '-n', 'c-mirror', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
  const ip = await until('backend IP', async () => (await ok(['get', 'pod', 'backend', '-n', 'c-mirror', '-o', 'jsonpath={.status.podIP}'])).trim());
  await ok(['apply', '-f', '-'], { input: yamlDocs(
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'legacy', namespace: 'c-mirror' }, spec: { ports: [{ port: 8080, targetPort: 80 }] } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'legacy', namespace: 'c-mirror' }, subsets: [{ addresses: [{ ip }], ports: [{ port: 80 }] }] },
  ) });
  // The mirroring controller's slice, and traffic through the ClusterIP from another Pod.
  const slice = await until('mirrored slice', async () => {
    const l = JSON.parse(await ok(['get', 'endpointslices', '-n', 'c-mirror', '-l', 'kubernetes.io/service-name=legacy,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io', '-o', 'json'])) as { items: { endpoints?: { addresses: string[] }[] }[] };
    return l.items.length === 1 && l.items[0]!.endpoints?.[0]?.addresses[0] === ip && l.items[0];
  });
  assert.ok(slice);
  await until('client running', async () => (await ok(['get', 'pod', 'client', '-n', 'c-mirror', '-o', 'jsonpath={.status.phase}'])) === 'Running');
  const page = await until('nginx through the Service', async () => {
    const r = await c.kubectl(['exec', 'client', '-n', 'c-mirror', '--', 'wget', '-qO-', 'http://legacy:8080/']);
    return r.code === 0 && /Welcome to nginx!/.test(r.stdout) && r.stdout;
  });
  assert.match(page, /Welcome to nginx!/);
  const { code, d } = await until('rules for the mirrored slice', async () => {
    const r = await diagnose(['svc/legacy', '-n', 'c-mirror']);
    return r.d.findings.some((f) => f.code === 'Reachable') && r;
  });
  assertExpect(d.findings, { code: 'Selectorless', verdict: 'info' }, 'mirrored');
  assertExpect(d.findings, { code: 'EndpointsAgree', verdict: 'pass' }, 'mirrored');
  assert.deepEqual(d.findings.filter((f) => f.verdict === 'fail' || f.verdict === 'warn').map((f) => `${f.code}: ${f.title}`), []);
  assert.equal(code, 0);
});

test('every Service at once: one probe per namespace, failing ones named, exit 1, nothing left', async () => {
  const r = await c.cli(['diagnose', '-A', '-o', 'json'], { timeoutMs: 120_000 });
  const all = JSON.parse(r.stdout) as ClusterDiagnosis;
  const bad = all.services.map((s) => `${s.service.namespace}/${s.service.name} ${s.result}: ${s.findings.filter((f) => f.verdict === 'fail' || f.verdict === 'warn').map((f) => `${f.code} (${f.title}; ${f.evidence.join(' | ')})`).join('; ')}`).join('\n');
  const result = (ns: string, name: string) => { const s = all.services.find((x) => x.service.namespace === ns && x.service.name === name); assert.ok(s, `${ns}/${name} diagnosed`); return s.result; };
  assert.equal(result('student-01', 'nginx-service-01'), 'pass', bad);
  assert.equal(result('kube-system', 'kube-dns'), 'pass', bad);
  assert.equal(result('c-typo', 'web'), 'fail', bad);
  assert.equal(result('c-headless', 'web'), 'pass', bad);
  assert.equal(result('default', 'kubernetes'), 'pass', `default/kubernetes is a known limit (info), not a failure\n${bad}`);
  assert.equal(r.code, 1);
  assert.equal(await probePods(), '');
});

test('text output: each check with its mark, evidence and fix', async () => {
  const r = await c.cli(['diagnose', 'svc/web', '-n', 'c-typo'], { timeoutMs: 60_000 });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^✗ selector\s+selector app=ngnix matches no Pod in namespace c-typo$/m);
  assert.match(r.stdout, /^    fix:\n      kubectl patch svc web -n c-typo --type=json -p '\[\{"op":"replace","path":"\/spec\/selector\/app","value":"nginx"\}\]'$/m);
  assert.match(r.stdout, /^FAILED: \d+ passed, 0 warnings, 1 failed, \d+ skipped \(\d+ ms\)$/m);
});

test('a probe that cannot be placed (no schedulable node) is its own finding, exit 3; the Service is not blamed', async (t) => {
  const node = (await ok(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  await ok(['cordon', node]);
  t.after(async () => { await ok(['uncordon', node]); });
  const { code, d } = await diagnose(['svc/nginx-service-01', '-n', 'student-01']);
  assertExpect(d.findings, { code: 'ProbeNotPlaced', verdict: 'fail', evidence: /FailedScheduling: 0\/1 nodes are available: 1 node\(s\) were unschedulable/ }, 'cordoned');
  assert.deepEqual(d.findings.filter((f) => f.verdict === 'fail').map((f) => f.code), ['ProbeNotPlaced']);
  assertExpect(d.findings, { code: 'RulesAgree', verdict: 'pass' }, 'cordoned');
  assert.equal(code, 3);
});

test('Ctrl-C while probing removes the probe Pod and its namespace, exit 130', async () => {
  // A Service whose only endpoint never answers keeps the probe busy for the connection timeout.
  await ok(['create', 'namespace', 'c-slow']);
  await ok(['apply', '-f', '-'], { input: yamlDocs(
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'slow', namespace: 'c-slow' }, spec: { ports: [{ port: 80, targetPort: 80 }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'slow-1', namespace: 'c-slow', labels: { 'kubernetes.io/service-name': 'slow' } },
      addressType: 'IPv4', ports: [{ name: '', port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.0.251'] }] },
  ) });
  const netnsBefore = await clusterNetns();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'diagnose', '--name', c.name, '--state-dir', c.stateDir, 'svc/slow', '-n', 'c-slow'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b; });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  // As soon as the probe Pod's namespace exists, interrupt.
  await until('the probe Pod namespace', async () => (await clusterNetns()).length > netnsBefore.length, 20_000);
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  // The Pod is named in the same line, or in the next one when Ctrl-C came before its create returned.
  assert.match(stderr, /SIGINT: stopping(?:; |\.\.\.\n)removing probe Pod c-slow\/clusterip-probe-\w+\.\.\./);
  assert.equal(await probePods(), '');
  assert.deepEqual(await clusterNetns(), netnsBefore);
});

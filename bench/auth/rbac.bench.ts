/**
 * What RBAC costs a request: p50/p99 of a GET made with a ServiceAccount token (authenticated by
 * signature + object checks, authorized by RBAC through a RoleBinding) over HTTPS keep-alive, with
 * only the default policy and with 1,000 RoleBindings of other subjects (50 in the account's own
 * namespace), in three alternating rounds (bindings made, measured, deleted) — all in one run, the
 * same process and connection, so the machine's drifting load hits both alike.
 * The last figures are the worst case: a request the account may not make (a 403) while 1,000
 * RoleBindings apply to it (bound to its namespace's group) — every one is visited before the answer.
 * Run: npx tsx bench/auth/rbac.bench.ts   (~60 s; its own API server via test/harness, removed at the end)
 */
import { performance } from 'node:perf_hooks';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import type { RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { R } from '../../src/api/resources.js';
import { HttpClient } from '../../src/client/http.js';
import { requestAttributes } from '../../src/apiserver/auth/attributes.js';
import { startTestCluster } from '../../test/harness/cluster.js';
import { report } from '../report.js';

const N = 1000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const c = await startTestCluster(undefined, { storage: 'sqlite' });
try {
  const ns = 'bench';
  await c.core.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await c.core.create(R.serviceaccounts, ns, { metadata: { name: 'app' } });
  await c.core.create(R.configmaps, ns, { metadata: { name: 'cfg' }, data: { k: 'v' } } as never);
  await c.core.create(R.roles, ns, { metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] } as never);
  await c.core.create<RoleBinding>(R.rolebindings, ns, { metadata: { name: 'app-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'app' }] });
  const tr = await c.core.create<TokenRequest>(R.serviceaccounts, ns, { spec: {} } as TokenRequest, { subresource: 'token', name: 'app' });
  const client = new HttpClient({ server: c.server.url, ca: c.pki.caCert, token: tr.status!.token });

  /** The authorizer alone (no HTTP, no token): µs per decision, over many decisions. */
  const user = { name: `system:serviceaccount:${ns}:app`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] };
  const attrs = requestAttributes(user, 'GET', `/api/v1/namespaces/${ns}/configmaps/cfg`, new URLSearchParams());
  const denied = requestAttributes(user, 'GET', `/api/v1/namespaces/${ns}/secrets/s`, new URLSearchParams());
  const decide = (a = attrs, want = 'allow'): number[] => {
    const t: number[] = [];
    for (let round = 0; round < 200; round++) {
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) if (c.api.auth.authorizer.authorize(a).decision !== want) throw new Error('unexpected decision');
      t.push(((performance.now() - t0) / 100) * 1000);
    }
    return t;
  };
  /** N sequential GETs; `forbidden`: of a Secret the account may not read (each answered 403). */
  const measure = async (forbidden = false): Promise<number[]> => {
    const t: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      if (!forbidden) await client.get(R.configmaps, ns, 'cfg');
      else await client.get(R.secrets, ns, 's').then(() => { throw new Error('allowed'); }, (e: { code?: number }) => { if (e.code !== 403) throw e; });
      t.push(performance.now() - t0);
    }
    return t;
  };
  const bindings = async (count: number, make: (i: number) => { ns: string; rb: RoleBinding }): Promise<() => Promise<void>> => {
    const made: { ns: string; name: string }[] = [];
    for (let i = 0; i < count; i++) {
      const { ns: n, rb } = make(i);
      await c.core.create(R.rolebindings, n, rb);
      made.push({ ns: n, name: rb.metadata!.name! });
    }
    return async () => { for (const m of made) await c.core.delete(R.rolebindings, m.ns, m.name); };
  };
  for (let i = 0; i < 50; i++) await c.core.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${i}` } });

  await measure(); // warm up: JIT, TLS session, token verification cache
  // Alternating rounds (without, with, without, ...), so the machine's drifting load hits both alike.
  const before: number[] = []; const withBindings: number[] = []; const after: number[] = [];
  const roundP99 = { without: [] as number[], with: [] as number[] };
  let decideWith: number[] = []; let decideWithout: number[] = [];
  for (let round = 0; round < 3; round++) {
    const a = await measure();
    before.push(...a); roundP99.without.push(pct(a, 99));
    const drop = await bindings(1000, (i) => ({
      ns: i < 50 ? ns : `team-${i % 50}`,
      rb: { metadata: { name: `rb-${i}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: `sa-${i}` }, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${i}` }] },
    }));
    const b = await measure();
    withBindings.push(...b); roundP99.with.push(pct(b, 99));
    decideWith = decide();
    await drop();
    decideWithout = decide();
  }
  after.push(...(await measure()));
  const deniedWithout = await measure(true);
  const decideDeniedWithout = decide(denied, 'noOpinion');
  const dropWorst = await bindings(1000, (i) => ({
    ns, rb: { metadata: { name: `all-${i}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:aggregate-to-admin' }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `system:serviceaccounts:${ns}` }] },
  }));
  const worst = await measure(true);
  const decideWorst = decide(denied, 'noOpinion');
  await dropWorst();

  const target = 'p99 < 5 ms';
  const anchor = 'kube-apiserver SLO: p99 < 1 s for single-object reads';
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  report({ figure: 'p50 GET as a ServiceAccount (token + RBAC), 1k RoleBindings of other subjects', value: pct(withBindings, 50), unit: 'ms', baseline: { name: 'same GET, default policy only (alternating rounds)', value: pct(before, 50) }, anchor, after: pct(after, 50) });
  report({ figure: 'p99 GET as a ServiceAccount (token + RBAC), 1k RoleBindings of other subjects (median of 3 rounds)', value: median(roundP99.with), unit: 'ms', baseline: { name: 'same GET, default policy only, rounds alternating with those', value: median(roundP99.without) }, anchor, target, roundsWith: roundP99.with, roundsWithout: roundP99.without, requestsPerRound: N });
  report({ figure: 'p99 GET answered 403, worst case: 1k RoleBindings apply to the account, none allowing', value: pct(worst, 99), unit: 'ms', baseline: { name: 'same 403, default policy only', value: pct(deniedWithout, 99) }, anchor, p50: pct(worst, 50), baselineP50: pct(deniedWithout, 50), requests: N });
  report({ figure: 'RBAC decision alone (in-process authorize), 1k RoleBindings of other subjects: p99 of 100-decision batches', value: pct(decideWith, 99), unit: 'µs', baseline: { name: 'same, default policy only', value: pct(decideWithout, 99) }, p50: pct(decideWith, 50) });
  report({ figure: 'RBAC decision alone, worst case (a denial with 1k RoleBindings that apply): p99 of 100-decision batches', value: pct(decideWorst, 99), unit: 'µs', baseline: { name: 'same denial, default policy only', value: pct(decideDeniedWithout, 99) }, p50: pct(decideWorst, 50), baselineP50: pct(decideDeniedWithout, 50) });
  client.close();
} finally {
  await c.close();
}

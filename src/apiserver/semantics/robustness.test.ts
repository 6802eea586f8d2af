// Property tests: malformed and random objects and patches never crash defaulting, validation or
// strategic merge — they produce field errors or a typed ApiError (which the server turns into a Status).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { R } from '../../api/resources.js';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { applyDefaults } from './defaults.js';
import { validateObject } from './validation.js';
import { strategicMergePatch } from './strategicmerge.js';

const podSpec = { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }], readinessProbe: { httpGet: { port: 80 } }, volumeMounts: [{ name: 'v', mountPath: '/d' }] }], volumes: [{ name: 'v', emptyDir: {} }], tolerations: [{ key: 'k', operator: 'Exists' }] };
const bases: [typeof R[keyof typeof R], unknown][] = [
  [R.services, { metadata: { name: 's', namespace: 'default', labels: { a: 'b' } }, spec: { selector: { app: 'x' }, ports: [{ name: 'h', port: 80, targetPort: 'http' }], sessionAffinity: 'ClientIP' } }],
  [R.pods, { metadata: { name: 'p', namespace: 'default' }, spec: podSpec }],
  [R.deployments, { metadata: { name: 'd', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: podSpec } } }],
  [R.statefulsets, { metadata: { name: 'ss', namespace: 'default' }, spec: { serviceName: 'x', selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: podSpec } } }],
  [R.endpointslices, { metadata: { name: 'e', namespace: 'default' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'] }], ports: [{ port: 80 }] }],
  [R.endpoints, { metadata: { name: 'e', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 80 }] }] }],
  [R.namespaces, { metadata: { name: 'n' } }],
];

/** Every path (as key lists) inside a JSON value. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function setAt(root: any, p: (string | number)[], value: unknown): any {
  if (p.length === 0) return value;
  let cur = root;
  for (const k of p.slice(0, -1)) { if (cur === null || typeof cur !== 'object') return root; cur = cur[k]; }
  if (cur !== null && typeof cur === 'object') cur[p[p.length - 1]] = value;
  return root;
}

/** More runs with FUZZ_RUNS=20000 npm test -- semantics/robustness */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const mutation = fc.tuple(fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, -1, 0, 70000, '', 'None', 'x y', [], {}, [null], { $patch: 'delete' })));
const onlyApiErrors = (f: () => void): void => {
  try { f(); } catch (e) { if (!(e instanceof ApiError)) throw e; assert.ok(e.code >= 400 && e.code < 600); }
};

test('robustness: random corruptions of valid objects give field errors or an ApiError, never a crash', () => {
  fc.assert(fc.property(fc.nat(bases.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (bi, muts, asUpdate) => {
    const [info, base] = bases[bi];
    let obj: any = structuredClone(base);
    for (const [n, value] of muts) {
      const ps = paths(obj);
      obj = setAt(obj, ps[n % ps.length], structuredClone(value));
    }
    onlyApiErrors(() => {
      const o = applyDefaults(info, structuredClone(obj) as KubeObject);
      const old = asUpdate ? applyDefaults(info, structuredClone(base) as KubeObject) : undefined;
      const errs = validateObject(info, o, old);
      assert.ok(Array.isArray(errs));
      for (const e of errs) assert.equal(typeof e.field, 'string');
    });
  }), { numRuns: RUNS });
});

test('robustness: random strategic merge patches give an object or an ApiError', () => {
  fc.assert(fc.property(fc.nat(bases.length - 1), fc.array(mutation, { maxLength: 4 }), (bi, muts) => {
    const [info, base] = bases[bi];
    let patch: any = structuredClone(base);
    for (const [n, value] of muts) {
      const ps = paths(patch);
      patch = setAt(patch, ps[n % ps.length], structuredClone(value));
    }
    onlyApiErrors(() => {
      const out = strategicMergePatch(info, base as KubeObject, patch);
      assert.equal(typeof out, 'object');
    });
  }), { numRuns: RUNS });
});

test('typecheck: wrong JSON types are 400s with Go decoder wording', () => {
  const cases: [typeof R[keyof typeof R], unknown, string][] = [
    [R.services, { metadata: { name: 's' }, spec: { ports: [{ port: '80' }] } }, 'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32'],
    [R.services, { spec: 'x' }, 'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal string into Go struct field Service.spec of type v1.ServiceSpec'],
    [R.services, { spec: { ports: {} } }, 'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal object into Go struct field ServiceSpec.spec.ports of type []v1.ServicePort'],
    [R.pods, { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80.5 }] }] } }, 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
    [R.deployments, { spec: { replicas: true } }, 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32'],
  ];
  for (const [info, obj, want] of cases) {
    assert.throws(() => applyDefaults(info, obj as KubeObject), (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === want);
  }
  // int-or-string and quantities accept both forms; null is the zero value.
  applyDefaults(R.services, { spec: { ports: [{ port: 80, targetPort: 'http' }, null] } } as KubeObject);
  applyDefaults(R.pods, { spec: { containers: [{ name: 'c', resources: { limits: { cpu: 1, memory: '1Gi' } } }] } } as KubeObject);
});

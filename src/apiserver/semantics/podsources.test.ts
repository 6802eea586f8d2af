import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import { invalid } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { applyDefaults } from './defaults.js';
import { validateObject } from './validation.js';

/** The 422 message kube-apiserver would give for a Pod with `spec` (defaulted first, as the registry does). */
function message(spec: Record<string, unknown>): string {
  const o = applyDefaults(R.pods, structuredClone({ metadata: { name: 'p', namespace: 'default' }, spec }) as KubeObject);
  const errs = validateObject(R.pods, o);
  return errs.length === 0 ? '' : invalid('Pod', '', 'p', errs).message;
}
const pod = (volumes: unknown[], container: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ volumes, containers: [{ name: 'c', image: 'busybox', ...container }] });
const is = (detail: string): string => `Pod "p" is invalid: ${detail}`;

const table: { name: string; spec: Record<string, unknown>; want: string }[] = [
  { name: 'every source valid',
    spec: pod([
      { name: 'cm', configMap: { name: 'cfg', items: [{ key: 'a', path: 'dir/a', mode: 0o400 }] } },
      { name: 's', secret: { secretName: 'sec', defaultMode: 0o440 } },
      { name: 'd', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu', divisor: '1m' } }] } },
      { name: 'pr', projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'cfg', items: [{ key: 'a', path: 'a' }] } }] } },
      { name: 'e', emptyDir: {} },
    ], {
      volumeMounts: [{ name: 'cm', mountPath: '/cfg', subPath: 'dir' }],
      env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
        { name: 'K', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k', optional: true } } }],
      envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'cfg' } }, { secretRef: { name: 'sec' } }],
    }),
    want: '' },
  { name: 'configMap item paths: absolute, backsteps, reserved ..',
    spec: pod([{ name: 'cm', configMap: { name: 'cfg', items: [{ key: 'a', path: '/etc/a' }, { key: 'b', path: 'x/../../b' }, { key: 'c', path: '..data' }] } }]),
    want: is('[spec.volumes[0].configMap.items[0].path: Invalid value: "/etc/a": must be a relative path, '
      + 'spec.volumes[0].configMap.items[1].path: Invalid value: "x/../../b": must not contain \'..\', '
      + 'spec.volumes[0].configMap.items[2].path: Invalid value: "..data": must not start with \'..\']') },
  { name: 'secret volume: name required, items need key and path, modes 0..0777',
    spec: pod([{ name: 's', secret: { defaultMode: 0o1777, items: [{ key: '', path: '', mode: -1 }] } }]),
    want: is('[spec.volumes[0].secret.secretName: Required value, spec.volumes[0].secret.defaultMode: Invalid value: 1023: must be a number between 0 and 0777 (octal), both inclusive, '
      + 'spec.volumes[0].secret.items[0].key: Required value, spec.volumes[0].secret.items[0].path: Required value, '
      + 'spec.volumes[0].secret.items[0].mode: Invalid value: -1: must be a number between 0 and 0777 (octal), both inclusive]') },
  { name: 'downward API volume: unsupported field, reported on the source',
    spec: pod([{ name: 'd', downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'spec.nodeName' } }] } }]),
    want: is('spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"') },
  { name: 'downward API volume: resourceFieldRef needs containerName; neither ref',
    spec: pod([{ name: 'd', downwardAPI: { items: [{ path: 'cpu', resourceFieldRef: { resource: 'limits.cpu' } }, { path: 'x' }] } }]),
    want: is('[spec.volumes[0].downwardAPI.resourceFieldRef.containerName: Required value, spec.volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required]') },
  { name: 'projected: token path and lifetime, duplicate paths, two sources in one',
    spec: pod([{ name: 'pr', projected: { sources: [
      { serviceAccountToken: { path: '', expirationSeconds: 60 } },
      { configMap: { name: 'a', items: [{ key: 'k', path: 'same' }] } },
      { secret: { name: 'b', items: [{ key: 'k', path: 'same' }] }, configMap: { name: 'c' } },
    ] } }]),
    want: is('[spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes, '
      + 'spec.volumes[0].projected.path: Required value, '
      + 'spec.volumes[0].projected: Invalid value: "b": conflicting duplicate paths, '
      + 'spec.volumes[0].projected.sources[2]: Forbidden: may not specify more than 1 volume type per source]') },
  { name: 'subPath: relative, no backsteps (reported on the volumeMounts list)',
    spec: pod([{ name: 'e', emptyDir: {} }], { volumeMounts: [{ name: 'e', mountPath: '/a', subPath: '../etc' }, { name: 'e', mountPath: '/b', subPath: '/abs' }] }),
    want: is('[spec.containers[0].volumeMounts.subPath: Invalid value: "../etc": must not contain \'..\', spec.containers[0].volumeMounts.subPath: Invalid value: "/abs": must be a relative path]') },
  { name: 'env fieldRef: not an env field, an unknown field, a bad subscript, a wrong version',
    spec: pod([], { env: [
      { name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
      { name: 'B', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } },
      { name: 'C', valueFrom: { fieldRef: { fieldPath: "spec.nodeName['x']" } } },
      { name: 'D', valueFrom: { fieldRef: { apiVersion: 'v2', fieldPath: 'metadata.name' } } },
    ] }),
    want: is('[spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs", '
      + 'spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Invalid value: "spec.nope": error converting fieldPath: field label not supported: spec.nope, '
      + 'spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Invalid value: "spec.nodeName[\'x\']": error converting fieldPath: field label does not support subscript: spec.nodeName[\'x\'], '
      + 'spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: Invalid value: "metadata.name": error converting fieldPath: unsupported pod version: v2]') },
  { name: 'env resourceFieldRef: unknown resource, divisors',
    spec: pod([], { env: [
      { name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } },
      { name: 'B', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '10m' } } },
      { name: 'C', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '3' } } },
    ] }),
    want: is('[spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory", '
      + 'spec.containers[0].env[1].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.cpu": only divisor\'s values 1m and 1 are supported with the cpu resource, '
      + 'spec.containers[0].env[2].valueFrom.resourceFieldRef.divisor: Invalid value: "requests.memory": only divisor\'s values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource]') },
  { name: 'env key selectors: key required, keys are config keys',
    spec: pod([], { env: [
      { name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: '' } } },
      { name: 'B', valueFrom: { secretKeyRef: { name: 'sec', key: 'a/b' } } },
    ] }),
    want: is('[spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value, '
      + 'spec.containers[0].env[1].valueFrom.secretKeyRef.key: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, \'-\', \'_\' or \'.\' (e.g. \'key.name\',  or \'KEY_NAME\',  or \'key-name\', regex used for validation is \'[-._a-zA-Z0-9]+\')]') },
  { name: 'envFrom: one source each, names required',
    spec: pod([], { envFrom: [{ prefix: 'X_' }, { configMapRef: { name: 'a' }, secretRef: { name: 'b' } }, { secretRef: { name: '' } }] }),
    want: is('[spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`, '
      + 'spec.containers[0].envFrom: Invalid value: "": may not have more than one field specified at a time, '
      + 'spec.containers[0].envFrom[2].secretRef.name: Required value]') },
];

for (const c of table) {
  test(`pod sources: ${c.name}`, () => {
    assert.equal(message(c.spec), c.want);
  });
}

test('a projected token without expirationSeconds is defaulted to one hour', () => {
  const o = applyDefaults(R.pods, { metadata: { name: 'p' }, spec: pod([{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }]) } as KubeObject);
  assert.equal((o as unknown as { spec: { volumes: { projected: { sources: { serviceAccountToken: { expirationSeconds: number } }[] } }[] } }).spec.volumes[0]!.projected.sources[0]!.serviceAccountToken.expirationSeconds, 3600);
});

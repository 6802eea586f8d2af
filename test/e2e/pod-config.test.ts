/**
 * ConfigMap, Secret and API data in containers, on a whole cluster (`clusterip up`, real kernel,
 * real Pods, real kubectl): every Pod gets its ServiceAccount's bound token, the cluster CA and its
 * namespace at /var/run/secrets/kubernetes.io/serviceaccount (the projected volume the admission
 * plugin adds) and KUBERNETES_SERVICE_HOST/PORT; env from ConfigMaps, Secrets and the downward API;
 * configMap / secret / downwardAPI / emptyDir volumes as files that follow the object (the atomic
 * `..data` swap); and Kubernetes' reasons when a ConfigMap, Secret or key is missing
 * (CreateContainerConfigError for env, FailedMount and ContainerCreating for volumes).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { upCluster, type UpCluster } from '../harness/up.js';

let c: UpCluster;
let teardown: (() => unknown) | undefined;
before(async () => { c = await upCluster({ after: (fn) => { teardown = fn as () => unknown; } }); });
after(() => teardown?.());

async function apply(yaml: string): Promise<void> {
  const r = await c.kubectl(['apply', '-f', '-'], { input: yaml });
  assert.equal(r.code, 0, r.stderr);
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
    v = await get();
  }
  return v;
}

const jsonpath = async (args: string[]): Promise<string> => (await c.kubectl([...args, '-o', 'jsonpath={.status.phase}'])).stdout;
const exec = async (pod: string, ...cmd: string[]): Promise<string> => {
  const r = await c.kubectl(['exec', pod, '--', ...cmd]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};
const running = (pod: string): Promise<string> => until(`${pod} Running`, () => jsonpath(['get', 'pod', pod]), (p) => p === 'Running');

test('every Pod gets a bound token, ca.crt and its namespace, and the kubernetes Service in its env', async () => {
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers: [{name: c, image: busybox, command: [sleep, '3600']}]
`);
  await running('plain');
  const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
  const ls = await exec('plain', 'ls', '-a', dir);
  assert.deepEqual(ls.trim().split('\n').filter((x) => !x.startsWith('..2')).sort(), ['.', '..', '..data', 'ca.crt', 'namespace', 'token']);
  assert.equal(await exec('plain', 'cat', `${dir}/namespace`), 'default');
  assert.equal(await exec('plain', 'cat', `${dir}/ca.crt`), readFileSync(join(c.stateDir, 'pki', 'ca.crt'), 'utf8'));
  const token = await exec('plain', 'cat', `${dir}/token`);
  const uid = (await c.kubectl(['get', 'pod', 'plain', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  const claims = decodeJwt(token);
  assert.equal(claims.sub, 'system:serviceaccount:default:default');
  assert.equal(claims.exp! - claims.iat!, 3607);
  assert.deepEqual((claims['kubernetes.io'] as { pod: unknown }).pod, { name: 'plain', uid });
  // Read-only, and the machine's own /run is untouched.
  const w = await c.kubectl(['exec', 'plain', '--', 'sh', '-c', `echo x > ${dir}/x`]);
  assert.notEqual(w.code, 0);
  assert.match(w.stderr, /Read-only file system/);
  assert.throws(() => readFileSync('/run/secrets/kubernetes.io/serviceaccount/token'));
  const env = await exec('plain', 'env');
  assert.match(env, /^KUBERNETES_SERVICE_HOST=10\.96\.0\.1$/m);
  assert.match(env, /^KUBERNETES_SERVICE_PORT=443$/m);
  const opt = await c.kubectl(['get', 'pod', 'plain', '-o', 'jsonpath={.spec.volumes[0].name} {.spec.containers[0].volumeMounts[0].mountPath}']);
  assert.match(opt.stdout, /^kube-api-access-[a-z0-9]{5} \/var\/run\/secrets\/kubernetes\.io\/serviceaccount$/);
});

test('env from ConfigMaps and Secrets, downward API env and volumes, and files that follow their ConfigMap', async () => {
  await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {MODE: prod, app.ini: "color=blue\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret}
stringData: {password: s3cr3t}
---
apiVersion: v1
kind: Pod
metadata: {name: configured, labels: {app: shop}}
spec:
  automountServiceAccountToken: false
  containers:
  - name: c
    image: busybox
    command: [sleep, '3600']
    resources: {limits: {memory: 64Mi}}
    envFrom: [{prefix: CFG_, configMapRef: {name: app-config}}]
    env:
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: app-secret, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: GREETING, value: "mode $(CFG_MODE)"}
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: secret, mountPath: /var/run/app-secret}
    - {name: info, mountPath: /podinfo}
    - {name: scratch, mountPath: /scratch}
  volumes:
  - {name: config, configMap: {name: app-config, items: [{key: app.ini, path: app.ini}]}}
  - {name: secret, secret: {secretName: app-secret, defaultMode: 0400}}
  - {name: info, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: scratch, emptyDir: {}}
`);
  await running('configured');
  const env = await exec('configured', 'env');
  for (const line of ['CFG_MODE=prod', 'PASSWORD=s3cr3t', 'POD_NAME=configured', 'MEM_MI=64', 'GREETING=mode prod']) assert.match(env, new RegExp(`^${line}$`, 'm'));
  assert.match(env, /^POD_IP=10\.244\.0\.\d+$/m);
  assert.equal(await exec('configured', 'cat', '/etc/app/app.ini'), 'color=blue\n');
  assert.equal(await exec('configured', 'cat', '/var/run/app-secret/password'), 's3cr3t');
  assert.equal(await exec('configured', 'stat', '-L', '-c', '%a', '/var/run/app-secret/password'), '400\n');
  assert.equal(await exec('configured', 'cat', '/podinfo/labels'), 'app="shop"');
  assert.equal(await exec('configured', 'sh', '-c', 'echo hi > /scratch/f && cat /scratch/f'), 'hi\n');
  assert.match(await exec('configured', 'ls', '/'), /^scratch$/m);
  assert.equal((await c.kubectl(['exec', 'configured', '--', 'ls', '/var/run/secrets/kubernetes.io'])).code, 1, 'automount off: no token');

  // The ConfigMap changes: the file follows (one ..data swap), the env does not (fixed at start).
  assert.equal((await c.kubectl(['patch', 'configmap', 'app-config', '-p', '{"data":{"app.ini":"color=green\\n","MODE":"dev"}}'])).code, 0);
  await until('app.ini updated', () => exec('configured', 'cat', '/etc/app/app.ini'), (s) => s === 'color=green\n');
  assert.match(await exec('configured', 'env'), /^CFG_MODE=prod$/m);
  assert.match(await exec('configured', 'readlink', '/etc/app/..data'), /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\w+\n$/);
});

test('a missing ConfigMap, Secret or key: CreateContainerConfigError for env, FailedMount for volumes, both in Kubernetes\' words; they start once it exists', async () => {
  await apply(`apiVersion: v1
kind: Pod
metadata: {name: needs-env}
spec:
  containers:
  - name: c
    image: busybox
    command: [sleep, '3600']
    env: [{name: X, valueFrom: {configMapKeyRef: {name: later, key: x}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: needs-key}
spec:
  containers:
  - name: c
    image: busybox
    command: [sleep, '3600']
    env: [{name: X, valueFrom: {secretKeyRef: {name: app-secret, key: nope}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: needs-volume}
spec:
  containers: [{name: c, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: v, mountPath: /etc/later}]}]
  volumes: [{name: v, configMap: {name: later-volume}}]
`);
  const waiting = (pod: string) => until(`${pod} waiting`, async () => (await c.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}'])).stdout,
    (s) => s !== '|' && s !== 'ContainerCreating|');
  assert.equal(await waiting('needs-env'), 'CreateContainerConfigError|configmap "later" not found');
  assert.equal(await waiting('needs-key'), `CreateContainerConfigError|couldn't find key nope in Secret default/app-secret`);
  const table = await c.kubectl(['get', 'pod', 'needs-env', '--no-headers']);
  assert.match(table.stdout, /^needs-env\s+0\/1\s+CreateContainerConfigError\s+0\s+/);
  const events = async (pod: string) => (await c.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}'])).stdout;
  assert.match(await until('Failed event', () => events('needs-env'), (s) => s.includes('Failed')), /^Failed: Error: configmap "later" not found$/m);
  await until('FailedMount', () => events('needs-volume'), (s) => s.includes('FailedMount'));
  assert.match(await events('needs-volume'), /^FailedMount: MountVolume\.SetUp failed for volume "v" : configmap "later-volume" not found$/m);
  assert.equal((await c.kubectl(['get', 'pod', 'needs-volume', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}'])).stdout, 'ContainerCreating');

  // exec into the container that does not run: the kubelet's reason, with kubectl's WebSocket-then-SPDY fallback.
  const ex = await c.kubectl(['exec', 'needs-env', '--', 'echo', 'x']);
  assert.equal(ex.stderr, 'error: unable to upgrade connection: container not found ("c")\n');

  await c.kubectl(['create', 'configmap', 'later', '--from-literal=x=1']);
  await c.kubectl(['create', 'configmap', 'later-volume', '--from-literal=f=2']);
  await running('needs-env');
  await running('needs-volume');
  assert.match(await exec('needs-env', 'env'), /^X=1$/m);
  assert.equal(await exec('needs-volume', 'cat', '/etc/later/f'), '2');
});

test('kubectl debug into a Pod whose container has its own mount namespace: the debug container gets no token (as in Kubernetes); an ephemeral container with volumeMounts and Secret env has them, and exec (WebSocket and SPDY) enters its own namespace', async () => {
  await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: dbg-config}
data: {key: from-configmap}
---
apiVersion: v1
kind: Secret
metadata: {name: dbg-secret}
stringData: {token: from-secret}
---
apiVersion: v1
kind: Pod
metadata: {name: debugme}
spec:
  containers:
  - {name: c, image: busybox, command: [sleep, '3600'], volumeMounts: [{name: config, mountPath: /etc/dbg}]}
  volumes: [{name: config, configMap: {name: dbg-config}}]
`);
  await running('debugme');
  const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
  // kubectl debug: the debug container runs in the Pod (its hostname), outside the app container's
  // mount namespace: neither the app's volume nor the ServiceAccount token (admission mounts it into
  // the containers a Pod is created with, never into ephemeral ones).
  const r = await c.kubectl(['debug', 'debugme', '-i', '--image=busybox', '--target=c', '--profile=general', '--container=dbg1', '--',
    'sh', '-c', `hostname; ls /etc/dbg/key >/dev/null 2>&1 && echo has-volume; ls ${dir}/token >/dev/null 2>&1 && echo has-token; echo done`], { timeoutMs: 40_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  // (kubectl itself prints its `Targeting container "c"` notice on stdout.)
  assert.equal(r.stdout.split('\n').filter((l) => !l.startsWith('Targeting container')).join('\n'), 'debugme\ndone\n');

  // An ephemeral container with volumeMounts and env from a Secret, written to the subresource as
  // any client may (kubectl debug has no flag for them): its own mount namespace, entered by exec.
  const pod = JSON.parse((await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/debugme/ephemeralcontainers'])).stdout) as {
    spec: { ephemeralContainers?: unknown[] };
  };
  pod.spec.ephemeralContainers = [...(pod.spec.ephemeralContainers ?? []), {
    name: 'dbg2', image: 'busybox', command: ['sleep', '3600'],
    volumeMounts: [{ name: 'config', mountPath: '/etc/dbg', readOnly: true }],
    env: [{ name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'dbg-secret', key: 'token' } } }],
  }];
  const put = await c.kubectl(['replace', '--raw', '/api/v1/namespaces/default/pods/debugme/ephemeralcontainers', '-f', '-'], { input: JSON.stringify(pod) });
  assert.equal(put.code, 0, put.stderr);
  await until('dbg2 running', async () => (await c.kubectl(['get', 'pod', 'debugme', '-o', 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="dbg2")].state.running.startedAt}'])).stdout, (s) => s !== '');
  for (const env of [{}, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }] as Record<string, string>[]) {
    const cat = await c.kubectl(['exec', 'debugme', '-c', 'dbg2', '--', 'sh', '-c', `cat /etc/dbg/key; echo; printenv FROM_SECRET; ls ${dir} 2>/dev/null || echo no-token`], { env });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'from-configmap\nfrom-secret\nno-token\n', `exec ${JSON.stringify(env)}`);
  }
  // The app container's own namespace is unchanged: its volume and its token.
  assert.equal(await exec('debugme', 'sh', '-c', `cat /etc/dbg/key; ls ${dir}/token`), `from-configmap${dir}/token\n`);
  // The ConfigMap changes: the file in the ephemeral container's namespace follows it.
  assert.equal((await c.kubectl(['patch', 'configmap', 'dbg-config', '-p', '{"data":{"key":"changed"}}'])).code, 0);
  await until('dbg2 sees the new file', async () => (await c.kubectl(['exec', 'debugme', '-c', 'dbg2', '--', 'cat', '/etc/dbg/key'])).stdout, (s) => s === 'changed');
});

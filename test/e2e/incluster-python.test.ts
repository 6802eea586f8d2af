/**
 * In-cluster access as client libraries do it, on a whole cluster (`clusterip up`, real kernel): a
 * Pod runs the official Python client (python3-kubernetes, /usr/bin/python3) with
 * `config.load_incluster_config()` — KUBERNETES_SERVICE_HOST/PORT, the projected token and ca.crt —
 * and lists Services through 10.96.0.1 (the `kubernetes` Service, DNATed to the API server's
 * in-cluster listener). Without a RoleBinding its ServiceAccount is denied with Kubernetes' 403;
 * with one it gets the list. The script comes from a ConfigMap volume.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { upCluster, type UpCluster } from '../harness/up.js';

/**
 * Pods reach the API through 10.96.0.1 once the `kubernetes` Service has endpoints and the API
 * server listens inside the node namespace (src/cluster/apiforwarder.ts, from the multi-machine
 * work); a build without it skips this file, saying so.
 */
const IN_CLUSTER_LISTENER = existsSync(resolve(import.meta.dirname, '..', '..', 'src', 'cluster', 'apiforwarder.ts'));
const skip = IN_CLUSTER_LISTENER ? false : 'needs the in-cluster API listener (src/cluster/apiforwarder.ts) for 10.96.0.1 to carry traffic';

let c: UpCluster;
let teardown: (() => unknown) | undefined;
before(async () => { if (!skip) c = await upCluster({ after: (fn) => { teardown = fn as () => unknown; } }); });
after(() => teardown?.());

const SCRIPT = `import json
from kubernetes import client, config
from kubernetes.client.rest import ApiException
config.load_incluster_config()
cfg = client.Configuration.get_default_copy()
try:
    svcs = client.CoreV1Api().list_namespaced_service("default")
    print(json.dumps({"host": cfg.host, "services": sorted(s.metadata.name for s in svcs.items)}), flush=True)
except ApiException as e:
    print(json.dumps({"host": cfg.host, "status": e.status, "message": json.loads(e.body)["message"]}), flush=True)
`;

const pod = (name: string, sa: string): string => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  serviceAccountName: ${sa}
  restartPolicy: Never
  containers:
  - {name: py, image: python-incluster, command: [/usr/bin/python3, /scripts/list.py], volumeMounts: [{name: scripts, mountPath: /scripts}]}
  volumes:
  - {name: scripts, configMap: {name: lister}}
`;

async function output(name: string): Promise<Record<string, unknown>> {
  const end = Date.now() + 60_000;
  for (;;) {
    const phase = (await c.kubectl(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).stdout;
    if (phase === 'Succeeded' || phase === 'Failed') break;
    if (Date.now() > end) assert.fail(`pod ${name} did not finish: ${phase}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const logs = await c.kubectl(['logs', name]);
  const line = logs.stdout.trim().split('\n').pop() ?? '';
  try { return JSON.parse(line) as Record<string, unknown>; } catch { return assert.fail(`no JSON from ${name}: ${logs.stdout}${logs.stderr}`); }
}

test('a Pod with load_incluster_config() reaches the API through 10.96.0.1 with its token: denied without a RoleBinding, served with one', { skip }, async () => {
  writeFileSync(join(c.stateDir, 'images.json'), JSON.stringify({ 'python-incluster': { command: ['/usr/bin/python3'] } }));
  const cm = await c.kubectl(['create', 'configmap', 'lister', `--from-literal=list.py=${SCRIPT}`]);
  assert.equal(cm.code, 0, cm.stderr);
  assert.equal((await c.kubectl(['create', 'serviceaccount', 'lister'])).code, 0);

  const apply = async (y: string): Promise<void> => { const r = await c.kubectl(['apply', '-f', '-'], { input: y }); assert.equal(r.code, 0, r.stderr); };
  await apply(pod('denied', 'lister'));
  assert.deepEqual(await output('denied'), {
    host: 'https://10.96.0.1:443', status: 403,
    message: 'services is forbidden: User "system:serviceaccount:default:lister" cannot list resource "services" in API group "" in the namespace "default"',
  });

  assert.equal((await c.kubectl(['create', 'rolebinding', 'lister-view', '--clusterrole=view', '--serviceaccount=default:lister'])).code, 0);
  await apply(pod('allowed', 'lister'));
  const ok = await output('allowed');
  assert.equal(ok.host, 'https://10.96.0.1:443');
  assert.ok((ok.services as string[]).includes('kubernetes'), JSON.stringify(ok));
});

/**
 * Whole-product end to end for issue 21 (root, real kernel, real Pods, the real kubectl): a Job
 * that wgets a Service completes; a CronJob fires; `kubectl top` shows CPU under load and an HPA
 * scales a Deployment out (its Service's endpoints grow); /metrics/resource through the node proxy
 * path; on two nodes a DaemonSet runs one Pod per node and rolls out a new template; `kubectl drain`
 * is blocked by a PodDisruptionBudget and passes once the budget allows it; cordon/uncordon.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upCluster, type UpCluster } from '../harness/up.js';

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const ok = async (c: UpCluster, args: string[], input?: string): Promise<string> => {
  const r = await c.kubectl(args, { input, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

// A server whose every request costs ~0.2 s of CPU in the Pod (busybox nc runs one shell per connection).
const BURN = `apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      containers:
      - name: burn
        image: busybox
        command: [busybox, nc, -ll, -p, '8080', -e, sh, -c, 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; printf "HTTP/1.0 200 OK\\r\\n\\r\\nok\\n"']
        resources: {requests: {cpu: 100m}}
        ports: [{containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;

test('Job wgets a Service and completes; CronJob fires; kubectl top under load; HPA scales out and endpoints grow', async (t) => {
  const c = await upCluster(t, { extraArgs: ['--metric-resolution', '2', '--hpa-sync-period', '2'] });
  await ok(c, ['create', 'deployment', 'web', '--image=nginx']);
  await ok(c, ['expose', 'deployment', 'web', '--port=80']);
  await ok(c, ['rollout', 'status', 'deployment/web', '--timeout=60s']);

  // A Job that reaches the Service by name and completes.
  await ok(c, ['create', 'job', 'fetch', '--image=busybox', '--', 'wget', '-qO-', 'http://web']);
  await ok(c, ['wait', '--for=condition=complete', 'job/fetch', '--timeout=60s']);
  assert.match(await ok(c, ['logs', 'job/fetch']), /Welcome to nginx!/);
  assert.match(await ok(c, ['get', 'job', 'fetch']), /fetch\s+Complete\s+1\/1\s+\d+s/);

  // A CronJob every minute: its first Job is created at the next minute and completes.
  await ok(c, ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--', 'echo', 'tick']);
  const jobName = await until('the CronJob to start a Job', async () => {
    const out = await ok(c, ['get', 'jobs', '-o', 'jsonpath={range .items[?(@.metadata.ownerReferences[0].kind=="CronJob")]}{.metadata.name}{"\\n"}{end}']);
    return out.trim().split('\n').filter((x) => x)[0];
  }, 75_000);
  assert.match(jobName, /^tick-\d+$/);
  await ok(c, ['wait', '--for=condition=complete', `job/${jobName}`, '--timeout=60s']);
  assert.match(await ok(c, ['get', 'cronjob', 'tick', '-o', 'jsonpath={.status.lastScheduleTime}']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);

  // Load on a Service: kubectl top shows it, and the HPA scales the Deployment out.
  await ok(c, ['apply', '-f', '-'], BURN);
  await ok(c, ['expose', 'deployment', 'burn', '--port=8080']);
  await ok(c, ['rollout', 'status', 'deployment/burn', '--timeout=60s']);
  await ok(c, ['autoscale', 'deployment', 'burn', '--cpu-percent=50', '--min=1', '--max=3']);
  await ok(c, ['run', 'load', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'while true; do wget -q -O /dev/null http://burn:8080/ 2>/dev/null; done']);
  const top = await until('kubectl top pods to show the load', async () => {
    const r = await c.kubectl(['top', 'pods', '-l', 'app=burn', '--no-headers']);
    const m = /^burn-\S+\s+(\d+)m\s+(\d+)Mi/m.exec(r.stdout);
    return m && Number(m[1]) >= 50 ? r.stdout : undefined;
  });
  assert.match(top, /^burn-/m);
  assert.match(await ok(c, ['top', 'nodes', '--no-headers']), /^\S+-node\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/m);
  await until('the HPA to scale burn to 3', async () => {
    const out = await ok(c, ['get', 'deployment', 'burn', '-o', 'jsonpath={.spec.replicas}']);
    return out === '3' ? out : undefined;
  });
  const endpoints = await until('3 ready endpoints behind the Service', async () => {
    const out = await ok(c, ['get', 'endpoints', 'burn', '-o', 'jsonpath={.subsets[0].addresses[*].ip}']);
    return out.trim().split(/\s+/).length === 3 ? out : undefined;
  }).catch(async (e: unknown) => {
    console.error(await ok(c, ['get', 'pods', '-o', 'wide']), await ok(c, ['get', 'endpoints', 'burn', '-o', 'yaml']), await ok(c, ['describe', 'pods', '-l', 'app=burn']));
    throw e;
  });
  assert.equal(endpoints.trim().split(/\s+/).length, 3);
  // REPLICAS is status.currentReplicas: the next evaluation after the scale reports 3.
  await until('kubectl get hpa to show 3 replicas', async () => {
    const hpa = await ok(c, ['get', 'hpa', 'burn']);
    return /burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+3\s+3\s/.test(hpa) ? hpa : undefined;
  }, 30_000);
  assert.match(await ok(c, ['describe', 'hpa', 'burn']), /SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);

  // The kubelet's /metrics/resource, through the API server's node proxy path.
  const node = (await ok(c, ['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  const text = await ok(c, ['get', '--raw', `/api/v1/nodes/${node}/proxy/metrics/resource`]);
  assert.match(text, /^container_cpu_usage_seconds_total\{container="burn",namespace="default",pod="burn-[^"]+"\} [\d.e+-]+ \d+$/m);
  assert.match(text, /^node_memory_working_set_bytes [\d.e+]+ \d+$/m);
});

test('two nodes: DaemonSet one Pod per node and a rolling update; drain blocked by a PDB, then allowed; cordon/uncordon', async (t) => {
  const c = await upCluster(t, { nodes: 2 });
  const nodes = (await ok(c, ['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(' ');
  assert.equal(nodes.length, 2);
  await ok(c, ['apply', '-f', '-'], `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {terminationGracePeriodSeconds: 1, containers: [{name: a, image: busybox, command: [sleep, '3600']}]}
`);
  await ok(c, ['rollout', 'status', 'ds/agent', '--timeout=60s']);
  const placed = (await ok(c, ['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}'])).trim().split(' ').sort();
  assert.deepEqual(placed, [...nodes].sort());
  assert.match(await ok(c, ['get', 'ds', 'agent']), /agent\s+2\s+2\s+2\s+2\s+2\s+<none>/);
  // A new template rolls out node by node.
  await ok(c, ['set', 'image', 'ds/agent', 'a=busybox:1.36']);
  await ok(c, ['rollout', 'status', 'ds/agent', '--timeout=90s']);
  const images = (await ok(c, ['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.containers[0].image}'])).trim().split(' ');
  assert.deepEqual(images, ['busybox:1.36', 'busybox:1.36']);

  // Two web Pods (one per node) under a budget that allows no disruption.
  await ok(c, ['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
  await ok(c, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
  await ok(c, ['create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=2']);
  await until('the PDB status', async () => ((await ok(c, ['get', 'pdb', 'web', '-o', 'jsonpath={.status.currentHealthy}'])) === '2' ? true : undefined));
  const target = (await ok(c, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].spec.nodeName}'])).trim();
  const blocked = await c.kubectl(['drain', target, '--ignore-daemonsets', '--timeout=8s'], { timeoutMs: 30_000 });
  assert.notEqual(blocked.code, 0);
  assert.match(blocked.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
  assert.match(await ok(c, ['get', 'node', target]), /SchedulingDisabled/);
  // Allow one disruption: the drain evicts the web Pod, which comes back on the other node.
  await ok(c, ['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":1}}']);
  await ok(c, ['drain', target, '--ignore-daemonsets', '--timeout=60s']);
  await until('web back to 2 ready Pods', async () => ((await ok(c, ['get', 'deployment', 'web', '-o', 'jsonpath={.status.readyReplicas}'])) === '2' ? true : undefined));
  const webNodes = (await ok(c, ['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.nodeName}'])).trim().split(' ');
  assert.ok(webNodes.every((n) => n !== target), `web Pods left ${target}: ${webNodes.join(' ')}`);
  // The DaemonSet Pod stays on the cordoned node.
  assert.ok((await ok(c, ['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.nodeName}'])).includes(target));
  await ok(c, ['uncordon', target]);
  assert.doesNotMatch(await ok(c, ['get', 'node', target]), /SchedulingDisabled/);
});

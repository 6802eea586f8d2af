/**
 * End to end with the real kubectl against the real API server (no kernel): the resources of issue
 * 21 — CRDs (validation, defaulting, pruning, printer columns, status and scale subresources, two
 * versions with None conversion, explain, deletion of its objects), Jobs/CronJobs/DaemonSets/PDBs/HPAs
 * (create, get, describe, explain, delete), `kubectl api-resources` = what is served.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../harness/cluster.js';

let c: TestCluster;
before(async () => { c = await startTestCluster(undefined); });
after(async () => { await c?.close(); });

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: { plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct] }
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: { specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas }
    additionalPrinterColumns:
    - { name: Spec, type: string, jsonPath: .spec.cronSpec, description: The cron spec }
    - { name: Replicas, type: integer, jsonPath: .spec.replicas }
    - { name: Age, type: date, jsonPath: .metadata.creationTimestamp }
    schema:
      openAPIV3Schema:
        type: object
        description: A CronTab runs a command on a schedule.
        properties:
          spec:
            type: object
            description: What to run and when.
            required: [cronSpec]
            properties:
              cronSpec: { type: string, pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', description: The schedule in cron format. }
              image: { type: string }
              replicas: { type: integer, minimum: 1, maximum: 10, default: 1 }
          status:
            type: object
            properties:
              replicas: { type: integer }
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`;

test('CRD: established, served, validated, defaulted, pruned, printed, explained, two versions, status + scale, deleted with its objects', async () => {
  let r = await c.kubectl(['apply', '-f', '-'], { input: CRD });
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['wait', '--for=condition=established', 'crd/crontabs.stable.example.com', '--timeout=10s']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'crd', 'crontabs.stable.example.com', '-o', 'jsonpath={.status.conditions[*].type}:{.status.acceptedNames.kind}']);
  assert.equal(r.stdout, 'NamesAccepted Established:CronTab');

  // Invalid: Kubernetes' field errors.
  r = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: bad}\nspec: {cronSpec: "* * * *", replicas: 15}\n' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The CronTab "bad" is invalid/);
  assert.match(r.stderr, /spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10/);
  assert.match(r.stderr, /spec.cronSpec: Invalid value: "\* \* \* \*": spec.cronSpec in body should match/);

  // Valid, with an unknown field (pruned; kubectl's strict validation reports it) and a defaulted one.
  r = await c.kubectl(['apply', '--validate=false', '-f', '-'], { input: 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: my-cron}\nspec: {cronSpec: "*/5 * * * *", image: my-image, junk: 1}\n' });
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'ct', 'my-cron', '-o', 'jsonpath={.spec}']);
  assert.deepEqual(JSON.parse(r.stdout), { cronSpec: '*/5 * * * *', image: 'my-image', replicas: 1 });
  r = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: strict}\nspec: {cronSpec: "*/5 * * * *", junk: 1}\n' });
  assert.match(r.stderr, /unknown field "spec.junk"/);

  // Watch: a new object arrives as an ADDED event row.
  const watching = c.kubectl(['get', 'crontabs', '-w', '--output-watch-events'], { timeoutMs: 15_000, onStdout: (o) => /ADDED\s+watched/.test(o) });
  await new Promise((res) => setTimeout(res, 500));
  r = await c.kubectl(['apply', '-f', '-'], { input: 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: watched}\nspec: {cronSpec: "0 * * * *"}\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match((await watching).stdout, /ADDED\s+watched\s+0 \* \* \* \*/);

  // Printer columns.
  r = await c.kubectl(['get', 'crontabs']);
  assert.match(r.stdout, /^NAME\s+SPEC\s+REPLICAS\s+AGE\n/);
  assert.match(r.stdout, /my-cron\s+\*\/5 \* \* \* \*\s+1\s+\d+s/);

  // explain reads the published schema.
  r = await c.kubectl(['explain', 'crontab.spec.cronSpec']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /The schedule in cron format/);

  // Scale and status subresources.
  r = await c.kubectl(['scale', 'crontab/my-cron', '--replicas=3']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'crontab', 'my-cron', '-o', 'jsonpath={.spec.replicas}']);
  assert.equal(r.stdout, '3');
  r = await c.kubectl(['patch', 'crontab', 'my-cron', '--subresource=status', '--type=merge', '-p', '{"status":{"replicas":3},"spec":{"image":"ignored"}}']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'crontab', 'my-cron', '-o', 'jsonpath={.status.replicas} {.spec.image}']);
  assert.equal(r.stdout, '3 my-image');

  // The other version, None conversion.
  r = await c.kubectl(['get', 'crontabs.v1beta1.stable.example.com', 'my-cron', '-o', 'jsonpath={.apiVersion} {.spec.cronSpec}']);
  assert.equal(r.stdout, 'stable.example.com/v1beta1 */5 * * * *', r.stderr);

  // api-resources lists it.
  r = await c.kubectl(['api-resources', '--api-group=stable.example.com']);
  assert.match(r.stdout, /crontabs\s+ct\s+stable.example.com\/v1\s+true\s+CronTab/);

  // Deleting the CRD deletes its objects, then it stops being served.
  r = await c.kubectl(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=20s']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'crontabs']);
  assert.notEqual(r.code, 0);
  // kubectl's cached discovery still knows the type: the server answers the list with 404.
  assert.match(r.stderr, /the server doesn't have a resource type "crontabs"|the server could not find the requested resource/);
  r = await c.kubectl(['api-resources', '--api-group=stable.example.com', '--cached=false']);
  assert.doesNotMatch(r.stdout, /crontabs/);
});

test('api-resources lists every served resource and each one answers list', async () => {
  const r = await c.kubectl(['api-resources', '-o', 'wide', '--no-headers']);
  assert.equal(r.code, 0, r.stderr);
  const names = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
  for (const n of ['jobs', 'cronjobs', 'daemonsets', 'poddisruptionbudgets', 'horizontalpodautoscalers', 'customresourcedefinitions', 'nodes', 'pods']) assert.ok(names.includes(n), n);
  // Each group/version/resource listed must answer (metrics.k8s.io needs the metrics pipeline: 503 here).
  for (const line of r.stdout.trim().split('\n')) {
    const f = line.split(/\s+/);
    const gv = f.find((x) => /^([a-z0-9.-]+\/)?v\d/.test(x))!;
    const path = gv.includes('/') ? `/apis/${gv}/${f[0]}` : `/api/${gv}/${f[0]}`;
    const g = await c.kubectl(['get', '--raw', path]);
    if (gv.startsWith('metrics.k8s.io')) { assert.match(g.stderr, /ServiceUnavailable|unable to handle/, path); continue; }
    // The review kinds (tokenreviews, subjectaccessreviews, ...) serve only create: a list is 405, as in Kubernetes.
    if (!/\blist\b/.test(line)) { assert.match(g.stderr, /MethodNotAllowed/, path); continue; }
    assert.equal(g.code, 0, `${path}: ${g.stderr}`);
  }
});

test('Job, CronJob, DaemonSet, PDB, HPA: create, get, describe, explain, delete', async () => {
  let r = await c.kubectl(['create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'job', 'j1', '-o', 'jsonpath={.spec.completions} {.spec.backoffLimit} {.spec.template.spec.restartPolicy} {.spec.selector.matchLabels}']);
  assert.match(r.stdout, /^1 6 Never \{"batch.kubernetes.io\/controller-uid":"[0-9a-f-]+"\}$/);
  r = await c.kubectl(['get', 'jobs']);
  assert.match(r.stdout, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nj1\s+Running\s+0\/1/);
  r = await c.kubectl(['create', 'cronjob', 'cj', '--image=busybox', '--schedule=@hourly', '--', 'date']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['create', 'job', 'from-cj', '--from=cronjob/cj']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'job', 'from-cj', '-o', 'jsonpath={.metadata.ownerReferences[0].kind} {.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}']);
  assert.equal(r.stdout, 'CronJob manual');
  r = await c.kubectl(['get', 'cronjobs']);
  assert.match(r.stdout, /NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\ncj\s+@hourly\s+<none>\s+False\s+0\s+<none>/);
  r = await c.kubectl(['create', 'cronjob', 'bad', '--image=busybox', '--schedule=61 * * * *']);
  assert.match(r.stderr, /spec.schedule: Invalid value: "61 \* \* \* \*"/);

  r = await c.kubectl(['apply', '-f', '-'], { input: `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: a, image: busybox, command: [sleep, '3600']}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
` });
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'ds', 'agent', '-o', 'jsonpath={.spec.updateStrategy}']);
  assert.deepEqual(JSON.parse(r.stdout), { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 }, type: 'RollingUpdate' });
  r = await c.kubectl(['get', 'pdb']);
  assert.match(r.stdout, /NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+1\s+N\/A\s+0/);
  r = await c.kubectl(['create', 'deployment', 'web', '--image=nginx']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=4']);
  assert.equal(r.code, 0, r.stderr);
  r = await c.kubectl(['get', 'hpa', 'web', '-o', 'jsonpath={.apiVersion} {.spec.metrics[0].resource.target.averageUtilization} {.spec.maxReplicas}']);
  assert.equal(r.stdout, 'autoscaling/v2 50 4');
  r = await c.kubectl(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'jsonpath={.spec.targetCPUUtilizationPercentage}']);
  assert.equal(r.stdout, '50');

  for (const [kind, field] of [['job', 'spec.backoffLimit'], ['cronjob', 'spec.concurrencyPolicy'], ['daemonset', 'spec.updateStrategy.rollingUpdate.maxSurge'], ['pdb', 'spec.minAvailable'], ['hpa', 'spec.behavior.scaleDown']]) {
    r = await c.kubectl(['explain', `${kind}.${field}`]);
    assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
    assert.match(r.stdout, /FIELD:/);
  }
  for (const obj of ['job/j1', 'cronjob/cj', 'ds/agent', 'pdb/web', 'hpa/web']) {
    r = await c.kubectl(['describe', obj]);
    assert.equal(r.code, 0, `${obj}: ${r.stderr}`);
    assert.match(r.stdout, /^Name:\s+/m);
  }
  r = await c.kubectl(['delete', 'job/j1', 'job/from-cj', 'cronjob/cj', 'ds/agent', 'pdb/web', 'hpa/web']);
  assert.equal(r.code, 0, r.stderr);
});

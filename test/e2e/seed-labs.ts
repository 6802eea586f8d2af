// The seed labs (../shared/seeds/): their commands replayed with the real kubectl against a fresh
// `clusterip up --proxy-mode <mode>`, asserting on kubectl's output and on real traffic between
// Pods. One cluster per run; `clusterip down --purge` and a leak check run at the end, also on
// failure. seeds.test.ts runs them with the default proxy (nftables), seeds-iptables.test.ts and
// seeds-userspace.test.ts with the others: the labs must pass in every mode (seed 001 names them).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { upCluster, type UpCluster } from '../harness/up.js';
import { seed004Manifest } from '../fixtures/seed004.js';
import { nodeUnderlayIP } from '../../src/cluster/topology.js';

/** Runs every seed lab against a cluster whose proxy runs in `mode`. */
export function seedLabs(mode: 'nftables' | 'iptables' | 'userspace'): void {
  describe(`seed labs (${mode} proxy)`, { concurrency: false }, () => {
    let c: UpCluster;
    const afterHooks: (() => Promise<void>)[] = [];
    before(async () => {
      c = await upCluster({ after: (fn: () => Promise<void>) => { afterHooks.push(fn); } } as never, mode === 'nftables' ? {} : { proxyMode: mode });
      // seed 003's application image, added the way a user adds one (images.json is read on each lookup):
      // answers with its Pod name on 8080 (http) and 8443 (https port, plain HTTP here). Its files live
      // in the test's temp dir, which goes away with the cluster.
      await writeFile(join(c.stateDir, 'images.json'), JSON.stringify({
        'hotel-app:1.0.0': { command: ['sh', '-c', `d=${c.dir}/hotel-$(hostname); mkdir -p $d && hostname > $d/index.html && httpd -p 8080 -h $d && exec httpd -f -p 8443 -h $d`] },
      }));
    });
    after(async () => { for (const h of afterHooks) await h(); });

    /** Polls `fn` until it returns a truthy value or `ms` passes. */
    async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
      const end = Date.now() + ms;
      let last: unknown;
      for (;;) {
        try {
          const v = await fn();
          if (v) return v;
        } catch (e) { last = e; }
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    async function ok(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> {
      const r = await c.kubectl(args, opts);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    }

    /** Runs a shell script in a throw-away busybox Pod the way the seeds do (`kubectl run --rm`). */
    async function inPod(ns: string, script: string, image = 'busybox'): Promise<{ code: number; stdout: string; stderr: string }> {
      const name = `t-${Math.random().toString(36).slice(2, 8)}`;
      const r = await c.kubectl(['run', name, '--rm', '-i', '--restart=Never', `--image=${image}`, '-n', ns, '--', 'sh', '-c', script], { timeoutMs: 60_000 });
      // kubectl adds its own line about deleting the Pod; keep only what the Pod printed.
      return { ...r, stdout: r.stdout.replace(/pod "[^"]*" deleted\n?$/, '') };
    }

    const endpointIPs = (out: string): string[] => (out.match(/\d+\.\d+\.\d+\.\d+:\d+/g) ?? []);


    test('seed 004 task 1: apply the nginx Deployment and ClusterIP Service; 3 endpoints', async () => {
      await ok(['create', 'namespace', 'student-01']);
      const manifest = await c.file('nginx-clusterip.yaml', seed004Manifest('01'));
      const applied = await ok(['apply', '-f', manifest]);
      assert.match(applied, /deployment.apps\/nginx-deployment-01 created/);
      assert.match(applied, /service\/nginx-service-01 created/);
      await ok(['rollout', 'status', 'deployment/nginx-deployment-01', '-n', 'student-01', '--timeout=60s'], { timeoutMs: 70_000 });
      const dep = await ok(['get', 'deployment', 'nginx-deployment-01', '-n', 'student-01']);
      assert.match(dep, /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nnginx-deployment-01\s+3\/3\s+3\s+3\s+/);
      const svc = await ok(['get', 'svc', 'nginx-service-01', '-n', 'student-01']);
      assert.match(svc, /NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nnginx-service-01\s+ClusterIP\s+10\.(9[6-9]|10\d|11[01])\.\d+\.\d+\s+<none>\s+80\/TCP\s+/);
      const eps = await until('3 endpoints', async () => {
        const out = await ok(['get', 'endpoints', 'nginx-service-01', '-n', 'student-01']);
        return endpointIPs(out).length === 3 && out;
      });
      assert.ok(endpointIPs(eps).every((e) => /^10\.244\.\d+\.\d+:80$/.test(e)));
      const slices = await ok(['get', 'endpointslices', '-n', 'student-01']);
      assert.match(slices, /nginx-service-01-\w+\s+IPv4\s+80\s+10\.244\./);
    });

    test('seed 004 task 2: a busybox Pod reaches the Service by name and by ClusterIP, load-balanced', async () => {
      const ip = (await ok(['get', 'svc', 'nginx-service-01', '-n', 'student-01', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
      const r = await inPod('student-01', `wget -qO- nginx-service-01 | grep -o 'Welcome to nginx!' | head -1; wget -qO- ${ip} | grep -m1 -c 'Welcome to nginx!'; for i in 1 2 3 4 5; do wget -qO- nginx-service-01 2>/dev/null | head -1; done`);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Welcome to nginx!\n1\n(<!DOCTYPE html>\n){5}/);
    });

    test('seed 004 task 3: scale 3 → 5 → 2 and the endpoints follow (watched with -w)', async () => {
      // The scale is issued once the watch is running, as a user watching while Pods become ready sees
      // it. kubectl drops the initial watch event of a single watched object (kubectl get.go), so a
      // change landing between its GET and its watch would never be printed; this cluster makes new
      // Pods ready within milliseconds, so that window is real if the scale comes first.
      let scaled: Promise<unknown> | undefined;
      const watched = await c.kubectl(['get', 'endpoints', 'nginx-service-01', '-n', 'student-01', '-w'], {
        timeoutMs: 30_000,
        onStdout: (s) => {
          if (!scaled && /nginx-service-01/.test(s)) {
            scaled = new Promise((r) => setTimeout(r, 300)).then(() => ok(['scale', 'deployment', 'nginx-deployment-01', '--replicas=5', '-n', 'student-01']));
          }
          return s.split('\n').some((l) => endpointIPs(l).length >= 3 && /\+ 2 more/.test(l));
        },
      });
      await scaled;
      assert.match(watched.stdout, /\+ 2 more\.\.\./, `watch never showed 5 endpoints:\n${watched.stdout}`);
      await ok(['scale', 'deployment', 'nginx-deployment-01', '--replicas=2', '-n', 'student-01']);
      await until('2 endpoints', async () => endpointIPs(await ok(['get', 'endpoints', 'nginx-service-01', '-n', 'student-01'])).length === 2
        && !/more/.test(await ok(['get', 'endpoints', 'nginx-service-01', '-n', 'student-01'])));
      const manifest = await c.file('nginx-clusterip.yaml', seed004Manifest('01'));
      const del = await ok(['delete', '-f', manifest], { timeoutMs: 60_000 });
      assert.match(del, /deployment.apps "nginx-deployment-01" deleted/);
      assert.match(del, /service "nginx-service-01" deleted/);
    });

    test('seed 002: expose, dry-run YAML, jsonpath, describe, named targetPort, cross-namespace names', async () => {
      await ok(['create', 'deployment', 'nginx-dep', '--image=nginx', '--replicas=2']);
      const dry = await ok(['expose', 'deployment', 'nginx-dep', '--port=80', '--dry-run=client', '-o', 'yaml']);
      assert.match(dry, /kind: Service/);
      assert.match(dry, /selector:\n\s+app: nginx-dep/);
      assert.match(await ok(['expose', 'deployment', 'nginx-dep', '--port=80', '--target-port=80', '--name=nginx-service']), /service\/nginx-service exposed/);
      const ip = (await ok(['get', 'svc', 'nginx-service', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
      assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
      const described = await ok(['describe', 'svc', 'nginx-service']);
      assert.match(described, /Selector:\s+app=nginx-dep/);
      assert.match(described, new RegExp(`IP:\\s+${ip.replace(/\./g, '\\.')}`));
      await ok(['rollout', 'status', 'deployment/nginx-dep', '--timeout=60s'], { timeoutMs: 70_000 });
      await until('nginx-service endpoints', async () => endpointIPs(await ok(['get', 'endpoints', 'nginx-service'])).length === 2);

      // Same namespace: short, namespaced and full names all work.
      const same = await inPod('default', 'for n in nginx-service nginx-service.default nginx-service.default.svc.cluster.local; do timeout 3 wget -qO- http://$n | grep -m1 -c "Welcome to nginx!"; done');
      assert.equal(same.stdout.trim(), '1\n1\n1', same.stdout + same.stderr);
      // Another namespace: the short name fails, the namespaced name works.
      await ok(['create', 'namespace', 'other']);
      const cross = await inPod('other', 'timeout 3 wget -qO- http://nginx-service.default | grep -m1 -c "Welcome to nginx!"; timeout 3 wget -qO- http://nginx-service >/dev/null 2>&1 && echo short-ok || echo short-failed');
      assert.equal(cross.stdout.trim(), '1\nshort-failed', cross.stdout + cross.stderr);

      // Named targetPort: the Service refers to the container port by name.
      await ok(['apply', '-f', await c.file('named.yaml', `apiVersion: v1
kind: Pod
metadata:
  name: named-web
  labels: {app: named-web}
spec:
  containers:
  - name: web
    image: registry.k8s.io/e2e-test-images/agnhost:2.47
    args: ["netexec", "--http-port=8080"]
    ports:
    - name: http
      containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: named-svc
spec:
  selector: {app: named-web}
  ports:
  - port: 80
    targetPort: http
`)]);
      await until('named-svc endpoint on 8080', async () => /:8080/.test(await ok(['get', 'endpoints', 'named-svc'])));
      const named = await inPod('default', 'timeout 3 wget -qO- http://named-svc/hostname');
      assert.equal(named.stdout.trim(), 'named-web', named.stdout + named.stderr);

      // busybox:1.28 and curlimages/curl test Pods, as the seeds run them.
      const bb = await c.kubectl(['run', 'test', '--image=busybox:1.28', '--rm', '-i', '--restart=Never', '--', 'wget', '-qO-', 'http://nginx-service:80'], { timeoutMs: 60_000 });
      assert.match(bb.stdout, /Welcome to nginx!/, bb.stdout + bb.stderr);
      const curl = await c.kubectl(['run', 'curltest', '--image=curlimages/curl', '--rm', '-i', '--restart=Never', '--', 'curl', '-s', 'http://nginx-service'], { timeoutMs: 60_000 });
      assert.match(curl.stdout, /Welcome to nginx!/, curl.stdout + curl.stderr);
    });

    test('seed 002: a selector mismatch shows <none> endpoints; headless Service returns Pod IPs', async () => {
      await ok(['apply', '-f', await c.file('mismatch.yaml', `apiVersion: v1
kind: Service
metadata:
  name: broken-svc
spec:
  selector:
    app: no-such-app
  ports:
  - port: 80
`)]);
      const eps = await until('endpoints object', async () => { const r = await c.kubectl(['get', 'endpoints', 'broken-svc']); return r.code === 0 && r.stdout; });
      assert.match(eps, /broken-svc\s+<none>\s+/);
      assert.match(await ok(['describe', 'svc', 'broken-svc']), /Selector:\s+app=no-such-app/);
      assert.match(await ok(['get', 'pods', '--show-labels']), /app=nginx-dep/);

      await ok(['apply', '-f', await c.file('headless.yaml', `apiVersion: v1
kind: Service
metadata:
  name: nginx-headless
spec:
  clusterIP: None
  selector:
    app: nginx-dep
  ports:
  - port: 80
`)]);
      const podIPs = (await ok(['get', 'pods', '-l', 'app=nginx-dep', '-o', 'jsonpath={.items[*].status.podIP}'])).trim().split(/\s+/).sort();
      const ns = await inPod('default', 'nslookup nginx-headless.default.svc.cluster.local');
      const found = [...new Set((ns.stdout.match(/10\.244\.\d+\.\d+/g) ?? []))].sort();
      assert.deepEqual(found, podIPs, ns.stdout + ns.stderr);
    });

    test('seed 003: multi-port Service with ClientIP session affinity keeps one client on one Pod', async () => {
      await ok(['apply', '-f', await c.file('hotel.yaml', `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hotel-app
spec:
  replicas: 3
  selector:
    matchLabels:
      app: hotel-app
  template:
    metadata:
      labels:
        app: hotel-app
    spec:
      containers:
      - name: app
        image: hotel-app:1.0.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: hotel-service
spec:
  type: ClusterIP
  selector:
    app: hotel-app
  ports:
  - name: http
    port: 80
    targetPort: 8080
    protocol: TCP
  - name: https
    port: 443
    targetPort: 8443
    protocol: TCP
  sessionAffinity: ClientIP
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 10800
`)]);
      await ok(['rollout', 'status', 'deployment/hotel-app', '--timeout=60s'], { timeoutMs: 70_000 });
      const svc = await ok(['get', 'service', 'hotel-service']);
      assert.match(svc, /hotel-service\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP,443\/TCP\s+/);
      // Affinity is per Service port (as kube-proxy keeps it): 20 requests to port 80 stick to one Pod;
      // port 443 answers too (from whichever Pod its own affinity picked).
      const r = await inPod('default', 'for i in $(seq 20); do timeout 3 wget -qO- http://hotel-service; echo; done; timeout 3 wget -qO- http://hotel-service:443', 'busybox');
      const names = r.stdout.trim().split('\n').filter((l) => l.trim());
      assert.equal(names.length, 21, r.stdout + r.stderr);
      assert.equal(new Set(names.slice(0, 20)).size, 1, `affinity broken: ${r.stdout}`);
      assert.ok(names.every((n) => /^hotel-app-/.test(n)), r.stdout);
      const curl = await c.kubectl(['run', 'test', '--image=curlimages/curl', '--rm', '-i', '--restart=Never', '--', 'curl', '-s', 'http://hotel-service'], { timeoutMs: 60_000 });
      assert.match(curl.stdout, /hotel-app-/);
    });

    test('seed 000: my-service routes 80 → 8080; unreachable from outside; no matching Pods refuses at once', async () => {
      await ok(['apply', '-f', await c.file('my.yaml', `apiVersion: v1
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
`)]);
      const ip = (await ok(['get', 'svc', 'my-service', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
      // No Pod matches yet: the connection is refused at once, not left to time out.
      // `timeout 1` would kill a hanging connect (exit 143, no message): a refusal must come first.
      const refused = await inPod('default', `timeout 1 wget -qO- http://${ip} 2>&1; echo "exit=$?"`);
      assert.match(refused.stdout, /Connection refused/, refused.stdout + refused.stderr);
      assert.match(refused.stdout, /exit=1\b/, refused.stdout);

      await ok(['apply', '-f', await c.file('my-app.yaml', `apiVersion: apps/v1
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
        image: registry.k8s.io/e2e-test-images/agnhost:2.47
        args: ["netexec", "--http-port=8080"]
        ports:
        - containerPort: 8080
`)]);
      await until('my-service endpoint', async () => endpointIPs(await ok(['get', 'endpoints', 'my-service'])).length >= 1, 30_000);
      const inside = await inPod('default', 'timeout 3 wget -qO- http://my-service/hostname');
      assert.match(inside.stdout, /^my-app-/, inside.stdout + inside.stderr);
      // From outside the cluster network the ClusterIP is not reachable.
      const outside = await c.cli(['outside', '--', 'busybox', 'timeout', '3', 'busybox', 'wget', '-qO-', `http://${ip}/hostname`]);
      assert.notEqual(outside.code, 0);
      assert.doesNotMatch(outside.stdout, /my-app-/);
    });

    test('where the seeds point next: NodePort and LoadBalancer give my-service outside access', async () => {
      // Seed 000's quiz ("change the type to NodePort or LoadBalancer"), seed 003's "Next: NodePort Services".
      await ok(['patch', 'svc', 'my-service', '-p', '{"spec":{"type":"NodePort"}}']);
      const np = (await ok(['get', 'svc', 'my-service', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).trim();
      assert.match(np, /^3\d{4}$/);
      const viaNode = await until('the NodePort from outside', async () => {
        const r = await c.cli(['outside', '--', 'timeout', '5', 'busybox', 'wget', '-qO-', `http://${nodeUnderlayIP(0)}:${np}/hostname`]);
        return r.code === 0 && r.stdout;
      });
      assert.match(viaNode, /^my-app-/);
      await ok(['patch', 'svc', 'my-service', '-p', '{"spec":{"type":"LoadBalancer"}}']);
      const lb = await until('an EXTERNAL-IP', async () => (await ok(['get', 'svc', 'my-service', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).trim());
      const viaLb = await until('the LoadBalancer IP from outside', async () => {
        const r = await c.cli(['outside', '--', 'timeout', '5', 'busybox', 'wget', '-qO-', `http://${lb}/hostname`]);
        return r.code === 0 && r.stdout;
      });
      assert.match(viaLb, /^my-app-/);
    });

  });
}

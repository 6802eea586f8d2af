// Service types beyond ClusterIP, whole product (root): a real `clusterip up` per proxy mode, the
// real kubectl, agnhost netexec Pods, and traffic sent only from inside the cluster's namespaces
// (the outside host through `clusterip outside`, Pods through `kubectl exec`) — plus, with
// `--host-nodeports`, from this machine's 127.0.0.1, which the daemon forwards through the outside
// host. Each mode's cluster is removed at the end, also on failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { upCluster, type UpCluster } from '../harness/up.js';
import { nodeUnderlayIP } from '../../src/cluster/topology.js';

const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.53';

/** Polls `fn` until it returns a truthy value or `ms` passes. */
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

function deployment(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: agnhost
        image: ${AGNHOST}
        args: ["netexec", "--http-port=8080"]
`;
}

/** GET http://127.0.0.1:port/path from this machine (loopback only). */
function localGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

for (const mode of ['nftables', 'iptables', 'userspace'] as const) {
  // nftables (the default) runs two nodes: a NodePort must answer at every node's address.
  const nodes = mode === 'nftables' ? 2 : 1;
  describe(`Service types (${mode} proxy, ${nodes} node${nodes > 1 ? 's' : ''})`, { concurrency: false }, () => {
    let c: UpCluster;
    const hooks: (() => Promise<void>)[] = [];
    const ok = async (args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string> => {
      const r = await c.kubectl(args, opts);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    /** Runs a command on the outside host with the real CLI. */
    const outside = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => c.cli(['outside', '--', ...args], { timeoutMs: 30_000 });
    const nodePortOf = async (svc: string): Promise<number> => Number((await ok(['get', 'svc', svc, '-o', 'jsonpath={.spec.ports[0].nodePort}'])).trim());

    before(async () => {
      c = await upCluster({ after: (fn: () => Promise<void>) => { hooks.push(fn); } } as never, {
        nodes, proxyMode: mode, extraArgs: mode === 'userspace' ? ['--host-nodeports'] : [],
      });
      await ok(['apply', '-f', '-'], { input: deployment('web', 2) });
      await ok(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    });
    after(async () => { for (const h of hooks) await h(); });

    test('ClusterIP: a Pod reaches the Service by name', async () => {
      await ok(['expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--name=web-cip']);
      const pod = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
      const out = await until('ClusterIP answer', async () => {
        const r = await c.kubectl(['exec', pod, '--', 'wget', '-qO-', 'http://web-cip/hostname']);
        return r.code === 0 && r.stdout;
      });
      assert.match(out, /^web-/);
    });

    test(`NodePort: allocated from 30000-32767, shown by kubectl, reachable from the outside host at ${nodes > 1 ? 'every node' : 'the node'}`, async () => {
      await ok(['expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--name=web-np', '--type=NodePort']);
      const np = await nodePortOf('web-np');
      assert.ok(np >= 30000 && np <= 32767, String(np));
      assert.match(await ok(['get', 'svc', 'web-np']), new RegExp(`web-np\\s+NodePort\\s+10\\.\\S+\\s+<none>\\s+80:${np}/TCP`));
      for (let n = 0; n < nodes; n++) {
        const r = await until(`NodePort at node ${n}`, async () => {
          const x = await outside(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${nodeUnderlayIP(n)}:${np}/hostname`]);
          return x.code === 0 && x;
        });
        assert.match(r.stdout, /^web-/);
      }
    });

    test('a NodePort collision is refused with Kubernetes\' 422 and message', async () => {
      const np = await nodePortOf('web-np');
      const r = await c.kubectl(['create', 'service', 'nodeport', 'clash', '--tcp=80:8080', `--node-port=${np}`]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`Service "clash" is invalid: spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${np}: provided port is already allocated`));
      const raw = await c.kubectl(['create', '-f', '-', '-o', 'json', '-v=6'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'clash' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort: np }] } }),
      });
      assert.match(raw.stderr, / 422 Unprocessable Entity/);
    });

    test('LoadBalancer: EXTERNAL-IP from the pool (not <pending>), reachable from the outside host', async () => {
      await ok(['expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--name=web-lb', '--type=LoadBalancer']);
      const ip = await until('an EXTERNAL-IP', async () => (await ok(['get', 'svc', 'web-lb', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])).trim());
      assert.match(ip, /^172\.31\.255\.(2[0-4]\d|25[0-4])$/);
      assert.match(await ok(['get', 'svc', 'web-lb']), new RegExp(`web-lb\\s+LoadBalancer\\s+10\\.\\S+\\s+${ip.replaceAll('.', '\\.')}\\s+80:\\d+/TCP`));
      const r = await until('the LoadBalancer IP answering', async () => {
        const x = await outside(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${ip}/hostname`]);
        return x.code === 0 && x;
      });
      assert.match(r.stdout, /^web-/);
      const events = await ok(['get', 'events', '--field-selector', 'involvedObject.name=web-lb']);
      assert.match(events, /IPAllocated\s+service\/web-lb\s+Assigned IP \["172\.31\.255\.\d+"\]/);
    });

    test(mode === 'userspace'
      ? 'externalTrafficPolicy Local: the userspace proxy cannot keep the client address (its connections come from the node)'
      : 'externalTrafficPolicy Local keeps the client\'s address (agnhost /clientip) and uses this node\'s endpoints', async () => {
      await ok(['patch', 'svc', 'web-lb', '-p', '{"spec":{"externalTrafficPolicy":"Local"}}']);
      const hc = Number((await ok(['get', 'svc', 'web-lb', '-o', 'jsonpath={.spec.healthCheckNodePort}'])).trim());
      assert.ok(hc >= 30000, `healthCheckNodePort ${hc}`);
      // Node 0 runs a web Pod (one node), or one of the two (two nodes, spread by the scheduler).
      const local = (await ok(['get', 'pods', '-l', 'app=web', '-o', `jsonpath={.items[?(@.spec.nodeName=="${(await ok(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim()}")].metadata.name}`])).trim().split(/\s+/).filter(Boolean);
      assert.ok(local.length > 0, 'a web Pod on node 0');
      const np = await nodePortOf('web-lb');
      const r = await until('the NodePort with the Local policy', async () => {
        const x = await outside(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${nodeUnderlayIP(0)}:${np}/clientip`]);
        return x.code === 0 && (mode === 'userspace' || x.stdout.startsWith('172.31.255.2:')) && x;
      });
      if (mode === 'userspace') assert.match(r.stdout, /^(10\.244\.0\.1|172\.31\.255\.10):\d+$/);
      else assert.match(r.stdout, /^172\.31\.255\.2:\d+$/, 'the outside host\'s own address');
      const health = await outside(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${nodeUnderlayIP(0)}:${hc}/`]);
      assert.deepEqual(JSON.parse(health.stdout), { service: { namespace: 'default', name: 'web-lb' }, localEndpoints: local.length, serviceProxyHealthy: true });
      await ok(['patch', 'svc', 'web-lb', '-p', '{"spec":{"externalTrafficPolicy":"Cluster"}}']);
    });

    test('hairpin through a NodePort: a Pod reaches itself at its node\'s NodePort', async () => {
      const pod = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
      const node = (await ok(['get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}'])).trim();
      const n = nodes === 1 ? 0 : Number(/-(\d+)$/.exec(node)![1]);
      await ok(['label', 'pod', pod, 'self=yes']);
      await ok(['create', 'service', 'nodeport', 'self', '--tcp=80:8080']);
      await ok(['set', 'selector', 'svc', 'self', 'self=yes']);
      const np = await nodePortOf('self');
      const out = await until('hairpin answer', async () => {
        const r = await c.kubectl(['exec', pod, '--', 'timeout', '5', 'wget', '-qO-', `http://${nodeUnderlayIP(n)}:${np}/hostname`]);
        return r.code === 0 && r.stdout;
      });
      assert.equal(out.trim(), pod);
    });

    test('ExternalName: a CNAME in cluster DNS and no proxy rules', async () => {
      await ok(['create', 'service', 'externalname', 'ext', '--external-name', 'example.com']);
      const pod = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
      const dns = await until('the CNAME', async () => {
        const r = await c.kubectl(['exec', pod, '--', 'nslookup', '-type=cname', 'ext.default.svc.cluster.local', '10.96.0.10']);
        return /canonical name = example\.com/.test(r.stdout) && r.stdout;
      });
      assert.match(dns, /ext\.default\.svc\.cluster\.local\s+canonical name = example\.com/);
      const rules = mode === 'iptables' ? await c.onNode('iptables-save', []) : await c.onNode('nft', ['list', 'ruleset']);
      assert.doesNotMatch(rules, /default\/ext\b/, 'no rule names the ExternalName Service');
      assert.match(rules, /default\/web-np/, 'while the NodePort Service has rules');
    });

    if (mode === 'nftables') {
      test('kubectl proxy reaches a Service and a Pod through services/proxy and pods/proxy; kubectl port-forward svc/ still works', async () => {
        await ok(['create', 'service', 'clusterip', 'named', '--tcp=80:8080']);
        await ok(['set', 'selector', 'svc', 'named', 'app=web']);
        await ok(['patch', 'svc', 'named', '--type=json', '-p', '[{"op":"add","path":"/spec/ports/0/name","value":"http"}]']);
        let port = 0;
        const proxied = c.kubectl(['proxy', '--port=0'], { timeoutMs: 60_000, onStdout: (out) => {
          const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) port = Number(m[1]);
          return false;
        } });
        await until('kubectl proxy', async () => port);
        try {
          for (const id of ['web-cip:80', 'named:http', 'named:80']) {
            const body = await until(`services/${id}/proxy`, () => localGet(port, `/api/v1/namespaces/default/services/${id}/proxy/hostname`));
            assert.match(body, /^web-/, id);
          }
          const pod = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
          assert.equal(await localGet(port, `/api/v1/namespaces/default/pods/${pod}:8080/proxy/hostname`), pod);
        } finally {
          c.kubectl.killAll();
          await proxied;
        }
        let fwd = 0;
        const pf = c.kubectl(['port-forward', 'svc/web-cip', ':80'], { timeoutMs: 60_000, onStdout: (out) => {
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) fwd = Number(m[1]);
          return false;
        } });
        try {
          await until('kubectl port-forward', async () => fwd);
          assert.match(await localGet(fwd, '/hostname'), /^web-/);
        } finally {
          c.kubectl.killAll();
          await pf;
        }
      });
    }

    if (mode === 'userspace') {
      test('--host-nodeports: the NodePort answers on 127.0.0.1 of this machine, forwarded through the outside host', async () => {
        const np = await nodePortOf('web-np');
        const body = await until('127.0.0.1 forward', () => localGet(np, '/hostname'));
        assert.match(body, /^web-/);
      });
    }
  });
}

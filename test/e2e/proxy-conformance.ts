/**
 * The proxy conformance suite: every behaviour the proxy promises, checked with real traffic
 * between network namespaces through the real kernel. Each backend runs it in a few lines
 * (proxy-nftables.test.ts, proxy-iptables.test.ts). Traffic is only ever sent from inside the
 * fixture's namespaces.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { NetworkPolicy, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import { R } from '../../src/api/resources.js';
import { isNotFound } from '../../src/api/errors.js';
import { startProxy, type Proxy, type ProxyMode } from '../../src/proxy/proxy.js';
import { startNetworkPolicy, type NetworkPolicyEnforcer } from '../../src/netpol/netpol.js';
import { ProxyFixture, inNs, type FixturePod } from './proxy-fixture.js';
import { makeTestApi, type TestApi } from './proxy-api.js';

const NS = 'default';

function count(xs: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/**
 * What the userspace mode does not do, as kube-proxy's userspace mode did not: keep the client's
 * address (every connection comes from the node), so no externalTrafficPolicy Local and no
 * loadBalancerSourceRanges; and its listeners live in the proxy's process, so they stop with it.
 */
function kernelMode(mode: ProxyMode): boolean {
  return mode !== 'userspace';
}

/** The node's zone label in the tests (the proxy reads it from its Node object). */
const ZONE = 'zone-a';

export function proxyConformance(mode: ProxyMode): void {
  describe(`proxy conformance (${mode})`, { concurrency: false }, () => {
    const fx = new ProxyFixture();
    let api: TestApi;
    let proxy: Proxy;
    let client: FixturePod;
    const pods: Record<string, FixturePod> = {};

    // No nodeIPs: the proxy takes its NodePort address (and zone) from the Node object, as kube-proxy.
    const start = (): Promise<Proxy> => startProxy({
      client: api.client, nodeName: 'node-0', netns: fx.nodeNs, mode,
      serviceCIDR: '10.96.0.0/12', podCIDR: '10.244.0.0/16', retrySyncPeriodMs: 200,
    });

    async function putService(name: string, clusterIP: string, ports: { name?: string; port: number; targetPort?: number | string; protocol?: string; nodePort?: number }[], spec: Partial<NonNullable<Service['spec']>> = {}, status?: Service['status']): Promise<void> {
      const obj: Service = {
        apiVersion: 'v1', kind: 'Service', metadata: { namespace: NS, name },
        spec: { clusterIP, clusterIPs: [clusterIP], type: 'ClusterIP', sessionAffinity: 'None',
          ports: ports.map((p) => ({ protocol: 'TCP', targetPort: p.port, ...p })) as NonNullable<Service['spec']>['ports'], ...spec },
      };
      const made = await api.client.create<Service>(R.services, NS, obj);
      if (status) await api.client.update(R.services, NS, { ...made, status }, { subresource: 'status' });
    }

    /** Changes a Service's spec (read, modify, write). */
    async function editService(name: string, edit: (spec: NonNullable<Service['spec']>) => void): Promise<void> {
      const cur = await api.client.get<Service>(R.services, NS, name);
      edit(cur.spec!);
      await api.client.update(R.services, NS, cur);
    }

    async function putSlice(service: string, ports: { name?: string; port: number; protocol?: string }[], eps: { pod: string; ready?: boolean; serving?: boolean; terminating?: boolean; node?: string; zone?: string }[]): Promise<void> {
      const obj: EndpointSlice = {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
        metadata: { namespace: NS, name: `${service}-x1`, labels: { 'kubernetes.io/service-name': service },
          annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() } },
        ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: (p.protocol ?? 'TCP') as 'TCP' })),
        endpoints: eps.map((e) => ({
          addresses: [pods[e.pod]!.ip],
          conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
          nodeName: e.node ?? 'node-0',
          ...(e.zone ? { zone: e.zone, hints: { forZones: [{ name: e.zone }] } } : {}),
        })),
      };
      try {
        const cur = await api.client.get<EndpointSlice>(R.endpointslices, NS, obj.metadata!.name!);
        await api.client.update(R.endpointslices, NS, { ...obj, metadata: { ...obj.metadata, resourceVersion: cur.metadata?.resourceVersion } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await api.client.create(R.endpointslices, NS, obj);
      }
    }

    /** Waits until the proxy's rules for a Service satisfy `ok` and the proxy is idle. */
    async function settle(service: string, ok: (rules: string) => boolean): Promise<void> {
      const deadline = Date.now() + 5000;
      for (;;) {
        await proxy.whenIdle();
        const rules = await proxy.rulesFor(NS, service);
        if (ok(rules)) return;
        if (Date.now() > deadline) assert.fail(`rules for ${service} never settled:\n${rules}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    /** Whether the rules DNAT to `ip` (nft `ip . port` / `ip:port`, iptables `ip:port`), optionally on `port`. */
    const targets = (rules: string, ip: string, port = '\\d+') =>
      new RegExp(`${ip.replaceAll('.', '\\.')}(:${port}\\b| \\. ${port}[ ,}])`).test(rules);
    const hasIps = (...names: string[]) => (rules: string) => names.every((n) => targets(rules, pods[n]!.ip));
    const lacksIps = (...names: string[]) => (rules: string) => rules !== '' && names.every((n) => !targets(rules, pods[n]!.ip));

    before(async () => {
      try {
        fx.setup({ serviceRoute: mode === 'iptables', localServiceRoute: mode === 'userspace', underlay: true });
        for (const n of ['a', 'b', 'c', 'd', 'e']) pods[n] = await fx.addPod(n, ['tcp:8080', 'tcp:9090', 'udp:5353']);
        client = fx.addClient();
        api = await makeTestApi({ allowExternalIPs: true });
        if (!api.real) console.log('# proxy conformance: API core not present yet, using FakeClient');
        // This proxy's Node: its address takes NodePorts, its zone label drives topology hints.
        const node = await api.client.create<Node>(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-0', labels: { 'topology.kubernetes.io/zone': ZONE } } });
        await api.client.update(R.nodes, undefined, { ...node, status: { addresses: [{ type: 'InternalIP', address: fx.nodeIP }] } }, { subresource: 'status' });
        proxy = await start();
      } catch (err) {
        fx.cleanup();
        throw err;
      }
    });
    after(async () => {
      try { await proxy?.stop({ flush: true }); } finally {
        await api?.close();
        fx.cleanup();
      }
    });

    test('spreads 300 requests over 3 endpoints within statistical bounds', async () => {
      await putService('web', '10.96.0.50', [{ port: 80, targetPort: 8080 }]);
      await putSlice('web', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c' }]);
      await settle('web', hasIps('a', 'b', 'c'));
      const r = await fx.client(client.ns, ['http', '10.96.0.50', 80, 300]);
      assert.deepEqual(r.errors, []);
      const c = count(r.answers);
      assert.deepEqual([...c.keys()].sort(), ['a:8080', 'b:8080', 'c:8080']);
      // Binomial(300, 1/3): mean 100, sd 8.2; [60, 140] is ~5 sd either side.
      for (const [k, v] of c) assert.ok(v >= 60 && v <= 140, `${k} got ${v} of 300`);
    });

    test('large transfers cross whole both ways, also to a client that stops reading for a while', async () => {
      // The userspace mode relays every byte itself (reusing its read buffers): a chunk sent twice,
      // dropped or overwritten before it left changes the digest.
      await putService('bulk', '10.96.0.49', [{ port: 80, targetPort: 8080 }]);
      await putSlice('bulk', [{ port: 8080 }], [{ pod: 'a' }]);
      await settle('bulk', hasIps('a'));
      const upload = 4 << 20;
      // More than the kernel buffers between the proxy and a stalled client hold (~10 MB with
      // autotuning): the proxy's writes must queue and its reads stop, or bytes get lost.
      const download = 32 << 20;
      const digest = (n: number, byte: (i: number) => number): string => {
        const b = Buffer.alloc(n);
        for (let i = 0; i < n; i++) b[i] = byte(i);
        return createHash('sha256').update(b).digest('hex');
      };
      const r = await fx.client(client.ns, ['bulk', '10.96.0.49', 80, upload, download, 500]);
      assert.deepEqual(r.errors, []);
      // The patterns of proxy-client.mjs (upload) and proxy-echo.mjs (answer).
      assert.equal(r.answers[0], `${upload} ${digest(upload, (i) => (i * 7) % 253)} ${download} ${digest(download, (i) => i % 251)}`);
    });

    test('a large upload crosses whole to an endpoint that stops reading for a while', async () => {
      // The other direction of the test above: the userspace relay reads the client into a buffer
      // of its own too; while the endpoint reads nothing its writes must queue and its reads stop.
      await putService('bulkup', '10.96.0.48', [{ port: 80, targetPort: 8080 }]);
      await putSlice('bulkup', [{ port: 8080 }], [{ pod: 'b' }]);
      await settle('bulkup', hasIps('b'));
      const upload = 32 << 20;
      const body = Buffer.alloc(upload);
      for (let i = 0; i < upload; i++) body[i] = (i * 7) % 253;
      const r = await fx.client(client.ns, ['bulk', '10.96.0.48', 80, upload, 1000, 0, 500]);
      assert.deepEqual(r.errors, []);
      assert.equal(r.answers[0]!.split(' ').slice(0, 2).join(' '), `${upload} ${createHash('sha256').update(body).digest('hex')}`);
    });

    test('200 requests over 50 connections open at once are all answered, spread over the endpoints', async () => {
      await putService('many', '10.96.0.47', [{ port: 80, targetPort: 8080 }]);
      await putSlice('many', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c' }]);
      await settle('many', hasIps('a', 'b', 'c'));
      const r = await fx.client(client.ns, ['parallel', '10.96.0.47', 80, 200, 50]);
      assert.deepEqual(r.errors, []);
      assert.equal(r.answers.length, 200);
      assert.deepEqual([...count(r.answers).keys()].sort(), ['a:8080', 'b:8080', 'c:8080']);
    });

    test('ClientIP affinity holds over 100 requests and across unrelated syncs', async () => {
      await putService('sticky', '10.96.0.51', [{ port: 80, targetPort: 8080 }],
        { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
      await putSlice('sticky', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c' }]);
      await settle('sticky', hasIps('a', 'b', 'c'));
      const r = await fx.client(client.ns, ['http', '10.96.0.51', 80, 100]);
      assert.deepEqual(r.errors, []);
      assert.equal(count(r.answers).size, 1, `answers: ${[...count(r.answers)]}`);
      const first = r.answers[0];
      await putService('unrelated', '10.96.0.59', [{ port: 80 }]);
      await settle('unrelated', (x) => x !== '' || !kernelMode(mode));
      const r2 = await fx.client(client.ns, ['http', '10.96.0.51', 80, 20]);
      assert.deepEqual(count(r2.answers), new Map([[first!, 20]]));
    });

    test('a Service without endpoints, and a ClusterIP port without a Service, refuse at once', async () => {
      await putService('empty', '10.96.0.52', [{ port: 80 }]);
      // (The userspace mode writes nothing for a Service without endpoints: the node refuses it.)
      await settle('empty', (x) => x.includes('10.96.0.52') || !kernelMode(mode));
      const r = await fx.client(client.ns, ['connect', '10.96.0.52', 80, 2000]);
      assert.deepEqual(r.errors, ['ECONNREFUSED']);
      assert.ok(r.ms[0]! < 100, `refused after ${r.ms[0]} ms`);
      const r2 = await fx.client(client.ns, ['connect', '10.96.0.50', 81, 2000]);
      assert.deepEqual(r2.errors, ['ECONNREFUSED']);
      assert.ok(r2.ms[0]! < 100, `refused after ${r2.ms[0]} ms`);
    });

    test('endpoints 3 -> 5 -> 2: traffic follows', async () => {
      await putService('scale', '10.96.0.53', [{ port: 80, targetPort: 8080 }]);
      const expect = async (names: string[]) => {
        await putSlice('scale', [{ port: 8080 }], names.map((pod) => ({ pod })));
        await settle('scale', (x) => hasIps(...names)(x) && lacksIps(...['a', 'b', 'c', 'd', 'e'].filter((n) => !names.includes(n)))(x));
        const r = await fx.client(client.ns, ['http', '10.96.0.53', 80, 150]);
        assert.deepEqual(r.errors, []);
        assert.deepEqual([...count(r.answers).keys()].sort(), names.map((n) => `${n}:8080`).sort());
      };
      await expect(['a', 'b', 'c']);
      await expect(['a', 'b', 'c', 'd', 'e']);
      await expect(['d', 'e']);
    });

    test('an unready endpoint gets no traffic; serving+terminating ones are used only as a fallback', async () => {
      await putService('ready', '10.96.0.54', [{ port: 80, targetPort: 8080 }]);
      await putSlice('ready', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c', ready: false, serving: false }, { pod: 'd', ready: false, serving: true, terminating: true }]);
      await settle('ready', (x) => hasIps('a', 'b')(x) && lacksIps('c', 'd')(x));
      const r = await fx.client(client.ns, ['http', '10.96.0.54', 80, 100]);
      assert.deepEqual([...count(r.answers).keys()].sort(), ['a:8080', 'b:8080']);
      await putSlice('ready', [{ port: 8080 }], [{ pod: 'c', ready: false, serving: false }, { pod: 'd', ready: false, serving: true, terminating: true }]);
      await settle('ready', (x) => hasIps('d')(x) && lacksIps('a', 'b', 'c')(x));
      const r2 = await fx.client(client.ns, ['http', '10.96.0.54', 80, 20]);
      assert.deepEqual(count(r2.answers), new Map([['d:8080', 20]]));
    });

    test('named, multi-port Service: each port goes to its own target port', async () => {
      await putService('multi', '10.96.0.55', [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 90, targetPort: 'prom' }]);
      await putSlice('multi', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }], [{ pod: 'a' }, { pod: 'b' }]);
      await settle('multi', (x) => targets(x, pods.a!.ip, '9090') && targets(x, pods.b!.ip, '8080'));
      const r80 = await fx.client(client.ns, ['http', '10.96.0.55', 80, 30]);
      const r90 = await fx.client(client.ns, ['http', '10.96.0.55', 90, 30]);
      assert.deepEqual([...count(r80.answers).keys()].sort(), ['a:8080', 'b:8080']);
      assert.deepEqual([...count(r90.answers).keys()].sort(), ['a:9090', 'b:9090']);
    });

    test('UDP: removing the endpoint a flow is pinned to does not blackhole it', async () => {
      await putService('dns', '10.96.0.56', [{ port: 53, targetPort: 5353, protocol: 'UDP' }]);
      await putSlice('dns', [{ port: 5353, protocol: 'UDP' }], [{ pod: 'a' }, { pod: 'b' }]);
      await settle('dns', hasIps('a', 'b'));
      const before = await fx.client(client.ns, ['udp', '10.96.0.56', 53, 5, 500, 40053]);
      assert.deepEqual(before.errors, []);
      assert.equal(count(before.answers).size, 1, 'one UDP flow sticks to one endpoint via conntrack');
      const pinned = before.answers[0]!.split(':')[0]!;
      const other = pinned === 'a' ? 'b' : 'a';
      await putSlice('dns', [{ port: 5353, protocol: 'UDP' }], [{ pod: other }]);
      await settle('dns', (x) => hasIps(other)(x) && lacksIps(pinned)(x));
      const afterR = await fx.client(client.ns, ['udp', '10.96.0.56', 53, 5, 500, 40053]);
      assert.deepEqual(afterR.errors, [], 'no datagram lost after the change');
      assert.deepEqual(count(afterR.answers), new Map([[`${other}:5353`, 5]]));
    });

    test('hairpin: a Pod reaches itself through its own Service', async () => {
      await putService('self', '10.96.0.57', [{ port: 80, targetPort: 8080 }]);
      await putSlice('self', [{ port: 8080 }], [{ pod: 'c' }]);
      await settle('self', hasIps('c'));
      const r = await fx.client(pods.c!.ns, ['http', '10.96.0.57', 80, 10]);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(count(r.answers), new Map([['c:8080', 10]]));
    });

    test('a namespace outside the cluster network cannot connect to a ClusterIP', async () => {
      const outside = fx.addOutside();
      const r = await fx.client(outside, ['connect', '10.96.0.50', 80, 1000]);
      assert.equal(r.answers.length, 0);
      assert.equal(r.errors.length, 1);
    });


    // ---- Beyond ClusterIP: NodePort, LoadBalancer, external IPs, traffic policies ----
    const outside = (args: (string | number)[]) => fx.client(fx.outsideHost, args);
    const answersOf = (r: { answers: string[] }) => r.answers.map((a) => a.split(' ')[0]!);
    const clientIPs = (r: { answers: string[] }) => new Set(r.answers.map((a) => a.split(' ')[1]));

    test('NodePort: reachable from the outside host at the node address, spread over the endpoints', async () => {
      await putService('np', '10.96.0.60', [{ port: 80, targetPort: 8080, nodePort: 30080 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' });
      await putSlice('np', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c', node: 'node-1' }]);
      await settle('np', (x) => x.includes('30080') && hasIps('a', 'b', 'c')(x));
      const r = await outside(['http', fx.nodeIP, 30080, 60, '/clientip']);
      assert.deepEqual(r.errors, []);
      assert.deepEqual([...count(answersOf(r)).keys()].sort(), ['a:8080', 'b:8080', 'c:8080']);
      // externalTrafficPolicy Cluster: the endpoint sees the node (masqueraded), so replies come back through it.
      assert.deepEqual([...clientIPs(r)], ['10.244.0.1']);
      // The ClusterIP of the same Service still works from a Pod.
      assert.deepEqual((await fx.client(client.ns, ['http', '10.96.0.60', 80, 10])).errors, []);
    });

    test('NodePort without endpoints, and a port that is no NodePort, are refused at once from outside', async () => {
      await putService('np-empty', '10.96.0.61', [{ port: 80, nodePort: 30081 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' });
      await settle('np-empty', (x) => x.includes('10.96.0.61') || !kernelMode(mode));
      for (const port of [30081, 30099]) {
        const r = await outside(['connect', fx.nodeIP, port, 2000]);
        assert.deepEqual(r.errors, ['ECONNREFUSED'], `port ${port}`);
        assert.ok(r.ms[0]! < 200, `refused after ${r.ms[0]} ms`);
      }
    });

    test('externalTrafficPolicy Local: this node\'s endpoints only, the client address kept; healthCheckNodePort answers 200/503', async () => {
      await putService('local', '10.96.0.62', [{ port: 80, targetPort: 8080, nodePort: 30082 }],
        { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32002 });
      await putSlice('local', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b', node: 'node-1' }, { pod: 'c', node: 'node-1' }]);
      await settle('local', (x) => x.includes('30082'));
      const health = async () => {
        for (let i = 0; ; i++) {
          const h = await outside(['http', fx.nodeIP, 32002, 1]);
          if (h.errors.length === 0 || i > 50) return h;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const ok = await health();
      assert.deepEqual(ok.errors, []);
      assert.deepEqual(JSON.parse(ok.answers[0]!), { service: { namespace: NS, name: 'local' }, localEndpoints: 1, serviceProxyHealthy: true });
      if (kernelMode(mode)) {
        const r = await outside(['http', fx.nodeIP, 30082, 30, '/clientip']);
        assert.deepEqual(r.errors, []);
        assert.deepEqual(count(answersOf(r)), new Map([['a:8080', 30]]), 'only the local endpoint');
        assert.deepEqual([...clientIPs(r)], [fx.outsideIP], 'the client address is kept');
        // A Pod on this node still reaches every endpoint through the NodePort (kube-proxy's short-circuit).
        const p = await fx.client(client.ns, ['http', fx.nodeIP, 30082, 60]);
        assert.deepEqual([...count(p.answers).keys()].sort(), ['a:8080', 'b:8080', 'c:8080']);
      }
      // No endpoint on this node: outside clients are dropped here, and the health check says 503.
      await putSlice('local', [{ port: 8080 }], [{ pod: 'b', node: 'node-1' }, { pod: 'c', node: 'node-1' }]);
      await settle('local', lacksIps('a'));
      for (let i = 0; i < 50; i++) {
        const h = await outside(['http', fx.nodeIP, 32002, 1]);
        if (h.answers[0]?.startsWith('503 ')) {
          assert.deepEqual(JSON.parse(h.answers[0].slice(4)), { service: { namespace: NS, name: 'local' }, localEndpoints: 0, serviceProxyHealthy: true });
          break;
        }
        if (i === 49) assert.fail(`health check never turned 503: ${JSON.stringify(h)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (kernelMode(mode)) {
        const dropped = await outside(['connect', fx.nodeIP, 30082, 500]);
        assert.deepEqual(dropped.errors, ['ETIMEDOUT'], 'dropped, not refused: other nodes may still serve it');
      }
      // Back to the Cluster policy: no healthCheckNodePort any more, so nothing answers on it.
      await editService('local', (spec) => { spec.externalTrafficPolicy = 'Cluster'; delete spec.healthCheckNodePort; });
      for (let i = 0; ; i++) {
        const gone = await outside(['connect', fx.nodeIP, 32002, 500]);
        if (gone.errors[0] === 'ECONNREFUSED') break;
        if (i === 49) assert.fail(`the health check port still answers: ${JSON.stringify(gone)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    test('LoadBalancer IP: reachable from the outside host; loadBalancerSourceRanges decide who may connect', async () => {
      const lbIP = '172.31.255.200';
      // What the load-balancer controller's announcer does on the node it picks.
      inNs(fx.nodeNs, ['ip', 'addr', 'add', `${lbIP}/32`, 'dev', 'eth1']);
      await putService('lb', '10.96.0.63', [{ port: 80, targetPort: 8080, nodePort: 30083 }],
        { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' },
        { loadBalancer: { ingress: [{ ip: lbIP, ipMode: 'VIP' }] } });
      await putSlice('lb', [{ port: 8080 }], [{ pod: 'd' }, { pod: 'e' }]);
      await settle('lb', (x) => x.includes(lbIP) && hasIps('d', 'e')(x));
      const r = await outside(['http', lbIP, 80, 30]);
      assert.deepEqual(r.errors, []);
      assert.deepEqual([...count(r.answers).keys()].sort(), ['d:8080', 'e:8080']);
      // A Pod reaches the LoadBalancer IP too (it never leaves the node).
      assert.deepEqual((await fx.client(client.ns, ['http', lbIP, 80, 5])).errors, []);
      if (kernelMode(mode)) {
        // Ranges that hold the outside host: it still connects; Pods are not in them and are dropped, as with kube-proxy.
        await editService('lb', (spec) => { spec.loadBalancerSourceRanges = ['172.31.255.0/28']; });
        await settle('lb', (x) => x.includes('172.31.255.0/28'));
        assert.deepEqual((await outside(['http', lbIP, 80, 5])).errors, []);
        assert.deepEqual((await fx.client(client.ns, ['connect', lbIP, 80, 500])).errors, ['ETIMEDOUT']);
        await editService('lb', (spec) => { spec.loadBalancerSourceRanges = ['192.0.2.0/24']; });
        await settle('lb', (x) => x.includes('192.0.2.0/24'));
        const denied = await outside(['connect', lbIP, 80, 500]);
        assert.deepEqual(denied.errors, ['ETIMEDOUT'], 'a source outside the ranges is dropped');
        // The NodePort of the same Service is not a LoadBalancer IP: the ranges do not apply there.
        assert.deepEqual((await outside(['http', fx.nodeIP, 30083, 5])).errors, []);
      }
    });

    test('externalIPs: reachable at the external address from outside', async () => {
      const ext = '192.0.2.80';
      inNs(fx.outsideHost, ['ip', 'route', 'replace', '192.0.2.0/24', 'via', fx.nodeIP]);
      await putService('ext', '10.96.0.64', [{ port: 80, targetPort: 8080 }], { externalIPs: [ext], externalTrafficPolicy: 'Cluster' });
      await putSlice('ext', [{ port: 8080 }], [{ pod: 'a' }]);
      await settle('ext', (x) => x.includes(ext));
      const r = await outside(['http', ext, 80, 10]);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(count(r.answers), new Map([['a:8080', 10]]));
    });

    test('hairpin through a NodePort: a Pod reaches itself at its node\'s NodePort', async () => {
      await putService('np-self', '10.96.0.65', [{ port: 80, targetPort: 8080, nodePort: 30085 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' });
      await putSlice('np-self', [{ port: 8080 }], [{ pod: 'e' }]);
      await settle('np-self', hasIps('e'));
      const r = await fx.client(pods.e!.ns, ['http', fx.nodeIP, 30085, 10]);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(count(r.answers), new Map([['e:8080', 10]]));
    });

    test('mixed protocols: TCP and UDP of one port share a NodePort, each reaches its own target', async () => {
      await putService('mixed', '10.96.0.66', [{ name: 'http', port: 53, targetPort: 8080, nodePort: 30053 }, { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP', nodePort: 30053 }],
        { type: 'NodePort', externalTrafficPolicy: 'Cluster' });
      await putSlice('mixed', [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }], [{ pod: 'b' }]);
      await settle('mixed', (x) => targets(x, pods.b!.ip, '5353') && targets(x, pods.b!.ip, '8080'));
      const tcp = await outside(['http', fx.nodeIP, 30053, 5]);
      const udp = await outside(['udp', fx.nodeIP, 30053, 3, 500, 40060]);
      assert.deepEqual(count(tcp.answers), new Map([['b:8080', 5]]));
      assert.deepEqual(count(udp.answers), new Map([['b:5353', 3]]));
    });

    test('ClientIP affinity on a NodePort: one outside client stays on one endpoint', async () => {
      await putService('np-sticky', '10.96.0.67', [{ port: 80, targetPort: 8080, nodePort: 30087 }],
        { type: 'NodePort', externalTrafficPolicy: 'Cluster', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
      await putSlice('np-sticky', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b' }, { pod: 'c' }]);
      await settle('np-sticky', hasIps('a', 'b', 'c'));
      const r = await outside(['http', fx.nodeIP, 30087, 40]);
      assert.deepEqual(r.errors, []);
      assert.equal(count(r.answers).size, 1, `answers: ${[...count(r.answers)]}`);
    });

    test('internalTrafficPolicy Local: ClusterIP traffic goes to this node\'s endpoints only', async () => {
      await putService('itp', '10.96.0.68', [{ port: 80, targetPort: 8080 }], { internalTrafficPolicy: 'Local' });
      await putSlice('itp', [{ port: 8080 }], [{ pod: 'a' }, { pod: 'b', node: 'node-1' }, { pod: 'c', node: 'node-1' }]);
      await settle('itp', (x) => targets(x, pods.a!.ip));
      const r = await fx.client(client.ns, ['http', '10.96.0.68', 80, 30]);
      assert.deepEqual(count(r.answers), new Map([['a:8080', 30]]));
    });

    test('trafficDistribution PreferClose: endpoints hinted for this node\'s zone get the traffic', async () => {
      await putService('close', '10.96.0.69', [{ port: 80, targetPort: 8080 }], { trafficDistribution: 'PreferClose' });
      await putSlice('close', [{ port: 8080 }], [{ pod: 'b', zone: ZONE }, { pod: 'c', node: 'node-1', zone: 'zone-b' }, { pod: 'd', node: 'node-2', zone: 'zone-b' }]);
      await settle('close', (x) => targets(x, pods.b!.ip) && !targets(x, pods.c!.ip));
      const r = await fx.client(client.ns, ['http', '10.96.0.69', 80, 30]);
      assert.deepEqual(count(r.answers), new Map([['b:8080', 30]]));
    });

    test('metrics use kube-proxy names and saw syncs and network programming', async () => {
      const m = await proxy.metricsText();
      const num = (re: RegExp) => Number(re.exec(m)?.[1] ?? 'NaN');
      assert.ok(num(/^kubeproxy_sync_proxy_rules_duration_seconds_count (\d+)/m) > 0);
      assert.ok(num(/^kubeproxy_sync_full_proxy_rules_duration_seconds_count (\d+)/m) >= 1);
      assert.ok(num(/^kubeproxy_network_programming_duration_seconds_count (\d+)/m) > 0);
      assert.ok(num(/^kubeproxy_sync_proxy_rules_last_timestamp_seconds (\S+)/m) > 1e9);
    });

    test('restart without flush keeps rules, flows and affinity; flush removes everything', async () => {
      const aff = await fx.client(client.ns, ['http', '10.96.0.51', 80, 1]);
      const conntrackBefore = inNs(fx.nodeNs, ['conntrack', '-L', '-p', 'udp', '--orig-dst', '10.96.0.56']).trim();
      await proxy.stop();
      // Rules stay in place while no proxy runs (the userspace mode's listeners stop with it).
      if (kernelMode(mode)) {
        const between = await fx.client(client.ns, ['http', '10.96.0.50', 80, 10]);
        assert.deepEqual(between.errors, []);
      }
      proxy = await start();
      await settle('web', hasIps('a', 'b', 'c'));
      const afterAff = await fx.client(client.ns, ['http', '10.96.0.51', 80, 10]);
      if (kernelMode(mode)) assert.deepEqual(count(afterAff.answers), new Map([[aff.answers[0]!, 10]]), 'affinity survives a restart');
      else assert.equal(count(afterAff.answers).size, 1, 'affinity holds again after the restart');
      const conntrackAfter = inNs(fx.nodeNs, ['conntrack', '-L', '-p', 'udp', '--orig-dst', '10.96.0.56']).trim();
      assert.equal(conntrackAfter.split('\n').length, conntrackBefore.split('\n').length, 'a restart flushes no flow');
      await proxy.stop({ flush: true });
      const left = mode === 'iptables' ? inNs(fx.nodeNs, ['iptables-save']) : inNs(fx.nodeNs, ['nft', 'list', 'tables']);
      assert.doesNotMatch(left, /clusterip|KUBE-/);
      // A start into an empty kernel is one full sync; UDP Services with endpoints work after it.
      proxy = await start();
      await settle('dns', (x) => x !== '' && !lacksIps('a', 'b')(x));
      const udp = await fx.client(client.ns, ['udp', '10.96.0.56', 53, 3, 500, 40054]);
      assert.deepEqual(udp.errors, [], 'UDP through the ClusterIP after a full sync into an empty kernel');
      assert.equal(udp.answers.length, 3);
    });

    // ---- NetworkPolicy with every proxy mode (src/netpol): policy is judged after the Service's DNAT ----
    describe('NetworkPolicy', { concurrency: false }, () => {
      let np: NetworkPolicyEnforcer | undefined;
      const POLICY_TABLE = ['nft', 'list', 'table', 'inet', 'clusterip-policy'];

      before(async () => {
        // The fixture's Pods as the API knows them: labels, addresses, named container ports.
        const podObject = (name: string, ip: string, labels: Record<string, string>): Pod => ({
          apiVersion: 'v1', kind: 'Pod', metadata: { namespace: NS, name, labels },
          spec: { nodeName: 'node-0', containers: [{ name: 'echo', image: 'busybox',
            ports: [{ name: 'web', containerPort: 8080 }, { name: 'prom', containerPort: 9090 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] }] },
        });
        const put = async (name: string, ip: string, labels: Record<string, string>) => {
          const made = await api.client.create<Pod>(R.pods, NS, podObject(name, ip, labels));
          await api.client.update(R.pods, NS, { ...made, status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } }, { subresource: 'status' });
        };
        for (const n of ['a', 'b', 'c', 'd', 'e']) await put(`pod-${n}`, pods[n]!.ip, { app: 'echo', name: n });
        await put('client', client.ip, { role: 'client' });
        np = await startNetworkPolicy({ client: api.client, nodeName: 'node-0', netns: fx.nodeNs, retrySyncPeriodMs: 200 });
      });
      after(async () => { await np?.stop({ flush: true }); });

      /** A policy's key in the table listing (chain names and comments carry it). */
      const named = (name: string) => new RegExp(`${NS}/${name}(?![A-Za-z0-9.-])`);
      /**
       * Creates a policy (a replaced one is deleted first, so each step is seen leaving and entering
       * the kernel) and waits until the kernel has it: its key appears in the table.
       */
      async function putPolicy(name: string, spec: NetworkPolicySpec): Promise<void> {
        await deletePolicies(name);
        const obj: NetworkPolicy = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: NS, name }, spec };
        await api.client.create(R.networkpolicies, NS, obj);
        await policySettled((t) => named(name).test(t), `${name} never reached the kernel`);
      }
      async function deletePolicies(...names: string[]): Promise<void> {
        for (const name of names) await api.client.delete(R.networkpolicies, NS, name).catch((e: unknown) => { if (!isNotFound(e)) throw e; });
        await policySettled((t) => names.every((n) => !named(n).test(t)), `${names.join(', ')} never left the kernel`);
      }
      /** Waits until the policy table listing satisfies `ok` and the enforcer is idle (a change written after the listing is caught by the next round). */
      async function policySettled(ok: (table: string) => boolean, why: string): Promise<void> {
        const deadline = Date.now() + 5000;
        for (;;) {
          await np!.whenIdle();
          let table = '';
          try { table = inNs(fx.nodeNs, POLICY_TABLE); } catch { /* not written yet */ }
          if (ok(table)) { await np!.whenIdle(); return; }
          if (Date.now() > deadline) assert.fail(`${why}:\n${table}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const dropped = async (ns: string, ip: string, port: number) => {
        // A drop is a timeout, not a refusal (no REJECT: the client cannot tell policy from a dead Pod).
        const r = await fx.client(ns, ['connect', ip, port, 600]);
        assert.deepEqual(r.errors, ['ETIMEDOUT'], `${ip}:${port} should be dropped: ${JSON.stringify(r)}`);
      };

      // The userspace mode relays each connection from the node (src/proxy/userspace): the endpoint,
      // and so its ingress policy, sees the node's address, never the client's, as with kube-proxy's
      // userspace mode. Kubernetes always allows a Pod's own node ("traffic to and from the node
      // where a Pod is running is always allowed", network-policies docs), and this node agent's
      // probes depend on it: ingress isolation does not apply to Service traffic in that mode. The
      // client's egress is judged where its connection ends after the redirect: the node's listener.
      // These tests assert that documented behaviour, so a change to it is seen.

      test('NetworkPolicy: default deny blocks Pod → ClusterIP Service, an allow rule restores it', async () => {
        await putService('guarded', '10.96.0.70', [{ port: 80, targetPort: 8080 }]);
        await putSlice('guarded', [{ port: 8080 }], [{ pod: 'd' }]);
        await settle('guarded', hasIps('d'));
        await putService('unguarded', '10.96.0.75', [{ port: 80, targetPort: 8080 }]);
        await putSlice('unguarded', [{ port: 8080 }], [{ pod: 'a' }]);
        await settle('unguarded', hasIps('a'));
        assert.deepEqual((await fx.client(client.ns, ['http', '10.96.0.70', 80, 3])).errors, [], 'open before any policy');
        try {
          await putPolicy('deny-d', { podSelector: { matchLabels: { name: 'd' } }, policyTypes: ['Ingress'] });
          if (kernelMode(mode)) {
            await dropped(client.ns, '10.96.0.70', 80);
            // Judged on the Pod, not the ClusterIP: the Pod's own address is dropped the same way, and
            // an unisolated endpoint behind another Service still answers.
            await dropped(client.ns, pods.d!.ip, 8080);
            assert.deepEqual((await fx.client(client.ns, ['http', '10.96.0.75', 80, 3])).errors, []);
          } else {
            const r = await fx.client(client.ns, ['http', '10.96.0.70', 80, 3, '/clientip']);
            assert.deepEqual(r.errors, [], 'userspace: the relayed connection comes from the node, which is always allowed');
            assert.deepEqual([...clientIPs(r)], ['10.244.0.1']);
            await dropped(client.ns, pods.d!.ip, 8080);
          }
          await putPolicy('allow-client-d', { podSelector: { matchLabels: { name: 'd' } }, policyTypes: ['Ingress'],
            ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }] });
          const r = await fx.client(client.ns, ['http', '10.96.0.70', 80, 5]);
          assert.deepEqual(r.errors, []);
          assert.deepEqual(count(r.answers), new Map([['d:8080', 5]]));
          // The allow names the client: another Pod (e, not selected by the rule) is still dropped (direct, so in every mode).
          await dropped(pods.e!.ns, pods.d!.ip, 8080);
        } finally {
          await deletePolicies('deny-d', 'allow-client-d');
        }
      });

      test('NetworkPolicy: a named port selects the backend port the Service\'s targetPort names', async () => {
        await putService('named-guard', '10.96.0.71', [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 90, targetPort: 'prom' }]);
        await putSlice('named-guard', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }], [{ pod: 'e' }]);
        await settle('named-guard', (x) => targets(x, pods.e!.ip, '8080') && targets(x, pods.e!.ip, '9090'));
        try {
          // The policy names the container port `web` (8080): the Service port (80) is not what it sees.
          await putPolicy('web-only-e', { podSelector: { matchLabels: { name: 'e' } }, policyTypes: ['Ingress'],
            ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 'web' }] }] });
          const web = await fx.client(client.ns, ['http', '10.96.0.71', 80, 5]);
          assert.deepEqual(web.errors, []);
          assert.deepEqual(count(web.answers), new Map([['e:8080', 5]]));
          if (kernelMode(mode)) await dropped(client.ns, '10.96.0.71', 90);
          else assert.deepEqual((await fx.client(client.ns, ['http', '10.96.0.71', 90, 2])).errors, [], 'userspace: relayed from the node');
          // A port named after the Service port instead allows nothing here.
          await putPolicy('web-only-e', { podSelector: { matchLabels: { name: 'e' } }, policyTypes: ['Ingress'],
            ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }] });
          if (kernelMode(mode)) await dropped(client.ns, '10.96.0.71', 80);
          await dropped(client.ns, pods.e!.ip, 8080);
        } finally {
          await deletePolicies('web-only-e');
        }
      });

      test('NetworkPolicy: egress to the DNS Service allowed by a policy, other egress denied', async () => {
        await putService('pdns', '10.96.0.72', [{ name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' }]);
        await putSlice('pdns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [{ pod: 'b' }]);
        await settle('pdns', hasIps('b'));
        const query = (src: number) => fx.client(client.ns, ['udp', '10.96.0.72', 53, 2, 300, src]);
        assert.deepEqual((await query(40070)).errors, [], 'open before any policy');
        try {
          // Default deny egress for the client, and DNS allowed as users write it: to the DNS Pods, on
          // the DNS port. The port is the Pod's (5353 here), as policy is judged after the DNAT.
          await putPolicy('client-egress', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'],
            egress: [{ to: [{ podSelector: { matchLabels: { name: 'b' } } }], ports: [{ protocol: 'UDP', port: 5353 }] }] });
          if (kernelMode(mode)) {
            const q = await query(40071);
            assert.deepEqual(q.errors, []);
            assert.deepEqual(count(q.answers), new Map([['b:5353', 2]]));
            // Everything else is dropped: TCP to the same Pod, another Service, a Pod directly.
            await dropped(client.ns, '10.96.0.70', 80);
            await dropped(client.ns, pods.b!.ip, 8080);
            await dropped(client.ns, pods.a!.ip, 8080);
            // A rule naming the Service's port (53) instead does not allow it: the Pod's port is judged.
            await putPolicy('client-egress', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'],
              egress: [{ to: [{ podSelector: { matchLabels: { name: 'b' } } }], ports: [{ protocol: 'UDP', port: 53 }] }] });
            const q2 = await query(40072);
            assert.equal(q2.answers.length, 0, `answered through a rule for the Service port: ${JSON.stringify(q2)}`);
          } else {
            // userspace: the client's datagrams end at the node's listener; egress to the DNS Pod does not cover that.
            const q = await query(40071);
            assert.equal(q.answers.length, 0, `userspace: egress is judged against the node's listener: ${JSON.stringify(q)}`);
            await dropped(client.ns, pods.a!.ip, 8080);
          }
        } finally {
          await deletePolicies('client-egress');
        }
        assert.deepEqual((await query(40073)).errors, [], 'open again once the policy is gone');
      });

      // NodePort traffic to an isolated Pod. Kubernetes leaves open whether policy sees the source
      // before or after a Service's rewrite ("it is not defined whether this happens before or after
      // NetworkPolicy processing", network-policies docs). Here policy runs in the forward hook,
      // after the DNAT but before the masquerade (postrouting): for an endpoint on the receiving node
      // it sees the client's own address with externalTrafficPolicy Cluster (though the Pod then sees
      // the node) and Local alike. An endpoint on another node sees that node's address with
      // Cluster (the SNAT happened on the way out) and the client's with Local.
      test('NetworkPolicy: NodePort traffic to an isolated Pod is judged by the client\'s own address', async () => {
        await putService('np-guard', '10.96.0.73', [{ port: 80, targetPort: 8080, nodePort: 30090 }], { type: 'NodePort', externalTrafficPolicy: 'Cluster' });
        await putService('np-guard-local', '10.96.0.74', [{ port: 80, targetPort: 8080, nodePort: 30091 }], { type: 'NodePort', externalTrafficPolicy: 'Local' });
        for (const svc of ['np-guard', 'np-guard-local']) {
          await putSlice(svc, [{ port: 8080 }], [{ pod: 'c' }]);
          await settle(svc, hasIps('c'));
        }
        const ports = kernelMode(mode) ? [30090, 30091] : [30090];
        for (const port of ports) assert.deepEqual((await outside(['http', fx.nodeIP, port, 2])).errors, [], `open before any policy (${port})`);
        try {
          await putPolicy('deny-c', { podSelector: { matchLabels: { name: 'c' } }, policyTypes: ['Ingress'] });
          if (kernelMode(mode)) {
            for (const port of ports) await dropped(fx.outsideHost, fx.nodeIP, port);
          } else {
            assert.deepEqual((await outside(['http', fx.nodeIP, 30090, 2])).errors, [], 'userspace: relayed from the node');
          }
          // Allowing the node's address (what the Pod sees with Cluster) does not let the client in…
          await putPolicy('allow-c', { podSelector: { matchLabels: { name: 'c' } }, policyTypes: ['Ingress'],
            ingress: [{ from: [{ ipBlock: { cidr: `${fx.nodeIP}/32` } }, { ipBlock: { cidr: '10.244.0.1/32' } }] }] });
          if (kernelMode(mode)) for (const port of ports) await dropped(fx.outsideHost, fx.nodeIP, port);
          // …allowing the client's address does, with either policy.
          await putPolicy('allow-c', { podSelector: { matchLabels: { name: 'c' } }, policyTypes: ['Ingress'],
            ingress: [{ from: [{ ipBlock: { cidr: `${fx.outsideIP}/32` } }] }] });
          const cluster = await outside(['http', fx.nodeIP, 30090, 3, '/clientip']);
          assert.deepEqual(cluster.errors, []);
          assert.deepEqual([...clientIPs(cluster)], ['10.244.0.1'], 'Cluster: the Pod sees the node, the policy saw the client');
          if (kernelMode(mode)) {
            const local = await outside(['http', fx.nodeIP, 30091, 3, '/clientip']);
            assert.deepEqual(local.errors, []);
            assert.deepEqual([...clientIPs(local)], [fx.outsideIP], 'Local: the Pod and the policy both see the client');
          }
        } finally {
          await deletePolicies('deny-c', 'allow-c');
        }
      });
    });
  });
}
